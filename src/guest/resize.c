// SPDX-License-Identifier: Apache-2.0
/*
 * ResizeVolume: after the host grew a direct-assigned volume's disk, grow its
 * filesystem online. ext4 only (EXT4_IOC_RESIZE_FS); upstream answers
 * UNIMPLEMENTED for every volume.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "guest/guest.h"
#include "base/status.h"

#define EXT4_MAGIC 0xEF53
#ifndef EXT4_IOC_RESIZE_FS
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, uint64_t)
#endif

int guest_volume_resize_check(const char *root, const char *path, uint64_t size,
			      struct guest_resize *ret, agent_error_t **err)
{
	struct statfs st;

	if (!guest_path_below(root, path, NULL) || strlen(path) >= sizeof(ret->path))
		return agent_error_set_status(
			err, GRPC_INVALID_ARGUMENT, EINVAL,
			"volume_guest_path \"%.256s\": must be an absolute clean path below %s/",
			path, root);
	if (strlen(root) >= sizeof(ret->root))
		return agent_error_set(err, ENAMETOOLONG, "root %s", root);
	_cleanup_close_ int fd = guest_open_below(root, path, O_RDONLY | O_DIRECTORY, err);
	if (fd < 0)
		return fd;
	if (fstatfs(fd, &st) < 0)
		return agent_error_setsys(err, errno, "statfs %s", path);
	if (st.f_type != EXT4_MAGIC)
		return agent_error_set_status(err, GRPC_UNIMPLEMENTED, EOPNOTSUPP,
					      "%s: only ext4 volumes can be resized (filesystem "
					      "magic 0x%lx)",
					      path, (unsigned long)st.f_type);
	if (st.f_bsize <= 0 || size / (uint64_t)st.f_bsize == 0)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "size %llu: smaller than one block",
					      (unsigned long long)size);
	snprintf(ret->root, sizeof(ret->root), "%s", root);
	snprintf(ret->path, sizeof(ret->path), "%s", path);
	ret->block_size = (uint64_t)st.f_bsize;
	ret->new_blocks = size / (uint64_t)st.f_bsize;
	return 0;
}

int guest_volume_grow(const struct guest_resize *rz, agent_error_t **err)
{
	uint64_t blocks = rz->new_blocks;
	_cleanup_close_ int fd = guest_open_below(rz->root, rz->path, O_RDONLY | O_DIRECTORY, err);

	if (fd < 0)
		return fd;
	if (ioctl(fd, EXT4_IOC_RESIZE_FS, &blocks) < 0) {
		if (errno == EINVAL)
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "%s: ext4 cannot go to %llu blocks of %llu "
						      "bytes (a shrink, or past its disk)",
						      rz->path, (unsigned long long)rz->new_blocks,
						      (unsigned long long)rz->block_size);
		return agent_error_setsys(err, errno, "resizing %s", rz->path);
	}
	return 0;
}
