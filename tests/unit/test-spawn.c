/* SPDX-License-Identifier: Apache-2.0 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"
#include "loop/spawn.h"

struct env {
	struct loop *l;
	struct reaper r;
	struct spawn_result res;
	char out[4096];
	int calls;
};

static void on_chld(const struct signalfd_siginfo *si, void *data)
{
	reaper_reap(data);
}

static void done(const struct spawn_result *res, void *data)
{
	struct env *e = data;
	e->res = *res;
	snprintf(e->out, sizeof(e->out), "%s", res->out);
	e->res.out = e->res.err = NULL;
	e->calls++;
}

static void setup(struct env *e)
{
	memset(e, 0, sizeof(*e));
	reaper_init(&e->r);
	ASSERT_EQ(loop_new(&e->l), 0);
	ASSERT_EQ(loop_signal_add(e->l, SIGCHLD, on_chld, &e->r), 0);
}

static void run(struct env *e, char *const argv[], const char *in, uint64_t timeout, size_t max)
{
	ASSERT_EQ(spawn_run(e->l, &e->r, argv, in, in ? strlen(in) : 0, timeout, max, done, e, NULL,
			    NULL),
		  0);
	while (e->calls == 0)
		ASSERT_TRUE(loop_run_once(e->l, 5000) > 0);
	ASSERT_EQ(e->calls, 1);
}

TEST(spawn_feeds_input_and_collects_output)
{
	struct env e;
	setup(&e);
	char *argv[] = {"/bin/cat", NULL};
	run(&e, argv, "hello\nworld\n", 5000, 1 << 20);
	ASSERT_TRUE(WIFEXITED(e.res.status) && WEXITSTATUS(e.res.status) == 0);
	ASSERT_STREQ(e.out, "hello\nworld\n");
	ASSERT_FALSE(e.res.timed_out);
	loop_free(e.l);
	reaper_release(&e.r);
}

TEST(spawn_kills_at_the_deadline)
{
	struct env e;
	setup(&e);
	char *argv[] = {"/bin/sleep", "20", NULL};
	run(&e, argv, NULL, 100, 1024);
	ASSERT_TRUE(e.res.timed_out);
	ASSERT_TRUE(WIFSIGNALED(e.res.status) && WTERMSIG(e.res.status) == SIGKILL);
	loop_free(e.l);
	reaper_release(&e.r);
}

TEST(spawn_bounds_output)
{
	struct env e;
	setup(&e);
	char *argv[] = {"/bin/sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x", NULL};
	run(&e, argv, NULL, 5000, 1000);
	ASSERT_TRUE(e.res.truncated);
	ASSERT_EQ(e.res.out_len, 1000);
	loop_free(e.l);
	reaper_release(&e.r);
}

TEST(spawn_exec_failure_is_exit_127_and_sigpipe_is_default)
{
	struct env e;
	setup(&e);
	char *argv[] = {"/nonexistent/tool", NULL};
	run(&e, argv, NULL, 5000, 1024);
	ASSERT_TRUE(WIFEXITED(e.res.status) && WEXITSTATUS(e.res.status) == 127);
	/* The child must not inherit the agent's ignored SIGPIPE or blocked signals. */
	struct env f;
	setup(&f);
	signal(SIGPIPE, SIG_IGN);
	char *argv2[] = {"/bin/sh", "-c", "grep -E '^(SigIgn|SigBlk)' /proc/self/status", NULL};
	run(&f, argv2, NULL, 5000, 4096);
	ASSERT_NOT_NULL(strstr(f.out, "SigBlk:\t0000000000000000"));
	/* SIGPIPE is bit 13 (value 0x1000): not ignored. */
	const char *ign = strstr(f.out, "SigIgn:\t");
	ASSERT_NOT_NULL(ign);
	unsigned long long mask = strtoull(ign + 8, NULL, 16);
	ASSERT_EQ(mask & (1ULL << (SIGPIPE - 1)), 0);
	loop_free(e.l);
	reaper_release(&e.r);
	loop_free(f.l);
	reaper_release(&f.r);
}

static int child_work(void *arg)
{
	const char *what = arg;
	printf("child says %s\n", what);
	fflush(stdout);
	return strcmp(what, "fail") == 0 ? -1 : 0;
}

/* A function run in a forked child: its output comes back, its result is the exit status. */
TEST(spawn_call_runs_a_function_in_a_child)
{
	struct env e;
	setup(&e);
	ASSERT_EQ(spawn_call(e.l, &e.r, "work", child_work, "hello", 5000, 4096, done, &e, NULL,
			     NULL),
		  0);
	while (e.calls == 0)
		ASSERT_TRUE(loop_run_once(e.l, 5000) > 0);
	ASSERT_TRUE(WIFEXITED(e.res.status) && WEXITSTATUS(e.res.status) == 0);
	ASSERT_STREQ(e.out, "child says hello\n");
	e.calls = 0;
	ASSERT_EQ(
		spawn_call(e.l, &e.r, "work", child_work, "fail", 5000, 4096, done, &e, NULL, NULL),
		0);
	while (e.calls == 0)
		ASSERT_TRUE(loop_run_once(e.l, 5000) > 0);
	ASSERT_TRUE(WIFEXITED(e.res.status) && WEXITSTATUS(e.res.status) == 1);
	loop_free(e.l);
	reaper_release(&e.r);
}
