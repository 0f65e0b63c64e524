// SPDX-License-Identifier: Apache-2.0
/*
 * Relays between a process's stdio and its passfd streams, on the loop.
 *
 * Output: from the stdout/stderr pipe to the socket with splice(2) (the bytes
 * never enter agent memory), or, where splice cannot (a pty master, a kernel
 * that refuses), through one RELAY_BUF buffer read only once the previous one
 * was written. Either way the agent reads no faster than the host takes: a
 * host that does not read fills its socket, the relay stops, the pipe fills
 * and the process blocks (back-pressure), and nothing is dropped.
 * Input: from the socket to the stdin pipe (or the pty master), buffered the
 * same way; the host's EOF closes the pipe, so the process reads EOF.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "sandbox/passfd.h"

#define RELAY_BUF (64 * 1024)
#define RELAY_SPLICE_CHUNK (1024 * 1024)
#define RELAY_BUDGET 64 /* transfers per wake-up, then the loop serves the others */
/*
 * An output pipe the relay splices from is raised to this (the kernel's
 * default pipe-max-size), unless agent.container_pipe_size made it larger:
 * each wake-up then moves up to this much instead of 64 KiB.
 */
#define RELAY_PIPE_SIZE (1024 * 1024)

struct passfd_io;

struct relay {
	struct passfd_io *io;
	struct loop *loop;
	int src, dst; /* owned */
	bool out; /* process -> host: the drain rule applies */
	bool splice; /* src is a pipe: try splice first */
	bool exited, done;
	struct loop_io *src_io, *dst_io;
	struct loop_timer *drain;
	unsigned char *buf;
	size_t off, len;
};

struct passfd_io {
	struct loop *loop;
	struct relay *rel[3]; /* stdin, stdout, stderr */
	int held; /* tty: the stderr stream, which gets nothing; closed at exit */
	bool exited;
	passfd_io_fn fn;
	void *ctx;
};

static void relay_pump(struct relay *r);

static void relay_close(struct relay *r)
{
	r->src_io = loop_io_del(r->loop, r->src_io);
	r->dst_io = loop_io_del(r->loop, r->dst_io);
	r->drain = loop_timer_cancel(r->loop, r->drain);
	r->src = safe_close(r->src);
	r->dst = safe_close(r->dst);
	free(r->buf);
	r->buf = NULL;
}

static bool outputs_done(const struct passfd_io *io)
{
	return (!io->rel[1] || io->rel[1]->done) && (!io->rel[2] || io->rel[2]->done);
}

/* The relay ended (EOF, or one side failed): both ends close, so each peer sees the end. */
static void relay_finish(struct relay *r, int e)
{
	struct passfd_io *io = r->io;

	if (e && e != EPIPE && e != ECONNRESET)
		log_warn("passfd", "%s relay ended: %s", r->out ? "output" : "stdin", strerror(e));
	if (r->out && r->dst >= 0)
		shutdown(r->dst, SHUT_WR);
	relay_close(r);
	r->done = true;
	if (r->out && io->exited && io->fn && outputs_done(io)) {
		passfd_io_fn fn = io->fn;
		io->fn = NULL;
		fn(io->ctx);
	}
}

static void on_src(struct loop_io *lio, int fd, uint32_t events, void *data)
{
	relay_pump(data);
}

static void on_drain(struct loop_timer *t, void *data)
{
	struct relay *r = data;

	/* The process is gone and its pipe stayed empty: a grandchild holds it. End here. */
	r->drain = NULL;
	relay_finish(r, 0);
}

/* Waits for src to be readable (want_src) or dst writable; one of the two at a time. */
static void relay_wait(struct relay *r, bool want_src)
{
	struct loop_io **on = want_src ? &r->src_io : &r->dst_io;
	struct loop_io **off = want_src ? &r->dst_io : &r->src_io;
	int fd = want_src ? r->src : r->dst;
	uint32_t ev = want_src ? EPOLLIN : EPOLLOUT;

	if (*off)
		loop_io_set_events(r->loop, *off, 0);
	if (*on)
		loop_io_set_events(r->loop, *on, ev);
	else
		*on = loop_io_add(r->loop, fd, ev, on_src, r);
	if (!*on) {
		relay_finish(r, errno);
		return;
	}
	/* Waiting for the process's output after it exited: bounded. */
	if (want_src && r->out && r->exited && !r->drain)
		r->drain = loop_timer_add(r->loop, loop_now_ms() + STDIO_DRAIN_MS, on_drain, r);
}

/* One transfer: >0 moved, 0 EOF, -1 with errno (EAGAIN: *want_src tells which side). */
static ssize_t relay_step(struct relay *r, bool *want_src)
{
	ssize_t n;

	if (r->splice) {
		n = splice(r->src, NULL, r->dst, NULL, RELAY_SPLICE_CHUNK,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n >= 0)
			return n;
		if (errno == EAGAIN) {
			int avail = 0;
			/* Data in the pipe: the socket is full. None: wait for the process. */
			*want_src = ioctl(r->src, FIONREAD, &avail) < 0 || avail <= 0;
			return -1;
		}
		if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
			return -1;
		r->splice = false; /* this kernel cannot: copy instead */
	}
	if (!r->buf && !(r->buf = malloc(RELAY_BUF))) {
		errno = ENOMEM;
		return -1;
	}
	if (r->off == r->len) {
		n = read(r->src, r->buf, RELAY_BUF);
		/* A pty master reads EIO once the last slave closed: its EOF. */
		if (n < 0 && errno == EIO)
			n = 0;
		if (n <= 0) {
			*want_src = true;
			return n;
		}
		r->off = 0;
		r->len = (size_t)n;
	}
	n = write(r->dst, r->buf + r->off, r->len - r->off);
	if (n < 0) {
		*want_src = false;
		return -1;
	}
	r->off += (size_t)n;
	if (r->off == r->len)
		r->off = r->len = 0;
	return n ? n : 1;
}

static void relay_pump(struct relay *r)
{
	for (int budget = RELAY_BUDGET; budget > 0 && !r->done; budget--) {
		bool want_src = true;
		ssize_t n = relay_step(r, &want_src);

		if (n > 0) {
			r->drain = loop_timer_cancel(r->loop, r->drain);
			continue;
		}
		if (n == 0) {
			relay_finish(r, 0);
			return;
		}
		if (errno == EAGAIN) {
			relay_wait(r, want_src);
			return;
		}
		relay_finish(r, errno);
		return;
	}
	/* The budget is spent: on again once the host can take more. */
	if (!r->done)
		relay_wait(r, false);
}

static struct relay *relay_new(struct passfd_io *io, int src, int dst, bool out, bool splice)
{
	struct relay *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->io = io;
	r->loop = io->loop;
	r->src = src;
	r->dst = dst;
	r->out = out;
	r->splice = splice;
	fcntl(src, F_SETFL, fcntl(src, F_GETFL) | O_NONBLOCK);
	fcntl(dst, F_SETFL, fcntl(dst, F_GETFL) | O_NONBLOCK);
	if (out && splice && fcntl(src, F_GETPIPE_SZ) < RELAY_PIPE_SIZE)
		fcntl(src, F_SETPIPE_SZ, RELAY_PIPE_SIZE); /* best effort */
	return r;
}

/*
 * Takes the fd away from a stdio stream that was never used: it reads EOF and
 * writes fail from now on. A pty master stays there too (TtyWinResize needs
 * it): the relay gets a duplicate. -1 when that fails.
 */
static int steal(struct stdio_stream *s, bool keep)
{
	int fd = s->fd;

	s->eof = true;
	if (keep)
		return fcntl(fd, F_DUPFD_CLOEXEC, 3);
	s->fd = -1;
	return fd;
}

int passfd_io_start(struct loop *loop, int fds[3], bool tty, struct stdio_stream *in,
		    struct stdio_stream *out, struct stdio_stream *err, struct passfd_io **ret,
		    agent_error_t **error)
{
	struct passfd_io *io;
	struct stdio_stream *streams[3] = {in, out, tty ? NULL : err};

	*ret = NULL;
	if (fds[0] < 0 && fds[1] < 0 && fds[2] < 0)
		return 0;
	io = calloc(1, sizeof(*io));
	if (!io)
		return agent_error_set(error, ENOMEM, "out of memory");
	io->loop = loop;
	io->held = -1;
	for (int i = 0; i < 3; i++) {
		if (fds[i] < 0)
			continue;
		if (!streams[i]) { /* tty: no stderr of its own; the stream waits for the exit */
			io->held = fds[i];
			fds[i] = -1;
			continue;
		}
		if (streams[i]->fd < 0) /* nothing to relay: the host sees EOF at once */
			continue;
		int fd = steal(streams[i], tty && i == 1);
		if (fd < 0) {
			int e = errno;
			passfd_io_free(io);
			return agent_error_setsys(error, e, "duplicating the pty master");
		}
		io->rel[i] = i > 0 ? relay_new(io, fd, fds[i], true, !tty)
				   : relay_new(io, fds[i], fd, false, false);
		if (!io->rel[i]) {
			close(fd);
			passfd_io_free(io);
			return agent_error_set(error, ENOMEM, "out of memory");
		}
		fds[i] = -1;
	}
	for (int i = 0; i < 3; i++) {
		fds[i] = safe_close(fds[i]);
		if (io->rel[i])
			relay_pump(io->rel[i]);
	}
	*ret = io;
	return 0;
}

int passfd_io_exited(struct passfd_io *io, passfd_io_fn fn, void *ctx)
{
	io->exited = true;
	io->held = safe_close(io->held);
	if (io->rel[0] && !io->rel[0]->done) {
		relay_close(io->rel[0]);
		io->rel[0]->done = true;
	}
	for (int i = 1; i < 3; i++) {
		struct relay *r = io->rel[i];
		if (r && !r->done) {
			r->exited = true;
			relay_pump(r);
		}
	}
	if (outputs_done(io))
		return 1;
	io->fn = fn;
	io->ctx = ctx;
	return 0;
}

struct passfd_io *passfd_io_free(struct passfd_io *io)
{
	if (!io)
		return NULL;
	for (int i = 0; i < 3; i++) {
		if (io->rel[i]) {
			relay_close(io->rel[i]);
			free(io->rel[i]);
		}
	}
	safe_close(io->held);
	free(io);
	return NULL;
}
