// SPDX-License-Identifier: Apache-2.0
/*
 * The container life cycle as a state machine (docs/lifecycle.md): events in
 * states the old code did not expect (the parked init dying, Remove during
 * Create, Start or Exec, Pause/Resume before Start, a failed Start, a set-up
 * that blocks), and a table-driven test that calls every container RPC in
 * every reachable state and checks the answer is the table's.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctr.h"
#include "harness.h"

/*
 * The tests block a launch step with a slow createContainer or startContainer hook from the
 * spec; the agent refuses spec hooks outside CreateSandbox's guest hook directory unless
 * this debugging option is on (src/container/validate.c).
 */
#define UNCONFINED "agent.debug_unconfined_paths=1"

enum {
	OK = 0,
	INVALID = 3,
	DEADLINE = 4,
	PRECONDITION = 9,
	ABORTED = 10,
	PENDING = -1, /* no answer yet: WaitProcess on a live process */
};

/* --- helpers --------------------------------------------------------------------------- */

static void must(int code, const char *what)
{
	if (code != 0)
		FAIL("%s: code %d", what, code);
}

static void create_ok(struct ctr_env *e, const char *cid, Grpc__Spec *spec)
{
	char *msg = NULL;
	int code = ctr_create(e, cid, spec, &msg);
	if (code)
		FAIL("create %s: %d %s", cid, code, msg);
	free(msg);
}

static void start_ok(struct ctr_env *e, const char *cid)
{
	char *msg = NULL;
	int code = ctr_start(e, cid, &msg);
	if (code)
		FAIL("start %s: %d %s", cid, code, msg);
	free(msg);
}

static unsigned send_create(struct ctr_env *e, const char *cid, Grpc__Spec *spec)
{
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	req.container_id = req.exec_id = (char *)cid;
	req.oci = spec;
	return itest_send(e->c, "CreateContainer", &req.base);
}

static unsigned send_start(struct ctr_env *e, const char *cid)
{
	Grpc__StartContainerRequest req = GRPC__START_CONTAINER_REQUEST__INIT;
	req.container_id = (char *)cid;
	return itest_send(e->c, "StartContainer", &req.base);
}

static unsigned send_exec(struct ctr_env *e, const char *cid, const char *eid, Grpc__Process *p)
{
	Grpc__ExecProcessRequest req = GRPC__EXEC_PROCESS_REQUEST__INIT;
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	req.process = p;
	return itest_send(e->c, "ExecProcess", &req.base);
}

static unsigned send_wait(struct ctr_env *e, const char *cid, const char *eid)
{
	Grpc__WaitProcessRequest req = GRPC__WAIT_PROCESS_REQUEST__INIT;
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	return itest_send(e->c, "WaitProcess", &req.base);
}

static unsigned send_remove(struct ctr_env *e, const char *cid)
{
	Grpc__RemoveContainerRequest req = GRPC__REMOVE_CONTAINER_REQUEST__INIT;
	req.container_id = (char *)cid;
	return itest_send(e->c, "RemoveContainer", &req.base);
}

/* The status code of a sent call, or PENDING if none came within ms. msg gets the message. */
static int recv_code(struct ctr_env *e, unsigned sid, int ms, char **msg)
{
	struct ttrpc_reply r = {0};
	agent_error_t *err = NULL;
	int rc = ttrpc_client_recv(e->c, sid, ms, &r, &err);

	if (rc == -ETIMEDOUT) {
		agent_error_free(err);
		return PENDING;
	}
	if (rc < 0)
		FAIL("recv: %s", err ? err->msg : strerror(-rc));
	int code = r.code;
	if (msg)
		*msg = strdup(r.message ? r.message : "");
	ttrpc_reply_clear(&r);
	return code;
}

/* WaitProcess's answer: the exit status (the call itself must succeed). */
static int recv_wait_status(struct ctr_env *e, unsigned sid, int ms)
{
	struct ttrpc_reply r = {0};
	agent_error_t *err = NULL;
	int rc = ttrpc_client_recv(e->c, sid, ms, &r, &err);

	if (rc < 0)
		FAIL("WaitProcess: no answer (%s)", err ? err->msg : strerror(-rc));
	ASSERT_EQ(r.code, 0);
	Grpc__WaitProcessResponse *w = grpc__wait_process_response__unpack(
		NULL, r.len, r.payload ? r.payload : (uint8_t *)"");
	ASSERT_NOT_NULL(w);
	int status = w->status;
	grpc__wait_process_response__free_unpacked(w, NULL);
	ttrpc_reply_clear(&r);
	return status;
}

static int simple_call(struct ctr_env *e, const char *method, const char *cid)
{
	/* Pause, Resume and Stats share the shape {container_id}. */
	Grpc__PauseContainerRequest req = GRPC__PAUSE_CONTAINER_REQUEST__INIT;
	req.container_id = (char *)cid;
	if (strcmp(method, "StatsContainer") == 0)
		return ctr_call(e, method, &req.base, &grpc__stats_container_response__descriptor,
				NULL, NULL);
	return ctr_call(e, method, &req.base, &google__protobuf__empty__descriptor, NULL, NULL);
}

static int update_memory(struct ctr_env *e, const char *cid, int64_t limit)
{
	Grpc__UpdateContainerRequest ur = GRPC__UPDATE_CONTAINER_REQUEST__INIT;
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxMemory mem = GRPC__LINUX_MEMORY__INIT;
	mem.limit = limit;
	res.memory = &mem;
	ur.container_id = (char *)cid;
	ur.resources = &res;
	return ctr_call(e, "UpdateContainer", &ur.base, &google__protobuf__empty__descriptor, NULL,
			NULL);
}

static bool path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static bool cgroup_exists(const struct ctr_env *e, const char *cid)
{
	char path[256];
	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s%s/%s", e->v2 ? "" : "memory", e->cgparent,
		 cid);
	return path_exists(path);
}

static bool bundle_exists(const char *cid)
{
	char path[256];
	snprintf(path, sizeof(path), "/run/kata-containers/%s", cid);
	return path_exists(path);
}

static int mount_count(void)
{
	char line[4096];
	int n = 0;
	FILE *f = fopen("/proc/self/mountinfo", "r");
	ASSERT_NOT_NULL(f);
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

static bool mounted_at(const char *mp)
{
	char line[4096], pat[512];
	bool found = false;
	FILE *f = fopen("/proc/self/mountinfo", "r");
	ASSERT_NOT_NULL(f);
	snprintf(pat, sizeof(pat), " %s ", mp);
	while (fgets(line, sizeof(line), f))
		found |= strstr(line, pat) != NULL;
	fclose(f);
	return found;
}

/* The agent's only child (a parked init), or -1. */
static pid_t agent_child(const struct ctr_env *e)
{
	char cmd[64];
	int pid = -1;
	snprintf(cmd, sizeof(cmd), "pgrep -P %d", (int)e->agent.pid);
	FILE *f = popen(cmd, "r");
	ASSERT_NOT_NULL(f);
	if (fscanf(f, "%d", &pid) != 1)
		pid = -1;
	pclose(f);
	return pid;
}

static bool write_freezer(const struct ctr_env *e, const char *cid, const char *state)
{
	char path[256];
	snprintf(path, sizeof(path), "/sys/fs/cgroup/freezer%s/%s/freezer.state", e->cgparent, cid);
	FILE *f = fopen(path, "w");
	if (!f)
		return false;
	bool ok = fputs(state, f) >= 0;
	return fclose(f) == 0 && ok;
}

/* A hook that sleeps: createContainer hooks run with the host's /bin/sh (before the pivot). */
struct slow_hook {
	Grpc__Hooks hooks;
	Grpc__Hook hook, *hookp;
	char *args[3];
};

static void slow_create_hook(struct slow_hook *h, Grpc__Spec *spec)
{
	grpc__hooks__init(&h->hooks);
	grpc__hook__init(&h->hook);
	h->args[0] = "sh";
	h->args[1] = "-c";
	h->args[2] = "sleep 30";
	h->hook.path = "/bin/sh";
	h->hook.args = h->args;
	h->hook.n_args = 3;
	h->hook.timeout = 60;
	h->hookp = &h->hook;
	h->hooks.createcontainer = &h->hookp;
	h->hooks.n_createcontainer = 1;
	spec->hooks = &h->hooks;
}

/* startContainer hooks run in the container: the payload sleeps. */
static void slow_start_hook(struct slow_hook *h, Grpc__Spec *spec)
{
	grpc__hooks__init(&h->hooks);
	grpc__hook__init(&h->hook);
	h->args[0] = "payload";
	h->args[1] = "sleep";
	h->args[2] = "30";
	h->hook.path = "/bin/payload";
	h->hook.args = h->args;
	h->hook.n_args = 3;
	h->hook.timeout = 60;
	h->hookp = &h->hook;
	h->hooks.startcontainer = &h->hookp;
	h->hooks.n_startcontainer = 1;
	spec->hooks = &h->hooks;
}

/* --- the parked init dies (a created container's process) ------------------------------- */

enum park_kill { KILL_SIGNAL9, KILL_SIGTERM, KILL_BY_EXEC_ID, KILL_FROM_OUTSIDE, KILL_AFTER_PAUSE };

static void parked_init_dies(enum park_kill how)
{
	struct ctr_env e;
	ctr_env_setup_cmdline(&e, false, UNCONFINED);
	const char *args[] = {"sleep", "100", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "c1", args);
	create_ok(&e, "c1", ctr_spec_get(s));
	switch (how) {
	case KILL_SIGNAL9:
		must(ctr_signal(&e, "c1", "", SIGKILL), "SignalProcess 9");
		break;
	case KILL_SIGTERM:
		must(ctr_signal(&e, "c1", "", SIGTERM), "SignalProcess 15");
		break;
	case KILL_BY_EXEC_ID:
		must(ctr_signal(&e, "c1", "c1", SIGKILL), "SignalProcess 9 by exec id");
		break;
	case KILL_FROM_OUTSIDE: {
		pid_t pid = agent_child(&e);
		ASSERT_TRUE(pid > 0);
		ASSERT_EQ(kill(pid, SIGKILL), 0);
		break;
	}
	case KILL_AFTER_PAUSE:
		must(simple_call(&e, "PauseContainer", "c1"), "pause");
		must(simple_call(&e, "ResumeContainer", "c1"), "resume");
		must(ctr_signal(&e, "c1", "", SIGKILL), "SignalProcess 9");
		break;
	}
	/* The exit is reported (137), the agent is alive, and the container can go. */
	ASSERT_EQ(ctr_wait(&e, "c1", "c1"), 128 + SIGKILL);
	ASSERT_TRUE(itest_alive(e.agent.pid));
	itest_check_serving(e.c);
	char *msg = NULL;
	ASSERT_EQ(ctr_start(&e, "c1", &msg), PRECONDITION);
	free(msg);
	ASSERT_EQ(ctr_remove(&e, "c1"), OK);
	ASSERT_FALSE(cgroup_exists(&e, "c1"));
	ASSERT_FALSE(bundle_exists("c1"));
	/* The id works again. */
	create_ok(&e, "c1", ctr_spec_get(s));
	ASSERT_EQ(ctr_remove(&e, "c1"), OK);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(parked_init_killed_by_signal_process, 60)
{
	parked_init_dies(KILL_SIGNAL9);
}

TEST_TIMEOUT(parked_init_sigterm, 60)
{
	parked_init_dies(KILL_SIGTERM);
}

TEST_TIMEOUT(parked_init_killed_by_exec_id, 60)
{
	parked_init_dies(KILL_BY_EXEC_ID);
}

TEST_TIMEOUT(parked_init_killed_from_inside_the_guest, 60)
{
	parked_init_dies(KILL_FROM_OUTSIDE);
}

TEST_TIMEOUT(parked_init_killed_after_pause_resume, 60)
{
	parked_init_dies(KILL_AFTER_PAUSE);
}

/* --- Pause and Resume before Start ------------------------------------------------------- */

TEST_TIMEOUT(pause_resume_before_start_keeps_created, 60)
{
	struct ctr_env e;
	ctr_env_setup_cmdline(&e, false, UNCONFINED);
	const char *args[] = {"exit", "7", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "pr", args);
	create_ok(&e, "pr", ctr_spec_get(s));
	must(simple_call(&e, "PauseContainer", "pr"), "pause");
	char *msg = NULL;
	ASSERT_EQ(ctr_start(&e, "pr", &msg), PRECONDITION); /* paused: not now */
	free(msg);
	must(simple_call(&e, "ResumeContainer", "pr"), "resume");
	ASSERT_EQ(simple_call(&e, "ResumeContainer", "pr"), PRECONDITION);
	start_ok(&e, "pr"); /* created again, so it starts */
	ASSERT_EQ(ctr_wait(&e, "pr", "pr"), 7);
	ASSERT_EQ(ctr_remove(&e, "pr"), OK);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

/* --- a failed Start -------------------------------------------------------------------- */

TEST_TIMEOUT(failed_start_leaves_the_container_stopped, 60)
{
	struct ctr_env e;
	ctr_env_setup_cmdline(&e, false, UNCONFINED);
	char path[256];
	/* A program that is there at create and gone at start: the start's exec fails. */
	snprintf(path, sizeof(path), "%s/bin/payload", e.rootfs);
	char gone[256];
	snprintf(gone, sizeof(gone), "%s/bin/gone", e.rootfs);
	ASSERT_EQ(link(path, gone), 0);
	const char *args[] = {"sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "fs", args);
	Grpc__Spec *spec = ctr_spec_get(s);
	char *arg0 = spec->process->args[0];
	spec->process->args[0] = "/bin/gone";
	create_ok(&e, "fs", spec);
	spec->process->args[0] = arg0;
	ASSERT_EQ(unlink(gone), 0);
	char *msg = NULL;
	int code = ctr_start(&e, "fs", &msg);
	ASSERT_NE(code, OK);
	ASSERT_NE(code, PENDING);
	free(msg);
	msg = NULL;
	/* Not running: a second Start, Pause, Update and Exec are refused, Wait answers. */
	ASSERT_EQ(ctr_start(&e, "fs", &msg), PRECONDITION);
	free(msg);
	ASSERT_EQ(simple_call(&e, "PauseContainer", "fs"), PRECONDITION);
	ASSERT_EQ(update_memory(&e, "fs", 100 << 20), PRECONDITION);
	Grpc__Process *p = ctr_process_new((const char *[]){"exit", "0", NULL});
	ASSERT_EQ(ctr_exec(&e, "fs", "x", p, NULL), PRECONDITION);
	ctr_process_free(p);
	/* The child reports the failed exec and exits 127, or is killed first (137). */
	int status = ctr_wait(&e, "fs", "fs");
	ASSERT_TRUE(status == 127 || status == 128 + SIGKILL);
	ASSERT_EQ(ctr_remove(&e, "fs"), OK);
	ASSERT_FALSE(cgroup_exists(&e, "fs"));
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

/* --- Remove while a step is under way -------------------------------------------------- */

TEST_TIMEOUT(remove_during_start_answers_the_start, 60)
{
	struct ctr_env e;
	ctr_env_setup_cmdline(&e, false, UNCONFINED);
	const char *args[] = {"sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "rs", args);
	struct slow_hook h;
	slow_start_hook(&h, ctr_spec_get(s));
	create_ok(&e, "rs", ctr_spec_get(s));
	unsigned st = send_start(&e, "rs");
	ASSERT_EQ(recv_code(&e, st, 300, NULL), PENDING); /* the hook holds it */
	char *msg = NULL;
	ASSERT_EQ(ctr_start(&e, "rs", &msg), PRECONDITION); /* no second Start meanwhile */
	free(msg);
	ASSERT_EQ(ctr_remove(&e, "rs"), OK);
	ASSERT_EQ(recv_code(&e, st, 3000, NULL), ABORTED);
	ASSERT_FALSE(cgroup_exists(&e, "rs"));
	ASSERT_FALSE(bundle_exists("rs"));
	ASSERT_TRUE(itest_alive(e.agent.pid));
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(remove_during_exec_answers_the_exec, 60)
{
	struct ctr_env e;
	ctr_env_setup_cmdline(&e, false, UNCONFINED);
	const char *args[] = {"sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "re", args);
	create_ok(&e, "re", ctr_spec_get(s));
	start_ok(&e, "re");
	/* Frozen behind the agent's back: the exec's child stops as it joins the cgroup. */
	if (!write_freezer(&e, "re", "FROZEN")) {
		ctr_remove(&e, "re");
		ctr_env_teardown(&e);
		SKIP("no v1 freezer for the container here");
	}
	Grpc__Process *p = ctr_process_new((const char *[]){"exit", "0", NULL});
	unsigned ex = send_exec(&e, "re", "x", p);
	ASSERT_EQ(recv_code(&e, ex, 500, NULL), PENDING);
	ASSERT_EQ(ctr_remove(&e, "re"), OK);
	ASSERT_EQ(recv_code(&e, ex, 3000, NULL), ABORTED);
	ASSERT_FALSE(cgroup_exists(&e, "re"));
	ASSERT_TRUE(itest_alive(e.agent.pid));
	ctr_process_free(p);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(remove_aborts_a_blocked_create, 60)
{
	struct ctr_env e;
	ctr_env_setup_cmdline(&e, false, UNCONFINED);
	const char *args[] = {"sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "rc", args);
	struct slow_hook h;
	slow_create_hook(&h, ctr_spec_get(s));
	unsigned cr = send_create(&e, "rc", ctr_spec_get(s));
	ASSERT_EQ(recv_code(&e, cr, 300, NULL), PENDING);
	char *msg = NULL;
	ASSERT_EQ(ctr_start(&e, "rc", &msg), PRECONDITION);
	free(msg);
	double t0 = itest_now_s();
	ASSERT_EQ(ctr_remove(&e, "rc"), OK);
	ASSERT_EQ(recv_code(&e, cr, 3000, NULL), ABORTED);
	ASSERT_TRUE(itest_now_s() - t0 < 3);
	ASSERT_FALSE(cgroup_exists(&e, "rc"));
	ASSERT_FALSE(bundle_exists("rc"));
	/* The id is free again. */
	ctr_spec_get(s)->hooks = NULL;
	create_ok(&e, "rc", ctr_spec_get(s));
	ASSERT_EQ(ctr_remove(&e, "rc"), OK);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(remove_aborts_a_create_waiting_for_its_disk, 60)
{
	struct ctr_env e;
	ctr_env_setup_cmdline(&e, false, UNCONFINED " agent.hotplug_timeout=30s");
	Grpc__Storage st = GRPC__STORAGE__INIT, *sts[] = {&st};
	st.driver = "mmioblk";
	st.source = "/dev/vdzw";
	st.fstype = "ext4";
	st.mount_point = "/run/kata-containers/sandbox/storage/later";
	const char *args[] = {"exit", "0", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "wd", args);
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	req.container_id = req.exec_id = "wd";
	req.oci = ctr_spec_get(s);
	req.storages = sts;
	req.n_storages = 1;
	unsigned cr = itest_send(e.c, "CreateContainer", &req.base);
	ASSERT_EQ(recv_code(&e, cr, 300, NULL), PENDING);
	ASSERT_EQ(ctr_remove(&e, "wd"), OK);
	char *msg = NULL;
	ASSERT_EQ(recv_code(&e, cr, 3000, &msg), ABORTED);
	ASSERT_NOT_NULL(strstr(msg, "wd"));
	free(msg);
	ASSERT_FALSE(bundle_exists("wd"));
	ASSERT_EQ(ctr_remove(&e, "wd"), 13); /* gone: "Invalid container id" */
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

/* --- agent.launch_process_timeout --------------------------------------------------------- */

TEST_TIMEOUT(blocked_create_times_out_and_cleans_up, 60)
{
	struct ctr_env e;
	ctr_env_setup_cmdline(&e, false, UNCONFINED " agent.launch_process_timeout=2s");
	int mounts0 = mount_count();
	const char *args[] = {"sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "to", args);
	struct slow_hook h;
	slow_create_hook(&h, ctr_spec_get(s));
	double t0 = itest_now_s();
	unsigned cr = send_create(&e, "to", ctr_spec_get(s));
	char *msg = NULL;
	ASSERT_EQ(recv_code(&e, cr, 8000, &msg), DEADLINE);
	double took = itest_now_s() - t0;
	ASSERT_TRUE(took >= 1.5 && took < 6);
	ASSERT_NOT_NULL(strstr(msg, "to"));
	free(msg);
	ASSERT_FALSE(cgroup_exists(&e, "to"));
	ASSERT_FALSE(bundle_exists("to"));
	ASSERT_EQ(mount_count(), mounts0);
	ASSERT_EQ(agent_child(&e), -1);
	ctr_spec_get(s)->hooks = NULL;
	create_ok(&e, "to", ctr_spec_get(s));
	ASSERT_EQ(ctr_remove(&e, "to"), OK);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(blocked_start_times_out_and_stops, 60)
{
	struct ctr_env e;
	ctr_env_setup_cmdline(&e, false, UNCONFINED " agent.launch_process_timeout=2s");
	const char *args[] = {"sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "ts", args);
	struct slow_hook h;
	slow_start_hook(&h, ctr_spec_get(s));
	create_ok(&e, "ts", ctr_spec_get(s));
	double t0 = itest_now_s();
	unsigned st = send_start(&e, "ts");
	ASSERT_EQ(recv_code(&e, st, 8000, NULL), DEADLINE);
	ASSERT_TRUE(itest_now_s() - t0 < 6);
	/* The init was killed: the container is stopped. */
	int status = ctr_wait(&e, "ts", "ts");
	ASSERT_EQ(status, 128 + SIGKILL);
	char *msg = NULL;
	ASSERT_EQ(ctr_start(&e, "ts", &msg), PRECONDITION);
	free(msg);
	ASSERT_EQ(update_memory(&e, "ts", 100 << 20), PRECONDITION);
	ASSERT_EQ(ctr_remove(&e, "ts"), OK);
	ASSERT_FALSE(cgroup_exists(&e, "ts"));
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(blocked_exec_times_out, 60)
{
	struct ctr_env e;
	ctr_env_setup_cmdline(&e, false, UNCONFINED " agent.launch_process_timeout=2s");
	const char *args[] = {"sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "tx", args);
	create_ok(&e, "tx", ctr_spec_get(s));
	start_ok(&e, "tx");
	if (!write_freezer(&e, "tx", "FROZEN")) {
		ctr_remove(&e, "tx");
		ctr_env_teardown(&e);
		SKIP("no v1 freezer for the container here");
	}
	Grpc__Process *p = ctr_process_new((const char *[]){"exit", "0", NULL});
	double t0 = itest_now_s();
	unsigned ex = send_exec(&e, "tx", "x", p);
	ASSERT_EQ(recv_code(&e, ex, 8000, NULL), DEADLINE);
	ASSERT_TRUE(itest_now_s() - t0 < 6);
	ASSERT_TRUE(write_freezer(&e, "tx", "THAWED"));
	/* The container itself goes on: another exec works. */
	ASSERT_EQ(ctr_exec(&e, "tx", "y", p, NULL), OK);
	ASSERT_EQ(ctr_wait(&e, "tx", "y"), 0);
	ASSERT_EQ(ctr_remove(&e, "tx"), OK);
	ASSERT_FALSE(cgroup_exists(&e, "tx"));
	ctr_process_free(p);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

/* The reported case: /etc/passwd is a FIFO and the env has no HOME. */
TEST_TIMEOUT(fifo_passwd_create_answers, 60)
{
	struct ctr_env e;
	ctr_env_setup_cmdline(&e, false, UNCONFINED " agent.launch_process_timeout=2s");
	char path[256];
	snprintf(path, sizeof(path), "%s/etc/passwd", e.rootfs);
	ASSERT_EQ(unlink(path), 0);
	ASSERT_EQ(mkfifo(path, 0644), 0);
	int mounts0 = mount_count();
	const char *args[] = {"exit", "0", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "ff", args);
	double t0 = itest_now_s();
	unsigned cr = send_create(&e, "ff", ctr_spec_get(s));
	int code = recv_code(&e, cr, 8000, NULL);
	ASSERT_NE(code, PENDING);
	ASSERT_TRUE(itest_now_s() - t0 < 6);
	if (code == OK) {
		/* The set-up did not wait for the FIFO: then the container works. */
		start_ok(&e, "ff");
		ASSERT_EQ(ctr_wait(&e, "ff", "ff"), 0);
		ASSERT_EQ(ctr_remove(&e, "ff"), OK);
	}
	ASSERT_FALSE(cgroup_exists(&e, "ff"));
	ASSERT_FALSE(bundle_exists("ff"));
	ASSERT_EQ(mount_count(), mounts0);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

/* --- a failed create releases what it took ----------------------------------------------- */

TEST_TIMEOUT(failed_create_releases_storages_and_mounts, 60)
{
	struct ctr_env e;
	ctr_env_setup_cmdline(&e, false, UNCONFINED);
	const char *mp = "/run/kata-containers/sandbox/ephemeral/fc";
	Grpc__Storage st = GRPC__STORAGE__INIT;
	st.driver = "ephemeral";
	st.source = "tmpfs";
	st.fstype = "tmpfs";
	st.mount_point = (char *)mp;
	int mounts0 = mount_count();
	const char *args[] = {"exit", "0", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "fc", args);
	ctr_spec_bind_data(s, mp, false);
	Grpc__Spec *spec = ctr_spec_get(s);
	char *arg0 = spec->process->args[0];
	spec->process->args[0] = "/bin/nothing-here"; /* fails in the child, after the mounts */
	char *msg = NULL;
	int code = ctr_create_storage(&e, "fc", spec, &st, &msg);
	ASSERT_NE(code, OK);
	ASSERT_NOT_NULL(strstr(msg, "nothing-here"));
	free(msg);
	msg = NULL;
	ASSERT_FALSE(mounted_at(mp));
	ASSERT_FALSE(bundle_exists("fc"));
	ASSERT_FALSE(cgroup_exists(&e, "fc"));
	ASSERT_EQ(mount_count(), mounts0);
	/* No reference left behind: a good create and a remove unmount it again. */
	spec->process->args[0] = arg0;
	code = ctr_create_storage(&e, "fc", spec, &st, &msg);
	if (code)
		FAIL("create: %d %s", code, msg);
	free(msg);
	ASSERT_TRUE(mounted_at(mp));
	ASSERT_EQ(ctr_remove(&e, "fc"), OK);
	ASSERT_FALSE(mounted_at(mp));
	ASSERT_EQ(mount_count(), mounts0);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

/* --- agent-side hooks (prestart, poststart, poststop) off the loop ------------------------- */

/*
 * The sandbox's guest hook directory, as real users have it: CreateSandbox with
 * guest_hook_path, one script per kind below it (the script gets its name and its kind as
 * $0 $1 and the OCI state on stdin). kinds[i] is "prestart", "poststart" or "poststop",
 * bodies[i] the shell text; n of them.
 */
#define HOOK_DIR "/run/hooks"
#define HOOK_LOG "/run/hooks.log"

static void write_hook(const char *kind, const char *body)
{
	char path[256];
	snprintf(path, sizeof(path), HOOK_DIR "/%s", kind);
	ASSERT_TRUE(mkdir(path, 0755) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), HOOK_DIR "/%s/hook", kind);
	FILE *f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	ASSERT_EQ(fclose(f), 0);
	ASSERT_EQ(chmod(path, 0755), 0);
}

static void hooks_sandbox(struct ctr_env *e, const char *const *kinds, const char *const *bodies,
			  int n)
{
	ASSERT_TRUE(mkdir(HOOK_DIR, 0755) == 0 || errno == EEXIST);
	for (int i = 0; i < n; i++)
		write_hook(kinds[i], bodies[i]);
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	req.sandbox_id = "hooks";
	req.guest_hook_path = HOOK_DIR;
	char *msg = NULL;
	int code = ctr_call(e, "CreateSandbox", &req.base, &google__protobuf__empty__descriptor,
			    NULL, &msg);
	if (code)
		FAIL("CreateSandbox: %d %s", code, msg);
	free(msg);
}

static char *read_all_text(const char *path)
{
	static char buf[16384];
	size_t n = 0;
	FILE *f = fopen(path, "r");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* The agent has no child left within a second (a killed one is reaped meanwhile). */
static bool no_agent_child_soon(const struct ctr_env *e)
{
	for (int i = 0; i < 100; i++) {
		if (agent_child(e) == -1)
			return true;
		usleep(10000);
	}
	return false;
}

/* Health Check and a call on another container, each answered within 200 ms. */
static void loop_is_free(struct ctr_env *e, const char *other)
{
	double t0 = itest_now_s();
	itest_check_serving(e->c);
	double t1 = itest_now_s();
	must(simple_call(e, "StatsContainer", other), "StatsContainer on the other container");
	double t2 = itest_now_s();
	if (t1 - t0 > 0.2 || t2 - t1 > 0.2)
		FAIL("the loop was blocked: Check took %.0f ms, StatsContainer %.0f ms",
		     (t1 - t0) * 1000, (t2 - t1) * 1000);
}

TEST_TIMEOUT(slow_poststart_hook_leaves_the_loop_free, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *kinds[] = {"poststart"};
	const char *bodies[] = {"sleep 3"};
	hooks_sandbox(&e, kinds, bodies, 1);
	const char *args[] = {"sleep", "30", NULL};
	struct ctr_spec *s1 = ctr_spec_new(&e, "h1", args), *s2 = ctr_spec_new(&e, "h2", args);
	create_ok(&e, "h1", ctr_spec_get(s1));
	create_ok(&e, "h2", ctr_spec_get(s2));
	double t0 = itest_now_s();
	unsigned st = send_start(&e, "h1");
	ASSERT_EQ(recv_code(&e, st, 500, NULL), PENDING); /* the poststart hook holds it */
	loop_is_free(&e, "h2");
	/* The start answers once its poststart hook is done: not before, and OK. */
	ASSERT_EQ(recv_code(&e, st, 10000, NULL), OK);
	ASSERT_TRUE(itest_now_s() - t0 >= 2.9);
	ASSERT_EQ(ctr_remove(&e, "h1"), OK);
	ASSERT_EQ(ctr_remove(&e, "h2"), OK);
	ctr_spec_free(s1);
	ctr_spec_free(s2);
	ctr_env_teardown(&e);
}

/* Each hook logs its kind, the container's state and the OCI state it was given. */
TEST_TIMEOUT(hooks_run_in_order_with_the_state, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *kinds[] = {"prestart", "poststart", "poststop"};
	const char *bodies[] = {"echo \"$1 $(cat)\" >> " HOOK_LOG,
				"echo \"$1 $(cat)\" >> " HOOK_LOG,
				"sleep 1; echo \"$1 $(cat)\" >> " HOOK_LOG};
	hooks_sandbox(&e, kinds, bodies, 3);
	const char *args[] = {"sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "ho", args);
	create_ok(&e, "ho", ctr_spec_get(s));
	char *log = read_all_text(HOOK_LOG);
	ASSERT_NOT_NULL(strstr(log, "prestart {"));
	ASSERT_NULL(strstr(log, "poststart"));
	ASSERT_NOT_NULL(strstr(log, "\"id\":\"ho\""));
	ASSERT_NOT_NULL(strstr(log, "\"bundle\":\"/run/kata-containers/ho\""));
	ASSERT_NULL(strstr(log, "\"pid\":0,")); /* the init's pid is known by then */
	start_ok(&e, "ho");
	log = read_all_text(HOOK_LOG);
	char *post = strstr(log, "poststart {");
	ASSERT_NOT_NULL(post);
	ASSERT_NOT_NULL(strstr(post, "\"status\":\"running\""));
	ASSERT_NULL(strstr(log, "poststop"));
	/* Remove answers after the poststop hook ran, and the loop stays free meanwhile. */
	unsigned rm = send_remove(&e, "ho");
	ASSERT_EQ(recv_code(&e, rm, 300, NULL), PENDING);
	double t0 = itest_now_s();
	itest_check_serving(e.c);
	ASSERT_TRUE(itest_now_s() - t0 < 0.2);
	ASSERT_EQ(recv_code(&e, rm, 10000, NULL), OK);
	log = read_all_text(HOOK_LOG);
	char *stop = strstr(log, "poststop {");
	ASSERT_NOT_NULL(stop);
	ASSERT_TRUE(strstr(log, "prestart {") < strstr(log, "poststart {"));
	ASSERT_TRUE(strstr(log, "poststart {") < stop);
	ASSERT_NOT_NULL(strstr(stop, "\"status\":\"stopped\""));
	ASSERT_FALSE(cgroup_exists(&e, "ho"));
	ASSERT_FALSE(bundle_exists("ho"));
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(remove_during_a_slow_poststart_answers_both, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *kinds[] = {"poststart", "poststop"};
	const char *bodies[] = {"exec sleep 8", "echo stopped >> " HOOK_LOG};
	hooks_sandbox(&e, kinds, bodies, 2);
	const char *args[] = {"sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "hr", args);
	create_ok(&e, "hr", ctr_spec_get(s));
	unsigned st = send_start(&e, "hr");
	ASSERT_EQ(recv_code(&e, st, 500, NULL), PENDING);
	double t0 = itest_now_s();
	unsigned rm = send_remove(&e, "hr");
	ASSERT_EQ(recv_code(&e, st, 3000, NULL), ABORTED);
	ASSERT_EQ(recv_code(&e, rm, 3000, NULL), OK);
	ASSERT_TRUE(itest_now_s() - t0 < 2);
	ASSERT_NOT_NULL(strstr(read_all_text(HOOK_LOG), "stopped"));
	ASSERT_FALSE(cgroup_exists(&e, "hr"));
	ASSERT_FALSE(bundle_exists("hr"));
	/* The abandoned hook was killed: no sleep of ours is left. */
	ASSERT_TRUE(no_agent_child_soon(&e));
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(remove_during_a_slow_prestart_aborts_the_create, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *kinds[] = {"prestart"};
	const char *bodies[] = {"exec sleep 8"};
	hooks_sandbox(&e, kinds, bodies, 1);
	const char *args[] = {"sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "hp", args);
	unsigned cr = send_create(&e, "hp", ctr_spec_get(s));
	ASSERT_EQ(recv_code(&e, cr, 500, NULL), PENDING); /* the prestart hook holds it */
	/* Still CREATING meanwhile: Start is refused, the loop is free. */
	char *msg = NULL;
	ASSERT_EQ(ctr_start(&e, "hp", &msg), PRECONDITION);
	free(msg);
	double t0 = itest_now_s();
	itest_check_serving(e.c);
	ASSERT_TRUE(itest_now_s() - t0 < 0.2);
	unsigned rm = send_remove(&e, "hp");
	ASSERT_EQ(recv_code(&e, cr, 3000, NULL), ABORTED);
	ASSERT_EQ(recv_code(&e, rm, 3000, NULL), OK);
	ASSERT_TRUE(itest_now_s() - t0 < 2);
	ASSERT_FALSE(cgroup_exists(&e, "hp"));
	ASSERT_FALSE(bundle_exists("hp"));
	ASSERT_TRUE(no_agent_child_soon(&e)); /* the abandoned hook was killed */
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

/* As the upstream agent does: a failing prestart hook fails the create. */
TEST_TIMEOUT(failing_prestart_hook_fails_the_create, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *kinds[] = {"prestart"};
	const char *bodies[] = {"exit 3"};
	hooks_sandbox(&e, kinds, bodies, 1);
	const char *args[] = {"sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "hf", args);
	char *msg = NULL;
	int code = ctr_create(&e, "hf", ctr_spec_get(s), &msg);
	ASSERT_NE(code, OK);
	ASSERT_NOT_NULL(strstr(msg, "prestart"));
	free(msg);
	ASSERT_FALSE(cgroup_exists(&e, "hf"));
	ASSERT_FALSE(bundle_exists("hf"));
	ASSERT_EQ(agent_child(&e), -1);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

/* --- signals never reach a recycled pid ---------------------------------------------------- */

/*
 * The agent runs in a pid namespace of the test's, whose PID 1 (the holder) mounts its
 * /proc and, on request, forks a sentinel at a chosen pid through ns_last_pid. A user+pid
 * namespace container's init is a grandchild: the child that forked it exits at once and
 * is reaped while the create goes on (here held by a slow createContainer hook). Its pid
 * is then free; the sentinel takes it; SignalProcess and RemoveContainer must not hit it.
 */
struct holder {
	pid_t pid; /* in the test's pid namespace */
	int req, resp; /* our ends of the pipes */
};

static void holder_main(int req, int resp)
{
	pid_t sentinel = -1;
	int want;

	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		_exit(2);
	for (;;) {
		if (read(req, &want, sizeof(want)) != sizeof(want))
			_exit(0);
		int answer = -1;
		if (want > 0) { /* fork the sentinel at pid want */
			char buf[32];
			int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
			int n = snprintf(buf, sizeof(buf), "%d", want - 1);
			if (fd >= 0 && write(fd, buf, n) == n) {
				sentinel = fork();
				if (sentinel == 0) {
					for (;;)
						pause();
				}
				answer = sentinel;
			}
			if (fd >= 0)
				close(fd);
		} else if (want == 0) { /* is the sentinel alive (not killed by a signal)? */
			int st;
			answer = sentinel > 0 && waitpid(sentinel, &st, WNOHANG) == 0;
		}
		if (write(resp, &answer, sizeof(answer)) != sizeof(answer))
			_exit(1);
	}
}

static int holder_ask(struct holder *h, int what)
{
	int answer = -2;
	ASSERT_EQ(write(h->req, &what, sizeof(what)), (ssize_t)sizeof(what));
	ASSERT_EQ(read(h->resp, &answer, sizeof(answer)), (ssize_t)sizeof(answer));
	return answer;
}

/* The pid (in the holder's namespace, as /proc shows it now) of the process named comm. */
static pid_t ns_pid_of(const char *comm, pid_t ppid)
{
	char path[64], line[256];
	pid_t found = -1;
	for (pid_t pid = 2; pid < 4096 && found < 0; pid++) {
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		bool name_ok = comm == NULL, parent_ok = ppid <= 0;
		while (fgets(line, sizeof(line), f)) {
			if (comm && strncmp(line, "Name:\t", 6) == 0)
				name_ok = strncmp(line + 6, comm, strlen(comm)) == 0;
			if (ppid > 0 && strncmp(line, "PPid:\t", 6) == 0)
				parent_ok = atoi(line + 6) == ppid;
		}
		fclose(f);
		if (name_ok && parent_ok)
			found = pid;
	}
	return found;
}

TEST_TIMEOUT(signals_never_reach_a_recycled_pid, 90)
{
	if (access("/proc/self/ns/user", F_OK) < 0 || access("/proc/self/ns/pid", F_OK) < 0)
		SKIP("no user or pid namespaces");
	if (unshare(CLONE_NEWNS) < 0)
		SKIP("cannot make a mount namespace: %s", strerror(errno));
	ASSERT_EQ(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	int own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(own_pidns >= 0);
	if (unshare(CLONE_NEWPID) < 0)
		SKIP("cannot make a pid namespace: %s", strerror(errno));
	int req[2], resp[2];
	ASSERT_EQ(pipe2(req, O_CLOEXEC), 0);
	ASSERT_EQ(pipe2(resp, O_CLOEXEC), 0);
	struct holder h = {.pid = fork()};
	ASSERT_TRUE(h.pid >= 0);
	if (h.pid == 0) {
		close(req[1]);
		close(resp[0]);
		holder_main(req[0], resp[1]);
	}
	close(req[0]);
	close(resp[1]);
	h.req = req[1];
	h.resp = resp[0];
	/* Its /proc is ours once it answers. */
	ASSERT_EQ(holder_ask(&h, -1), -1);

	struct ctr_env e;
	ctr_env_setup_cmdline(&e, false, UNCONFINED);
	/* The agent runs in the holder's namespace; this process's later children (a
	 * sanitizer's tracer among them) are born in ours again, which outlives the holder. */
	ASSERT_EQ(setns(own_pidns, CLONE_NEWPID), 0);
	close(own_pidns);
	const char *args[] = {"sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "pr", args);
	Grpc__Spec *spec = ctr_spec_get(s);
	Grpc__LinuxNamespace userns = GRPC__LINUX_NAMESPACE__INIT;
	userns.type = "user";
	userns.path = "";
	Grpc__Linux *lx = spec->linux;
	size_t nns = lx->n_namespaces;
	Grpc__LinuxNamespace **nss = calloc(nns + 1, sizeof(*nss));
	ASSERT_NOT_NULL(nss);
	memcpy(nss, lx->namespaces, nns * sizeof(*nss));
	nss[nns] = &userns;
	Grpc__LinuxNamespace **old_nss = lx->namespaces;
	lx->namespaces = nss;
	lx->n_namespaces = nns + 1;
	Grpc__LinuxIDMapping m = GRPC__LINUX_IDMAPPING__INIT, *mp = &m;
	m.hostid = 100000;
	m.size = 65536;
	lx->uidmappings = lx->gidmappings = &mp;
	lx->n_uidmappings = lx->n_gidmappings = 1;
	struct slow_hook sh;
	slow_create_hook(&sh, spec);

	unsigned cr = send_create(&e, "pr", spec);
	int code = recv_code(&e, cr, 1000, NULL);
	if (code != PENDING)
		SKIP("the user+pid namespace create answered %d at once (no user namespaces?)",
		     code);
	/* The init (the agent's child now) waits in its hook; the pid before it is free. */
	pid_t agent = ns_pid_of("kata-agent", 0);
	ASSERT_TRUE(agent > 0);
	pid_t init = ns_pid_of(NULL, agent);
	ASSERT_TRUE(init > 0);
	pid_t gone = init - 1;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d", (int)gone);
	ASSERT_FALSE(path_exists(path));
	ASSERT_EQ(holder_ask(&h, gone), gone);
	/* The init by its exec id: a no-op answer, the sentinel untouched. */
	ASSERT_EQ(ctr_signal(&e, "pr", "pr", SIGUSR1), OK);
	usleep(100000);
	ASSERT_EQ(holder_ask(&h, 0), 1);
	/* RemoveContainer's SIGKILLs neither. */
	unsigned rm = send_remove(&e, "pr");
	ASSERT_EQ(recv_code(&e, cr, 5000, NULL), ABORTED);
	ASSERT_EQ(recv_code(&e, rm, 5000, NULL), OK);
	usleep(100000);
	ASSERT_EQ(holder_ask(&h, 0), 1);
	ASSERT_FALSE(cgroup_exists(&e, "pr"));
	lx->namespaces = old_nss;
	lx->n_namespaces = nns;
	lx->uidmappings = lx->gidmappings = NULL;
	lx->n_uidmappings = lx->n_gidmappings = 0;
	free(nss);
	spec->hooks = NULL;
	ctr_spec_free(s);
	ctr_env_teardown(&e);
	/* The holder is PID 1 there: its end ends the sentinel too. */
	close(h.req);
	close(h.resp);
	kill(h.pid, SIGKILL);
	waitpid(h.pid, NULL, 0);
	/* Our own /proc again (the holder's covered it in our shared mount namespace). */
	ASSERT_EQ(umount2("/proc", MNT_DETACH), 0);
}

/* --- every container RPC in every state ------------------------------------------------- */

enum state { S_CREATING, S_CREATED, S_STARTING, S_RUNNING, S_PAUSED, S_PAUSED_CREATED, S_STOPPED };
static const char *const state_names[] = {"creating", "created",	  "starting", "running",
					  "paused",   "paused (created)", "stopped"};

enum op { O_START, O_EXEC, O_SIGNAL, O_PAUSE, O_RESUME, O_UPDATE, O_STATS, O_WAIT, O_REMOVE, O_N };
static const char *const op_names[] = {"Start",	 "Exec",  "Signal", "Pause", "Resume",
				       "Update", "Stats", "Wait",   "Remove"};

/* What each call answers in each state (docs/lifecycle.md). */
static const int expected[][O_N] = {
	[S_CREATING] = {PRECONDITION, PRECONDITION, OK, PRECONDITION, PRECONDITION, PRECONDITION,
			PRECONDITION, PENDING, OK},
	[S_CREATED] = {OK, OK, OK, OK, PRECONDITION, OK, OK, PENDING, OK},
	[S_STARTING] = {PRECONDITION, OK, OK, PRECONDITION, PRECONDITION, OK, OK, PENDING, OK},
	[S_RUNNING] = {PRECONDITION, OK, OK, OK, PRECONDITION, OK, OK, PENDING, OK},
	[S_PAUSED] = {PRECONDITION, PRECONDITION, OK, PRECONDITION, OK, OK, OK, PENDING, OK},
	[S_PAUSED_CREATED] = {PRECONDITION, PRECONDITION, OK, PRECONDITION, OK, OK, OK, PENDING,
			      OK},
	[S_STOPPED] = {PRECONDITION, PRECONDITION, OK, PRECONDITION, PRECONDITION, PRECONDITION, OK,
		       128 + SIGKILL, OK},
};

struct in_state {
	struct ctr_spec *s;
	struct slow_hook h;
	unsigned pending; /* the Create or Start still under way, or 0 */
};

static void enter(struct ctr_env *e, const char *cid, enum state st, struct in_state *is)
{
	const char *args[] = {"sleep", "60", NULL};
	memset(is, 0, sizeof(*is));
	is->s = ctr_spec_new(e, cid, args);
	Grpc__Spec *spec = ctr_spec_get(is->s);
	if (st == S_CREATING) {
		slow_create_hook(&is->h, spec);
		is->pending = send_create(e, cid, spec);
		ASSERT_EQ(recv_code(e, is->pending, 300, NULL), PENDING);
		return;
	}
	if (st == S_STARTING)
		slow_start_hook(&is->h, spec);
	create_ok(e, cid, spec);
	switch (st) {
	case S_STARTING:
		is->pending = send_start(e, cid);
		ASSERT_EQ(recv_code(e, is->pending, 300, NULL), PENDING);
		break;
	case S_RUNNING:
		start_ok(e, cid);
		break;
	case S_PAUSED:
		start_ok(e, cid);
		must(simple_call(e, "PauseContainer", cid), "pause");
		break;
	case S_PAUSED_CREATED:
		must(simple_call(e, "PauseContainer", cid), "pause");
		break;
	case S_STOPPED:
		start_ok(e, cid);
		must(ctr_signal(e, cid, "", SIGKILL), "kill");
		/* Reaped (gone from the agent's children), not waited for: Wait still answers. */
		for (int i = 0; i < 300 && agent_child(e) > 0; i++)
			usleep(10 * 1000);
		ASSERT_EQ(agent_child(e), -1);
		break;
	default:
		break;
	}
}

/* Removes it (if the call did not) and collects a step it aborted. */
static void leave(struct ctr_env *e, const char *cid, struct in_state *is, bool removed)
{
	if (!removed)
		ASSERT_EQ(ctr_remove(e, cid), OK);
	if (is->pending) {
		int code = recv_code(e, is->pending, 3000, NULL);
		ASSERT_EQ(code, ABORTED);
	}
	ASSERT_FALSE(cgroup_exists(e, cid));
	ASSERT_FALSE(bundle_exists(cid));
	ctr_spec_free(is->s);
}

static int call_op(struct ctr_env *e, const char *cid, enum op op, struct in_state *is)
{
	Grpc__Process *p;
	int code;
	unsigned sid;

	switch (op) {
	case O_START:
		return ctr_start(e, cid, NULL);
	case O_EXEC:
		p = ctr_process_new((const char *[]){"exit", "0", NULL});
		code = ctr_exec(e, cid, "x", p, NULL);
		ctr_process_free(p);
		return code;
	case O_SIGNAL:
		return ctr_signal(e, cid, "", 0);
	case O_PAUSE:
		return simple_call(e, "PauseContainer", cid);
	case O_RESUME:
		return simple_call(e, "ResumeContainer", cid);
	case O_UPDATE:
		return update_memory(e, cid, 200 << 20);
	case O_STATS:
		return simple_call(e, "StatsContainer", cid);
	case O_WAIT: {
		struct ttrpc_reply r = {0};
		agent_error_t *err = NULL;
		sid = send_wait(e, cid, cid);
		code = ttrpc_client_recv(e->c, sid, 300, &r, &err);
		agent_error_free(err);
		if (code == -ETIMEDOUT) {
			/* Answered when the container goes: its init is killed. */
			ASSERT_EQ(ctr_remove(e, cid), OK);
			ASSERT_EQ(recv_wait_status(e, sid, 3000), 128 + SIGKILL);
			return PENDING;
		}
		ASSERT_EQ(code, 0);
		code = r.code;
		if (code == OK) {
			Grpc__WaitProcessResponse *w = grpc__wait_process_response__unpack(
				NULL, r.len, r.payload ? r.payload : (uint8_t *)"");
			ASSERT_NOT_NULL(w);
			code = w->status;
			grpc__wait_process_response__free_unpacked(w, NULL);
		}
		ttrpc_reply_clear(&r);
		return code;
	}
	case O_REMOVE:
		return ctr_remove(e, cid);
	default:
		return -100;
	}
	(void)is;
}

TEST_TIMEOUT(every_rpc_in_every_state, 300)
{
	struct ctr_env e;
	ctr_env_setup_cmdline(&e, false, UNCONFINED);
	int bad = 0, n = 0;
	char cid[32];

	for (int st = 0; st <= S_STOPPED; st++) {
		for (int op = 0; op < O_N; op++) {
			struct in_state is;
			snprintf(cid, sizeof(cid), "t%d-%d", st, op);
			enter(&e, cid, st, &is);
			int got = call_op(&e, cid, op, &is);
			int want = expected[st][op];
			if (got != want) {
				fprintf(stderr, "%s in %s: got %d, want %d\n", op_names[op],
					state_names[st], got, want);
				bad++;
			}
			n++;
			bool removed = op == O_REMOVE || (op == O_WAIT && got == PENDING);
			if (op == O_REMOVE && got != OK)
				removed = false;
			leave(&e, cid, &is, removed);
			ASSERT_TRUE(itest_alive(e.agent.pid));
		}
	}
	ASSERT_EQ(agent_child(&e), -1);
	ctr_env_teardown(&e);
	if (bad)
		FAIL("%d of %d answers differ from the table", bad, n);
}
