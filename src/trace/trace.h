/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tracing (agent.trace): a span per RPC, exported as length-prefixed JSON
 * (u64 big-endian length, then the span in the OTLP/JSON encoding of
 * opentelemetry.proto.trace.v1.Span) to agent.trace_addr: vsock to the host,
 * a unix socket, or a virtio-serial port (serial:///dev/virtio-ports/NAME).
 * kata-agent-ctl trace-forward (tools/ctl/cmd-trace.c) is the host end. Export never blocks the
 * agent: spans wait in a bounded buffer while the collector connects or reads slowly, and whole
 * spans are dropped (and counted) when it is full. A collector that goes away
 * is reconnected to. With tracing off nothing is made: the RPC layer only
 * tests a NULL pointer.
 */
#ifndef AGENT_TRACE_TRACE_H
#define AGENT_TRACE_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "loop/loop.h"

#define TRACE_BUFFER_MAX (1024 * 1024)

struct tracer;

struct span {
	char trace_id[33]; /* 32 hex digits */
	char span_id[17]; /* 16 hex digits */
	char parent_id[17]; /* "" for a root */
	char name[64];
	char method[48]; /* as called: "CreateContainer" */
	int kind; /* OTLP SpanKind: SERVER for a call, INTERNAL for the root */
	uint64_t start_ns; /* CLOCK_REALTIME */
};

/* addr: vsock://CID:PORT or unix:///path (as the server addresses). */
int tracer_new(struct loop *l, const char *addr, struct tracer **ret, agent_error_t **err);
/* Ends the root span, tries once more to send what waits, and frees. Accepts NULL. */
struct tracer *tracer_free(struct tracer *t);

/*
 * Starts a span named after the method in snake case ("CreateContainer" ->
 * "create_container"). traceparent: a W3C "00-<trace>-<span>-<flags>" value
 * from the request metadata, or NULL: then the span is a child of the root span.
 */
void tracer_span_start(struct tracer *t, struct span *s, const char *method,
		       const char *traceparent);
/* Ends it with the gRPC status code and queues it for export. */
void tracer_span_end(struct tracer *t, const struct span *s, int code);

/* Spans dropped because the buffer was full. */
uint64_t tracer_dropped(const struct tracer *t);

#endif
