/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Waiting for the devices that storages and devices need (blk by PCI path,
 * mmioblk, scsi, nvdimm), all at once, each within agent.hotplug_timeout. A device
 * already there (before the wait, or before the agent) is found at once.
 */
#ifndef AGENT_SANDBOX_DEVWAIT_H
#define AGENT_SANDBOX_DEVWAIT_H

#include "agent.pb-c.h"
#include "base/error.h"

struct sandbox;
struct devwait;

/*
 * devs[i]: "/dev/<name>" found for storage i, or NULL (its source is used as
 * is); valid during the call only. r < 0: a device did not come (err owned
 * by the callee, DEADLINE_EXCEEDED naming it); the other waits are dropped.
 */
typedef void (*devwait_fn)(int r, agent_error_t *err, char *const *devs, void *ctx);

/*
 * Starts a wait for each non-NULL match. *ret = NULL when nothing needs
 * waiting (fn is not called); otherwise fn runs once, later, from the loop,
 * with devs[i] for each index.
 */
struct dev_match;
int devwait_start(struct sandbox *sb, struct dev_match *const *matches, size_t n, devwait_fn fn,
		  void *ctx, struct devwait **ret, agent_error_t **err);
/* Drops the waits; fn is not called. Accepts NULL. */
void devwait_cancel(struct devwait *w);

#endif
