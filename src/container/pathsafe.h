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
/* The path an fd refers to (readlink of /proc/self/fd/N). */
int pathsafe_fd_path(int fd, char *buf, size_t size);
/* "/proc/self/fd/N" into buf (at least 32 bytes). */
const char *pathsafe_proc_fd(int fd, char *buf, size_t size);

#endif
