/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One table row per option, one setter per kind of value. Every source (kernel
 * command line, TOML file, environment, argv) goes through these setters, so
 * the checks and the warnings are the same whichever way a value arrives.
 */
#include "config/option.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/address.h"

static const char *const rest_api_words[] = {"all", "attestation", "resource", NULL};
static const char *const procs_words[] = {"none", "attestation-agent", "confidential-data-hub",
					  "api-server-rest", NULL};

#define F(field) offsetof(struct agent_config, field)
static const struct option_def options[] = {
	{"agent.log", "log_level", OPT_LEVEL, F(log_level), NULL},
	{"agent.devmode", "dev_mode", OPT_BOOL, F(dev_mode), NULL},
	{"agent.debug_console", "debug_console", OPT_BOOL, F(debug_console), NULL},
	{"agent.debug_unconfined_paths", "debug_unconfined_paths", OPT_BOOL,
	 F(debug_unconfined_paths), NULL},
	{"agent.debug_console_vport", "debug_console_vport", OPT_CONSOLE_VPORT,
	 F(debug_console_vport), NULL},
	{"agent.log_vport", "log_vport", OPT_PORT, F(log_vport), NULL},
	{"agent.server_addr", "server_addr", OPT_ADDRESS, F(server_addr), NULL},
	{"agent.hotplug_timeout", "hotplug_timeout", OPT_DURATION, F(hotplug_timeout_ms), NULL},
	{"agent.unified_cgroup_hierarchy", "unified_cgroup_hierarchy", OPT_BOOL,
	 F(unified_cgroup_hierarchy), NULL},
	{"systemd.unified_cgroup_hierarchy", NULL, OPT_BOOL, F(unified_cgroup_hierarchy), NULL},
	{"cgroup_no_v1", NULL, OPT_CGROUP_NO_V1, F(unified_cgroup_hierarchy), NULL},
	{"agent.container_pipe_size", "container_pipe_size", OPT_PIPE_SIZE, F(container_pipe_size),
	 NULL},
	{"agent.trace", "tracing", OPT_BOOL, F(tracing), NULL},
	{"agent.trace_addr", "trace_addr", OPT_ADDRESS, F(trace_addr), NULL},
	{"agent.passfd_listener_port", "passfd_listener_port", OPT_PORT, F(passfd_listener_port),
	 NULL},
	{"agent.config_file", NULL, OPT_CONFIG_FILE, F(config_file), NULL},
	{"agent.cdh_api_timeout", "cdh_api_timeout", OPT_DURATION, F(cdh_api_timeout_ms), NULL},
	{"agent.image_pull_timeout", "image_pull_timeout", OPT_DURATION, F(image_pull_timeout_ms),
	 NULL},
	{"agent.launch_process_timeout", "launch_process_timeout", OPT_DURATION,
	 F(launch_process_timeout_ms), NULL},
	{"agent.cdi_timeout", "cdi_timeout", OPT_DURATION, F(cdi_timeout_ms), NULL},
	{"agent.visible_cdi_devices", "visible_cdi_devices", OPT_BOOL, F(visible_cdi_devices),
	 NULL},
	{"agent.https_proxy", "https_proxy", OPT_STRING, F(https_proxy), NULL},
	{"agent.no_proxy", "no_proxy", OPT_STRING, F(no_proxy), NULL},
	{"agent.guest_components_rest_api", "guest_components_rest_api", OPT_ENUM,
	 F(guest_components_rest_api), rest_api_words},
	{"agent.guest_components_procs", "guest_components_procs", OPT_ENUM,
	 F(guest_components_procs), procs_words},
	{"agent.secure_storage_integrity", "secure_storage_integrity", OPT_BOOL,
	 F(secure_storage_integrity), NULL},
	{"agent.mem_agent_enable", "mem_agent_enable", OPT_BOOL, F(mem_agent_enable), NULL},
	{"agent.mem_agent_compact_disable", "mem_agent_compact_disable", OPT_BOOL,
	 F(mem_agent_compact.disable), NULL},
	{"agent.mem_agent_compact_period_secs", "mem_agent_compact_period_secs", OPT_COUNT,
	 F(mem_agent_compact.period_secs), NULL},
	{"agent.mem_agent_compact_period_psi_percent_limit",
	 "mem_agent_compact_period_psi_percent_limit", OPT_COUNT,
	 F(mem_agent_compact.period_psi_percent_limit), NULL},
	{"agent.mem_agent_compact_psi_percent_limit", "mem_agent_compact_psi_percent_limit",
	 OPT_COUNT, F(mem_agent_compact.psi_percent_limit), NULL},
	{"agent.mem_agent_compact_sec_max", "mem_agent_compact_sec_max", OPT_COUNT,
	 F(mem_agent_compact.sec_max), NULL},
	{"agent.mem_agent_compact_order", "mem_agent_compact_order", OPT_COUNT,
	 F(mem_agent_compact.order), NULL},
	{"agent.mem_agent_compact_threshold", "mem_agent_compact_threshold", OPT_COUNT,
	 F(mem_agent_compact.threshold), NULL},
	{"agent.mem_agent_compact_force_times", "mem_agent_compact_force_times", OPT_COUNT,
	 F(mem_agent_compact.force_times), NULL},
	{NULL, "policy_file", OPT_STRING, F(policy_file), NULL},
};
#undef F

#define FIELD(c, o, type) ((type *)((char *)(c) + (o)->offset))

const struct option_def *option_by_name(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
		const char *n = options[i].name;
		if (n && strlen(n) == len && memcmp(n, name, len) == 0)
			return &options[i];
	}
	return NULL;
}

const struct option_def *option_by_toml_key(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (options[i].toml_key && strcmp(options[i].toml_key, key) == 0)
			return &options[i];
	return NULL;
}

/* The field's current value as text, for "keeping ..." in warnings. */
static const char *current(const struct agent_config *c, const struct option_def *o, char *buf,
			   size_t size)
{
	switch (o->kind) {
	case OPT_BOOL:
	case OPT_CGROUP_NO_V1:
		return *FIELD(c, o, bool) ? "true" : "false";
	case OPT_LEVEL:
		return log_level_name(*FIELD(c, o, enum log_level));
	case OPT_PORT:
	case OPT_CONSOLE_VPORT:
	case OPT_PIPE_SIZE:
		snprintf(buf, size, "%" PRId32, *FIELD(c, o, int32_t));
		return buf;
	case OPT_DURATION:
		snprintf(buf, size, "%" PRIu64 "ms", *FIELD(c, o, uint64_t));
		return buf;
	case OPT_COUNT:
		if (*FIELD(c, o, int64_t) < 0)
			return "it unset";
		snprintf(buf, size, "%" PRId64, *FIELD(c, o, int64_t));
		return buf;
	case OPT_ADDRESS:
	case OPT_STRING:
	case OPT_ENUM:
	case OPT_CONFIG_FILE: {
		const char *s = *FIELD(c, o, char *);
		if (!s)
			return "it unset";
		snprintf(buf, size, "%.200s", s);
		return buf;
	}
	}
	return "?";
}

#define WARN_KEEP(c, o, what, fmt, ...)                                              \
	do {                                                                         \
		char _cur[224];                                                      \
		agent_config_warn(c, "%s: " fmt "; keeping %s", what, ##__VA_ARGS__, \
				  current(c, o, _cur, sizeof(_cur)));                \
	} while (0)

void option_set_bool(struct agent_config *c, const struct option_def *o, bool v)
{
	*FIELD(c, o, bool) = v;
}

bool option_set_int(struct agent_config *c, const struct option_def *o, int64_t v, const char *what)
{
	switch (o->kind) {
	case OPT_PORT:
	case OPT_CONSOLE_VPORT:
		if (v > INT32_MAX || v < INT32_MIN) {
			WARN_KEEP(c, o, what, "out of the 32-bit range");
			return false;
		}
		if (v < 0) {
			WARN_KEEP(c, o, what, "a port cannot be negative");
			return false;
		}
		if (v == 0)
			return false; /* 0 is the default ("not on vsock"); upstream ignores it */
		if (o->kind == OPT_CONSOLE_VPORT &&
		    (v == CONFIG_API_VPORT || v == CONFIG_LOG_VPORT)) {
			WARN_KEEP(c, o, what,
				  "vsock port %d is reserved (1024 for the API, 1025 for logs)",
				  (int)v);
			return false;
		}
		*FIELD(c, o, int32_t) = (int32_t)v;
		return true;
	case OPT_PIPE_SIZE:
		if (v < 0 || v > INT32_MAX) {
			WARN_KEEP(c, o, what, "not a size in bytes from 0 to 2147483647");
			return false;
		}
		*FIELD(c, o, int32_t) = (int32_t)v;
		return true;
	case OPT_COUNT:
		if (v < 0) {
			WARN_KEEP(c, o, what, "not a count (0 or more)");
			return false;
		}
		*FIELD(c, o, int64_t) = v;
		return true;
	default:
		WARN_KEEP(c, o, what, "not a valid value");
		return false;
	}
}

bool option_set_duration_ms(struct agent_config *c, const struct option_def *o, uint64_t ms,
			    const char *what)
{
	if (ms == 0) {
		WARN_KEEP(c, o, what, "a zero timeout is not valid");
		return false;
	}
	*FIELD(c, o, uint64_t) = ms;
	return true;
}

static bool set_string(struct agent_config *c, const struct option_def *o, const char *v,
		       const char *what)
{
	if (!*v) {
		WARN_KEEP(c, o, what, "empty value");
		return false;
	}
	if (strnlen(v, CONFIG_VALUE_MAX + 1) > CONFIG_VALUE_MAX) {
		WARN_KEEP(c, o, what, "value longer than %u bytes", CONFIG_VALUE_MAX);
		return false;
	}
	if (o->kind == OPT_ADDRESS) {
		struct address a;
		_cleanup_error_ agent_error_t *err = NULL;
		if (address_parse(v, &a, &err) < 0) {
			WARN_KEEP(c, o, what, "%s", err ? err->msg : "invalid address");
			return false;
		}
	}
	if (o->kind == OPT_ENUM) {
		size_t k;
		for (k = 0; o->words[k]; k++)
			if (strcmp(o->words[k], v) == 0)
				break;
		if (!o->words[k]) {
			char list[160] = "";
			size_t n = 0;
			for (size_t i = 0; o->words[i] && n < sizeof(list); i++)
				n += snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "",
					      o->words[i]);
			WARN_KEEP(c, o, what, "not one of %s", list);
			return false;
		}
	}
	char *s = strdup(v);
	if (!s) {
		WARN_KEEP(c, o, what, "out of memory");
		return false;
	}
	char **slot = FIELD(c, o, char *);
	free(*slot);
	*slot = s;
	return true;
}

bool option_set_text(struct agent_config *c, const struct option_def *o, const char *value,
		     const char *what)
{
	int32_t i32;
	uint64_t ms;
	bool b;
	int r;

	if (!value) {
		if (o->kind == OPT_BOOL) {
			option_set_bool(c, o, true);
			return true;
		}
		if (o->kind != OPT_CGROUP_NO_V1) /* not ours: the kernel's own option */
			WARN_KEEP(c, o, what, "needs a value (%s=...)", o->name ? o->name : what);
		return false;
	}
	switch (o->kind) {
	case OPT_BOOL:
		if (parse_bool_strict(value, &b) < 0) {
			WARN_KEEP(c, o, what, "not a boolean (1, true, 0, false)");
			return false;
		}
		option_set_bool(c, o, b);
		return true;
	case OPT_LEVEL:
		if (log_level_parse(value, FIELD(c, o, enum log_level)) < 0) {
			WARN_KEEP(c, o, what,
				  "unknown log level (trace, debug, info, warn, error, critical)");
			return false;
		}
		return true;
	case OPT_PORT:
	case OPT_CONSOLE_VPORT:
	case OPT_PIPE_SIZE:
		r = parse_i32(value, &i32);
		if (r < 0) {
			WARN_KEEP(c, o, what, "%s",
				  r == -ERANGE ? "out of the 32-bit range"
					       : "not a decimal integer");
			return false;
		}
		return option_set_int(c, o, i32, what);
	case OPT_DURATION:
		r = parse_go_duration_ms(value, &ms);
		if (r < 0) {
			WARN_KEEP(c, o, what, "%s",
				  r == -ERANGE ? "duration too long"
					       : "not a duration (10s, 1m30s, 500ms, or seconds)");
			return false;
		}
		return option_set_duration_ms(c, o, ms, what);
	case OPT_COUNT: {
		char *end;
		errno = 0;
		long long v = strtoll(value, &end, 10);
		if (errno || end == value || *end) {
			WARN_KEEP(c, o, what, "not a decimal integer");
			return false;
		}
		return option_set_int(c, o, v, what);
	}
	case OPT_CGROUP_NO_V1:
		/* cgroup_no_v1=all leaves no v1 controller, so the agent must use v2. */
		if (strcmp(value, "all") != 0)
			return false;
		option_set_bool(c, o, true);
		return true;
	case OPT_ADDRESS:
	case OPT_STRING:
	case OPT_ENUM:
	case OPT_CONFIG_FILE:
		return set_string(c, o, value, what);
	}
	return false;
}

void config_normalize(struct agent_config *c)
{
	/* agent.devmode implies debug logging; trace stays trace. */
	if (c->dev_mode && c->log_level > LOG_LEVEL_DEBUG)
		c->log_level = LOG_LEVEL_DEBUG;
}
