/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration object, the environment, the whole load in upstream's
 * precedence, and the JSON rendering for the start-up log record.
 */
#include "config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/strbuf.h"
#include "config/option.h"

#define ENV_MAX 4096 /* environment entries looked at */
#define WHAT_MAX 160 /* bytes of a token quoted in a warning */

void agent_config_init(struct agent_config *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = LOG_LEVEL_INFO;
	c->server_addr = strdup(CONFIG_DEFAULT_SERVER_ADDR);
	c->trace_addr = strdup(CONFIG_DEFAULT_TRACE_ADDR);
	c->hotplug_timeout_ms = CONFIG_DEFAULT_HOTPLUG_TIMEOUT_MS;
	c->cdh_api_timeout_ms = CONFIG_DEFAULT_CDH_API_TIMEOUT_MS;
	c->image_pull_timeout_ms = CONFIG_DEFAULT_IMAGE_PULL_TIMEOUT_MS;
	c->launch_process_timeout_ms = CONFIG_DEFAULT_LAUNCH_PROCESS_TIMEOUT_MS;
	c->cdi_timeout_ms = CONFIG_DEFAULT_CDI_TIMEOUT_MS;
	c->guest_components_rest_api = strdup("resource");
	c->guest_components_procs = strdup("api-server-rest");
	c->secure_storage_integrity = true;
	c->cmdline_path = strdup(CONFIG_DEFAULT_CMDLINE_PATH);
	c->mem_agent_compact.period_secs = c->mem_agent_compact.period_psi_percent_limit = -1;
	c->mem_agent_compact.psi_percent_limit = c->mem_agent_compact.sec_max = -1;
	c->mem_agent_compact.order = c->mem_agent_compact.threshold = -1;
	c->mem_agent_compact.force_times = -1;
}

void agent_config_release(struct agent_config *c)
{
	free(c->server_addr);
	free(c->trace_addr);
	free(c->config_file);
	free(c->https_proxy);
	free(c->no_proxy);
	free(c->guest_components_rest_api);
	free(c->guest_components_procs);
	free(c->policy_file);
	free(c->cmdline_path);
	for (size_t i = 0; i < c->n_warnings; i++)
		free(c->warnings[i]);
	free(c->warnings);
	memset(c, 0, sizeof(*c));
}

void agent_config_warn(struct agent_config *c, const char *fmt, ...)
{
	if (c->warnings_dropped)
		return;
	if (!c->warnings) {
		c->warnings = calloc(CONFIG_MAX_WARNINGS + 1, sizeof(*c->warnings));
		if (!c->warnings)
			return;
	}
	char *msg = NULL;
	if (c->n_warnings >= CONFIG_MAX_WARNINGS) {
		c->warnings_dropped = true;
		msg = strdup("further configuration warnings were dropped");
	} else {
		va_list ap;
		va_start(ap, fmt);
		if (vasprintf(&msg, fmt, ap) < 0)
			msg = NULL;
		va_end(ap);
	}
	if (msg)
		c->warnings[c->n_warnings++] = msg;
}

/* Hands src's warnings to dst, which has none. */
static void move_warnings(struct agent_config *dst, struct agent_config *src)
{
	dst->warnings = TAKE_PTR(src->warnings);
	dst->n_warnings = src->n_warnings;
	dst->warnings_dropped = src->warnings_dropped;
	src->n_warnings = 0;
	src->warnings_dropped = false;
}

static bool has_prefix(const char *s, const char *prefix, const char **ret_rest)
{
	size_t n = strlen(prefix);
	if (strncmp(s, prefix, n) != 0)
		return false;
	*ret_rest = s + n;
	return true;
}

void agent_config_apply_env(struct agent_config *c, const char *const *envp)
{
	static const struct {
		const char *var; /* with its '=' */
		const char *option; /* command line name, else TOML key */
	} vars[] = {
		{"KATA_AGENT_SERVER_ADDR=", "agent.server_addr"},
		{"KATA_AGENT_LOG_LEVEL=", "agent.log"},
		{"KATA_AGENT_TRACING=", "agent.trace"},
		{"KATA_AGENT_POLICY_FILE=", "policy_file"},
	};

	for (size_t i = 0; envp && envp[i] && i < ENV_MAX; i++) {
		for (size_t k = 0; k < ARRAY_SIZE(vars); k++) {
			const char *value;
			if (!has_prefix(envp[i], vars[k].var, &value))
				continue;
			const struct option_def *o =
				option_by_name(vars[k].option, strlen(vars[k].option));
			if (!o)
				o = option_by_toml_key(vars[k].option);
			char what[WHAT_MAX + 8];
			snprintf(what, sizeof(what), "%.*s%s", WHAT_MAX, envp[i],
				 strlen(envp[i]) > WHAT_MAX ? "..." : "");
			(void)option_set_text(c, o, value, what);
		}
	}
	config_normalize(c);
}

/*
 * A whole small file, NUL-terminated, at most max + 1 bytes read (so a caller
 * can tell "exactly max" from "more"). Only regular files: a FIFO or a device
 * given by mistake must not block or feed the agent forever. -errno on error.
 */
static int read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	_cleanup_free_ char *buf = malloc(max + 2);
	if (!buf)
		return -ENOMEM;
	size_t n = 0;
	while (n < max + 1) {
		ssize_t k = read(fd, buf + n, max + 1 - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	*ret_len = n;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* Reads and applies a TOML file; on any failure c is unchanged and err says why. */
static int apply_toml_file(struct agent_config *c, const char *path, agent_error_t **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = read_file(path, CONFIG_FILE_MAX, &text, &len);
	if (r < 0)
		return agent_error_set(err, -r, "cannot read it: %s", strerror(-r));
	return agent_config_parse_toml(c, text, len, err);
}

static void set_path(struct agent_config *c, char **slot, const char *path)
{
	char *s = strdup(path);
	if (!s) {
		agent_config_warn(c, "out of memory for %s", path);
		return;
	}
	free(*slot);
	*slot = s;
}

/*
 * agent.config_file=PATH met on the command line. Upstream takes the whole
 * configuration from that file alone, on top of the defaults: the tokens
 * before it and the environment are discarded (upstream does the same).
 * Upstream aborts when the file is missing or bad; we keep the command line
 * instead (as if the token were not there; the caller resumes after it), with
 * a warning. Returns true when the file configured c.
 */
static bool use_config_file(struct agent_config *c)
{
	_cleanup_error_ agent_error_t *err = NULL;
	struct agent_config fresh;

	agent_config_init(&fresh);
	move_warnings(&fresh, c);
	if (apply_toml_file(&fresh, c->config_file, &err) >= 0) {
		/* What survives from the command line: where it came from, its warnings. */
		free(fresh.cmdline_path);
		fresh.cmdline_path = TAKE_PTR(c->cmdline_path);
		fresh.config_file = TAKE_PTR(c->config_file);
		agent_config_release(c);
		*c = fresh;
		return true;
	}
	move_warnings(c, &fresh);
	agent_config_release(&fresh);
	agent_config_warn(c,
			  "config file %.200s (agent.config_file): %s; using the kernel command "
			  "line instead",
			  c->config_file, err ? err->msg : "unreadable");
	free(c->config_file);
	c->config_file = NULL;
	return false;
}

/* The kernel command line at c->cmdline_path. Returns whether environment overrides apply. */
static bool load_cmdline(struct agent_config *c)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0, off = 0;

	int r = read_file(c->cmdline_path, CONFIG_CMDLINE_MAX, &text, &len);
	if (r < 0) {
		agent_config_warn(c, "cannot read the kernel command line from %.200s: %s",
				  c->cmdline_path, strerror(-r));
		return true;
	}
	len = config_cmdline_clamp(c, text, len);
	/* Bounded: each round consumes at least the agent.config_file token it stopped at. */
	for (;;) {
		size_t stop = 0;
		if (!config_parse_cmdline_at(c, text + off, len - off, &stop))
			return true;
		off += stop;
		if (use_config_file(c))
			return false;
	}
}

struct argv_flag {
	const char *short_name; /* NULL if none */
	const char *long_name;
	const char **slot;
};

/* -c FILE, --config FILE or --config=FILE, and the others; false if a is none of them. */
static bool take_flag(struct agent_config *c, const struct argv_flag *flags, size_t n, int argc,
		      char *const *argv, int *i)
{
	const char *a = argv[*i], *rest;
	for (size_t k = 0; k < n; k++) {
		const char *v = NULL;
		if ((flags[k].short_name && strcmp(a, flags[k].short_name) == 0) ||
		    strcmp(a, flags[k].long_name) == 0) {
			if (*i + 1 < argc && argv[*i + 1])
				v = argv[++*i];
		} else if (has_prefix(a, flags[k].long_name, &rest) && *rest == '=') {
			v = rest + 1;
		} else {
			continue;
		}
		if (v && *v)
			*flags[k].slot = v;
		else
			agent_config_warn(c, "%s needs a value; ignored", flags[k].long_name);
		return true;
	}
	return false;
}

/*
 * Precedence, as upstream, never fatal:
 *  1. -c/--config FILE: the file on top of the defaults, then the environment.
 *     If it cannot be read or parsed: a warning, and the command line as in 2.
 *  2. else the kernel command line, then the environment; agent.config_file
 *     stops it and that file alone configures (see use_config_file()).
 *  3. our --server-addr and --log-level, for running outside a VM, last.
 */
void agent_config_load(struct agent_config *c, int argc, char *const *argv, const char *const *envp)
{
	const char *file = NULL, *addr = NULL, *level = NULL, *cmdline = NULL;
	const struct argv_flag flags[] = {
		{"-c", "--config", &file},
		{NULL, "--server-addr", &addr},
		{NULL, "--log-level", &level},
		{NULL, "--cmdline-file", &cmdline},
	};

	for (int i = 1; i < argc && argv[i]; i++) {
		if (take_flag(c, flags, ARRAY_SIZE(flags), argc, argv, &i))
			continue;
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0)
			continue; /* main's */
		agent_config_warn(c, "unknown argument %.64s; ignored", argv[i]);
	}
	if (cmdline)
		set_path(c, &c->cmdline_path, cmdline);

	bool env = true;
	if (file) {
		_cleanup_error_ agent_error_t *err = NULL;
		if (apply_toml_file(c, file, &err) >= 0) {
			set_path(c, &c->config_file, file);
		} else {
			agent_config_warn(c,
					  "config file %.200s: %s; using the kernel command line "
					  "instead",
					  file, err ? err->msg : "unreadable");
			env = load_cmdline(c);
		}
	} else {
		env = load_cmdline(c);
	}
	if (env)
		agent_config_apply_env(c, envp);
	if (addr)
		(void)option_set_text(
			c, option_by_name("agent.server_addr", strlen("agent.server_addr")), addr,
			"--server-addr");
	if (level)
		(void)option_set_text(c, option_by_name("agent.log", strlen("agent.log")), level,
				      "--log-level");
	config_normalize(c);
}

static void json_key(struct strbuf *sb, const char *key)
{
	strbuf_adds(sb, sb->len > 1 ? "," : "");
	strbuf_add_json_string(sb, key);
	strbuf_adds(sb, ":");
}

static void json_str(struct strbuf *sb, const char *key, const char *v)
{
	json_key(sb, key);
	if (v)
		strbuf_add_json_string(sb, v);
	else
		strbuf_adds(sb, "null");
}

static void json_num(struct strbuf *sb, const char *key, long long v)
{
	json_key(sb, key);
	strbuf_addf(sb, "%lld", v);
}

static void json_unum(struct strbuf *sb, const char *key, uint64_t v)
{
	json_key(sb, key);
	strbuf_addf(sb, "%llu", (unsigned long long)v);
}

static void json_bool(struct strbuf *sb, const char *key, bool v)
{
	json_key(sb, key);
	strbuf_adds(sb, v ? "true" : "false");
}

char *agent_config_to_json(const struct agent_config *c)
{
	struct strbuf sb;

	/* Strings are at most CONFIG_VALUE_MAX (paths from argv aside); 1 MiB is ample. */
	strbuf_init(&sb, 1024 * 1024);
	strbuf_adds(&sb, "{");
	json_str(&sb, "log_level", log_level_name(c->log_level));
	json_bool(&sb, "dev_mode", c->dev_mode);
	json_bool(&sb, "debug_console", c->debug_console);
	json_bool(&sb, "debug_unconfined_paths", c->debug_unconfined_paths);
	json_num(&sb, "debug_console_vport", c->debug_console_vport);
	json_num(&sb, "log_vport", c->log_vport);
	json_str(&sb, "server_addr", c->server_addr);
	json_str(&sb, "trace_addr", c->trace_addr);
	json_unum(&sb, "hotplug_timeout_ms", c->hotplug_timeout_ms);
	json_bool(&sb, "unified_cgroup_hierarchy", c->unified_cgroup_hierarchy);
	json_num(&sb, "container_pipe_size", c->container_pipe_size);
	json_bool(&sb, "tracing", c->tracing);
	json_num(&sb, "passfd_listener_port", c->passfd_listener_port);
	json_str(&sb, "config_file", c->config_file);
	json_unum(&sb, "cdh_api_timeout_ms", c->cdh_api_timeout_ms);
	json_unum(&sb, "image_pull_timeout_ms", c->image_pull_timeout_ms);
	json_unum(&sb, "launch_process_timeout_ms", c->launch_process_timeout_ms);
	json_unum(&sb, "cdi_timeout_ms", c->cdi_timeout_ms);
	json_bool(&sb, "visible_cdi_devices", c->visible_cdi_devices);
	json_str(&sb, "https_proxy", c->https_proxy);
	json_str(&sb, "no_proxy", c->no_proxy);
	json_str(&sb, "guest_components_rest_api", c->guest_components_rest_api);
	json_str(&sb, "guest_components_procs", c->guest_components_procs);
	json_bool(&sb, "secure_storage_integrity", c->secure_storage_integrity);
	json_bool(&sb, "mem_agent_enable", c->mem_agent_enable);
	json_bool(&sb, "mem_agent_compact_disable", c->mem_agent_compact.disable);
	json_num(&sb, "mem_agent_compact_period_secs", c->mem_agent_compact.period_secs);
	json_num(&sb, "mem_agent_compact_period_psi_percent_limit",
		 c->mem_agent_compact.period_psi_percent_limit);
	json_num(&sb, "mem_agent_compact_psi_percent_limit",
		 c->mem_agent_compact.psi_percent_limit);
	json_num(&sb, "mem_agent_compact_sec_max", c->mem_agent_compact.sec_max);
	json_num(&sb, "mem_agent_compact_order", c->mem_agent_compact.order);
	json_num(&sb, "mem_agent_compact_threshold", c->mem_agent_compact.threshold);
	json_num(&sb, "mem_agent_compact_force_times", c->mem_agent_compact.force_times);
	json_str(&sb, "policy_file", c->policy_file);
	json_str(&sb, "cmdline_path", c->cmdline_path);
	json_num(&sb, "warnings", (long long)c->n_warnings);
	strbuf_adds(&sb, "}");
	if (sb.oom) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_steal(&sb);
}
