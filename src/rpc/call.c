/* SPDX-License-Identifier: Apache-2.0 */
/* Calls: envelope decoding, dispatch to a service method, replies, deadlines, cancellation. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "google/rpc/status.pb-c.h"
#include "rpc/strcheck.h"
#include "rpc/conn.h"

/* Packs {status, payload} into a ttrpc.Response and queues it. */
static size_t varint_size(size_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint8_t *put_varint(uint8_t *p, size_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/*
 * The ttRPC Response {status = 1, payload = 2} is written by hand straight into
 * the frame, with the reply message packed in place: one copy of the data, the
 * one protobuf-c makes (same bytes as packing the envelope).
 */
static void send_response(struct rpc_conn *c, uint32_t stream_id, int code, const char *msg,
			  const ProtobufCMessage *reply)
{
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	size_t st_sz, reply_sz = 0, sz;
	struct rpc_outbuf *b;
	uint8_t *p;

	st.code = code;
	st.message = (char *)(msg ? msg : "");
	st_sz = google__rpc__status__get_packed_size(&st);
	sz = 1 + varint_size(st_sz) + st_sz;
	if (code == GRPC_OK && reply) {
		reply_sz = protobuf_c_message_get_packed_size(reply);
		if (reply_sz)
			sz += 1 + varint_size(reply_sz) + reply_sz;
	}
	if (sz > TTRPC_MAX_PAYLOAD) {
		char m[128];
		snprintf(m, sizeof(m), "reply of %zu bytes exceeds the maximum message size of %u",
			 sz, TTRPC_MAX_PAYLOAD);
		log_error("rpc", "stream %u: %s", stream_id, m);
		send_response(c, stream_id, GRPC_INVALID_ARGUMENT, m, NULL);
		return;
	}
	b = conn_frame_new(c, sz, &p);
	if (!b) {
		log_error("rpc", "out of memory packing a reply on stream %u", stream_id);
		return;
	}
	*p++ = 0x0a; /* field 1, length-delimited */
	p = put_varint(p, st_sz);
	p += google__rpc__status__pack(&st, p);
	if (reply_sz) {
		*p++ = 0x12; /* field 2, length-delimited */
		p = put_varint(p, reply_sz);
		protobuf_c_message_pack(reply, p);
	}
	conn_send_built(c, stream_id, b);
}

void call_send_status(struct rpc_conn *c, uint32_t stream_id, int code, const char *msg)
{
	send_response(c, stream_id, code, msg, NULL);
}

static struct rpc_call *call_free(struct rpc_call *call)
{
	if (!call)
		return NULL;
	if (call->req)
		protobuf_c_message_free_unpacked(call->req, NULL);
	if (call->envelope)
		ttrpc__request__free_unpacked(call->envelope, NULL);
	free(call);
	return NULL;
}

/* Takes the call off its connection; afterwards only its stream id and conn are used. */
static void call_detach(struct rpc_call *call)
{
	struct rpc_conn *c = call->conn;
	call->deadline = loop_timer_cancel(c->srv->loop, call->deadline);
	if (call->prev)
		call->prev->next = call->next;
	else
		c->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	call->prev = call->next = NULL;
	if (c->dispatching == call)
		c->dispatch_answered = true;
	c->n_calls--;
	c->srv->stats.calls_in_flight--;
}

static void call_finish(struct rpc_call *call, int code, const char *msg,
			const ProtobufCMessage *reply)
{
	struct rpc_conn *c = call->conn;
	uint32_t sid = call->stream_id;

	if (c->srv->tracer)
		tracer_span_end(c->srv->tracer, &call->span, code);

	call_detach(call);
	call_free(call);
	send_response(c, sid, code, msg, reply);
}

/* Room in front of the data: frame header, Response.status (empty), Response.payload and the
 * reply's own field, each tag plus at most 5 bytes of length. */
#define BYTES_REPLY_ROOM (TTRPC_HEADER_SIZE + 2 + 6 + 6)

uint8_t *rpc_reply_bytes_begin(struct rpc_call *call, size_t max, struct rpc_bytes_reply **ret)
{
	uint8_t *p;
	struct rpc_outbuf *b =
		conn_frame_new(call->conn, BYTES_REPLY_ROOM - TTRPC_HEADER_SIZE + max, &p);

	if (!b)
		return NULL;
	*ret = (struct rpc_bytes_reply *)b;
	return b->data + BYTES_REPLY_ROOM;
}

void rpc_reply_bytes_abort(struct rpc_call *call, struct rpc_bytes_reply *br)
{
	free(br);
}

static uint8_t *put_varint_back(uint8_t *end, size_t v)
{
	uint8_t tmp[10];
	size_t n = put_varint(tmp, v) - tmp;

	memcpy(end - n, tmp, n);
	return end - n;
}

void rpc_reply_bytes_end(struct rpc_call *call, struct rpc_bytes_reply *br, uint32_t field,
			 size_t n)
{
	struct rpc_outbuf *b = (struct rpc_outbuf *)br;
	struct rpc_conn *c = call->conn;
	uint32_t sid = call->stream_id;
	uint8_t *data = b->data + BYTES_REPLY_ROOM, *p = data;
	size_t inner = 0;

	if (c->srv->tracer)
		tracer_span_end(c->srv->tracer, &call->span, GRPC_OK);
	call_detach(call);
	call_free(call);
	/* Written backwards in front of the data: the message, then the envelope. */
	if (n) {
		p = put_varint_back(p, n);
		*--p = (uint8_t)(field << 3 | 2);
		inner = (size_t)(data - p) + n;
		p = put_varint_back(p, inner);
		*--p = 0x12; /* Response.payload */
	}
	*--p = 0x00; /* Response.status: OK, no message */
	*--p = 0x0a;
	b->off = (size_t)(p - b->data) - TTRPC_HEADER_SIZE;
	b->len = BYTES_REPLY_ROOM + n;
	conn_send_built(c, sid, b);
}

void rpc_reply(struct rpc_call *call, const ProtobufCMessage *resp)
{
	call_finish(call, GRPC_OK, NULL, resp);
}

void rpc_reply_status(struct rpc_call *call, int code, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	call_finish(call, code, msg ? msg : fmt, NULL);
	free(msg);
}

void rpc_reply_error(struct rpc_call *call, agent_error_t *err)
{
	int code = rpc_status_from_error(err);
	const char *msg = err && err->msg ? err->msg : "unknown error";
	log_write(LOG_LEVEL_ERROR, "rpc",
		  LOG_FIELDS({"method", rpc_call_method(call)}, {"code", rpc_status_name(code)}),
		  "%s", msg);
	call_finish(call, code, msg, NULL);
	agent_error_free(err);
}

void rpc_call_set_cancel(struct rpc_call *call, rpc_cancel_fn fn, void *data)
{
	call->cancel = fn;
	call->cancel_data = data;
}

const char *rpc_call_method(const struct rpc_call *call)
{
	return call->method ? call->method->name : "?";
}

const char *rpc_call_metadata(const struct rpc_call *call, const char *key)
{
	for (size_t i = 0; call->envelope && i < call->envelope->n_metadata; i++) {
		const Ttrpc__KeyValue *kv = call->envelope->metadata[i];
		if (kv && kv->key && strcasecmp(kv->key, key) == 0)
			return kv->value;
	}
	return NULL;
}

/* The owner learns first, then the call is answered (deadline) or dropped (client gone). */
static void call_cancel(struct rpc_call *call, bool answer)
{
	if (call->cancel) {
		rpc_cancel_fn fn = call->cancel;
		call->cancel = NULL;
		fn(call, call->cancel_data);
	}
	if (answer) {
		call_finish(call, GRPC_DEADLINE_EXCEEDED, "timeout", NULL);
	} else {
		call_detach(call);
		call_free(call);
	}
}

static void call_deadline(struct loop_timer *t, void *data)
{
	struct rpc_call *call = data;
	call->deadline = NULL;
	log_write(LOG_LEVEL_WARN, "rpc", LOG_FIELDS({"method", rpc_call_method(call)}),
		  "deadline exceeded");
	call_cancel(call, true);
}

void call_cancel_all(struct rpc_conn *c)
{
	while (c->calls)
		call_cancel(c->calls, false);
}

static const struct rpc_service *find_service(struct rpc_server *srv, const char *name)
{
	for (size_t i = 0; i < srv->n_services; i++)
		if (strcmp(srv->services[i]->desc->name, name) == 0)
			return srv->services[i];
	return NULL;
}

static const struct rpc_method *find_method(const struct rpc_service *svc, const char *name)
{
	for (size_t i = 0; i < svc->n_methods; i++)
		if (strcmp(svc->methods[i].name, name) == 0)
			return &svc->methods[i];
	return NULL;
}

static const ProtobufCMethodDescriptor *find_method_desc(const ProtobufCServiceDescriptor *d,
							 const char *name)
{
	for (unsigned i = 0; i < d->n_methods; i++)
		if (strcmp(d->methods[i].name, name) == 0)
			return &d->methods[i];
	return NULL;
}

static bool stream_in_use(const struct rpc_conn *c, uint32_t sid)
{
	for (const struct rpc_call *k = c->calls; k; k = k->next)
		if (k->stream_id == sid)
			return true;
	return false;
}

/* The call's deadline, from its timeout_nano, once it is left open. */
static void call_arm_deadline(struct rpc_call *call)
{
	struct rpc_server *srv = call->conn->srv;
	if (call->timeout_nano > 0 && !call->deadline) {
		/* Whole milliseconds, rounded up; the host's value may be anything up to
		 * INT64_MAX, so no addition before the division. */
		uint64_t ns = (uint64_t)call->timeout_nano;
		uint64_t ms = ns / 1000000 + (ns % 1000000 != 0);
		call->deadline = loop_timer_add(srv->loop, loop_now_ms() + ms, call_deadline, call);
	}
}

/* Runs the method's handler; a call it leaves open gets its deadline. */
static void call_dispatch(struct rpc_call *call)
{
	struct rpc_conn *c = call->conn;
	c->dispatching = call;
	c->dispatch_answered = false;
	call->method->fn(call, call->req, call->svc_ctx);
	c->dispatching = NULL;
	if (!c->dispatch_answered)
		call_arm_deadline(call);
}

static void call_hold(struct rpc_call *call);

void call_handle_request(struct rpc_conn *c, const struct ttrpc_header *h, const uint8_t *payload)
{
	struct rpc_server *srv = c->srv;
	char msg[256];

	if ((h->stream_id & 1) == 0) {
		srv->stats.frames_rejected++;
		call_send_status(c, h->stream_id, GRPC_INVALID_ARGUMENT, "stream id must be odd");
		return;
	}
	if (stream_in_use(c, h->stream_id)) {
		srv->stats.frames_rejected++;
		snprintf(msg, sizeof(msg), "stream id %u is already in use", h->stream_id);
		call_send_status(c, h->stream_id, GRPC_INVALID_ARGUMENT, msg);
		return;
	}
	if (c->n_calls >= RPC_MAX_CALLS_PER_CONN) {
		call_send_status(c, h->stream_id, GRPC_RESOURCE_EXHAUSTED,
				 "too many calls in flight on this connection");
		return;
	}

	Ttrpc__Request *env = ttrpc__request__unpack(NULL, h->length, payload);
	if (!env || !env->service || !env->method) {
		if (env)
			ttrpc__request__free_unpacked(env, NULL);
		srv->stats.frames_rejected++;
		call_send_status(c, h->stream_id, GRPC_INVALID_ARGUMENT,
				 "cannot decode the ttrpc request envelope");
		return;
	}

	const struct rpc_service *svc = find_service(srv, env->service);
	if (!svc) {
		snprintf(msg, sizeof(msg), "%.100s service does not exist", env->service);
		ttrpc__request__free_unpacked(env, NULL);
		call_send_status(c, h->stream_id, GRPC_INVALID_ARGUMENT, msg);
		return;
	}
	const ProtobufCMethodDescriptor *md = find_method_desc(svc->desc, env->method);
	const struct rpc_method *m = md ? find_method(svc, md->name) : NULL;
	if (m && m->absent) {
		snprintf(msg, sizeof(msg), "/%s/%.100s is not supported", svc->desc->name, m->name);
		ttrpc__request__free_unpacked(env, NULL);
		call_send_status(c, h->stream_id, GRPC_NOT_FOUND, msg);
		return;
	}
	if (!md || !m || !m->fn) {
		if (!md)
			snprintf(msg, sizeof(msg), "%.100s method", env->method);
		else
			snprintf(msg, sizeof(msg), "%.100s is not implemented by this agent yet",
				 env->method);
		ttrpc__request__free_unpacked(env, NULL);
		call_send_status(c, h->stream_id, GRPC_UNIMPLEMENTED, msg);
		return;
	}

	ProtobufCMessage *req =
		protobuf_c_message_unpack(md->input, NULL, env->payload.len, env->payload.data);
	if (!req) {
		snprintf(msg, sizeof(msg), "cannot decode the %s request", md->name);
		ttrpc__request__free_unpacked(env, NULL);
		call_send_status(c, h->stream_id, GRPC_INVALID_ARGUMENT, msg);
		return;
	}

	char field[256];
	if (rpc_string_has_nul(md->input, env->payload.data, env->payload.len, field,
			       sizeof(field))) {
		snprintf(msg, sizeof(msg), "%s: %.200s holds a NUL byte", md->name, field);
		protobuf_c_message_free_unpacked(req, NULL);
		ttrpc__request__free_unpacked(env, NULL);
		call_send_status(c, h->stream_id, GRPC_INVALID_ARGUMENT, msg);
		return;
	}

	struct rpc_call *call = calloc(1, sizeof(*call));
	if (!call) {
		protobuf_c_message_free_unpacked(req, NULL);
		ttrpc__request__free_unpacked(env, NULL);
		call_send_status(c, h->stream_id, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	call->conn = c;
	call->stream_id = h->stream_id;
	call->method = m;
	call->svc = svc->desc;
	call->svc_ctx = svc->ctx;
	call->req = req;
	call->envelope = env;
	call->timeout_nano = env->timeout_nano;
	if (c->srv->tracer)
		tracer_span_start(c->srv->tracer, &call->span, m->name,
				  rpc_call_metadata(call, "traceparent"));
	call->next = c->calls;
	if (c->calls)
		c->calls->prev = call;
	c->calls = call;
	c->n_calls++;
	srv->stats.calls_in_flight++;
	srv->stats.calls_total++;

	log_write(m->quiet ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO, "rpc",
		  LOG_FIELDS({"method", m->name}), "rpc call from shim to agent: %s", m->name);

	if (svc->gated && srv->gate_closed) {
		call_hold(call);
		call_arm_deadline(call);
		return;
	}
	call_dispatch(call);
}

/* A held call's client left or its deadline passed: it leaves the queue. */
static void call_unhold(struct rpc_call *call, void *data)
{
	struct rpc_server *srv = call->conn->srv;
	(void)data;
	if (call->held_prev)
		call->held_prev->held_next = call->held_next;
	else
		srv->held_head = call->held_next;
	if (call->held_next)
		call->held_next->held_prev = call->held_prev;
	else
		srv->held_tail = call->held_prev;
	call->held_prev = call->held_next = NULL;
}

static void call_hold(struct rpc_call *call)
{
	struct rpc_server *srv = call->conn->srv;
	call->held_prev = srv->held_tail;
	call->held_next = NULL;
	if (srv->held_tail)
		srv->held_tail->held_next = call;
	else
		srv->held_head = call;
	srv->held_tail = call;
	rpc_call_set_cancel(call, call_unhold, NULL);
}

void rpc_server_set_gate(struct rpc_server *srv, bool closed)
{
	srv->gate_closed = closed;
	while (!srv->gate_closed && srv->held_head) {
		struct rpc_call *call = srv->held_head;
		struct rpc_conn *c = call->conn;
		call_unhold(call, NULL);
		call->cancel = NULL;
		call->cancel_data = NULL;
		/* Outside the connection's own handler: a failed write closes it afterwards. */
		c->busy++;
		call_dispatch(call);
		c->busy--;
		if (c->closing) {
			c->closing = false;
			conn_close(c);
		}
	}
}
