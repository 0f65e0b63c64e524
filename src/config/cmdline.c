/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel command line options (agent.*, and the cgroup aliases). One table
 * row per option; each kind of value has one parser. Options match whole
 * names; unknown tokens are ignored; the last valid occurrence wins.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

enum opt_kind {
	OPT_FLAG, /* bare = true, or =bool */
	OPT_BOOL, /* =bool only */
	OPT_LEVEL, /* log level name */
	OPT_PORT, /* int32; <= 0 ignored */
	OPT_PIPE_SIZE, /* int32 >= 0 */
	OPT_STRING, /* non-empty string */
	OPT_DURATION, /* Go duration or seconds; 0 or invalid keeps the default */
	OPT_ENUM, /* one of the listed words */
	OPT_CGROUP_NO_V1, /* "all" selects cgroup v2 */
	OPT_CONFIG_FILE,
	OPT_IGNORED, /* accepted and not used (mem-agent tuning) */
};

struct opt_def {
	const char *name;
	enum opt_kind kind;
	size_t off;
	const char *const *words;
};

static const char *const rest_api_words[] = {"all", "attestation", "resource", NULL};
static const char *const procs_words[] = {"none", "attestation-agent", "confidential-data-hub",
					  "api-server-rest", NULL};

#define F(field) offsetof(struct agent_config, field)
static const struct opt_def options[] = {
	{"agent.log", OPT_LEVEL, F(log_level), NULL},
	{"agent.devmode", OPT_FLAG, F(dev_mode), NULL},
	{"agent.debug_console", OPT_FLAG, F(debug_console), NULL},
	{"agent.debug_console_vport", OPT_PORT, F(debug_console_vport), NULL},
	{"agent.log_vport", OPT_PORT, F(log_vport), NULL},
	{"agent.server_addr", OPT_STRING, F(server_addr), NULL},
	{"agent.hotplug_timeout", OPT_DURATION, F(hotplug_timeout_ms), NULL},
	{"agent.unified_cgroup_hierarchy", OPT_BOOL, F(unified_cgroup_hierarchy), NULL},
	{"systemd.unified_cgroup_hierarchy", OPT_BOOL, F(unified_cgroup_hierarchy), NULL},
	{"cgroup_no_v1", OPT_CGROUP_NO_V1, F(unified_cgroup_hierarchy), NULL},
	{"agent.container_pipe_size", OPT_PIPE_SIZE, F(container_pipe_size), NULL},
	{"agent.trace", OPT_FLAG, F(tracing), NULL},
	{"agent.passfd_listener_port", OPT_PORT, F(passfd_listener_port), NULL},
	{"agent.config_file", OPT_CONFIG_FILE, F(config_file), NULL},
	{"agent.cdh_api_timeout", OPT_DURATION, F(cdh_api_timeout_ms), NULL},
	{"agent.image_pull_timeout", OPT_DURATION, F(image_pull_timeout_ms), NULL},
	{"agent.launch_process_timeout", OPT_DURATION, F(launch_process_timeout_ms), NULL},
	{"agent.cdi_timeout", OPT_DURATION, F(cdi_timeout_ms), NULL},
	{"agent.visible_cdi_devices", OPT_FLAG, F(visible_cdi_devices), NULL},
	{"agent.https_proxy", OPT_STRING, F(https_proxy), NULL},
	{"agent.no_proxy", OPT_STRING, F(no_proxy), NULL},
	{"agent.guest_components_rest_api", OPT_ENUM, F(guest_components_rest_api), rest_api_words},
	{"agent.guest_components_procs", OPT_ENUM, F(guest_components_procs), procs_words},
	{"agent.secure_storage_integrity", OPT_FLAG, F(secure_storage_integrity), NULL},
	{"agent.mem_agent_enable", OPT_FLAG, F(mem_agent_enable), NULL},
};
#undef F

#define FIELD(c, off, type) ((type *)((char *)(c) + (off)))

static void set_string(char **slot, const char *v)
{
	char *s = strdup(v);
	if (!s)
		return;
	free(*slot);
	*slot = s;
}

/* Applies one option. value is NULL for a bare token. */
static void apply(struct agent_config *c, const struct opt_def *o, const char *value)
{
	const char *n = o->name;
	int32_t i32;
	uint64_t ms;
	bool b;

	if (!value && o->kind != OPT_FLAG) {
		agent_config_warn(c, "%s needs a value; ignored", n);
		return;
	}
	switch (o->kind) {
	case OPT_FLAG:
	case OPT_BOOL:
		if (!value)
			*FIELD(c, o->off, bool) = true;
		else if (parse_bool_strict(value, &b) == 0)
			*FIELD(c, o->off, bool) = b;
		else
			agent_config_warn(c, "%s=%s: not a boolean (1, true, 0, false); ignored", n,
					  value);
		break;
	case OPT_LEVEL:
		if (log_level_parse(value, FIELD(c, o->off, enum log_level)) < 0)
			agent_config_warn(c, "%s=%s: unknown log level; keeping %s", n, value,
					  log_level_name(c->log_level));
		break;
	case OPT_PORT:
		if (parse_i32(value, &i32) < 0)
			agent_config_warn(c, "%s=%s: not a 32-bit integer; ignored", n, value);
		else if (i32 > 0)
			*FIELD(c, o->off, int32_t) = i32;
		break;
	case OPT_PIPE_SIZE:
		if (parse_i32(value, &i32) < 0 || i32 < 0)
			agent_config_warn(c,
					  "%s=%s: not a size in bytes; keeping the kernel default",
					  n, value);
		else
			*FIELD(c, o->off, int32_t) = i32;
		break;
	case OPT_STRING:
		if (!*value)
			agent_config_warn(c, "%s: empty value; ignored", n);
		else
			set_string(FIELD(c, o->off, char *), value);
		break;
	case OPT_DURATION:
		if (parse_go_duration_ms(value, &ms) < 0 || ms == 0)
			agent_config_warn(c,
					  "%s=%s: not a positive duration (e.g. 3s, 500ms, 1m30s, "
					  "or seconds); keeping %llu ms",
					  n, value,
					  (unsigned long long)*FIELD(c, o->off, uint64_t));
		else
			*FIELD(c, o->off, uint64_t) = ms;
		break;
	case OPT_ENUM: {
		size_t k;
		for (k = 0; o->words[k]; k++)
			if (strcmp(o->words[k], value) == 0)
				break;
		if (o->words[k])
			set_string(FIELD(c, o->off, char *), value);
		else
			agent_config_warn(c, "%s=%s: unknown value; ignored", n, value);
		break;
	}
	case OPT_CGROUP_NO_V1:
		if (strcmp(value, "all") == 0)
			*FIELD(c, o->off, bool) = true;
		break;
	case OPT_CONFIG_FILE:
		if (!*value)
			agent_config_warn(c, "%s: empty path; ignored", n);
		else
			set_string(FIELD(c, o->off, char *), value);
		break;
	case OPT_IGNORED:
		break;
	}
}

/* Next whitespace-separated token, with double quotes grouping (and removed) as the kernel does. */
static bool next_token(const char **pp, const char *end, char *out, size_t size, bool *too_long)
{
	const char *p = *pp;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p >= end) {
		*pp = p;
		return false;
	}
	size_t n = 0;
	bool quoted = false;
	*too_long = false;
	while (p < end && (quoted || !(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))) {
		if (*p == '"') {
			quoted = !quoted;
		} else if (n + 1 < size) {
			out[n++] = *p;
		} else {
			*too_long = true;
		}
		p++;
	}
	out[n] = '\0';
	*pp = p;
	return true;
}

bool agent_config_parse_cmdline(struct agent_config *c, const char *cmdline, size_t len)
{
	if (len > CONFIG_CMDLINE_MAX) {
		agent_config_warn(c,
				  "kernel command line longer than %u bytes; the rest is ignored",
				  CONFIG_CMDLINE_MAX);
		len = CONFIG_CMDLINE_MAX;
	}
	const char *p = cmdline, *end = cmdline + len;
	char tok[4096];
	bool too_long;

	while (next_token(&p, end, tok, sizeof(tok), &too_long)) {
		char *eq = strchr(tok, '=');
		size_t nl = eq ? (size_t)(eq - tok) : strlen(tok);
		const struct opt_def *o = NULL;
		for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
			if (strlen(options[i].name) == nl &&
			    strncmp(options[i].name, tok, nl) == 0) {
				o = &options[i];
				break;
			}
		}
		if (!o) {
			if (strncmp(tok, "agent.mem_agent_", 16) != 0 &&
			    strncmp(tok, "agent.", 6) == 0)
				agent_config_warn(c, "unknown option %.*s; ignored",
						  (int)MIN(nl, 64), tok);
			continue;
		}
		if (too_long) {
			agent_config_warn(c, "%s: value longer than %zu bytes; ignored", o->name,
					  sizeof(tok) - 1);
			continue;
		}
		apply(c, o, eq ? eq + 1 : NULL);
		if (o->kind == OPT_CONFIG_FILE && c->config_file)
			return true; /* upstream: the file alone configures from here on */
	}
	return false;
}

/* For the TOML reader: apply a value given as text to an option by its TOML key. */
int config_apply_named(struct agent_config *c, const char *cmdline_name, const char *value)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
		if (strcmp(options[i].name, cmdline_name) == 0) {
			apply(c, &options[i], value);
			return 0;
		}
	}
	return -ENOENT;
}
