// SPDX-License-Identifier: Apache-2.0
#include "rpc/pending.h"

#include <stdlib.h>

#include "base/log.h"
#include "google/protobuf/empty.pb-c.h"
#include "rpc/status.h"

struct rpc_pending {
	struct rpc_call *call;
	const char *method; /* static: the method table's name */
};

static void pending_cancelled(struct rpc_call *call, void *data)
{
	struct rpc_pending *pd = data;

	(void)call;
	pd->call = NULL;
}

struct rpc_pending *rpc_pending_new(struct rpc_call *call)
{
	struct rpc_pending *pd = calloc(1, sizeof(*pd));

	if (!pd) {
		rpc_reply_status(call, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	pd->call = call;
	pd->method = rpc_call_method(call);
	rpc_call_set_cancel(call, pending_cancelled, pd);
	return pd;
}

void rpc_pending_done(int r, agent_error_t *err, void *pending)
{
	struct rpc_pending *pd = pending;
	Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;

	if (pd->call) {
		rpc_call_set_cancel(pd->call, NULL, NULL);
		if (r < 0)
			rpc_reply_error(pd->call, err);
		else
			rpc_reply(pd->call, &e.base);
		err = NULL;
	} else if (r < 0) {
		/* The client got DEADLINE_EXCEEDED or left: this failure is logged here or
		 * nowhere. */
		log_write(LOG_LEVEL_ERROR, "rpc", LOG_FIELDS({"method", pd->method}),
			  "step failed after its caller was gone: %s",
			  err && err->msg ? err->msg : "unknown error");
	}
	agent_error_free(err);
	free(pd);
}

void rpc_pending_fail(struct rpc_pending *pd, agent_error_t *err)
{
	rpc_pending_done(-1, err, pd);
}
