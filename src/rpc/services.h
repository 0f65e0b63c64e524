/* SPDX-License-Identifier: Apache-2.0 */
/* The services the agent serves: grpc.Health and grpc.AgentService. */
#ifndef AGENT_RPC_SERVICES_H
#define AGENT_RPC_SERVICES_H

#include "rpc/server.h"

extern const struct rpc_service health_service;

struct sandbox;

/* grpc.AgentService, acting on the sandbox. */
void agent_service_init(struct rpc_service *svc, struct sandbox *sb);
/* The method table, for tests: every name must exist in the service descriptor. */
const struct rpc_method *agent_service_methods(size_t *ret_n);

#endif
