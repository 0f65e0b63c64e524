// SPDX-License-Identifier: Apache-2.0
/* CreateSandbox and DestroySandbox. After DestroySandbox the agent shuts down. */
#include "agent.pb-c.h"
#include "base/log.h"
#include "google/protobuf/empty.pb-c.h"
#include "rpc/agent-handlers.h"
#include "rpc/pending.h"
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

void rpc_destroy_sandbox(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
	struct sandbox *sb = ctx;
	agent_error_t *err = NULL;

	if (sb->opts.inert) {
		rpc_reply_status(call, 7, "this sandbox is inert");
		return;
	}
	if (sandbox_destroy(sb, &err) < 0) {
		rpc_reply_error(call, err);
		return;
	}
	rpc_reply(call, &e.base);
	loop_timer_add(sb->loop, loop_now_ms() + SHUTDOWN_DELAY_MS, on_shutdown, sb);
}
