// SPDX-License-Identifier: Apache-2.0
#include "sandbox/stdio.h"

#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>

#include "base/status.h"

struct stdio_req {
	struct stdio_req *next;
	size_t len; /* read: max bytes; write: bytes in buf */
	size_t done; /* write: bytes written so far */
	unsigned char *buf; /* write: the data */
	stdio_read_fn read_fn;
	stdio_buf_fn buf_fn;
	unsigned char *ext; /* the caller's buffer, once asked for */
	size_t ext_max;
	stdio_write_fn write_fn;
	void *ctx;
};

static void stream_pump(struct stdio_stream *s);

void stdio_stream_init(struct stdio_stream *s, struct loop *loop, int fd, bool out, bool is_pty)
{
	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->fd = fd;
	s->out = out;
	s->is_pty = is_pty;
	if (fd >= 0)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static struct stdio_req *pop(struct stdio_stream *s)
{
	struct stdio_req *r = s->first;

	if (r) {
		if (r->write_fn)
			s->bytes_queued -= r->len;
		s->first = r->next;
		if (!s->first)
			s->last = NULL;
		s->n_queued--;
	}
	return r;
}

static void req_fail(struct stdio_req *r, int errnum, const char *msg)
{
	agent_error_t *err = NULL;

	agent_error_set(&err, errnum, "%s", msg);
	if (r->read_fn)
		r->read_fn(r, -errnum, err, NULL, 0, r->ctx);
	else
		r->write_fn(r, -errnum, err, r->ctx);
	free(r->buf);
	free(r);
}

static void stream_unwatch(struct stdio_stream *s)
{
	s->io = loop_io_del(s->loop, s->io);
	s->drain = loop_timer_cancel(s->loop, s->drain);
}

void stdio_stream_close(struct stdio_stream *s)
{
	struct stdio_req *r;

	stream_unwatch(s);
	s->fd = safe_close(s->fd);
	while ((r = pop(s)))
		req_fail(r, EPIPE, "the stream is closed");
}

void stdio_stream_release(struct stdio_stream *s)
{
	stdio_stream_close(s);
}

static void on_drain_timeout(struct loop_timer *t, void *data)
{
	struct stdio_stream *s = data;

	s->drain = NULL;
	/* The process is gone and nothing came within the drain window: EOF. */
	s->eof = true;
	stream_pump(s);
}

static void on_io(struct loop_io *io, int fd, uint32_t events, void *data)
{
	stream_pump(data);
}

/*
 * One read, then more while the pipe has data and the reply has room: the
 * writer refills a small pipe meanwhile, and every reply saved is a round trip.
 * A later EOF or error is left for the next read to find.
 */
static ssize_t read_available(int fd, unsigned char *p, size_t len)
{
	ssize_t n = read(fd, p, len);

	while (n > 0 && (size_t)n < len) {
		ssize_t more = read(fd, p + n, len - n);
		if (more <= 0)
			break;
		n += more;
	}
	return n;
}

/* Serves the head of the queue as far as the fd allows, then waits for the fd. */
static void stream_pump(struct stdio_stream *s)
{
	while (s->first) {
		struct stdio_req *r = s->first;

		if (s->out) {
			/*
			 * At most a pipe's default capacity per reply, from a buffer on the
			 * stack: no large allocation (and its page faults) per call.
			 */
			unsigned char stack[STDIO_REPLY_MAX], *p = stack;
			size_t max = MIN(r->len, sizeof(stack));
			ssize_t n = 0;

			if (r->buf_fn && !r->ext) {
				r->ext_max = MIN(r->len, (size_t)STDIO_EXT_MAX);
				r->ext = r->buf_fn(r->ext_max, r->ctx);
			}
			if (r->ext) {
				p = r->ext;
				max = r->ext_max;
			}
			if (!s->eof && s->fd >= 0)
				n = read_available(s->fd, p, max);
			/* A pty master reads EIO once the last slave fd closed: that is its EOF. */
			if (n < 0 && (errno == EIO || errno == EBADF))
				n = 0;
			if (n < 0 && errno == EAGAIN) {
				if (s->exited && !s->drain)
					s->drain = loop_timer_add(s->loop,
								  loop_now_ms() + STDIO_DRAIN_MS,
								  on_drain_timeout, s);
				break;
			}
			if (n < 0) {
				int e = errno;
				req_fail(pop(s), e, "reading the stream");
				continue;
			}
			if (n == 0)
				s->eof = true;
			s->drain = loop_timer_cancel(s->loop, s->drain);
			pop(s);
			r->read_fn(r, 0, NULL, p, n, r->ctx);
			free(r);
			continue;
		}
		/* stdin */
		ssize_t n = s->fd >= 0 ? write(s->fd, r->buf + r->done, r->len - r->done) : -1;
		if (n < 0 && s->fd < 0)
			errno = EPIPE;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			req_fail(pop(s), errno, "writing to the process's stdin");
			continue;
		}
		r->done += n;
		if (r->done < r->len)
			continue;
		pop(s);
		r->write_fn(r, (int)r->len, NULL, r->ctx);
		free(r->buf);
		free(r);
	}

	uint32_t want = s->first && s->fd >= 0 && !s->eof ? (s->out ? EPOLLIN : EPOLLOUT) : 0;
	if (want && !s->io)
		s->io = loop_io_add(s->loop, s->fd, want, on_io, s);
	else if (!want && s->io)
		s->io = loop_io_del(s->loop, s->io);
}

void stdio_stream_exited(struct stdio_stream *s)
{
	s->exited = true;
	if (s->first)
		stream_pump(s);
}

static int enqueue(struct stdio_stream *s, struct stdio_req *r, struct stdio_req **ret,
		   agent_error_t **err)
{
	if (s->n_queued >= STDIO_QUEUE_MAX) {
		free(r->buf);
		free(r);
		return agent_error_set(err, EBUSY, "too many calls waiting on this stream");
	}
	if (r->write_fn)
		s->bytes_queued += r->len;
	if (s->last)
		s->last->next = r;
	else
		s->first = r;
	s->last = r;
	s->n_queued++;
	if (s->first == r)
		stream_pump(s);
	/* Answered at once? Then the caller has nothing to cancel. */
	for (struct stdio_req *q = s->first; q; q = q->next) {
		if (q == r) {
			*ret = r;
			return 0;
		}
	}
	return 1;
}

int stdio_read(struct stdio_stream *s, size_t len, stdio_read_fn fn, stdio_buf_fn buf_fn, void *ctx,
	       struct stdio_req **ret, agent_error_t **err)
{
	struct stdio_req *r;

	/*
	 * An empty reply means EOF to a runtime: a read of 0 bytes cannot have one. Upstream
	 * answers len 0 with an error at once too (its read of an empty buffer is its EOF).
	 */
	if (len == 0)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "len must be at least 1 (0 would read as EOF)");
	r = calloc(1, sizeof(*r));
	if (!r)
		return agent_error_set(err, ENOMEM, "out of memory");
	r->len = MIN(len, (size_t)STDIO_READ_MAX);
	r->read_fn = fn;
	r->buf_fn = buf_fn;
	r->ctx = ctx;
	return enqueue(s, r, ret, err);
}

int stdio_write(struct stdio_stream *s, const void *data, size_t len, stdio_write_fn fn, void *ctx,
		struct stdio_req **ret, agent_error_t **err)
{
	struct stdio_req *r = calloc(1, sizeof(*r));

	if (s->bytes_queued + len > STDIO_WRITE_QUEUED_MAX) {
		free(r);
		return agent_error_set_status(err, 8 /* RESOURCE_EXHAUSTED */, ENOBUFS,
					      "more than %d bytes already wait for this stdin",
					      STDIO_WRITE_QUEUED_MAX);
	}
	if (!r || (len && !(r->buf = malloc(len)))) {
		free(r);
		return agent_error_set(err, ENOMEM, "out of memory");
	}
	if (len)
		memcpy(r->buf, data, len);
	r->len = len;
	r->write_fn = fn;
	r->ctx = ctx;
	return enqueue(s, r, ret, err);
}

void stdio_cancel(struct stdio_stream *s, struct stdio_req *req)
{
	struct stdio_req **pp = &s->first, *prev = NULL;

	for (; *pp; prev = *pp, pp = &(*pp)->next) {
		if (*pp != req)
			continue;
		*pp = req->next;
		if (s->last == req)
			s->last = prev;
		s->n_queued--;
		if (req->write_fn)
			s->bytes_queued -= req->len;
		free(req->buf);
		free(req);
		break;
	}
	if (!s->first)
		stream_pump(s);
}
