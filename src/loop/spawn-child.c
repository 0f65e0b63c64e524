/* SPDX-License-Identifier: Apache-2.0 */
#include "loop/spawn-child.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/macro.h"
#include "loop/fork.h"

extern char **environ;

static _noreturn_ void child_run(const struct spawn_what *w, int in, int out, int err, int report)
{
	int e;

	/* Above 2 first, so that no dup2 below overwrites a source it still needs. */
	in = fcntl(in, F_DUPFD_CLOEXEC, 3);
	out = fcntl(out, F_DUPFD_CLOEXEC, 3);
	err = fcntl(err, F_DUPFD_CLOEXEC, 3);
	if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		goto fail;
	if (w->fn)
		_exit(w->fn(w->arg) == 0 ? 0 : 1);
	execve(w->cmd->path, w->cmd->argv, w->cmd->envp ? w->cmd->envp : environ);
fail:
	e = errno;
	if (write(report, &e, sizeof(e)) < 0) {
		/* the exit status 127 still says it */
	}
	_exit(127);
}

void spawn_ends_close(struct spawn_ends *e)
{
	e->in = safe_close(e->in);
	e->out = safe_close(e->out);
	e->err = safe_close(e->err);
	e->report = safe_close(e->report);
	e->pidfd = safe_close(e->pidfd);
}

int spawn_exec_errno(struct spawn_ends *e)
{
	int v = 0;

	if (e->report >= 0 && read(e->report, &v, sizeof(v)) != (ssize_t)sizeof(v))
		v = 0;
	e->report = safe_close(e->report);
	return v;
}

int spawn_child_start(struct reaper *r, const struct spawn_what *w, struct spawn_ends *ends,
		      agent_error_t **err)
{
	int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1}, prep[2] = {-1, -1};
	_cleanup_close_ int null_fd = -1;
	bool discard = w->cmd && w->cmd->discard_output;
	int rc;

	*ends = (struct spawn_ends){.in = -1, .out = -1, .err = -1, .report = -1, .pidfd = -1};
	if (discard && (null_fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		return agent_error_setsys(err, errno, "%s: opening /dev/null", w->name);
	if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(prep, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    (!discard && (pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0))) {
		rc = agent_error_setsys(err, errno, "%s: creating pipes", w->name);
		goto fail;
	}
	int child_out = discard ? null_fd : pout[1], child_err = discard ? null_fd : perr[1];
	const int keep[] = {pin[0], child_out, child_err, prep[1]};
	pid_t pid = loop_fork(r, keep, ARRAY_SIZE(keep), 0, r ? NULL : &ends->pidfd, err);
	if (pid < 0) {
		rc = agent_error_wrap(err, "%s", w->name);
		goto fail;
	}
	if (pid == 0)
		child_run(w, pin[0], child_out, child_err, prep[1]);
	ends->pid = pid;
	ends->in = pin[1];
	ends->out = pout[0];
	ends->err = perr[0];
	ends->report = prep[0];
	safe_close(pin[0]);
	safe_close(pout[1]);
	safe_close(perr[1]);
	safe_close(prep[1]);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		safe_close(pin[i]);
		safe_close(pout[i]);
		safe_close(perr[i]);
		safe_close(prep[i]);
	}
	return rc;
}
