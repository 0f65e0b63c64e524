// SPDX-License-Identifier: Apache-2.0
/* Spec checks for mounts, devices and sysctl keys (spec 6.1), before anything is created. */
#include <errno.h>
#include <string.h>

#include "container/mountopt.h"
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
