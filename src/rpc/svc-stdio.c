// SPDX-License-Identifier: Apache-2.0
/*
 * The stdio methods: ReadStdout/ReadStderr and WriteStdin are deferred
 * replies served by the process's streams (sandbox/stdio.h has the rules:
 * back-pressure, EOF, the drain window after exit). CloseStdin, TtyWinResize.
 */
#include <stdlib.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "rpc/agent-handlers.h"
#include "rpc/status.h"
#include "sandbox/container.h"
#include "sandbox/sandbox.h"

struct stream_call {
	struct rpc_call *call;
	struct stdio_stream *s;
	struct stdio_req *req;
	struct process *p;
	struct rpc_bytes_reply *br; /* a read's reply frame, once the stream asked for it */
	unsigned char *buf;
};

static void stream_cancelled(struct rpc_call *call, void *data)
{
	struct stream_call *sc = data;

	if (sc->req)
		stdio_cancel(sc->s, sc->req);
	if (sc->br)
		rpc_reply_bytes_abort(call, sc->br);
	free(sc);
}

static void read_done(struct stdio_req *req, int r, agent_error_t *err, const void *data,
		      size_t len, void *ctx)
{
	struct stream_call *sc = ctx;
	Grpc__ReadStreamResponse resp = GRPC__READ_STREAM_RESPONSE__INIT;
	struct process *p = sc->p;

	rpc_call_set_cancel(sc->call, NULL, NULL);
	if (r >= 0 && sc->br && data == sc->buf) {
		/* Read straight into the reply frame: no copy left to make. */
		rpc_reply_bytes_end(sc->call, sc->br, 1 /* ReadStreamResponse.data */, len);
	} else {
		if (sc->br)
			rpc_reply_bytes_abort(sc->call, sc->br);
		if (r < 0) {
			rpc_reply_error(sc->call, err);
		} else {
			resp.data.data = (uint8_t *)data;
			resp.data.len = len;
			rpc_reply(sc->call, &resp.base);
		}
	}
	free(sc);
	/* A waited process goes once its output reached EOF (the free runs from a timer). */
	if (len == 0)
		process_maybe_free(p);
}

static void write_done(struct stdio_req *req, int r, agent_error_t *err, void *ctx)
{
	struct stream_call *sc = ctx;
	Grpc__WriteStreamResponse resp = GRPC__WRITE_STREAM_RESPONSE__INIT;

	rpc_call_set_cancel(sc->call, NULL, NULL);
	if (r < 0) {
		agent_error_set_status(&err, GRPC_INTERNAL, EPIPE, "Cannot get writer");
		rpc_reply_error(sc->call, err);
	} else {
		resp.len = (uint32_t)r;
		rpc_reply(sc->call, &resp.base);
	}
	free(sc);
}

/* The call's record, with its cancel hook; NULL after answering RESOURCE_EXHAUSTED. */
static struct stream_call *stream_call_new(struct rpc_call *call, struct process *p,
					   struct stdio_stream *s)
{
	struct stream_call *sc = calloc(1, sizeof(*sc));

	if (!sc) {
		rpc_reply_status(call, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	sc->call = call;
	sc->p = p;
	sc->s = s;
	rpc_call_set_cancel(call, stream_cancelled, sc);
	return sc;
}

/* After stdio_read/stdio_write: rr < 0 failed now, 1 answered already (sc is gone), 0 waits. */
static void stream_call_queued(struct stream_call *sc, int rr, struct stdio_req *q,
			       agent_error_t *err)
{
	if (rr < 0) {
		rpc_call_set_cancel(sc->call, NULL, NULL);
		rpc_reply_error(sc->call, err);
		free(sc);
	} else if (rr == 0) {
		sc->req = q;
	}
}

static unsigned char *reply_buf(size_t max, void *ctx)
{
	struct stream_call *sc = ctx;

	sc->buf = rpc_reply_bytes_begin(sc->call, max, &sc->br);
	return sc->buf;
}

static void read_stream(struct rpc_call *call, const ProtobufCMessage *req, void *ctx,
			bool err_stream)
{
	const Grpc__ReadStreamRequest *r = (const void *)req;
	agent_error_t *err = NULL;
	struct stream_call *sc;
	struct process *p;

	if (process_lookup(ctx, r->container_id, r->exec_id, true, &p, &err) < 0) {
		rpc_reply_error(call, err);
		return;
	}
	/* A terminal has one stream: both methods read the pty master. */
	sc = stream_call_new(call, p, err_stream && !p->tty ? &p->err : &p->out);
	if (!sc)
		return;
	struct stdio_req *q = NULL;
	int rr = stdio_read(sc->s, r->len, read_done, reply_buf, sc, &q, &err);
	stream_call_queued(sc, rr, q, err);
}

void rpc_read_stdout(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	read_stream(call, req, ctx, false);
}

void rpc_read_stderr(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	read_stream(call, req, ctx, true);
}

void rpc_write_stdin(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__WriteStreamRequest *r = (const void *)req;
	Grpc__WriteStreamResponse resp = GRPC__WRITE_STREAM_RESPONSE__INIT;
	agent_error_t *err = NULL;
	struct stream_call *sc;
	struct process *p;

	if (process_lookup(ctx, r->container_id, r->exec_id, false, &p, &err) < 0) {
		err->status = GRPC_INTERNAL; /* upstream's codes for this method */
		rpc_reply_error(call, err);
		return;
	}
	if (r->data.len == 0) {
		/* Empty data closes stdin (runtime-rs convention). */
		stdio_stream_close(&p->in);
		rpc_reply(call, &resp.base);
		return;
	}
	if (p->in.fd < 0) {
		rpc_reply_status(call, GRPC_INTERNAL, "Cannot get writer");
		return;
	}
	sc = stream_call_new(call, p, &p->in);
	if (!sc)
		return;
	struct stdio_req *q = NULL;
	int rr = stdio_write(sc->s, r->data.data, r->data.len, write_done, sc, &q, &err);
	stream_call_queued(sc, rr, q, err);
}

void rpc_close_stdin(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__CloseStdinRequest *r = (const void *)req;
	Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
	agent_error_t *err = NULL;
	struct process *p;

	if (process_lookup(ctx, r->container_id, r->exec_id, false, &p, &err) < 0) {
		rpc_reply_error(call, err);
		return;
	}
	/* A terminal has no end of input but its EOF character (canonical mode reads it so). */
	if (p->tty && p->in.fd >= 0 && write(p->in.fd, "\x04", 1) < 0)
		(void)0;
	stdio_stream_close(&p->in);
	rpc_reply(call, &e.base);
}

void rpc_tty_win_resize(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__TtyWinResizeRequest *r = (const void *)req;
	Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
	agent_error_t *err = NULL;
	struct process *p;

	if (process_lookup(ctx, r->container_id, r->exec_id, false, &p, &err) < 0 ||
	    process_resize(p, r->row, r->column, &err) < 0) {
		rpc_reply_error(call, err);
		return;
	}
	rpc_reply(call, &e.base);
}
