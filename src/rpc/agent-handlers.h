/* SPDX-License-Identifier: Apache-2.0 */
/* Handlers of grpc.AgentService methods, one file per area; ctx is the struct sandbox. */
#ifndef AGENT_RPC_AGENT_HANDLERS_H
#define AGENT_RPC_AGENT_HANDLERS_H

#include "rpc/server.h"

void rpc_list_interfaces(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_list_routes(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_add_arp_neighbors(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_update_routes(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_update_interface(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_get_iptables(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_set_iptables(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_get_oom_event(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);

#endif
