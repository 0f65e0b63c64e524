// SPDX-License-Identifier: Apache-2.0
#include "trace/trace.h"

#include <ctype.h>
#include <endian.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/strbuf.h"
#include "transport/address.h"

#define RECONNECT_MS 1000

/* OTLP enums (opentelemetry/proto/trace/v1/trace.proto): integers in OTLP/JSON. */
enum { SPAN_KIND_INTERNAL = 1, SPAN_KIND_SERVER = 2 };
enum { STATUS_CODE_ERROR = 2 };

struct tracer {
	struct loop *loop;
	struct address addr;
	int fd;
	bool connected;
	struct loop_io *io;
	struct loop_timer *retry;
	unsigned char *buf; /* pending bytes (whole spans) */
	size_t len, off;
	uint64_t dropped;
	struct span root;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void random_hex(char *out, size_t bytes)
{
	unsigned char r[16];

	if (getrandom(r, bytes, GRND_NONBLOCK) != (ssize_t)bytes) {
		/* Early boot without entropy: time and a counter are unique enough for ids. */
		uint64_t v = now_ns();
		for (size_t i = 0; i < bytes; i++)
			r[i] = (unsigned char)(v >> ((i % 8) * 8)) ^ (unsigned char)(i * 131);
	}
	for (size_t i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

static void tracer_update(struct tracer *t);

static void on_retry(struct loop_timer *timer, void *data)
{
	struct tracer *t = data;

	t->retry = NULL;
	tracer_update(t);
}

static void disconnect(struct tracer *t)
{
	t->io = loop_io_del(t->loop, t->io);
	t->fd = safe_close(t->fd);
	t->connected = false;
	/* A span half sent is lost with the connection; the rest waits for the next one. */
	if (t->off) {
		uint64_t be;
		size_t skip = t->off;
		/* Skip to the end of the span in flight. */
		size_t pos = 0;
		while (pos < t->len) {
			memcpy(&be, t->buf + pos, 8);
			size_t n = 8 + (size_t)be64toh(be);
			if (pos + n > skip)
				break;
			pos += n;
		}
		if (pos < t->len) {
			memcpy(&be, t->buf + pos, 8);
			pos += 8 + (size_t)be64toh(be);
		}
		memmove(t->buf, t->buf + pos, t->len - pos);
		t->len -= pos;
		t->off = 0;
	}
	if (!t->retry)
		t->retry = loop_timer_add(t->loop, loop_now_ms() + RECONNECT_MS, on_retry, t);
}

static void on_io(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct tracer *t = data;

	if (!t->connected) {
		int e = 0;
		socklen_t l = sizeof(e);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0 || e) {
			disconnect(t);
			return;
		}
		t->connected = true;
	}
	if (events & (EPOLLHUP | EPOLLERR)) {
		disconnect(t);
		return;
	}
	tracer_update(t);
}

static void try_connect(struct tracer *t)
{
	int fd;
	int r;

	if (t->addr.kind == ADDRESS_SERIAL) {
		/* A virtio-serial port: one long stream. While the host end is not connected,
		 * the port polls HUP and takes nothing: on_io closes it and we come back. */
		agent_error_t *err = NULL;
		fd = address_open_serial(&t->addr, "/sys", &err);
		if (fd < 0)
			log_debug("trace", "%s", err->msg);
		agent_error_free(err);
		r = 0;
	} else if (t->addr.kind == ADDRESS_VSOCK) {
		struct sockaddr_vm sa = {
			.svm_family = AF_VSOCK, .svm_cid = t->addr.cid, .svm_port = t->addr.port};
		fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		r = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	} else {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		socklen_t sl;
		size_t pl = strlen(t->addr.path);
		memcpy(sa.sun_path + (t->addr.abstract ? 1 : 0), t->addr.path, pl);
		sl = offsetof(struct sockaddr_un, sun_path) + pl + (t->addr.abstract ? 1 : 0);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		r = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&sa, sl);
	}
	if (fd < 0 || (r < 0 && errno != EINPROGRESS && errno != EAGAIN)) {
		safe_close(fd);
		t->retry = loop_timer_add(t->loop, loop_now_ms() + RECONNECT_MS, on_retry, t);
		return;
	}
	t->fd = fd;
	t->connected = r == 0;
	t->io = loop_io_add(t->loop, fd, EPOLLOUT, on_io, t);
	if (!t->io)
		disconnect(t);
}

/* Sends what waits; watches for writability only while something does. */
static void tracer_update(struct tracer *t)
{
	if (t->fd < 0) {
		if (t->len && !t->retry)
			try_connect(t);
		return;
	}
	while (t->connected && t->off < t->len) {
		size_t want = t->len - t->off;
		/* A virtio-serial port is no socket: write(), non-blocking since its open. */
		ssize_t n = t->addr.kind == ADDRESS_SERIAL ? write(t->fd, t->buf + t->off, want)
							   : send(t->fd, t->buf + t->off, want,
								  MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			log_debug("trace", "sending spans to %s: %s",
				  t->addr.path[0] ? t->addr.path : "vsock",
				  n < 0 ? strerror(errno) : "closed");
			disconnect(t);
			return;
		}
		t->off += n;
	}
	if (t->off == t->len)
		t->off = t->len = 0;
	if (t->io)
		loop_io_set_events(t->loop, t->io, t->connected && !t->len ? 0 : EPOLLOUT);
}

int tracer_new(struct loop *l, const char *addr, struct tracer **ret, agent_error_t **err)
{
	struct tracer *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return agent_error_set(err, ENOMEM, "out of memory");
	r = address_parse(addr, &t->addr, err);
	if (r < 0) {
		free(t);
		return r;
	}
	t->loop = l;
	t->fd = -1;
	t->buf = malloc(TRACE_BUFFER_MAX);
	if (!t->buf) {
		free(t);
		return agent_error_set(err, ENOMEM, "out of memory");
	}
	random_hex(t->root.trace_id, 16);
	random_hex(t->root.span_id, 8);
	snprintf(t->root.name, sizeof(t->root.name), "root-span");
	t->root.kind = SPAN_KIND_INTERNAL;
	t->root.start_ns = now_ns();
	*ret = t;
	return 0;
}

static bool hex_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

void tracer_span_start(struct tracer *t, struct span *s, const char *method,
		       const char *traceparent)
{
	size_t j = 0;

	memset(s, 0, sizeof(*s));
	s->kind = SPAN_KIND_SERVER;
	snprintf(s->method, sizeof(s->method), "%s", method);
	for (size_t i = 0; method[i] && j + 2 < sizeof(s->name); i++) {
		char ch = method[i];
		if (isupper((unsigned char)ch)) {
			if (i > 0)
				s->name[j++] = '_';
			ch = (char)tolower((unsigned char)ch);
		}
		s->name[j++] = ch;
	}
	/* traceparent: 00-<32 hex>-<16 hex>-<2 hex> */
	if (traceparent && strlen(traceparent) >= 55 && traceparent[2] == '-' &&
	    traceparent[35] == '-' && traceparent[52] == '-' && hex_ok(traceparent + 3, 32) &&
	    hex_ok(traceparent + 36, 16)) {
		memcpy(s->trace_id, traceparent + 3, 32);
		memcpy(s->parent_id, traceparent + 36, 16);
	} else {
		memcpy(s->trace_id, t->root.trace_id, sizeof(s->trace_id));
		memcpy(s->parent_id, t->root.span_id, sizeof(s->parent_id));
	}
	random_hex(s->span_id, 8);
	s->start_ns = now_ns();
}

static void add_string_attr(struct strbuf *sb, const char *key, const char *value)
{
	strbuf_adds(sb, "{\"key\":");
	strbuf_add_json_string(sb, key);
	strbuf_adds(sb, ",\"value\":{\"stringValue\":");
	strbuf_add_json_string(sb, value);
	strbuf_adds(sb, "}}");
}

/*
 * The span in the OTLP/JSON encoding of opentelemetry.proto.trace.v1.Span: lowerCamelCase
 * keys, ids as hex strings, enums as integers, 64-bit values as decimal strings, default
 * values left out. A failed call's status is ERROR; a call that succeeded leaves it unset,
 * as OpenTelemetry's RPC conventions ask of servers. code < 0: no gRPC code (the root span).
 */
static void span_json(struct strbuf *sb, const struct span *s, int code)
{
	strbuf_addf(sb, "{\"traceId\":\"%s\",\"spanId\":\"%s\"", s->trace_id, s->span_id);
	if (s->parent_id[0])
		strbuf_addf(sb, ",\"parentSpanId\":\"%s\"", s->parent_id);
	strbuf_adds(sb, ",\"name\":");
	strbuf_add_json_string(sb, s->name);
	strbuf_addf(sb, ",\"kind\":%d,\"startTimeUnixNano\":\"%llu\",\"endTimeUnixNano\":\"%llu\"",
		    s->kind, (unsigned long long)s->start_ns, (unsigned long long)now_ns());
	if (code >= 0) {
		strbuf_adds(sb, ",\"attributes\":[");
		add_string_attr(sb, "rpc.system", "ttrpc");
		strbuf_adds(sb, ",");
		add_string_attr(sb, "rpc.method", s->method);
		strbuf_addf(sb,
			    ",{\"key\":\"rpc.grpc.status_code\",\"value\":{\"intValue\":\"%d\"}}]",
			    code);
	}
	if (code > 0)
		strbuf_addf(sb, ",\"status\":{\"code\":%d}", STATUS_CODE_ERROR);
	strbuf_adds(sb, "}");
}

static void queue_span(struct tracer *t, const struct span *s, int code)
{
	struct strbuf sb;
	uint64_t be;

	strbuf_init(&sb, 4096);
	span_json(&sb, s, code);
	if (sb.oom || t->len + 8 + sb.len > TRACE_BUFFER_MAX) {
		t->dropped++;
		strbuf_release(&sb);
		return;
	}
	be = htobe64((uint64_t)sb.len);
	memcpy(t->buf + t->len, &be, 8);
	memcpy(t->buf + t->len + 8, sb.s, sb.len);
	t->len += 8 + sb.len;
	strbuf_release(&sb);
}

void tracer_span_end(struct tracer *t, const struct span *s, int code)
{
	queue_span(t, s, code);
	tracer_update(t);
}

uint64_t tracer_dropped(const struct tracer *t)
{
	return t->dropped;
}

struct tracer *tracer_free(struct tracer *t)
{
	if (!t)
		return NULL;
	queue_span(t, &t->root, -1);
	tracer_update(t);
	t->retry = loop_timer_cancel(t->loop, t->retry);
	t->io = loop_io_del(t->loop, t->io);
	safe_close(t->fd);
	free(t->buf);
	free(t);
	return NULL;
}
