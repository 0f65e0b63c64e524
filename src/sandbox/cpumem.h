/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OnlineCPUMem on the loop: CPU rounds spaced by a timer (never a
 * sleep), then memory blocks, then the pinned containers' cpusets widened.
 */
#ifndef AGENT_SANDBOX_CPUMEM_H
#define AGENT_SANDBOX_CPUMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "sandbox/sandbox-setup.h"

/* done(r, err, ctx) runs once, from the loop or before this returns; not on a negative return. */
int sandbox_online_cpu_mem(struct sandbox *sb, uint32_t nb_cpus, bool cpu_only,
			   sandbox_done_fn done, void *ctx, agent_error_t **err);

#endif
