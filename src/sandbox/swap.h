/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AddSwap: swapon of the virtio-blk disk at a PCI path, waited for
 * within agent.hotplug_timeout when the host's hot-plug has not landed yet.
 */
#ifndef AGENT_SANDBOX_SWAP_H
#define AGENT_SANDBOX_SWAP_H

#include <stddef.h>
#include <stdint.h>

#include "sandbox/sandbox-setup.h"

/*
 * slots: the PCI path from the root bus, function 0 each. done(r, err, ctx) runs
 * once, from the loop or before this returns; a negative return means it is not
 * called.
 */
int sandbox_add_swap(struct sandbox *sb, const uint32_t *slots, size_t n, sandbox_done_fn done,
		     void *ctx, agent_error_t **err);

#endif
