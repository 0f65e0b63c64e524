// SPDX-License-Identifier: Apache-2.0
/*
 * Container life cycle: create (validate first, then bundle, cgroup, init
 * parked), start, exec, signal, pause/resume, update, remove. Nothing is
 * touched before the spec and the ids are validated; a failed create undoes
 * exactly what it did.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "base/fsutil.h"
#include "base/message.h"
#include "base/log.h"
#include "container/hooks.h"
#include "container/rootfs.h"
#include "container/validate.h"
#include "device/devmatch.h"
#include "sandbox/devices.h"
#include "sandbox/devwait.h"
#include "sandbox/vfio.h"
#include "storage/mkfs.h"
#include "storage/storage.h"
#include "base/status.h"
#include "sandbox/process-internal.h"
#include "sandbox/sandbox.h"

/* --- the state machine ------------------------------------------------------------------ */

#define ST(s) (1u << CONTAINER_##s)
#define OP(o) (1u << CONTAINER_OP_##o)

/*
 * The transitions: which state each state may go to, and the event that
 * moves it (docs/lifecycle.md has the same table):
 *   CREATING -> CREATED    the init parked and the prestart hooks ran
 *            -> REMOVING   the create failed (a prestart hook too), timed out, or RemoveContainer
 *   CREATED  -> STARTING   StartContainer
 *            -> PAUSED     PauseContainer
 *            -> STOPPED    the (parked) init exited
 *   STARTING -> RUNNING    the init exec'd (the start answers after the poststart hooks)
 *            -> STOPPED    the start failed or timed out, or the init exited
 *   RUNNING  -> PAUSED     PauseContainer
 *            -> STOPPED    the init exited
 *   PAUSED   -> CREATED or RUNNING (the state Pause found)   ResumeContainer
 *            -> STOPPED    the init exited
 *   any but REMOVING -> REMOVING   RemoveContainer, DestroySandbox (the poststop hooks
 *                                  run in REMOVING, the container still listed)
 */
static const unsigned transitions[CONTAINER_STATE_COUNT] = {
	[CONTAINER_CREATING] = ST(CREATED) | ST(REMOVING),
	[CONTAINER_CREATED] = ST(STARTING) | ST(PAUSED) | ST(STOPPED) | ST(REMOVING),
	[CONTAINER_STARTING] = ST(RUNNING) | ST(STOPPED) | ST(REMOVING),
	[CONTAINER_RUNNING] = ST(PAUSED) | ST(STOPPED) | ST(REMOVING),
	[CONTAINER_PAUSED] = ST(CREATED) | ST(RUNNING) | ST(STOPPED) | ST(REMOVING),
	[CONTAINER_STOPPED] = ST(REMOVING),
	[CONTAINER_REMOVING] = 0,
};

/*
 * Which call may act in which state. Anything else is FAILED_PRECONDITION,
 * answered at once. Signal and Wait act in every visible state (a signal to a
 * process that exited is a no-op; a Wait answers when the process exits).
 */
static const unsigned allowed_ops[CONTAINER_STATE_COUNT] = {
	[CONTAINER_CREATING] = OP(SIGNAL) | OP(WAIT) | OP(REMOVE),
	[CONTAINER_CREATED] = OP(START) | OP(EXEC) | OP(SIGNAL) | OP(PAUSE) | OP(UPDATE) |
			      OP(STATS) | OP(WAIT) | OP(REMOVE),
	[CONTAINER_STARTING] =
		OP(EXEC) | OP(SIGNAL) | OP(UPDATE) | OP(STATS) | OP(WAIT) | OP(REMOVE),
	[CONTAINER_RUNNING] =
		OP(EXEC) | OP(SIGNAL) | OP(PAUSE) | OP(UPDATE) | OP(STATS) | OP(WAIT) | OP(REMOVE),
	[CONTAINER_PAUSED] =
		OP(SIGNAL) | OP(RESUME) | OP(UPDATE) | OP(STATS) | OP(WAIT) | OP(REMOVE),
	[CONTAINER_STOPPED] = OP(SIGNAL) | OP(STATS) | OP(WAIT) | OP(REMOVE),
	[CONTAINER_REMOVING] = 0,
};

const char *container_state_name(enum container_state s)
{
	static const char *const names[] = {"creating", "created", "starting", "running",
					    "paused",	"stopped", "removing"};
	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "unknown";
}

static const char *op_name(enum container_op op)
{
	static const char *const names[] = {"StartContainer", "ExecProcess",	 "SignalProcess",
					    "PauseContainer", "ResumeContainer", "UpdateContainer",
					    "StatsContainer", "WaitProcess",	 "RemoveContainer"};
	return (unsigned)op < ARRAY_SIZE(names) ? names[op] : "?";
}

/* The OCI state's status, for hooks: OCI knows creating, created, running, paused, stopped. */
static const char *oci_status(enum container_state s)
{
	switch (s) {
	case CONTAINER_STARTING:
		return "created";
	case CONTAINER_REMOVING:
		return "stopped";
	default:
		return container_state_name(s);
	}
}

int container_may(const struct container *c, enum container_op op, agent_error_t **err)
{
	if ((unsigned)c->state < CONTAINER_STATE_COUNT && (allowed_ops[c->state] & (1u << op)))
		return 0;
	return agent_error_set_status(err, GRPC_FAILED_PRECONDITION, EBUSY,
				      "container %s is %s: %s cannot act on it now", c->id,
				      container_state_name(c->state), op_name(op));
}

/* The one place the state changes. A change the table does not have is a bug: refused, logged. */
static int container_set_state(struct container *c, enum container_state to)
{
	if ((unsigned)c->state >= CONTAINER_STATE_COUNT || !(transitions[c->state] & (1u << to))) {
		log_write(LOG_LEVEL_ERROR, "sandbox", LOG_FIELDS({"container-id", c->id}),
			  "refused state change %s -> %s", container_state_name(c->state),
			  container_state_name(to));
		return -EINVAL;
	}
	log_write(LOG_LEVEL_DEBUG, "sandbox", LOG_FIELDS({"container-id", c->id}), "%s -> %s",
		  container_state_name(c->state), container_state_name(to));
	c->state = to;
	return 0;
}

static void container_link(struct sandbox *sb, struct container *c)
{
	c->next = sb->containers;
	sb->containers = c;
	sb->n_containers++;
}

static void container_unlink(struct sandbox *sb, struct container *c)
{
	for (struct container **pp = &sb->containers; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			sb->n_containers--;
			return;
		}
	}
}

/* --- OOM watch ------------------------------------------------------------------------- */

static void oom_unwatch(struct container *c)
{
	c->oom_io = loop_io_del(c->sb->loop, c->oom_io);
	c->oom = cgroup_oom_close(c->oom);
}

static void on_oom_event(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct container *c = data;
	bool oom = false;
	int r = cgroup_oom_check(c->oom, &oom);

	if (oom) {
		log_write(LOG_LEVEL_INFO, "sandbox", LOG_FIELDS({"container-id", c->id}),
			  "container hit its memory limit: OOM event");
		oom_queue_push(&c->sb->oom, c->id);
	}
	if (r == -ENOENT)
		oom_unwatch(c);
}

static void oom_watch(struct container *c)
{
	agent_error_t *err = NULL;

	if (!c->cg || c->oom)
		return;
	if (cgroup_oom_open(c->cg, &c->oom, &err) < 0) {
		log_write(LOG_LEVEL_WARN, "sandbox", LOG_FIELDS({"container-id", c->id}),
			  "no OOM events for this container: %s", err->msg);
		agent_error_free(err);
		return;
	}
	c->oom_io = loop_io_add(c->sb->loop, cgroup_oom_fd(c->oom), EPOLLIN, on_oom_event, c);
	if (!c->oom_io)
		c->oom = cgroup_oom_close(c->oom);
}

struct create_ctx {
	struct container *c;
	container_done_fn done;
	void *ctx;
	struct loop_timer *timer; /* agent.launch_process_timeout, while the init is set up */
	bool timed_out;
	Grpc__CreateContainerRequest *req; /* our copy, while devices are waited for */
	struct vfio_set *vfio; /* its VFIO functions */
	bool vfio_bound; /* ... handed to vfio-pci: now the groups are waited for */
	char **devs; /* then: the first wait's nodes, kept */
	size_t n_devs;
	int passfd[3]; /* the init's passfd streams (sandbox/passfd.h), -1: none */
};

static void create_ctx_free(struct create_ctx *cc)
{
	if (!cc)
		return;
	if (cc->timer) /* create_finish cancels it before the container goes */
		cc->timer = loop_timer_cancel(cc->c->sb->loop, cc->timer);
	if (cc->req)
		grpc__create_container_request__free_unpacked(cc->req, NULL);
	for (size_t i = 0; cc->devs && i < cc->n_devs; i++)
		free(cc->devs[i]);
	free(cc->devs);
	vfio_set_free(cc->vfio);
	for (int i = 0; i < 3; i++)
		safe_close(cc->passfd[i]);
	free(cc);
}

/* --- hooks ----------------------------------------------------------------------------- */

/*
 * The agent-side hooks run on the loop (container/hooks.h hooks_run_async), one
 * run per container at a time, each hook with its own OCI timeout; the step
 * they belong to answers when the run ends. As the upstream agent does, a
 * failing prestart hook fails the create (the later ones do not run); failing
 * poststart and poststop hooks are logged and the others still run.
 */
static const char *hooks_name(enum container_hooks kind)
{
	static const char *const names[] = {"prestart", "poststart", "poststop"};
	return (unsigned)kind < ARRAY_SIZE(names) ? names[kind] : "?";
}

static void hook_failed(const agent_error_t *err, void *data)
{
	const struct container *c = data;

	log_write(LOG_LEVEL_WARN, "sandbox",
		  LOG_FIELDS({"container-id", c->id}, {"hook", hooks_name(c->hooks_kind)}),
		  "hook failed: %s", err->msg);
}

static void on_hooks_done(int r, const agent_error_t *err, void *data);

/* 1: the run started (on_hooks_done ends it); 0: no such hooks; -errno with err. */
static int hooks_begin(struct container *c, enum container_hooks kind, void *owner,
		       agent_error_t **err)
{
	const Grpc__Hooks *h = c->spec ? c->spec->hooks : NULL;
	Grpc__Hook **hooks = NULL;
	size_t n = 0;
	char *state;
	int r;

	if (!h)
		return 0;
	switch (kind) {
	case CONTAINER_HOOKS_PRESTART:
		hooks = h->prestart, n = h->n_prestart;
		break;
	case CONTAINER_HOOKS_POSTSTART:
		hooks = h->poststart, n = h->n_poststart;
		break;
	case CONTAINER_HOOKS_POSTSTOP:
		hooks = h->poststop, n = h->n_poststop;
		break;
	}
	if (n == 0)
		return 0;
	state = oci_state_json(c->id, oci_status(c->state), c->init ? c->init->pid : 0, c->bundle,
			       c->spec);
	if (!state)
		return agent_error_set(err, ENOMEM, "%s hooks: out of memory", hooks_name(kind));
	c->hooks_kind = kind; /* hook_failed reads it */
	r = hooks_run_async(c->sb->loop, c->sb->reaper, hooks, n, state,
			    kind == CONTAINER_HOOKS_PRESTART ? HOOKS_STOP_AT_FIRST_FAILURE
							     : HOOKS_RUN_ALL,
			    hook_failed, on_hooks_done, c, &c->hooks, err);
	free(state);
	if (r < 0)
		return agent_error_wrap(err, "%s hooks", hooks_name(kind));
	c->hooks_owner = owner;
	return 1;
}

/* Takes the running hooks away from c (killed, their end never reported); their owner. */
static void *hooks_stop(struct container *c)
{
	void *owner = c->hooks_owner;

	hooks_abandon(c->hooks);
	c->hooks = NULL;
	c->hooks_owner = NULL;
	return owner;
}

/* --- teardown -------------------------------------------------------------------------- */

/*
 * The steps still under way are answered first, each by its owner: a launch
 * dropped here completes its step with -ECANCELED (the owner sees the state
 * REMOVING and answers ABORTED); a create still waiting for devices or mkfs
 * is answered here.
 */
static void start_aborted(void *start_ctx);

static void abort_steps(struct container *c)
{
	if (c->hooks) {
		enum container_hooks kind = c->hooks_kind;
		void *owner = hooks_stop(c);
		/* A create's prestart run is answered with its create, below. */
		if (kind == CONTAINER_HOOKS_POSTSTART)
			start_aborted(owner);
		if (kind == CONTAINER_HOOKS_POSTSTOP && c->remove_done) {
			agent_error_t *rerr = NULL;
			container_done_fn done = c->remove_done;
			c->remove_done = NULL;
			agent_error_set_status(&rerr, GRPC_ABORTED, ECANCELED,
					       "the poststop hooks of container %s were abandoned",
					       c->id);
			done(-ECANCELED, rerr, c->remove_ctx);
		}
	}
	for (struct process *p = c->procs; p; p = p->next)
		if (p->launch)
			process_launch_drop(p, true);
	if (c->pending_create) {
		struct create_ctx *cc = c->pending_create;
		agent_error_t *cerr = NULL;
		c->pending_create = NULL;
		devwait_cancel(c->devwait);
		c->devwait = NULL;
		storage_mkfs_cancel(c->mkfs);
		c->mkfs = NULL;
		agent_error_set_status(&cerr, GRPC_ABORTED, ECANCELED,
				       "container %s was removed while being created", c->id);
		cc->done(-ECANCELED, cerr, cc->ctx);
		create_ctx_free(cc);
	}
}

/* Called in REMOVING: releases everything the container holds. */
static void container_teardown(struct container *c)
{
	struct process *p;
	agent_error_t *err = NULL;
	char path[4096];

	abort_steps(c);
	for (p = c->procs; p; p = p->next)
		process_signal(p, SIGKILL);
	if (c->cg) {
		if (cgroup_signal_all(c->cg, SIGKILL, &err) < 0 ||
		    cgroup_destroy(c->cg, &err) < 0) {
			log_write(LOG_LEVEL_WARN, "sandbox", LOG_FIELDS({"container-id", c->id}),
				  "cgroup teardown: %s", err->msg);
			err = agent_error_free(err);
		}
	}
	oom_unwatch(c);
	storages_release(&c->sb->storages, c->storages, c->n_storages);
	c->storages = NULL;
	c->n_storages = 0;
	while ((p = c->procs)) {
		c->procs = p->next;
		process_destroy(p);
	}
	c->init = NULL;
	c->n_procs = 0;
	for (int t = 0; t < NS_COUNT; t++)
		c->ns_fds[t] = safe_close(c->ns_fds[t]);
	c->root_fd = safe_close(c->root_fd);
	if (c->bundle) {
		snprintf(path, sizeof(path), "%s/rootfs", c->bundle);
		if (c->rootfs_mounted && umount2(path, MNT_DETACH) < 0 && errno != EINVAL)
			log_warn("sandbox", "unmounting %s: %s", path, strerror(errno));
		c->rootfs_mounted = false;
		int r = rm_rf(c->bundle);
		if (r < 0)
			log_warn("sandbox", "removing %s: %s", c->bundle, strerror(-r));
	}
}

static void container_free(struct container *c)
{
	if (!c)
		return;
	c->cg = cgroup_free(c->cg);
	if (c->spec)
		grpc__spec__free_unpacked(c->spec, NULL);
	free(c->bundle);
	free(c->cpus);
	free(c->id);
	free(c);
}

/*
 * Unlinks (if linked), moves to REMOVING, tears down and frees, now: a failed
 * create, the agent's exit, or a removal whose poststop hooks are abandoned.
 */
static void container_destroy(struct container *c)
{
	container_unlink(c->sb, c);
	if (c->state != CONTAINER_REMOVING)
		container_set_state(c, CONTAINER_REMOVING);
	container_teardown(c);
	container_free(c);
}

/* The end of a removal: everything released, then the answer. */
static void remove_finish(struct container *c)
{
	container_done_fn done = c->remove_done;
	void *ctx = c->remove_ctx;

	c->remove_done = NULL;
	container_destroy(c);
	if (done)
		done(0, NULL, ctx);
}

/*
 * RemoveContainer (and DestroySandbox): steps under way answered ABORTED, the
 * processes killed, the poststop hooks run on the loop while the container
 * stays listed in REMOVING; remove_finish after them.
 */
static void remove_begin(struct container *c, container_done_fn done, void *ctx)
{
	agent_error_t *err = NULL;

	container_set_state(c, CONTAINER_REMOVING);
	c->remove_done = done;
	c->remove_ctx = ctx;
	abort_steps(c);
	for (struct process *p = c->procs; p; p = p->next)
		process_signal(p, SIGKILL);
	/* A container that got as far as its bundle gets its poststop hooks. */
	int r = c->bundle ? hooks_begin(c, CONTAINER_HOOKS_POSTSTOP, NULL, &err) : 0;
	if (r > 0)
		return;
	if (r < 0) {
		log_write(LOG_LEVEL_WARN, "sandbox", LOG_FIELDS({"container-id", c->id}), "%s",
			  err->msg);
		agent_error_free(err);
	}
	remove_finish(c);
}

/* The answer to a step whose launch was dropped: the remove or the timeout that dropped it. */
static int step_cancelled(struct container *c, bool timed_out, const char *what,
			  agent_error_t **err)
{
	agent_error_clear(err);
	if (timed_out)
		return agent_error_set_status(err, GRPC_DEADLINE_EXCEEDED, ETIMEDOUT,
					      "%s of container %s did not finish within %llu ms "
					      "(agent.launch_process_timeout)",
					      what, c->id,
					      (unsigned long long)c->sb->opts.launch_timeout_ms);
	return agent_error_set_status(err, GRPC_ABORTED, ECANCELED,
				      "container %s was removed during its %s", c->id, what);
}

static struct loop_timer *step_timer(struct container *c, loop_timer_fn fn, void *data)
{
	uint64_t ms = c->sb->opts.launch_timeout_ms;

	return ms ? loop_timer_add(c->sb->loop, loop_now_ms() + ms, fn, data) : NULL;
}

void container_on_init_exit(struct container *c)
{
	switch (c->state) {
	case CONTAINER_CREATED:
	case CONTAINER_PAUSED:
		/* A parked init owes no step: its launch just goes. */
		if (c->init)
			process_launch_drop(c->init, false);
		/* fall through */
	case CONTAINER_STARTING: /* the start still answers, from its launch */
	case CONTAINER_RUNNING:
		container_set_state(c, CONTAINER_STOPPED);
		break;
	case CONTAINER_CREATING: /* the create fails when its launch reports (on_init_parked) */
	default:
		break;
	}
}

/* --- launching ------------------------------------------------------------------------- */

/*
 * Fills what every launch of container c shares, launches p with the child's
 * stdio ends (closed here in any case), and hands its pid to THE reaper.
 */
static int launch_start_process(struct container *c, struct process *p, struct launch_config *lc,
				int child[3], launch_fn fn, void *data, agent_error_t **err);

static int launch_process(struct container *c, struct process *p, struct launch_config *lc,
			  int child[3], launch_fn fn, void *data, agent_error_t **err)
{
	int r = launch_start_process(c, p, lc, child, fn, data, err);

	/* An init's pid is final only when it is parked (see on_init_parked). */
	if (r >= 0 && !lc->init)
		reaper_watch(c->sb->reaper, p->pid, process_on_exit, p);
	return r;
}

static int launch_start_process(struct container *c, struct process *p, struct launch_config *lc,
				int child[3], launch_fn fn, void *data, agent_error_t **err)
{
	struct sandbox *sb = c->sb;
	int r;

	lc->id = c->id;
	lc->bundle = c->bundle;
	lc->spec = c->spec;
	lc->self_pidns_fd = sb->self_pidns_fd;
	lc->cg = c->cg;
	lc->cgroup_v2 = sb->cgm && cgroup_manager_is_v2(sb->cgm);
	memcpy(lc->stdio, child, sizeof(lc->stdio));
	lc->tty = p->tty;
	lc->nofile = sb->child_nofile;
	lc->core = sb->child_core;
	r = launch_new(sb->loop, lc, fn, data, &p->launch, err);
	process_stdio_child_close(child);
	if (r < 0)
		return r;
	process_set_pid(p, launch_pid(p->launch), launch_pidfd(p->launch));
	return 0;
}

/* --- create ---------------------------------------------------------------------------- */

static bool spec_has_ns(const Grpc__Spec *spec, enum ns_type t)
{
	const Grpc__Linux *lx = spec->linux;

	for (size_t i = 0; lx && i < lx->n_namespaces; i++)
		if (ns_type_from_oci(lx->namespaces[i]->type) == (int)t)
			return true;
	return false;
}

/* Gives the spec's ipc/uts entries the sandbox's shared namespaces, and adds the pid entry. */
static int adjust_namespaces(struct sandbox *sb, Grpc__Spec *spec, bool sandbox_pidns,
			     int *ret_pid_fd, agent_error_t **err)
{
	Grpc__Linux *lx = spec->linux;

	*ret_pid_fd = -1;
	for (size_t i = 0; i < lx->n_namespaces; i++) {
		Grpc__LinuxNamespace *ns = lx->namespaces[i];
		int t = ns_type_from_oci(ns->type);
		const char *shared = t == NS_IPC   ? sb->shared_ipc_ns
				     : t == NS_UTS ? sb->shared_uts_ns
						   : NULL;

		if (shared && !ns->path[0]) {
			char *dup = strdup(shared);
			if (!dup)
				return agent_error_set(err, ENOMEM, "out of memory");
			/* An absent string is protobuf-c's shared default: not ours to free. */
			if (ns->path != protobuf_c_empty_string)
				free(ns->path);
			ns->path = dup;
		}
	}
	if (sandbox_pidns) {
		if (sb->sandbox_pidns_fd >= 0) {
			*ret_pid_fd = sb->sandbox_pidns_fd;
			return 0;
		}
		if (sb->n_containers > 1) /* others than this one (linked already) */
			return agent_error_set_status(err, GRPC_FAILED_PRECONDITION, ENOENT,
						      "Sandbox does not have sandbox_pidns");
	}
	if (lx->n_namespaces == 0 || spec_has_ns(spec, NS_PID))
		return 0;
	/* The runtime strips the pid entry: the container gets a pid namespace of its own. */
	Grpc__LinuxNamespace **nss = realloc(lx->namespaces, (lx->n_namespaces + 1) * sizeof(*nss));
	Grpc__LinuxNamespace *ns = malloc(sizeof(*ns));
	if (nss)
		lx->namespaces = nss;
	if (!nss || !ns) {
		free(ns);
		return agent_error_set(err, ENOMEM, "out of memory");
	}
	grpc__linux_namespace__init(ns);
	ns->type = strdup("pid");
	ns->path = strdup("");
	if (!ns->type || !ns->path) {
		free(ns->type);
		free(ns->path);
		free(ns);
		return agent_error_set(err, ENOMEM, "out of memory");
	}
	lx->namespaces[lx->n_namespaces++] = ns;
	return 0;
}

static int setup_bundle(struct container *c, agent_error_t **err)
{
	char rootfs[4096];
	struct stat st;
	int r;

	if (asprintf(&c->bundle, "%s/%s", SANDBOX_RUN_DIR, c->id) < 0) {
		c->bundle = NULL;
		return agent_error_set(err, ENOMEM, "out of memory");
	}
	/* The bundle may exist (an overlay storage keeps its upper layer there); its rootfs not. */
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", c->bundle);
	if (lstat(rootfs, &st) == 0) {
		r = agent_error_set_status(err, GRPC_ALREADY_EXISTS, EEXIST,
					   "bundle %s already has a rootfs", c->bundle);
		free(c->bundle);
		c->bundle = NULL;
		return r;
	}
	r = mkdir_p(c->bundle, 0755);
	if (r < 0)
		return agent_error_setsys(err, -r, "creating %s", c->bundle);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", c->bundle);
	if (mkdir(rootfs, 0755) < 0)
		return agent_error_setsys(err, errno, "creating %s", rootfs);
	r = rootfs_bind_root(c->spec->root->path, rootfs, err);
	if (r < 0)
		return r;
	c->rootfs_mounted = true;
	char *dup = strdup(rootfs);
	if (!dup)
		return agent_error_set(err, ENOMEM, "out of memory");
	free(c->spec->root->path);
	c->spec->root->path = dup;
	return 0;
}

static int cgroup_path_for(const struct container *c, char *buf, size_t size, agent_error_t **err)
{
	const char *cp = c->spec->linux->cgroupspath;
	size_t n;

	if (!cp[0])
		n = snprintf(buf, size, "/%s", c->id);
	else
		n = snprintf(buf, size, "%s%s", cp[0] == '/' ? "" : "/", cp);
	if (n >= size)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, ENAMETOOLONG,
					      "linux.cgroupsPath is too long");
	for (char *p = buf; *p; p++)
		if (*p == ':')
			*p = '/';
	return 0;
}

static void pin_namespaces(struct container *c)
{
	char path[64];

	for (int t = 0; t < NS_COUNT; t++) {
		if (t == NS_USER && !spec_has_ns(c->spec, NS_USER))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)c->init->pid, ns_proc_name(t));
		c->ns_fds[t] = open(path, O_RDONLY | O_CLOEXEC);
	}
	snprintf(path, sizeof(path), "/proc/%d/root", (int)c->init->pid);
	c->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

static void create_finish(struct create_ctx *cc, int r, agent_error_t *err)
{
	struct container *c = cc->c;
	struct sandbox *sb = c->sb;

	c->pending_create = NULL;
	cc->timer = loop_timer_cancel(sb->loop, cc->timer);
	if (r < 0) {
		if (err && !err->status)
			err->status = GRPC_INTERNAL;
		container_destroy(c);
	} else {
		if (sb->sandbox_pidns_fd < 0 && c->ns_fds[NS_PID] >= 0)
			sb->sandbox_pidns_fd = fcntl(c->ns_fds[NS_PID], F_DUPFD_CLOEXEC, 3);
		container_set_state(c, CONTAINER_CREATED);
	}
	cc->done(r, err, cc->ctx);
	create_ctx_free(cc);
}

/* The prestart hooks ended (the container is still CREATING): the create answers. */
static void prestart_done(struct create_ctx *cc, int r, const agent_error_t *herr)
{
	struct container *c = cc->c;
	agent_error_t *err = NULL;

	if (r < 0)
		agent_error_set_status(&err, GRPC_INTERNAL, -r, "creating container %s: %s", c->id,
				       herr ? herr->msg : "a prestart hook failed");
	else if (!c->init || c->init->exited)
		r = agent_error_set(&err, ECHILD,
				    "creating container %s: its process exited during the "
				    "prestart hooks",
				    c->id);
	create_finish(cc, r, err);
}

/* The init is parked: its namespaces are pinned, then the prestart hooks run. */
static void create_parked(struct create_ctx *cc)
{
	agent_error_t *err = NULL;
	int r;

	pin_namespaces(cc->c);
	r = hooks_begin(cc->c, CONTAINER_HOOKS_PRESTART, cc, &err);
	if (r > 0)
		return; /* prestart_done answers */
	if (r < 0)
		agent_error_wrap(&err, "creating container %s", cc->c->id);
	create_finish(cc, r, err);
}

static void on_init_parked(struct launch *l, int r, agent_error_t *err, void *data)
{
	struct create_ctx *cc = data;
	struct container *c = cc->c;
	struct process *init = c->init;

	cc->timer = loop_timer_cancel(c->sb->loop, cc->timer);
	if (!init || init->launch != l) {
		/* Dropped: by RemoveContainer (it tears down) or by the timeout (we do). */
		r = step_cancelled(c, cc->timed_out, "create", &err);
		if (c->state == CONTAINER_REMOVING) {
			c->pending_create = NULL;
			cc->done(r, err, cc->ctx);
			create_ctx_free(cc);
			return;
		}
	} else if (r < 0) {
		process_launch_drop(init, true);
		agent_error_wrap(&err, "creating container %s", c->id);
	} else {
		/* In a pid namespace of a new user namespace the init is a grandchild. */
		process_set_pid(init, launch_pid(l), launch_pidfd(l));
		reaper_watch(c->sb->reaper, init->pid, process_on_exit, init);
		if (!init->exited) {
			create_parked(cc);
			return;
		}
		r = agent_error_set(&err, ECHILD,
				    "creating container %s: its process exited during set-up",
				    c->id);
	}
	create_finish(cc, r, err);
}

/* agent.launch_process_timeout: the init's set-up took too long. */
static void on_create_timeout(struct loop_timer *t, void *data)
{
	struct create_ctx *cc = data;

	cc->timer = NULL;
	cc->timed_out = true;
	log_write(LOG_LEVEL_WARN, "sandbox", LOG_FIELDS({"container-id", cc->c->id}),
		  "the container's set-up timed out: killing it");
	if (cc->c->init && cc->c->init->launch)
		process_launch_drop(cc->c->init, true); /* answers through on_init_parked */
}

/* Everything after the devices are there: namespaces, storages, bundle, cgroup, the init. */
static int create_continue(struct create_ctx *cc, char *const *devs, agent_error_t **err)
{
	struct container *c = cc->c;
	struct sandbox *sb = c->sb;
	const Grpc__CreateContainerRequest *req = cc->req;
	struct launch_config lc = {.init = true, .apply_resources = true};
	struct cgroup_manager *cgm;
	struct process *p;
	int child[3] = {-1, -1, -1};
	char cgpath[4096];
	int pid_fd, r;

	r = sandbox_cgroups(sb, &cgm, err);
	if (r < 0)
		return r;
	r = adjust_namespaces(sb, c->spec, req->sandbox_pidns, &pid_fd, err);
	if (r < 0)
		return r;
	r = cgroup_path_for(c, cgpath, sizeof(cgpath), err);
	if (r < 0)
		return r;
	r = devices_apply(c->spec, req->devices, req->n_devices,
			  devs ? devs + req->n_storages : NULL, cc->vfio, err);
	if (r < 0)
		return r;
	r = storages_add(&sb->storages, req->storages, req->n_storages, devs, c->id, &c->storages,
			 &c->n_storages, err);
	if (r < 0)
		return r;
	r = setup_bundle(c, err);
	if (r < 0)
		return r;
	r = cgroup_create(cgm, cgpath, &c->cg, err);
	if (r < 0)
		return r;
	p = process_new(c, c->id, true, c->spec->process->terminal);
	if (!p)
		return agent_error_set(err, ENOMEM, "out of memory");
	process_link(c, p);
	r = process_stdio_new(p, sb->loop, sb->opts.pipe_size, cc->passfd, child, err);
	if (r < 0)
		return r;
	lc.process = c->spec->process;
	for (int t = 0; t < NS_COUNT; t++)
		lc.join_fds[t] = -1;
	lc.join_fds[NS_PID] = pid_fd;
	r = launch_process(c, p, &lc, child, on_init_parked, cc, err);
	if (r < 0)
		return r;
	cc->timer = step_timer(c, on_create_timeout, cc);
	return 0;
}

static void on_formatted(int r, agent_error_t *err, char *const *devs, void *data)
{
	struct create_ctx *cc = data;

	cc->c->mkfs = NULL;
	if (r >= 0)
		r = create_continue(cc, devs, &err);
	if (r < 0) {
		agent_error_wrap(&err, "creating container %s", cc->c->id);
		create_finish(cc, r, err);
	}
}

/* Block volumes that ask for a filesystem get one, then on. */
static int format_then_continue(struct create_ctx *cc, char *const *devs, agent_error_t **err)
{
	const Grpc__CreateContainerRequest *req = cc->req;
	struct sandbox *sb = cc->c->sb;
	int r;

	r = storage_mkfs_start(&sb->storages, sb->loop, sb->reaper, req->storages, req->n_storages,
			       devs, req->n_storages + req->n_devices, on_formatted, cc,
			       &cc->c->mkfs, err);
	if (r < 0 || cc->c->mkfs)
		return r;
	return create_continue(cc, devs, err);
}

static void on_devices(int r, agent_error_t *err, char *const *devs, void *data);

/*
 * The devices are there. VFIO functions are then bound to vfio-pci and their
 * groups' nodes waited for (devs kept meanwhile); then the rest. 0 also when
 * waiting again.
 */
static int after_devices(struct create_ctx *cc, char *const *devs, agent_error_t **err)
{
	const Grpc__CreateContainerRequest *req = cc->req;
	struct dev_match *const *gm;
	size_t ng;
	int r;

	if (cc->vfio_bound)
		return format_then_continue(cc, cc->devs, err);
	if (!cc->vfio)
		return format_then_continue(cc, devs, err);
	cc->vfio_bound = true;
	r = vfio_set_bind(cc->vfio, err);
	if (r < 0)
		return r;
	ng = vfio_set_group_matches(cc->vfio, &gm);
	if (!ng)
		return format_then_continue(cc, devs, err);
	if (devs) {
		cc->n_devs = req->n_storages + req->n_devices;
		cc->devs = calloc(cc->n_devs, sizeof(char *));
		if (!cc->devs)
			return agent_error_set(err, ENOMEM, "out of memory");
		for (size_t i = 0; i < cc->n_devs; i++)
			if (devs[i] && !(cc->devs[i] = strdup(devs[i])))
				return agent_error_set(err, ENOMEM, "out of memory");
	}
	return devwait_start(cc->c->sb, gm, ng, on_devices, cc, &cc->c->devwait, err);
}

static void on_devices(int r, agent_error_t *err, char *const *devs, void *data)
{
	struct create_ctx *cc = data;

	cc->c->devwait = NULL;
	if (r >= 0)
		r = after_devices(cc, devs, &err);
	if (r < 0) {
		agent_error_wrap(&err, "creating container %s", cc->c->id);
		create_finish(cc, r, err);
	}
}

/* Storages' disks and devices that may still be coming: waited for all at once. */
static int start_device_waits(struct create_ctx *cc, agent_error_t **err)
{
	const Grpc__CreateContainerRequest *req = cc->req;
	struct dev_match *const *vm = NULL;
	size_t ns = req->n_storages, n = ns + req->n_devices, nv;
	int r = vfio_set_new(NULL, req->devices, req->n_devices, &cc->vfio, err);
	if (r < 0)
		return r;
	nv = cc->vfio ? vfio_set_pci_matches(cc->vfio, &vm) : 0;
	struct dev_match *ms = calloc(n ? n : 1, sizeof(*ms));
	struct dev_match **mp = calloc(n + nv ? n + nv : 1, sizeof(*mp));

	if (!ms || !mp) {
		r = agent_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n && r >= 0; i++) {
		r = i < ns ? storage_device_match(req->storages[i], &ms[i], err)
			   : device_match(req->devices[i - ns], &ms[i], err);
		if (r < 0) {
			if (*err && !(*err)->status)
				(*err)->status = GRPC_INVALID_ARGUMENT;
			agent_error_wrap(err, i < ns ? "storages[%zu]" : "devices[%zu]",
					 i < ns ? i : i - ns);
		} else if (r > 0) {
			mp[i] = &ms[i];
		}
	}
	for (size_t k = 0; k < nv; k++) /* the VFIO functions, after the others */
		mp[n + k] = vm[k];
	if (r >= 0)
		r = devwait_start(cc->c->sb, mp, n + nv, on_devices, cc, &cc->c->devwait, err);
out:
	free(ms);
	free(mp);
	return r;
}

int container_create(struct sandbox *sb, const Grpc__CreateContainerRequest *req, int passfd[3],
		     container_done_fn done, void *ctx, agent_error_t **err)
{
	struct create_ctx *cc = NULL;
	struct container *c;
	int r;

	if (sb->opts.inert)
		return agent_error_set(err, EPERM, "this sandbox is inert");
	if (!container_id_valid(req->container_id))
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "invalid container id \"%s\"", req->container_id);
	if (container_find(sb, req->container_id))
		return agent_error_set_status(err, GRPC_ALREADY_EXISTS, EEXIST,
					      "container %s already exists", req->container_id);
	if (sb->n_containers >= CONTAINERS_MAX)
		return agent_error_set_status(err, GRPC_RESOURCE_EXHAUSTED, ENOSPC,
					      "too many containers (%d)", CONTAINERS_MAX);
	if (!req->oci)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "missing OCI spec");
	struct spec_policy pol = {.unconfined = sb->opts.unconfined_paths,
				  .hook_dir = sb->guest_hook_path};
	r = spec_validate(req->oci, &pol, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < req->n_storages; i++) {
		r = storage_validate(req->storages[i], err);
		if (r < 0)
			return agent_error_wrap(err, "storages[%zu]", i);
	}
	r = devices_validate(req->devices, req->n_devices, err);
	if (r < 0)
		return r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return agent_error_set(err, ENOMEM, "out of memory");
	c->sb = sb;
	c->state = CONTAINER_CREATING;
	for (int t = 0; t < NS_COUNT; t++)
		c->ns_fds[t] = -1;
	c->root_fd = -1;
	c->id = strdup(req->container_id);
	c->spec = message_dup(&req->oci->base);
	cc = calloc(1, sizeof(*cc));
	for (int i = 0; cc && i < 3; i++)
		cc->passfd[i] = -1;
	if (cc)
		cc->req = message_dup(&req->base);
	if (!c->id || !c->spec || !cc || !cc->req) {
		r = agent_error_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	cc->c = c;
	cc->done = done;
	cc->ctx = ctx;
	for (int i = 0; passfd && i < 3; i++) {
		cc->passfd[i] = passfd[i];
		passfd[i] = -1;
	}
	/* The sandbox's guest hooks, for specs without hooks of their own. */
	if (!c->spec->hooks && sb->guest_hooks) {
		c->spec->hooks = message_dup(&sb->guest_hooks->base);
		if (!c->spec->hooks) {
			r = agent_error_set(err, ENOMEM, "out of memory");
			goto fail;
		}
	}
	/* Hot-plugged disks first: nothing is made until they are all there. */
	r = start_device_waits(cc, err);
	if (r < 0)
		goto fail;
	c->pending_create = cc;
	container_link(sb, c); /* CREATING */
	if (c->devwait)
		return 0;
	r = after_devices(cc, NULL, err);
	if (r < 0)
		goto fail;
	return 0;

fail:
	if (err && *err && !(*err)->status)
		(*err)->status = GRPC_INTERNAL;
	agent_error_wrap(err, "creating container %s", req->container_id);
	c->pending_create = NULL;
	container_destroy(c);
	create_ctx_free(cc);
	return r;
}

/* --- start ----------------------------------------------------------------------------- */

struct start_ctx {
	struct container *c;
	container_done_fn done;
	void *ctx;
	struct loop_timer *timer; /* agent.launch_process_timeout */
	bool timed_out;
};

static void on_init_started(struct launch *l, int r, agent_error_t *err, void *data)
{
	struct start_ctx *sc = data;
	struct container *c = sc->c;

	sc->timer = loop_timer_cancel(c->sb->loop, sc->timer);
	if (!c->init || c->init->launch != l) {
		/* Dropped: by RemoveContainer, or by the timeout (the init was killed). */
		r = step_cancelled(c, sc->timed_out, "start", &err);
		if (c->state == CONTAINER_STARTING)
			container_set_state(c, CONTAINER_STOPPED);
	} else {
		process_launch_drop(c->init, false);
		if (r == 0) {
			/* The init may have exited already (STOPPED): the start still succeeded. */
			if (c->state == CONTAINER_STARTING)
				container_set_state(c, CONTAINER_RUNNING);
			agent_error_t *herr = NULL;
			int h = hooks_begin(c, CONTAINER_HOOKS_POSTSTART, sc, &herr);
			if (h > 0)
				return; /* poststart_done answers */
			if (h < 0) {
				log_write(LOG_LEVEL_WARN, "sandbox",
					  LOG_FIELDS({"container-id", c->id}), "%s", herr->msg);
				agent_error_free(herr);
			}
		} else {
			/* The launch killed the init: it will not run. */
			if (err && !err->status)
				err->status = GRPC_INTERNAL;
			if (c->state == CONTAINER_STARTING)
				container_set_state(c, CONTAINER_STOPPED);
		}
	}
	sc->done(r, err, sc->ctx);
	free(sc);
}

/* The poststart hooks ended: their failures were logged, the start succeeded. */
static void poststart_done(struct start_ctx *sc)
{
	sc->done(0, NULL, sc->ctx);
	free(sc);
}

/* RemoveContainer or DestroySandbox during the poststart hooks. */
static void start_aborted(void *start_ctx)
{
	struct start_ctx *sc = start_ctx;
	agent_error_t *err = NULL;

	agent_error_set_status(&err, GRPC_ABORTED, ECANCELED,
			       "container %s was removed during its poststart hooks", sc->c->id);
	sc->done(-ECANCELED, err, sc->ctx);
	free(sc);
}

static void on_hooks_done(int r, const agent_error_t *err, void *data)
{
	struct container *c = data;
	void *owner = c->hooks_owner;

	c->hooks = NULL; /* the job frees itself after this */
	c->hooks_owner = NULL;
	switch (c->hooks_kind) {
	case CONTAINER_HOOKS_PRESTART:
		prestart_done(owner, r, err);
		break;
	case CONTAINER_HOOKS_POSTSTART:
		poststart_done(owner);
		break;
	case CONTAINER_HOOKS_POSTSTOP:
		remove_finish(c);
		break;
	}
}

static void on_start_timeout(struct loop_timer *t, void *data)
{
	struct start_ctx *sc = data;

	sc->timer = NULL;
	sc->timed_out = true;
	log_write(LOG_LEVEL_WARN, "sandbox", LOG_FIELDS({"container-id", sc->c->id}),
		  "the container's start timed out: killing it");
	if (sc->c->init && sc->c->init->launch)
		process_launch_drop(sc->c->init, true); /* answers through on_init_started */
}

int container_start(struct sandbox *sb, const char *cid, container_done_fn done, void *ctx,
		    agent_error_t **err)
{
	struct container *c = container_find(sb, cid);
	struct start_ctx *sc;
	int r;

	if (!c)
		return agent_error_set_status(err, GRPC_INTERNAL, ESRCH, "Invalid container id %s",
					      cid);
	r = container_may(c, CONTAINER_OP_START, err);
	if (r < 0)
		return r;
	/* CREATED means parked: the launch is there and the init alive (its exit -> STOPPED). */
	if (!c->init || !c->init->launch)
		return agent_error_set_status(err, GRPC_INTERNAL, EINVAL,
					      "container %s has no parked process", cid);
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return agent_error_set(err, ENOMEM, "out of memory");
	sc->c = c;
	sc->done = done;
	sc->ctx = ctx;
	oom_watch(c);
	r = launch_start(c->init->launch, on_init_started, sc, err);
	if (r < 0) {
		free(sc);
		return r;
	}
	container_set_state(c, CONTAINER_STARTING); /* no second Start while this one runs */
	sc->timer = step_timer(c, on_start_timeout, sc);
	return 0;
}

/* --- exec ------------------------------------------------------------------------------ */

struct exec_ctx {
	struct process *p;
	container_done_fn done;
	void *ctx;
	Grpc__Process *merged; /* the request's process with the container's capabilities */
	struct loop_timer *timer; /* agent.launch_process_timeout */
	bool timed_out;
};

static void on_exec_done(struct launch *l, int r, agent_error_t *err, void *data)
{
	struct exec_ctx *ec = data;
	struct process *p = ec->p;
	bool dropped = p->launch != l;

	ec->timer = loop_timer_cancel(p->c->sb->loop, ec->timer);
	if (dropped) {
		r = step_cancelled(p->c, ec->timed_out, "exec", &err);
	} else {
		process_launch_drop(p, r < 0);
		if (r < 0 && err && !err->status)
			err->status = GRPC_INTERNAL;
	}
	/* Never started: nobody will wait for it. Unless it is being destroyed (removed). */
	if (r < 0 && (!dropped || ec->timed_out)) {
		p->waited = true;
		p->out.eof = p->err.eof = true;
		process_maybe_free(p);
	}
	ec->done(r, err, ec->ctx);
	grpc__process__free_unpacked(ec->merged, NULL);
	free(ec);
}

static void on_exec_timeout(struct loop_timer *t, void *data)
{
	struct exec_ctx *ec = data;

	ec->timer = NULL;
	ec->timed_out = true;
	log_write(LOG_LEVEL_WARN, "sandbox",
		  LOG_FIELDS({"container-id", ec->p->c->id}, {"exec-id", ec->p->exec_id}),
		  "the exec's set-up timed out: killing it");
	if (ec->p->launch)
		process_launch_drop(ec->p, true); /* answers through on_exec_done */
}

int container_exec(struct sandbox *sb, const Grpc__ExecProcessRequest *req, int passfd[3],
		   container_done_fn done, void *ctx, agent_error_t **err)
{
	struct container *c = container_find(sb, req->container_id);
	struct launch_config lc = {.init = false};
	struct exec_ctx *ec;
	struct process *p;
	int child[3] = {-1, -1, -1};
	int r;

	if (!c)
		return agent_error_set_status(err, GRPC_INTERNAL, ESRCH, "Invalid container id %s",
					      req->container_id);
	if (!exec_id_valid(req->exec_id))
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "invalid exec id \"%s\"", req->exec_id);
	if (!req->process)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "missing process");
	r = process_validate(req->process, "process", err);
	if (r < 0)
		return r;
	r = container_may(c, CONTAINER_OP_EXEC, err);
	if (r < 0)
		return r;
	for (p = c->procs; p; p = p->next) {
		if (strcmp(p->exec_id, req->exec_id) != 0)
			continue;
		if (!p->waited || p->init)
			return agent_error_set_status(err, GRPC_ALREADY_EXISTS, EEXIST,
						      "exec_id '%s' already exists", req->exec_id);
		/* Waited for already: its id is free again, and its leftovers go now. */
		process_discard(p);
		break;
	}
	if (c->n_procs >= PROCESSES_MAX)
		return agent_error_set_status(err, GRPC_RESOURCE_EXHAUSTED, ENOSPC,
					      "too many processes in container %s", c->id);
	if (c->ns_fds[NS_MNT] < 0) /* pinned when it was created: it always has them */
		return agent_error_set_status(err, GRPC_INTERNAL, EBADF,
					      "container %s has no namespaces to join", c->id);

	ec = calloc(1, sizeof(*ec));
	if (!ec)
		return agent_error_set(err, ENOMEM, "out of memory");
	ec->merged = message_dup(&req->process->base);
	if (!ec->merged) {
		free(ec);
		return agent_error_set(err, ENOMEM, "out of memory");
	}
	if (!ec->merged->capabilities && c->spec->process->capabilities)
		ec->merged->capabilities = message_dup(&c->spec->process->capabilities->base);
	p = process_new(c, req->exec_id, false, req->process->terminal);
	if (!p) {
		r = agent_error_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	r = process_stdio_new(p, sb->loop, sb->opts.pipe_size, passfd, child, err);
	if (r < 0)
		goto fail;
	lc.process = ec->merged;
	memcpy(lc.join_fds, c->ns_fds, sizeof(lc.join_fds));
	lc.root_fd = c->root_fd;
	ec->p = p;
	ec->done = done;
	ec->ctx = ctx;
	r = launch_process(c, p, &lc, child, on_exec_done, ec, err);
	if (r < 0)
		goto fail;
	process_link(c, p);
	ec->timer = step_timer(c, on_exec_timeout, ec);
	return 0;
fail:
	if (err && *err && !(*err)->status)
		(*err)->status = GRPC_INTERNAL;
	process_destroy(p);
	grpc__process__free_unpacked(ec->merged, NULL);
	free(ec);
	return r;
}

/* --- the rest ------------------------------------------------------------------------- */

int container_remove(struct sandbox *sb, const char *cid, container_done_fn done, void *ctx,
		     agent_error_t **err)
{
	struct container *c = container_find(sb, cid);

	if (!c)
		return agent_error_set_status(err, GRPC_INTERNAL, ESRCH, "Invalid container id %s",
					      cid);
	int r = container_may(c, CONTAINER_OP_REMOVE, err);
	if (r < 0)
		return r;
	remove_begin(c, done, ctx); /* a create, start or exec under way is answered ABORTED */
	return 0;
}

/* A pid-namespace init ignores signals it has no handler for: SIGTERM then does nothing. */
static bool sigterm_handled(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	bool handled = false;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return true;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "SigBlk:", 7) && strncmp(line, "SigIgn:", 7) &&
		    strncmp(line, "SigCgt:", 7))
			continue;
		unsigned long long mask = strtoull(line + 7, NULL, 16);
		if (mask & (1ULL << (SIGTERM - 1)))
			handled = true;
	}
	fclose(f);
	return handled;
}

int container_signal(struct sandbox *sb, const char *cid, const char *eid, int sig,
		     agent_error_t **err)
{
	struct container *c = container_find(sb, cid);
	struct process *p;
	int r;

	if (sig < 0 || sig >= NSIG)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "invalid signal %d", sig);
	if (c && container_may(c, CONTAINER_OP_SIGNAL, err) < 0)
		return -EBUSY;
	if (!eid[0] && sig == SIGKILL) {
		if (!c)
			return agent_error_set_status(err, GRPC_INTERNAL, ESRCH,
						      "Invalid container id %s", cid);
		for (p = c->procs; p; p = p->next)
			process_signal(p, SIGKILL);
		if (c->cg && cgroup_signal_all(c->cg, SIGKILL, err) < 0)
			return agent_error_wrap(err, "killing the processes of %s", cid);
		return 0;
	}
	r = process_lookup(sb, cid, eid, false, &p, err);
	if (r < 0)
		return r;
	if (p->exited || p->pid <= 0)
		return 0; /* a zombie or a reaped process: nothing to signal, never a reused pid */
	if (p->init && sig == SIGTERM && !sigterm_handled(p->pid))
		sig = SIGKILL;
	r = process_signal(p, sig);
	if (r < 0)
		return agent_error_setsys(err, -r, "signal %d to pid %d", sig, (int)p->pid);
	return 0;
}

int container_pause(struct sandbox *sb, const char *cid, bool pause, agent_error_t **err)
{
	struct container *c = container_find(sb, cid);
	int r;

	if (!c)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, ESRCH,
					      "invalid container id %s", cid);
	r = container_may(c, pause ? CONTAINER_OP_PAUSE : CONTAINER_OP_RESUME, err);
	if (r < 0)
		return r;
	if (!c->cg)
		return agent_error_set(err, EOPNOTSUPP, "container %s has no cgroup", cid);
	r = cgroup_freeze(c->cg, pause, err);
	if (r < 0)
		return r;
	if (pause) {
		c->resume_to = c->state; /* CREATED or RUNNING: what Resume restores */
		container_set_state(c, CONTAINER_PAUSED);
	} else {
		container_set_state(c, c->resume_to);
	}
	return 0;
}

int container_update(struct sandbox *sb, const char *cid, const Grpc__LinuxResources *res,
		     agent_error_t **err)
{
	struct container *c = container_find(sb, cid);
	int r;

	if (!c)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, ESRCH,
					      "invalid container id %s", cid);
	r = container_may(c, CONTAINER_OP_UPDATE, err);
	if (r < 0)
		return r;
	if (!res)
		return 0;
	if (!c->cg)
		return agent_error_set(err, EOPNOTSUPP, "container %s has no cgroup", cid);
	r = cgroup_resources_validate(res, err);
	if (r < 0)
		return r;
	r = cgroup_apply(c->cg, res, true, err);
	if (r < 0)
		return r;
	if (res->cpu && res->cpu->cpus[0]) {
		char *cpus = strdup(res->cpu->cpus);
		if (!cpus)
			return agent_error_set(err, ENOMEM, "out of memory");
		free(c->cpus);
		c->cpus = cpus;
	}
	return 0;
}

struct remove_all {
	unsigned left;
	container_done_fn done;
	void *ctx;
};

static void on_one_removed(int r, agent_error_t *err, void *data)
{
	struct remove_all *ra = data;

	agent_error_free(err);
	if (--ra->left > 0)
		return;
	ra->done(0, NULL, ra->ctx);
	free(ra);
}

int containers_remove_all(struct sandbox *sb, container_done_fn done, void *ctx,
			  agent_error_t **err)
{
	struct remove_all *ra = calloc(1, sizeof(*ra));
	struct container *c, *next;

	if (!ra)
		return agent_error_set(err, ENOMEM, "out of memory");
	ra->done = done;
	ra->ctx = ctx;
	ra->left = 1; /* ours, until every removal began */
	for (c = sb->containers; c; c = next) {
		next = c->next;
		/* Removed already, its poststop hooks running: it ends by itself. */
		if (c->state == CONTAINER_REMOVING)
			continue;
		ra->left++;
		remove_begin(c, on_one_removed, ra); /* may end (and unlink c) at once */
	}
	on_one_removed(0, NULL, ra);
	return 0;
}

int containers_destroy_all(struct sandbox *sb, agent_error_t **err)
{
	struct container *c;

	while ((c = sb->containers))
		container_destroy(c);
	return 0;
}
