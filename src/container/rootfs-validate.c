// SPDX-License-Identifier: Apache-2.0
/* Spec checks for mounts, devices and sysctl keys, before anything is created. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container/mountopt.h"
#include "container/pathsafe.h"
#include "container/rootfs-internal.h"
#include "base/status.h"

#define INVALID(err, ...) agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL, __VA_ARGS__)

static bool has_dotdot(const char *p)
{
	for (const char *s = p; *s;) {
		const char *e = strchrnul(s, '/');
		if (e - s == 2 && s[0] == '.' && s[1] == '.')
			return true;
		s = *e ? e + 1 : e;
	}
	return false;
}

static int check_mount(const Grpc__Mount *m, agent_error_t **err)
{
	const char *d = m->destination;
	if (d[0] != '/')
		return INVALID(err, "mount destination \"%s\" is not absolute", d);
	if (has_dotdot(d))
		return INVALID(err, "mount destination \"%s\" contains \"..\"", d);
	if (strlen(d) >= 4096)
		return INVALID(err, "mount destination too long");
	struct mount_opts o;
	int r = mount_opts_parse(m->options, m->n_options, &o, err);
	if (r < 0)
		return agent_error_wrap(err, "mount %s", d);
	mount_opts_release(&o);
	return 0;
}

static int check_device(const Grpc__LinuxDevice *dv, agent_error_t **err)
{
	const char *p = dv->path;
	if (strncmp(p, "/dev/", 5) != 0 || !p[5])
		return INVALID(err, "device path \"%s\" is not under /dev", p);
	if (has_dotdot(p))
		return INVALID(err, "device path \"%s\" contains \"..\"", p);
	if (strlen(p) >= 4096)
		return INVALID(err, "device path too long");
	const char *t = dv->type;
	if (strcmp(t, "c") != 0 && strcmp(t, "b") != 0 && strcmp(t, "u") != 0 &&
	    strcmp(t, "p") != 0)
		return INVALID(err, "device %s: invalid type \"%s\"", p, t);
	return 0;
}

static int check_sysctl(const char *key, agent_error_t **err)
{
	/* As sysctl(8): "a.b.c", or "a/b/c" where a component may hold a dot (eth0.100). */
	char sep = strchr(key, '/') ? '/' : '.';

	if (!*key)
		return INVALID(err, "invalid sysctl key \"%s\"", key);
	/* An empty component covers "..", "//", a leading or a trailing separator. */
	for (const char *s = key;;) {
		const char *e = strchrnul(s, sep);
		if (e == s || (e - s == 1 && s[0] == '.') ||
		    (e - s == 2 && s[0] == '.' && s[1] == '.'))
			return INVALID(err, "invalid sysctl key \"%s\"", key);
		if (!*e)
			break;
		s = e + 1;
	}
	if (strlen(key) >= 256)
		return INVALID(err, "sysctl key too long");
	return 0;
}

int rootfs_validate(const Grpc__Spec *spec, agent_error_t **err)
{
	int r;
	if (spec->n_mounts > ROOTFS_MAX_MOUNTS)
		return INVALID(err, "too many mounts (%zu, at most %d)", spec->n_mounts,
			       ROOTFS_MAX_MOUNTS);
	for (size_t i = 0; i < spec->n_mounts; i++)
		if ((r = check_mount(spec->mounts[i], err)) < 0)
			return r;
	const Grpc__Linux *lx = spec->linux;
	if (!lx)
		return 0;
	if (lx->n_devices > ROOTFS_MAX_DEVICES)
		return INVALID(err, "too many devices (at most %d)", ROOTFS_MAX_DEVICES);
	for (size_t i = 0; i < lx->n_devices; i++)
		if ((r = check_device(lx->devices[i], err)) < 0)
			return r;
	if (lx->n_sysctl > ROOTFS_MAX_SYSCTL)
		return INVALID(err, "too many sysctl keys (at most %d)", ROOTFS_MAX_SYSCTL);
	for (size_t i = 0; i < lx->n_sysctl; i++)
		if ((r = check_sysctl(lx->sysctl[i]->key, err)) < 0)
			return r;
	if (lx->n_maskedpaths > ROOTFS_MAX_PATHS || lx->n_readonlypaths > ROOTFS_MAX_PATHS)
		return INVALID(err, "too many masked or read-only paths (at most %d)",
			       ROOTFS_MAX_PATHS);
	return 0;
}

/* True when dest lies on (or below) something mounted before spec.mounts[i]: /dev or an earlier
 * destination. What is there then is not what the rootfs holds now. */
static bool covered_before(const Grpc__Spec *spec, size_t i, const char *dest)
{
	char d[PATH_MAX];
	if (rootfs_path_under(dest, "/dev"))
		return true;
	for (size_t j = 0; j < i; j++) {
		rootfs_clean_path(spec->mounts[j]->destination, d, sizeof(d));
		if (rootfs_path_under(dest, d))
			return true;
	}
	return false;
}

static int check_plain_dir_target(const Grpc__Spec *spec, size_t i, int rootfd, const char *root,
				  agent_error_t **err)
{
	const Grpc__Mount *m = spec->mounts[i];
	char dest[PATH_MAX], real[PATH_MAX];

	rootfs_clean_path(m->destination, dest, sizeof(dest));
	if (covered_before(spec, i, dest))
		return 0;
	/* As rootfs-mounts.c resolves it: in the root, the last component not followed. */
	_cleanup_close_ int fd = pathsafe_open(rootfd, dest, O_PATH, PATHSAFE_NOFOLLOW);
	if (fd < 0)
		return 0; /* missing: made then; any other failure is reported by the set-up */
	struct stat st;
	if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode))
		return 0;
	/* Reached through an in-root symlink onto something mounted first: not decidable here. */
	size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
	if (pathsafe_fd_path(fd, real, sizeof(real)) < 0 || !rootfs_path_under(real, root) ||
	    (real[rl] && covered_before(spec, i, real + rl)))
		return 0;
	return INVALID(err, "mounts[%zu]: %s is %s in the container's root; %s goes on a directory",
		       i, dest, S_ISLNK(st.st_mode) ? "a symlink" : "not a directory", m->type);
}

int rootfs_validate_targets(const Grpc__Spec *spec, int rootfd, agent_error_t **err)
{
	const char *root = spec->root ? spec->root->path : "";
	if (root[0] != '/')
		return 0;
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const char *t = spec->mounts[i]->type;
		if (strcmp(t, "proc") != 0 && strcmp(t, "sysfs") != 0)
			continue;
		int r = check_plain_dir_target(spec, i, rootfd, root, err);
		if (r < 0)
			return r;
	}
	return 0;
}
