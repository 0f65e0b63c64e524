// SPDX-License-Identifier: Apache-2.0
/*
 * Processes of a container: their stdio, their exit, WaitProcess, and when
 * they are freed. A process is freed from a zero-delay timer, never from
 * inside one of its own callbacks.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "loop/reaper.h"
#include "base/status.h"
#include "sandbox/passfd.h"
#include "sandbox/process-internal.h"
#include "sandbox/sandbox.h"

struct container *container_find(struct sandbox *sb, const char *id)
{
	for (struct container *c = sb->containers; c; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

int process_lookup(struct sandbox *sb, const char *cid, const char *eid, bool find_waited,
		   struct process **ret, agent_error_t **err)
{
	struct container *c = container_find(sb, cid ? cid : "");

	if (!c)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, ESRCH,
					      "Invalid container id %s", cid ? cid : "");
	for (struct process *p = c->procs; p; p = p->next) {
		if (p->waited && !find_waited)
			continue;
		if (eid && eid[0] ? strcmp(p->exec_id, eid) == 0 : p->init) {
			*ret = p;
			return 0;
		}
	}
	if (!eid || !eid[0])
		return agent_error_set_status(err, GRPC_NOT_FOUND, ENOENT, "init process missing");
	return agent_error_set_status(err, GRPC_NOT_FOUND, ENOENT, "invalid exec id %s", eid);
}

/* --- stdio --------------------------------------------------------------------------- */

static int make_pipe(int fds[2], agent_error_t **err)
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return agent_error_setsys(err, errno, "pipe");
	return 0;
}

static int stdio_new(struct process *p, struct loop *loop, int32_t pipe_size, int child[3],
		     agent_error_t **err)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1};
	int r;

	if (p->tty) {
		int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		char name[64];
		int s;

		if (m < 0)
			return agent_error_setsys(err, errno, "opening a pty");
		if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, name, sizeof(name)) != 0) {
			r = agent_error_setsys(err, errno, "setting up the pty");
			close(m);
			return r;
		}
		s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (s < 0) {
			r = agent_error_setsys(err, errno, "opening %s", name);
			close(m);
			return r;
		}
		int m2 = fcntl(m, F_DUPFD_CLOEXEC, 0);
		if (m2 < 0) {
			r = agent_error_setsys(err, errno, "dup");
			close(m);
			close(s);
			return r;
		}
		stdio_stream_init(&p->in, loop, m2, false, true);
		stdio_stream_init(&p->out, loop, m, true, true);
		stdio_stream_init(&p->err, loop, -1, true, true);
		p->err.eof = true;
		child[0] = s;
		child[1] = s;
		child[2] = s;
		return 0;
	}
	if ((r = make_pipe(in, err)) < 0 || (r = make_pipe(out, err)) < 0 ||
	    (r = make_pipe(er, err)) < 0) {
		for (int i = 0; i < 2; i++) {
			safe_close(in[i]);
			safe_close(out[i]);
			safe_close(er[i]);
		}
		return r;
	}
	/* Best effort: the kernel caps it at /proc/sys/fs/pipe-max-size for non-root. */
	if (pipe_size > 0) {
		fcntl(out[1], F_SETPIPE_SZ, pipe_size);
		fcntl(er[1], F_SETPIPE_SZ, pipe_size);
	} else {
		fcntl(out[1], F_SETPIPE_SZ, STDIO_OUT_PIPE_SIZE);
	}
	stdio_stream_init(&p->in, loop, in[1], false, false);
	stdio_stream_init(&p->out, loop, out[0], true, false);
	stdio_stream_init(&p->err, loop, er[0], true, false);
	child[0] = in[0];
	child[1] = out[1];
	child[2] = er[1];
	return 0;
}

int process_stdio_new(struct process *p, struct loop *loop, int32_t pipe_size, int passfd[3],
		      int child[3], agent_error_t **err)
{
	int r = stdio_new(p, loop, pipe_size, child, err);

	if (r >= 0 && passfd)
		r = passfd_io_start(loop, passfd, p->tty, &p->in, &p->out, &p->err, &p->pfio, err);
	for (int i = 0; passfd && i < 3; i++)
		passfd[i] = safe_close(passfd[i]);
	return r;
}

void process_stdio_child_close(int child[3])
{
	/* The pty slave may be there three times. */
	int last = -1;

	for (int i = 0; i < 3; i++) {
		if (child[i] >= 0 && child[i] != last)
			close(child[i]);
		last = child[i];
		child[i] = -1;
	}
}

int process_resize(struct process *p, uint32_t rows, uint32_t cols, agent_error_t **err)
{
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};

	if (!p->tty || p->out.fd < 0)
		return agent_error_set_status(err, GRPC_UNAVAILABLE, ENOTTY, "no tty");
	if (ioctl(p->out.fd, TIOCSWINSZ, &ws) < 0)
		return agent_error_setsys(err, errno, "resizing the terminal");
	return 0;
}

/* --- life ---------------------------------------------------------------------------- */

struct process *process_new(struct container *c, const char *exec_id, bool init, bool tty)
{
	struct process *p = calloc(1, sizeof(*p));

	if (!p || !(p->exec_id = strdup(exec_id))) {
		free(p);
		return NULL;
	}
	p->c = c;
	p->init = init;
	p->tty = tty;
	p->in.fd = p->out.fd = p->err.fd = -1;
	p->pidfd = -1;
	return p;
}

void process_set_pid(struct process *p, pid_t pid, int pidfd)
{
	p->pid = pid;
	p->pidfd = safe_close(p->pidfd);
	if (pidfd >= 0)
		p->pidfd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3); /* -1: kill() below, as without */
}

int process_signal(struct process *p, int sig)
{
	if (p->pid <= 0 || p->exited || p->reaped)
		return 0;
	if (p->pidfd >= 0) {
		int r = pidfd_signal(p->pidfd, sig);
		if (r != -ENOSYS)
			return r == -ESRCH ? 0 : r; /* ESRCH: it exited, not reaped yet */
	}
	return kill(p->pid, sig) < 0 && errno != ESRCH ? -errno : 0;
}

void process_link(struct container *c, struct process *p)
{
	p->next = c->procs;
	c->procs = p;
	c->n_procs++;
	if (p->init)
		c->init = p;
}

static void process_unlink(struct process *p)
{
	struct container *c = p->c;

	for (struct process **pp = &c->procs; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			c->n_procs--;
			break;
		}
	}
	if (c->init == p)
		c->init = NULL;
}

/* Frees a process that is not linked any more. Waiters get the SIGKILL code. */
void process_destroy(struct process *p)
{
	struct process_waiter *w;

	if (!p)
		return;
	/* Signalled first, through its pidfd, while the pid is surely still that process. */
	process_signal(p, SIGKILL);
	if (p->pid > 0)
		reaper_unwatch(p->c->sb->reaper, p->pid);
	p->pidfd = safe_close(p->pidfd);
	process_launch_drop(p, true);
	p->linger = loop_timer_cancel(p->c->sb->loop, p->linger);
	p->reap = loop_timer_cancel(p->c->sb->loop, p->reap);
	stdio_stream_release(&p->in);
	stdio_stream_release(&p->out);
	stdio_stream_release(&p->err);
	p->pfio = passfd_io_free(p->pfio);
	while ((w = p->waiters)) {
		p->waiters = w->next;
		w->fn(p->exited || p->reaped ? p->exit_code : 128 + SIGKILL, w->ctx);
		free(w);
	}
	free(p->exec_id);
	free(p);
}

static void on_reap_timer(struct loop_timer *t, void *data)
{
	struct process *p = data;

	p->reap = NULL;
	process_unlink(p);
	process_destroy(p);
}

void process_discard(struct process *p)
{
	process_unlink(p);
	process_destroy(p);
}

static void on_linger_timeout(struct loop_timer *t, void *data)
{
	struct process *p = data;

	p->linger = NULL;
	on_reap_timer(NULL, p);
}

/* Frees p from a zero-delay timer (not from inside one of its own callbacks). */
static void process_reap_soon(struct process *p)
{
	struct loop *loop = p->c->sb->loop;

	p->linger = loop_timer_cancel(loop, p->linger);
	if (!p->reap)
		p->reap = loop_timer_add(loop, loop_now_ms(), on_reap_timer, p);
}

/*
 * At most STDIO_LINGER_MAX waited processes of the sandbox keep unread output: past that,
 * the one that lingers longest is freed first. A client that waits for every exec but never
 * reads (an exec probe) so holds a bounded number of pipes, however many execs it runs.
 */
static void linger_bound(struct sandbox *sb)
{
	for (;;) {
		struct process *oldest = NULL;
		size_t n = 0;

		for (struct container *c = sb->containers; c; c = c->next) {
			for (struct process *q = c->procs; q; q = q->next) {
				if (!q->linger || q->reap)
					continue;
				n++;
				if (!oldest || q->linger_since <= oldest->linger_since)
					oldest = q;
			}
		}
		if (n <= STDIO_LINGER_MAX)
			return;
		process_reap_soon(oldest);
	}
}

void process_maybe_free(struct process *p)
{
	struct loop *loop = p->c->sb->loop;

	/* The init lives as long as its container. */
	if (p->init || !p->waited || p->reap)
		return;
	if ((p->out.eof || p->out.fd < 0) && (p->err.eof || p->err.fd < 0)) {
		process_reap_soon(p);
		return;
	}
	if (p->linger)
		return;
	p->linger_since = loop_now_ms();
	p->linger = loop_timer_add(loop, p->linger_since + STDIO_LINGER_MS, on_linger_timeout, p);
	linger_bound(p->c->sb);
}

void process_launch_drop(struct process *p, bool kill)
{
	struct launch *l = p->launch;

	p->launch = NULL;
	launch_free(l, kill);
}

/* The exit is reported: WaitProcess answers from now on. */
static void process_exit_report(void *data)
{
	struct process *p = data;
	struct process_waiter *w;

	p->exited = true;
	if (p->init)
		container_on_init_exit(p->c);
	if (p->waiters) {
		p->waited = true;
		while ((w = p->waiters)) {
			p->waiters = w->next;
			w->fn(p->exit_code, w->ctx);
			free(w);
		}
		process_maybe_free(p);
	}
}

void process_on_exit(pid_t pid, int status, void *data)
{
	struct process *p = data;

	p->reaped = true;
	p->exit_code = reaper_exit_code(status);
	/* Signals to it are no-ops from now on: its pidfd is one fd less to hold while it lingers.
	 */
	p->pidfd = safe_close(p->pidfd);
	/* Nobody can write to it any more; reads keep draining what is buffered. */
	stdio_stream_close(&p->in);
	stdio_stream_exited(&p->out);
	stdio_stream_exited(&p->err);
	/* passfd: the exit is reported once its output reached the streams, as upstream does. */
	if (p->pfio && passfd_io_exited(p->pfio, process_exit_report, p) == 0)
		return;
	process_exit_report(p);
}

int process_wait(struct process *p, process_wait_fn fn, void *ctx, struct process_waiter **ret,
		 agent_error_t **err)
{
	struct process_waiter *w;

	*ret = NULL;
	if (p->exited) {
		p->waited = true;
		fn(p->exit_code, ctx);
		process_maybe_free(p);
		return 1;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return agent_error_set(err, ENOMEM, "out of memory");
	w->fn = fn;
	w->ctx = ctx;
	w->next = p->waiters;
	p->waiters = w;
	*ret = w;
	return 0;
}

void process_wait_cancel(struct process *p, struct process_waiter *w)
{
	for (struct process_waiter **pp = &p->waiters; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			free(w);
			return;
		}
	}
}
