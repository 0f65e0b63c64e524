/* SPDX-License-Identifier: Apache-2.0 */
/* Swap (src/guest/swap.c) and volume usage (src/guest/volume.c). */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/swap.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "guest/guest.h"
#include "harness.h"
#include "rpc/status.h"

static bool in_proc_swaps(const char *path)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/swaps", "re");
	ASSERT_NOT_NULL(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, path, strlen(path)) == 0 && line[strlen(path)] == ' ')
			found = true;
	fclose(f);
	return found;
}

TEST(mkswap_then_swapon_a_file)
{
	char dir[64] = "/var/tmp/test-swap-XXXXXX", path[128];
	ASSERT_NOT_NULL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/swapfile", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT_GE(fd, 0);
	/* Swap files must not have holes: write the zeros. */
	static char zero[1 << 20];
	for (int i = 0; i < 16; i++)
		ASSERT_EQ(write(fd, zero, sizeof(zero)), (ssize_t)sizeof(zero));
	agent_error_t *err = NULL;
	if (guest_mkswap(fd, 16u << 20, &err) < 0)
		FAIL("%s", err->msg);
	close(fd);
	/* blkid, when present, recognises what we wrote. */
	if (access("/usr/sbin/blkid", X_OK) == 0 || access("/sbin/blkid", X_OK) == 0) {
		char cmd[256], out[64] = "";
		snprintf(cmd, sizeof(cmd), "blkid -p -o value -s TYPE %s", path);
		FILE *p = popen(cmd, "r");
		ASSERT_NOT_NULL(p);
		if (!fgets(out, sizeof(out), p))
			out[0] = '\0';
		pclose(p);
		ASSERT_STREQ(out, "swap\n");
	}
	/* Swap files live under /run/kata-containers: a private one, on this directory. */
	if (unshare(CLONE_NEWNS) < 0) {
		rm_rf(dir);
		SKIP("cannot make a mount namespace: %s", strerror(errno));
	}
	ASSERT_EQ(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ASSERT_EQ(mount("tmpfs", "/run", "tmpfs", 0, "mode=755"), 0);
	ASSERT_EQ(mkdir("/run/kata-containers", 0755), 0);
	ASSERT_EQ(mount(dir, "/run/kata-containers", NULL, MS_BIND, NULL), 0);
	snprintf(path, sizeof(path), "/run/kata-containers/swapfile");
	int r = guest_swapon(path, &err);
	if (r < 0) {
		rm_rf(dir);
		if (r == -EINVAL || r == -EPERM || r == -ENOSYS)
			SKIP("swapon refused here: %s", err->msg);
		FAIL("%s", err->msg);
	}
	bool active = in_proc_swaps(path);
	ASSERT_EQ(swapoff(path), 0);
	rm_rf(dir);
	ASSERT_TRUE(active);
}

TEST(swap_input_is_checked)
{
	agent_error_t *err = NULL;
	ASSERT_EQ(guest_swapon("relative/file", &err), -EINVAL);
	ASSERT_EQ(rpc_status_from_error(err), GRPC_INVALID_ARGUMENT);
	err = agent_error_free(err);
	ASSERT_EQ(guest_swapon("/a/../etc/shadow", &err), -EINVAL);
	err = agent_error_free(err);
	/* Only a block device under /dev or a file under /run/kata-containers. */
	ASSERT_EQ(guest_swapon("/etc/passwd", &err), -EINVAL);
	ASSERT_EQ(rpc_status_from_error(err), GRPC_INVALID_ARGUMENT);
	err = agent_error_free(err);
	ASSERT_EQ(guest_swapon("/var/tmp/swapfile", &err), -EINVAL);
	err = agent_error_free(err);
	/* Not a swap area: swapon refuses, and says so. */
	ASSERT_TRUE(guest_swapon("/dev/null", &err) < 0);
	ASSERT_TRUE(strstr(err->msg, "swapon /dev/null"));
	err = agent_error_free(err);
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ASSERT_EQ(guest_mkswap(fd, 4096, &err), -EINVAL);
	close(fd);
	agent_error_free(err);
}

TEST(volume_stats_match_statvfs)
{
	char top[64] = "/tmp/test-vol-XXXXXX", path[128];
	struct guest_volume_usage u;
	struct statvfs sv;
	agent_error_t *err = NULL;
	ASSERT_NOT_NULL(mkdtemp(top));
	snprintf(path, sizeof(path), "%s/vol", top);
	ASSERT_EQ(mkdir(path, 0755), 0);
	ASSERT_EQ(guest_volume_stats(top, path, &u, &err), 0);
	ASSERT_EQ(statvfs(path, &sv), 0);
	ASSERT_EQ(u.bytes_total, (uint64_t)sv.f_blocks * sv.f_frsize);
	ASSERT_EQ(u.inodes_total, sv.f_files);
	ASSERT_EQ(u.bytes_used, u.bytes_total - u.bytes_available);
	ASSERT_EQ(u.inodes_used, u.inodes_total - u.inodes_available);
	ASSERT_TRUE(u.bytes_available > 0 && u.bytes_available <= u.bytes_total);
	/* Outside the root, "..", missing. */
	ASSERT_EQ(guest_volume_stats(top, "/etc", &u, &err), -EINVAL);
	ASSERT_EQ(rpc_status_from_error(err), GRPC_INVALID_ARGUMENT);
	err = agent_error_free(err);
	snprintf(path, sizeof(path), "%s/../etc", top);
	ASSERT_EQ(guest_volume_stats(top, path, &u, &err), -EINVAL);
	err = agent_error_free(err);
	snprintf(path, sizeof(path), "%s/missing", top);
	ASSERT_EQ(guest_volume_stats(top, path, &u, &err), -ENOENT);
	err = agent_error_free(err);
	/* A symlink on the way is not followed, wherever it points. */
	snprintf(path, sizeof(path), "%s/rootlink", top);
	ASSERT_EQ(symlink("/", path), 0);
	snprintf(path, sizeof(path), "%s/rootlink/tmp", top);
	ASSERT_TRUE(guest_volume_stats(top, path, &u, &err) < 0);
	ASSERT_EQ(rpc_status_from_error(err), GRPC_INVALID_ARGUMENT);
	err = agent_error_free(err);
	snprintf(path, sizeof(path), "%s/rootlink", top);
	ASSERT_TRUE(guest_volume_stats(top, path, &u, &err) < 0);
	err = agent_error_free(err);
	struct guest_resize rz;
	snprintf(path, sizeof(path), "%s/rootlink/tmp", top);
	ASSERT_TRUE(guest_volume_resize_check(top, path, 1 << 20, &rz, &err) < 0);
	ASSERT_EQ(rpc_status_from_error(err), GRPC_INVALID_ARGUMENT);
	agent_error_free(err);
	rm_rf(top);
}
