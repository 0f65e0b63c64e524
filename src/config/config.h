/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's configuration: defaults, then the kernel command line (or a
 * TOML file), then environment overrides, then our own command-line flags.
 * Nothing here is ever fatal (the agent is PID 1): an invalid value adds a
 * warning and keeps the value it had. main logs the warnings.
 */
#ifndef AGENT_CONFIG_CONFIG_H
#define AGENT_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/log.h"

#define CONFIG_DEFAULT_SERVER_ADDR "vsock://-1:1024"
#define CONFIG_DEFAULT_HOTPLUG_TIMEOUT_MS 3000
#define CONFIG_CMDLINE_MAX (64u * 1024u)
#define CONFIG_MAX_WARNINGS 64
#define CONFIG_API_VPORT 1024
#define CONFIG_LOG_VPORT 1025

struct agent_config {
	enum log_level log_level;
	bool dev_mode;
	bool debug_console;
	int32_t debug_console_vport;
	int32_t log_vport;
	char *server_addr;
	uint64_t hotplug_timeout_ms;
	bool unified_cgroup_hierarchy;
	int32_t container_pipe_size;
	bool tracing;
	int32_t passfd_listener_port;
	char *config_file;
	uint64_t cdh_api_timeout_ms;
	uint64_t image_pull_timeout_ms;
	uint64_t launch_process_timeout_ms;
	uint64_t cdi_timeout_ms;
	bool visible_cdi_devices;
	char *https_proxy;
	char *no_proxy;
	char *guest_components_rest_api;
	char *guest_components_procs;
	bool secure_storage_integrity;
	bool mem_agent_enable;
	char *policy_file;
	char *cmdline_path;
	char **warnings;
	size_t n_warnings;
	bool warnings_dropped;
};

void agent_config_init(struct agent_config *c);
void agent_config_release(struct agent_config *c);
void agent_config_warn(struct agent_config *c, const char *fmt, ...) _printf_(2, 3);

/* Kernel command line tokens. Returns true when agent.config_file stopped the parse. */
bool agent_config_parse_cmdline(struct agent_config *c, const char *cmdline, size_t len);
/* A TOML configuration file's text. <0 when it is not TOML we can read; c is then unchanged. */
int agent_config_parse_toml(struct agent_config *c, const char *text, size_t len,
			    agent_error_t **err);
void agent_config_apply_env(struct agent_config *c, const char *const *envp);
void agent_config_load(struct agent_config *c, int argc, char *const *argv,
		       const char *const *envp);
/* The whole configuration as one JSON object (for the start-up log record). */
char *agent_config_to_json(const struct agent_config *c);

/* Go duration ("1h2m3.5s", "500ms", "10us", "1µs", "7ns") or a plain integer of seconds. */
int parse_go_duration_ms(const char *s, uint64_t *ret_ms);
/* 1|true|yes|on, 0|false|no|off. */
int parse_bool_strict(const char *s, bool *ret);
/* Decimal int32 with no trailing garbage. */
int parse_i32(const char *s, int32_t *ret);

#endif
