/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GetOOMEvent: a deferred reply. The runtime keeps one call open at all
 * times; it is answered with the id of the next container that hits its
 * memory limit, or cancelled when the client goes away or its deadline passes.
 */
#include <stdlib.h>

#include "agent.pb-c.h"
#include "rpc/agent-handlers.h"
#include "rpc/status.h"
#include "sandbox/sandbox.h"

struct oom_call {
	struct oom_waiter w; /* first: the waiter is the call */
	struct rpc_call *call;
	struct sandbox *sb;
};

static void oom_event_ready(struct oom_waiter *w, const char *container_id)
{
	struct oom_call *oc = (struct oom_call *)w;
	Grpc__OOMEvent ev = GRPC__OOMEVENT__INIT;

	if (!container_id) {
		/* The sandbox is gone: upstream answers INTERNAL with an empty message. */
		rpc_call_set_cancel(oc->call, NULL, NULL);
		rpc_reply_status(oc->call, GRPC_INTERNAL, "%s", "");
		free(oc);
		return;
	}
	ev.container_id = (char *)container_id;
	rpc_reply(oc->call, &ev.base);
	free(oc);
}

static void oom_call_cancelled(struct rpc_call *call, void *data)
{
	struct oom_call *oc = data;
	oom_queue_cancel(&oc->sb->oom, &oc->w);
	free(oc);
}

void rpc_get_oom_event(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	struct sandbox *sb = ctx;
	struct oom_call *oc = calloc(1, sizeof(*oc));

	if (!oc) {
		rpc_reply_status(call, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	oc->w.fn = oom_event_ready;
	oc->call = call;
	oc->sb = sb;
	if (oom_queue_wait(&sb->oom, &oc->w) == 0)
		rpc_call_set_cancel(call, oom_call_cancelled, oc);
}
