/* SPDX-License-Identifier: Apache-2.0 */
/* GetVolumeStats: usage of a direct-assigned volume's filesystem, by statfs. */
#include <errno.h>
#include <fcntl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "guest/guest.h"
#include "rpc/status.h"

int guest_volume_stats(const char *root, const char *path, struct guest_volume_usage *ret,
		       agent_error_t **err)
{
	struct statfs st;

	if (!guest_path_below(root, path, NULL))
		return agent_error_set_status(
			err, GRPC_INVALID_ARGUMENT, EINVAL,
			"volume_guest_path \"%.256s\": must be an absolute clean path below %s/",
			path, root);
	_cleanup_close_ int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return agent_error_setsys(err, errno, "open %s", path);
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
