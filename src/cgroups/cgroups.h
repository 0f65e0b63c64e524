/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cgroups behind one small interface, with a v1 and a v2 implementation
 * (struct cgroup_ops tables). The manager finds the hierarchies from
 * /proc/self/mountinfo, so it works with the guest's own mounts, a hybrid host
 * (v1 controllers plus a v2 mount), and a private cgroup2 mount in a test.
 *
 * A container's cgroup path is relative to each hierarchy's root
 * ("/kata/<cid>"). Nothing here logs; errors come back as agent_error_t.
 */
#ifndef AGENT_CGROUPS_CGROUPS_H
#define AGENT_CGROUPS_CGROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci.pb-c.h"
#include "agent.pb-c.h"

struct cgroup_manager; /* opaque: which version, where each hierarchy is mounted */
struct cgroup; /* opaque: one container's cgroup in every hierarchy */

/*
 * unified: true selects cgroup v2 (the cgroup2 mount, normally /sys/fs/cgroup),
 * false selects the v1 controller mounts. Fails when the selected kind is not
 * mounted. The manager outlives every cgroup made from it.
 */
int cgroup_manager_new(bool unified, struct cgroup_manager **ret, agent_error_t **err);
struct cgroup_manager *cgroup_manager_free(struct cgroup_manager *m);
bool cgroup_manager_is_v2(const struct cgroup_manager *m);

/*
 * Creates (mkdir -p) the cgroup at `path` ("/a/b", must be absolute, no "..",
 * bounded length) in every hierarchy; on v2 enables the available controllers
 * in the ancestors' cgroup.subtree_control. An existing directory is reused.
 * On failure nothing that this call created is left behind.
 */
int cgroup_create(struct cgroup_manager *m, const char *path, struct cgroup **ret,
		  agent_error_t **err);
/* Frees the handle only (the directories stay; see cgroup_destroy). */
struct cgroup *cgroup_free(struct cgroup *cg);
const char *cgroup_path(const struct cgroup *cg);

/*
 * Applies resources. update=false: at create time (v1 memory kmem accounting
 * write, pids.max=max when res->pids is absent, device whitelist from the
 * defaults plus res->devices). update=true: UpdateContainer semantics, only
 * what is set changes. Zero/empty proto values mean "unset".
 * Device rules are enforced on v1 (devices.allow/deny) and on v2 (an eBPF
 * BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup, replaced on
 * update). A value the kernel refuses fails with the file and value named.
 * Validation failures (bad device type/access, swappiness > 100) are
 * -EINVAL with status INVALID_ARGUMENT, before anything is written.
 * A resource requested for a controller that is not available fails with
 * -EOPNOTSUPP naming the controller; the create-time defaults (kmem
 * accounting, pids.max, v1 device whitelist) are skipped for absent
 * controllers. v2 ignores what has no v2 file (swappiness, kernel memory,
 * disableOOMKiller, realtime cpu).
 */
int cgroup_apply(struct cgroup *cg, const Grpc__LinuxResources *res, bool update,
		 agent_error_t **err);

/* Validates resources without touching the kernel (used before creating anything). */
int cgroup_resources_validate(const Grpc__LinuxResources *res, agent_error_t **err);

/*
 * After CPU hot-plug (OnlineCPUMem), for a cgroup whose spec asked for `requested`
 * CPUs: every ancestor below the hierarchy's root, from the top down, gets the
 * `online` CPUs added to its cpuset.cpus (nothing is taken away; on v2 an empty set,
 * meaning the parent's, stays empty); then the cgroup itself gets `requested` back, so a
 * pin survives. Where the kernel refuses offline CPUs (v1), the requested ones that are
 * online. A request that is no CPU list, or has none online, leaves the cgroup's set as
 * it is. Missing files (no cpuset controller there) are skipped.
 */
int cgroup_cpuset_update(struct cgroup *cg, const char *online, const char *requested,
			 agent_error_t **err);

/* Moves pid into the cgroup in every hierarchy. */
int cgroup_add_pid(struct cgroup *cg, pid_t pid, agent_error_t **err);

/* Freezes (true) or thaws (false); returns once the kernel reports the state (bounded wait). */
int cgroup_freeze(struct cgroup *cg, bool frozen, agent_error_t **err);

/* Every pid in the cgroup and its descendants; *ret_pids is malloc'd. */
int cgroup_pids(struct cgroup *cg, pid_t **ret_pids, size_t *ret_n, agent_error_t **err);

/* Freeze, SIGKILL (or `sig`) every pid, thaw. Kill failures other than ESRCH are reported. */
int cgroup_signal_all(struct cgroup *cg, int sig, agent_error_t **err);

/*
 * Removes the cgroup directories (children first), killing what is left
 * inside and retrying briefly (bounded, well under a second) while the kernel
 * finishes tearing tasks down. ENOENT is success.
 */
int cgroup_destroy(struct cgroup *cg, agent_error_t **err);

/*
 * Fills `out` (an initialised Grpc__CgroupStats) with freshly malloc'd
 * sub-messages as upstream's StatsContainer fills them; missing controllers leave theirs NULL.
 * Free with cgroup_stats_clear().
 */
int cgroup_stats(struct cgroup *cg, Grpc__CgroupStats *out, agent_error_t **err);
void cgroup_stats_clear(Grpc__CgroupStats *s);

/*
 * OOM watching. cgroup_oom_open() returns an fd that becomes readable (EPOLLIN)
 * when something may have changed: v1 an eventfd registered through
 * cgroup.event_control on memory.oom_control; v2 an inotify fd on memory.events.
 * After each wake-up call cgroup_oom_check(): it drains the fd and sets
 * *ret_oom when a new OOM kill happened since the last check (v1: oom_kill
 * counter rose or under_oom; v2: oom_kill counter rose). -ENOENT from either means
 * the cgroup is gone. -EOPNOTSUPP when the memory controller is not available.
 * On v1 the event comes just before the kill is counted, so after a wake-up
 * cgroup_oom_check() may wait for the counter (at most ~100 ms).
 */
struct cgroup_oom;
int cgroup_oom_open(struct cgroup *cg, struct cgroup_oom **ret, agent_error_t **err);
int cgroup_oom_fd(const struct cgroup_oom *o);
int cgroup_oom_check(struct cgroup_oom *o, bool *ret_oom);
struct cgroup_oom *cgroup_oom_close(struct cgroup_oom *o);

#endif
