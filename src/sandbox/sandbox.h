/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox: the state the AgentService methods act on: containers and
 * their processes, the cgroup manager, the shared namespaces, the OOM queue.
 */
#ifndef AGENT_SANDBOX_SANDBOX_H
#define AGENT_SANDBOX_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>

#include "cgroups/cgroups.h"
#include "loop/loop.h"
#include "loop/reaper.h"
#include "sandbox/oom.h"
#include "storage/storage.h"

struct container;
struct sandbox_creating;
struct sandbox_job;
struct uevent_listener;
struct memagent;
struct passfd;

#define SANDBOX_RUN_DIR "/run/kata-containers"

struct sandbox_options {
	bool cgroup_v2; /* agent.unified_cgroup_hierarchy */
	int32_t pipe_size; /* agent.container_pipe_size, 0 = kernel default */
	bool inert; /* fuzzing: methods that change the guest refuse (EPERM) */
	uint64_t hotplug_timeout_ms; /* agent.hotplug_timeout: how long a device is waited for */
	bool unconfined_paths; /* agent.debug_unconfined_paths */
	uint64_t
		launch_timeout_ms; /* agent.launch_process_timeout: a launch step's limit, 0 none */
};

struct sandbox {
	struct loop *loop;
	struct reaper *reaper;
	struct oom_queue oom;
	struct sandbox_options opts;
	struct cgroup_manager *cgm; /* made on first use: NULL until then */
	struct container *containers;
	size_t n_containers;
	char *id;
	char *hostname;
	int self_pidns_fd; /* the agent's own pid namespace */
	int sandbox_pidns_fd; /* the first container's pid namespace, -1 until known */
	char *shared_ipc_ns, *shared_uts_ns; /* bind-mounted namespace paths, or NULL */
	struct Grpc__Hooks *guest_hooks; /* from CreateSandbox guest_hook_path, or NULL */
	char *guest_hook_path; /* CreateSandbox's guest_hook_path, or NULL */
	struct uevent_listener *uevents; /* devices seen and waited for; NULL if unavailable */
	struct storage_table storages;
	char **sandbox_storages; /* mount points CreateSandbox added */
	size_t n_sandbox_storages;
	struct rlimit child_nofile; /* RLIMIT_NOFILE as the agent got it: what containers get */
	struct rlimit child_core; /* RLIMIT_CORE likewise (the agent's own soft one is 0 outside
				     devmode) */
	struct sandbox_creating *creating; /* a CreateSandbox waiting for devices, or NULL */
	struct sandbox_job *jobs; /* guest calls finished later: AddSwap, OnlineCPUMem */
	struct memagent *memagent; /* agent.mem_agent_enable, or NULL */
	struct passfd *passfd; /* agent.passfd_listener_port's streams, or NULL when off */
	bool created;
};

void sandbox_init(struct sandbox *sb, struct loop *loop, struct reaper *reaper,
		  const struct sandbox_options *opts);
void sandbox_release(struct sandbox *sb);

/* The cgroup manager, made on first use. */
int sandbox_cgroups(struct sandbox *sb, struct cgroup_manager **ret, agent_error_t **err);

#endif
