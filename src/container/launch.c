// SPDX-License-Identifier: Apache-2.0
/*
 * The agent's side of a launch. The fork happens here, with the agent's pid
 * namespace for children switched to the container's (or a new one) just for
 * the fork, so the child is the agent's own child: THE reaper sees its exit.
 */
#include "container/launch.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "container/launch-child.h"
#include "container/sync.h"
#include "loop/fork.h"
#include "base/status.h"
#include "loop/reaper.h"

enum launch_state { LAUNCH_SETUP, LAUNCH_PARKED, LAUNCH_STARTING, LAUNCH_DONE };

struct launch {
	struct loop *loop;
	pid_t pid;
	int pidfd; /* of pid, -1 without one: every kill goes through it */
	int sock;
	struct loop_io *io;
	enum launch_state state;
	bool init;
	launch_fn done;
	void *data;
	char *uid_map, *gid_map;
	struct sync_seq seq; /* where the conversation is, by the step table */
};

static char *id_map_text(Grpc__LinuxIDMapping **maps, size_t n)
{
	struct strbuf sb;

	strbuf_init(&sb, 64 * 1024);
	for (size_t i = 0; i < n; i++)
		if (maps[i]->size > 0)
			strbuf_addf(&sb, "%u %u %u\n", maps[i]->containerid, maps[i]->hostid,
				    maps[i]->size);
	return strbuf_steal(&sb);
}

static int write_id_maps(struct launch *l, agent_error_t **err)
{
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)l->pid);
	r = write_file(path, l->uid_map ? l->uid_map : "");
	if (r < 0)
		return agent_error_setsys(err, -r, "writing %s", path);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)l->pid);
	r = write_file(path, l->gid_map ? l->gid_map : "");
	if (r < 0)
		return agent_error_setsys(err, -r, "writing %s", path);
	return 0;
}

/* SIGKILL through the pidfd: a child that exited (and was reaped) is never mistaken. */
static void launch_kill(struct launch *l)
{
	if (l->pidfd >= 0) {
		int r = pidfd_signal(l->pidfd, SIGKILL);
		if (r != -ENOSYS)
			return;
	}
	if (l->pid > 0)
		kill(l->pid, SIGKILL);
}

static void launch_finish(struct launch *l, int r, agent_error_t *err)
{
	launch_fn fn = l->done;
	void *data = l->data;

	/* Each step is delivered once: a later launch_free() has nothing to cancel. */
	l->done = NULL;
	l->data = NULL;
	if (l->state != LAUNCH_PARKED) {
		l->io = loop_io_del(l->loop, l->io);
		l->sock = safe_close(l->sock);
	}
	if (r < 0)
		launch_kill(l);
	fn(l, r, err, data);
}

static void launch_on_sock(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct launch *l = data;
	agent_error_t *err = NULL;
	struct sync_msg m;
	int r;

	r = sync_recv_seq(fd, &l->seq, &m);
	if (r == -EAGAIN)
		return;
	if (r == -EPIPE) {
		if (l->state == LAUNCH_STARTING || (l->state == LAUNCH_SETUP && !l->init)) {
			l->state = LAUNCH_DONE;
			launch_finish(l, 0, NULL);
			return;
		}
		l->state = LAUNCH_DONE;
		r = agent_error_set(&err, ECHILD, "container process exited during set-up");
		launch_finish(l, r, err);
		return;
	}
	if (r == -EPROTO) {
		/* Out of the step table's order, repeated, or not the child's to send. */
		l->state = LAUNCH_DONE;
		r = agent_error_set(&err, EPROTO,
				    "set-up step \"%s\" from the container out of order",
				    sync_step_name(m.step));
		launch_finish(l, r, err);
		return;
	}
	if (r < 0) {
		l->state = LAUNCH_DONE;
		r = agent_error_setsys(&err, -r, "reading the container's set-up channel");
		launch_finish(l, r, err);
		return;
	}
	/* The table let only this launch's steps through, each in its place. */
	switch (m.step) {
	case SYNC_PID:
		if (m.errnum > 0) {
			/*
			 * The init, our grandchild: it waits for its parent (which sent this)
			 * to exit, then for our next step, so it is alive and the pid its own.
			 */
			l->pid = m.errnum;
			l->pidfd = safe_close(l->pidfd);
			int pidfd = loop_pidfd_open(l->pid);
			l->pidfd = pidfd >= 0 ? pidfd : -1;
			return;
		}
		agent_error_set(&err, EPROTO, "the container reported pid %d", (int)m.errnum);
		break;
	case SYNC_LOG:
		log_write(LOG_LEVEL_INFO, "container", LOG_FIELDS({"action", "child process log"}),
			  "%s", m.text);
		return;
	case SYNC_USERNS:
		if (write_id_maps(l, &err) == 0) {
			r = sync_send_seq(l->sock, &l->seq, SYNC_MAPS_DONE, 0, NULL);
			if (r == 0)
				return;
			agent_error_setsys(&err, -r, "sending maps-done");
		}
		break;
	case SYNC_READY:
		l->state = LAUNCH_PARKED;
		/* Parked: nothing more comes until launch_start(), not even a hang-up. */
		l->io = loop_io_del(l->loop, l->io);
		launch_finish(l, 0, NULL);
		return;
	case SYNC_ERROR:
		/* A request the set-up found bad (a /proc bind, a target that is no directory)
		 * stays INVALID_ARGUMENT; any other failure is the agent's. */
		if (m.status == GRPC_INVALID_ARGUMENT)
			agent_error_set_status(&err, GRPC_INVALID_ARGUMENT,
					       m.errnum > 0 ? m.errnum : EINVAL, "%s", m.text);
		else
			agent_error_set(&err, m.errnum > 0 ? m.errnum : EIO, "%s", m.text);
		break;
	default:
		agent_error_set(&err, EPROTO, "unexpected set-up step \"%s\" from the container",
				sync_step_name(m.step));
		break;
	}
	l->state = LAUNCH_DONE;
	r = -err->errnum;
	launch_finish(l, r, err);
}

/* Opens the namespace paths of the spec that the caller did not give as fds. */
static int open_spec_namespaces(const struct launch_config *cfg, int fds[NS_COUNT],
				bool *ret_new_pid, bool *ret_new_user, agent_error_t **err)
{
	const Grpc__Linux *lx = cfg->spec->linux;

	*ret_new_pid = *ret_new_user = false;
	for (int t = 0; t < NS_COUNT; t++)
		fds[t] = -1;
	if (!cfg->init || !lx)
		return 0;
	for (size_t i = 0; i < lx->n_namespaces; i++) {
		const Grpc__LinuxNamespace *ns = lx->namespaces[i];
		int t = ns_type_from_oci(ns->type);

		if (t < 0)
			return agent_error_set(err, EINVAL, "unknown namespace type \"%s\"",
					       ns->type);
		if (cfg->join_fds[t] >= 0)
			continue;
		if (!ns->path || !ns->path[0]) {
			if (t == NS_PID)
				*ret_new_pid = true;
			if (t == NS_USER)
				*ret_new_user = true;
			continue;
		}
		fds[t] = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (fds[t] < 0)
			return agent_error_setsys(err, errno, "opening %s namespace %s", ns->type,
						  ns->path);
	}
	return 0;
}

/*
 * Whether children we fork are born in our own pid namespace: 1 yes, 0 no,
 * -errno when /proc cannot tell. pid_for_children of a namespace nobody was
 * forked into yet does not open (ENOENT): that one is not ours either.
 */
static int pidns_children_own(void)
{
	struct stat self, children;

	if (stat("/proc/self/ns/pid", &self) < 0)
		return -errno;
	if (stat("/proc/self/ns/pid_for_children", &children) < 0)
		return errno == ENOENT ? 0 : -errno;
	return self.st_dev == children.st_dev && self.st_ino == children.st_ino;
}

/* Back to the agent's own pid namespace for our children, with one retry. */
static int pidns_return(int self_pidns_fd, agent_error_t **err)
{
	for (int i = 0; i < 2; i++)
		if (setns(self_pidns_fd, CLONE_NEWPID) == 0)
			return 0;
	return agent_error_setsys(err, errno, "cannot return to the agent's pid namespace");
}

/*
 * Before a fork: children must start from the agent's own pid namespace. When
 * an earlier launch could not come back from a container's, try again; if
 * that fails the launch is refused rather than forked into the wrong one.
 */
static int pidns_check(int self_pidns_fd, agent_error_t **err)
{
	int r = pidns_children_own();

	if (r != 0)
		return 0; /* ours, or /proc cannot say (nothing better to compare with) */
	log_warn("container", "children are not born in the agent's pid namespace: restoring it");
	r = pidns_return(self_pidns_fd, err);
	if (r < 0)
		return agent_error_wrap(err, "refusing to launch a container process");
	return 0;
}

/* Hands a set error to the caller's err (which may be NULL: then it is dropped). */
static void hand_error(agent_error_t **err, agent_error_t *e)
{
	if (err && !*err)
		*err = e;
	else
		agent_error_free(e);
}

static void close_fds(int fds[NS_COUNT])
{
	for (int t = 0; t < NS_COUNT; t++)
		fds[t] = safe_close(fds[t]);
}

int launch_new(struct loop *loop, const struct launch_config *cfg, launch_fn done, void *data,
	       struct launch **ret, agent_error_t **err)
{
	struct launch_child_args args = {.cfg = cfg};
	int opened[NS_COUNT];
	int sv[2] = {-1, -1};
	int keep[4 + NS_COUNT + 1];
	size_t n_keep = 0;
	agent_error_t *fork_err = NULL, *back_err = NULL;
	bool new_pid, new_user, switched = false;
	struct launch *l;
	pid_t pid;
	int r;

	for (int t = 0; t < NS_COUNT; t++)
		opened[t] = -1;
	if (!cfg->init && cfg->root_fd < 0) {
		r = agent_error_set(err, EINVAL, "no root directory for the exec'd process");
		goto fail_fds;
	}
	r = pidns_check(cfg->self_pidns_fd, err);
	if (r < 0)
		goto fail_fds;
	r = open_spec_namespaces(cfg, opened, &new_pid, &new_user, err);
	if (r < 0)
		goto fail_fds;
	for (int t = 0; t < NS_COUNT; t++)
		args.join_fds[t] = cfg->join_fds[t] >= 0 ? cfg->join_fds[t] : opened[t];
	args.new_user = new_user;

	l = calloc(1, sizeof(*l));
	if (!l) {
		r = agent_error_set(err, ENOMEM, "out of memory");
		goto fail_fds;
	}
	l->loop = loop;
	l->sock = -1;
	l->pidfd = -1;
	l->init = cfg->init;
	l->done = done;
	l->data = data;
	if (new_user && cfg->spec->linux) {
		l->uid_map =
			id_map_text(cfg->spec->linux->uidmappings, cfg->spec->linux->n_uidmappings);
		l->gid_map =
			id_map_text(cfg->spec->linux->gidmappings, cfg->spec->linux->n_gidmappings);
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = agent_error_setsys(err, errno, "socketpair");
		goto fail;
	}

	/* The pid namespace for our children is switched only around the fork. */
	if (args.join_fds[NS_PID] >= 0) {
		if (setns(args.join_fds[NS_PID], CLONE_NEWPID) < 0) {
			r = agent_error_setsys(err, errno, "joining the pid namespace");
			goto fail;
		}
		switched = true;
	} else if (new_pid && new_user) {
		/*
		 * The pid namespace must belong to the new user namespace (or the init
		 * cannot mount its /proc): the child makes it after the user namespace
		 * and forks the init, which then reports its pid (SYNC_PID).
		 */
		args.pid_after_user = true;
	} else if (new_pid) {
		if (unshare(CLONE_NEWPID) < 0) {
			r = agent_error_setsys(err, errno, "creating a pid namespace");
			goto fail;
		}
		switched = true;
	}
	launch_seq_init(&l->seq, SYNC_SIDE_AGENT, &args);
	/* The child keeps only its set-up channel, its stdio, what it joins. */
	keep[n_keep++] = sv[1];
	for (int i = 0; i < 3; i++)
		keep[n_keep++] = cfg->stdio[i];
	for (int t = 0; t < NS_COUNT; t++)
		keep[n_keep++] = args.join_fds[t];
	keep[n_keep++] = cfg->init ? -1 : cfg->root_fd;
	pid = loop_fork(NULL, keep, n_keep, 0, &l->pidfd, &fork_err);
	if (pid == 0)
		launch_child_main(&args, sv[1]);
	if (switched && (r = pidns_return(cfg->self_pidns_fd, &back_err)) < 0) {
		/* Every later fork would land in the container's namespace: this launch
		 * fails, and the next one tries to restore ours before forking. */
		log_error("container", "%s", back_err->msg);
		agent_error_free(fork_err);
		hand_error(err, back_err);
		if (pid > 0) {
			l->pid = pid;
			goto fail_child;
		}
		goto fail;
	}
	if (pid < 0) {
		/* A pid namespace whose init died refuses new members with ENOMEM. */
		if (pid == -ENOMEM && args.join_fds[NS_PID] >= 0) {
			agent_error_free(fork_err);
			r = agent_error_set(err, ESRCH,
					    "the container's pid namespace has no init any more");
		} else {
			hand_error(err, fork_err);
			r = pid;
		}
		goto fail;
	}
	l->pid = pid;
	sv[1] = safe_close(sv[1]);
	l->sock = TAKE_FD(sv[0]);
	close_fds(opened);

	if (cfg->cg) {
		r = cgroup_add_pid(cfg->cg, pid, err);
		/* Even without resources: the defaults (device whitelist, pids) apply. */
		if (r >= 0 && cfg->apply_resources)
			r = cgroup_apply(cfg->cg,
					 cfg->spec->linux ? cfg->spec->linux->resources : NULL,
					 false, err);
		if (r < 0)
			goto fail_child;
	}
	r = sync_send_seq(l->sock, &l->seq, SYNC_GO, 0, NULL);
	if (r < 0) {
		r = agent_error_setsys(err, -r, "starting the container's set-up");
		goto fail_child;
	}
	l->io = loop_io_add(loop, l->sock, EPOLLIN, launch_on_sock, l);
	if (!l->io) {
		r = agent_error_setsys(err, errno, "watching the set-up channel");
		goto fail_child;
	}
	*ret = l;
	return 0;

fail_child:
	launch_kill(l);
fail:
	l->pidfd = safe_close(l->pidfd);
	safe_close(sv[0]);
	safe_close(sv[1]);
	l->sock = safe_close(l->sock);
	free(l->uid_map);
	free(l->gid_map);
	free(l);
fail_fds:
	close_fds(opened);
	return r;
}

pid_t launch_pid(const struct launch *l)
{
	return l->pid;
}

int launch_pidfd(const struct launch *l)
{
	return l->pidfd;
}

int launch_start(struct launch *l, launch_fn done, void *data, agent_error_t **err)
{
	int r;

	if (l->state != LAUNCH_PARKED)
		return agent_error_set(err, EBUSY, "the container process is not parked");
	l->io = loop_io_add(l->loop, l->sock, EPOLLIN, launch_on_sock, l);
	if (!l->io)
		return agent_error_setsys(err, errno, "watching the set-up channel");
	r = sync_send_seq(l->sock, &l->seq, SYNC_START, 0, NULL);
	if (r < 0) {
		l->io = loop_io_del(l->loop, l->io);
		return agent_error_setsys(err, -r, "releasing the container process");
	}
	l->state = LAUNCH_STARTING;
	l->done = done;
	l->data = data;
	return 0;
}

struct launch *launch_free(struct launch *l, bool kill_child)
{
	launch_fn fn;

	if (!l)
		return NULL;
	if (kill_child && l->state != LAUNCH_DONE)
		launch_kill(l);
	l->io = loop_io_del(l->loop, l->io);
	l->sock = safe_close(l->sock);
	/* A step still owed is completed, so its caller is never left waiting. */
	fn = l->done;
	if (fn) {
		agent_error_t *err = NULL;
		void *data = l->data;
		int r = agent_error_set(&err, ECANCELED,
					"the container process's launch was abandoned");
		l->done = NULL;
		l->data = NULL;
		fn(l, r, err, data);
	}
	l->pidfd = safe_close(l->pidfd);
	free(l->uid_map);
	free(l->gid_map);
	free(l);
	return NULL;
}
