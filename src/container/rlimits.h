/* SPDX-License-Identifier: Apache-2.0 */
/* OCI process.rlimits: "RLIMIT_NOFILE" style names and setrlimit in the child. */
#ifndef AGENT_CONTAINER_RLIMITS_H
#define AGENT_CONTAINER_RLIMITS_H

#include "base/error.h"
#include "oci.pb-c.h"

/* RLIMIT_* number for a name, or -1. */
int rlimit_from_name(const char *name);
/* setrlimit for each entry; the first failure names the limit. */
int rlimits_apply(const Grpc__Process *p, agent_error_t **err);

#endif
