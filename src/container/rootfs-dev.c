// SPDX-License-Identifier: Apache-2.0
/* /dev of a container: tmpfs, devpts, shm, device nodes and the usual symlinks. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "container/pathsafe.h"
#include "container/rootfs-internal.h"

static const struct {
	const char *path;
	unsigned major, minor;
} default_devices[] = {
	{"/dev/null", 1, 3}, {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
	{"/dev/tty", 5, 0},  {"/dev/urandom", 1, 9}, {"/dev/random", 1, 8},
};

static const struct {
	const char *name, *target;
} dev_links[] = {
	{"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},
};

static bool mount_is_bind(const Grpc__Mount *m)
{
	if (strcmp(m->type, "bind") == 0)
		return true;
	for (size_t i = 0; i < m->n_options; i++)
		if (strcmp(m->options[i], "bind") == 0 || strcmp(m->options[i], "rbind") == 0)
			return true;
	return false;
}

static int mount_at(int rootfd, const char *dest, const char *src, const char *type,
		    unsigned long flags, const char *data, unsigned how, agent_error_t **err)
{
	_cleanup_close_ int fd = pathsafe_mkdir_p(rootfd, dest, 0755, how);
	if (fd < 0)
		return agent_error_setsys(err, -fd, "create %s", dest);
	char tp[32];
	if (mount(src, pathsafe_proc_fd(fd, tp, sizeof(tp)), type, flags, data) < 0)
		return agent_error_setsys(err, errno, "mount %s on %s", type, dest);
	return 0;
}

int rootfs_dev_mount(const struct rootfs_ctx *c, int rootfd, unsigned how, agent_error_t **err)
{
	if (rootfs_spec_mount(c->spec, "/dev"))
		return 0;
	return mount_at(rootfd, "/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME,
			"mode=755,size=65536k", how, err);
}

static int dev_type(const char *t, mode_t *ret)
{
	if (strcmp(t, "c") == 0 || strcmp(t, "u") == 0)
		*ret = S_IFCHR;
	else if (strcmp(t, "b") == 0)
		*ret = S_IFBLK;
	else if (strcmp(t, "p") == 0)
		*ret = S_IFIFO;
	else
		return -EINVAL;
	return 0;
}

struct devnode {
	const char *path; /* in the container, also the host node for binds */
	mode_t type;
	dev_t rdev;
	mode_t mode; /* permission bits; 0 = the host node's */
	uid_t uid;
	gid_t gid;
};

static int make_device(const struct rootfs_ctx *c, int rootfd, const struct devnode *d,
		       unsigned how, agent_error_t **err)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", d->path);
	char *slash = strrchr(dir, '/');
	if (!slash || !slash[1])
		return agent_error_set(err, EINVAL, "device %s: bad path", d->path);
	*slash = '\0';
	const char *base = slash + 1;
	_cleanup_close_ int pfd = pathsafe_mkdir_p(rootfd, dir, 0755, how);
	if (pfd < 0)
		return agent_error_setsys(err, -pfd, "device %s: create %s", d->path, dir);

	mode_t mode = d->mode & 07777;
	if (!mode) {
		struct stat st;
		mode = stat(d->path, &st) == 0 ? (st.st_mode & 07777) : 0660;
	}
	if (unlinkat(pfd, base, 0) < 0 && errno != ENOENT)
		return agent_error_setsys(err, errno, "device %s: remove old entry", d->path);

	if (c->userns) {
		/* mknod is not allowed in a user namespace: bind the host's node. */
		int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				0600);
		if (fd < 0)
			return agent_error_setsys(err, errno, "device %s: create", d->path);
		safe_close(fd);
		_cleanup_close_ int tfd = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (tfd < 0)
			return agent_error_setsys(err, errno, "device %s: open", d->path);
		char tp[32];
		if (mount(d->path, pathsafe_proc_fd(tfd, tp, sizeof(tp)), NULL, MS_BIND, NULL) < 0)
			return agent_error_setsys(err, errno, "device %s: bind host node", d->path);
		return 0;
	}
	if (mknodat(pfd, base, d->type | mode, d->rdev) < 0)
		return agent_error_setsys(err, errno, "device %s: mknod", d->path);
	/* mknod obeys the umask; the spec's mode is exact. */
	if (fchmodat(pfd, base, mode, 0) < 0)
		return agent_error_setsys(err, errno, "device %s: chmod", d->path);
	if (fchownat(pfd, base, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return agent_error_setsys(err, errno, "device %s: chown", d->path);
	return 0;
}

static bool spec_has_device(const Grpc__Linux *lx, const char *path)
{
	char a[PATH_MAX];
	for (size_t i = 0; lx && i < lx->n_devices; i++) {
		rootfs_clean_path(lx->devices[i]->path, a, sizeof(a));
		if (strcmp(a, path) == 0)
			return true;
	}
	return false;
}

static int make_devices(const struct rootfs_ctx *c, int rootfd, unsigned how, agent_error_t **err)
{
	const Grpc__Linux *lx = c->spec->linux;
	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
		if (spec_has_device(lx, default_devices[i].path))
			continue;
		struct devnode d = {
			.path = default_devices[i].path,
			.type = S_IFCHR,
			.rdev = makedev(default_devices[i].major, default_devices[i].minor),
			.mode = 0666,
		};
		int r = make_device(c, rootfd, &d, how, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; lx && i < lx->n_devices; i++) {
		const Grpc__LinuxDevice *sd = lx->devices[i];
		char path[PATH_MAX];
		rootfs_clean_path(sd->path, path, sizeof(path));
		struct devnode d = {
			.path = path,
			.rdev = makedev((unsigned)sd->major, (unsigned)sd->minor),
			.mode = sd->filemode,
			.uid = sd->uid,
			.gid = sd->gid,
		};
		if (dev_type(sd->type, &d.type) < 0)
			return agent_error_set(err, EINVAL, "device %s: bad type \"%s\"", path,
					       sd->type);
		if (d.type == S_IFIFO)
			d.rdev = 0;
		int r = make_device(c, rootfd, &d, how, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int make_links(int rootfd, unsigned how, agent_error_t **err)
{
	_cleanup_close_ int dfd = pathsafe_open(rootfd, "/dev", O_PATH | O_DIRECTORY, how);
	if (dfd < 0)
		return agent_error_setsys(err, -dfd, "open /dev");
	for (size_t i = 0; i < ARRAY_SIZE(dev_links) + 1; i++) {
		const char *name, *target;
		if (i < ARRAY_SIZE(dev_links)) {
			name = dev_links[i].name;
			target = dev_links[i].target;
		} else {
			if (access("/proc/kcore", F_OK) < 0)
				break;
			name = "core";
			target = "/proc/kcore";
		}
		if (symlinkat(target, dfd, name) < 0 && errno != EEXIST)
			return agent_error_setsys(err, errno, "symlink /dev/%s", name);
	}
	return 0;
}

int rootfs_dev_populate(const struct rootfs_ctx *c, int rootfd, unsigned how, agent_error_t **err)
{
	const Grpc__Mount *dev = rootfs_spec_mount(c->spec, "/dev");
	if (dev && mount_is_bind(dev))
		return 0;
	int r;
	if (!rootfs_spec_mount(c->spec, "/dev/pts")) {
		r = mount_at(rootfd, "/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
			     "newinstance,ptmxmode=0666,mode=0620", how, err);
		if (r < 0)
			return r;
	}
	if (!rootfs_spec_mount(c->spec, "/dev/shm")) {
		r = mount_at(rootfd, "/dev/shm", "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			     "mode=1777,size=65536k", how, err);
		if (r < 0)
			return r;
	}
	r = make_devices(c, rootfd, how, err);
	if (r < 0)
		return r;
	return make_links(rootfd, how, err);
}
