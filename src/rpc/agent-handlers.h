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
void rpc_create_container(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_start_container(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_remove_container(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_exec_process(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_signal_process(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_wait_process(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_update_container(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_stats_container(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_pause_container(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_resume_container(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_write_stdin(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_read_stdout(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_read_stderr(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_close_stdin(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_tty_win_resize(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
/* storages (svc-storage.c) */
void rpc_update_ephemeral_mounts(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_create_sandbox(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_destroy_sandbox(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
/* guest (svc-guest.c) */
void rpc_set_guest_date_time(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_reseed_random_dev(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_get_guest_details(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_mem_hotplug_by_probe(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_copy_file(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_get_metrics(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_add_swap(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_add_swap_path(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_get_volume_stats(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_resize_volume(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_online_cpu_mem(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_remove_stale_virtiofs_share_mounts(struct rpc_call *call, const ProtobufCMessage *req,
					    void *ctx);
void rpc_get_diagnostic_data(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);
void rpc_mem_agent_set(struct rpc_call *call, const ProtobufCMessage *req, void *ctx);

#endif
