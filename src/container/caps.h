/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Linux capabilities by name ("CAP_SYS_ADMIN"), and applying the five OCI
 * sets in the container child with raw capset/prctl (no libcap).
 */
#ifndef AGENT_CONTAINER_CAPS_H
#define AGENT_CONTAINER_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "oci.pb-c.h"

/* Capability number for a name (case-insensitive, "CAP_" prefix required), or -1. */
int cap_from_name(const char *name);
/* Name of a capability number ("CAP_CHOWN"), or NULL. */
const char *cap_to_name(int cap);
/* Highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap). */
int cap_last_cap(void);

struct cap_sets {
	uint64_t bounding, effective, permitted, inheritable, ambient;
};

/* Names to masks; unknown names, and ones the kernel does not know, are skipped. */
void cap_sets_from_oci(const Grpc__LinuxCapabilities *c, struct cap_sets *ret);

/*
 * Step 1, before changing uid: drop every capability outside `bounding` from the
 * bounding set (PR_CAPBSET_DROP) and verify it; sets PR_SET_KEEPCAPS so the
 * permitted set survives setresuid.
 */
int cap_apply_bounding(const struct cap_sets *s, agent_error_t **err);
/*
 * Step 2, after setresuid/setgroups: capset effective/permitted/inheritable,
 * clears PR_SET_KEEPCAPS, then raises ambient capabilities (best effort:
 * one the kernel refuses is skipped).
 */
int cap_apply_sets(const struct cap_sets *s, agent_error_t **err);

#endif
