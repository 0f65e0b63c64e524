/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's one way to fork. In the child, before loop_fork returns 0, every
 * fd above 2 that is not in the keep list is closed (close_range over the gaps,
 * or /proc/self/fd where close_range is missing) and, unless asked otherwise,
 * the signal mask and dispositions are reset (the agent blocks signals for its
 * signalfd and ignores SIGPIPE). In the parent the child is claimed with THE
 * reaper (loop/reaper.h) before loop_fork returns, with a pidfd for
 * reaper_kill(): no exit is lost, and a stale cached exit of a recycled pid is
 * never handed out for it.
 *
 * Where there is no loop (the container's set-up child, a blocking helper), the
 * reaper is NULL and loop_fork_wait() waits for that one child.
 */
#ifndef AGENT_LOOP_FORK_H
#define AGENT_LOOP_FORK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "loop/reaper.h"

enum {
	LOOP_FORK_KEEP_SIGNALS = 1 << 0, /* leave the signal mask and dispositions as they are */
	LOOP_FORK_KEEP_FDS = 1 << 1, /* close nothing (the caller closes what it must) */
};

/*
 * fork(). Returns 0 in the child, the child's pid in the parent, or -errno with
 * *err set. keep: the fds above 2 the child keeps (n_keep of them, duplicates and
 * fds <= 2 allowed). ret_pidfd (optional): a pidfd of the child that the caller
 * owns (-1 on kernels without pidfd_open).
 */
pid_t loop_fork(struct reaper *r, const int *keep, size_t n_keep, unsigned flags, int *ret_pidfd,
		agent_error_t **err);

/*
 * Blocking wait for one child forked with a NULL reaper (never any other):
 * returns 0 with *status, -ETIMEDOUT at deadline_ms (CLOCK_MONOTONIC; 0 = none;
 * the child is left running), or -errno. pidfd may be -1 (the exit is then
 * polled for). Retries EINTR.
 */
int loop_fork_wait(pid_t pid, int pidfd, uint64_t deadline_ms, int *status);

/* pidfd_open(pid, 0), close-on-exec: the fd, or -errno (-ENOSYS on kernels before 5.3). */
int loop_pidfd_open(pid_t pid);

/* Closes every fd >= 3 not in keep. For a child that forks itself; 0 or -errno. */
int loop_close_fds_except(const int *keep, size_t n_keep);

#endif
