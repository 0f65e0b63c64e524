/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Spec validation before anything is created (spec 6.1): a bad spec fails with
 * -EINVAL and status INVALID_ARGUMENT, the message naming the field
 * ("linux.namespaces[2].type: unknown namespace \"foo\"").
 */
#ifndef AGENT_CONTAINER_VALIDATE_H
#define AGENT_CONTAINER_VALIDATE_H

#include <stdbool.h>

#include "base/error.h"
#include "oci.pb-c.h"

/* Container ids: ^[A-Za-z0-9][A-Za-z0-9_.-]+$, at most 128 bytes. */
bool container_id_valid(const char *id);
/* Exec ids: 1..128 bytes, no '/', not "." or "..", no control characters. */
bool exec_id_valid(const char *id);

/*
 * The whole spec: linux present; root.path absolute, canonical and existing;
 * hostname needs uts; masked/readonly paths need mount; user ns and id maps
 * agree; cgroup ns needs kernel support; sysctl keys per namespace; SELinux
 * labels' shape; namespaces' types known and not repeated; process present with
 * args; rlimit types known; device types; capabilities present; env entries;
 * cwd absolute. Calls seccomp_validate, rootfs_validate and
 * cgroup_resources_validate for their parts.
 */
int spec_validate(const Grpc__Spec *spec, agent_error_t **err);

/* The process part alone (ExecProcess): args, env, cwd, rlimits, user, capabilities. */
int process_validate(const Grpc__Process *p, const char *field, agent_error_t **err);

#endif
