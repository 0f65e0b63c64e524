/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Spec validation before anything is created: a bad spec fails with
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
 * What a spec may reach of the guest. Confined (the default, pol NULL or
 * unconfined false): root.path and every bind source resolve below
 * /run/kata-containers (bind sources also: device nodes below /dev), other
 * mounts are special filesystems whose source is ignored, and spec hooks must
 * lie below the guest hook directory CreateSandbox named.
 */
struct spec_policy {
	bool unconfined; /* agent.debug_unconfined_paths */
	const char *hook_dir; /* CreateSandbox's guest_hook_path; NULL or "": none */
};

/*
 * The whole spec: linux present; root.path absolute, canonical and existing;
 * hostname needs uts; masked/readonly paths need mount; user ns and id maps
 * agree; a mount namespace is present; cgroup ns needs kernel support; sysctl keys per namespace;
 * SELinux labels' shape; namespaces' types known and not repeated; process present with args;
 * rlimit types known; device types; capabilities present; env entries; cwd absolute. Calls
 * seccomp_validate, rootfs_validate and cgroup_resources_validate for their parts.
 */
int spec_validate(const Grpc__Spec *spec, const struct spec_policy *pol, agent_error_t **err);

/* True for the mount types whose source the kernel ignores (proc, tmpfs, ...). */
bool mount_type_is_special(const char *type);

/* The process part alone (ExecProcess): args, env, cwd, rlimits, user, capabilities. */
int process_validate(const Grpc__Process *p, const char *field, agent_error_t **err);

#endif
