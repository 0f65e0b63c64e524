/* SPDX-License-Identifier: Apache-2.0 */
/*
 * grpc.AgentService dispatch table. This file stays thin: each handler
 * decodes, validates, calls the domain code and maps its error. A method
 * listed with a NULL handler is part of the protocol but not built yet: the
 * dispatcher answers UNIMPLEMENTED naming it (see issues for each area).
 */
#include "rpc/services.h"

#include "agent.pb-c.h"

static const struct rpc_method agent_methods[] = {
	/* containers and processes */
	{"CreateContainer", NULL, false},
	{"StartContainer", NULL, false},
	{"RemoveContainer", NULL, false},
	{"ExecProcess", NULL, false},
	{"SignalProcess", NULL, false},
	{"WaitProcess", NULL, false},
	{"UpdateContainer", NULL, false},
	{"UpdateEphemeralMounts", NULL, false},
	{"StatsContainer", NULL, false},
	{"PauseContainer", NULL, false},
	{"ResumeContainer", NULL, false},
	/* stdio */
	{"WriteStdin", NULL, true},
	{"ReadStdout", NULL, true},
	{"ReadStderr", NULL, true},
	{"CloseStdin", NULL, true},
	{"TtyWinResize", NULL, true},
	/* network */
	{"UpdateInterface", NULL, false},
	{"UpdateRoutes", NULL, false},
	{"ListInterfaces", NULL, false},
	{"ListRoutes", NULL, false},
	{"AddARPNeighbors", NULL, false},
	{"GetIPTables", NULL, false},
	{"SetIPTables", NULL, false},
	/* observability */
	{"GetMetrics", NULL, false},
	{"GetOOMEvent", NULL, true},
	/* sandbox and guest */
	{"CreateSandbox", NULL, false},
	{"DestroySandbox", NULL, false},
	{"OnlineCPUMem", NULL, false},
	{"ReseedRandomDev", NULL, false},
	{"GetGuestDetails", NULL, false},
	{"MemHotplugByProbe", NULL, false},
	{"SetGuestDateTime", NULL, false},
	{"CopyFile", NULL, false},
	{"GetDiagnosticData", NULL, false},
	{"AddSwap", NULL, false},
	{"AddSwapPath", NULL, false},
	{"GetVolumeStats", NULL, false},
	{"ResizeVolume", NULL, false},
	{"RemoveStaleVirtiofsShareMounts", NULL, false},
	{"SetPolicy", NULL, false, true}, /* policy engine: not in this build */
	{"MemAgentMemcgSet", NULL, true},
	{"MemAgentCompactSet", NULL, true},
};

const struct rpc_method *agent_service_methods(size_t *ret_n)
{
	*ret_n = ARRAY_SIZE(agent_methods);
	return agent_methods;
}

void agent_service_init(struct rpc_service *svc, void *agent_ctx)
{
	svc->desc = &grpc__agent_service__descriptor;
	svc->methods = agent_methods;
	svc->n_methods = ARRAY_SIZE(agent_methods);
	svc->ctx = agent_ctx;
}
