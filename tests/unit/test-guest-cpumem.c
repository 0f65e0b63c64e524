/* SPDX-License-Identifier: Apache-2.0 */
/* OnlineCPUMem on a sysfs-shaped tree (src/guest/cpumem.c), and the real one read-only. */
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

static void put(const char *top, const char *rel, const char *text)
{
	char path[256], dir[256];
	snprintf(path, sizeof(path), "%s/%s", top, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	ASSERT_EQ(mkdir_p(dir, 0755), 0);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void expect(const char *top, const char *rel, const char *text)
{
	char path[256], buf[64] = "";
	snprintf(path, sizeof(path), "%s/%s", top, rel);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_TRUE(read(fd, buf, sizeof(buf) - 1) >= 0);
	close(fd);
	ASSERT_STREQ(buf, text);
}

TEST(cpu_list_count)
{
	ASSERT_EQ(guest_cpu_list_count(""), 0);
	ASSERT_EQ(guest_cpu_list_count("0"), 1);
	ASSERT_EQ(guest_cpu_list_count("0-3"), 4);
	ASSERT_EQ(guest_cpu_list_count("0-1,4,6-7"), 5);
	ASSERT_EQ(guest_cpu_list_count("3-1"), -EINVAL);
	ASSERT_EQ(guest_cpu_list_count("a"), -EINVAL);
	ASSERT_EQ(guest_cpu_list_count("0,"), -EINVAL);
	ASSERT_EQ(guest_cpu_list_count("0-999999999"), -EINVAL);
}

/* The rounds the agent spaces on its loop, here back to back. */
static int online_cpus(const char *top, uint32_t want, agent_error_t **err)
{
	struct guest_cpu_online st = {.want = want};
	int r;
	while ((r = guest_online_cpus_round(top, &st, err)) == 0)
		;
	return r < 0 ? r : 0;
}

TEST(online_cpus_up_to_the_wanted_total)
{
	char top[64] = "/tmp/test-cpu-XXXXXX";
	agent_error_t *err = NULL;
	ASSERT_NOT_NULL(mkdtemp(top));
	ASSERT_EQ(mkdir_p(top, 0755), 0);
	char cpu0[128];
	snprintf(cpu0, sizeof(cpu0), "%s/cpu0", top);
	ASSERT_EQ(mkdir(cpu0, 0755), 0); /* no "online" file: always online */
	put(top, "cpu1/online", "1\n");
	put(top, "cpu2/online", "0\n");
	put(top, "cpu3/online", "0\n");
	put(top, "cpu4/online", "0\n");
	put(top, "cpufreq/online", "0\n"); /* not a cpuN directory */
	ASSERT_EQ(online_cpus(top, 0, &err), 0);
	ASSERT_EQ(online_cpus(top, 2, &err), 0);
	expect(top, "cpu2/online", "0\n");
	/* Two more: exactly two of the three offline ones. */
	ASSERT_EQ(online_cpus(top, 4, &err), 0);
	int now_on = 0;
	for (int i = 2; i <= 4; i++) {
		char rel[32], path[128], v[4] = "";
		snprintf(rel, sizeof(rel), "cpu%d/online", i);
		snprintf(path, sizeof(path), "%s/%s", top, rel);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ASSERT_TRUE(read(fd, v, 1) == 1);
		close(fd);
		now_on += v[0] == '1';
	}
	ASSERT_EQ(now_on, 2);
	expect(top, "cpufreq/online", "0\n");
	ASSERT_EQ(online_cpus(top, 9000, &err), -EINVAL);
	ASSERT_EQ(rpc_status_from_error(err), GRPC_INVALID_ARGUMENT);
	err = agent_error_free(err);
	rm_rf(top);
}

TEST_TIMEOUT(online_cpus_gives_up_after_its_retries, 20)
{
	char top[64] = "/tmp/test-cpu-XXXXXX";
	agent_error_t *err = NULL;
	ASSERT_NOT_NULL(mkdtemp(top));
	put(top, "cpu0/online", "1\n");
	put(top, "cpu1/online", "0\n");
	struct guest_cpu_online st = {.want = 3};
	int rounds = 0, r;
	while ((r = guest_online_cpus_round(top, &st, &err)) == 0)
		rounds++;
	ASSERT_TRUE(r < 0);
	ASSERT_EQ(rounds, GUEST_ONLINE_ROUNDS);
	ASSERT_TRUE(strstr(err->msg, "failed to online 1 CPU(s) after 100 retries"));
	agent_error_free(err);
	expect(top, "cpu1/online", "1");
	rm_rf(top);
}

TEST(online_memory_blocks)
{
	char top[64] = "/tmp/test-mem-XXXXXX";
	unsigned n = 0;
	agent_error_t *err = NULL;
	ASSERT_NOT_NULL(mkdtemp(top));
	put(top, "memory0/state", "online\n");
	put(top, "memory1/state", "offline\n");
	put(top, "memory7/state", "offline\n");
	put(top, "block_size_bytes", "8000000\n");
	ASSERT_EQ(guest_online_memory(top, &n, &err), 0);
	ASSERT_EQ(n, 2);
	expect(top, "memory0/state", "online\n");
	expect(top, "memory1/state", "online");
	expect(top, "memory7/state", "online");
	ASSERT_EQ(guest_online_memory(top, &n, &err), 0);
	ASSERT_EQ(n, 0);
	/* A "state" that cannot be read as a file is not an offline block: skipped. */
	put(top, "memory9/state", "offline\n");
	char path[128];
	snprintf(path, sizeof(path), "%s/memory9/state", top);
	ASSERT_EQ(unlink(path), 0);
	ASSERT_EQ(mkdir(path, 0755), 0);
	ASSERT_EQ(guest_online_memory(top, &n, &err), 0);
	ASSERT_EQ(n, 0);
	rm_rf(top);
}

TEST(this_machine_already_has_its_cpus_online)
{
	char list[256] = "";
	agent_error_t *err = NULL;
	int fd = open(GUEST_SYSFS_CPU "/online", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		SKIP("no %s/online", GUEST_SYSFS_CPU);
	ASSERT_TRUE(read(fd, list, sizeof(list) - 1) > 0);
	close(fd);
	list[strcspn(list, "\n")] = '\0';
	int n = guest_cpu_list_count(list);
	ASSERT_TRUE(n >= 1);
	/* Asking for what is online writes nothing and succeeds at once. */
	ASSERT_EQ(online_cpus(GUEST_SYSFS_CPU, (uint32_t)n, &err), 0);
}
