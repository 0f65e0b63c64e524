/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox: the state the AgentService methods act on (containers,
 * processes, storages, shared namespaces: later issues add them here).
 */
#ifndef AGENT_SANDBOX_SANDBOX_H
#define AGENT_SANDBOX_SANDBOX_H

#include "loop/loop.h"
#include "loop/reaper.h"
#include "sandbox/oom.h"

struct sandbox {
	struct loop *loop;
	struct reaper *reaper;
	struct oom_queue oom;
};

void sandbox_init(struct sandbox *sb, struct loop *loop, struct reaper *reaper);
void sandbox_release(struct sandbox *sb);

#endif
