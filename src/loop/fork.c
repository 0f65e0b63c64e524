/* SPDX-License-Identifier: Apache-2.0 */
#include "loop/fork.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/macro.h"
#include "loop/loop.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static bool kept(const int *keep, size_t n_keep, int fd)
{
	for (size_t i = 0; i < n_keep; i++)
		if (keep[i] == fd)
			return true;
	return false;
}

/* Without close_range: every open fd, as /proc/self/fd lists them. */
static int close_fds_slow(const int *keep, size_t n_keep)
{
	char buf[4096];
	int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return -errno;
	for (;;) {
		long n = syscall(SYS_getdents64, dfd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? -errno : 0;
			close(dfd);
			return e;
		}
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			char *end;
			long fd = strtol(d->d_name, &end, 10);
			off += d->d_reclen;
			if (*end || end == d->d_name || fd < 3 || fd == dfd ||
			    kept(keep, n_keep, (int)fd))
				continue;
			close((int)fd);
		}
	}
}

int loop_close_fds_except(const int *keep, size_t n_keep)
{
	unsigned lo = 3;

	/* Close [lo, next kept fd), then step over it, lowest kept fd first. */
	for (;;) {
		unsigned next = UINT_MAX;
		for (size_t i = 0; i < n_keep; i++)
			if (keep[i] >= 0 && (unsigned)keep[i] >= lo && (unsigned)keep[i] < next)
				next = (unsigned)keep[i];
		if (next > lo && syscall(SYS_close_range, lo, next - 1, 0) < 0)
			return errno == ENOSYS ? close_fds_slow(keep, n_keep) : -errno;
		if (next == UINT_MAX)
			return 0;
		lo = next + 1;
	}
}

int loop_pidfd_open(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0); /* pidfds are close-on-exec */

	return fd < 0 ? -errno : fd;
}

static void reset_signals(void)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;

	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL); /* SIGKILL, SIGSTOP and the C library's own refuse */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

pid_t loop_fork(struct reaper *r, const int *keep, size_t n_keep, unsigned flags, int *ret_pidfd,
		agent_error_t **err)
{
	int pidfd;
	pid_t pid;

	if (ret_pidfd)
		*ret_pidfd = -1;
	pid = fork();
	if (pid < 0)
		return agent_error_setsys(err, errno, "fork");
	if (pid == 0) {
		if (!(flags & LOOP_FORK_KEEP_FDS) && loop_close_fds_except(keep, n_keep) < 0)
			_exit(126); /* a child with stray fds would leak them into what it runs */
		if (!(flags & LOOP_FORK_KEEP_SIGNALS))
			reset_signals();
		return 0;
	}
	/* Not reaped before this returns (only the loop reaps): the pid is that child. */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0 && errno != ENOSYS && errno != EINVAL) {
		int e = errno;
		kill(pid, SIGKILL);
		return agent_error_setsys(err, e, "pidfd_open of child %d", (int)pid);
	}
	if (ret_pidfd && pidfd >= 0) {
		*ret_pidfd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
		if (*ret_pidfd < 0) {
			int e = errno;
			kill(pid, SIGKILL);
			safe_close(pidfd);
			return agent_error_setsys(err, e, "duplicating the pidfd of child %d",
						  (int)pid);
		}
	}
	if (!r) {
		safe_close(pidfd);
		return pid;
	}
	int rc = reaper_claim(r, pid, pidfd);
	if (rc < 0) {
		/* Unclaimed, its exit goes to the cache: nobody will ask for it. */
		kill(pid, SIGKILL);
		if (ret_pidfd)
			*ret_pidfd = safe_close(*ret_pidfd);
		return agent_error_setsys(err, -rc, "registering child %d with the reaper",
					  (int)pid);
	}
	return pid;
}

static pid_t wait_one(pid_t pid, int *status, int flags)
{
	pid_t rc;

	do
		rc = waitpid(pid, status, flags | __WALL);
	while (rc < 0 && errno == EINTR);
	return rc;
}

#define NO_PIDFD_POLL_MS 10 /* without a pidfd: how often to look for the exit */

int loop_fork_wait(pid_t pid, int pidfd, uint64_t deadline_ms, int *status)
{
	for (;;) {
		pid_t rc = wait_one(pid, status, WNOHANG);
		if (rc == pid)
			return 0;
		if (rc < 0)
			return -errno;
		int timeout = -1;
		if (deadline_ms) {
			uint64_t now = loop_now_ms();
			if (now >= deadline_ms)
				return -ETIMEDOUT;
			timeout = (int)MIN(deadline_ms - now, (uint64_t)INT_MAX);
		}
		if (pidfd < 0) {
			timeout = timeout < 0 ? NO_PIDFD_POLL_MS : MIN(timeout, NO_PIDFD_POLL_MS);
			poll(NULL, 0, timeout);
			continue;
		}
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		if (poll(&p, 1, timeout) < 0 && errno != EINTR)
			return -errno;
	}
}
