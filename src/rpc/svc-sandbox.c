// SPDX-License-Identifier: Apache-2.0
/* CreateSandbox and DestroySandbox. After DestroySandbox the agent shuts down. */
#include <stdlib.h>

#include "agent.pb-c.h"
#include "base/log.h"
#include "google/protobuf/empty.pb-c.h"
#include "rpc/agent-handlers.h"
#include "rpc/pending.h"
#include "rpc/status.h"
#include "sandbox/sandbox-setup.h"

/* Time for the DestroySandbox reply to leave before the loop stops. */
#define SHUTDOWN_DELAY_MS 100

/* A deferred reply: hot-plugged disks of the storages may still be coming. */
void rpc_create_sandbox(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	agent_error_t *err = NULL;
	struct rpc_pending *pd = rpc_pending_new(call);

	if (pd && sandbox_create(ctx, (const void *)req, rpc_pending_done, pd, &err) < 0)
		rpc_pending_fail(pd, err);
}

static void on_shutdown(struct loop_timer *t, void *data)
{
	struct sandbox *sb = data;

	log_info("root", "sandbox destroyed: shutting down");
	loop_quit(sb->loop, 0);
}

struct destroy_call {
	struct sandbox *sb;
	struct rpc_pending *pd;
};

/* Every container is gone (after the poststop hooks): the answer, then the shutdown. */
static void on_destroyed(int r, agent_error_t *err, void *data)
{
	struct destroy_call *dc = data;

	if (r >= 0)
		loop_timer_add(dc->sb->loop, loop_now_ms() + SHUTDOWN_DELAY_MS, on_shutdown,
			       dc->sb);
	rpc_pending_done(r, err, dc->pd);
	free(dc);
}

/* A deferred reply: the containers' poststop hooks run first. */
void rpc_destroy_sandbox(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	struct sandbox *sb = ctx;
	agent_error_t *err = NULL;

	if (sb->opts.inert) {
		rpc_reply_status(call, 7, "this sandbox is inert");
		return;
	}
	struct rpc_pending *pd = rpc_pending_new(call);
	if (!pd)
		return;
	struct destroy_call *dc = calloc(1, sizeof(*dc));
	if (!dc) {
		agent_error_set_status(&err, GRPC_RESOURCE_EXHAUSTED, ENOMEM, "out of memory");
		rpc_pending_fail(pd, err);
		return;
	}
	dc->sb = sb;
	dc->pd = pd;
	if (sandbox_destroy(sb, on_destroyed, dc, &err) < 0) {
		free(dc);
		rpc_pending_fail(pd, err);
	}
}
