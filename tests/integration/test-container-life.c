// SPDX-License-Identifier: Apache-2.0
/*
 * Container life-cycle edge cases and resources: OOM events, pause/resume,
 * stats, updates, stdin and terminals, seccomp, exec into a dead container,
 * and a create/remove loop that must leak nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctr.h"
#include "harness.h"

static void must(int code, const char *what)
{
	if (code != 0)
		FAIL("%s: code %d", what, code);
}

TEST_TIMEOUT(oom_event_v1, 90)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	if (access("/sys/fs/cgroup/memory/memory.oom_control", F_OK) < 0)
		SKIP("no v1 memory controller here");
	const char *args[] = {"alloc", "256", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "oom1", args);
	ctr_spec_set_memory(s, 32 << 20);
	ctr_create_start(&e, "oom1", ctr_spec_get(s));

	Grpc__GetOOMEventRequest req = GRPC__GET_OOMEVENT_REQUEST__INIT;
	Grpc__OOMEvent *ev = NULL;
	must(ctr_call(&e, "GetOOMEvent", &req.base, &grpc__oomevent__descriptor,
		      (ProtobufCMessage **)&ev, NULL),
	     "GetOOMEvent");
	ASSERT_TRUE(strcmp(ev->container_id, "oom1") == 0);
	protobuf_c_message_free_unpacked(&ev->base, NULL);
	ASSERT_EQ(ctr_wait(&e, "oom1", "oom1"), 128 + SIGKILL);
	must(ctr_remove(&e, "oom1"), "remove");
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(oom_event_v2, 90)
{
	struct ctr_env e;
	ctr_env_setup(&e, true);
	char ctrls[256] = "";
	FILE *f = fopen("/sys/fs/cgroup/cgroup.controllers", "r");
	if (f) {
		if (!fgets(ctrls, sizeof(ctrls), f))
			ctrls[0] = '\0';
		fclose(f);
	}
	if (!strstr(ctrls, "memory")) {
		ctr_env_teardown(&e);
		SKIP("the memory controller is not available on cgroup v2 here (bound to v1)");
	}
	const char *args[] = {"alloc", "256", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "oom2", args);
	ctr_spec_set_memory(s, 32 << 20);
	ctr_create_start(&e, "oom2", ctr_spec_get(s));
	Grpc__GetOOMEventRequest req = GRPC__GET_OOMEVENT_REQUEST__INIT;
	Grpc__OOMEvent *ev = NULL;
	must(ctr_call(&e, "GetOOMEvent", &req.base, &grpc__oomevent__descriptor,
		      (ProtobufCMessage **)&ev, NULL),
	     "GetOOMEvent");
	ASSERT_TRUE(strcmp(ev->container_id, "oom2") == 0);
	protobuf_c_message_free_unpacked(&ev->base, NULL);
	ASSERT_EQ(ctr_wait(&e, "oom2", "oom2"), 128 + SIGKILL);
	must(ctr_remove(&e, "oom2"), "remove");
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

static Grpc__StatsContainerResponse *stats(struct ctr_env *e, const char *cid)
{
	Grpc__StatsContainerRequest req = GRPC__STATS_CONTAINER_REQUEST__INIT;
	Grpc__StatsContainerResponse *resp = NULL;

	req.container_id = (char *)cid;
	must(ctr_call(e, "StatsContainer", &req.base, &grpc__stats_container_response__descriptor,
		      (ProtobufCMessage **)&resp, NULL),
	     "StatsContainer");
	return resp;
}

static int pause_resume(struct ctr_env *e, const char *method, const char *cid)
{
	Grpc__PauseContainerRequest req = GRPC__PAUSE_CONTAINER_REQUEST__INIT;
	req.container_id = (char *)cid;
	return ctr_call(e, method, &req.base, &google__protobuf__empty__descriptor, NULL, NULL);
}

TEST_TIMEOUT(pause_resume_stats_update, 90)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"sleep", "60", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "p1", args);
	ctr_create_start(&e, "p1", ctr_spec_get(s));

	Grpc__StatsContainerResponse *st = stats(&e, "p1");
	ASSERT_NOT_NULL(st->cgroup_stats);
	ASSERT_NOT_NULL(st->cgroup_stats->pids_stats);
	ASSERT_EQ(st->cgroup_stats->pids_stats->current, 1);
	ASSERT_NOT_NULL(st->cgroup_stats->memory_stats);
	protobuf_c_message_free_unpacked(&st->base, NULL);

	must(pause_resume(&e, "PauseContainer", "p1"), "pause");
	char path[256], buf[64] = "";
	snprintf(path, sizeof(path), "/sys/fs/cgroup/freezer%s/p1/freezer.state", e.cgparent);
	FILE *f = fopen(path, "r");
	ASSERT_NOT_NULL(f);
	ASSERT_NOT_NULL(fgets(buf, sizeof(buf), f));
	fclose(f);
	ASSERT_TRUE(strncmp(buf, "FROZEN", 6) == 0);
	ASSERT_EQ(pause_resume(&e, "PauseContainer", "p1"), 9); /* already paused */
	must(pause_resume(&e, "ResumeContainer", "p1"), "resume");
	ASSERT_EQ(pause_resume(&e, "ResumeContainer", "p1"), 9);
	ASSERT_EQ(pause_resume(&e, "PauseContainer", "nope"), 3);

	/* UpdateContainer: a memory limit lands in the cgroup. */
	Grpc__UpdateContainerRequest ur = GRPC__UPDATE_CONTAINER_REQUEST__INIT;
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxMemory mem = GRPC__LINUX_MEMORY__INIT;
	mem.limit = 100 << 20;
	res.memory = &mem;
	ur.container_id = "p1";
	ur.resources = &res;
	must(ctr_call(&e, "UpdateContainer", &ur.base, &google__protobuf__empty__descriptor, NULL,
		      NULL),
	     "UpdateContainer");
	snprintf(path, sizeof(path), "/sys/fs/cgroup/memory%s/p1/memory.limit_in_bytes",
		 e.cgparent);
	f = fopen(path, "r");
	ASSERT_NOT_NULL(f);
	ASSERT_NOT_NULL(fgets(buf, sizeof(buf), f));
	fclose(f);
	ASSERT_EQ(atoll(buf), 100 << 20);

	must(ctr_signal(&e, "p1", "", SIGKILL), "kill");
	ASSERT_EQ(ctr_wait(&e, "p1", "p1"), 128 + SIGKILL);
	must(ctr_remove(&e, "p1"), "remove");
	struct stat sb;
	snprintf(path, sizeof(path), "/sys/fs/cgroup/memory%s/p1", e.cgparent);
	ASSERT_TRUE(stat(path, &sb) < 0 && errno == ENOENT);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

static int write_stdin(struct ctr_env *e, const char *cid, const char *eid, const char *data)
{
	Grpc__WriteStreamRequest req = GRPC__WRITE_STREAM_REQUEST__INIT;
	Grpc__WriteStreamResponse *resp = NULL;
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	req.data.data = (uint8_t *)data;
	req.data.len = strlen(data);
	int code = ctr_call(e, "WriteStdin", &req.base, &grpc__write_stream_response__descriptor,
			    (ProtobufCMessage **)&resp, NULL);
	if (code == 0) {
		ASSERT_EQ(resp->len, strlen(data));
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	}
	return code;
}

TEST_TIMEOUT(stdin_and_close_stdin, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"cat", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "i1", args);
	ctr_create_start(&e, "i1", ctr_spec_get(s));
	must(write_stdin(&e, "i1", "i1", "line one\n"), "WriteStdin");
	must(write_stdin(&e, "i1", "i1", "line two\n"), "WriteStdin");
	Grpc__CloseStdinRequest cr = GRPC__CLOSE_STDIN_REQUEST__INIT;
	cr.container_id = "i1";
	cr.exec_id = "i1";
	must(ctr_call(&e, "CloseStdin", &cr.base, &google__protobuf__empty__descriptor, NULL, NULL),
	     "CloseStdin");
	char *out = ctr_read_all(&e, "i1", "i1", false, NULL);
	ASSERT_TRUE(strcmp(out, "line one\nline two\n") == 0);
	ASSERT_EQ(ctr_wait(&e, "i1", "i1"), 0);
	free(out);
	must(ctr_remove(&e, "i1"), "remove");
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(terminal_and_resize, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"report", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "t1", args);
	Grpc__Spec *spec = ctr_spec_get(s);
	spec->process->terminal = true;
	must(ctr_create(&e, "t1", spec, NULL), "create");
	Grpc__TtyWinResizeRequest rr = GRPC__TTY_WIN_RESIZE_REQUEST__INIT;
	rr.container_id = "t1";
	rr.exec_id = "t1";
	rr.row = 40;
	rr.column = 120;
	must(ctr_call(&e, "TtyWinResize", &rr.base, &google__protobuf__empty__descriptor, NULL,
		      NULL),
	     "TtyWinResize");
	must(ctr_start(&e, "t1", NULL), "start");
	char *out = ctr_read_all(&e, "t1", "t1", false, NULL);
	ASSERT_EQ(ctr_wait(&e, "t1", "t1"), 0);
	ASSERT_NOT_NULL(strstr(out, "tty=1"));
	ASSERT_NOT_NULL(strstr(out, "stdin_is=chr"));
	free(out);
	/* No terminal: resize answers UNAVAILABLE. */
	const char *a2[] = {"sleep", "30", NULL};
	struct ctr_spec *s2 = ctr_spec_new(&e, "t2", a2);
	ctr_create_start(&e, "t2", ctr_spec_get(s2));
	rr.container_id = rr.exec_id = "t2";
	ASSERT_EQ(ctr_call(&e, "TtyWinResize", &rr.base, &google__protobuf__empty__descriptor, NULL,
			   NULL),
		  14);
	must(ctr_remove(&e, "t1"), "remove");
	must(ctr_remove(&e, "t2"), "remove");
	ctr_spec_free(s);
	ctr_spec_free(s2);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(seccomp_from_the_spec, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"syscall-getcwd", "--", "report", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "s1", args);
	Grpc__Spec *spec = ctr_spec_get(s);
	Grpc__LinuxSeccomp sc = GRPC__LINUX_SECCOMP__INIT;
	Grpc__LinuxSyscall sys = GRPC__LINUX_SYSCALL__INIT;
	Grpc__LinuxSyscall *sysp = &sys;
	char *names[] = {"getcwd"};
	sc.defaultaction = "SCMP_ACT_ALLOW";
	sys.names = names;
	sys.n_names = 1;
	sys.action = "SCMP_ACT_ERRNO";
	sys.errno_ret_case = GRPC__LINUX_SYSCALL__ERRNO_RET_ERRNORET;
	sys.errnoret = 42;
	sc.syscalls = &sysp;
	sc.n_syscalls = 1;
	spec->linux->seccomp = &sc;
	spec->process->nonewprivileges = true;
	int code;
	char *out = ctr_run(&e, "s1", spec, &code);
	ASSERT_EQ(code, 0);
	ASSERT_NOT_NULL(strstr(out, "getcwd=errno 42"));
	ASSERT_NOT_NULL(strstr(out, "seccomp=2"));
	free(out);
	must(ctr_remove(&e, "s1"), "remove");
	/* A bad action is INVALID_ARGUMENT before anything is made. */
	sys.action = "SCMP_ACT_NOPE";
	char *msg = NULL;
	ASSERT_EQ(ctr_create(&e, "s2", spec, &msg), 3);
	ASSERT_NOT_NULL(strstr(msg, "action"));
	free(msg);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(exec_into_a_dead_container_fails_at_once, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"exit", "0", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "d1", args);
	ctr_create_start(&e, "d1", ctr_spec_get(s));
	ASSERT_EQ(ctr_wait(&e, "d1", "d1"), 0);
	Grpc__Process *p = ctr_process_new((const char *[]){"report", NULL});
	char *msg = NULL;
	double t0 = itest_now_s();
	ASSERT_NE(ctr_exec(&e, "d1", "x", p, &msg), 0);
	ASSERT_TRUE(itest_now_s() - t0 < 3);
	ASSERT_NOT_NULL(msg);
	free(msg);
	/* Unknown container. */
	ASSERT_NE(ctr_exec(&e, "nope", "x", p, NULL), 0);
	ctr_process_free(p);
	must(ctr_remove(&e, "d1"), "remove");
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

static int count_lines(const char *path, const char *needle)
{
	char line[4096];
	int n = 0;
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		n += !needle || strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return n;
}

TEST_TIMEOUT(create_remove_loop_leaks_nothing, 600)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"sleep", "60", NULL};
	int rounds = getenv("CTR_LOOP_ROUNDS") ? atoi(getenv("CTR_LOOP_ROUNDS")) : 200;
	char cid[32];

	/* Warm up once so lazily made things (the cgroup manager) exist. */
	struct ctr_spec *w = ctr_spec_new(&e, "warm", args);
	ctr_create_start(&e, "warm", ctr_spec_get(w));
	must(ctr_remove(&e, "warm"), "remove");
	ctr_spec_free(w);
	int fds0 = itest_fd_count_settled(e.agent.pid);
	/* Only what the agent mounts counts: below this namespace's own /run (the machine's
	 * other mounts, copied in at unshare, may come and go with whatever else runs). */
	int mounts0 = count_lines("/proc/self/mountinfo", " /run");

	for (int i = 0; i < rounds; i++) {
		snprintf(cid, sizeof(cid), "loop%d", i);
		struct ctr_spec *s = ctr_spec_new(&e, cid, args);
		ctr_create_start(&e, cid, ctr_spec_get(s));
		if (i % 2) {
			/* As the runtime does: kill all, wait, remove. */
			must(ctr_signal(&e, cid, "", SIGKILL), "kill");
			ASSERT_EQ(ctr_wait(&e, cid, cid), 128 + SIGKILL);
		}
		must(ctr_remove(&e, cid), "remove while running");
		ctr_spec_free(s);
	}
	usleep(200 * 1000);
	ASSERT_EQ(itest_fd_count_settled(e.agent.pid), fds0);
	ASSERT_EQ(count_lines("/proc/self/mountinfo", " /run"), mounts0);
	char path[256];
	snprintf(path, sizeof(path), "/sys/fs/cgroup/memory%s", e.cgparent);
	struct stat sb;
	for (int i = 0; i < rounds; i++) {
		char p2[300];
		snprintf(p2, sizeof(p2), "%s/loop%d", path, i);
		ASSERT_TRUE(stat(p2, &sb) < 0);
	}
	/* No process left behind: the agent's only children are gone. */
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "test -z \"$(pgrep -P %d)\"", (int)e.agent.pid);
	ASSERT_EQ(system(cmd), 0);
	ctr_env_teardown(&e);
}

/* A device node in the container that the device cgroup must deny (v1 rules, v2 eBPF). */
static void device_rules(bool v2)
{
	struct ctr_env e;
	ctr_env_setup(&e, v2);
	const char *args[] = {
		"report", "--", "open", "/dev/null", "--", "open", "/dev/loop-control", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "v2c", args);
	/* /dev/loop-control inside the container: a device node the cgroup must deny. */
	Grpc__LinuxDevice dev = GRPC__LINUX_DEVICE__INIT, *devp = &dev;
	dev.path = "/dev/loop-control";
	dev.type = "c";
	dev.major = 10;
	dev.minor = 237;
	dev.filemode = 0666;
	ctr_spec_get(s)->linux->devices = &devp;
	ctr_spec_get(s)->linux->n_devices = 1;
	int code;
	char *out = ctr_run(&e, "v2c", ctr_spec_get(s), &code);
	ASSERT_EQ(code, 0);
	/* v2: its own cgroup namespace, the container sees itself at the root. */
	if (v2)
		ASSERT_NOT_NULL(strstr(out, "cgroup=0::/\n"));
	ASSERT_NOT_NULL(strstr(out, "open /dev/null=ok"));
	ASSERT_NOT_NULL(strstr(out, "open /dev/loop-control=errno 1"));
	free(out);
	must(ctr_remove(&e, "v2c"), "remove");
	char path[256];
	struct stat sb;
	snprintf(path, sizeof(path), "/sys/fs/cgroup%s%s/v2c", v2 ? "" : "/devices", e.cgparent);
	ASSERT_TRUE(stat(path, &sb) < 0);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
	(void)count_lines;
}

TEST_TIMEOUT(device_rules_v1, 90)
{
	device_rules(false);
}

TEST_TIMEOUT(device_rules_v2, 90)
{
	device_rules(true);
}

TEST_TIMEOUT(kill_during_create, 60)
{
	struct ctr_env e;
	/* A spec hook outside a guest hook directory needs the debugging option. */
	ctr_env_setup_cmdline(&e, false, "agent.debug_unconfined_paths=1");
	const char *args[] = {"sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "k1", args);
	Grpc__Spec *spec = ctr_spec_get(s);
	/* A createContainer hook that takes its time keeps the create in flight. */
	Grpc__Hooks hooks = GRPC__HOOKS__INIT;
	Grpc__Hook slow = GRPC__HOOK__INIT, *slowp = &slow;
	char *hargs[] = {"sh", "-c", "sleep 3"};
	slow.path = "/bin/sh";
	slow.args = hargs;
	slow.n_args = 3;
	hooks.createcontainer = &slowp;
	hooks.n_createcontainer = 1;
	spec->hooks = &hooks;

	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	req.container_id = req.exec_id = "k1";
	req.oci = spec;
	size_t len = protobuf_c_message_get_packed_size(&req.base);
	uint8_t *buf = malloc(len);
	protobuf_c_message_pack(&req.base, buf);
	uint32_t stream;
	agent_error_t *err = NULL;
	ASSERT_EQ(ttrpc_client_send(e.c, "grpc.AgentService", "CreateContainer", buf, len, 0, NULL,
				    0, &stream, &err),
		  0);
	free(buf);
	usleep(300 * 1000);
	/* Other calls are served meanwhile (RemoveContainer would abort it: test-lifecycle). */
	ASSERT_EQ(ctr_signal(&e, "k1", "", 0), 0);
	double t0 = itest_now_s();
	must(ctr_signal(&e, "k1", "", SIGKILL), "kill all during create");
	struct ttrpc_reply r = {0};
	ASSERT_EQ(ttrpc_client_recv(e.c, stream, 10000, &r, &err), 0);
	ASSERT_NE(r.code, 0); /* the create failed: its process was killed */
	ASSERT_TRUE(itest_now_s() - t0 < 2.5);
	ttrpc_reply_clear(&r);
	/* Nothing is left: the id is free again and works. */
	struct stat sb;
	ASSERT_TRUE(stat("/run/kata-containers/k1", &sb) < 0);
	spec->hooks = NULL;
	ctr_create_start(&e, "k1", spec);
	must(ctr_remove(&e, "k1"), "remove");
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

static long agent_rss_kib(pid_t pid)
{
	return itest_rss_kib(pid);
}

TEST_TIMEOUT(unread_output_applies_back_pressure, 90)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const long long total = 64LL << 20;
	char n[32];
	snprintf(n, sizeof(n), "%lld", total);
	const char *args[] = {"write-stdout", n, NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "bp", args);
	long rss0 = agent_rss_kib(e.agent.pid);
	ctr_create_start(&e, "bp", ctr_spec_get(s));
	sleep(1);
	/* Nobody reads: the writer is blocked on a full pipe, the agent holds nothing. */
	Grpc__StatsContainerRequest sreq = GRPC__STATS_CONTAINER_REQUEST__INIT;
	sreq.container_id = "bp";
	must(ctr_call(&e, "StatsContainer", &sreq.base, &grpc__stats_container_response__descriptor,
		      NULL, NULL),
	     "stats");
	ASSERT_TRUE(agent_rss_kib(e.agent.pid) - rss0 < 4096);
	size_t got = 0;
	char *out = ctr_read_all(&e, "bp", "bp", false, &got);
	ASSERT_EQ(got, (size_t)total);
	ASSERT_TRUE(memcmp(out, "0123456789abcdef0123", 20) == 0);
	ASSERT_EQ(ctr_wait(&e, "bp", "bp"), 0);
	ASSERT_TRUE(agent_rss_kib(e.agent.pid) - rss0 < 8192);
	free(out);
	must(ctr_remove(&e, "bp"), "remove");
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(terminal_stdin_and_eof, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"cat", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "t3", args);
	ctr_spec_get(s)->process->terminal = true;
	ctr_create_start(&e, "t3", ctr_spec_get(s));
	must(write_stdin(&e, "t3", "t3", "typed\n"), "WriteStdin");
	Grpc__CloseStdinRequest cr = GRPC__CLOSE_STDIN_REQUEST__INIT;
	cr.container_id = cr.exec_id = "t3";
	must(ctr_call(&e, "CloseStdin", &cr.base, &google__protobuf__empty__descriptor, NULL, NULL),
	     "CloseStdin");
	/* cat saw end of input and exited; its output (and the terminal's echo) came through. */
	ASSERT_EQ(ctr_wait(&e, "t3", "t3"), 0);
	char *out = ctr_read_all(&e, "t3", "t3", false, NULL);
	ASSERT_NOT_NULL(strstr(out, "typed"));
	free(out);
	must(ctr_remove(&e, "t3"), "remove");
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}
