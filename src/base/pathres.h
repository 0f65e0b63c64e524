/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host-given paths below a directory the agent owns (/run/kata-containers,
 * /dev), resolved with no symlink anywhere on the way: a path that meets one
 * fails with -ELOOP (or -ENOTDIR), whatever the link points to. That is
 * stricter than container/pathsafe.h, which follows links inside a container
 * root as the container would: nothing the host names for the agent's own
 * mounts and files needs a symlink, so none is followed. openat2
 * (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) when the
 * kernel has it, else a walk that opens one component at a time with
 * O_NOFOLLOW. Callers then act on the returned fd (mount, chmod, statfs
 * through /proc/self/fd/N), never on the name again.
 */
#ifndef AGENT_BASE_PATHRES_H
#define AGENT_BASE_PATHRES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Text only, before anything is opened: path is root or below it, under 4096 bytes, with no
 * "//" and no "." or ".." component (a trailing '/' is allowed, as the runtime sends some).
 */
bool path_clean_under(const char *path, const char *root);

enum {
	PATHRES_FORCE_WALK = 1 << 0, /* skip openat2 (tests the fallback) */
};

/*
 * Opens rel (relative; "" or "." is rootfd itself) beneath rootfd with oflags
 * (O_CLOEXEC added). "..", symlinks and magic links are refused. An O_PATH
 * open of a symlink is refused too (-ELOOP). fd or -errno.
 */
int pathres_open(int rootfd, const char *rel, int oflags, unsigned how);
/* mkdir -p of rel beneath rootfd (mode for what it makes); an O_PATH fd of the directory. */
int pathres_mkdir_p(int rootfd, const char *rel, mode_t mode, unsigned how);

/*
 * The same for an absolute path that must be root or below it (root itself
 * is trusted and opened by name): -EXDEV when it is not below root.
 */
int pathres_open_under(const char *root, const char *path, int oflags);
int pathres_mkdir_under(const char *root, const char *path, mode_t mode);
/*
 * The directory holding path (below root, made when mkdir), as an O_PATH fd;
 * *ret_base points at path's last component. -EINVAL when path is root.
 */
int pathres_parent_under(const char *root, const char *path, bool mkdir, mode_t mode,
			 const char **ret_base);
/* Whether path lies below root, or is root; *ret_rel (optional) the rest without '/'. */
bool pathres_below(const char *root, const char *path, const char **ret_rel);
/* "/proc/self/fd/N" into buf. */
const char *pathres_proc(int fd, char *buf, size_t size);

#endif
