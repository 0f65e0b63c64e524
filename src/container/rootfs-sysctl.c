// SPDX-License-Identifier: Apache-2.0
/* linux.sysctl: key a.b.c written to /proc/sys/a/b/c after pivot; missing keys skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "container/rootfs-internal.h"

static int write_sysctl(const char *key, const char *value, agent_error_t **err)
{
	char path[PATH_MAX];
	/* rootfs_validate refuses these already; never write outside /proc/sys. */
	bool slashes = strchr(key, '/') != NULL;

	if (!*key || key[0] == '/' || strstr(key, "..") || strstr(key, "//"))
		return agent_error_set(err, EINVAL, "invalid sysctl key \"%s\"", key);
	int n = snprintf(path, sizeof(path), "/proc/sys/%s", key);
	if (n < 0 || (size_t)n >= sizeof(path))
		return agent_error_set(err, ENAMETOOLONG, "sysctl %s: key too long", key);
	for (char *p = path + strlen("/proc/sys/"); *p && !slashes; p++)
		if (*p == '.')
			*p = '/';
	_cleanup_close_ int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return agent_error_setsys(err, errno, "sysctl %s", key);
	}
	size_t len = strlen(value);
	ssize_t w = write(fd, value, len);
	if (w < 0)
		return agent_error_setsys(err, errno, "sysctl %s = %s", key, value);
	if ((size_t)w != len)
		return agent_error_set(err, EIO, "sysctl %s: short write", key);
	return 0;
}

int rootfs_apply_sysctl(const Grpc__Spec *spec, agent_error_t **err)
{
	const Grpc__Linux *lx = spec->linux;
	for (size_t i = 0; lx && i < lx->n_sysctl; i++) {
		int r = write_sysctl(lx->sysctl[i]->key, lx->sysctl[i]->value, err);
		if (r < 0)
			return r;
	}
	return 0;
}
