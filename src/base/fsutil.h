/* SPDX-License-Identifier: Apache-2.0 */
/* Small filesystem helpers. */
#ifndef AGENT_BASE_FSUTIL_H
#define AGENT_BASE_FSUTIL_H

#include <sys/types.h>

/* mkdir -p with mode for each missing component. 0 or -errno. */
int mkdir_p(const char *path, mode_t mode);
/*
 * rm -rf that never leaves the filesystem `path` is on: a mount point met
 * below it is left alone (and so is the directory holding it). 0 or -errno of
 * the first failure; a missing path is success.
 */
int rm_rf(const char *path);
/*
 * The whole of a file (procfs, sysfs, cgroupfs: no size known up front),
 * NUL-terminated, into *ret (malloc'd). Its length, or -errno: -EFBIG when it
 * holds max bytes or more.
 */
int read_file_all(const char *path, size_t max, char **ret);
/*
 * A small file (a sysfs attribute, /proc/self/cgroup) into buf, NUL-terminated.
 * Its length, or -errno: -EFBIG when it does not fit in size - 1 bytes.
 */
int read_file_small(const char *path, char *buf, size_t size);
/* Writes text to an existing file. 0 or -errno. */
int write_file(const char *path, const char *text);
/*
 * write(2) to a pipe or socket whose reader may be gone: EPIPE comes back as an error and
 * the SIGPIPE it raised is consumed, never left pending or delivered, so callers need not
 * ignore SIGPIPE. A SIGPIPE already pending before the call is left as it was.
 */
ssize_t write_nosigpipe(int fd, const void *buf, size_t n);

#endif
