/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's configuration: defaults, then the kernel command line (or a
 * TOML file), then environment overrides, then our own command-line flags.
 * Nothing here is ever fatal (the agent is PID 1): an invalid value adds a
 * warning naming it and keeps the value the field had. Library code does not
 * log: main logs the collected warnings once logging is set up.
 */
#ifndef AGENT_CONFIG_CONFIG_H
#define AGENT_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/log.h"
#include "config/duration.h"

#define CONFIG_DEFAULT_SERVER_ADDR "vsock://-1:1024"
#define CONFIG_DEFAULT_TRACE_ADDR "vsock://2:10240"
#define CONFIG_DEFAULT_CMDLINE_PATH "/proc/cmdline"
#define CONFIG_DEFAULT_HOTPLUG_TIMEOUT_MS 3000
#define CONFIG_DEFAULT_CDH_API_TIMEOUT_MS (50 * 1000)
#define CONFIG_DEFAULT_IMAGE_PULL_TIMEOUT_MS (1200 * 1000)
#define CONFIG_DEFAULT_LAUNCH_PROCESS_TIMEOUT_MS (6 * 1000)
#define CONFIG_DEFAULT_CDI_TIMEOUT_MS (100 * 1000)
#define CONFIG_CMDLINE_MAX (64u * 1024u) /* longer command lines are truncated */
#define CONFIG_FILE_MAX (1024u * 1024u) /* larger config files are refused */
#define CONFIG_VALUE_MAX 4096u /* longer string values are refused */
#define CONFIG_MAX_WARNINGS 64 /* then one "further warnings dropped" entry */
#define CONFIG_API_VPORT 1024
#define CONFIG_LOG_VPORT 1025

struct agent_config {
	enum log_level log_level; /* agent.log; default info */
	bool dev_mode; /* agent.devmode: coredumps allowed; implies debug logging */
	bool debug_console; /* agent.debug_console */
	/* agent.debug_unconfined_paths: container roots, bind sources and spec hooks anywhere in
	 * the guest (debugging only; off: below /run/kata-containers and the guest hook dir) */
	bool debug_unconfined_paths;
	int32_t debug_console_vport; /* 0 = /dev/console; 1024 and 1025 refused */
	int32_t log_vport; /* 0 = stderr */
	char *server_addr; /* default vsock://-1:1024 */
	char *trace_addr; /* where spans go with agent.trace; default vsock://2:10240 (the host) */
	uint64_t hotplug_timeout_ms; /* default 3000 */
	bool unified_cgroup_hierarchy; /* default false (cgroups v1) */
	int32_t container_pipe_size; /* 0 = kernel default */
	bool tracing; /* agent.trace */
	int32_t passfd_listener_port;
	char *config_file; /* agent.config_file or -c/--config; NULL if none */
	uint64_t cdh_api_timeout_ms; /* 50 s */
	uint64_t image_pull_timeout_ms; /* 1200 s */
	uint64_t launch_process_timeout_ms; /* 6 s */
	uint64_t cdi_timeout_ms; /* 100 s */
	bool visible_cdi_devices;
	char *https_proxy; /* NULL if unset */
	char *no_proxy; /* NULL if unset */
	char *guest_components_rest_api; /* all|attestation|resource; default resource */
	char *guest_components_procs; /* none|attestation-agent|confidential-data-hub|
					 api-server-rest; default api-server-rest */
	bool secure_storage_integrity; /* default true */
	bool mem_agent_enable;
	struct {
		bool disable;
		/* -1: not given (the mem-agent's default). */
		int64_t period_secs, period_psi_percent_limit, psi_percent_limit, sec_max, order,
			threshold, force_times;
	} mem_agent_compact; /* agent.mem_agent_compact_* */
	char *policy_file; /* TOML policy_file or KATA_AGENT_POLICY_FILE; NULL if unset */
	char *cmdline_path; /* where the kernel command line is read; default /proc/cmdline */

	/* Human-readable, one per problem, in the order met; main logs them. At most
	 * CONFIG_MAX_WARNINGS, then one last entry saying that more were dropped. */
	char **warnings;
	size_t n_warnings;
	bool warnings_dropped;
};

/* Defaults. */
void agent_config_init(struct agent_config *c);
/* Frees everything and zeroes c; safe to call twice. */
void agent_config_release(struct agent_config *c);
/* Adds a warning (bounded, see above). Never fails: on OOM the warning is lost. */
void agent_config_warn(struct agent_config *c, const char *fmt, ...) _printf_(2, 3);

/*
 * Each parser below applies on top of what c already holds and is never fatal.
 *
 * The kernel command line: tokens split on ASCII whitespace, double quotes
 * group as the kernel's own parser does, unknown tokens ignored, the last
 * valid occurrence wins, at most CONFIG_CMDLINE_MAX bytes read (a NUL ends it).
 * Returns true when an agent.config_file=PATH token stopped the parse (the path
 * is then in c->config_file and the tokens after it were not read).
 */
bool agent_config_parse_cmdline(struct agent_config *c, const char *cmdline, size_t len);
/*
 * A TOML configuration file's text. Values of the wrong type or
 * out of range add warnings. Returns <0 with err set (the message names the
 * line) only when the text is not TOML we can read; c is then unchanged.
 */
int agent_config_parse_toml(struct agent_config *c, const char *text, size_t len,
			    agent_error_t **err);
/* KATA_AGENT_SERVER_ADDR, KATA_AGENT_LOG_LEVEL, KATA_AGENT_TRACING, KATA_AGENT_POLICY_FILE. */
void agent_config_apply_env(struct agent_config *c, const char *const *envp);
/*
 * The whole load, in upstream's precedence:
 *   -c FILE / --config FILE: that TOML file on top of the defaults, then env;
 *   else the kernel command line (c->cmdline_path, or --cmdline-file PATH), then
 *   env; an agent.config_file=PATH token there stops the parse and the file
 *   alone configures (on top of the defaults, without env overrides).
 * A file that cannot be read or parsed adds a warning and the agent keeps what
 * it would have had without it. Our own --server-addr ADDR and --log-level LVL
 * (for running outside a VM) override everything. --version and -V are
 * main's; other arguments are ignored with a warning. c must be initialised.
 */
void agent_config_load(struct agent_config *c, int argc, char *const *argv,
		       const char *const *envp);
/* The whole configuration as one JSON object (for the start-up "announce" log record). NULL on
 * OOM. */
char *agent_config_to_json(const struct agent_config *c);

#endif
