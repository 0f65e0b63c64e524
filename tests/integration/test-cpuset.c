// SPDX-License-Identifier: Apache-2.0
/*
 * cpusets across OnlineCPUMem, with the real agent on this machine's cgroup v1 cpuset
 * hierarchy. The containers' parent cgroup is narrowed to CPU 0 before they are made, as
 * it is in a guest booted with one CPU; OnlineCPUMem then finds every CPU of this machine
 * online (nothing to online here, as after a hot-add that the guest onlined by itself).
 * A container pinned to CPU 0 must stay pinned (cgroup file and the affinity of its task),
 * one that asked for every CPU gets them, one that asked for none is left alone, and the
 * parent is widened. Observations are collected first and asserted after the clean-up,
 * so a failure leaves no cgroup behind. The guest side (a real hot-add through QMP, v1
 * and v2) is tests/vm/steps-cpuset.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctr.h"
#include "harness.h"

#define CPUSET "/sys/fs/cgroup/cpuset"

static bool read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	bool ok = f && fgets(buf, (int)size, f);

	if (f)
		fclose(f);
	if (!ok)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static bool write_str(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok = fd >= 0 && write(fd, v, strlen(v)) == (ssize_t)strlen(v);

	if (fd >= 0)
		close(fd);
	return ok;
}

/* "<cpuset mount><cgparent>[/cid]/file" */
static void cg_file(char *buf, size_t size, const struct ctr_env *e, const char *cid,
		    const char *file)
{
	snprintf(buf, size, CPUSET "%s%s%s/%s", e->cgparent, cid ? "/" : "", cid ? cid : "", file);
}

static void cg_read(const struct ctr_env *e, const char *cid, const char *file, char *buf,
		    size_t size)
{
	char p[256];
	cg_file(p, sizeof(p), e, cid, file);
	read_line(p, buf, size);
}

/* The CPUs the container's first task may run on, as a list ("0", "0-1"), "?" if unknown. */
static void task_affinity(const struct ctr_env *e, const char *cid, char *buf, size_t size)
{
	char procs[64];
	cpu_set_t set;

	snprintf(buf, size, "?");
	cg_read(e, cid, "cgroup.procs", procs, sizeof(procs));
	pid_t pid = (pid_t)atoi(procs);
	CPU_ZERO(&set);
	if (pid <= 0 || sched_getaffinity(pid, sizeof(set), &set) < 0)
		return;
	size_t n = 0;
	buf[0] = '\0';
	for (int c = 0; c < CPU_SETSIZE && n + 8 < size; c++) {
		if (!CPU_ISSET(c, &set))
			continue;
		int last = c;
		while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, &set))
			last++;
		n += (size_t)snprintf(buf + n, size - n, "%s%d", n ? "," : "", c);
		if (last > c)
			n += (size_t)snprintf(buf + n, size - n, "-%d", last);
		c = last;
	}
}

/* A "sleep" container asking for cpus (NULL: no cpu section at all). */
static int create_start(struct ctr_env *e, const char *cid, const char *cpus, char **msg)
{
	const char *args[] = {"sleep", "60", NULL};
	struct ctr_spec *s = ctr_spec_new(e, cid, args);
	Grpc__Spec *spec = ctr_spec_get(s);
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxCPU cpu = GRPC__LINUX_CPU__INIT;

	if (cpus) {
		cpu.cpus = (char *)cpus;
		res.cpu = &cpu;
		spec->linux->resources = &res;
	}
	int code = ctr_create(e, cid, spec, msg);
	ctr_spec_free(s);
	if (code == 0) {
		free(*msg);
		code = ctr_start(e, cid, msg);
	}
	return code;
}

static int online_cpu_mem(struct ctr_env *e, uint32_t n, char **msg)
{
	Grpc__OnlineCPUMemRequest on = GRPC__ONLINE_CPUMEM_REQUEST__INIT;

	on.nb_cpus = n;
	on.cpu_only = true;
	return ctr_call(e, "OnlineCPUMem", &on.base, &google__protobuf__empty__descriptor, NULL,
			msg);
}

static int update_cpus(struct ctr_env *e, const char *cid, const char *cpus, char **msg)
{
	Grpc__UpdateContainerRequest req = GRPC__UPDATE_CONTAINER_REQUEST__INIT;
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxCPU cpu = GRPC__LINUX_CPU__INIT;

	cpu.cpus = (char *)cpus;
	res.cpu = &cpu;
	req.container_id = (char *)cid;
	req.resources = &res;
	return ctr_call(e, "UpdateContainer", &req.base, &google__protobuf__empty__descriptor, NULL,
			msg);
}

/* The online CPUs, and their number; SKIPs below two or without a v1 cpuset hierarchy. */
static int online_cpus(char *list, size_t size)
{
	if (access(CPUSET "/cpuset.cpus", F_OK) != 0)
		SKIP("no cgroup v1 cpuset hierarchy at " CPUSET " (the VM test covers v2)");
	if (!read_line("/sys/devices/system/cpu/online", list, size))
		SKIP("no /sys/devices/system/cpu/online");
	int n = 0;
	for (char *p = list; *p;) {
		char *end;
		long a = strtol(p, &end, 10), b = a;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		n += (int)(b - a + 1);
		p = *end ? end + 1 : end;
	}
	if (n < 2)
		SKIP("one CPU online: a pin cannot be told from a widened set");
	return n;
}

/* The parent made by the test, narrowed to CPU 0 (cpus and mems are needed before use). */
static bool parent_narrowed(const struct ctr_env *e)
{
	char p[256], mems[64];

	snprintf(p, sizeof(p), CPUSET "%s", e->cgparent);
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return false;
	read_line(CPUSET "/cpuset.mems", mems, sizeof(mems));
	cg_file(p, sizeof(p), e, NULL, "cpuset.mems");
	if (!write_str(p, mems))
		return false;
	cg_file(p, sizeof(p), e, NULL, "cpuset.cpus");
	return write_str(p, "0");
}

struct seen {
	char cpus[64];
	char affinity[64];
};

static void look(const struct ctr_env *e, const char *cid, struct seen *s)
{
	cg_read(e, cid, "cpuset.cpus", s->cpus, sizeof(s->cpus));
	task_affinity(e, cid, s->affinity, sizeof(s->affinity));
}

TEST_TIMEOUT(online_cpu_mem_keeps_pins_and_widens_parents, 90)
{
	char online[256];
	int n = online_cpus(online, sizeof(online));
	struct ctr_env e;
	char *msg[5] = {NULL};
	int code[5] = {-1, -1, -1, -1, -1};
	struct seen before_pinned = {"", ""}, pinned = {"", ""}, all = {"", ""}, none = {"", ""},
		    moved = {"", ""};
	char parent[64] = "";
	char all_list[32];

	snprintf(all_list, sizeof(all_list), "0-%d", n - 1);
	ctr_env_setup(&e, false);
	bool narrowed = parent_narrowed(&e);
	if (narrowed) {
		code[0] = create_start(&e, "pinned", "0", &msg[0]);
		code[1] = create_start(&e, "all", all_list, &msg[1]);
		code[2] = create_start(&e, "none", NULL, &msg[2]);
		code[3] = create_start(&e, "moved", "0", &msg[3]);
		look(&e, "pinned", &before_pinned);
	}
	if (narrowed && !code[0] && !code[1] && !code[2] && !code[3]) {
		code[4] = online_cpu_mem(&e, (uint32_t)n, &msg[4]);
		cg_read(&e, NULL, "cpuset.cpus", parent, sizeof(parent));
		look(&e, "pinned", &pinned);
		look(&e, "all", &all);
		look(&e, "none", &none);
		/* A pin changed by UpdateContainer is the one kept by the next OnlineCPUMem. */
		char *m = NULL;
		char last[16];
		snprintf(last, sizeof(last), "%d", n - 1);
		if (update_cpus(&e, "moved", last, &m) == 0 &&
		    online_cpu_mem(&e, (uint32_t)n, NULL) == 0)
			look(&e, "moved", &moved);
		free(m);
	}
	static const char *const ids[] = {"pinned", "all", "none", "moved"};
	for (size_t i = 0; i < 4; i++)
		ctr_remove(&e, ids[i]);
	ctr_env_teardown(&e);

	ASSERT_TRUE(narrowed);
	for (int i = 0; i < 5; i++)
		if (code[i] != 0)
			FAIL("call %d: code %d: %s", i, code[i], msg[i] ? msg[i] : "");
	ASSERT_STREQ(before_pinned.cpus, "0");
	ASSERT_STREQ(before_pinned.affinity, "0");
	/* The parent got every online CPU. */
	ASSERT_STREQ(parent, online);
	/* The pin holds, in the cgroup and for the task. */
	ASSERT_STREQ(pinned.cpus, "0");
	ASSERT_STREQ(pinned.affinity, "0");
	/* Asked for every CPU, refused at create (the parent had CPU 0 only): now granted. */
	ASSERT_STREQ(all.cpus, online);
	ASSERT_STREQ(all.affinity, online);
	/* No cpus in its spec: left as it was made. */
	ASSERT_STREQ(none.cpus, "0");
	char last[16];
	snprintf(last, sizeof(last), "%d", n - 1);
	ASSERT_STREQ(moved.cpus, last);
	ASSERT_STREQ(moved.affinity, last);
	for (int i = 0; i < 5; i++)
		free(msg[i]);
}

/*
 * Requests the kernel refuses as they are: CPUs this machine does not have (kept to the
 * ones it has that were asked for) and a list that is not one (the container keeps what it
 * has). OnlineCPUMem still succeeds and the pin of the others holds.
 */
TEST_TIMEOUT(online_cpu_mem_with_unsatisfiable_requests, 90)
{
	char online[256];
	int n = online_cpus(online, sizeof(online));
	struct ctr_env e;
	char *msg[4] = {NULL};
	int code[4] = {-1, -1, -1, -1};
	struct seen beyond = {"", ""}, garbage = {"", ""}, pinned = {"", ""};
	char req[64];

	/* The last online CPU and two that no machine here has. */
	snprintf(req, sizeof(req), "%d,8000-8001", n - 1);
	ctr_env_setup(&e, false);
	bool narrowed = parent_narrowed(&e);
	if (narrowed) {
		code[0] = create_start(&e, "beyond", req, &msg[0]);
		code[1] = create_start(&e, "garbage", "0-x", &msg[1]);
		code[2] = create_start(&e, "pinned", "0", &msg[2]);
	}
	if (narrowed && !code[0] && !code[1] && !code[2]) {
		code[3] = online_cpu_mem(&e, (uint32_t)n, &msg[3]);
		look(&e, "beyond", &beyond);
		look(&e, "garbage", &garbage);
		look(&e, "pinned", &pinned);
	}
	static const char *const ids[] = {"beyond", "garbage", "pinned"};
	for (size_t i = 0; i < 3; i++)
		ctr_remove(&e, ids[i]);
	ctr_env_teardown(&e);

	ASSERT_TRUE(narrowed);
	for (int i = 0; i < 4; i++)
		if (code[i] != 0)
			FAIL("call %d: code %d: %s", i, code[i], msg[i] ? msg[i] : "");
	char last[16];
	snprintf(last, sizeof(last), "%d", n - 1);
	ASSERT_STREQ(beyond.cpus, last);
	ASSERT_STREQ(beyond.affinity, last);
	ASSERT_STREQ(garbage.cpus, "0");
	ASSERT_STREQ(pinned.cpus, "0");
	ASSERT_STREQ(pinned.affinity, "0");
	for (int i = 0; i < 4; i++)
		free(msg[i]);
}
