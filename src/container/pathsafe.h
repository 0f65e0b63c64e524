/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Paths inside a container root, resolved as if the root were "/": symlinks
 * (absolute or with "..") never lead out of it. openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS) when the kernel has it, else a component walk that
 * reads each symlink itself. Functions return an fd or a negative errno.
 */
#ifndef AGENT_CONTAINER_PATHSAFE_H
#define AGENT_CONTAINER_PATHSAFE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum {
	PATHSAFE_FORCE_WALK = 1 << 0, /* skip openat2 (tests the fallback) */
	PATHSAFE_NOFOLLOW = 1 << 1, /* do not follow a symlink in the last component */
};

/* Opens path inside rootfd with oflags (O_CLOEXEC added). */
int pathsafe_open(int rootfd, const char *path, int oflags, unsigned how);
/* mkdir -p inside rootfd; returns an O_PATH fd of the directory. */
int pathsafe_mkdir_p(int rootfd, const char *path, mode_t mode, unsigned how);
/* Makes sure path exists (a directory or, when dir is false, an empty file);
 * returns an O_PATH fd of it (whatever type an existing entry has). */
int pathsafe_create(int rootfd, const char *path, bool dir, unsigned how);
/*
 * Where the runtime puts everything a container may see of the guest: its rootfs
 * (shared/containers/<id>/rootfs or <id>/rootfs), shared files, storages, volumes,
 * the sandbox shm. A host-given container root or bind source must resolve below it.
 */
#define PATHSAFE_CONFINE_DIR "/run/kata-containers"

/*
 * True when path is absolute, lexically clean (no "//", ".", "..", trailing '/')
 * and strictly below dir (itself lexically clean, not "/").
 */
bool pathsafe_lexically_below(const char *path, const char *dir);
/* From a '/' on: every component is a plain name (none empty, "." or ".."). */
bool pathsafe_components_clean(const char *c);
/*
 * Opens an absolute path that pathsafe_lexically_below(path, dir) accepts with
 * the rest resolved inside dir (as pathsafe_open: symlinks never leave it).
 * dir itself is opened without following a symlink in its last component.
 * -EXDEV when path is not below dir.
 */
int pathsafe_open_below(const char *dir, const char *path, int oflags, unsigned how);
/* The path an fd refers to (readlink of /proc/self/fd/N). */
int pathsafe_fd_path(int fd, char *buf, size_t size);
/* "/proc/self/fd/N" into buf (at least 32 bytes). */
const char *pathsafe_proc_fd(int fd, char *buf, size_t size);

#endif
