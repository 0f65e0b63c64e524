/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cgroups on this machine's real kernel, as root. v1 tests use the host's v1
 * controller mounts; v2 tests run in a private mount namespace with cgroup2
 * mounted on /sys/fs/cgroup. Every test makes its own "/agent-unit-<pid>-<name>".
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgroups.h"
#include "cgroups/internal.h"
#include "harness.h"

#define MiB (1024LL * 1024LL)

static char *test_path(const char *name)
{
	static char buf[128];
	snprintf(buf, sizeof(buf), "/agent-unit-%d-%s", (int)getpid(), name);
	return buf;
}

static bool exists(const char *a, const char *b)
{
	char p[512];
	snprintf(p, sizeof(p), "%s%s", a, b);
	return access(p, F_OK) == 0;
}

/* Reads "<dir><path>/<file>" into buf, trimmed of the trailing newline. */
static char *readf(const char *mnt, const char *path, const char *file)
{
	static char buf[4096];
	char p[512];
	snprintf(p, sizeof(p), "%s%s/%s", mnt, path, file);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		FAIL("open %s: %s", p, strerror(errno));
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		FAIL("read %s: %s", p, strerror(errno));
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return buf;
}

static bool contains_pid(const char *text, pid_t pid)
{
	char want[32];
	snprintf(want, sizeof(want), "%d", (int)pid);
	for (const char *l = text; l && *l;) {
		size_t n = strcspn(l, "\n");
		if (n == strlen(want) && strncmp(l, want, n) == 0)
			return true;
		l += n;
		if (*l)
			l++;
	}
	return false;
}

static struct cgroup_manager *v1(void)
{
	struct cgroup_manager *m = NULL;
	agent_error_t *err = NULL;
	if (access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) != 0)
		SKIP("no cgroup v1 memory hierarchy at /sys/fs/cgroup/memory");
	if (cgroup_manager_new(false, &m, &err) < 0)
		FAIL("cgroup_manager_new: %s", err->msg);
	ASSERT_FALSE(cgroup_manager_is_v2(m));
	return m;
}

static struct cgroup *mk(struct cgroup_manager *m, const char *name)
{
	struct cgroup *cg = NULL;
	agent_error_t *err = NULL;
	if (cgroup_create(m, test_path(name), &cg, &err) < 0)
		FAIL("cgroup_create: %s", err->msg);
	return cg;
}

static void apply_ok(struct cgroup *cg, const Grpc__LinuxResources *res, bool update)
{
	agent_error_t *err = NULL;
	if (cgroup_apply(cg, res, update, &err) < 0)
		FAIL("cgroup_apply: %s", err->msg);
}

static void destroy(struct cgroup *cg)
{
	agent_error_t *err = NULL;
	if (cgroup_destroy(cg, &err) < 0)
		FAIL("cgroup_destroy: %s", err->msg);
	cgroup_free(cg);
}

/* A child that waits for a byte on fd, then runs fn. */
static pid_t spawn(void (*fn)(void), int *go)
{
	int p[2];
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		char c;
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(100);
		fn();
		_exit(0);
	}
	close(p[0]);
	*go = p[1];
	return pid;
}

static void release(int go)
{
	ASSERT_EQ(write(go, "x", 1), 1);
	close(go);
}

static void do_pause(void)
{
	for (;;)
		pause();
}

static void do_spin(void)
{
	for (volatile unsigned long i = 0;; i++)
		;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static unsigned long long cpu_ticks(pid_t pid)
{
	char p[64], buf[1024];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_TRUE(n > 0);
	buf[n] = '\0';
	char *s = strrchr(buf, ')');
	ASSERT_NOT_NULL(s);
	unsigned long long ut = 0, st = 0;
	/* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
	 * stime */
	ASSERT_EQ(sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st),
		  2);
	return ut + st;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* --- bad input ------------------------------------------------------------------------- */

static void expect_bad_path(struct cgroup_manager *m, const char *path)
{
	struct cgroup *cg = NULL;
	agent_error_t *err = NULL;
	ASSERT_EQ(cgroup_create(m, path, &cg, &err), -EINVAL);
	ASSERT_NULL(cg);
	ASSERT_EQ(err->status, 3);
	agent_error_free(err);
}

TEST(bad_paths)
{
	struct cgroup_manager *m = v1();
	char longp[2100];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	expect_bad_path(m, "agent-unit-relative");
	expect_bad_path(m, "");
	expect_bad_path(m, "/");
	expect_bad_path(m, "/agent-unit-x/../escape");
	expect_bad_path(m, "/..");
	expect_bad_path(m, longp);
	ASSERT_FALSE(exists("/sys/fs/cgroup/memory", "/escape"));
	ASSERT_FALSE(exists("/sys/fs/cgroup/memory", "/agent-unit-x"));
	ASSERT_FALSE(exists("/sys/fs/cgroup/memory", "/agent-unit-relative"));
	cgroup_manager_free(m);
}

TEST(bad_resources_write_nothing)
{
	struct cgroup_manager *m = v1();
	struct cgroup *cg = mk(m, "badres");
	const char *p = cgroup_path(cg);
	char before[64];
	snprintf(before, sizeof(before), "%s",
		 readf("/sys/fs/cgroup/memory", p, "memory.limit_in_bytes"));

	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxMemory mem = GRPC__LINUX_MEMORY__INIT;
	Grpc__LinuxDeviceCgroup dev = GRPC__LINUX_DEVICE_CGROUP__INIT;
	Grpc__LinuxDeviceCgroup *devs[] = {&dev};
	agent_error_t *err = NULL;

	res.memory = &mem;
	mem.limit = 32 * MiB;
	mem.swappiness = 101;
	ASSERT_EQ(cgroup_resources_validate(&res, &err), -EINVAL);
	ASSERT_EQ(err->status, 3);
	err = agent_error_free(err);
	ASSERT_EQ(cgroup_apply(cg, &res, false, &err), -EINVAL);
	err = agent_error_free(err);
	ASSERT_STREQ(readf("/sys/fs/cgroup/memory", p, "memory.limit_in_bytes"), before);

	mem.swappiness = 0;
	dev.type = "x";
	dev.access = "rwm";
	res.n_devices = 1;
	res.devices = devs;
	ASSERT_EQ(cgroup_apply(cg, &res, true, &err), -EINVAL);
	ASSERT_EQ(err->status, 3);
	err = agent_error_free(err);
	dev.type = "c";
	dev.access = "rwq";
	ASSERT_EQ(cgroup_apply(cg, &res, true, &err), -EINVAL);
	err = agent_error_free(err);
	ASSERT_STREQ(readf("/sys/fs/cgroup/memory", p, "memory.limit_in_bytes"), before);
	destroy(cg);
	cgroup_manager_free(m);
}

/* --- v1 --------------------------------------------------------------------------------- */

TEST(v1_create_destroy)
{
	struct cgroup_manager *m = v1();
	struct cgroup *cg = mk(m, "cd/nested");
	char p[128];
	snprintf(p, sizeof(p), "%s", cgroup_path(cg));
	static const char *const mnts[] = {"/sys/fs/cgroup/memory",  "/sys/fs/cgroup/pids",
					   "/sys/fs/cgroup/cpu",     "/sys/fs/cgroup/freezer",
					   "/sys/fs/cgroup/devices", "/sys/fs/cgroup/cpuset"};
	for (size_t i = 0; i < 6; i++)
		ASSERT_TRUE(exists(mnts[i], p));
	/* The new cpuset got cpus and mems from its parent. */
	ASSERT_TRUE(readf("/sys/fs/cgroup/cpuset", p, "cpuset.cpus")[0] != '\0');
	/* An existing directory is reused. */
	struct cgroup *again = mk(m, "cd/nested");
	cgroup_free(again);
	destroy(cg);
	for (size_t i = 0; i < 6; i++)
		ASSERT_FALSE(exists(mnts[i], p));
	/* Only the leaf is ours to remove; the parent stays. */
	struct cgroup *parent = mk(m, "cd");
	destroy(parent);
	ASSERT_FALSE(exists("/sys/fs/cgroup/memory", test_path("cd")));
	cgroup_manager_free(m);
}

TEST(v1_memory_limit)
{
	struct cgroup_manager *m = v1();
	struct cgroup *cg = mk(m, "mem");
	const char *p = cgroup_path(cg);
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxMemory mem = GRPC__LINUX_MEMORY__INIT;
	res.memory = &mem;
	mem.limit = 64 * MiB;
	mem.swap = 96 * MiB;
	mem.reservation = 32 * MiB;
	mem.swappiness = 10;
	apply_ok(cg, &res, false);
	ASSERT_EQ(atoll(readf("/sys/fs/cgroup/memory", p, "memory.limit_in_bytes")), 64 * MiB);
	ASSERT_EQ(atoll(readf("/sys/fs/cgroup/memory", p, "memory.memsw.limit_in_bytes")),
		  96 * MiB);
	ASSERT_EQ(atoll(readf("/sys/fs/cgroup/memory", p, "memory.soft_limit_in_bytes")), 32 * MiB);
	ASSERT_EQ(atoll(readf("/sys/fs/cgroup/memory", p, "memory.swappiness")), 10);

	/* Lower both: the limit must go down before memsw. */
	mem.limit = 16 * MiB;
	mem.swap = 16 * MiB;
	mem.reservation = 0;
	mem.swappiness = 0;
	apply_ok(cg, &res, true);
	ASSERT_EQ(atoll(readf("/sys/fs/cgroup/memory", p, "memory.limit_in_bytes")), 16 * MiB);
	ASSERT_EQ(atoll(readf("/sys/fs/cgroup/memory", p, "memory.memsw.limit_in_bytes")),
		  16 * MiB);
	/* Raise both: memsw must go up first. */
	mem.limit = 200 * MiB;
	mem.swap = 300 * MiB;
	apply_ok(cg, &res, true);
	ASSERT_EQ(atoll(readf("/sys/fs/cgroup/memory", p, "memory.limit_in_bytes")), 200 * MiB);
	ASSERT_EQ(atoll(readf("/sys/fs/cgroup/memory", p, "memory.memsw.limit_in_bytes")),
		  300 * MiB);
	ASSERT_EQ(atoll(readf("/sys/fs/cgroup/memory", p, "memory.soft_limit_in_bytes")), 32 * MiB);
	destroy(cg);
	cgroup_manager_free(m);
}

TEST(v1_pids_max)
{
	struct cgroup_manager *m = v1();
	struct cgroup *cg = mk(m, "pids");
	const char *p = cgroup_path(cg);
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxPids pids = GRPC__LINUX_PIDS__INIT;

	/* Absent at create: max. */
	apply_ok(cg, &res, false);
	ASSERT_STREQ(readf("/sys/fs/cgroup/pids", p, "pids.max"), "max");
	res.pids = &pids;
	pids.limit = 42;
	apply_ok(cg, &res, true);
	ASSERT_STREQ(readf("/sys/fs/cgroup/pids", p, "pids.max"), "42");
	pids.limit = -1;
	apply_ok(cg, &res, true);
	ASSERT_STREQ(readf("/sys/fs/cgroup/pids", p, "pids.max"), "max");
	destroy(cg);
	cgroup_manager_free(m);
}

TEST(v1_cpu_and_cpuset)
{
	struct cgroup_manager *m = v1();
	struct cgroup *cg = mk(m, "cpu");
	const char *p = cgroup_path(cg);
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxCPU cpu = GRPC__LINUX_CPU__INIT;
	res.cpu = &cpu;
	cpu.shares = 512;
	cpu.quota = 50000;
	cpu.period = 200000;
	cpu.cpus = "0";
	cpu.mems = "0";
	apply_ok(cg, &res, false);
	ASSERT_STREQ(readf("/sys/fs/cgroup/cpu", p, "cpu.shares"), "512");
	ASSERT_STREQ(readf("/sys/fs/cgroup/cpu", p, "cpu.cfs_quota_us"), "50000");
	ASSERT_STREQ(readf("/sys/fs/cgroup/cpu", p, "cpu.cfs_period_us"), "200000");
	ASSERT_STREQ(readf("/sys/fs/cgroup/cpuset", p, "cpuset.cpus"), "0");
	ASSERT_STREQ(readf("/sys/fs/cgroup/cpuset", p, "cpuset.mems"), "0");
	destroy(cg);
	cgroup_manager_free(m);
}

TEST(v1_update_changes_only_what_is_set)
{
	struct cgroup_manager *m = v1();
	struct cgroup *cg = mk(m, "upd");
	const char *p = cgroup_path(cg);
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxMemory mem = GRPC__LINUX_MEMORY__INIT;
	Grpc__LinuxCPU cpu = GRPC__LINUX_CPU__INIT;
	Grpc__LinuxPids pids = GRPC__LINUX_PIDS__INIT;
	res.memory = &mem;
	res.cpu = &cpu;
	res.pids = &pids;
	mem.limit = 48 * MiB;
	cpu.shares = 300;
	cpu.quota = 30000;
	pids.limit = 10;
	apply_ok(cg, &res, false);

	Grpc__LinuxResources upd = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxCPU cpu2 = GRPC__LINUX_CPU__INIT;
	upd.cpu = &cpu2;
	cpu2.shares = 700;
	apply_ok(cg, &upd, true);
	ASSERT_STREQ(readf("/sys/fs/cgroup/cpu", p, "cpu.shares"), "700");
	ASSERT_STREQ(readf("/sys/fs/cgroup/cpu", p, "cpu.cfs_quota_us"), "30000");
	ASSERT_EQ(atoll(readf("/sys/fs/cgroup/memory", p, "memory.limit_in_bytes")), 48 * MiB);
	ASSERT_STREQ(readf("/sys/fs/cgroup/pids", p, "pids.max"), "10");
	/* No resources at all: nothing changes. */
	apply_ok(cg, NULL, true);
	ASSERT_STREQ(readf("/sys/fs/cgroup/pids", p, "pids.max"), "10");
	destroy(cg);
	cgroup_manager_free(m);
}

TEST(v1_add_pid)
{
	struct cgroup_manager *m = v1();
	struct cgroup *cg = mk(m, "addpid");
	agent_error_t *err = NULL;
	int go;
	pid_t pid = spawn(do_pause, &go);
	if (cgroup_add_pid(cg, pid, &err) < 0)
		FAIL("add_pid: %s", err->msg);
	ASSERT_TRUE(
		contains_pid(readf("/sys/fs/cgroup/memory", cgroup_path(cg), "cgroup.procs"), pid));
	ASSERT_TRUE(contains_pid(readf("/sys/fs/cgroup/freezer", cgroup_path(cg), "cgroup.procs"),
				 pid));
	ASSERT_TRUE(
		contains_pid(readf("/sys/fs/cgroup/cpuset", cgroup_path(cg), "cgroup.procs"), pid));
	close(go);
	reap(pid);
	destroy(cg);
	cgroup_manager_free(m);
}

static void check_freeze(struct cgroup *cg, const char *state_mnt)
{
	agent_error_t *err = NULL;
	int go;
	pid_t pid = spawn(do_spin, &go);
	if (cgroup_add_pid(cg, pid, &err) < 0)
		FAIL("add_pid: %s", err->msg);
	release(go);
	sleep_ms(100);
	if (cgroup_freeze(cg, true, &err) < 0)
		FAIL("freeze: %s", err->msg);
	if (state_mnt)
		ASSERT_STREQ(readf(state_mnt, cgroup_path(cg), "freezer.state"), "FROZEN");
	unsigned long long a = cpu_ticks(pid);
	sleep_ms(300);
	unsigned long long b = cpu_ticks(pid);
	ASSERT_EQ(a, b);
	if (cgroup_freeze(cg, false, &err) < 0)
		FAIL("thaw: %s", err->msg);
	sleep_ms(300);
	ASSERT_TRUE(cpu_ticks(pid) > b);
	reap(pid);
}

TEST(v1_freeze_thaw)
{
	struct cgroup_manager *m = v1();
	struct cgroup *cg = mk(m, "freeze");
	check_freeze(cg, "/sys/fs/cgroup/freezer");
	destroy(cg);
	cgroup_manager_free(m);
}

static int gc_pipe[2];

static void do_fork_grandchild(void)
{
	pid_t g = fork();
	if (g == 0)
		do_pause();
	if (write(gc_pipe[1], &g, sizeof(g)) != sizeof(g))
		_exit(101);
	do_pause();
}

static void check_pids_and_signal(struct cgroup *cg)
{
	agent_error_t *err = NULL;
	int go;
	ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	ASSERT_EQ(pipe2(gc_pipe, O_CLOEXEC), 0);
	pid_t pid = spawn(do_fork_grandchild, &go);
	if (cgroup_add_pid(cg, pid, &err) < 0)
		FAIL("add_pid: %s", err->msg);
	release(go);
	pid_t g = 0;
	ASSERT_EQ(read(gc_pipe[0], &g, sizeof(g)), (ssize_t)sizeof(g));
	ASSERT_TRUE(g > 0);

	pid_t *pids = NULL;
	size_t n = 0;
	if (cgroup_pids(cg, &pids, &n, &err) < 0)
		FAIL("cgroup_pids: %s", err->msg);
	ASSERT_EQ(n, 2);
	ASSERT_TRUE((pids[0] == pid && pids[1] == g) || (pids[0] == g && pids[1] == pid));
	free(pids);

	if (cgroup_signal_all(cg, SIGKILL, &err) < 0)
		FAIL("signal_all: %s", err->msg);
	int st;
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	ASSERT_EQ(waitpid(g, &st, 0), g);
	ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

TEST(v1_pids_and_signal_all)
{
	struct cgroup_manager *m = v1();
	struct cgroup *cg = mk(m, "sig");
	check_pids_and_signal(cg);
	destroy(cg);
	cgroup_manager_free(m);
}

/* Child side of the device tests: exit code = bitmask of unexpected results. */
static const char *dev_node;
static bool dev_loop_allowed;

static void do_devices(void)
{
	int bad = 0;
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		bad |= 1;
	close(fd);
	fd = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (dev_loop_allowed ? fd < 0 : !(fd < 0 && errno == EPERM))
		bad |= 2;
	close(fd);
	fd = open(dev_node, O_RDONLY | O_CLOEXEC);
	if (!(fd < 0 && errno == EPERM))
		bad |= 4;
	close(fd);
	_exit(bad);
}

static int run_devices_child(struct cgroup *cg)
{
	agent_error_t *err = NULL;
	int go, st;
	pid_t pid = spawn(do_devices, &go);
	if (cgroup_add_pid(cg, pid, &err) < 0)
		FAIL("add_pid: %s", err->msg);
	release(go);
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	ASSERT_TRUE(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* A char node 1:11 (kmsg), not in the default whitelist, in a temp dir. */
static char *make_node(void)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/agent-unit-node-%d", (int)getpid());
	unlink(path);
	ASSERT_EQ(mknod(path, S_IFCHR | 0600, makedev(1, 11)), 0);
	return path;
}

static void check_devices(struct cgroup *cg)
{
	if (access("/dev/loop-control", F_OK) != 0)
		SKIP("no /dev/loop-control");
	dev_node = make_node();
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	apply_ok(cg, &res, false);
	dev_loop_allowed = false;
	ASSERT_EQ(run_devices_child(cg), 0);

	/* A spec rule allowing 10:237 (loop-control) after the defaults. */
	Grpc__LinuxDeviceCgroup dev = GRPC__LINUX_DEVICE_CGROUP__INIT;
	Grpc__LinuxDeviceCgroup *devs[] = {&dev};
	dev.allow = true;
	dev.type = "c";
	dev.major = 10;
	dev.minor = 237;
	dev.access = "rw";
	res.n_devices = 1;
	res.devices = devs;
	apply_ok(cg, &res, true);
	dev_loop_allowed = true;
	ASSERT_EQ(run_devices_child(cg), 0);
	unlink(dev_node);
}

TEST(v1_devices_whitelist)
{
	struct cgroup_manager *m = v1();
	struct cgroup *cg = mk(m, "dev");
	check_devices(cg);
	ASSERT_TRUE(strstr(readf("/sys/fs/cgroup/devices", cgroup_path(cg), "devices.list"),
			   "c 10:237 rw") != NULL);
	destroy(cg);
	cgroup_manager_free(m);
}

static void do_touch_memory(void)
{
	size_t len = 8 * MiB;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(1);
	memset(p, 1, len);
	do_pause();
}

TEST(v1_stats)
{
	struct cgroup_manager *m = v1();
	struct cgroup *cg = mk(m, "stats");
	agent_error_t *err = NULL;
	int go;
	pid_t pid = spawn(do_touch_memory, &go);
	if (cgroup_add_pid(cg, pid, &err) < 0)
		FAIL("add_pid: %s", err->msg);
	release(go);
	sleep_ms(200);

	Grpc__CgroupStats st = GRPC__CGROUP_STATS__INIT;
	if (cgroup_stats(cg, &st, &err) < 0)
		FAIL("stats: %s", err->msg);
	ASSERT_NOT_NULL(st.memory_stats);
	ASSERT_NOT_NULL(st.memory_stats->usage);
	ASSERT_GE(st.memory_stats->usage->usage, 8 * MiB);
	ASSERT_TRUE(st.memory_stats->n_stats > 0);
	ASSERT_NOT_NULL(st.pids_stats);
	ASSERT_EQ(st.pids_stats->current, 1);
	ASSERT_EQ(st.pids_stats->limit, 0);
	ASSERT_NOT_NULL(st.cpu_stats);
	ASSERT_NOT_NULL(st.cpu_stats->cpu_usage);
	ASSERT_TRUE(st.cpu_stats->cpu_usage->total_usage > 0);
	ASSERT_TRUE(st.cpu_stats->cpu_usage->n_percpu_usage >= 1);
	ASSERT_NOT_NULL(st.blkio_stats);
	cgroup_stats_clear(&st);
	ASSERT_NULL(st.memory_stats);
	reap(pid);
	destroy(cg);
	cgroup_manager_free(m);
}

static void do_hog(void)
{
	size_t len = 64 * MiB;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(1);
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	_exit(0);
}

static void check_oom_fires(struct cgroup *cg)
{
	agent_error_t *err = NULL;
	struct cgroup_oom *o = NULL;
	bool oom = false;
	int go, st;

	if (cgroup_oom_open(cg, &o, &err) < 0)
		FAIL("oom_open: %s", err->msg);
	ASSERT_EQ(cgroup_oom_check(o, &oom), 0);
	ASSERT_FALSE(oom);
	pid_t pid = spawn(do_hog, &go);
	if (cgroup_add_pid(cg, pid, &err) < 0)
		FAIL("add_pid: %s", err->msg);
	release(go);
	for (int i = 0; i < 100 && !oom; i++) {
		struct pollfd pfd = {.fd = cgroup_oom_fd(o), .events = POLLIN};
		if (poll(&pfd, 1, 100) == 1)
			ASSERT_EQ(cgroup_oom_check(o, &oom), 0);
	}
	ASSERT_TRUE(oom);
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	cgroup_oom_close(o);
}

TEST(v1_oom_event)
{
	struct cgroup_manager *m = v1();
	struct cgroup *cg = mk(m, "oom");
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxMemory mem = GRPC__LINUX_MEMORY__INIT;
	res.memory = &mem;
	mem.limit = 16 * MiB;
	mem.swap = 16 * MiB;
	apply_ok(cg, &res, false);
	check_oom_fires(cg);
	destroy(cg);
	cgroup_manager_free(m);
}

/* --- v2 (private cgroup2 mount) ------------------------------------------------------------ */

static struct cgroup_manager *v2(void)
{
	struct cgroup_manager *m = NULL;
	agent_error_t *err = NULL;
	if (unshare(CLONE_NEWNS) < 0)
		SKIP("unshare(CLONE_NEWNS): %s", strerror(errno));
	ASSERT_EQ(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	if (mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0)
		SKIP("cannot mount cgroup2: %s", strerror(errno));
	if (cgroup_manager_new(true, &m, &err) < 0)
		FAIL("cgroup_manager_new: %s", err->msg);
	ASSERT_TRUE(cgroup_manager_is_v2(m));
	return m;
}

static bool v2_has(const char *ctrl)
{
	char *s = readf("/sys/fs/cgroup", "", "cgroup.controllers");
	size_t n = strlen(ctrl);
	for (char *p = s; (p = strstr(p, ctrl)); p += n)
		if ((p == s || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

TEST(v2_create_destroy)
{
	struct cgroup_manager *m = v2();
	struct cgroup *cg = mk(m, "cd/leaf");
	ASSERT_TRUE(exists("/sys/fs/cgroup", cgroup_path(cg)));
	/* Available controllers were enabled down to the leaf's parent. */
	if (v2_has("hugetlb"))
		ASSERT_TRUE(strstr(readf("/sys/fs/cgroup", cgroup_path(cg), "cgroup.controllers"),
				   "hugetlb") != NULL);
	destroy(cg);
	ASSERT_FALSE(exists("/sys/fs/cgroup", test_path("cd/leaf")));
	cg = mk(m, "cd");
	destroy(cg);
	ASSERT_FALSE(exists("/sys/fs/cgroup", test_path("cd")));
	cgroup_manager_free(m);
}

TEST(v2_add_pid)
{
	struct cgroup_manager *m = v2();
	struct cgroup *cg = mk(m, "addpid");
	agent_error_t *err = NULL;
	int go;
	pid_t pid = spawn(do_pause, &go);
	if (cgroup_add_pid(cg, pid, &err) < 0)
		FAIL("add_pid: %s", err->msg);
	ASSERT_TRUE(contains_pid(readf("/sys/fs/cgroup", cgroup_path(cg), "cgroup.procs"), pid));
	close(go);
	reap(pid);
	destroy(cg);
	cgroup_manager_free(m);
}

TEST(v2_freeze_thaw)
{
	struct cgroup_manager *m = v2();
	struct cgroup *cg = mk(m, "freeze");
	check_freeze(cg, NULL);
	destroy(cg);
	cgroup_manager_free(m);
}

TEST(v2_pids_and_signal_all)
{
	struct cgroup_manager *m = v2();
	struct cgroup *cg = mk(m, "sig");
	check_pids_and_signal(cg);
	destroy(cg);
	cgroup_manager_free(m);
}

static int prog_count(const char *dir)
{
	union bpf_attr attr;
	uint32_t ids[16];
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (uint32_t)fd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
	attr.query.prog_cnt = 16;
	int r = (int)syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof(attr));
	close(fd);
	ASSERT_EQ(r, 0);
	return (int)attr.query.prog_cnt;
}

TEST(v2_devices_ebpf)
{
	struct cgroup_manager *m = v2();
	struct cgroup *cg = mk(m, "dev");
	char dir[256];
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup%s", cgroup_path(cg));
	check_devices(cg);
	/* The update replaced the program instead of stacking a second one. */
	ASSERT_EQ(prog_count(dir), 1);
	destroy(cg);
	cgroup_manager_free(m);
}

TEST(v2_device_rule_order)
{
	struct cgroup_manager *m = v2();
	struct cgroup *cg = mk(m, "devorder");
	if (access("/dev/loop-control", F_OK) != 0)
		SKIP("no /dev/loop-control");
	dev_node = make_node();
	/* allow all, then deny 10:237: the last matching rule wins. */
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxDeviceCgroup all = GRPC__LINUX_DEVICE_CGROUP__INIT;
	Grpc__LinuxDeviceCgroup deny = GRPC__LINUX_DEVICE_CGROUP__INIT;
	Grpc__LinuxDeviceCgroup deny_node = GRPC__LINUX_DEVICE_CGROUP__INIT;
	Grpc__LinuxDeviceCgroup *devs[] = {&all, &deny, &deny_node};
	all.allow = true;
	all.type = "a";
	all.access = "rwm";
	deny.type = "c";
	deny.major = 10;
	deny.minor = 237;
	deny.access = "rw";
	deny_node.type = "c";
	deny_node.major = 1;
	deny_node.minor = 11;
	deny_node.access = "r";
	res.n_devices = 3;
	res.devices = devs;
	apply_ok(cg, &res, false);
	dev_loop_allowed = false;
	ASSERT_EQ(run_devices_child(cg), 0);
	unlink(dev_node);
	destroy(cg);
	cgroup_manager_free(m);
}

TEST(v2_resources_need_controllers)
{
	struct cgroup_manager *m = v2();
	struct cgroup *cg = mk(m, "res");
	const char *p = cgroup_path(cg);
	agent_error_t *err = NULL;
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxMemory mem = GRPC__LINUX_MEMORY__INIT;
	res.memory = &mem;
	mem.limit = 32 * MiB;
	if (v2_has("memory")) {
		apply_ok(cg, &res, false);
		ASSERT_EQ(atoll(readf("/sys/fs/cgroup", p, "memory.max")), 32 * MiB);
	} else {
		/* A requested resource on a missing controller names it. */
		ASSERT_EQ(cgroup_apply(cg, &res, false, &err), -EOPNOTSUPP);
		ASSERT_TRUE(strstr(err->msg, "memory") != NULL);
		agent_error_free(err);
		/* Nothing requested: create-time defaults skip absent controllers. */
		apply_ok(cg, NULL, false);
	}
	destroy(cg);
	cgroup_manager_free(m);
	if (!v2_has("memory"))
		SKIP("memory controller not in cgroup.controllers (bound to v1 here)");
}

TEST(v2_cpu_pids)
{
	struct cgroup_manager *m = v2();
	if (!v2_has("cpu") || !v2_has("pids"))
		SKIP("cpu/pids controllers not in cgroup.controllers (bound to v1 here)");
	struct cgroup *cg = mk(m, "cpu");
	const char *p = cgroup_path(cg);
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxCPU cpu = GRPC__LINUX_CPU__INIT;
	Grpc__LinuxPids pids = GRPC__LINUX_PIDS__INIT;
	res.cpu = &cpu;
	res.pids = &pids;
	cpu.shares = 1024;
	cpu.quota = 50000;
	cpu.period = 100000;
	pids.limit = 7;
	apply_ok(cg, &res, false);
	ASSERT_STREQ(readf("/sys/fs/cgroup", p, "cpu.weight"), "39");
	ASSERT_STREQ(readf("/sys/fs/cgroup", p, "cpu.max"), "50000 100000");
	ASSERT_STREQ(readf("/sys/fs/cgroup", p, "pids.max"), "7");
	destroy(cg);
	cgroup_manager_free(m);
}

TEST(v2_hugetlb)
{
	struct cgroup_manager *m = v2();
	if (!v2_has("hugetlb"))
		SKIP("hugetlb controller not available on cgroup v2");
	if (access("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK) != 0)
		SKIP("no 2MB hugepage size");
	struct cgroup *cg = mk(m, "huge");
	const char *p = cgroup_path(cg);
	agent_error_t *err = NULL;
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxHugepageLimit h = GRPC__LINUX_HUGEPAGE_LIMIT__INIT;
	Grpc__LinuxHugepageLimit *hs[] = {&h};
	h.pagesize = "2MB";
	h.limit = 4 * MiB;
	res.n_hugepagelimits = 1;
	res.hugepagelimits = hs;
	apply_ok(cg, &res, false);
	ASSERT_EQ(atoll(readf("/sys/fs/cgroup", p, "hugetlb.2MB.max")), 4 * MiB);

	Grpc__CgroupStats st = GRPC__CGROUP_STATS__INIT;
	if (cgroup_stats(cg, &st, &err) < 0)
		FAIL("stats: %s", err->msg);
	ASSERT_NOT_NULL(st.cpu_stats);
	ASSERT_TRUE(st.n_hugetlb_stats >= 1);
	bool found = false;
	for (size_t i = 0; i < st.n_hugetlb_stats; i++)
		found |= strcmp(st.hugetlb_stats[i]->key, "2MB") == 0;
	ASSERT_TRUE(found);
	ASSERT_EQ(st.memory_stats == NULL, !v2_has("memory"));
	cgroup_stats_clear(&st);

	/* A page size that is no name at all is refused before anything is written. */
	h.pagesize = "../2MB";
	ASSERT_EQ(cgroup_apply(cg, &res, true, &err), -EINVAL);
	agent_error_free(err);
	destroy(cg);
	cgroup_manager_free(m);
}

TEST(v2_oom_needs_memory)
{
	struct cgroup_manager *m = v2();
	struct cgroup *cg = mk(m, "oom");
	agent_error_t *err = NULL;
	struct cgroup_oom *o = NULL;
	if (!v2_has("memory")) {
		ASSERT_EQ(cgroup_oom_open(cg, &o, &err), -EOPNOTSUPP);
		agent_error_free(err);
		destroy(cg);
		cgroup_manager_free(m);
		SKIP("memory controller not in cgroup.controllers (bound to v1 here)");
	}
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxMemory mem = GRPC__LINUX_MEMORY__INIT;
	res.memory = &mem;
	mem.limit = 16 * MiB;
	mem.swap = 16 * MiB;
	apply_ok(cg, &res, false);
	check_oom_fires(cg);
	destroy(cg);
	cgroup_manager_free(m);
}

static int count_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static void full_cycle(struct cgroup_manager *m)
{
	agent_error_t *err = NULL;
	struct cgroup *cg = mk(m, "fds");
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	apply_ok(cg, &res, false);
	apply_ok(cg, &res, false);
	Grpc__CgroupStats st = GRPC__CGROUP_STATS__INIT;
	if (cgroup_stats(cg, &st, &err) < 0)
		FAIL("stats: %s", err->msg);
	cgroup_stats_clear(&st);
	struct cgroup_oom *o = NULL;
	if (cgroup_oom_open(cg, &o, &err) == 0)
		cgroup_oom_close(o);
	err = agent_error_free(err);
	destroy(cg);
}

TEST(v1_no_fd_leak)
{
	struct cgroup_manager *m = v1();
	int before = count_fds();
	full_cycle(m);
	ASSERT_EQ(count_fds(), before);
	cgroup_manager_free(m);
}

TEST(v2_no_fd_leak)
{
	struct cgroup_manager *m = v2();
	int before = count_fds();
	full_cycle(m);
	ASSERT_EQ(count_fds(), before);
	cgroup_manager_free(m);
}

/* --- mountinfo discovery ---------------------------------------------------------------- */

#include "cgroups/internal.h"

TEST(mountinfo_combined_and_separate)
{
	char text[] = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
		      "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime shared:5 - cgroup cgroup "
		      "rw,cpu,cpuacct\n"
		      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
		      "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
		      "rw,xattr,name=systemd\n"
		      "41 31 0:38 / /mnt/other\\040v2 rw,relatime - cgroup2 cgroup2 rw\n"
		      "42 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
		      "43 31 0:38 / /somewhere rw,relatime - cgroup2 cgroup2 rw\n";
	char copy[sizeof(text)];
	struct cgroup_manager *m = NULL;
	agent_error_t *err = NULL;

	memcpy(copy, text, sizeof(text));
	ASSERT_EQ(cg_manager_from_mountinfo(copy, false, &m, &err), 0);
	ASSERT_STREQ(m->v1_mnt[CG_CPU], "/sys/fs/cgroup/cpu");
	ASSERT_STREQ(m->v1_mnt[CG_CPUACCT], "/sys/fs/cgroup/cpu");
	ASSERT_STREQ(m->v1_mnt[CG_MEMORY], "/sys/fs/cgroup/memory");
	ASSERT_NULL(m->v1_mnt[CG_PIDS]);
	ASSERT_NULL(m->v1_mnt[CG_FREEZER]);
	ASSERT_STREQ(m->unified, "/sys/fs/cgroup/unified");
	cgroup_manager_free(m);

	/* Without /sys/fs/cgroup(/unified), any cgroup2 mount; escapes decoded. */
	char v2only[] = "41 31 0:38 / /mnt/other\\040v2 rw,relatime - cgroup2 cgroup2 rw\n";
	ASSERT_EQ(cg_manager_from_mountinfo(v2only, true, &m, &err), 0);
	ASSERT_STREQ(m->unified, "/mnt/other v2");
	cgroup_manager_free(m);

	char none[] = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n";
	ASSERT_EQ(cg_manager_from_mountinfo(none, true, &m, &err), -ENOENT);
	agent_error_free(err);
}

/* A combined "cpu,cpuacct" hierarchy: one directory serves both controllers. */
TEST(v1_combined_hierarchy)
{
	if (access("/sys/fs/cgroup/cpu/cpu.shares", F_OK) != 0)
		SKIP("no cgroup v1 cpu hierarchy");
	char text[] = "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu,cpuacct\n";
	struct cgroup_manager *m = NULL;
	agent_error_t *err = NULL;
	ASSERT_EQ(cg_manager_from_mountinfo(text, false, &m, &err), 0);
	struct cgroup *cg = mk(m, "combined");
	ASSERT_TRUE(exists("/sys/fs/cgroup/cpu", cgroup_path(cg)));
	int go;
	pid_t pid = spawn(do_pause, &go);
	if (cgroup_add_pid(cg, pid, &err) < 0)
		FAIL("add_pid: %s", err->msg);
	ASSERT_TRUE(
		contains_pid(readf("/sys/fs/cgroup/cpu", cgroup_path(cg), "cgroup.procs"), pid));
	close(go);
	reap(pid);
	char p[128];
	snprintf(p, sizeof(p), "%s", cgroup_path(cg));
	destroy(cg);
	ASSERT_FALSE(exists("/sys/fs/cgroup/cpu", p));
	cgroup_manager_free(m);
}

/*
 * OnlineCPUMem: the parent of a container pinned to CPU 0 gets every online CPU; the
 * container keeps its pin, or gets a new request; a request that is no CPU list changes
 * nothing; online CPUs that are no list are refused.
 */
TEST(v1_cpuset_update_after_cpu_hotplug)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 2)
		SKIP("one CPU online: a pin cannot be told from a widened set");
	struct cgroup_manager *m = v1();
	char path[160], pdir[200];
	snprintf(path, sizeof(path), "%s/inner", test_path("widen"));
	snprintf(pdir, sizeof(pdir), "/sys/fs/cgroup/cpuset%s", test_path("widen"));
	struct cgroup *cg = NULL;
	agent_error_t *err = NULL;
	ASSERT_EQ(cgroup_create(m, path, &cg, &err), 0);
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxCPU cpu = GRPC__LINUX_CPU__INIT;
	res.cpu = &cpu;
	cpu.cpus = "0";
	apply_ok(cg, &res, false);
	/* The parent narrowed too, as a cgroup made when only CPU 0 was online would be. */
	ASSERT_EQ(cg_write(pdir, "cpuset.cpus", "0", &err), 0);
	char all[48], last[24];
	snprintf(all, sizeof(all), "0-%ld", n - 1);
	snprintf(last, sizeof(last), "%ld", n - 1);
	ASSERT_EQ(cgroup_cpuset_update(cg, all, "0", &err), 0);
	ASSERT_STREQ(readf("/sys/fs/cgroup/cpuset", test_path("widen"), "cpuset.cpus"), all);
	ASSERT_STREQ(readf("/sys/fs/cgroup/cpuset", path, "cpuset.cpus"), "0");
	ASSERT_EQ(cgroup_cpuset_update(cg, all, last, &err), 0);
	ASSERT_STREQ(readf("/sys/fs/cgroup/cpuset", path, "cpuset.cpus"), last);
	ASSERT_EQ(cgroup_cpuset_update(cg, all, "0-x", &err), 0);
	ASSERT_STREQ(readf("/sys/fs/cgroup/cpuset", path, "cpuset.cpus"), last);
	ASSERT_EQ(cgroup_cpuset_update(cg, "0-x", "0", &err), -EINVAL);
	agent_error_clear(&err);
	ASSERT_STREQ(readf("/sys/fs/cgroup/cpuset", path, "cpuset.cpus"), last);
	destroy(cg);
	static const char *const ctl[] = {"cpu",     "cpuacct", "cpuset", "memory",
					  "devices", "freezer", "blkio",  "pids"};
	for (size_t i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++) {
		char parent[200];
		snprintf(parent, sizeof(parent), "/sys/fs/cgroup/%s%s", ctl[i], test_path("widen"));
		rmdir(parent);
	}
	cgroup_manager_free(m);
}

/* Doubled and trailing slashes in a cgroup path: every ancestor is still widened, top down. */
TEST(v1_cpuset_update_odd_path)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 2)
		SKIP("one CPU online: a pin cannot be told from a widened set");
	struct cgroup_manager *m = v1();
	char path[160], top[200], mid[220], all[48];
	snprintf(path, sizeof(path), "%s//mid/leaf/", test_path("odd"));
	snprintf(top, sizeof(top), "/sys/fs/cgroup/cpuset%s", test_path("odd"));
	snprintf(mid, sizeof(mid), "%s/mid", top);
	snprintf(all, sizeof(all), "0-%ld", n - 1);
	struct cgroup *cg = NULL;
	agent_error_t *err = NULL;
	ASSERT_EQ(cgroup_create(m, path, &cg, &err), 0);
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxCPU cpu = GRPC__LINUX_CPU__INIT;
	res.cpu = &cpu;
	cpu.cpus = "0";
	apply_ok(cg, &res, false);
	int r1 = cg_write(mid, "cpuset.cpus", "0", &err);
	int r2 = r1 ? r1 : cg_write(top, "cpuset.cpus", "0", &err);
	int r3 = r2 ? r2 : cgroup_cpuset_update(cg, all, "0", &err);
	char got_top[64] = "", got_mid[64] = "", got_leaf[64] = "";
	if (!r3) {
		snprintf(got_top, sizeof(got_top), "%s", readf(top, "", "cpuset.cpus"));
		snprintf(got_mid, sizeof(got_mid), "%s", readf(mid, "", "cpuset.cpus"));
		snprintf(got_leaf, sizeof(got_leaf), "%s", readf(mid, "/leaf", "cpuset.cpus"));
	}
	destroy(cg);
	static const char *const ctl[] = {"cpu",     "cpuacct", "cpuset", "memory",
					  "devices", "freezer", "blkio",  "pids"};
	for (size_t i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++) {
		char d[240];
		snprintf(d, sizeof(d), "/sys/fs/cgroup/%s%s/mid", ctl[i], test_path("odd"));
		rmdir(d);
		*strrchr(d, '/') = '\0';
		rmdir(d);
	}
	cgroup_manager_free(m);
	ASSERT_EQ(r3, 0);
	ASSERT_STREQ(got_top, all);
	ASSERT_STREQ(got_mid, all);
	ASSERT_STREQ(got_leaf, "0");
}

static const char *cpulist_canon(const char *in)
{
	static char out[256];
	struct cg_cpumask mask;
	if (cg_cpulist_parse(in, &mask) < 0)
		return "(invalid)";
	char *s = cg_cpulist_format(&mask);
	ASSERT_NOT_NULL(s);
	snprintf(out, sizeof(out), "%s", s);
	free(s);
	return out;
}

TEST(cpulist_parse_and_format)
{
	ASSERT_STREQ(cpulist_canon("0-3,7\n"), "0-3,7");
	ASSERT_STREQ(cpulist_canon(" 3,0-2,5,6 "), "0-3,5-6");
	ASSERT_STREQ(cpulist_canon(""), "");
	ASSERT_STREQ(cpulist_canon("\n"), "");
	ASSERT_STREQ(cpulist_canon("8191"), "8191");
	ASSERT_STREQ(cpulist_canon("0-8191"), "0-8191");
	static const char *const bad[] = {"8192",  "3-1", "0,,1", "-1", "0-",
					  "1-2-3", "a",	  "0 1",  "0,", "99999999999999999999",
					  "0x1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strcmp(cpulist_canon(bad[i]), "(invalid)") != 0)
			FAIL("\"%s\" parsed", bad[i]);
	/* The longest list there is fits. */
	struct cg_cpumask every_other = {{0}};
	for (size_t i = 0; i < CG_CPUS_WORDS; i++)
		every_other.w[i] = 0x5555555555555555ull;
	char *s = cg_cpulist_format(&every_other);
	ASSERT_NOT_NULL(s);
	ASSERT_TRUE(strncmp(s, "0,2,4,", 6) == 0);
	ASSERT_TRUE(strlen(s) > 8 && strcmp(s + strlen(s) - 5, ",8190") == 0);
	struct cg_cpumask back;
	ASSERT_EQ(cg_cpulist_parse(s, &back), 0);
	ASSERT_TRUE(memcmp(&back, &every_other, sizeof(back)) == 0);
	free(s);
}

/* The device rules as the kernel applies them: the last rule that matches decides. */
static bool dev_allowed(const struct cg_dev_rule *v, size_t n, char type, int64_t maj, int64_t min,
			unsigned access)
{
	bool allow = false;
	for (size_t i = 0; i < n; i++) {
		const struct cg_dev_rule *r = &v[i];
		if (r->type != 'a' && r->type != type)
			continue;
		if ((r->major != -1 && r->major != maj) || (r->minor != -1 && r->minor != min))
			continue;
		if ((r->access & access) != access)
			continue;
		allow = r->allow;
	}
	return allow;
}

/*
 * containerd's default spec starts its device rules with "deny all": the default devices
 * (null, zero, full, tty, ...) must stay usable, as runc and upstream's agent append them
 * after the spec's rules; what the spec allows works, anything else stays denied.
 */
TEST(spec_deny_all_keeps_the_default_devices)
{
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxDeviceCgroup deny = GRPC__LINUX_DEVICE_CGROUP__INIT, tty = deny;
	deny.allow = false;
	deny.access = "rwm";
	tty.allow = true;
	tty.type = "c";
	tty.major = 4;
	tty.minor = 64;
	tty.access = "rw";
	Grpc__LinuxDeviceCgroup *rules[] = {&deny, &tty};
	res.devices = rules;
	res.n_devices = 2;
	struct cg_dev_rule *v = NULL;
	size_t n = 0;
	agent_error_t *err = NULL;
	ASSERT_EQ(cg_dev_rules_build(&res, &v, &n, &err), 0);
	ASSERT_TRUE(dev_allowed(v, n, 'c', 1, 3, CG_DEV_R | CG_DEV_W)); /* /dev/null */
	ASSERT_TRUE(dev_allowed(v, n, 'c', 1, 7, CG_DEV_R | CG_DEV_W)); /* /dev/full */
	ASSERT_TRUE(dev_allowed(v, n, 'c', 136, 2, CG_DEV_R | CG_DEV_W)); /* a pty */
	ASSERT_TRUE(dev_allowed(v, n, 'c', 4, 65, CG_DEV_M)); /* mknod stays allowed */
	ASSERT_TRUE(dev_allowed(v, n, 'c', 4, 64, CG_DEV_W)); /* the spec's rule */
	ASSERT_FALSE(dev_allowed(v, n, 'c', 4, 65, CG_DEV_R)); /* not in the spec */
	ASSERT_FALSE(dev_allowed(v, n, 'b', 8, 0, CG_DEV_R));
	free(v);
}
