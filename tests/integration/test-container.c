// SPDX-License-Identifier: Apache-2.0
/*
 * Containers end to end: the real agent (in a private mount namespace of the
 * test) creates real containers with namespaces and cgroups, runs the static
 * test payload in them, and the tests assert on what the payload reports.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctr.h"
#include "harness.h"

TEST_TIMEOUT(create_start_report, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"report", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "c1", args);
	int code;
	char *out = ctr_run(&e, "c1", ctr_spec_get(s), &code);

	ASSERT_EQ(code, 0);
	ctr_assert_value(out, "pid", "1");
	ctr_assert_value(out, "uid", "0");
	ctr_assert_value(out, "hostname", "h-c1");
	ctr_assert_value(out, "env.CTR_TEST", "yes");
	ctr_assert_value(out, "env.HOME", "/root");
	ctr_assert_value(out, "cwd", "/");
	ctr_assert_value(out, "no_new_privs", "0");
	/* The default set above: CHOWN..AUDIT_WRITE. */
	ctr_assert_value(out, "cap_bnd", "00000000a80425fb");
	ctr_assert_value(out, "cap_eff", "00000000a80425fb");
	ASSERT_NOT_NULL(strstr(out, "mount=/proc proc"));
	/* The agent raises its own fd limit; containers get the one it was started with. */
	struct rlimit rl;
	char want[64];
	getrlimit(RLIMIT_NOFILE, &rl);
	snprintf(want, sizeof(want), "%llu:%llu", (unsigned long long)rl.rlim_cur,
		 (unsigned long long)rl.rlim_max);
	ctr_assert_value(out, "rlimit.NOFILE", want);
	ASSERT_EQ(ctr_remove(&e, "c1"), 0);
	struct stat st;
	ASSERT_TRUE(stat("/run/kata-containers/c1", &st) < 0 && errno == ENOENT);
	free(out);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(user_groups_and_no_new_privs, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"report", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "c2", args);
	Grpc__Spec *spec = ctr_spec_get(s);
	uint32_t gids[] = {10, 20};
	int code;

	ctr_spec_set_user(s, 1000, 1000);
	spec->process->user->additionalgids = gids;
	spec->process->user->n_additionalgids = 2;
	spec->process->nonewprivileges = true;
	char *out = ctr_run(&e, "c2", spec, &code);
	ASSERT_EQ(code, 0);
	ctr_assert_value(out, "uid", "1000");
	ctr_assert_value(out, "gid", "1000");
	ctr_assert_value(out, "groups", "10,20");
	ctr_assert_value(out, "no_new_privs", "1");
	ctr_assert_value(out, "env.HOME", "/home/u");
	ctr_assert_value(out, "cap_eff", "0000000000000000");
	ASSERT_EQ(ctr_remove(&e, "c2"), 0);
	free(out);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(exec_joins_the_container, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "c3", args);
	char *msg = NULL;

	ASSERT_EQ(ctr_create(&e, "c3", ctr_spec_get(s), NULL), 0);
	ASSERT_EQ(ctr_start(&e, "c3", NULL), 0);
	const char *xargs[] = {"report", NULL};
	Grpc__Process *p = ctr_process_new(xargs);
	ASSERT_EQ(ctr_exec(&e, "c3", "x1", p, &msg), 0);
	free(msg);
	char *out = ctr_read_all(&e, "c3", "x1", false, NULL);
	ASSERT_EQ(ctr_wait(&e, "c3", "x1"), 0);
	ctr_assert_value(out, "hostname", "h-c3");
	char *pid = ctr_report_value(out, "pid");
	ASSERT_NOT_NULL(pid);
	ASSERT_TRUE(atoi(pid) > 1); /* in the container's pid namespace, not its init */
	ASSERT_TRUE(atoi(pid) < 100);
	free(pid);
	/* The same exec id again is refused; a missing program fails at once. */
	ASSERT_EQ(ctr_exec(&e, "c3", "x1", p, NULL), 0); /* x1 was waited: the id is free */
	ASSERT_EQ(ctr_wait(&e, "c3", "x1"), 0);
	Grpc__Process *bad = ctr_process_new(NULL);
	free(bad->args[0]);
	bad->args[0] = strdup("/no/such/program");
	double t0 = itest_now_s();
	int code = ctr_exec(&e, "c3", "x2", bad, &msg);
	ASSERT_NE(code, 0);
	ASSERT_TRUE(itest_now_s() - t0 < 5);
	ASSERT_NOT_NULL(strstr(msg, "/no/such/program"));
	free(msg);
	ASSERT_EQ(ctr_signal(&e, "c3", "", SIGKILL), 0);
	ASSERT_EQ(ctr_wait(&e, "c3", "c3"), 128 + SIGKILL);
	ASSERT_EQ(ctr_remove(&e, "c3"), 0);
	free(out);
	ctr_process_free(p);
	ctr_process_free(bad);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(output_survives_exit_and_wait, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"write-stdout", "40000", "--", "write-stderr", "1000", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "c4", args);
	size_t n_out, n_err;

	ASSERT_EQ(ctr_create(&e, "c4", ctr_spec_get(s), NULL), 0);
	ASSERT_EQ(ctr_start(&e, "c4", NULL), 0);
	/* Wait first: the bytes are in the pipes, and must all still come out. */
	ASSERT_EQ(ctr_wait(&e, "c4", "c4"), 0);
	char *out = ctr_read_all(&e, "c4", "c4", false, &n_out);
	char *err = ctr_read_all(&e, "c4", "c4", true, &n_err);
	ASSERT_EQ(n_out, 40000);
	ASSERT_EQ(n_err, 1000);
	ASSERT_EQ(ctr_remove(&e, "c4"), 0);
	free(out);
	free(err);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(daemonised_grandchild_does_not_hang_reads, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"echo", "hello", "--", "daemon", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "c5", args);
	int code;

	double t0 = itest_now_s();
	char *out = ctr_run(&e, "c5", ctr_spec_get(s), &code);
	ASSERT_EQ(code, 0);
	ASSERT_TRUE(strcmp(out, "hello\n") == 0);
	ASSERT_TRUE(itest_now_s() - t0 < 10);
	ASSERT_EQ(ctr_remove(&e, "c5"), 0);
	free(out);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(signals_and_sigterm_to_init, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *a1[] = {"wait-signal", NULL};
	struct ctr_spec *s1 = ctr_spec_new(&e, "c6", a1);
	ASSERT_EQ(ctr_create(&e, "c6", ctr_spec_get(s1), NULL), 0);
	ASSERT_EQ(ctr_start(&e, "c6", NULL), 0);
	usleep(200 * 1000);
	ASSERT_EQ(ctr_signal(&e, "c6", "", SIGTERM), 0);
	char *out = ctr_read_all(&e, "c6", "c6", false, NULL);
	ASSERT_EQ(ctr_wait(&e, "c6", "c6"), 0);
	ASSERT_NOT_NULL(strstr(out, "got SIGTERM"));
	free(out);
	/* An init without a SIGTERM handler would ignore it: the agent sends SIGKILL. */
	const char *a2[] = {"sleep", "30", NULL};
	struct ctr_spec *s2 = ctr_spec_new(&e, "c7", a2);
	ASSERT_EQ(ctr_create(&e, "c7", ctr_spec_get(s2), NULL), 0);
	ASSERT_EQ(ctr_start(&e, "c7", NULL), 0);
	ASSERT_EQ(ctr_signal(&e, "c7", "", SIGTERM), 0);
	ASSERT_EQ(ctr_wait(&e, "c7", "c7"), 128 + SIGKILL);
	/* Signal to an exited process: fine. Unknown exec id: NOT_FOUND. */
	ASSERT_EQ(ctr_signal(&e, "c7", "c7", SIGTERM), 5);
	ASSERT_EQ(ctr_signal(&e, "c7", "nope", SIGTERM), 5);
	ASSERT_EQ(ctr_signal(&e, "nope", "", SIGTERM), 3);
	ASSERT_EQ(ctr_remove(&e, "c6"), 0);
	ASSERT_EQ(ctr_remove(&e, "c7"), 0);
	ctr_spec_free(s1);
	ctr_spec_free(s2);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(duplicate_create_and_second_start, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "c8", args);
	char *msg = NULL;

	ASSERT_EQ(ctr_create(&e, "c8", ctr_spec_get(s), NULL), 0);
	ASSERT_EQ(ctr_create(&e, "c8", ctr_spec_get(s), &msg), 6); /* ALREADY_EXISTS */
	free(msg);
	/* The first one is untouched: it starts and runs. */
	ASSERT_EQ(ctr_start(&e, "c8", NULL), 0);
	double t0 = itest_now_s();
	ASSERT_NE(ctr_start(&e, "c8", &msg), 0);
	ASSERT_TRUE(itest_now_s() - t0 < 2);
	free(msg);
	ASSERT_EQ(ctr_signal(&e, "c8", "", SIGKILL), 0);
	ASSERT_EQ(ctr_wait(&e, "c8", "c8"), 128 + SIGKILL);
	ASSERT_EQ(ctr_remove(&e, "c8"), 0);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(bad_spec_leaves_nothing_behind, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"report", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "c9", args);
	Grpc__Spec *spec = ctr_spec_get(s);
	char *msg = NULL;
	struct stat st;

	spec->root->path = "relative/rootfs";
	ASSERT_EQ(ctr_create(&e, "c9", spec, &msg), 3);
	ASSERT_NOT_NULL(strstr(msg, "root"));
	free(msg);
	ASSERT_TRUE(stat("/run/kata-containers/c9", &st) < 0);
	char cg[256];
	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/memory%s/c9", e.cgparent);
	ASSERT_TRUE(stat(cg, &st) < 0);
	/* Bad ids. */
	ASSERT_EQ(ctr_create(&e, "../x", spec, NULL), 3);
	ASSERT_EQ(ctr_create(&e, "a/b", spec, NULL), 3);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(container_pipe_size_option, 60)
{
	struct ctr_env e;
	ctr_env_setup_cmdline(&e, false, "agent.container_pipe_size=1048576");
	const char *args[] = {"pipe-size", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "ps", args);
	int code;
	char *out = ctr_run(&e, "ps", ctr_spec_get(s), &code);
	ASSERT_EQ(code, 0);
	ctr_assert_value(out, "pipe_size", "1048576");
	free(out);
	ASSERT_EQ(ctr_remove(&e, "ps"), 0);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}
