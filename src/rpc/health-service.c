/* SPDX-License-Identifier: Apache-2.0 */
/* grpc.Health: Check always answers SERVING; Version reports the API and agent versions. */
#include "rpc/services.h"

#include "health.pb-c.h"

static void health_check(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	Grpc__HealthCheckResponse resp = GRPC__HEALTH_CHECK_RESPONSE__INIT;
	resp.status = GRPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	rpc_reply(call, &resp.base);
}

static void health_version(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	Grpc__VersionCheckResponse resp = GRPC__VERSION_CHECK_RESPONSE__INIT;
	resp.grpc_version = (char *)AGENT_API_VERSION;
	resp.agent_version = (char *)AGENT_VERSION;
	rpc_reply(call, &resp.base);
}

static const struct rpc_method health_methods[] = {
	{.name = "Check", .fn = health_check, .quiet = true},
	{.name = "Version", .fn = health_version, .quiet = true},
};

const struct rpc_service health_service = {
	.desc = &grpc__health__descriptor,
	.methods = health_methods,
	.n_methods = ARRAY_SIZE(health_methods),
};
