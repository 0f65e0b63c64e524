/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GetVolumeStats: usage of a direct-assigned volume's filesystem, by statfs of
 * the path resolved below its root with no symlink on the way.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/pathres.h"
#include "guest/guest.h"
#include "base/status.h"

int guest_volume_stats(const char *root, const char *path, struct guest_volume_usage *ret,
		       agent_error_t **err)
{
	struct statfs st;

	if (!guest_path_below(root, path, NULL))
		return agent_error_set_status(
			err, GRPC_INVALID_ARGUMENT, EINVAL,
			"volume_guest_path \"%.256s\": must be an absolute clean path below %s/",
			path, root);
	_cleanup_close_ int fd = guest_open_below(root, path, O_PATH, err);
	if (fd < 0)
		return fd;
	if (fstatfs(fd, &st) < 0)
		return agent_error_setsys(err, errno, "statfs %s", path);
	uint64_t bs = (uint64_t)st.f_bsize;
	ret->bytes_total = (uint64_t)st.f_blocks * bs;
	ret->bytes_available = (uint64_t)st.f_bfree * bs;
	ret->bytes_used = ret->bytes_total - ret->bytes_available;
	ret->inodes_total = (uint64_t)st.f_files;
	ret->inodes_available = (uint64_t)st.f_ffree;
	ret->inodes_used = ret->inodes_total - ret->inodes_available;
	return 0;
}

int guest_open_below(const char *root, const char *path, int oflags, agent_error_t **err)
{
	int fd = pathres_open_under(root, path, oflags);

	if (fd == -ELOOP || fd == -ENOTDIR || fd == -EXDEV)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, -fd,
					      "\"%.256s\": a symlink or a non-directory on the "
					      "way below %s (symlinks are not followed)",
					      path, root);
	if (fd < 0)
		return agent_error_setsys(err, -fd, "open %s", path);
	return fd;
}
