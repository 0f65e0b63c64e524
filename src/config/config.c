/* SPDX-License-Identifier: Apache-2.0 */
#include "config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/strbuf.h"
#include "config/toml.h"

int config_apply_named(struct agent_config *c, const char *cmdline_name, const char *value);

void agent_config_init(struct agent_config *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = LOG_LEVEL_INFO;
	c->server_addr = strdup(CONFIG_DEFAULT_SERVER_ADDR);
	c->hotplug_timeout_ms = CONFIG_DEFAULT_HOTPLUG_TIMEOUT_MS;
	c->cdh_api_timeout_ms = 50 * 1000;
	c->image_pull_timeout_ms = 1200 * 1000;
	c->launch_process_timeout_ms = 6 * 1000;
	c->cdi_timeout_ms = 100 * 1000;
	c->guest_components_rest_api = strdup("resource");
	c->guest_components_procs = strdup("api-server-rest");
	c->secure_storage_integrity = true;
	c->cmdline_path = strdup("/proc/cmdline");
}

static void free_strings(struct agent_config *c)
{
	free(c->server_addr);
	free(c->config_file);
	free(c->https_proxy);
	free(c->no_proxy);
	free(c->guest_components_rest_api);
	free(c->guest_components_procs);
	free(c->policy_file);
	free(c->cmdline_path);
}

void agent_config_release(struct agent_config *c)
{
	free_strings(c);
	for (size_t i = 0; i < c->n_warnings; i++)
		free(c->warnings[i]);
	free(c->warnings);
	memset(c, 0, sizeof(*c));
}

void agent_config_warn(struct agent_config *c, const char *fmt, ...)
{
	if (c->n_warnings >= CONFIG_MAX_WARNINGS) {
		c->warnings_dropped = true;
		return;
	}
	char **w = realloc(c->warnings, (c->n_warnings + 1) * sizeof(*w));
	if (!w)
		return;
	c->warnings = w;
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r >= 0)
		c->warnings[c->n_warnings++] = msg;
}

/* TOML key -> the command-line option with the same meaning. */
static const struct {
	const char *key;
	const char *option;
} toml_keys[] = {
	{"debug_console", "agent.debug_console"},
	{"dev_mode", "agent.devmode"},
	{"tracing", "agent.trace"},
	{"unified_cgroup_hierarchy", "agent.unified_cgroup_hierarchy"},
	{"visible_cdi_devices", "agent.visible_cdi_devices"},
	{"secure_storage_integrity", "agent.secure_storage_integrity"},
	{"log_level", "agent.log"},
	{"server_addr", "agent.server_addr"},
	{"https_proxy", "agent.https_proxy"},
	{"no_proxy", "agent.no_proxy"},
	{"debug_console_vport", "agent.debug_console_vport"},
	{"log_vport", "agent.log_vport"},
	{"container_pipe_size", "agent.container_pipe_size"},
	{"passfd_listener_port", "agent.passfd_listener_port"},
	{"guest_components_rest_api", "agent.guest_components_rest_api"},
	{"guest_components_procs", "agent.guest_components_procs"},
	{"hotplug_timeout", "agent.hotplug_timeout"},
	{"cdh_api_timeout", "agent.cdh_api_timeout"},
	{"image_pull_timeout", "agent.image_pull_timeout"},
	{"cdi_timeout", "agent.cdi_timeout"},
	{"launch_process_timeout", "agent.launch_process_timeout"},
	{"mem_agent_enable", "agent.mem_agent_enable"},
};

/* Renders a TOML value as the text the command-line parser takes. Durations may be
 * { secs = N, nanos = M } or [N, M] as upstream serialises them, or seconds, or "3s". */
static int toml_to_text(const struct toml_value *v, char *out, size_t size)
{
	const struct toml_value *secs = NULL, *nanos = NULL;
	switch (v->type) {
	case TOML_STRING:
		snprintf(out, size, "%s", v->s);
		return strlen(v->s) < size ? 0 : -E2BIG;
	case TOML_INT:
		snprintf(out, size, "%lld", (long long)v->i);
		return 0;
	case TOML_BOOL:
		snprintf(out, size, "%s", v->b ? "true" : "false");
		return 0;
	case TOML_TABLE:
		secs = toml_get(v, "secs");
		nanos = toml_get(v, "nanos");
		break;
	case TOML_ARRAY:
		if (v->n == 2) {
			secs = v->items[0];
			nanos = v->items[1];
		}
		break;
	default:
		return -EINVAL;
	}
	if (!secs || secs->type != TOML_INT || secs->i < 0 ||
	    (nanos && (nanos->type != TOML_INT || nanos->i < 0 || nanos->i >= 1000000000)))
		return -EINVAL;
	snprintf(out, size, "%llds%lldns", (long long)secs->i, nanos ? (long long)nanos->i : 0LL);
	return 0;
}

int agent_config_parse_toml(struct agent_config *c, const char *text, size_t len,
			    agent_error_t **err)
{
	struct toml_value *root = NULL;
	int r = toml_parse(text, len, &root, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < root->n; i++) {
		const char *key = root->keys[i];
		const struct toml_value *v = root->items[i];
		char buf[4096];
		if (strcmp(key, "policy_file") == 0 && v->type == TOML_STRING) {
			free(c->policy_file);
			c->policy_file = strdup(v->s);
			continue;
		}
		size_t k;
		for (k = 0; k < ARRAY_SIZE(toml_keys); k++)
			if (strcmp(toml_keys[k].key, key) == 0)
				break;
		if (k == ARRAY_SIZE(toml_keys))
			continue; /* unknown keys are ignored, as upstream */
		if (toml_to_text(v, buf, sizeof(buf)) < 0) {
			agent_config_warn(
				c, "config file: %s has a value of the wrong type; ignored", key);
			continue;
		}
		config_apply_named(c, toml_keys[k].option, buf);
	}
	toml_free(root);
	return 0;
}

void agent_config_apply_env(struct agent_config *c, const char *const *envp)
{
	for (size_t i = 0; envp && envp[i]; i++) {
		const char *e = envp[i];
		if (strncmp(e, "KATA_AGENT_SERVER_ADDR=", 23) == 0) {
			config_apply_named(c, "agent.server_addr", e + 23);
		} else if (strncmp(e, "KATA_AGENT_LOG_LEVEL=", 21) == 0) {
			config_apply_named(c, "agent.log", e + 21);
		} else if (strncmp(e, "KATA_AGENT_TRACING=", 19) == 0) {
			config_apply_named(c, "agent.trace", e + 19);
		} else if (strncmp(e, "KATA_AGENT_POLICY_FILE=", 23) == 0 && e[23]) {
			free(c->policy_file);
			c->policy_file = strdup(e + 23);
		}
	}
}

/* Reads a whole small file; NULL with errno on failure. */
static char *read_file(const char *path, size_t max, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *buf = malloc(max + 1);
	size_t n = 0;
	while (buf && n < max) {
		ssize_t k = read(fd, buf + n, max - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += k;
	}
	close(fd);
	if (buf) {
		buf[n] = '\0';
		*ret_len = n;
	}
	return buf;
}

/* Applies the TOML file at path on top of c; false (with a warning) when it cannot. */
static bool load_file(struct agent_config *c, const char *path)
{
	size_t len = 0;
	_cleanup_free_ char *text = read_file(path, TOML_MAX_INPUT + 1, &len);
	_cleanup_error_ agent_error_t *err = NULL;
	if (!text) {
		agent_config_warn(c, "cannot read config file %s: %s; using the other sources",
				  path, strerror(errno));
		return false;
	}
	if (agent_config_parse_toml(c, text, len, &err) < 0) {
		agent_config_warn(c, "config file %s: %s; using the other sources", path,
				  err ? err->msg : "unreadable");
		return false;
	}
	return true;
}

static void finish(struct agent_config *c)
{
	if (c->dev_mode && c->log_level > LOG_LEVEL_DEBUG)
		c->log_level = LOG_LEVEL_DEBUG;
	int32_t *vport = &c->debug_console_vport;
	if (*vport == CONFIG_API_VPORT || *vport == CONFIG_LOG_VPORT) {
		agent_config_warn(c,
				  "agent.debug_console_vport=%d is reserved (1024 API, 1025 logs); "
				  "the console stays on /dev/console",
				  *vport);
		*vport = 0;
	}
	if (c->warnings_dropped) {
		c->warnings_dropped = false;
		c->n_warnings--;
		free(c->warnings[c->n_warnings]);
		c->warnings[c->n_warnings] = NULL;
		agent_config_warn(c, "further configuration warnings were dropped");
	}
}

/*
 * Precedence, as upstream: -c/--config FILE, else the kernel command line, where
 * agent.config_file=PATH stops the parse and the file alone configures (environment
 * overrides are then not applied). Where upstream aborts on an unreadable file, we keep
 * what the other sources gave, with a warning. Our own --server-addr and --log-level
 * flags (for running outside a VM) come last.
 */
/* The command line, where agent.config_file=PATH hands over to that file alone. */
static bool load_cmdline(struct agent_config *c)
{
	size_t len = 0;
	_cleanup_free_ char *cmdline = read_file(c->cmdline_path, CONFIG_CMDLINE_MAX + 1, &len);
	if (!cmdline) {
		agent_config_warn(c, "cannot read %s: %s", c->cmdline_path, strerror(errno));
		return false;
	}
	if (!agent_config_parse_cmdline(c, cmdline, len))
		return false;

	struct agent_config fresh;
	agent_config_init(&fresh);
	if (!load_file(&fresh, c->config_file)) {
		for (size_t i = 0; i < fresh.n_warnings; i++)
			agent_config_warn(c, "%s", fresh.warnings[i]);
		agent_config_release(&fresh);
		return false;
	}
	/* The file replaces everything the command line said; its warnings stay. */
	for (size_t i = 0; i < c->n_warnings; i++)
		agent_config_warn(&fresh, "%s", c->warnings[i]);
	free(fresh.cmdline_path);
	fresh.cmdline_path = c->cmdline_path;
	fresh.config_file = c->config_file;
	c->cmdline_path = c->config_file = NULL;
	agent_config_release(c);
	*c = fresh;
	return true;
}

static void set_string(char **slot, const char *v)
{
	free(*slot);
	*slot = strdup(v);
}

/*
 * Precedence, as upstream: -c/--config FILE, else the kernel command line, where
 * agent.config_file=PATH stops the parse and the file alone configures (environment
 * overrides are then not applied). Where upstream aborts on an unreadable file, we keep
 * what the other sources gave, with a warning. Our own --server-addr and --log-level
 * flags (for running outside a VM) come last.
 */
void agent_config_load(struct agent_config *c, int argc, char *const *argv, const char *const *envp)
{
	const char *file = NULL, *addr = NULL, *level = NULL, *cmdline = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot;
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			slot = &file;
		} else if (strcmp(a, "--server-addr") == 0) {
			slot = &addr;
		} else if (strcmp(a, "--log-level") == 0) {
			slot = &level;
		} else if (strcmp(a, "--cmdline-file") == 0) {
			slot = &cmdline;
		} else {
			if (strcmp(a, "--version") != 0 && strcmp(a, "-V") != 0)
				agent_config_warn(c, "unknown argument %.64s; ignored", a);
			continue;
		}
		if (i + 1 < argc)
			*slot = argv[++i];
		else
			agent_config_warn(c, "%s needs a value; ignored", a);
	}
	if (cmdline)
		set_string(&c->cmdline_path, cmdline);

	bool file_alone = false;
	if (file) {
		set_string(&c->config_file, file);
		if (!load_file(c, file))
			(void)load_cmdline(c);
	} else {
		file_alone = load_cmdline(c);
	}
	if (!file_alone)
		agent_config_apply_env(c, envp);
	if (addr)
		config_apply_named(c, "agent.server_addr", addr);
	if (level)
		config_apply_named(c, "agent.log", level);
	finish(c);
}

static void json_str(struct strbuf *sb, const char *key, const char *v, bool *first)
{
	strbuf_adds(sb, *first ? "" : ",");
	*first = false;
	strbuf_add_json_string(sb, key);
	strbuf_adds(sb, ":");
	if (v)
		strbuf_add_json_string(sb, v);
	else
		strbuf_adds(sb, "null");
}

static void json_num(struct strbuf *sb, const char *key, long long v, bool *first)
{
	strbuf_adds(sb, *first ? "" : ",");
	*first = false;
	strbuf_add_json_string(sb, key);
	strbuf_addf(sb, ":%lld", v);
}

static void json_bool(struct strbuf *sb, const char *key, bool v, bool *first)
{
	strbuf_adds(sb, *first ? "" : ",");
	*first = false;
	strbuf_add_json_string(sb, key);
	strbuf_adds(sb, v ? ":true" : ":false");
}

char *agent_config_to_json(const struct agent_config *c)
{
	struct strbuf sb;
	bool first = true;
	strbuf_init(&sb, 64 * 1024);
	strbuf_adds(&sb, "{");
	json_str(&sb, "log_level", log_level_name(c->log_level), &first);
	json_bool(&sb, "dev_mode", c->dev_mode, &first);
	json_bool(&sb, "debug_console", c->debug_console, &first);
	json_num(&sb, "debug_console_vport", c->debug_console_vport, &first);
	json_num(&sb, "log_vport", c->log_vport, &first);
	json_str(&sb, "server_addr", c->server_addr, &first);
	json_num(&sb, "hotplug_timeout_ms", (long long)c->hotplug_timeout_ms, &first);
	json_bool(&sb, "unified_cgroup_hierarchy", c->unified_cgroup_hierarchy, &first);
	json_num(&sb, "container_pipe_size", c->container_pipe_size, &first);
	json_bool(&sb, "tracing", c->tracing, &first);
	json_num(&sb, "passfd_listener_port", c->passfd_listener_port, &first);
	json_str(&sb, "config_file", c->config_file, &first);
	json_num(&sb, "cdh_api_timeout_ms", (long long)c->cdh_api_timeout_ms, &first);
	json_num(&sb, "image_pull_timeout_ms", (long long)c->image_pull_timeout_ms, &first);
	json_num(&sb, "launch_process_timeout_ms", (long long)c->launch_process_timeout_ms, &first);
	json_num(&sb, "cdi_timeout_ms", (long long)c->cdi_timeout_ms, &first);
	json_bool(&sb, "visible_cdi_devices", c->visible_cdi_devices, &first);
	json_str(&sb, "https_proxy", c->https_proxy, &first);
	json_str(&sb, "no_proxy", c->no_proxy, &first);
	json_str(&sb, "guest_components_rest_api", c->guest_components_rest_api, &first);
	json_str(&sb, "guest_components_procs", c->guest_components_procs, &first);
	json_bool(&sb, "secure_storage_integrity", c->secure_storage_integrity, &first);
	json_bool(&sb, "mem_agent_enable", c->mem_agent_enable, &first);
	json_str(&sb, "policy_file", c->policy_file, &first);
	strbuf_adds(&sb, "}");
	if (sb.oom) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_steal(&sb);
}
