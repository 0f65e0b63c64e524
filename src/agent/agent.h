/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one agent context: everything the agent holds lives here, created by
 * main and passed down. No other mutable global state exists, except the
 * logger pointer that log_install() sets to &agent->logger.
 */
#ifndef AGENT_AGENT_AGENT_H
#define AGENT_AGENT_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/log.h"
#include "config/config.h"
#include "loop/loop.h"
#include "loop/reaper.h"
#include "rpc/server.h"
#include "sandbox/sandbox.h"

struct log_port;
struct debug_console;
struct tracer;
struct spawn_job;

struct agent {
	struct agent_config cfg;
	struct logger logger;
	struct loop_io *logger_io; /* armed for EPOLLOUT while log lines are pending */
	struct log_port *log_port; /* agent.log_vport listener, NULL when logging to stderr */
	struct loop *loop;
	struct reaper reaper;
	struct rpc_server *server;
	struct rpc_service agent_service;
	struct sandbox sandbox;
	struct debug_console *console; /* agent.debug_console, or NULL */
	struct tracer *tracer; /* agent.trace, or NULL */
	struct spawn_job *late_modules; /* while the late boot modules load (late-modules.c) */
	bool init_mode; /* we are PID 1 */
	uint64_t start_ms;
};

/* Sets up logging, signals, the reaper and the server from agent->cfg. */
int agent_start(struct agent *agent, agent_error_t **err);
void agent_stop(struct agent *agent);

/* late-modules.c: as PID 1, load INIT_LATE_MODULES beside the loop, AgentService held meanwhile. */
void agent_late_modules_start(struct agent *agent);
void agent_late_modules_stop(struct agent *agent);
/* logsink.c: keep the logger's output flowing from the loop, never blocking. */
int agent_logsink_attach(struct agent *agent, int fd, bool owned);
/* logport.c: serve the log stream on a vsock port to one reader at a time. */
int agent_logport_start(struct agent *agent, uint32_t port, agent_error_t **err);
void agent_logport_stop(struct agent *agent);

#endif
