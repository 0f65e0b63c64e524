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

#include "base/fsutil.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "container/launch-child.h"
#include "container/sync.h"

enum launch_state { LAUNCH_SETUP, LAUNCH_PARKED, LAUNCH_STARTING, LAUNCH_DONE };

struct launch {
	struct loop *loop;
	pid_t pid;
	int sock;
	struct loop_io *io;
	enum launch_state state;
	bool init;
	launch_fn done;
	void *data;
	char *uid_map, *gid_map;
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
	if (r < 0 && l->pid > 0)
		kill(l->pid, SIGKILL);
	fn(l, r, err, data);
}

static void launch_on_sock(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct launch *l = data;
	agent_error_t *err = NULL;
	struct sync_msg m;
	int r;

	r = sync_recv(fd, &m);
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
	if (r < 0) {
		l->state = LAUNCH_DONE;
		r = agent_error_setsys(&err, -r, "reading the container's set-up channel");
		launch_finish(l, r, err);
		return;
	}
	switch (m.step) {
	case SYNC_PID:
		if (l->state == LAUNCH_SETUP && l->init && m.errnum > 0) {
			l->pid = m.errnum;
			return;
		}
		break;
	case SYNC_LOG:
		log_write(LOG_LEVEL_INFO, "container", LOG_FIELDS({"action", "child process log"}),
			  "%s", m.text);
		return;
	case SYNC_USERNS:
		if (l->state == LAUNCH_SETUP && write_id_maps(l, &err) == 0) {
			r = sync_send(l->sock, SYNC_MAPS_DONE, 0, NULL);
			if (r == 0)
				return;
			agent_error_setsys(&err, -r, "sending maps-done");
		}
		break;
	case SYNC_READY:
		if (l->state == LAUNCH_SETUP && l->init) {
			l->state = LAUNCH_PARKED;
			/* Parked: nothing more comes until launch_start(), not even a hang-up. */
			l->io = loop_io_del(l->loop, l->io);
			launch_finish(l, 0, NULL);
			return;
		}
		break;
	case SYNC_ERROR:
		agent_error_set(&err, m.errnum > 0 ? m.errnum : EIO, "%s", m.text);
		break;
	default:
		break;
	}
	if (!err)
		agent_error_set(&err, EPROTO, "unexpected set-up step \"%s\" from the container",
				sync_step_name(m.step));
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
	bool new_pid, new_user, switched = false;
	struct launch *l;
	pid_t pid;
	int r;

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
	pid = fork();
	if (pid == 0) {
		safe_close(sv[0]);
		launch_child_main(&args, sv[1]);
	}
	r = -errno;
	if (switched && setns(cfg->self_pidns_fd, CLONE_NEWPID) < 0)
		log_error("container", "cannot return to the agent's pid namespace: %s",
			  strerror(errno));
	if (pid < 0) {
		/* A pid namespace whose init died refuses new members with ENOMEM. */
		if (r == -ENOMEM && args.join_fds[NS_PID] >= 0)
			r = agent_error_set(err, ESRCH,
					    "the container's pid namespace has no init any more");
		else
			r = agent_error_setsys(err, -r, "fork");
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
	r = sync_send(l->sock, SYNC_GO, 0, NULL);
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
	kill(l->pid, SIGKILL);
fail:
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

int launch_start(struct launch *l, launch_fn done, void *data, agent_error_t **err)
{
	int r;

	if (l->state != LAUNCH_PARKED)
		return agent_error_set(err, EBUSY, "the container process is not parked");
	l->io = loop_io_add(l->loop, l->sock, EPOLLIN, launch_on_sock, l);
	if (!l->io)
		return agent_error_setsys(err, errno, "watching the set-up channel");
	r = sync_send(l->sock, SYNC_START, 0, NULL);
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
	if (kill_child && l->pid > 0 && l->state != LAUNCH_DONE)
		kill(l->pid, SIGKILL);
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
	free(l->uid_map);
	free(l->gid_map);
	free(l);
	return NULL;
}
