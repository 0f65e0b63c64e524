/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container's filesystem view, built in the container child inside its
 * new mount namespace. Called in this order:
 *   rootfs_prepare()  propagation, rootfs bind, spec.mounts, /dev and devices
 *   rootfs_pivot()    pivot_root (MS_MOVE + chroot when / is an initramfs)
 *   rootfs_finish()   sysctl, masked paths, read-only paths, read-only root
 * Paths inside the root are resolved without following symlinks out of it
 * (openat2 RESOLVE_IN_ROOT, with a fallback walk that is tested too).
 */
#ifndef AGENT_CONTAINER_ROOTFS_H
#define AGENT_CONTAINER_ROOTFS_H

#include <stdbool.h>

#include "base/error.h"
#include "oci.pb-c.h"

struct rootfs_ctx {
	const Grpc__Spec *spec;
	const char *rootfs; /* absolute, canonical: spec->root->path */
	bool userns; /* in a new user namespace: bind device nodes, never mknod */
	bool cgroup_v2; /* a "cgroup" mount becomes cgroup2 (else per-controller binds) */
};

int rootfs_prepare(const struct rootfs_ctx *c, agent_error_t **err);
int rootfs_pivot(const struct rootfs_ctx *c, agent_error_t **err);
int rootfs_finish(const struct rootfs_ctx *c, agent_error_t **err);

/*
 * In the agent: binds the host-given container root (as spec_validate accepted it) on
 * target, by fd. Below PATHSAFE_CONFINE_DIR it is resolved inside that directory (a
 * symlink swapped in since validation cannot lead out); any other root, which only
 * agent.debug_unconfined_paths lets through validation, is opened by name.
 */
int rootfs_bind_root(const char *root, const char *target, agent_error_t **err);

/* Spec checks for the mount/device fields, run in the agent before anything is created. */
int rootfs_validate(const Grpc__Spec *spec, agent_error_t **err);
/*
 * With the validated root open (rootfd): a proc or sysfs mount whose destination in
 * the root is a symlink or not a directory (and not under /dev or an earlier mount,
 * which the set-up mounts first) is INVALID_ARGUMENT, before a child is forked.
 */
int rootfs_validate_targets(const Grpc__Spec *spec, int rootfd, agent_error_t **err);

#endif
