// SPDX-License-Identifier: Apache-2.0
#include "container/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "base/strbuf.h"

#define HOOK_DEFAULT_TIMEOUT_S 10

char *oci_state_json(const char *id, const char *status, pid_t pid, const char *bundle,
		     const Grpc__Spec *spec)
{
	struct strbuf sb;

	strbuf_init(&sb, 1024 * 1024);
	strbuf_adds(&sb, "{\"ociVersion\":\"1.0.2\",\"id\":");
	strbuf_add_json_string(&sb, id ? id : "");
	strbuf_adds(&sb, ",\"status\":");
	strbuf_add_json_string(&sb, status ? status : "");
	strbuf_addf(&sb, ",\"pid\":%d,\"bundle\":", (int)pid);
	strbuf_add_json_string(&sb, bundle ? bundle : "");
	strbuf_adds(&sb, ",\"annotations\":{");
	for (size_t i = 0; spec && i < spec->n_annotations; i++) {
		if (i)
			strbuf_adds(&sb, ",");
		strbuf_add_json_string(&sb, spec->annotations[i]->key);
		strbuf_adds(&sb, ":");
		strbuf_add_json_string(&sb, spec->annotations[i]->value);
	}
	strbuf_adds(&sb, "}}");
	if (sb.oom) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_steal(&sb);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

_noreturn_ static void hook_child(const Grpc__Hook *h, int in)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	sigset_t none;
	char **argv, **envp;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(in, 0) < 0 || null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(126);
	argv = calloc(h->n_args + 2, sizeof(char *));
	envp = calloc(h->n_env + 1, sizeof(char *));
	if (!argv || !envp)
		_exit(126);
	if (h->n_args)
		memcpy(argv, h->args, h->n_args * sizeof(char *));
	else
		argv[0] = h->path;
	if (h->n_env)
		memcpy(envp, h->env, h->n_env * sizeof(char *));
	execve(h->path, argv, envp);
	_exit(127);
}

/* Waits for pid until deadline; 0 with *status, or -ETIMEDOUT. */
static int wait_until(pid_t pid, int64_t deadline, int *status)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);

	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);
		if (w == pid) {
			safe_close(pfd);
			return 0;
		}
		if (w < 0 && errno != EINTR) {
			safe_close(pfd);
			return -errno;
		}
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			safe_close(pfd);
			return -ETIMEDOUT;
		}
		if (pfd >= 0) {
			struct pollfd p = {.fd = pfd, .events = POLLIN};
			poll(&p, 1, (int)MIN(left, 1000));
		} else {
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
}

int hook_run(const Grpc__Hook *h, const char *state_json, agent_error_t **err)
{
	int64_t timeout_s = h->timeout > 0 ? h->timeout : HOOK_DEFAULT_TIMEOUT_S;
	int pipefd[2], status = 0, r;
	pid_t pid;

	if (!h->path[0] || h->path[0] != '/')
		return agent_error_set(err, EINVAL, "hook path \"%s\" is not absolute", h->path);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return agent_error_setsys(err, errno, "pipe");
	pid = fork();
	if (pid == 0) {
		close(pipefd[1]);
		hook_child(h, pipefd[0]);
	}
	close(pipefd[0]);
	if (pid < 0) {
		r = agent_error_setsys(err, errno, "fork for hook %s", h->path);
		close(pipefd[1]);
		return r;
	}
	/* The hook may not read its stdin: a short or failed write is not an error. */
	fcntl(pipefd[1], F_SETFL, O_NONBLOCK);
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	if (state_json && write(pipefd[1], state_json, strlen(state_json)) < 0)
		(void)0;
	signal(SIGPIPE, old);
	close(pipefd[1]);

	r = wait_until(pid, now_ms() + timeout_s * 1000, &status);
	if (r == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return agent_error_set(err, ETIMEDOUT, "hook %s timed out after %lld s", h->path,
				       (long long)timeout_s);
	}
	if (r < 0)
		return agent_error_setsys(err, -r, "waiting for hook %s", h->path);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return agent_error_set(err, EIO, "hook %s exited with %d", h->path,
				       WEXITSTATUS(status));
	return agent_error_set(err, EIO, "hook %s killed by signal %d", h->path, WTERMSIG(status));
}
