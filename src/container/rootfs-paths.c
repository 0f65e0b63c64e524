// SPDX-License-Identifier: Apache-2.0
/*
 * linux.maskedPaths and linux.readonlyPaths, after pivot. Unlike
 * upstream, a masked directory is masked: a read-only empty tmpfs covers it.
 */
#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "container/rootfs-internal.h"

static int mask_one(const char *path, agent_error_t **err)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return agent_error_setsys(err, errno, "masked path %s", path);
	}
	int r;
	if (S_ISDIR(st.st_mode))
		r = mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "mode=755");
	else
		r = mount("/dev/null", path, NULL, MS_BIND, NULL);
	if (r < 0)
		return agent_error_setsys(err, errno, "mask %s", path);
	return 0;
}

int rootfs_mask_paths(const Grpc__Spec *spec, agent_error_t **err)
{
	const Grpc__Linux *lx = spec->linux;
	for (size_t i = 0; lx && i < lx->n_maskedpaths; i++) {
		int r = mask_one(lx->maskedpaths[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

int rootfs_readonly_paths(const Grpc__Spec *spec, agent_error_t **err)
{
	const Grpc__Linux *lx = spec->linux;
	for (size_t i = 0; lx && i < lx->n_readonlypaths; i++) {
		const char *p = lx->readonlypaths[i];
		if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue;
			return agent_error_setsys(err, errno, "read-only path %s: bind", p);
		}
		int r = rootfs_remount_ro(p, err);
		if (r < 0)
			return r;
	}
	return 0;
}
