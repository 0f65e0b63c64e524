/* SPDX-License-Identifier: Apache-2.0 */
#include "spawn.h"

#include "base/fsutil.h"
#include "loop/spawn-child.h"

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
	int report; /* the child's exec errno, or EOF */
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
	j->report = safe_close(j->report);
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
		struct spawn_ends e = {
			.in = -1, .out = -1, .err = -1, .report = j->report, .pidfd = -1};
		j->res.exec_errno = spawn_exec_errno(&e);
		j->report = -1;
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
		ssize_t n = write_nosigpipe(fd, j->input + j->in_off, j->in_len - j->in_off);
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
	reaper_kill(j->reaper, j->pid, SIGKILL);
}

static int nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int start(struct loop *l, struct reaper *r, const struct spawn_what *w, const void *input,
		 size_t in_len, uint64_t timeout_ms, size_t max_out, spawn_done_fn done, void *data,
		 struct spawn_job **ret_job, agent_error_t **err)
{
	struct spawn_ends ends;
	struct spawn_job *j = calloc(1, sizeof(*j));
	if (!j)
		return agent_error_set(err, ENOMEM, "out of memory");
	j->loop = l;
	j->reaper = r;
	j->in.fd = j->out.fd = j->err.fd = j->report = -1;
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
	int rc = spawn_child_start(r, w, &ends, err);
	if (rc < 0) {
		job_free(j);
		return rc;
	}
	j->pid = ends.pid;
	j->in.fd = ends.in;
	j->out.fd = ends.out;
	j->err.fd = ends.err;
	j->report = ends.report;
	nonblock(j->in.fd);
	if (j->out.fd >= 0) {
		nonblock(j->out.fd);
		nonblock(j->err.fd);
		j->out.io = loop_io_add(l, j->out.fd, EPOLLIN, on_output, j);
		j->err.io = loop_io_add(l, j->err.fd, EPOLLIN, on_output, j);
	}
	if (j->in_len)
		j->in.io = loop_io_add(l, j->in.fd, EPOLLOUT, on_input, j);
	else
		stream_close(j, &j->in);
	if ((j->out.fd >= 0 && (!j->out.io || !j->err.io)) || (j->in_len && !j->in.io)) {
		int e = errno ? errno : ENOMEM;
		/* Cannot watch it: kill it; its exit goes to the cache. */
		reaper_kill(r, j->pid, SIGKILL);
		reaper_unwatch(r, j->pid);
		job_free(j);
		return agent_error_setsys(err, e, "cannot watch %s", w->name);
	}
	if (timeout_ms)
		j->deadline = loop_timer_add(l, loop_now_ms() + timeout_ms, on_deadline, j);
	/* Claimed at fork: nothing was reaped since, so this only attaches. */
	int rw = reaper_watch(r, j->pid, on_exit_status, j);
	if (rw < 0) {
		reaper_kill(r, j->pid, SIGKILL);
		reaper_unwatch(r, j->pid);
		job_free(j);
		return agent_error_set(err, -rw, "cannot watch the exit of %s", w->name);
	}
	if (ret_job)
		*ret_job = j;
	return 0;
}

int spawn_exec(struct loop *l, struct reaper *r, const struct spawn_cmd *cmd, const void *input,
	       size_t in_len, uint64_t timeout_ms, size_t max_out, spawn_done_fn done, void *data,
	       struct spawn_job **ret_job, agent_error_t **err)
{
	const struct spawn_what w = {.cmd = cmd, .name = cmd->path};

	if (!cmd->path || cmd->path[0] != '/' || !cmd->argv || !cmd->argv[0])
		return agent_error_set(err, EINVAL, "spawn: %s is not an absolute path",
				       cmd->path ? cmd->path : "(none)");
	return start(l, r, &w, input, in_len, timeout_ms, max_out, done, data, ret_job, err);
}

int spawn_run(struct loop *l, struct reaper *r, char *const argv[], const void *input,
	      size_t in_len, uint64_t timeout_ms, size_t max_out, spawn_done_fn done, void *data,
	      struct spawn_job **ret_job, agent_error_t **err)
{
	const struct spawn_cmd cmd = {.path = argv[0], .argv = argv};

	return spawn_exec(l, r, &cmd, input, in_len, timeout_ms, max_out, done, data, ret_job, err);
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
		reaper_kill(j->reaper, j->pid, SIGKILL);
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
