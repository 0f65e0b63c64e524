/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Containers and their processes, as the sandbox holds them. A container's
 * life is one state (enum container_state) changed only by
 * container_set_state(), which checks a transition table; every container
 * RPC asks container_may() whether it may act in the current state. Both
 * tables are in container.c and described in docs/lifecycle.md. Processes
 * are the init (exec id = container id) and exec processes; a process stays
 * until it was waited for and its output streams reached EOF, or until its
 * container is removed.
 */
#ifndef AGENT_SANDBOX_CONTAINER_H
#define AGENT_SANDBOX_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "agent.pb-c.h"
#include "base/error.h"
#include "cgroups/cgroups.h"
#include "container/launch.h"
#include "container/namespace.h"
#include "sandbox/stdio.h"

struct sandbox;
struct container;
struct devwait;
struct storage_mkfs;

enum container_state {
	CONTAINER_CREATING, /* CreateContainer under way: devices, storages, the init's set-up */
	CONTAINER_CREATED, /* the init is parked, waiting for StartContainer */
	CONTAINER_STARTING, /* StartContainer under way: the init released, not exec'd yet */
	CONTAINER_RUNNING, /* the init exec'd */
	CONTAINER_PAUSED, /* frozen; Resume returns to the state Pause found */
	CONTAINER_STOPPED, /* the init exited (or never started): only Remove moves on */
	CONTAINER_REMOVING, /* being torn down: no call acts on it any more */
	CONTAINER_STATE_COUNT
};
const char *container_state_name(enum container_state s);

/* The container RPCs, as the state table knows them. */
enum container_op {
	CONTAINER_OP_START,
	CONTAINER_OP_EXEC,
	CONTAINER_OP_SIGNAL,
	CONTAINER_OP_PAUSE,
	CONTAINER_OP_RESUME,
	CONTAINER_OP_UPDATE,
	CONTAINER_OP_STATS,
	CONTAINER_OP_WAIT,
	CONTAINER_OP_REMOVE,
	CONTAINER_OP_COUNT
};

#define CONTAINERS_MAX 1024
#define PROCESSES_MAX 1024 /* per container */

/* Completion of an asynchronous step (create, start, exec). err is owned by the callee. */
typedef void (*container_done_fn)(int r, agent_error_t *err, void *ctx);
/* WaitProcess completion: the exit code. */
typedef void (*process_wait_fn)(int exit_code, void *ctx);

struct process_waiter {
	struct process_waiter *next;
	process_wait_fn fn;
	void *ctx;
};

struct process {
	struct process *next;
	struct container *c;
	char *exec_id;
	pid_t pid;
	int pidfd; /* owned, -1 when none: every signal to the process goes through it */
	bool init, tty;
	bool exited, waited;
	int exit_code;
	struct stdio_stream in, out, err; /* tty: out is the pty master, err unused */
	struct passfd_io *pfio; /* relays to its passfd streams, or NULL */
	bool reaped; /* gone; exited (reported) once its passfd output is relayed too */
	struct process_waiter *waiters;
	struct launch *launch; /* while being set up or started */
	struct loop_timer *linger, *reap;
	uint64_t linger_since; /* loop_now_ms() when the linger began: the oldest goes first */
	container_done_fn done;
	void *done_ctx;
};

/* The agent-side OCI hooks a container may be running (on the loop, one run at a time). */
enum container_hooks {
	CONTAINER_HOOKS_PRESTART, /* the create answers after them */
	CONTAINER_HOOKS_POSTSTART, /* the start answers after them */
	CONTAINER_HOOKS_POSTSTOP, /* RemoveContainer answers after them */
};

struct hooks_job;

struct container {
	struct container *next;
	struct sandbox *sb;
	char *id;
	char *bundle;
	Grpc__Spec *spec; /* our own copy; root.path is the bundle rootfs */
	enum container_state state; /* change it with container_set_state() only */
	enum container_state resume_to; /* while PAUSED: the state Resume returns to */
	struct cgroup *cg;
	char *cpus; /* the cpus of the last UpdateContainer that set some (NULL: the spec's) */
	int ns_fds[NS_COUNT]; /* pinned at create: what execs join */
	int root_fd; /* the init's root, pinned at create: where execs are chrooted */
	struct process *procs;
	size_t n_procs;
	struct process *init;
	struct cgroup_oom *oom;
	struct loop_io *oom_io;
	char **storages; /* mount points this container holds a reference on */
	size_t n_storages;
	struct devwait *devwait; /* while CreateContainer waits for hot-plugged disks */
	struct storage_mkfs *mkfs; /* then while its block volumes are formatted */
	void *pending_create; /* while CREATING: that create's context (container.c) */
	struct hooks_job *hooks; /* the agent-side hooks running now, if any */
	enum container_hooks hooks_kind;
	void *hooks_owner; /* the step they belong to: a create's or a start's context */
	container_done_fn
		remove_done; /* while REMOVING: RemoveContainer's (or DestroySandbox's) answer */
	void *remove_ctx;
	bool rootfs_mounted;
};

struct container *container_find(struct sandbox *sb, const char *id);
/* 0 if op may act on c in its current state, else -EBUSY with FAILED_PRECONDITION. */
int container_may(const struct container *c, enum container_op op, agent_error_t **err);
/*
 * Lookup for the process calls: unknown container -> -ESRCH
 * "Invalid container id", empty exec id -> the init (-ENOENT "init process
 * missing"), else by exec id (-ENOENT "invalid exec id"). Waited processes are
 * found only when find_waited is true (the output calls).
 */
int process_lookup(struct sandbox *sb, const char *cid, const char *eid, bool find_waited,
		   struct process **ret, agent_error_t **err);

/*
 * CreateContainer: validation, bundle, cgroup, init parked; done runs once:
 * DEADLINE_EXCEEDED when the set-up outlives agent.launch_process_timeout,
 * ABORTED when RemoveContainer came first. passfd (NULL: none): the init's
 * passfd streams (sandbox/passfd.h), taken (set to -1) once the create is
 * under way; the caller closes what is left.
 */
int container_create(struct sandbox *sb, const Grpc__CreateContainerRequest *req, int passfd[3],
		     container_done_fn done, void *ctx, agent_error_t **err);
/* StartContainer: releases the init; done runs once it exec'd (or failed, timed out, was removed).
 */
int container_start(struct sandbox *sb, const char *cid, container_done_fn done, void *ctx,
		    agent_error_t **err);
/* ExecProcess; done runs once the process exec'd (or failed). passfd: as for the create. */
int container_exec(struct sandbox *sb, const Grpc__ExecProcessRequest *req, int passfd[3],
		   container_done_fn done, void *ctx, agent_error_t **err);
/*
 * RemoveContainer: a create, start or exec still under way (their hooks
 * included) is answered ABORTED first, the processes are killed, then the
 * poststop hooks run on the loop; done runs once they ended and everything is
 * released. Meanwhile the container is REMOVING and still listed (its id is
 * taken, every call on it is refused).
 */
int container_remove(struct sandbox *sb, const char *cid, container_done_fn done, void *ctx,
		     agent_error_t **err);
int container_signal(struct sandbox *sb, const char *cid, const char *eid, int sig,
		     agent_error_t **err);
int container_pause(struct sandbox *sb, const char *cid, bool pause, agent_error_t **err);
int container_update(struct sandbox *sb, const char *cid, const Grpc__LinuxResources *res,
		     agent_error_t **err);

/*
 * WaitProcess: fn runs when the process has exited (maybe before this
 * returns: then 1 is returned and *ret is NULL). Cancel with process_wait_cancel.
 */
int process_wait(struct process *p, process_wait_fn fn, void *ctx, struct process_waiter **ret,
		 agent_error_t **err);
/* TtyWinResize. */
int process_resize(struct process *p, uint32_t rows, uint32_t cols, agent_error_t **err);
void process_wait_cancel(struct process *p, struct process_waiter *w);
/* Frees the process if nothing refers to it any more (waited and output at EOF). */
void process_maybe_free(struct process *p);

/*
 * DestroySandbox: removes every container as RemoveContainer does (their
 * poststop hooks run); done runs once all are gone (maybe before this returns).
 */
int containers_remove_all(struct sandbox *sb, container_done_fn done, void *ctx,
			  agent_error_t **err);
/* Agent exit: tears down every container now; hooks under way are abandoned, none is started. */
int containers_destroy_all(struct sandbox *sb, agent_error_t **err);

#endif
