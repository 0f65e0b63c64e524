/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A deferred reply with an Empty answer: the record a step carries until it
 * finishes. The call may go first (its client left): the answer is then dropped.
 */
#ifndef AGENT_RPC_PENDING_H
#define AGENT_RPC_PENDING_H

#include "base/error.h"
#include "rpc/server.h"

struct rpc_pending;

/* NULL after answering RESOURCE_EXHAUSTED itself. */
struct rpc_pending *rpc_pending_new(struct rpc_call *call);
/* The step's end: answers Empty or the error (taking err), and frees the record. */
void rpc_pending_done(int r, agent_error_t *err, void *pending);
/* The step never started (it answered nothing): answers err and frees the record. */
void rpc_pending_fail(struct rpc_pending *pd, agent_error_t *err);

#endif
