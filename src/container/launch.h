/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Launching a container process: the container init (created and parked
 * until StartContainer) or an exec process (joins a running container and
 * execs at once). The agent side forks the child, places it in the cgroup,
 * writes id maps, and then follows the child's steps from the loop, so a slow
 * set-up never blocks other calls. The child side (launch-child.c) sets up
 * namespaces, rootfs, credentials, capabilities and seccomp, and execs.
 *
 * The pid is known as soon as launch_new() returns: the caller registers it
 * with THE reaper. A launch that fails kills its child; the reaper collects it.
 */
#ifndef AGENT_CONTAINER_LAUNCH_H
#define AGENT_CONTAINER_LAUNCH_H

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "base/error.h"
#include "cgroups/cgroups.h"
#include "container/namespace.h"
#include "loop/loop.h"
#include "oci.pb-c.h"

struct launch_config {
	const char *id; /* container id, for the OCI state given to hooks */
	const char *bundle; /* bundle directory, likewise */
	const Grpc__Spec *spec; /* the container's spec (root.path = the bundle rootfs) */
	const Grpc__Process *process; /* what to run: spec->process for the init */
	bool init; /* init: rootfs set-up, parked until launch_start() */
	/* Namespaces to join, by fd (-1: not joined). The init gets them from spec paths
	 * (opened by launch_new), an exec from the container's pinned set. */
	int join_fds[NS_COUNT];
	/* Exec only, required: the container's root directory, pinned from the init
	 * (/proc/<init>/root) at create. The exec'd process is chrooted into it after
	 * joining the namespaces, so it never sees the agent's root even when the
	 * container has no mount namespace of its own. */
	int root_fd;
	int self_pidns_fd; /* the agent's own pid namespace, to return to after fork */
	struct cgroup *cg; /* may be NULL (no cgroup handling) */
	bool apply_resources;
	bool cgroup_v2;
	int stdio[3]; /* the child's ends: stdin, stdout, stderr (the pty slave thrice) */
	bool tty;
	struct rlimit nofile; /* RLIMIT_NOFILE before the spec's rlimits (rlim_max 0: keep) */
	struct rlimit core; /* RLIMIT_CORE likewise, best effort */
};

struct launch;
/* r == 0: the step succeeded; otherwise err (owned by the callee) says why. */
typedef void (*launch_fn)(struct launch *l, int r, agent_error_t *err, void *data);

/*
 * Forks the child and starts the conversation. `done` runs once from the loop:
 * for an init when it is parked (ready for launch_start), for an exec when it
 * exec'd or failed. cfg and what it points to need only live through this call.
 */
int launch_new(struct loop *loop, const struct launch_config *cfg, launch_fn done, void *data,
	       struct launch **ret, agent_error_t **err);
pid_t launch_pid(const struct launch *l);
/* A pidfd of launch_pid() (the launch keeps it; dup it to keep it longer), or -1 without one. */
int launch_pidfd(const struct launch *l);
/* Init only, after `done` reported ready: release the init; `done` runs again on exec. */
int launch_start(struct launch *l, launch_fn done, void *data, agent_error_t **err);
/*
 * Forgets the launch; kill=true also SIGKILLs the child. A step not yet
 * delivered gets `done` with -ECANCELED from inside this call (each step is
 * delivered exactly once): the caller must no longer point at l by then.
 */
struct launch *launch_free(struct launch *l, bool kill);

#endif
