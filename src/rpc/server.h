/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ttRPC server: listeners, connections, and calls.
 *
 * A handler receives a call and its decoded request. It answers with exactly
 * one of rpc_reply(), rpc_reply_status() or rpc_reply_error(), either before
 * it returns or later (a deferred reply: the call stays open while the loop
 * serves everything else; replies go out in any order). A deferred owner
 * registers a cancel hook: when the client goes away or the call's deadline
 * passes, the hook runs and the call is gone, so the owner drops its pointer.
 */
#ifndef AGENT_RPC_SERVER_H
#define AGENT_RPC_SERVER_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "loop/loop.h"
#include "rpc/status.h"

struct rpc_server;
struct rpc_call;

typedef void (*rpc_handler_fn)(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
typedef void (*rpc_cancel_fn)(struct rpc_call *call, void *data);

struct rpc_method {
	const char *name;
	rpc_handler_fn fn; /* NULL: in the protocol but not built yet -> UNIMPLEMENTED */
	bool quiet; /* log at debug, not info (health checks, stdio) */
	bool absent; /* a feature this build leaves out (SetPolicy): NOT_FOUND, as upstream */
};

struct rpc_service {
	const ProtobufCServiceDescriptor *desc; /* name and request types come from here */
	const struct rpc_method *methods; /* by name; methods missing here are unimplemented */
	size_t n_methods;
	void *ctx;
	bool gated; /* calls wait while the server's gate is closed (rpc_server_set_gate) */
};

/*
 * Bounds on what one client can make the agent hold. Connections: a quarter of the agent's
 * RLIMIT_NOFILE (the rest is for containers' fds), within these bounds; past the cap the
 * agent stops accepting and the kernel's listen backlog holds the rest until one closes.
 */
#define RPC_MIN_CONNECTIONS 8
#define RPC_MAX_CONNECTIONS 16384
#define RPC_ACCEPT_RETRY_MS 200 /* out of fds (EMFILE): try accepting again after this */
#define RPC_MAX_CALLS_PER_CONN 1024
#define RPC_MAX_PENDING_OUT (16u << 20) /* stop reading a client that does not read replies */
#define RPC_SERIAL_RETRY_MS 100

struct rpc_stats {
	unsigned connections;
	unsigned calls_in_flight;
	unsigned long calls_total;
	unsigned long frames_rejected;
};

int rpc_server_new(struct loop *l, struct rpc_server **ret);
struct rpc_server *rpc_server_free(struct rpc_server *srv);
int rpc_server_add_service(struct rpc_server *srv, const struct rpc_service *svc);
/*
 * While the gate is closed, calls to gated services are held (still subject to their
 * deadline and to their client leaving); opening it dispatches them in arrival order.
 * The agent closes it while the guest finishes booting (late kernel modules), so that
 * Health answers at once and no AgentService call runs before the guest can serve it.
 */
void rpc_server_set_gate(struct rpc_server *srv, bool closed);
/* Serves connections accepted on a listening stream socket (owned from now on). */
int rpc_server_add_listener(struct rpc_server *srv, int listen_fd, agent_error_t **err);
/* Serves one long-lived byte stream that never ends (a virtio-serial port; owned). */
int rpc_server_add_stream(struct rpc_server *srv, int fd, bool serial, agent_error_t **err);
void rpc_server_get_stats(const struct rpc_server *srv, struct rpc_stats *ret);
/* The connection cap for a RLIMIT_NOFILE soft limit of nofile. */
unsigned rpc_connection_cap(unsigned long long nofile);

struct tracer;
/* Every call from now on gets a span (agent.trace). NULL turns it off. */
void rpc_server_set_tracer(struct rpc_server *srv, struct tracer *t);
/*
 * A reply that is one bytes field (ReadStdout's data): the caller reads its
 * data straight into the frame. begin gives room for at most max bytes (NULL
 * on ENOMEM); end sends n of them as field `field` of the reply message; abort
 * drops the room (the call is then answered some other way).
 */
struct rpc_bytes_reply;
uint8_t *rpc_reply_bytes_begin(struct rpc_call *call, size_t max, struct rpc_bytes_reply **ret);
void rpc_reply_bytes_end(struct rpc_call *call, struct rpc_bytes_reply *br, uint32_t field,
			 size_t n);
void rpc_reply_bytes_abort(struct rpc_call *call, struct rpc_bytes_reply *br);
void rpc_reply(struct rpc_call *call, const ProtobufCMessage *resp);
void rpc_reply_status(struct rpc_call *call, int code, const char *fmt, ...) _printf_(3, 4);
/* Maps err to a status, logs it once with the method, answers, and frees err. */
void rpc_reply_error(struct rpc_call *call, agent_error_t *err);
void rpc_call_set_cancel(struct rpc_call *call, rpc_cancel_fn fn, void *data);
const char *rpc_call_method(const struct rpc_call *call);
/* Value of a request metadata key (first one), or NULL. */
const char *rpc_call_metadata(const struct rpc_call *call, const char *key);

#endif
