/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Serve first, finish booting beside the loop. As PID 1 the agent loads before it listens
 * only the modules its API transport needs (INIT_BOOT_MODULES); the rest of the guest's
 * drivers (INIT_LATE_MODULES: block, net, filesystems, VFIO ...) load in a child process
 * while the loop already answers. Until that child is done the AgentService is held at the
 * server's gate (rpc_server_set_gate): Health answers at once, and no call that might need
 * a driver runs before the drivers are in. The child is bounded by LATE_MODULES_TIMEOUT_MS;
 * whatever happens, the gate opens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent/agent.h"
#include "base/log.h"
#include "init/init.h"
#include "loop/spawn.h"

#define LATE_MODULES_TIMEOUT_MS 60000
#define LATE_MODULES_MAX_OUT 16384

/* In the child: each failure is one line on stderr; exit status 1 if any failed. */
static int load_late(void *arg)
{
	char *errors = NULL;
	int failed = init_load_modules(arg, &errors);
	if (errors)
		fputs(errors, stderr);
	free(errors);
	return failed > 0 ? -1 : 0;
}

static void late_done(const struct spawn_result *res, void *data)
{
	struct agent *agent = data;

	agent->late_modules = NULL;
	if (res->timed_out)
		log_error("init", "late modules still loading after %d s: serving without them",
			  LATE_MODULES_TIMEOUT_MS / 1000);
	else if (res->err && res->err[0])
		log_lines("init", LOG_LEVEL_ERROR, "late modules", res->err);
	log_info("init", "late modules loaded %llu ms after start",
		 (unsigned long long)(loop_now_ms() - agent->start_ms));
	rpc_server_set_gate(agent->server, false);
}

void agent_late_modules_start(struct agent *agent)
{
	_cleanup_error_ agent_error_t *err = NULL;

	if (access(INIT_LATE_MODULES, R_OK) < 0)
		return; /* an image without the split: everything was loaded before serving */
	rpc_server_set_gate(agent->server, true);
	if (spawn_call(agent->loop, &agent->reaper, "late-modules", load_late,
		       (void *)INIT_LATE_MODULES, LATE_MODULES_TIMEOUT_MS, LATE_MODULES_MAX_OUT,
		       late_done, agent, &agent->late_modules, &err) < 0) {
		log_error("init", "cannot load the late modules: %s", err->msg);
		rpc_server_set_gate(agent->server, false);
	}
}

void agent_late_modules_stop(struct agent *agent)
{
	if (agent->late_modules)
		spawn_abandon(agent->late_modules);
	agent->late_modules = NULL;
}
