/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A host-side ttRPC client for the agent: used by kata-agent-ctl, the
 * integration tests and the benchmarks.
 *
 * Layers, lowest first:
 *   ttrpc_dial()                  connect to an agent address, blocking fd
 *   ttrpc_write_frame/read_frame  one raw frame on an fd (tests that send garbage)
 *   ttrpc_encode_request/...      the ttrpc.Request / ttrpc.Response envelopes
 *   ttrpc_client_send/recv        several calls in flight on one connection,
 *                                 replies collected in any order
 *   ttrpc_client_call             one synchronous call, bytes in and out
 *   ttrpc_client_call_msg         the same with protobuf-c messages
 *
 * Conventions (as in the rest of the tree): functions return 0 (or a
 * non-negative value) on success and a negative errno on failure, filling
 * *err when err is not NULL; ret_* outputs are untouched on failure.
 * "Failure" means the transport failed: a reply carrying a non-OK status is a
 * successful call, the status is in the reply.
 *
 * A ttrpc_client is not thread-safe; use one per thread.
 */
#ifndef AGENT_CLIENT_TTRPC_CLIENT_H
#define AGENT_CLIENT_TTRPC_CLIENT_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "grpc-codes.h"
#include "rpc/frame.h"

/* ---- dialing ------------------------------------------------------------------------------ */

/*
 * Connects to an agent and returns a connected, blocking, close-on-exec fd.
 * Addresses:
 *   unix:///path            unix stream socket
 *   unix://@name            abstract unix socket
 *   vsock://CID:PORT        AF_VSOCK
 *   hvsock:///path:PORT     hybrid vsock (Firecracker, Cloud Hypervisor): connect the unix
 *                           socket, send "CONNECT PORT\n" and require a reply line starting
 *                           with "OK " before anything else
 *   serial:///path          a QEMU chardev unix socket in front of a virtio-serial port; a
 *                           plain unix connect, after which bytes already pending from a
 *                           previous session are discarded
 * Connecting is retried every 50 ms while the error says the agent is not up yet (ENOENT,
 * ECONNREFUSED, ECONNRESET, EAGAIN, a vsock ETIMEDOUT, and for hvsock a connection closed
 * before the handshake reply), until timeout_ms have passed; timeout_ms < 0 retries forever, 0
 * tries once. The hvsock handshake is bounded by the same deadline, but gets at least one second.
 * Errors: -EINVAL bad address, -ETIMEDOUT, -EPROTO handshake refused, or the connect errno.
 */
int ttrpc_dial(const char *addr, int timeout_ms, agent_error_t **err);

/* ---- raw frames --------------------------------------------------------------------------- */

/* Writes one frame (header + payload) completely; len may exceed the protocol limit. */
int ttrpc_write_frame(int fd, uint32_t stream_id, uint8_t type, uint8_t flags,
		      const uint8_t *payload, size_t len, agent_error_t **err);

/*
 * Reads exactly one frame from fd, without reading ahead (so raw reads can be mixed with raw
 * writes freely; do not mix them with a ttrpc_client on the same fd, which buffers).
 * *ret_payload is malloc'ed (NULL when the payload is empty); free() it.
 * timeout_ms < 0 waits forever. Errors: -ETIMEDOUT, -EPIPE when the peer closed the
 * connection at a frame boundary, -EPROTO when it closed it inside a frame, -EMSGSIZE when
 * the header announces more than TTRPC_MAX_PAYLOAD (the body is left unread, *ret_hdr is set).
 */
int ttrpc_read_frame(int fd, int timeout_ms, struct ttrpc_header *ret_hdr, uint8_t **ret_payload,
		     agent_error_t **err);

/* ---- envelopes ---------------------------------------------------------------------------- */

/* One metadata entry of a request (ttrpc.KeyValue). */
struct ttrpc_kv {
	const char *key;
	const char *value;
};

/* A decoded ttrpc.Response. Release with ttrpc_reply_clear(). */
struct ttrpc_reply {
	int32_t code; /* google.rpc code, GRPC_OK on success */
	char *message; /* status message, never NULL after a successful decode */
	uint8_t *payload; /* encoded reply message; NULL when empty */
	size_t len;
};

void ttrpc_reply_clear(struct ttrpc_reply *r);

/* Packs a ttrpc.Request into a malloc'ed buffer. */
int ttrpc_encode_request(const char *service, const char *method, const uint8_t *req,
			 size_t req_len, int64_t timeout_nano, const struct ttrpc_kv *md,
			 size_t n_md, uint8_t **ret_buf, size_t *ret_len, agent_error_t **err);

/* Unpacks a ttrpc.Response payload. A response without status means OK. -EBADMSG on garbage. */
int ttrpc_decode_response(const uint8_t *buf, size_t len, struct ttrpc_reply *ret,
			  agent_error_t **err);

/* ---- the client --------------------------------------------------------------------------- */

struct ttrpc_client;

/* Wraps a connected fd (the client owns it from now on and closes it). NULL on ENOMEM. */
struct ttrpc_client *ttrpc_client_new(int fd);
/* Closes the connection and drops any uncollected replies. Accepts NULL, returns NULL. */
struct ttrpc_client *ttrpc_client_free(struct ttrpc_client *c);
static inline void ttrpc_client_freep(struct ttrpc_client **c)
{
	*c = ttrpc_client_free(*c);
}
#define _cleanup_ttrpc_client_ _cleanup_(ttrpc_client_freep)

int ttrpc_client_fd(const struct ttrpc_client *c);

/*
 * Sends one request and returns its stream id (odd: 1, 3, 5, ...). timeout_nano is carried
 * to the server (0 = no deadline). The envelope must fit TTRPC_MAX_PAYLOAD (-EMSGSIZE).
 * At most TTRPC_CLIENT_MAX_INFLIGHT calls may be outstanding (-EBUSY).
 */
#define TTRPC_CLIENT_MAX_INFLIGHT 4096
int ttrpc_client_send(struct ttrpc_client *c, const char *service, const char *method,
		      const uint8_t *req, size_t req_len, int64_t timeout_nano,
		      const struct ttrpc_kv *md, size_t n_md, uint32_t *ret_stream_id,
		      agent_error_t **err);

/*
 * Waits for the reply of a stream sent with ttrpc_client_send(); replies for other
 * outstanding streams that arrive meanwhile are kept for their own recv. Replies for streams
 * never sent (or already collected) are dropped. timeout_ms < 0 waits forever; -ETIMEDOUT
 * leaves the stream outstanding, so it can be collected later.
 * Errors: -ENOENT the stream is not outstanding, -ETIMEDOUT, -EPIPE connection closed,
 * -EMSGSIZE the reply frame was over the limit (the stream is then finished), -EBADMSG.
 */
int ttrpc_client_recv(struct ttrpc_client *c, uint32_t stream_id, int timeout_ms,
		      struct ttrpc_reply *ret, agent_error_t **err);

/* Metadata sent with every call that passes none (e.g. a traceparent); md must outlive c. */
void ttrpc_client_set_default_metadata(struct ttrpc_client *c, const struct ttrpc_kv *md,
				       size_t n_md);

/*
 * send + recv. The wait is bounded by timeout_nano plus a one-second grace for the server's
 * own DEADLINE_EXCEEDED reply to arrive; timeout_nano == 0 waits for as long as it takes.
 * Returns 0 when a reply arrived, whatever its status.
 */
int ttrpc_client_call(struct ttrpc_client *c, const char *service, const char *method,
		      const uint8_t *req, size_t req_len, int64_t timeout_nano,
		      const struct ttrpc_kv *md, size_t n_md, struct ttrpc_reply *ret,
		      agent_error_t **err);

/*
 * ttrpc_client_call with messages: packs req, and when the status is OK unpacks the reply
 * payload with resp_desc into *ret_resp (free with protobuf_c_message_free_unpacked(m, NULL));
 * on a non-OK status *ret_resp is set to NULL. *ret_code and *ret_msg (malloc'ed, may be
 * "") get the status; each of ret_resp, ret_code, ret_msg may be NULL.
 * Returns 0 when a reply arrived, -EBADMSG when an OK payload does not decode.
 */
int ttrpc_client_call_msg(struct ttrpc_client *c, const char *service, const char *method,
			  const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_desc,
			  ProtobufCMessage **ret_resp, int32_t *ret_code, char **ret_msg,
			  int64_t timeout_nano, agent_error_t **err);

#endif
