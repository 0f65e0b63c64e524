/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UpdateEphemeralMounts: the runtime resizes emptyDir tmpfs volumes after a
 * memory hot-plug. The sandbox's storage table says which tmpfs are ephemeral
 * storages; src/storage/ephemeral-update.c checks and remounts them.
 */
#include "agent.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "rpc/agent-handlers.h"
#include "rpc/status.h"
#include "sandbox/sandbox.h"

void rpc_update_ephemeral_mounts(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__UpdateEphemeralMountsRequest *r =
		(const Grpc__UpdateEphemeralMountsRequest *)req;
	Google__Protobuf__Empty empty = GOOGLE__PROTOBUF__EMPTY__INIT;
	struct sandbox *sb = ctx;
	agent_error_t *err = NULL;

	if (sb->opts.inert) {
		rpc_reply_status(call, GRPC_PERMISSION_DENIED, "this sandbox is inert");
		return;
	}
	if (storages_update_ephemeral(&sb->storages, r->storages, r->n_storages, &err) < 0) {
		agent_error_wrap(&err, "Failed to update mounts");
		rpc_reply_error(call, err);
		return;
	}
	rpc_reply(call, &empty.base);
}
