/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration: every option with valid, edge and invalid values on the
 * kernel command line, in the TOML file and in the environment; the sources'
 * precedence through agent_config_load() with real files; the value parsers;
 * the JSON rendering.
 */
#include <fcntl.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "harness.h"

/* --- reading any field by name ------------------------------------------------------------ */

enum ftype { FT_BOOL, FT_I32, FT_U64, FT_I64, FT_LEVEL, FT_STR };

static const struct field {
	const char *name;
	enum ftype type;
	size_t off;
} fields[] = {
#define FLD(name, type)                                          \
	{                                                        \
#name, type, offsetof(struct agent_config, name) \
	}
	FLD(log_level, FT_LEVEL),
	FLD(dev_mode, FT_BOOL),
	FLD(debug_console, FT_BOOL),
	FLD(debug_console_vport, FT_I32),
	FLD(log_vport, FT_I32),
	FLD(server_addr, FT_STR),
	FLD(hotplug_timeout_ms, FT_U64),
	FLD(unified_cgroup_hierarchy, FT_BOOL),
	FLD(container_pipe_size, FT_I32),
	FLD(tracing, FT_BOOL),
	FLD(passfd_listener_port, FT_I32),
	FLD(config_file, FT_STR),
	FLD(cdh_api_timeout_ms, FT_U64),
	FLD(image_pull_timeout_ms, FT_U64),
	FLD(launch_process_timeout_ms, FT_U64),
	FLD(cdi_timeout_ms, FT_U64),
	FLD(visible_cdi_devices, FT_BOOL),
	FLD(https_proxy, FT_STR),
	FLD(no_proxy, FT_STR),
	FLD(guest_components_rest_api, FT_STR),
	FLD(guest_components_procs, FT_STR),
	FLD(secure_storage_integrity, FT_BOOL),
	FLD(mem_agent_enable, FT_BOOL),
	FLD(mem_agent_compact.disable, FT_BOOL),
	FLD(mem_agent_compact.period_secs, FT_I64),
	FLD(mem_agent_compact.period_psi_percent_limit, FT_I64),
	FLD(mem_agent_compact.psi_percent_limit, FT_I64),
	FLD(mem_agent_compact.sec_max, FT_I64),
	FLD(mem_agent_compact.order, FT_I64),
	FLD(mem_agent_compact.threshold, FT_I64),
	FLD(mem_agent_compact.force_times, FT_I64),
	FLD(policy_file, FT_STR),
#undef FLD
};

static const struct field *field_named(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	FAIL("no field %s in the test table", name);
}

/* Numbers, booleans and levels as long long; strings through get_str. */
static long long get_num(const struct agent_config *c, const struct field *f)
{
	const char *p = (const char *)c + f->off;
	switch (f->type) {
	case FT_BOOL:
		return *(const bool *)p;
	case FT_I32:
		return *(const int32_t *)p;
	case FT_U64:
		return (long long)*(const uint64_t *)p;
	case FT_I64:
		return *(const int64_t *)p;
	case FT_LEVEL:
		return *(const enum log_level *)p;
	case FT_STR:
		break;
	}
	FAIL("%s is a string", f->name);
}

static const char *get_str(const struct agent_config *c, const struct field *f)
{
	return *(char *const *)((const char *)c + f->off);
}

#define NONE ((const char *)1) /* want_str: the field must be NULL */
#define WARN true
#define QUIET false

struct row {
	const char *input;
	const char *field;
	long long want; /* numeric fields */
	const char *want_str; /* string fields: the value, or NONE */
	bool warns;
};

static void check_row(const struct agent_config *c, const struct row *r, const char *source,
		      size_t i)
{
	const struct field *f = field_named(r->field);
	if (f->type == FT_STR) {
		const char *got = get_str(c, f);
		bool ok = r->want_str == NONE ? got == NULL
					      : got != NULL && strcmp(got, r->want_str) == 0;
		if (!ok)
			FAIL("%s row %zu [%s]: %s = \"%s\", want \"%s\"", source, i, r->input,
			     r->field, got ? got : "(null)",
			     r->want_str == NONE ? "(null)" : r->want_str);
	} else if (get_num(c, f) != r->want) {
		FAIL("%s row %zu [%s]: %s = %lld, want %lld", source, i, r->input, r->field,
		     get_num(c, f), r->want);
	}
	if ((c->n_warnings > 0) != r->warns)
		FAIL("%s row %zu [%s]: %zu warnings (first: %s), want %s", source, i, r->input,
		     c->n_warnings, c->n_warnings ? c->warnings[0] : "-",
		     r->warns ? "some" : "none");
}

/* --- kernel command line: every option ---------------------------------------------------- */

#define I32_MAX "2147483647"
#define I32_OVER "2147483648"

static const struct row cmdline_rows[] = {
	/* agent.log: exact lower-case names */
	{"", "log_level", LOG_LEVEL_INFO, NULL, QUIET},
	{"agent.log=trace", "log_level", LOG_LEVEL_TRACE, NULL, QUIET},
	{"agent.log=debug", "log_level", LOG_LEVEL_DEBUG, NULL, QUIET},
	{"agent.log=info", "log_level", LOG_LEVEL_INFO, NULL, QUIET},
	{"agent.log=warn", "log_level", LOG_LEVEL_WARN, NULL, QUIET},
	{"agent.log=warning", "log_level", LOG_LEVEL_WARN, NULL, QUIET},
	{"agent.log=error", "log_level", LOG_LEVEL_ERROR, NULL, QUIET},
	{"agent.log=critical", "log_level", LOG_LEVEL_CRITICAL, NULL, QUIET},
	{"agent.log=fatal", "log_level", LOG_LEVEL_CRITICAL, NULL, QUIET},
	{"agent.log=panic", "log_level", LOG_LEVEL_CRITICAL, NULL, QUIET},
	{"agent.log=DEBUG", "log_level", LOG_LEVEL_INFO, NULL, WARN},
	{"agent.log=", "log_level", LOG_LEVEL_INFO, NULL, WARN},
	{"agent.log", "log_level", LOG_LEVEL_INFO, NULL, WARN},
	{"agent.log=debug=x", "log_level", LOG_LEVEL_INFO, NULL, WARN},
	{"agent.log=debug agent.log=error", "log_level", LOG_LEVEL_ERROR, NULL, QUIET},
	{"agent.log=error agent.log=bogus", "log_level", LOG_LEVEL_ERROR, NULL, WARN},
	{"agent.log=\"debug\"", "log_level", LOG_LEVEL_DEBUG, NULL, QUIET},
	{"\"agent.log=debug\"", "log_level", LOG_LEVEL_DEBUG, NULL, QUIET},
	{"\tagent.log=debug\r\n", "log_level", LOG_LEVEL_DEBUG, NULL, QUIET},
	{"agent.logx=debug agent_log=debug xagent.log=debug", "log_level", LOG_LEVEL_INFO, NULL,
	 QUIET},
	/* agent.devmode: a flag; implies debug logging (trace stays trace) */
	{"", "dev_mode", 0, NULL, QUIET},
	{"agent.devmode", "dev_mode", 1, NULL, QUIET},
	{"agent.devmode", "log_level", LOG_LEVEL_DEBUG, NULL, QUIET},
	{"agent.devmode agent.log=trace", "log_level", LOG_LEVEL_TRACE, NULL, QUIET},
	{"agent.devmode agent.log=error", "log_level", LOG_LEVEL_DEBUG, NULL, QUIET},
	{"agent.devmode=1", "dev_mode", 1, NULL, QUIET},
	{"agent.devmode=true", "dev_mode", 1, NULL, QUIET},
	{"agent.devmode=TRUE", "dev_mode", 1, NULL, QUIET},
	{"agent.devmode=yes", "dev_mode", 1, NULL, QUIET},
	{"agent.devmode=on", "dev_mode", 1, NULL, QUIET},
	{"agent.devmode=0", "dev_mode", 0, NULL, QUIET},
	{"agent.devmode=false", "dev_mode", 0, NULL, QUIET},
	{"agent.devmode=no", "dev_mode", 0, NULL, QUIET},
	{"agent.devmode=off", "dev_mode", 0, NULL, QUIET},
	{"agent.devmode=0", "log_level", LOG_LEVEL_INFO, NULL, QUIET},
	{"agent.devmode=maybe", "dev_mode", 0, NULL, WARN},
	{"agent.devmode=2", "dev_mode", 0, NULL, WARN},
	{"agent.devmode=", "dev_mode", 0, NULL, WARN},
	{"agent.devmode agent.devmode=0", "dev_mode", 0, NULL, QUIET},
	{"agent.devmode=0 agent.devmode", "dev_mode", 1, NULL, QUIET},
	{"agent.devmodex", "dev_mode", 0, NULL, QUIET},
	/* agent.debug_console */
	{"agent.debug_console", "debug_console", 1, NULL, QUIET},
	{"agent.debug_console=1", "debug_console", 1, NULL, QUIET},
	{"agent.debug_console=false", "debug_console", 0, NULL, QUIET},
	{"agent.debug_console=2", "debug_console", 0, NULL, WARN},
	{"agent.debug_console agent.debug_console=nah", "debug_console", 1, NULL, WARN},
	/* agent.debug_console_vport: i32; <= 0 ignored; 1024 and 1025 refused */
	{"agent.debug_console_vport=1026", "debug_console_vport", 1026, NULL, QUIET},
	{"agent.debug_console_vport=\"1027\"", "debug_console_vport", 1027, NULL, QUIET},
	{"agent.debug_console_vport=0", "debug_console_vport", 0, NULL, QUIET},
	{"agent.debug_console_vport=1026 agent.debug_console_vport=0", "debug_console_vport", 1026,
	 NULL, QUIET},
	{"agent.debug_console_vport=-3", "debug_console_vport", 0, NULL, WARN},
	{"agent.debug_console_vport=1024", "debug_console_vport", 0, NULL, WARN},
	{"agent.debug_console_vport=1025", "debug_console_vport", 0, NULL, WARN},
	{"agent.debug_console_vport=1026 agent.debug_console_vport=1024", "debug_console_vport",
	 1026, NULL, WARN},
	{"agent.debug_console_vport=" I32_MAX, "debug_console_vport", INT32_MAX, NULL, QUIET},
	{"agent.debug_console_vport=" I32_OVER, "debug_console_vport", 0, NULL, WARN},
	{"agent.debug_console_vport=-2147483649", "debug_console_vport", 0, NULL, WARN},
	{"agent.debug_console_vport=99999999999999999999999", "debug_console_vport", 0, NULL, WARN},
	{"agent.debug_console_vport=12ab", "debug_console_vport", 0, NULL, WARN},
	{"agent.debug_console_vport=+5", "debug_console_vport", 0, NULL, WARN},
	{"agent.debug_console_vport=0x10", "debug_console_vport", 0, NULL, WARN},
	{"agent.debug_console_vport=", "debug_console_vport", 0, NULL, WARN},
	{"agent.debug_console_vport", "debug_console_vport", 0, NULL, WARN},
	/* agent.log_vport */
	{"agent.log_vport=1025", "log_vport", 1025, NULL, QUIET},
	{"agent.log_vport=0", "log_vport", 0, NULL, QUIET},
	{"agent.log_vport=" I32_MAX, "log_vport", INT32_MAX, NULL, QUIET},
	{"agent.log_vport=" I32_OVER, "log_vport", 0, NULL, WARN},
	{"agent.log_vport=-1", "log_vport", 0, NULL, WARN},
	{"agent.log_vport=x", "log_vport", 0, NULL, WARN},
	{"agent.log_vport=", "log_vport", 0, NULL, WARN},
	{"agent.log_vport=7 agent.log_vport=8", "log_vport", 8, NULL, QUIET},
	/* agent.server_addr: checked as the transport will parse it */
	{"", "server_addr", 0, "vsock://-1:1024", QUIET},
	{"agent.server_addr=unix:///run/a.sock", "server_addr", 0, "unix:///run/a.sock", QUIET},
	{"agent.server_addr=unix://@abstract", "server_addr", 0, "unix://@abstract", QUIET},
	{"agent.server_addr=vsock://3:2000", "server_addr", 0, "vsock://3:2000", QUIET},
	{"agent.server_addr=serial:///dev/virtio-ports/agent", "server_addr", 0,
	 "serial:///dev/virtio-ports/agent", QUIET},
	{"agent.server_addr=unix:///a=b", "server_addr", 0, "unix:///a=b", QUIET},
	{"agent.server_addr=\"unix:///a b\"", "server_addr", 0, "unix:///a b", QUIET},
	{"\"agent.server_addr=unix:///c d\"", "server_addr", 0, "unix:///c d", QUIET},
	{"agent.server_addr=", "server_addr", 0, "vsock://-1:1024", WARN},
	{"agent.server_addr", "server_addr", 0, "vsock://-1:1024", WARN},
	{"agent.server_addr=http://x", "server_addr", 0, "vsock://-1:1024", WARN},
	{"agent.server_addr=vsock://3", "server_addr", 0, "vsock://-1:1024", WARN},
	{"agent.server_addr=unix://relative", "server_addr", 0, "vsock://-1:1024", WARN},
	{"agent.server_addr=unix:///a agent.server_addr=unix:///b", "server_addr", 0, "unix:///b",
	 QUIET},
	{"agent.server_addr=unix:///a agent.server_addr=bad", "server_addr", 0, "unix:///a", WARN},
	/* agent.hotplug_timeout: Go durations and seconds; invalid or 0 keeps 3 s */
	{"", "hotplug_timeout_ms", 3000, NULL, QUIET},
	{"agent.hotplug_timeout=10", "hotplug_timeout_ms", 10000, NULL, QUIET},
	{"agent.hotplug_timeout=10s", "hotplug_timeout_ms", 10000, NULL, QUIET},
	{"agent.hotplug_timeout=500ms", "hotplug_timeout_ms", 500, NULL, QUIET},
	{"agent.hotplug_timeout=1m30s", "hotplug_timeout_ms", 90000, NULL, QUIET},
	{"agent.hotplug_timeout=1h", "hotplug_timeout_ms", 3600000, NULL, QUIET},
	{"agent.hotplug_timeout=1.5s", "hotplug_timeout_ms", 1500, NULL, QUIET},
	{"agent.hotplug_timeout=1us", "hotplug_timeout_ms", 1, NULL, QUIET},
	{"agent.hotplug_timeout=9223372036", "hotplug_timeout_ms", 9223372036000LL, NULL, QUIET},
	{"agent.hotplug_timeout=9223372037", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"agent.hotplug_timeout=0", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"agent.hotplug_timeout=0s", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"agent.hotplug_timeout=-1", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"agent.hotplug_timeout=-1s", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"agent.hotplug_timeout=foo", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"agent.hotplug_timeout=10x", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"agent.hotplug_timeout=", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"agent.hotplug_timeout", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"agent.hotplug_timeout=99999999999999h", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"agent.hotplug_timeout=5 agent.hotplug_timeout=7s", "hotplug_timeout_ms", 7000, NULL,
	 QUIET},
	{"agent.hotplug_timeout=5 agent.hotplug_timeout=bad", "hotplug_timeout_ms", 5000, NULL,
	 WARN},
	/* cgroups v2: ours and its two aliases; default v1 */
	{"", "unified_cgroup_hierarchy", 0, NULL, QUIET},
	{"agent.unified_cgroup_hierarchy=1", "unified_cgroup_hierarchy", 1, NULL, QUIET},
	{"agent.unified_cgroup_hierarchy=true", "unified_cgroup_hierarchy", 1, NULL, QUIET},
	{"agent.unified_cgroup_hierarchy=0", "unified_cgroup_hierarchy", 0, NULL, QUIET},
	{"agent.unified_cgroup_hierarchy=false", "unified_cgroup_hierarchy", 0, NULL, QUIET},
	{"agent.unified_cgroup_hierarchy", "unified_cgroup_hierarchy", 1, NULL, QUIET},
	{"agent.unified_cgroup_hierarchy=yes-please", "unified_cgroup_hierarchy", 0, NULL, WARN},
	{"systemd.unified_cgroup_hierarchy=1", "unified_cgroup_hierarchy", 1, NULL, QUIET},
	{"systemd.unified_cgroup_hierarchy=false", "unified_cgroup_hierarchy", 0, NULL, QUIET},
	{"systemd.unified_cgroup_hierarchy=x", "unified_cgroup_hierarchy", 0, NULL, WARN},
	{"cgroup_no_v1=all", "unified_cgroup_hierarchy", 1, NULL, QUIET},
	{"cgroup_no_v1=memory", "unified_cgroup_hierarchy", 0, NULL, QUIET},
	{"cgroup_no_v1", "unified_cgroup_hierarchy", 0, NULL, QUIET},
	{"cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1", "unified_cgroup_hierarchy", 1, NULL,
	 QUIET},
	{"cgroup_no_v1=all agent.unified_cgroup_hierarchy=0", "unified_cgroup_hierarchy", 0, NULL,
	 QUIET},
	{"agent.unified_cgroup_hierarchy=1 cgroup_no_v1=memory", "unified_cgroup_hierarchy", 1,
	 NULL, QUIET},
	/* agent.container_pipe_size: 0..INT32_MAX */
	{"agent.container_pipe_size=1048576", "container_pipe_size", 1048576, NULL, QUIET},
	{"agent.container_pipe_size=0", "container_pipe_size", 0, NULL, QUIET},
	{"agent.container_pipe_size=" I32_MAX, "container_pipe_size", INT32_MAX, NULL, QUIET},
	{"agent.container_pipe_size=" I32_OVER, "container_pipe_size", 0, NULL, WARN},
	{"agent.container_pipe_size=-1", "container_pipe_size", 0, NULL, WARN},
	{"agent.container_pipe_size=4k", "container_pipe_size", 0, NULL, WARN},
	{"agent.container_pipe_size=", "container_pipe_size", 0, NULL, WARN},
	{"agent.container_pipe_size", "container_pipe_size", 0, NULL, WARN},
	{"agent.container_pipe_size=65536 agent.container_pipe_size=-5", "container_pipe_size",
	 65536, NULL, WARN},
	{"agent.container_pipe_size=65536 agent.container_pipe_size=0", "container_pipe_size", 0,
	 NULL, QUIET},
	/* agent.trace */
	{"agent.trace", "tracing", 1, NULL, QUIET},
	{"agent.trace=true", "tracing", 1, NULL, QUIET},
	{"agent.trace=0", "tracing", 0, NULL, QUIET},
	{"agent.trace=sometimes", "tracing", 0, NULL, WARN},
	{"agent.trace agent.trace=false", "tracing", 0, NULL, QUIET},
	/* agent.passfd_listener_port */
	{"agent.passfd_listener_port=1027", "passfd_listener_port", 1027, NULL, QUIET},
	{"agent.passfd_listener_port=0", "passfd_listener_port", 0, NULL, QUIET},
	{"agent.passfd_listener_port=-1", "passfd_listener_port", 0, NULL, WARN},
	{"agent.passfd_listener_port=z", "passfd_listener_port", 0, NULL, WARN},
	{"agent.passfd_listener_port=" I32_MAX, "passfd_listener_port", INT32_MAX, NULL, QUIET},
	{"agent.passfd_listener_port=" I32_OVER, "passfd_listener_port", 0, NULL, WARN},
	/* agent.config_file: recorded and stops the parse (loading is tested below) */
	{"", "config_file", 0, NONE, QUIET},
	{"agent.config_file=/etc/agent.toml", "config_file", 0, "/etc/agent.toml", QUIET},
	{"agent.config_file=", "config_file", 0, NONE, WARN},
	{"agent.config_file", "config_file", 0, NONE, WARN},
	{"agent.config_file=/a.toml agent.log=debug", "log_level", LOG_LEVEL_INFO, NULL, QUIET},
	{"agent.log=debug agent.config_file=/a.toml", "log_level", LOG_LEVEL_DEBUG, NULL, QUIET},
	{"agent.config_file= agent.log=debug", "log_level", LOG_LEVEL_DEBUG, NULL, WARN},
	/* timeouts of the CC helpers and CDI, with the hotplug rules */
	{"", "cdh_api_timeout_ms", 50000, NULL, QUIET},
	{"agent.cdh_api_timeout=20", "cdh_api_timeout_ms", 20000, NULL, QUIET},
	{"agent.cdh_api_timeout=1m", "cdh_api_timeout_ms", 60000, NULL, QUIET},
	{"agent.cdh_api_timeout=bad", "cdh_api_timeout_ms", 50000, NULL, WARN},
	{"agent.cdh_api_timeout=0", "cdh_api_timeout_ms", 50000, NULL, WARN},
	{"", "image_pull_timeout_ms", 1200000, NULL, QUIET},
	{"agent.image_pull_timeout=2m", "image_pull_timeout_ms", 120000, NULL, QUIET},
	{"agent.image_pull_timeout=-2m", "image_pull_timeout_ms", 1200000, NULL, WARN},
	{"", "launch_process_timeout_ms", 6000, NULL, QUIET},
	{"agent.launch_process_timeout=9", "launch_process_timeout_ms", 9000, NULL, QUIET},
	{"agent.launch_process_timeout=1.5s", "launch_process_timeout_ms", 1500, NULL, QUIET},
	{"agent.launch_process_timeout", "launch_process_timeout_ms", 6000, NULL, WARN},
	{"", "cdi_timeout_ms", 100000, NULL, QUIET},
	{"agent.cdi_timeout=7s", "cdi_timeout_ms", 7000, NULL, QUIET},
	{"agent.cdi_timeout=0", "cdi_timeout_ms", 100000, NULL, WARN},
	{"agent.cdi_timeout=1y", "cdi_timeout_ms", 100000, NULL, WARN},
	/* GPU */
	{"agent.visible_cdi_devices=true", "visible_cdi_devices", 1, NULL, QUIET},
	{"agent.visible_cdi_devices", "visible_cdi_devices", 1, NULL, QUIET},
	{"agent.visible_cdi_devices=0", "visible_cdi_devices", 0, NULL, QUIET},
	{"agent.visible_cdi_devices=x", "visible_cdi_devices", 0, NULL, WARN},
	/* CC strings and enums */
	{"", "https_proxy", 0, NONE, QUIET},
	{"agent.https_proxy=http://proxy:3128", "https_proxy", 0, "http://proxy:3128", QUIET},
	{"agent.https_proxy=", "https_proxy", 0, NONE, WARN},
	{"agent.no_proxy=localhost,10.0.0.0/8", "no_proxy", 0, "localhost,10.0.0.0/8", QUIET},
	{"agent.no_proxy=", "no_proxy", 0, NONE, WARN},
	{"", "guest_components_rest_api", 0, "resource", QUIET},
	{"agent.guest_components_rest_api=all", "guest_components_rest_api", 0, "all", QUIET},
	{"agent.guest_components_rest_api=attestation", "guest_components_rest_api", 0,
	 "attestation", QUIET},
	{"agent.guest_components_rest_api=resource", "guest_components_rest_api", 0, "resource",
	 QUIET},
	{"agent.guest_components_rest_api=everything", "guest_components_rest_api", 0, "resource",
	 WARN},
	{"agent.guest_components_rest_api=", "guest_components_rest_api", 0, "resource", WARN},
	{"", "guest_components_procs", 0, "api-server-rest", QUIET},
	{"agent.guest_components_procs=none", "guest_components_procs", 0, "none", QUIET},
	{"agent.guest_components_procs=attestation-agent", "guest_components_procs", 0,
	 "attestation-agent", QUIET},
	{"agent.guest_components_procs=confidential-data-hub", "guest_components_procs", 0,
	 "confidential-data-hub", QUIET},
	{"agent.guest_components_procs=api-server-rest", "guest_components_procs", 0,
	 "api-server-rest", QUIET},
	{"agent.guest_components_procs=", "guest_components_procs", 0, "api-server-rest", WARN},
	{"agent.guest_components_procs=None", "guest_components_procs", 0, "api-server-rest", WARN},
	{"", "secure_storage_integrity", 1, NULL, QUIET},
	{"agent.secure_storage_integrity=false", "secure_storage_integrity", 0, NULL, QUIET},
	{"agent.secure_storage_integrity=0 agent.secure_storage_integrity",
	 "secure_storage_integrity", 1, NULL, QUIET},
	{"agent.secure_storage_integrity=x", "secure_storage_integrity", 1, NULL, WARN},
	/* mem-agent: enable is a bool; compact_* tune compaction; memcg_* are accepted, unused */
	{"", "mem_agent_enable", 0, NULL, QUIET},
	{"agent.mem_agent_enable=1", "mem_agent_enable", 1, NULL, QUIET},
	{"agent.mem_agent_enable", "mem_agent_enable", 1, NULL, QUIET},
	{"agent.mem_agent_enable=1 agent.mem_agent_memcg_swap=true "
	 "agent.mem_agent_compact_period=5",
	 "mem_agent_enable", 1, NULL, QUIET},
	{"", "mem_agent_compact.period_secs", -1, NULL, QUIET},
	{"agent.mem_agent_compact_period_secs=30", "mem_agent_compact.period_secs", 30, NULL,
	 QUIET},
	{"agent.mem_agent_compact_period_secs=-3", "mem_agent_compact.period_secs", -1, NULL, WARN},
	{"agent.mem_agent_compact_period_secs=x", "mem_agent_compact.period_secs", -1, NULL, WARN},
	{"agent.mem_agent_compact_force_times=9223372036854775807", "mem_agent_compact.force_times",
	 INT64_MAX, NULL, QUIET},
	{"agent.mem_agent_compact_force_times=9223372036854775808", "mem_agent_compact.force_times",
	 -1, NULL, WARN},
	{"agent.mem_agent_compact_period_psi_percent_limit=3",
	 "mem_agent_compact.period_psi_percent_limit", 3, NULL, QUIET},
	{"agent.mem_agent_compact_psi_percent_limit=7", "mem_agent_compact.psi_percent_limit", 7,
	 NULL, QUIET},
	{"agent.mem_agent_compact_sec_max=0", "mem_agent_compact.sec_max", 0, NULL, QUIET},
	{"agent.mem_agent_compact_order=10", "mem_agent_compact.order", 10, NULL, QUIET},
	{"agent.mem_agent_compact_threshold=2048", "mem_agent_compact.threshold", 2048, NULL,
	 QUIET},
	{"agent.mem_agent_compact_disable", "mem_agent_compact.disable", 1, NULL, QUIET},
	{"agent.mem_agent_memcg_swap=true", "mem_agent_enable", 0, NULL, QUIET},
	{"agent.mem_agent_enable=sure", "mem_agent_enable", 0, NULL, WARN},
	/* tokens that are not ours, and odd spacing */
	{"console=ttyS0 quiet root=/dev/vda1 rw init=/sbin/init agent_log=debug", "log_level",
	 LOG_LEVEL_INFO, NULL, QUIET},
	{"   ", "log_level", LOG_LEVEL_INFO, NULL, QUIET},
	{"=", "log_level", LOG_LEVEL_INFO, NULL, QUIET},
	{"\"", "log_level", LOG_LEVEL_INFO, NULL, QUIET},
};

TEST(cmdline_every_option)
{
	for (size_t i = 0; i < ARRAY_SIZE(cmdline_rows); i++) {
		const struct row *r = &cmdline_rows[i];
		struct agent_config c;
		agent_config_init(&c);
		bool stopped = agent_config_parse_cmdline(&c, r->input, strlen(r->input));
		ASSERT_EQ(stopped, c.config_file != NULL);
		check_row(&c, r, "cmdline", i);
		agent_config_release(&c);
	}
}

static char *write_temp(const char *text, size_t len)
{
	char path[] = "/tmp/kata-cfg-XXXXXX";
	int fd = mkstemp(path);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, text, len), (ssize_t)len);
	close(fd);
	return strdup(path);
}

static char *write_temp_str(const char *text)
{
	return write_temp(text, strlen(text));
}

/* The same rows through the whole load, the command line read from a file. */
TEST(cmdline_every_option_through_load)
{
	for (size_t i = 0; i < ARRAY_SIZE(cmdline_rows); i++) {
		const struct row *r = &cmdline_rows[i];
		if (strstr(r->input, "agent.config_file=/"))
			continue; /* those files do not exist: tested on their own below */
		_cleanup_free_ char *path = write_temp_str(r->input);
		char *argv[] = {"kata-agent", "--cmdline-file", path, NULL};
		const char *envp[] = {"PATH=/bin", NULL};
		struct agent_config c;
		agent_config_init(&c);
		agent_config_load(&c, 3, argv, envp);
		unlink(path);
		check_row(&c, r, "load", i);
		ASSERT_STREQ(c.cmdline_path, path);
		agent_config_release(&c);
	}
}

TEST(cmdline_quoting_follows_the_kernel)
{
	static const struct {
		const char *line;
		const char *want; /* no_proxy, NULL = unset */
	} cases[] = {
		{"agent.no_proxy=\"a b\"", "a b"},
		{"\"agent.no_proxy=a b\"", "a b"},
		{"agent.no_proxy=a\"b c\"d", "a\"b c\"d"}, /* inner quotes group and stay */
		{"agent.no_proxy=\"unterminated x", "unterminated x"},
		{"agent.no_proxy=\"\"", NULL},
		{"agent.no_proxy=\"", NULL},
		{"agent.no_proxy=x\" agent.log=debug\"", "x\" agent.log=debug\""},
		{"agent.no_proxy=\"a\tb\"   agent.trace", "a\tb"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct agent_config c;
		agent_config_init(&c);
		agent_config_parse_cmdline(&c, cases[i].line, strlen(cases[i].line));
		if (cases[i].want)
			ASSERT_STREQ(c.no_proxy, cases[i].want);
		else
			ASSERT_NULL(c.no_proxy);
		ASSERT_EQ(c.log_level, LOG_LEVEL_INFO);
		agent_config_release(&c);
	}
	/* The last case also set the flag after the quoted value. */
	struct agent_config c;
	agent_config_init(&c);
	const char *line = "agent.no_proxy=\"a\tb\"   agent.trace";
	agent_config_parse_cmdline(&c, line, strlen(line));
	ASSERT_TRUE(c.tracing);
	agent_config_release(&c);
}

TEST(cmdline_bounds)
{
	struct agent_config c;

	/* Longer than 64 KiB: truncated with a warning; what is past the bound is not read. */
	size_t big = CONFIG_CMDLINE_MAX + 100;
	_cleanup_free_ char *line = malloc(big + 1);
	memset(line, ' ', big);
	memcpy(line, "agent.trace", 11);
	memcpy(line + CONFIG_CMDLINE_MAX + 10, "agent.devmode", 13);
	line[big] = '\0';
	agent_config_init(&c);
	agent_config_parse_cmdline(&c, line, big);
	ASSERT_TRUE(c.tracing);
	ASSERT_FALSE(c.dev_mode);
	ASSERT_EQ(c.n_warnings, 1);
	ASSERT_NOT_NULL(strstr(c.warnings[0], "longer than"));
	agent_config_release(&c);

	/* Exactly 64 KiB: no warning. */
	agent_config_init(&c);
	agent_config_parse_cmdline(&c, line, CONFIG_CMDLINE_MAX);
	ASSERT_EQ(c.n_warnings, 0);
	agent_config_release(&c);

	/* A value over CONFIG_VALUE_MAX is refused, one at the bound is taken. */
	size_t vlen = CONFIG_VALUE_MAX + 1;
	_cleanup_free_ char *tok = malloc(vlen + 32);
	int n = snprintf(tok, 32, "agent.no_proxy=");
	memset(tok + n, 'x', vlen);
	tok[n + vlen] = '\0';
	agent_config_init(&c);
	agent_config_parse_cmdline(&c, tok, strlen(tok));
	ASSERT_NULL(c.no_proxy);
	ASSERT_EQ(c.n_warnings, 1);
	ASSERT_TRUE(strlen(c.warnings[0]) < 400); /* the warning quotes a bounded part */
	agent_config_release(&c);
	tok[n + vlen - 1] = '\0';
	agent_config_init(&c);
	agent_config_parse_cmdline(&c, tok, strlen(tok));
	ASSERT_NOT_NULL(c.no_proxy);
	ASSERT_EQ(strlen(c.no_proxy), CONFIG_VALUE_MAX);
	ASSERT_EQ(c.n_warnings, 0);
	agent_config_release(&c);

	/* A NUL ends the command line. */
	static const char nul[] = "agent.log=debug\0agent.trace";
	agent_config_init(&c);
	agent_config_parse_cmdline(&c, nul, sizeof(nul) - 1);
	ASSERT_EQ(c.log_level, LOG_LEVEL_DEBUG);
	ASSERT_FALSE(c.tracing);
	agent_config_release(&c);
}

TEST(warnings_are_bounded_and_name_the_token)
{
	struct agent_config c;
	agent_config_init(&c);
	char line[8192] = "";
	size_t n = 0;
	for (int i = 0; i < 200; i++)
		n += snprintf(line + n, sizeof(line) - n, "agent.log=nope%d ", i);
	agent_config_parse_cmdline(&c, line, n);
	ASSERT_EQ(c.n_warnings, CONFIG_MAX_WARNINGS + 1);
	ASSERT_TRUE(c.warnings_dropped);
	ASSERT_NOT_NULL(strstr(c.warnings[0], "agent.log=nope0"));
	ASSERT_NOT_NULL(strstr(c.warnings[0], "keeping info"));
	ASSERT_NOT_NULL(strstr(c.warnings[CONFIG_MAX_WARNINGS - 1], "agent.log=nope63"));
	ASSERT_NOT_NULL(strstr(c.warnings[CONFIG_MAX_WARNINGS], "dropped"));
	agent_config_warn(&c, "more");
	ASSERT_EQ(c.n_warnings, CONFIG_MAX_WARNINGS + 1);
	agent_config_release(&c);
	/* Release is safe twice and leaves an empty object. */
	agent_config_release(&c);
	ASSERT_NULL(c.server_addr);
	ASSERT_EQ(c.n_warnings, 0);

	/* Messages for the other kinds say what was wrong and what is kept. */
	static const struct {
		const char *line;
		const char *needles[2];
	} msgs[] = {
		{"agent.hotplug_timeout=10x", {"agent.hotplug_timeout=10x", "keeping 3000ms"}},
		{"agent.hotplug_timeout=0", {"zero", "keeping 3000ms"}},
		{"agent.debug_console_vport=1024", {"reserved", "keeping 0"}},
		{"agent.container_pipe_size=-1", {"agent.container_pipe_size=-1", "keeping 0"}},
		{"agent.log_vport=" I32_OVER, {"32-bit", "keeping 0"}},
		{"agent.server_addr=ftp://x",
		 {"agent.server_addr=ftp://x", "keeping vsock://-1:1024"}},
		{"agent.guest_components_procs=x",
		 {"not one of none, attestation-agent", "keeping api"}},
		{"agent.trace=maybe", {"not a boolean", "keeping false"}},
		{"agent.no_proxy=", {"empty", "keeping it unset"}},
	};
	for (size_t i = 0; i < ARRAY_SIZE(msgs); i++) {
		agent_config_init(&c);
		agent_config_parse_cmdline(&c, msgs[i].line, strlen(msgs[i].line));
		ASSERT_EQ(c.n_warnings, 1);
		for (size_t k = 0; k < 2; k++)
			if (!strstr(c.warnings[0], msgs[i].needles[k]))
				FAIL("[%s]: warning \"%s\" lacks \"%s\"", msgs[i].line,
				     c.warnings[0], msgs[i].needles[k]);
		agent_config_release(&c);
	}
}

/* --- the TOML file ------------------------------------------------------------------------ */

static const struct row toml_rows[] = {
	/* booleans: TOML booleans only */
	{"debug_console = true", "debug_console", 1, NULL, QUIET},
	{"debug_console = false", "debug_console", 0, NULL, QUIET},
	{"debug_console = 1", "debug_console", 0, NULL, WARN},
	{"debug_console = \"true\"", "debug_console", 0, NULL, WARN},
	{"dev_mode = true", "dev_mode", 1, NULL, QUIET},
	{"dev_mode = true", "log_level", LOG_LEVEL_DEBUG, NULL, QUIET},
	{"dev_mode = true\nlog_level = \"trace\"", "log_level", LOG_LEVEL_TRACE, NULL, QUIET},
	{"tracing = true", "tracing", 1, NULL, QUIET},
	{"tracing = [true]", "tracing", 0, NULL, WARN},
	{"unified_cgroup_hierarchy = true", "unified_cgroup_hierarchy", 1, NULL, QUIET},
	{"cgroup_no_v1 = \"all\"", "unified_cgroup_hierarchy", 0, NULL, QUIET},
	{"visible_cdi_devices = true", "visible_cdi_devices", 1, NULL, QUIET},
	{"secure_storage_integrity = false", "secure_storage_integrity", 0, NULL, QUIET},
	{"mem_agent_enable = true", "mem_agent_enable", 1, NULL, QUIET},
	{"mem_agent_compact_period_secs = 15", "mem_agent_compact.period_secs", 15, NULL, QUIET},
	{"mem_agent_compact_order = \"9\"", "mem_agent_compact.order", -1, NULL, WARN},
	{"mem_agent_compact_disable = true", "mem_agent_compact.disable", 1, NULL, QUIET},
	{"mem_agent_memcg_swap = true\n[mem_agent]\nx = 1", "mem_agent_enable", 0, NULL, QUIET},
	/* log level */
	{"log_level = \"debug\"", "log_level", LOG_LEVEL_DEBUG, NULL, QUIET},
	{"log_level = \"warning\"", "log_level", LOG_LEVEL_WARN, NULL, QUIET},
	{"log_level = \"loud\"", "log_level", LOG_LEVEL_INFO, NULL, WARN},
	{"log_level = 1", "log_level", LOG_LEVEL_INFO, NULL, WARN},
	/* strings */
	{"server_addr = \"unix:///run/x.sock\"", "server_addr", 0, "unix:///run/x.sock", QUIET},
	{"server_addr = \"\"", "server_addr", 0, "vsock://-1:1024", WARN},
	{"server_addr = \"tcp://1.2.3.4:80\"", "server_addr", 0, "vsock://-1:1024", WARN},
	{"server_addr = 1024", "server_addr", 0, "vsock://-1:1024", WARN},
	{"https_proxy = \"http://p:3128\"", "https_proxy", 0, "http://p:3128", QUIET},
	{"no_proxy = \"*.local\"", "no_proxy", 0, "*.local", QUIET},
	{"no_proxy = true", "no_proxy", 0, NONE, WARN},
	{"policy_file = \"/etc/kata/policy.rego\"", "policy_file", 0, "/etc/kata/policy.rego",
	 QUIET},
	{"guest_components_rest_api = \"attestation\"", "guest_components_rest_api", 0,
	 "attestation", QUIET},
	{"guest_components_rest_api = \"nope\"", "guest_components_rest_api", 0, "resource", WARN},
	{"guest_components_procs = \"confidential-data-hub\"", "guest_components_procs", 0,
	 "confidential-data-hub", QUIET},
	/* integers */
	{"debug_console_vport = 1026", "debug_console_vport", 1026, NULL, QUIET},
	{"debug_console_vport = 1024", "debug_console_vport", 0, NULL, WARN},
	{"debug_console_vport = 0", "debug_console_vport", 0, NULL, QUIET},
	{"debug_console_vport = -1", "debug_console_vport", 0, NULL, WARN},
	{"debug_console_vport = \"1026\"", "debug_console_vport", 0, NULL, WARN},
	{"log_vport = 1025", "log_vport", 1025, NULL, QUIET},
	{"log_vport = 2147483647", "log_vport", INT32_MAX, NULL, QUIET},
	{"log_vport = 2147483648", "log_vport", 0, NULL, WARN},
	{"log_vport = 1.5", "log_vport", 0, NULL, WARN},
	{"container_pipe_size = 0x10000", "container_pipe_size", 65536, NULL, QUIET},
	{"container_pipe_size = 1_048_576", "container_pipe_size", 1048576, NULL, QUIET},
	{"container_pipe_size = -1", "container_pipe_size", 0, NULL, WARN},
	{"container_pipe_size = 2147483648", "container_pipe_size", 0, NULL, WARN},
	{"passfd_listener_port = 1027", "passfd_listener_port", 1027, NULL, QUIET},
	{"passfd_listener_port = -9223372036854775808", "passfd_listener_port", 0, NULL, WARN},
	/* durations: upstream's serialised forms, seconds, Go strings */
	{"hotplug_timeout = { secs = 7, nanos = 500000000 }", "hotplug_timeout_ms", 7500, NULL,
	 QUIET},
	{"hotplug_timeout = { secs = 7 }", "hotplug_timeout_ms", 7000, NULL, QUIET},
	{"hotplug_timeout = { secs = 0, nanos = 1 }", "hotplug_timeout_ms", 1, NULL, QUIET},
	{"[hotplug_timeout]\nsecs = 4\nnanos = 0", "hotplug_timeout_ms", 4000, NULL, QUIET},
	{"hotplug_timeout = [2, 250000000]", "hotplug_timeout_ms", 2250, NULL, QUIET},
	{"hotplug_timeout = 9", "hotplug_timeout_ms", 9000, NULL, QUIET},
	{"hotplug_timeout = \"250ms\"", "hotplug_timeout_ms", 250, NULL, QUIET},
	{"hotplug_timeout = \"1m\"", "hotplug_timeout_ms", 60000, NULL, QUIET},
	{"hotplug_timeout = { secs = 0, nanos = 0 }", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"hotplug_timeout = 0", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"hotplug_timeout = -1", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"hotplug_timeout = { nanos = 5 }", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"hotplug_timeout = { secs = 1, nanos = 1000000000 }", "hotplug_timeout_ms", 3000, NULL,
	 WARN},
	{"hotplug_timeout = { secs = \"1\" }", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"hotplug_timeout = { secs = 9223372037 }", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"hotplug_timeout = [1]", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"hotplug_timeout = [1, 2, 3]", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"hotplug_timeout = \"soon\"", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"hotplug_timeout = 1.5", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"hotplug_timeout = true", "hotplug_timeout_ms", 3000, NULL, WARN},
	{"cdh_api_timeout = { secs = 20, nanos = 0 }", "cdh_api_timeout_ms", 20000, NULL, QUIET},
	{"image_pull_timeout = [600, 0]", "image_pull_timeout_ms", 600000, NULL, QUIET},
	{"launch_process_timeout = 3", "launch_process_timeout_ms", 3000, NULL, QUIET},
	{"cdi_timeout = \"2m\"", "cdi_timeout_ms", 120000, NULL, QUIET},
	{"cdi_timeout = \"\"", "cdi_timeout_ms", 100000, NULL, WARN},
	/* not settable from the file, or not ours */
	{"config_file = \"/x\"", "config_file", 0, NONE, QUIET},
	{"unknown = [1, { a = 2 }]\n[other]\nlog_level = \"debug\"", "log_level", LOG_LEVEL_INFO,
	 NULL, QUIET},
};

TEST(toml_every_key)
{
	for (size_t i = 0; i < ARRAY_SIZE(toml_rows); i++) {
		const struct row *r = &toml_rows[i];
		struct agent_config c;
		_cleanup_error_ agent_error_t *err = NULL;
		agent_config_init(&c);
		if (agent_config_parse_toml(&c, r->input, strlen(r->input), &err) < 0)
			FAIL("toml row %zu [%s]: %s", i, r->input, err ? err->msg : "?");
		check_row(&c, r, "toml", i);
		agent_config_release(&c);
	}
}

TEST(toml_warnings_name_line_key_and_value)
{
	struct agent_config c;
	_cleanup_error_ agent_error_t *err = NULL;
	const char *t = "# agent\n\nlog_vport = \"x\"\ndebug_console = 3\n"
			"[hotplug_timeout]\nsecs = -2\n";
	agent_config_init(&c);
	ASSERT_EQ(agent_config_parse_toml(&c, t, strlen(t), &err), 0);
	ASSERT_EQ(c.n_warnings, 3);
	ASSERT_NOT_NULL(strstr(c.warnings[0], "line 3: log_vport = \"x\""));
	ASSERT_NOT_NULL(strstr(c.warnings[0], "expects an integer, not a string"));
	ASSERT_NOT_NULL(strstr(c.warnings[1], "line 4: debug_console = 3"));
	ASSERT_NOT_NULL(strstr(c.warnings[2], "line 5: hotplug_timeout"));
	agent_config_release(&c);
}

TEST(toml_syntax_error_leaves_config_unchanged)
{
	struct agent_config c;
	agent_config_init(&c);
	const char *cl = "agent.log=error agent.trace";
	agent_config_parse_cmdline(&c, cl, strlen(cl));

	static const char *const bad[] = {
		"log_level = \"debug\"\nserver_addr = \n",
		"tracing = false\ndebug_console = true\n[t]\n[t]\n",
		"log_level = \"debug\"\nx = \"unterminated\n",
		"log_level = \"debug\"\nlog_level = \"trace\"\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_error_ agent_error_t *err = NULL;
		ASSERT_TRUE(agent_config_parse_toml(&c, bad[i], strlen(bad[i]), &err) < 0);
		ASSERT_NOT_NULL(err);
		ASSERT_NOT_NULL(strstr(err->msg, "line "));
		ASSERT_EQ(c.log_level, LOG_LEVEL_ERROR);
		ASSERT_TRUE(c.tracing);
		ASSERT_FALSE(c.debug_console);
		ASSERT_STREQ(c.server_addr, CONFIG_DEFAULT_SERVER_ADDR);
		ASSERT_EQ(c.n_warnings, 0);
	}
	agent_config_release(&c);
}

/* --- environment -------------------------------------------------------------------------- */

TEST(environment_overrides)
{
	static const struct {
		const char *env[3];
		struct row r;
	} cases[] = {
		{{"KATA_AGENT_SERVER_ADDR=unix:///env", NULL},
		 {"", "server_addr", 0, "unix:///env", QUIET}},
		{{"KATA_AGENT_SERVER_ADDR=", NULL},
		 {"", "server_addr", 0, "vsock://-1:1024", WARN}},
		{{"KATA_AGENT_SERVER_ADDR=nope", NULL},
		 {"", "server_addr", 0, "vsock://-1:1024", WARN}},
		{{"KATA_AGENT_LOG_LEVEL=trace", NULL},
		 {"", "log_level", LOG_LEVEL_TRACE, NULL, QUIET}},
		{{"KATA_AGENT_LOG_LEVEL=verbose", NULL},
		 {"", "log_level", LOG_LEVEL_INFO, NULL, WARN}},
		{{"KATA_AGENT_LOG_LEVEL=error", "KATA_AGENT_LOG_LEVEL=debug", NULL},
		 {"", "log_level", LOG_LEVEL_DEBUG, NULL, QUIET}},
		{{"KATA_AGENT_TRACING=true", NULL}, {"", "tracing", 1, NULL, QUIET}},
		{{"KATA_AGENT_TRACING=1", NULL}, {"", "tracing", 1, NULL, QUIET}},
		{{"KATA_AGENT_TRACING=nah", NULL}, {"", "tracing", 0, NULL, WARN}},
		{{"KATA_AGENT_POLICY_FILE=/p.rego", NULL},
		 {"", "policy_file", 0, "/p.rego", QUIET}},
		{{"KATA_AGENT_SERVER_ADDRESS=unix:///x", "kata_agent_log_level=debug", NULL},
		 {"", "server_addr", 0, "vsock://-1:1024", QUIET}},
		{{"KATA_AGENT_LOG_LEVEL", "KATA_AGENT_TRACING", NULL},
		 {"", "tracing", 0, NULL, QUIET}},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct agent_config c;
		agent_config_init(&c);
		agent_config_apply_env(&c, cases[i].env);
		check_row(&c, &cases[i].r, "env", i);
		agent_config_release(&c);
	}
	struct agent_config c;
	agent_config_init(&c);
	agent_config_apply_env(&c, NULL);
	ASSERT_EQ(c.n_warnings, 0);
	agent_config_release(&c);
}

/* --- the whole load: sources and precedence ----------------------------------------------- */

static void load(struct agent_config *c, int argc, char **argv, const char *const *envp)
{
	agent_config_init(c);
	agent_config_load(c, argc, argv, envp);
}

static void assert_warning(const struct agent_config *c, const char *needle)
{
	for (size_t i = 0; i < c->n_warnings; i++)
		if (strstr(c->warnings[i], needle))
			return;
	FAIL("no warning contains \"%s\" (%zu warnings%s%s)", needle, c->n_warnings,
	     c->n_warnings ? ", first: " : "", c->n_warnings ? c->warnings[0] : "");
}

TEST(load_config_file_token_stops_the_parse_and_the_file_alone_configures)
{
	_cleanup_free_ char *toml =
		write_temp_str("log_level = \"warn\"\nserver_addr = \"unix:///from-file\"\n"
			       "hotplug_timeout = { secs = 7, nanos = 500000000 }\n"
			       "container_pipe_size = 65536\ndebug_console = true\n"
			       "log_vport = \"oops\"\n");
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "agent.trace agent.log_vport=x agent.config_file=%s agent.log=trace "
		 "agent.devmode",
		 toml);
	_cleanup_free_ char *cl = write_temp_str(cmd);
	char *argv[] = {"kata-agent", "--cmdline-file", cl, NULL};
	const char *envp[] = {"KATA_AGENT_SERVER_ADDR=unix:///from-env", "KATA_AGENT_TRACING=1",
			      NULL};
	struct agent_config c;
	load(&c, 3, argv, envp);
	ASSERT_EQ(c.log_level, LOG_LEVEL_WARN); /* tokens after the file are not read */
	ASSERT_FALSE(c.dev_mode);
	ASSERT_FALSE(c.tracing); /* tokens before are discarded, and so is the environment */
	ASSERT_STREQ(c.server_addr, "unix:///from-file");
	ASSERT_EQ(c.hotplug_timeout_ms, 7500);
	ASSERT_EQ(c.container_pipe_size, 65536);
	ASSERT_TRUE(c.debug_console);
	ASSERT_STREQ(c.config_file, toml);
	ASSERT_STREQ(c.cmdline_path, cl);
	/* Warnings from both: the discarded token's, then the file's. */
	ASSERT_EQ(c.n_warnings, 2);
	ASSERT_NOT_NULL(strstr(c.warnings[0], "agent.log_vport=x"));
	ASSERT_NOT_NULL(strstr(c.warnings[1], "line 6: log_vport"));
	agent_config_release(&c);
	unlink(toml);
	unlink(cl);
}

TEST(load_missing_or_bad_config_file_keeps_the_command_line)
{
	_cleanup_free_ char *bad = write_temp_str("log_level = \"debug\"\n\nthis is not toml\n");
	_cleanup_free_ char *dir = strdup("/tmp/kata-cfg-dir-XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(dir));
	const char *files[] = {"/nonexistent/agent.toml", bad, dir};
	const char *why[] = {"No such file", "line 3", "directory"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "agent.trace agent.config_file=%s agent.devmode",
			 files[i]);
		_cleanup_free_ char *cl = write_temp_str(cmd);
		char *argv[] = {"kata-agent", "--cmdline-file", cl, NULL};
		const char *envp[] = {"KATA_AGENT_LOG_LEVEL=trace", NULL};
		struct agent_config c;
		load(&c, 3, argv, envp);
		ASSERT_TRUE(c.tracing);
		ASSERT_TRUE(c.dev_mode); /* the parse resumed after the file's token */
		ASSERT_EQ(c.log_level, LOG_LEVEL_TRACE); /* environment applied */
		ASSERT_NULL(c.config_file);
		ASSERT_EQ(c.n_warnings, 1);
		assert_warning(&c, files[i]);
		assert_warning(&c, why[i]);
		agent_config_release(&c);
		unlink(cl);
	}
	unlink(bad);
	rmdir(dir);
}

TEST(load_second_config_file_token_after_a_missing_one)
{
	_cleanup_free_ char *toml = write_temp_str("log_level = \"error\"\n");
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "agent.config_file=/nonexistent agent.config_file=%s agent.trace", toml);
	_cleanup_free_ char *cl = write_temp_str(cmd);
	char *argv[] = {"kata-agent", "--cmdline-file", cl, NULL};
	struct agent_config c;
	load(&c, 3, argv, NULL);
	ASSERT_EQ(c.log_level, LOG_LEVEL_ERROR);
	ASSERT_FALSE(c.tracing);
	ASSERT_STREQ(c.config_file, toml);
	ASSERT_EQ(c.n_warnings, 1);
	assert_warning(&c, "/nonexistent");
	agent_config_release(&c);
	unlink(toml);
	unlink(cl);
}

TEST(load_argv_config_wins_then_env_then_our_flags)
{
	_cleanup_free_ char *toml =
		write_temp_str("log_level = \"debug\"\nserver_addr = \"unix:///file\"\n"
			       "tracing = false\nhotplug_timeout = [2, 0]\n");
	_cleanup_free_ char *cl = write_temp_str("agent.devmode agent.hotplug_timeout=9");
	const char *envp[] = {"KATA_AGENT_SERVER_ADDR=unix:///env", "KATA_AGENT_TRACING=true",
			      "KATA_AGENT_LOG_LEVEL=nonsense", NULL};
	char *forms[][2] = {{"-c", toml}, {"--config", toml}};
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		char *argv[] = {"kata-agent", "--cmdline-file", cl,	 forms[i][0],
				forms[i][1],  "--log-level",	"error", NULL};
		struct agent_config c;
		load(&c, 7, argv, envp);
		ASSERT_STREQ(c.config_file, toml);
		ASSERT_FALSE(c.dev_mode); /* the command line is not read */
		ASSERT_EQ(c.hotplug_timeout_ms, 2000);
		ASSERT_STREQ(c.server_addr, "unix:///env"); /* env over the file */
		ASSERT_TRUE(c.tracing);
		ASSERT_EQ(c.log_level, LOG_LEVEL_ERROR); /* --log-level over everything */
		ASSERT_EQ(c.n_warnings, 1); /* the invalid KATA_AGENT_LOG_LEVEL */
		assert_warning(&c, "KATA_AGENT_LOG_LEVEL=nonsense");
		agent_config_release(&c);
	}

	char arg[256];
	snprintf(arg, sizeof(arg), "--config=%s", toml);
	char *argv2[] = {"kata-agent", arg, "--server-addr=unix:///flag", NULL};
	struct agent_config c;
	load(&c, 3, argv2, envp);
	ASSERT_STREQ(c.server_addr, "unix:///flag");
	ASSERT_EQ(c.log_level, LOG_LEVEL_DEBUG);
	agent_config_release(&c);
	unlink(toml);
	unlink(cl);
}

TEST(load_argv_config_missing_falls_back_to_the_command_line)
{
	_cleanup_free_ char *cl = write_temp_str("agent.devmode agent.hotplug_timeout=9\n");
	char *argv[] = {"kata-agent", "-c", "/nonexistent/c.toml", "--cmdline-file", cl, NULL};
	const char *envp[] = {"KATA_AGENT_TRACING=on", NULL};
	struct agent_config c;
	load(&c, 5, argv, envp);
	ASSERT_TRUE(c.dev_mode);
	ASSERT_EQ(c.hotplug_timeout_ms, 9000);
	ASSERT_TRUE(c.tracing);
	ASSERT_NULL(c.config_file);
	ASSERT_EQ(c.n_warnings, 1);
	assert_warning(&c, "/nonexistent/c.toml");
	agent_config_release(&c);
	unlink(cl);
}

TEST(load_argv_edge_cases)
{
	/* Unknown arguments and flags without values warn; --version is main's. */
	_cleanup_free_ char *cl = write_temp_str("");
	char *argv[] = {
		"kata-agent",	  "--cmdline-file", cl,	     "--version", "-V", "--frobnicate",
		"--server-addr=", "--log-level",    "bogus", "-c",	  NULL};
	struct agent_config c;
	load(&c, 10, argv, NULL);
	ASSERT_EQ(c.n_warnings, 4);
	assert_warning(&c, "unknown argument --frobnicate");
	assert_warning(&c, "--server-addr needs a value");
	assert_warning(&c, "--log-level: unknown log level");
	assert_warning(&c, "--config needs a value");
	ASSERT_EQ(c.log_level, LOG_LEVEL_INFO);
	ASSERT_STREQ(c.server_addr, CONFIG_DEFAULT_SERVER_ADDR);
	agent_config_release(&c);

	/* An unreadable command line: defaults, the environment, a warning. */
	char *argv2[] = {"kata-agent", "--cmdline-file", "/nonexistent/cmdline", NULL};
	const char *envp[] = {"KATA_AGENT_LOG_LEVEL=debug", NULL};
	load(&c, 3, argv2, envp);
	ASSERT_EQ(c.log_level, LOG_LEVEL_DEBUG);
	ASSERT_EQ(c.n_warnings, 1);
	assert_warning(&c, "/nonexistent/cmdline");
	agent_config_release(&c);

	/* A FIFO is refused rather than waited on. */
	char fifo[] = "/tmp/kata-cfg-fifo-XXXXXX";
	int fd = mkstemp(fifo);
	ASSERT_TRUE(fd >= 0);
	close(fd);
	unlink(fifo);
	ASSERT_EQ(mkfifo(fifo, 0600), 0);
	char *argv3[] = {"kata-agent", "--cmdline-file", fifo, NULL};
	load(&c, 3, argv3, NULL);
	ASSERT_EQ(c.n_warnings, 1);
	assert_warning(&c, fifo);
	agent_config_release(&c);
	unlink(fifo);
	unlink(cl);
}

TEST(load_config_file_over_one_mebibyte_is_refused)
{
	size_t big = CONFIG_FILE_MAX + 1;
	_cleanup_free_ char *text = malloc(big);
	memset(text, '#', big);
	memcpy(text, "log_level = \"debug\"\n", 20);
	_cleanup_free_ char *toml = write_temp(text, big);
	char *argv[] = {"kata-agent", "-c", toml, "--cmdline-file", "/nonexistent", NULL};
	struct agent_config c;
	load(&c, 5, argv, NULL);
	ASSERT_EQ(c.log_level, LOG_LEVEL_INFO);
	assert_warning(&c, "larger than");
	agent_config_release(&c);
	unlink(toml);
}

/* --- value parsers ------------------------------------------------------------------------ */

TEST(duration_parser)
{
	static const struct {
		const char *s;
		int ret;
		unsigned long long ms;
	} cases[] = {
		{"5", 0, 5000},
		{"0", 0, 0},
		{"007", 0, 7000},
		{"1h2m3.5s", 0, 3723500},
		{"500ms", 0, 500},
		{"1.5h", 0, 5400000},
		{".5s", 0, 500},
		{"1.s", 0, 1000},
		{"10us", 0, 1}, /* rounded up to a whole millisecond */
		{"7ns", 0, 1},
		{"1500us", 0, 2},
		{"1\xc2\xb5s", 0, 1},
		{"1\xce\xbcs", 0, 1},
		{"2m", 0, 120000},
		{"1m1ms", 0, 60001},
		{"0s", 0, 0},
		{"0.000000001s", 0, 1},
		{"1.0000000000000000000000001s", 0, 1000}, /* digits past precision are dropped */
		{"2562047h", 0, 2562047ULL * 3600 * 1000},
		{"9223372036", 0, 9223372036000ULL},
		{"9223372036854775807ns", 0, 9223372036855ULL},
		{"", -EINVAL, 0},
		{"s", -EINVAL, 0},
		{".s", -EINVAL, 0},
		{".", -EINVAL, 0},
		{"-1s", -EINVAL, 0},
		{"+1s", -EINVAL, 0},
		{"-1", -EINVAL, 0},
		{"1x", -EINVAL, 0},
		{"1.5", -EINVAL, 0},
		{"1s2", -EINVAL, 0},
		{"1 s", -EINVAL, 0},
		{" 1s", -EINVAL, 0},
		{"1sec", -EINVAL, 0},
		{"1S", -EINVAL, 0},
		{"1h-1m", -EINVAL, 0},
		{"99999999999999h", -ERANGE, 0},
		{"2562048h", -ERANGE, 0},
		{"9223372037", -ERANGE, 0},
		{"99999999999999999999", -ERANGE, 0},
		{"9223372036854775808ns", -ERANGE, 0},
		{"2562047h47m16.854775808s", -ERANGE, 0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t ms = 4242;
		int r = parse_go_duration_ms(cases[i].s, &ms);
		if (r != cases[i].ret)
			FAIL("\"%s\": returned %d, want %d", cases[i].s, r, cases[i].ret);
		if (r == 0 && ms != cases[i].ms)
			FAIL("\"%s\": %llu ms, want %llu", cases[i].s, (unsigned long long)ms,
			     cases[i].ms);
		if (r < 0 && ms != 4242)
			FAIL("\"%s\": output written on error", cases[i].s);
	}
	uint64_t ns = 0;
	ASSERT_EQ(parse_go_duration_ns("1h2m3.000000004s", &ns), 0);
	ASSERT_TRUE(ns == 3723000000004ULL);
	ASSERT_EQ(parse_go_duration_ns("2562047h47m16.854775807s", &ns), 0);
	ASSERT_TRUE(ns == (uint64_t)INT64_MAX);

	uint64_t ms = 0;
	ASSERT_EQ(duration_ms_from_secs_nanos(3, 1, &ms), 0);
	ASSERT_EQ(ms, 3001);
	ASSERT_EQ(duration_ms_from_secs_nanos(0, 0, &ms), 0);
	ASSERT_EQ(ms, 0);
	ASSERT_EQ(duration_ms_from_secs_nanos(-1, 0, &ms), -EINVAL);
	ASSERT_EQ(duration_ms_from_secs_nanos(1, -1, &ms), -EINVAL);
	ASSERT_EQ(duration_ms_from_secs_nanos(1, 1000000000, &ms), -EINVAL);
	ASSERT_EQ(duration_ms_from_secs_nanos(9223372036, 854775807, &ms), 0);
	ASSERT_EQ(duration_ms_from_secs_nanos(9223372036, 854775808, &ms), -ERANGE);
	ASSERT_EQ(duration_ms_from_secs_nanos(INT64_MAX, 0, &ms), -ERANGE);
}

TEST(bool_and_int_parsers)
{
	static const struct {
		const char *s;
		int ret;
		bool v;
	} bools[] = {
		{"1", 0, true},	    {"true", 0, true}, {"TRUE", 0, true},   {"yes", 0, true},
		{"on", 0, true},    {"0", 0, false},   {"false", 0, false}, {"no", 0, false},
		{"off", 0, false},  {"", -EINVAL, 0},  {"2", -EINVAL, 0},   {"truee", -EINVAL, 0},
		{" 1", -EINVAL, 0}, {"t", -EINVAL, 0}, {NULL, -EINVAL, 0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bools); i++) {
		bool b = !bools[i].v;
		int r = parse_bool_strict(bools[i].s, &b);
		if (r != bools[i].ret || (r == 0 && b != bools[i].v))
			FAIL("bool \"%s\": %d/%d", bools[i].s ? bools[i].s : "(null)", r, b);
	}
	static const struct {
		const char *s;
		int ret;
		int32_t v;
	} ints[] = {
		{"0", 0, 0},
		{"-0", 0, 0},
		{"42", 0, 42},
		{"-42", 0, -42},
		{"007", 0, 7},
		{"2147483647", 0, INT32_MAX},
		{"-2147483648", 0, INT32_MIN},
		{"2147483648", -ERANGE, 0},
		{"-2147483649", -ERANGE, 0},
		{"99999999999999999999999999", -ERANGE, 0},
		{"", -EINVAL, 0},
		{"-", -EINVAL, 0},
		{"+1", -EINVAL, 0},
		{" 1", -EINVAL, 0},
		{"1 ", -EINVAL, 0},
		{"0x10", -EINVAL, 0},
		{"1e3", -EINVAL, 0},
		{"--1", -EINVAL, 0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
		int32_t v = 12345;
		int r = parse_i32(ints[i].s, &v);
		if (r != ints[i].ret || (r == 0 && v != ints[i].v) || (r < 0 && v != 12345))
			FAIL("i32 \"%s\": %d/%d", ints[i].s, r, v);
	}
}

/* --- JSON --------------------------------------------------------------------------------- */

TEST(config_renders_as_json)
{
	struct agent_config c;
	_cleanup_error_ agent_error_t *err = NULL;
	agent_config_init(&c);
	const char *t = "no_proxy = \"a\\\"b\\\\c\\u0001\\n\xc3\xa9\"\n"
			"server_addr = \"unix:///q\\\"uote\"\nhotplug_timeout = \"1m\"\n"
			"debug_console_vport = 1026\ndev_mode = true\n";
	ASSERT_EQ(agent_config_parse_toml(&c, t, strlen(t), &err), 0);
	_cleanup_free_ char *j = agent_config_to_json(&c);
	ASSERT_NOT_NULL(j);

	json_object *o = json_tokener_parse(j);
	if (!o)
		FAIL("not JSON: %s", j);
	json_object *v;
	ASSERT_TRUE(json_object_object_get_ex(o, "no_proxy", &v));
	ASSERT_STREQ(json_object_get_string(v), "a\"b\\c\x01\n\xc3\xa9");
	ASSERT_TRUE(json_object_object_get_ex(o, "server_addr", &v));
	ASSERT_STREQ(json_object_get_string(v), "unix:///q\"uote");
	ASSERT_TRUE(json_object_object_get_ex(o, "hotplug_timeout_ms", &v));
	ASSERT_EQ(json_object_get_int64(v), 60000);
	ASSERT_TRUE(json_object_object_get_ex(o, "log_level", &v));
	ASSERT_STREQ(json_object_get_string(v), "debug");
	ASSERT_TRUE(json_object_object_get_ex(o, "dev_mode", &v));
	ASSERT_TRUE(json_object_get_boolean(v));
	ASSERT_TRUE(json_object_object_get_ex(o, "debug_console_vport", &v));
	ASSERT_EQ(json_object_get_int(v), 1026);
	ASSERT_TRUE(json_object_object_get_ex(o, "config_file", &v));
	ASSERT_NULL(v);
	ASSERT_TRUE(json_object_object_get_ex(o, "secure_storage_integrity", &v));
	ASSERT_TRUE(json_object_get_boolean(v));
	ASSERT_TRUE(json_object_object_get_ex(o, "image_pull_timeout_ms", &v));
	ASSERT_EQ(json_object_get_int64(v), 1200000);
	/* Every field of the struct is rendered. */
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		char key[64];
		snprintf(key, sizeof(key), "%s", fields[i].name);
		for (char *d = strchr(key, '.'); d; d = strchr(d, '.'))
			*d = '_'; /* nested fields render flat, as upstream names the options */
		if (!json_object_object_get_ex(o, key, NULL))
			FAIL("JSON lacks %s: %s", key, j);
	}
	json_object_put(o);
	agent_config_release(&c);
}
