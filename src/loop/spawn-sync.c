/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The blocking spawn (spawn.h): feeds the input without blocking on a full pipe
 * and waits for that one child through its pidfd (or short polls without one),
 * until the deadline. A SIGPIPE from a hook that closed its stdin is consumed,
 * never left pending, never fatal: the caller may not ignore SIGPIPE (the
 * container's set-up child resets its signals).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/macro.h"
#include "loop/fork.h"
#include "loop/loop.h"
#include "loop/spawn-child.h"
#include "loop/spawn.h"

#define NO_PIDFD_POLL_MS 10

/* Feeds the input while the child runs; returns when it is all written, refused, or past the
 * deadline. */
static void feed(struct spawn_ends *e, const char *data, size_t len, uint64_t deadline)
{
	size_t off = 0;

	if (fcntl(e->in, F_SETFL, O_NONBLOCK) < 0)
		return;
	while (off < len) {
		struct pollfd fds[2] = {{.fd = e->in, .events = POLLOUT},
					{.fd = e->pidfd, .events = POLLIN}};
		int timeout = e->pidfd >= 0 ? -1 : NO_PIDFD_POLL_MS;
		if (deadline) {
			uint64_t now = loop_now_ms();
			if (now >= deadline)
				return;
			timeout = (int)MIN(deadline - now,
					   (uint64_t)(timeout < 0 ? 1 << 30 : timeout));
		}
		int pr = poll(fds, e->pidfd >= 0 ? 2 : 1, timeout);
		if (pr < 0 && errno != EINTR)
			return;
		if (pr <= 0)
			continue;
		if (fds[1].revents && e->pidfd >= 0)
			return; /* it exited without reading everything */
		if (fds[0].revents & (POLLERR | POLLHUP))
			return;
		ssize_t w = write_nosigpipe(e->in, data + off, len - off);
		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno != EAGAIN && errno != EINTR)
			return; /* the child closed its stdin */
	}
}

int spawn_exec_sync(const struct spawn_cmd *cmd, const void *input, size_t in_len,
		    uint64_t timeout_ms, struct spawn_result *res, agent_error_t **err)
{
	const struct spawn_what w = {.cmd = cmd, .name = cmd->path};
	const struct spawn_cmd quiet = {
		.path = cmd->path, .argv = cmd->argv, .envp = cmd->envp, .discard_output = true};
	const struct spawn_what wq = {.cmd = &quiet, .name = w.name};
	struct spawn_ends e;
	uint64_t deadline = timeout_ms ? loop_now_ms() + timeout_ms : 0;

	memset(res, 0, sizeof(*res));
	res->out = res->err = (char *)"";
	if (!cmd->path || cmd->path[0] != '/' || !cmd->argv || !cmd->argv[0])
		return agent_error_set(err, EINVAL, "spawn: %s is not an absolute path",
				       cmd->path ? cmd->path : "(none)");
	int rc = spawn_child_start(NULL, &wq, &e, err);
	if (rc < 0)
		return rc;
	if (in_len)
		feed(&e, input, in_len, deadline);
	e.in = safe_close(e.in); /* EOF for a reader, even before its deadline */
	rc = loop_fork_wait(e.pid, e.pidfd, deadline, &res->status);
	if (rc == -ETIMEDOUT) {
		res->timed_out = true;
		/* Not waited for yet, so the pid is still that child. */
		kill(e.pid, SIGKILL);
		rc = loop_fork_wait(e.pid, e.pidfd, 0, &res->status);
	}
	if (rc < 0) {
		kill(e.pid, SIGKILL);
		(void)loop_fork_wait(e.pid, e.pidfd, 0, &res->status);
		spawn_ends_close(&e);
		return agent_error_setsys(err, -rc, "waiting for %s", w.name);
	}
	res->exec_errno = spawn_exec_errno(&e);
	spawn_ends_close(&e);
	return 0;
}
