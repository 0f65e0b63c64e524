/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's ttRPC services (grpc.AgentService, grpc.Health) as protobuf-c
 * descriptors, and method lookup by the names people type.
 */
#ifndef AGENT_CLIENT_AGENT_METHODS_H
#define AGENT_CLIENT_AGENT_METHODS_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "base/error.h"

#define AGENT_SERVICE_NAME "grpc.AgentService"
#define HEALTH_SERVICE_NAME "grpc.Health"

/* Every service the agent serves, AgentService first. */
const ProtobufCServiceDescriptor *const *agent_services(size_t *ret_n);

/*
 * Resolves a method name: "Method" (grpc.AgentService), "Service.Method" (package grpc
 * implied), "grpc.Service.Method" or "/grpc.Service/Method". Method names are exact
 * (CreateContainer); -ENOENT names the part that did not match.
 */
int agent_method_lookup(const char *name, const ProtobufCServiceDescriptor **ret_svc,
			const ProtobufCMethodDescriptor **ret_method, agent_error_t **err);

#endif
