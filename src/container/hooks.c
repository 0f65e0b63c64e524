// SPDX-License-Identifier: Apache-2.0
/*
 * OCI hooks. The state JSON uses the base JSON string escaper (RFC 8259 rules;
 * bytes that are not valid UTF-8 become U+FFFD, so the output is always valid
 * JSON). A hook runs as a direct child: stdin is a pipe carrying
 * the state, stdout/stderr go to /dev/null, the environment is the hook's env
 * only. The parent feeds the pipe without blocking and waits for that one pid
 * (pidfd when the kernel has it, else short WNOHANG polls) until the deadline.
 */
#include "container/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/strbuf.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define HOOK_DEFAULT_TIMEOUT_S 10
#define HOOK_MAX_TIMEOUT_S (24 * 3600)
#define HOOK_POLL_MS 10 /* without a pidfd: how often to look for the exit */

/* --- the state JSON ---------------------------------------------------------------------- */

#define STATE_JSON_MAX (8u << 20) /* annotations are bounded by the request size anyway */

char *oci_state_json(const char *id, const char *status, pid_t pid, const char *bundle,
		     const Grpc__Spec *spec)
{
	struct strbuf sb;

	strbuf_init(&sb, STATE_JSON_MAX);
	strbuf_adds(&sb, "{\"ociVersion\":\"1.0.2\",\"id\":");
	strbuf_add_json_string(&sb, id);
	strbuf_adds(&sb, ",\"status\":");
	strbuf_add_json_string(&sb, status);
	strbuf_addf(&sb, ",\"pid\":%d,\"bundle\":", (int)pid);
	strbuf_add_json_string(&sb, bundle);
	strbuf_adds(&sb, ",\"annotations\":{");
	for (size_t i = 0; spec && i < spec->n_annotations; i++) {
		if (i > 0)
			strbuf_add(&sb, ",", 1);
		strbuf_add_json_string(&sb, spec->annotations[i]->key);
		strbuf_add(&sb, ":", 1);
		strbuf_add_json_string(&sb, spec->annotations[i]->value);
	}
	strbuf_adds(&sb, "}}");
	if (sb.oom) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_steal(&sb);
}

/* --- running one hook -------------------------------------------------------------------- */

static _noreturn_ void hook_child(int in_fd, int null_fd, int err_fd, const char *path,
				  char *const argv[], char *const envp[])
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;
	int e;

	/* The agent blocks and ignores signals for its loop: the hook gets a clean slate. */
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* Move everything above 2 first, so the dup2 below never clobbers a source. */
	int in = fcntl(in_fd, F_DUPFD_CLOEXEC, 3);
	int nul = fcntl(null_fd, F_DUPFD_CLOEXEC, 3);
	int ef = fcntl(err_fd, F_DUPFD_CLOEXEC, 3);
	if (ef < 0)
		_exit(127);
	if (in < 0 || nul < 0 || dup2(in, 0) < 0 || dup2(nul, 1) < 0 || dup2(nul, 2) < 0)
		goto fail;
	execve(path, argv, envp);
fail:
	e = errno;
	if (write(ef, &e, sizeof(e)) < 0) {
		/* nothing more to report with */
	}
	_exit(127);
}

/* write() that turns a closed reader into EPIPE without a SIGPIPE reaching the process. */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t n)
{
	sigset_t pipe_set, old, pending;
	struct timespec zero = {0, 0};
	bool was_pending;
	ssize_t w;
	int saved;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE) == 1;
	sigprocmask(SIG_BLOCK, &pipe_set, &old);
	w = write(fd, buf, n);
	saved = errno;
	/* Consume only the SIGPIPE this write raised, never one that was already there. */
	if (w < 0 && saved == EPIPE && !was_pending)
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return w;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* waitpid(pid) that retries EINTR. */
static pid_t wait_pid(pid_t pid, int *status, int flags)
{
	pid_t r;
	do
		r = waitpid(pid, status, flags);
	while (r < 0 && errno == EINTR);
	return r;
}

/*
 * Feeds the state and waits for the exit until the deadline. Returns 0 with
 * *status set, -ETIMEDOUT, or -errno when the wait itself failed.
 */
static int feed_and_wait(pid_t pid, int in_w, const char *data, size_t len, int64_t deadline,
			 int *status)
{
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	size_t off = 0;
	bool writing = in_w >= 0;

	if (writing && fcntl(in_w, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	for (;;) {
		struct pollfd fds[2];
		nfds_t n = 0;
		int pidfd_idx = -1, in_idx = -1;

		if (writing && off == len) {
			in_w = safe_close(in_w);
			writing = false;
		}
		if (pidfd < 0) {
			/* Without a pidfd, look at the exit status on every round. */
			pid_t r = wait_pid(pid, status, WNOHANG);
			if (r == pid)
				break;
			if (r < 0) {
				safe_close(in_w);
				return -errno;
			}
		}
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			safe_close(in_w);
			return -ETIMEDOUT;
		}
		if (pidfd >= 0) {
			fds[n] = (struct pollfd){.fd = pidfd, .events = POLLIN};
			pidfd_idx = (int)n++;
		}
		if (writing) {
			fds[n] = (struct pollfd){.fd = in_w, .events = POLLOUT};
			in_idx = (int)n++;
		}
		int timeout = (int)MIN(left, pidfd >= 0 ? left : HOOK_POLL_MS);
		int pr = n ? poll(fds, n, timeout) : poll(NULL, 0, timeout);
		if (pr < 0 && errno != EINTR) {
			safe_close(in_w);
			return -errno;
		}
		if (pr <= 0)
			continue;
		if (in_idx >= 0 && fds[in_idx].revents) {
			ssize_t w = write_nosigpipe(in_w, data + off, len - off);
			if (w > 0)
				off += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR)
				off = len; /* the hook closed its stdin: stop feeding it */
		}
		if (pidfd_idx >= 0 && fds[pidfd_idx].revents) {
			pid_t r = wait_pid(pid, status, WNOHANG);
			if (r == pid)
				break;
			if (r < 0) {
				safe_close(in_w);
				return -errno;
			}
		}
	}
	safe_close(in_w);
	return 0;
}

static void strvp_free(char ***v)
{
	free(*v);
}

int hook_run(const Grpc__Hook *h, const char *state_json, agent_error_t **err)
{
	_cleanup_(strvp_free) char **argv = NULL;
	_cleanup_(strvp_free) char **envp = NULL;
	_cleanup_close_ int null_fd = -1;
	_cleanup_close_ int err_r = -1;
	int in[2] = {-1, -1}, errp[2] = {-1, -1};
	int status = 0, r;

	if (!h || !h->path[0])
		return agent_error_set(err, EINVAL, "hook: missing path");
	const char *path = h->path;
	if (path[0] != '/')
		return agent_error_set(err, EINVAL, "hook %s: path is not absolute", path);

	/* Everything the child needs is ready before fork: it only dup2s and execs. */
	argv = calloc(h->n_args + 2, sizeof(*argv));
	envp = calloc(h->n_env + 1, sizeof(*envp));
	if (!argv || !envp)
		return agent_error_set(err, ENOMEM, "hook %s: out of memory", path);
	if (h->n_args > 0)
		memcpy(argv, h->args, h->n_args * sizeof(*argv));
	else
		argv[0] = (char *)path;
	if (h->n_env > 0)
		memcpy(envp, h->env, h->n_env * sizeof(*envp));

	int64_t timeout_s = h->timeout > 0 ? h->timeout : HOOK_DEFAULT_TIMEOUT_S;
	timeout_s = MIN(timeout_s, (int64_t)HOOK_MAX_TIMEOUT_S);

	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		return agent_error_setsys(err, errno, "hook %s: open /dev/null", path);
	if (pipe2(in, O_CLOEXEC) < 0)
		return agent_error_setsys(err, errno, "hook %s: pipe", path);
	if (pipe2(errp, O_CLOEXEC) < 0) {
		r = errno;
		safe_close(in[0]);
		safe_close(in[1]);
		return agent_error_setsys(err, r, "hook %s: pipe", path);
	}
	err_r = errp[0];

	int64_t deadline = now_ms() + timeout_s * 1000;
	pid_t pid = fork();
	if (pid < 0) {
		r = errno;
		safe_close(in[0]);
		safe_close(in[1]);
		safe_close(errp[1]);
		return agent_error_setsys(err, r, "hook %s: fork", path);
	}
	if (pid == 0) {
		safe_close(in[1]);
		hook_child(in[0], null_fd, errp[1], path, argv, envp);
	}
	safe_close(in[0]);
	safe_close(errp[1]);

	const char *data = state_json ? state_json : "";
	r = feed_and_wait(pid, in[1], data, strlen(data), deadline, &status);
	if (r == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		wait_pid(pid, NULL, 0);
		return agent_error_set(err, ETIMEDOUT, "hook %s: timed out after %llds, killed",
				       path, (long long)timeout_s);
	}
	if (r < 0) {
		kill(pid, SIGKILL);
		wait_pid(pid, NULL, 0);
		return agent_error_setsys(err, -r, "hook %s: waiting for it", path);
	}

	int exec_errno = 0;
	if (read(err_r, &exec_errno, sizeof(exec_errno)) == (ssize_t)sizeof(exec_errno))
		return agent_error_setsys(err, exec_errno, "hook %s: exec", path);
	if (WIFSIGNALED(status))
		return agent_error_set(err, EIO, "hook %s: killed by signal %d", path,
				       WTERMSIG(status));
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		return agent_error_set(err, EIO, "hook %s: exited with status %d", path,
				       WEXITSTATUS(status));
	return 0;
}

void hooks_run_each(Grpc__Hook *const *hooks, size_t n, const char *state_json, hook_fail_fn fail,
		    void *data)
{
	for (size_t i = 0; i < n; i++) {
		agent_error_t *err = NULL;

		if (hook_run(hooks[i], state_json, &err) < 0)
			fail(err, data);
		agent_error_free(err);
	}
}
