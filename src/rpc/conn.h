/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to rpc/: the server, connection and call structures shared by server.c and call.c. */
#ifndef AGENT_RPC_CONN_H
#define AGENT_RPC_CONN_H

#include "rpc/frame.h"
#include "rpc/server.h"
#include "trace/trace.h"
#include "ttrpc.pb-c.h"

struct rpc_outbuf {
	struct rpc_outbuf *next;
	size_t len, off;
	size_t cap; /* bytes of data[] allocated */
	uint8_t data[];
};

struct rpc_conn {
	struct rpc_server *srv;
	struct rpc_conn *prev, *next;
	int fd;
	bool serial; /* long-lived port: EOF means "host not attached", never the end */
	bool closing; /* close once the current event is handled */
	unsigned busy; /* >0 while the connection's own event handler runs */
	struct loop_io *io;
	struct loop_timer *retry; /* serial: re-watch the port after a hang-up */
	struct frame_decoder dec;
	struct rpc_outbuf *out_head, *out_tail;
	size_t out_bytes;
	struct rpc_outbuf *spare; /* the last sent frame buffer, kept for the next reply */
	struct rpc_call *calls; /* open calls, newest first */
	unsigned n_calls;
	struct rpc_call *dispatching; /* the call whose handler is running */
	bool dispatch_answered; /* ... and whether it answered before returning */
};

struct rpc_call {
	struct rpc_conn *conn;
	struct rpc_call *prev, *next;
	uint32_t stream_id;
	const struct rpc_method *method;
	const ProtobufCServiceDescriptor *svc;
	void *svc_ctx;
	struct rpc_call *held_prev, *held_next; /* while held at the server's gate */
	ProtobufCMessage *req;
	Ttrpc__Request *envelope;
	int64_t timeout_nano;
	struct loop_timer *deadline;
	rpc_cancel_fn cancel;
	void *cancel_data;
	struct span span; /* when the server traces */
};

struct rpc_server {
	struct loop *loop;
	int listen_fd;
	struct loop_io *listen_io;
	bool accept_paused; /* at the cap or out of fds: the backlog holds new connections */
	struct loop_timer *accept_retry; /* out of fds: when to try again */
	bool cap_warned; /* one warning per burst: set when paused at the cap */
	uint64_t cap_warned_ms;
	unsigned long cap_refusals; /* pauses since that warning */
	struct rpc_conn *conns;
	unsigned n_conns;
	const struct rpc_service **services;
	size_t n_services;
	struct rpc_stats stats;
	struct tracer *tracer; /* agent.trace, or NULL */
	bool gate_closed; /* rpc_server_set_gate */
	struct rpc_call *held_head, *held_tail; /* calls waiting for the gate, oldest first */
};

/* server.c */
/* A frame whose payload (len bytes at *ret_payload) the caller fills, then conn_send_built. */
struct rpc_outbuf *conn_frame_new(struct rpc_conn *c, size_t len, uint8_t **ret_payload);
void conn_send_built(struct rpc_conn *c, uint32_t stream_id, struct rpc_outbuf *b);
void conn_send_frame(struct rpc_conn *c, uint32_t stream_id, const uint8_t *payload, size_t len);
void conn_close(struct rpc_conn *c);

/* call.c */
void call_handle_request(struct rpc_conn *c, const struct ttrpc_header *h, const uint8_t *payload);
void call_send_status(struct rpc_conn *c, uint32_t stream_id, int code, const char *msg);
void call_cancel_all(struct rpc_conn *c);

#endif
