/* SPDX-License-Identifier: Apache-2.0 */
/* Clock, entropy and memory-hotplug details (src/guest/guest-{time,random,details}.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "guest/guest.h"
#include "harness.h"
#include "rpc/status.h"

static void make_dir(char *buf, size_t size)
{
	snprintf(buf, size, "/tmp/test-guest-XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(buf));
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

TEST(set_time_rejects_out_of_range_values)
{
	static const int64_t bad[][2] = {
		{-1, 0}, {0, -1}, {0, 1000000}, {253402300800ll, 0}, {INT64_MAX, 0}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		agent_error_t *err = NULL;
		ASSERT_EQ(guest_set_time(bad[i][0], bad[i][1], &err), -EINVAL);
		ASSERT_EQ(rpc_status_from_error(err), GRPC_INVALID_ARGUMENT);
		ASSERT_TRUE(strstr(err->msg, bad[i][0] == -1 || bad[i][0] > 1 ? "Sec" : "Usec"));
		agent_error_free(err);
	}
}

TEST(reseed_random_writes_and_reseeds)
{
	unsigned char data[512];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + 3);
	agent_error_t *err = NULL;
	int r = guest_reseed_random("/dev/random", data, sizeof(data), &err);
	if (r < 0)
		FAIL("%s", err->msg);
}

TEST(reseed_random_validates_data)
{
	static unsigned char big[GUEST_RANDOM_MAX_DATA + 1];
	agent_error_t *err = NULL;
	ASSERT_EQ(guest_reseed_random("/dev/random", NULL, 0, &err), -EINVAL);
	ASSERT_EQ(rpc_status_from_error(err), GRPC_INVALID_ARGUMENT);
	ASSERT_TRUE(strstr(err->msg, "missing entropy data"));
	err = agent_error_free(err);
	ASSERT_EQ(guest_reseed_random("/dev/random", big, sizeof(big), &err), -EINVAL);
	ASSERT_TRUE(strstr(err->msg, "data:"));
	err = agent_error_free(err);
	/* A file that is not the random device refuses the ioctls: an error, not a pass. */
	char dir[64], path[128];
	make_dir(dir, sizeof(dir));
	put(dir, "notrandom", "");
	snprintf(path, sizeof(path), "%s/notrandom", dir);
	ASSERT_TRUE(guest_reseed_random(path, "abc", 3, &err) < 0);
	ASSERT_TRUE(strstr(err->msg, "RNDADDTOENTCNT"));
	agent_error_free(err);
	rm_rf(dir);
}

TEST(mem_block_size_parses_hex)
{
	char dir[64];
	uint64_t v = 1;
	agent_error_t *err = NULL;
	make_dir(dir, sizeof(dir));
	ASSERT_EQ(guest_mem_block_size(dir, &v, &err), 0); /* missing: 0 */
	ASSERT_EQ(v, 0);
	put(dir, "block_size_bytes", "8000000\n");
	ASSERT_EQ(guest_mem_block_size(dir, &v, &err), 0);
	ASSERT_EQ(v, 128u << 20);
	static const char *const bad[] = {"", "\n", "xyz\n", "12 34\n", "-1\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(dir, "block_size_bytes", bad[i]);
		v = 7;
		ASSERT_TRUE(guest_mem_block_size(dir, &v, &err) < 0);
		ASSERT_TRUE(strstr(err->msg, "Invalid block size"));
		ASSERT_EQ(v, 7);
		err = agent_error_free(err);
	}
	rm_rf(dir);
}

TEST(mem_block_size_of_this_machine)
{
	uint64_t v = 0;
	agent_error_t *err = NULL;
	if (access(GUEST_SYSFS_MEMORY "/block_size_bytes", R_OK) < 0)
		SKIP("no %s/block_size_bytes here", GUEST_SYSFS_MEMORY);
	ASSERT_EQ(guest_mem_block_size(GUEST_SYSFS_MEMORY, &v, &err), 0);
	ASSERT_TRUE(v >= 4096 && (v & (v - 1)) == 0);
}

TEST(mem_probe_detection_and_writes)
{
	char dir[64], path[128], buf[128] = "";
	bool probe = true;
	agent_error_t *err = NULL;
	make_dir(dir, sizeof(dir));
	ASSERT_EQ(guest_mem_probe_supported(dir, &probe, &err), 0);
	ASSERT_FALSE(probe);
	put(dir, "probe", "");
	ASSERT_EQ(guest_mem_probe_supported(dir, &probe, &err), 0);
	ASSERT_TRUE(probe);
	/* A regular file keeps only the last write: each address is written on its own. */
	uint64_t addrs[] = {0x1000, 0xabcdef0000ull};
	ASSERT_EQ(guest_mem_probe(dir, addrs, 2, &err), 0);
	snprintf(path, sizeof(path), "%s/probe", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_TRUE(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	ASSERT_STREQ(buf, "0xABCDEF0000");
	/* Missing probe file: the first write fails and says so. */
	unlink(path);
	ASSERT_TRUE(guest_mem_probe(dir, addrs, 2, &err) < 0);
	ASSERT_TRUE(strstr(err->msg, "probe"));
	err = agent_error_free(err);
	ASSERT_EQ(guest_mem_probe(dir, addrs, GUEST_MAX_PROBE_ADDRS + 1, &err), -EINVAL);
	agent_error_free(err);
	rm_rf(dir);
}
