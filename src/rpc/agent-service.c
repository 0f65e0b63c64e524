/* SPDX-License-Identifier: Apache-2.0 */
/*
 * grpc.AgentService dispatch table. This file stays thin: each handler
 * decodes, validates, calls the domain code and maps its error. A method
 * listed with a NULL handler is part of the protocol but not built yet: the
 * dispatcher answers UNIMPLEMENTED naming it (see issues for each area).
 */
#include "rpc/services.h"

#include "agent.pb-c.h"
#include "rpc/agent-handlers.h"

static const struct rpc_method agent_methods[] = {
	/* containers and processes */
	{.name = "CreateContainer", .fn = rpc_create_container, .quiet = false},
	{.name = "StartContainer", .fn = rpc_start_container, .quiet = false},
	{.name = "RemoveContainer", .fn = rpc_remove_container, .quiet = false},
	{.name = "ExecProcess", .fn = rpc_exec_process, .quiet = false},
	{.name = "SignalProcess", .fn = rpc_signal_process, .quiet = false},
	{.name = "WaitProcess", .fn = rpc_wait_process, .quiet = false},
	{.name = "UpdateContainer", .fn = rpc_update_container, .quiet = false},
	{.name = "UpdateEphemeralMounts", .fn = rpc_update_ephemeral_mounts, .quiet = false},
	{.name = "StatsContainer", .fn = rpc_stats_container, .quiet = false},
	{.name = "PauseContainer", .fn = rpc_pause_container, .quiet = false},
	{.name = "ResumeContainer", .fn = rpc_resume_container, .quiet = false},
	/* stdio */
	{.name = "WriteStdin", .fn = rpc_write_stdin, .quiet = true},
	{.name = "ReadStdout", .fn = rpc_read_stdout, .quiet = true},
	{.name = "ReadStderr", .fn = rpc_read_stderr, .quiet = true},
	{.name = "CloseStdin", .fn = rpc_close_stdin, .quiet = true},
	{.name = "TtyWinResize", .fn = rpc_tty_win_resize, .quiet = true},
	/* network */
	{.name = "UpdateInterface", .fn = rpc_update_interface, .quiet = false},
	{.name = "UpdateRoutes", .fn = rpc_update_routes, .quiet = false},
	{.name = "ListInterfaces", .fn = rpc_list_interfaces, .quiet = false},
	{.name = "ListRoutes", .fn = rpc_list_routes, .quiet = false},
	{.name = "AddARPNeighbors", .fn = rpc_add_arp_neighbors, .quiet = false},
	{.name = "GetIPTables", .fn = rpc_get_iptables, .quiet = false},
	{.name = "SetIPTables", .fn = rpc_set_iptables, .quiet = false},
	/* observability */
	{.name = "GetMetrics", .fn = rpc_get_metrics, .quiet = false},
	{.name = "GetOOMEvent", .fn = rpc_get_oom_event, .quiet = true},
	/* sandbox and guest */
	{.name = "CreateSandbox", .fn = rpc_create_sandbox, .quiet = false},
	{.name = "DestroySandbox", .fn = rpc_destroy_sandbox, .quiet = false},
	{.name = "OnlineCPUMem", .fn = rpc_online_cpu_mem, .quiet = false},
	{.name = "ReseedRandomDev", .fn = rpc_reseed_random_dev, .quiet = false},
	{.name = "GetGuestDetails", .fn = rpc_get_guest_details, .quiet = false},
	{.name = "MemHotplugByProbe", .fn = rpc_mem_hotplug_by_probe, .quiet = false},
	{.name = "SetGuestDateTime", .fn = rpc_set_guest_date_time, .quiet = false},
	{.name = "CopyFile", .fn = rpc_copy_file, .quiet = false},
	{.name = "GetDiagnosticData", .fn = rpc_get_diagnostic_data, .quiet = false},
	{.name = "AddSwap", .fn = rpc_add_swap, .quiet = false},
	{.name = "AddSwapPath", .fn = rpc_add_swap_path, .quiet = false},
	{.name = "GetVolumeStats", .fn = rpc_get_volume_stats, .quiet = false},
	{.name = "ResizeVolume", .fn = rpc_resize_volume, .quiet = false},
	{.name = "RemoveStaleVirtiofsShareMounts",
	 .fn = rpc_remove_stale_virtiofs_share_mounts,
	 .quiet = false},
	{.name = "SetPolicy", .absent = true}, /* policy engine: not in this build */
	{.name = "MemAgentMemcgSet", .fn = rpc_mem_agent_set, .quiet = true},
	{.name = "MemAgentCompactSet", .fn = rpc_mem_agent_set, .quiet = true},
};

const struct rpc_method *agent_service_methods(size_t *ret_n)
{
	*ret_n = ARRAY_SIZE(agent_methods);
	return agent_methods;
}

void agent_service_init(struct rpc_service *svc, struct sandbox *sb)
{
	svc->desc = &grpc__agent_service__descriptor;
	svc->methods = agent_methods;
	svc->n_methods = ARRAY_SIZE(agent_methods);
	svc->ctx = sb;
	svc->gated = true; /* held while the guest finishes booting (src/agent/late-modules.c) */
}
