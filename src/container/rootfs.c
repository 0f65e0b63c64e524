// SPDX-License-Identifier: Apache-2.0
/* The order of the rootfs set-up: propagation, rootfs bind, mounts, /dev, pivot, finish.
 */
#include "container/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container/mountopt.h"
#include "container/pathsafe.h"
#include "container/rootfs-internal.h"
#include "base/status.h"

#define RAMFS_MAGIC_ 0x858458f6
#define TMPFS_MAGIC_ 0x01021994

unsigned long rootfs_mount_flags_of(const char *path)
{
	struct statvfs sv;
	if (statvfs(path, &sv) < 0)
		return 0;
	static const struct {
		unsigned long st, ms;
	} map[] = {
		{ST_RDONLY, MS_RDONLY},	    {ST_NOSUID, MS_NOSUID},
		{ST_NODEV, MS_NODEV},	    {ST_NOEXEC, MS_NOEXEC},
		{ST_NOATIME, MS_NOATIME},   {ST_NODIRATIME, MS_NODIRATIME},
		{ST_RELATIME, MS_RELATIME},
	};
	unsigned long f = 0;
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (sv.f_flag & map[i].st)
			f |= map[i].ms;
	/* Neither noatime nor relatime: strictatime, which a locked mount must keep. */
	if (!(f & (MS_NOATIME | MS_RELATIME)))
		f |= MS_STRICTATIME;
	return f;
}

bool rootfs_path_under(const char *path, const char *dir)
{
	size_t l = strlen(dir);
	if (strncmp(path, dir, l) != 0)
		return false;
	return path[l] == '\0' || path[l] == '/' || (l == 1 && dir[0] == '/');
}

void rootfs_clean_path(const char *in, char *out, size_t size)
{
	size_t o = 0;
	const char *p = in;
	while (*p && o + 2 < size) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchrnul(p, '/');
		size_t l = (size_t)(e - p);
		if (!(l == 1 && p[0] == '.') && o + 1 + l < size) {
			out[o++] = '/';
			memcpy(out + o, p, l);
			o += l;
		}
		p = e;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
}

const Grpc__Mount *rootfs_spec_mount(const Grpc__Spec *spec, const char *dest)
{
	char a[PATH_MAX];
	for (size_t i = 0; i < spec->n_mounts; i++) {
		rootfs_clean_path(spec->mounts[i]->destination, a, sizeof(a));
		if (strcmp(a, dest) == 0)
			return spec->mounts[i];
	}
	return NULL;
}

/* pivot_root refuses a shared parent of the new root: make that one mount private. */
static int make_parent_private(const char *rootfs, agent_error_t **err)
{
	_cleanup_free_ char *buf = NULL;
	int r = mountinfo_read(&buf, err);
	if (r < 0)
		return r;
	char best[PATH_MAX] = "/";
	size_t best_len = 0;
	struct mountinfo_entry e;
	char *pos = buf;
	while (mountinfo_next(&pos, &e) == 1) {
		size_t l = strlen(e.mountpoint);
		if (strcmp(e.mountpoint, rootfs) != 0 && rootfs_path_under(rootfs, e.mountpoint) &&
		    l > best_len && l < sizeof(best)) {
			memcpy(best, e.mountpoint, l + 1);
			best_len = l;
		}
	}
	if (mount(NULL, best, NULL, MS_PRIVATE, NULL) < 0)
		return agent_error_setsys(err, errno, "make %s private", best);
	return 0;
}

static int root_propagation(const Grpc__Spec *spec, unsigned long *ret, agent_error_t **err)
{
	const char *w = spec->linux ? spec->linux->rootfspropagation : "";
	*ret = MS_SLAVE | MS_REC;
	if (!w || !*w)
		return 0;
	struct mount_opts o;
	char *words[] = {(char *)w};
	int r = mount_opts_parse(words, 1, &o, NULL);
	bool bad = r < 0 || o.propagation == 0 || o.flags || o.clear_flags || o.data;
	if (r == 0)
		mount_opts_release(&o);
	if (bad)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "invalid rootfsPropagation \"%s\"", w);
	*ret = o.propagation;
	return 0;
}

int rootfs_bind_root(const char *root, const char *target, agent_error_t **err)
{
	_cleanup_close_ int fd = -1;
	if (pathsafe_lexically_below(root, PATHSAFE_CONFINE_DIR)) {
		fd = pathsafe_open_below(PATHSAFE_CONFINE_DIR, root, O_PATH | O_DIRECTORY, 0);
	} else {
		fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
	}
	if (fd < 0)
		return agent_error_setsys(err, -fd, "opening root %s", root);
	char src[32];
	if (mount(pathsafe_proc_fd(fd, src, sizeof(src)), target, NULL, MS_BIND | MS_REC, NULL) < 0)
		return agent_error_setsys(err, errno, "binding %s on %s", root, target);
	return 0;
}

int rootfs_prepare(const struct rootfs_ctx *c, agent_error_t **err)
{
	return rootfs_prepare_how(c, 0, err);
}

int rootfs_prepare_how(const struct rootfs_ctx *c, unsigned how, agent_error_t **err)
{
	const Grpc__Spec *spec = c->spec;
	unsigned long prop;
	int r = root_propagation(spec, &prop, err);
	if (r < 0)
		return r;
	/* Nothing can be bound out of an unbindable tree: private until after pivot. */
	unsigned long first = (prop & MS_UNBINDABLE) ? MS_PRIVATE | (prop & MS_REC) : prop;
	if (mount(NULL, "/", NULL, first, NULL) < 0)
		return agent_error_setsys(err, errno, "set propagation of /");
	if (prop & MS_SHARED) {
		r = make_parent_private(c->rootfs, err);
		if (r < 0)
			return r;
	}
	if (mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return agent_error_setsys(err, errno, "bind rootfs %s", c->rootfs);

	/* Opened after the bind so that lookups start on the new mount. */
	_cleanup_close_ int rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return agent_error_setsys(err, errno, "open rootfs %s", c->rootfs);

	r = rootfs_dev_mount(c, rootfd, how, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < spec->n_mounts; i++) {
		r = rootfs_mount_one(c, rootfd, spec->mounts[i], how, err);
		if (r < 0)
			return r;
	}
	return rootfs_dev_populate(c, rootfd, how, err);
}

/*
 * An explicit rootfsPropagation is applied again to the new "/" once it is the
 * root (the rootfs bind came from a private parent, so "rshared" needs this), never
 * earlier, when the mount could still be shared with the host's.
 */
static int apply_root_propagation(const struct rootfs_ctx *c, agent_error_t **err)
{
	const Grpc__Linux *lx = c->spec->linux;
	if (!lx || !lx->rootfspropagation || !*lx->rootfspropagation)
		return 0;
	unsigned long prop;
	int r = root_propagation(c->spec, &prop, err);
	if (r < 0)
		return r;
	if (mount(NULL, "/", NULL, prop, NULL) < 0)
		return agent_error_setsys(err, errno, "set propagation of the new /");
	return 0;
}

static bool root_is_initramfs(void)
{
	struct statfs sf;
	if (statfs("/", &sf) < 0)
		return false;
	return sf.f_type == RAMFS_MAGIC_ || sf.f_type == TMPFS_MAGIC_;
}

int rootfs_pivot(const struct rootfs_ctx *c, agent_error_t **err)
{
	/* The old root, to reach it under the new one after pivot_root (see below). */
	_cleanup_close_ int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (oldroot < 0)
		return agent_error_setsys(err, errno, "open /");
	if (chdir(c->rootfs) < 0)
		return agent_error_setsys(err, errno, "chdir %s", c->rootfs);
	if (syscall(SYS_pivot_root, ".", ".") < 0) {
		int e = errno;
		if (e != EINVAL || !root_is_initramfs())
			return agent_error_setsys(err, e, "pivot_root %s", c->rootfs);
		/* An initramfs root cannot be pivoted away from: move the rootfs over it. */
		if (mount(c->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
			return agent_error_setsys(err, errno, "move %s to /", c->rootfs);
		if (chroot(".") < 0)
			return agent_error_setsys(err, errno, "chroot %s", c->rootfs);
		if (chdir("/") < 0)
			return agent_error_setsys(err, errno, "chdir /");
		return apply_root_propagation(c, err);
	}
	/*
	 * The old root now sits on top of the new one. A lookup of "." from a working
	 * directory on the new root stays on the new root (mount(2) does not cross to
	 * the mount stacked on top), so "." is taken from the old root's own fd: only
	 * the old tree becomes rslave (its unmounts must not reach the host's), and
	 * the propagation of the container's own mounts ("rshared" ...) is kept.
	 */
	if (fchdir(oldroot) < 0)
		return agent_error_setsys(err, errno, "fchdir to the old root");
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return agent_error_setsys(err, errno, "make old root rslave");
	if (umount2(".", MNT_DETACH) < 0)
		return agent_error_setsys(err, errno, "detach old root");
	if (chdir("/") < 0)
		return agent_error_setsys(err, errno, "chdir /");
	return apply_root_propagation(c, err);
}

static bool mount_has_word(const Grpc__Mount *m, const char *w)
{
	bool has = false;
	for (size_t i = 0; i < m->n_options; i++) {
		if (strcmp(m->options[i], w) == 0)
			has = true;
		else if (strcmp(w, "ro") == 0 && strcmp(m->options[i], "rw") == 0)
			has = false;
	}
	return has;
}

int rootfs_finish(const struct rootfs_ctx *c, agent_error_t **err)
{
	const Grpc__Spec *spec = c->spec;
	int r = rootfs_apply_sysctl(spec, err);
	if (r < 0)
		return r;
	r = rootfs_readonly_paths(spec, err);
	if (r < 0)
		return r;
	r = rootfs_mask_paths(spec, err);
	if (r < 0)
		return r;
	if (spec->root && spec->root->readonly) {
		r = rootfs_remount_ro("/", err);
		if (r < 0)
			return agent_error_wrap(err, "read-only root");
	}
	const Grpc__Mount *dev = rootfs_spec_mount(spec, "/dev");
	if (dev && mount_has_word(dev, "ro")) {
		r = rootfs_remount_ro("/dev", err);
		if (r < 0)
			return r;
	}
	return 0;
}

int rootfs_remount_ro(const char *path, agent_error_t **err)
{
	unsigned long f = rootfs_mount_flags_of(path);
	if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | f, NULL) < 0)
		return agent_error_setsys(err, errno, "remount %s read-only", path);
	return 0;
}
