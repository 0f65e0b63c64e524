/* SPDX-License-Identifier: Apache-2.0 */
#include "sandbox.h"

#include <fcntl.h>
#include <string.h>

#include "sandbox/container.h"
#include "sandbox/sandbox-setup.h"
#include "sandbox/job.h"
#include "sandbox/memagent.h"
#include "oci.pb-c.h"
#include "uevent/listener.h"

void sandbox_init(struct sandbox *sb, struct loop *loop, struct reaper *reaper,
		  const struct sandbox_options *opts)
{
	memset(sb, 0, sizeof(*sb));
	sb->loop = loop;
	sb->reaper = reaper;
	sb->storages.loop = loop;
	if (opts)
		sb->opts = *opts;
	sb->self_pidns_fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	sb->sandbox_pidns_fd = -1;
	/*
	 * The agent holds a few fds per container (pinned namespaces, stdio): raise its own
	 * limit, and give containers the limit the agent was started with.
	 */
	getrlimit(RLIMIT_NOFILE, &sb->child_nofile);
	getrlimit(RLIMIT_CORE, &sb->child_core);
	struct rlimit raised = sb->child_nofile;
	raised.rlim_cur = raised.rlim_max;
	setrlimit(RLIMIT_NOFILE, &raised);
	oom_queue_init(&sb->oom);
}

void sandbox_release(struct sandbox *sb)
{
	sandbox_create_abort(sb);
	sandbox_jobs_abort(sb);
	sb->memagent = memagent_free(sb->memagent);
	containers_destroy_all(sb, NULL);
	oom_queue_release(&sb->oom);
	storages_release(&sb->storages, sb->sandbox_storages, sb->n_sandbox_storages);
	storage_table_release(&sb->storages);
	sb->cgm = cgroup_manager_free(sb->cgm);
	sb->uevents = uevent_listener_free(sb->uevents);
	sb->self_pidns_fd = safe_close(sb->self_pidns_fd);
	sb->sandbox_pidns_fd = safe_close(sb->sandbox_pidns_fd);
	if (sb->guest_hooks)
		grpc__hooks__free_unpacked(sb->guest_hooks, NULL);
	free(sb->guest_hook_path);
	free(sb->id);
	free(sb->hostname);
	free(sb->shared_ipc_ns);
	free(sb->shared_uts_ns);
}

int sandbox_cgroups(struct sandbox *sb, struct cgroup_manager **ret, agent_error_t **err)
{
	if (!sb->cgm) {
		int r = cgroup_manager_new(sb->opts.cgroup_v2, &sb->cgm, err);
		if (r < 0)
			return r;
	}
	*ret = sb->cgm;
	return 0;
}
