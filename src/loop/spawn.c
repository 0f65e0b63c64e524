/* SPDX-License-Identifier: Apache-2.0 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct stream {
	int fd;
	struct loop_io *io;
	char *buf;
	size_t len;
};

struct spawn_job {
	struct loop *loop;
	struct reaper *reaper;
	pid_t pid;
	bool exited;
	bool abandoned;
	bool finished;
	struct spawn_result res;
	struct stream in, out, err;
	const uint8_t *input;
	size_t in_len, in_off;
	size_t max_out;
	struct loop_timer *deadline;
	spawn_done_fn done;
	void *data;
};

static void stream_close(struct spawn_job *j, struct stream *s)
{
	s->io = loop_io_del(j->loop, s->io);
	s->fd = safe_close(s->fd);
}

static void job_free(struct spawn_job *j)
{
	stream_close(j, &j->in);
	stream_close(j, &j->out);
	stream_close(j, &j->err);
	j->deadline = loop_timer_cancel(j->loop, j->deadline);
	free(j->out.buf);
	free(j->err.buf);
	free((void *)j->input);
	free(j);
}

/* Done when the helper exited and both outputs reached EOF. */
static void maybe_finish(struct spawn_job *j)
{
	if (!j->exited || j->out.fd >= 0 || j->err.fd >= 0 || j->finished)
		return;
	j->finished = true;
	if (!j->abandoned) {
		j->res.out = j->out.buf ? j->out.buf : (char *)"";
		j->res.out_len = j->out.len;
		j->res.err = j->err.buf ? j->err.buf : (char *)"";
		j->res.err_len = j->err.len;
		j->done(&j->res, j->data);
	}
	job_free(j);
}

static void on_exit_status(pid_t pid, int status, void *data)
{
	struct spawn_job *j = data;
	j->exited = true;
	j->res.status = status;
	j->deadline = loop_timer_cancel(j->loop, j->deadline);
	maybe_finish(j);
}

static void on_output(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct spawn_job *j = data;
	struct stream *s = fd == j->out.fd ? &j->out : &j->err;
	char buf[16384];
	for (int round = 0; round < 16; round++) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			stream_close(j, s);
			maybe_finish(j);
			return;
		}
		size_t keep = (size_t)n;
		if (s->len + keep > j->max_out) {
			keep = j->max_out - s->len;
			j->res.truncated = true;
		}
		if (keep) {
			char *b = realloc(s->buf, s->len + keep + 1);
			if (!b) {
				j->res.truncated = true;
				continue;
			}
			s->buf = b;
			memcpy(s->buf + s->len, buf, keep);
			s->len += keep;
			s->buf[s->len] = '\0';
		}
	}
}

static void on_input(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct spawn_job *j = data;
	while (j->in_off < j->in_len) {
		ssize_t n = write(fd, j->input + j->in_off, j->in_len - j->in_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0)
			break; /* the helper closed its stdin: it will say why on exit */
		j->in_off += n;
	}
	stream_close(j, &j->in);
}

static void on_deadline(struct loop_timer *t, void *data)
{
	struct spawn_job *j = data;
	j->deadline = NULL;
	j->res.timed_out = true;
	kill(j->pid, SIGKILL);
}

static int nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* The child's work: argv exec'd, or fn(arg) whose result is the exit status. */
struct spawn_what {
	char *const *argv;
	spawn_call_fn fn;
	void *arg;
	const char *name;
};

static int start(struct loop *l, struct reaper *r, const struct spawn_what *w, const void *input,
		 size_t in_len, uint64_t timeout_ms, size_t max_out, spawn_done_fn done, void *data,
		 struct spawn_job **ret_job, agent_error_t **err)
{
	int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
	struct spawn_job *j = calloc(1, sizeof(*j));
	if (!j)
		return agent_error_set(err, ENOMEM, "out of memory");
	j->loop = l;
	j->reaper = r;
	j->in.fd = j->out.fd = j->err.fd = -1;
	j->max_out = max_out;
	j->done = done;
	j->data = data;
	if (in_len) {
		uint8_t *copy = malloc(in_len);
		if (!copy) {
			free(j);
			return agent_error_set(err, ENOMEM, "out of memory");
		}
		memcpy(copy, input, in_len);
		j->input = copy;
		j->in_len = in_len;
	}
	const char *what = "create pipes for";
	pid_t pid = -1;
	if (pipe2(pin, O_CLOEXEC) == 0 && pipe2(pout, O_CLOEXEC) == 0 &&
	    pipe2(perr, O_CLOEXEC) == 0) {
		what = "fork for";
		pid = fork();
	}
	if (pid < 0) {
		int e = errno;
		for (int i = 0; i < 2; i++) {
			safe_close(pin[i]);
			safe_close(pout[i]);
			safe_close(perr[i]);
		}
		job_free(j);
		return agent_error_setsys(err, e, "cannot %s %s", what, w->name);
	}
	if (pid == 0) {
		/* The agent blocks signals for its signalfd and ignores SIGPIPE: undo both. */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(pin[0], 0) < 0 || dup2(pout[1], 1) < 0 || dup2(perr[1], 2) < 0)
			_exit(126);
		if (w->fn)
			_exit(w->fn(w->arg) == 0 ? 0 : 1);
		execv(w->argv[0], w->argv);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	j->pid = pid;
	j->in.fd = pin[1];
	j->out.fd = pout[0];
	j->err.fd = perr[0];
	nonblock(j->in.fd);
	nonblock(j->out.fd);
	nonblock(j->err.fd);
	j->out.io = loop_io_add(l, j->out.fd, EPOLLIN, on_output, j);
	j->err.io = loop_io_add(l, j->err.fd, EPOLLIN, on_output, j);
	if (j->in_len)
		j->in.io = loop_io_add(l, j->in.fd, EPOLLOUT, on_input, j);
	else
		stream_close(j, &j->in);
	if (!j->out.io || !j->err.io || (j->in_len && !j->in.io)) {
		/* Cannot watch it: kill it, and let the reaper's cache take the exit. */
		kill(pid, SIGKILL);
		job_free(j);
		return agent_error_setsys(err, errno ? errno : ENOMEM, "cannot watch %s", w->name);
	}
	if (timeout_ms)
		j->deadline = loop_timer_add(l, loop_now_ms() + timeout_ms, on_deadline, j);
	int rw = reaper_watch(r, pid, on_exit_status, j);
	if (rw < 0) {
		kill(pid, SIGKILL);
		job_free(j);
		return agent_error_set(err, -rw, "cannot watch the exit of %s", w->name);
	}
	/* rw == 1: it already exited; the job still waits for the outputs' EOF. */
	if (ret_job)
		*ret_job = j;
	return 0;
}

int spawn_run(struct loop *l, struct reaper *r, char *const argv[], const void *input,
	      size_t in_len, uint64_t timeout_ms, size_t max_out, spawn_done_fn done, void *data,
	      struct spawn_job **ret_job, agent_error_t **err)
{
	const struct spawn_what w = {.argv = argv, .name = argv[0]};

	return start(l, r, &w, input, in_len, timeout_ms, max_out, done, data, ret_job, err);
}

int spawn_call(struct loop *l, struct reaper *r, const char *name, spawn_call_fn fn, void *arg,
	       uint64_t timeout_ms, size_t max_out, spawn_done_fn done, void *data,
	       struct spawn_job **ret_job, agent_error_t **err)
{
	const struct spawn_what w = {.fn = fn, .arg = arg, .name = name};

	return start(l, r, &w, NULL, 0, timeout_ms, max_out, done, data, ret_job, err);
}

void spawn_abandon(struct spawn_job *j)
{
	if (!j)
		return;
	j->abandoned = true;
	if (!j->exited)
		kill(j->pid, SIGKILL);
}

bool spawn_find_tool(const char *name, char *path, size_t size)
{
	static const char *const dirs[] = {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"};

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if ((size_t)snprintf(path, size, "%s%s", dirs[i], name) < size &&
		    access(path, X_OK) == 0)
			return true;
	return false;
}
