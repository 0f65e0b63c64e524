// SPDX-License-Identifier: Apache-2.0
/* One spec.mounts entry: target resolved inside the root, bind rules, remounts. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "container/mountopt.h"
#include "container/pathsafe.h"
#include "container/rootfs-internal.h"
#include "container/validate.h"
#include "base/status.h"

#define PROC_SUPER_MAGIC_ 0x9fa0
#define ATIME_FLAGS (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)

/* lxcfs-style files that may be bound over their /proc originals. */
static const char *const proc_bind_allowed[] = {
	"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat",
	"/proc/swaps",	 "/proc/uptime",    "/proc/loadavg", "/proc/net/dev",
};

static void opts_releasep(struct mount_opts *o)
{
	mount_opts_release(o);
}

/* The in-root path an fd resolved to (host path minus the rootfs prefix). */
static int in_root_path(const struct rootfs_ctx *c, int fd, char *buf, size_t size,
			agent_error_t **err, const char *dest)
{
	char real[PATH_MAX];
	int r = pathsafe_fd_path(fd, real, sizeof(real));
	if (r < 0)
		return agent_error_setsys(err, -r, "mount %s: resolve target", dest);
	size_t rl = strlen(c->rootfs);
	if (strcmp(c->rootfs, "/") == 0)
		rl = 0;
	else if (!rootfs_path_under(real, c->rootfs))
		return agent_error_set(err, EXDEV, "mount %s: target %s is outside the root", dest,
				       real);
	snprintf(buf, size, "%s", real[rl] ? real + rl : "/");
	return 0;
}

static bool proc_bind_ok(const char *inroot, const char *src)
{
	for (size_t i = 0; i < ARRAY_SIZE(proc_bind_allowed); i++)
		if (strcmp(inroot, proc_bind_allowed[i]) == 0)
			return true;
	struct statfs sf;
	return strcmp(inroot, "/proc") == 0 && statfs(src, &sf) == 0 &&
	       sf.f_type == PROC_SUPER_MAGIC_;
}

/*
 * A bind source, opened once and then used by fd. Below PATHSAFE_CONFINE_DIR it is
 * resolved inside that directory (the host writes parts of it: a symlink swapped in
 * cannot lead out); below /dev it must be a device node. spec_validate refuses any
 * other source unless agent.debug_unconfined_paths is set: only then is it opened by name.
 */
static int open_bind_source(const char *source, const char *dest, struct stat *st,
			    agent_error_t **err)
{
	bool dev = false;
	int fd;
	if (pathsafe_lexically_below(source, PATHSAFE_CONFINE_DIR)) {
		fd = pathsafe_open_below(PATHSAFE_CONFINE_DIR, source, O_PATH, 0);
	} else if (pathsafe_lexically_below(source, "/dev")) {
		fd = pathsafe_open_below("/dev", source, O_PATH, 0);
		dev = true;
	} else {
		fd = open(source, O_PATH | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
	}
	if (fd < 0)
		return agent_error_setsys(err, -fd, "mount %s: bind source %s", dest, source);
	if (fstat(fd, st) < 0) {
		int e = errno;
		safe_close(fd);
		return agent_error_setsys(err, e, "mount %s: bind source %s", dest, source);
	}
	if (dev && !S_ISCHR(st->st_mode) && !S_ISBLK(st->st_mode)) {
		safe_close(fd);
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EPERM,
					      "mount %s: bind source %s is not a device node", dest,
					      source);
	}
	return fd;
}

/* Resolves the mount again (lookups now cross it) and applies a remount and/or propagation. */
static int after_mount(int rootfd, const char *dest, unsigned how, unsigned long remount,
		       unsigned long clear, unsigned long propagation, agent_error_t **err)
{
	if (!remount && !propagation)
		return 0;
	_cleanup_close_ int fd = pathsafe_open(rootfd, dest, O_PATH, how);
	if (fd < 0)
		return agent_error_setsys(err, -fd, "mount %s: reopen", dest);
	char tp[32];
	pathsafe_proc_fd(fd, tp, sizeof(tp));
	if (remount) {
		unsigned long cur = rootfs_mount_flags_of(tp) & ~clear;
		if (remount & ATIME_FLAGS)
			cur &= ~ATIME_FLAGS;
		if (mount(NULL, tp, NULL, MS_BIND | MS_REMOUNT | remount | cur, NULL) < 0)
			return agent_error_setsys(err, errno, "mount %s: remount", dest);
	}
	if (propagation && mount(NULL, tp, NULL, propagation, NULL) < 0)
		return agent_error_setsys(err, errno, "mount %s: set propagation", dest);
	return 0;
}

/* proc and sysfs go on plain directories only (a symlink could point anywhere). */
static int plain_dir_target(int rootfd, const char *dest, unsigned how, agent_error_t **err)
{
	int fd = pathsafe_open(rootfd, dest, O_PATH, how | PATHSAFE_NOFOLLOW);
	if (fd == -ENOENT) {
		fd = pathsafe_mkdir_p(rootfd, dest, 0755, how);
		if (fd >= 0) {
			safe_close(fd);
			fd = pathsafe_open(rootfd, dest, O_PATH, how | PATHSAFE_NOFOLLOW);
		}
	}
	if (fd < 0)
		return agent_error_setsys(err, -fd, "mount %s: target", dest);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		safe_close(fd);
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, ENOTDIR,
					      "mount %s: target must be a directory", dest);
	}
	return fd;
}

int rootfs_mount_one(const struct rootfs_ctx *c, int rootfd, const Grpc__Mount *m, unsigned how,
		     agent_error_t **err)
{
	_cleanup_(opts_releasep) struct mount_opts o = {0};
	char dest[PATH_MAX];
	int r = mount_opts_parse(m->options, m->n_options, &o, err);
	if (r < 0)
		return agent_error_wrap(err, "mount %s", m->destination);
	rootfs_clean_path(m->destination, dest, sizeof(dest));

	const char *type = m->type;
	bool none = !*type || strcmp(type, "none") == 0;
	bool bind = strcmp(type, "bind") == 0 || (none && (o.flags & MS_BIND));
	if (bind)
		o.flags |= MS_BIND;
	else
		o.flags &= ~(MS_BIND | MS_REC);
	unsigned long flags = o.flags;
	/* /dev is populated after mounting: made read-only only at the very end. */
	if (strcmp(dest, "/dev") == 0)
		flags &= ~MS_RDONLY;

	if (strcmp(type, "cgroup") == 0)
		return rootfs_mount_cgroup(c, rootfd, dest, flags, how, err);

	char src[32];
	_cleanup_close_ int tfd = -1, sfd = -1;
	if (bind) {
		struct stat st;
		sfd = open_bind_source(m->source, dest, &st, err);
		if (sfd < 0)
			return sfd;
		pathsafe_proc_fd(sfd, src, sizeof(src));
		tfd = pathsafe_create(rootfd, dest, S_ISDIR(st.st_mode), how);
	} else if (strcmp(type, "proc") == 0 || strcmp(type, "sysfs") == 0) {
		tfd = plain_dir_target(rootfd, dest, how, err);
		if (tfd < 0)
			return tfd;
	} else {
		tfd = pathsafe_mkdir_p(rootfd, dest, 0755, how);
	}
	if (tfd < 0)
		return agent_error_setsys(err, -tfd, "mount %s: target", dest);

	char tp[32], inroot[PATH_MAX];
	pathsafe_proc_fd(tfd, tp, sizeof(tp));
	r = in_root_path(c, tfd, inroot, sizeof(inroot), err, dest);
	if (r < 0)
		return r;

	if (bind) {
		if (rootfs_path_under(inroot, "/proc") && !proc_bind_ok(inroot, src))
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EPERM,
						      "mount %s: bind mount into %s is not allowed",
						      dest, inroot);
		if (mount(src, tp, NULL, MS_BIND | (flags & MS_REC), NULL) < 0)
			return agent_error_setsys(err, errno, "mount %s: bind %s", dest, m->source);
		unsigned long extra = flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
		return after_mount(rootfd, dest, how, extra, o.clear_flags, o.propagation, err);
	}
	/*
	 * The kernel ignores a special filesystem's source (mountinfo shows it): a name
	 * ("shm", "proc") is kept, a path is not passed on.
	 */
	const char *source = m->source;
	if (!*source || (mount_type_is_special(type) && strchr(source, '/')))
		source = type;
	if (mount(source, tp, type, flags, o.data) < 0)
		return agent_error_setsys(err, errno, "mount %s: %s on %s", dest, type, inroot);
	return after_mount(rootfd, dest, how, 0, 0, o.propagation, err);
}
