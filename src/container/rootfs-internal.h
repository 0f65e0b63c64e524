/* SPDX-License-Identifier: Apache-2.0 */
/* Pieces of the rootfs set-up shared between its files (not a public interface). */
#ifndef AGENT_CONTAINER_ROOTFS_INTERNAL_H
#define AGENT_CONTAINER_ROOTFS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/mountinfo.h"

#include "container/rootfs.h"

/* Bounds on what a spec may ask for. */
#define ROOTFS_MAX_MOUNTS 1024
#define ROOTFS_MAX_DEVICES 1024
#define ROOTFS_MAX_PATHS 1024
#define ROOTFS_MAX_SYSCTL 1024

/* rootfs_prepare with pathsafe flags (PATHSAFE_FORCE_WALK lets tests run the fallback). */
int rootfs_prepare_how(const struct rootfs_ctx *c, unsigned how, agent_error_t **err);

/* MS_NOSUID/NODEV/NOEXEC/RDONLY/atime flags of the mount holding path (statvfs). */
unsigned long rootfs_mount_flags_of(const char *path);

/* Lexical clean of an absolute path without "..": "//a/./b/" -> "/a/b". */
void rootfs_clean_path(const char *in, char *out, size_t size);

/* True when a lexically cleaned absolute path is dir itself or below it. */
bool rootfs_path_under(const char *path, const char *dir);

/* rootfs-mounts.c: one spec.mounts entry; rootfd is the rootfs bind. */
int rootfs_mount_one(const struct rootfs_ctx *c, int rootfd, const Grpc__Mount *m, unsigned how,
		     agent_error_t **err);
/* rootfs-cgroup.c: a "cgroup" typed mount on the already resolved target. */
int rootfs_mount_cgroup(const struct rootfs_ctx *c, int rootfd, const char *dest,
			unsigned long flags, unsigned how, agent_error_t **err);
/* rootfs-dev.c: /dev tmpfs (unless the spec mounts /dev), pts, shm. Before spec mounts. */
int rootfs_dev_mount(const struct rootfs_ctx *c, int rootfd, unsigned how, agent_error_t **err);
/* rootfs-dev.c: pts/shm when the spec lacks them, device nodes, symlinks. After spec mounts. */
int rootfs_dev_populate(const struct rootfs_ctx *c, int rootfd, unsigned how, agent_error_t **err);
/* rootfs-sysctl.c */
int rootfs_apply_sysctl(const Grpc__Spec *spec, agent_error_t **err);
/* rootfs-paths.c: after pivot. */
int rootfs_mask_paths(const Grpc__Spec *spec, agent_error_t **err);
int rootfs_readonly_paths(const Grpc__Spec *spec, agent_error_t **err);
int rootfs_remount_ro(const char *path, agent_error_t **err);

/* The spec mount whose destination is exactly dest (lexically cleaned), or NULL. */
const Grpc__Mount *rootfs_spec_mount(const Grpc__Spec *spec, const char *dest);

#endif
