/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* An fd the agent opened without O_CLOEXEC never reaches a helper. */
TEST(spawn_helper_gets_no_stray_fd)
{
	struct env e;
	setup(&e);
	int p[2];
	ASSERT_EQ(pipe(p), 0);
	ASSERT_EQ(dup2(p[0], 50), 50); /* no O_CLOEXEC */
	char *argv[] = {"/bin/ls", "/proc/self/fd", NULL};
	run(&e, argv, NULL, 5000, 4096);
	ASSERT_TRUE(WIFEXITED(e.res.status) && WEXITSTATUS(e.res.status) == 0);
	ASSERT_NOT_NULL(strstr(e.out, "2\n"));
	ASSERT_NULL(strstr(e.out, "50\n"));
	close(50);
	close(p[0]);
	close(p[1]);
	loop_free(e.l);
	reaper_release(&e.r);
}

TEST(spawn_exec_gives_its_env_discards_output_and_reports_exec_errno)
{
	struct env e;
	setup(&e);
	char *argv[] = {"sh", "-c", "echo x; test \"$ONLY\" = yes && test -z \"$HOME\"", NULL};
	char *envp[] = {"ONLY=yes", NULL};
	struct spawn_cmd cmd = {
		.path = "/bin/sh", .argv = argv, .envp = envp, .discard_output = true};
	ASSERT_EQ(spawn_exec(e.l, &e.r, &cmd, NULL, 0, 5000, 4096, done, &e, NULL, NULL), 0);
	while (e.calls == 0)
		ASSERT_TRUE(loop_run_once(e.l, 5000) > 0);
	ASSERT_TRUE(WIFEXITED(e.res.status) && WEXITSTATUS(e.res.status) == 0);
	ASSERT_STREQ(e.out, "");
	ASSERT_EQ(e.res.exec_errno, 0);
	e.calls = 0;
	struct spawn_cmd missing = {.path = "/nonexistent/hook", .argv = argv};
	ASSERT_EQ(spawn_exec(e.l, &e.r, &missing, NULL, 0, 5000, 4096, done, &e, NULL, NULL), 0);
	while (e.calls == 0)
		ASSERT_TRUE(loop_run_once(e.l, 5000) > 0);
	ASSERT_EQ(e.res.exec_errno, ENOENT);
	struct spawn_cmd relative = {.path = "sh", .argv = argv};
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(spawn_exec(e.l, &e.r, &relative, NULL, 0, 5000, 4096, done, &e, NULL, &err),
		  -EINVAL);
	loop_free(e.l);
	reaper_release(&e.r);
}

/* The blocking form waits for its own child only: another child's exit stays for its owner. */
TEST(spawn_exec_sync_feeds_input_kills_at_the_deadline_and_reaps_only_its_own)
{
	pid_t other = fork();
	ASSERT_TRUE(other >= 0);
	if (other == 0)
		_exit(5);
	usleep(50 * 1000);
	char *argv[] = {"sh", "-c", "read x; test \"$x\" = hello", NULL};
	struct spawn_cmd cmd = {.path = "/bin/sh", .argv = argv};
	struct spawn_result res;
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(spawn_exec_sync(&cmd, "hello\n", 6, 5000, &res, &err), 0);
	ASSERT_TRUE(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0);
	ASSERT_FALSE(res.timed_out);
	char *sleeper[] = {"sleep", "30", NULL};
	struct spawn_cmd slow = {.path = "/bin/sleep", .argv = sleeper};
	uint64_t t0 = loop_now_ms();
	ASSERT_EQ(spawn_exec_sync(&slow, NULL, 0, 300, &res, &err), 0);
	ASSERT_TRUE(res.timed_out);
	ASSERT_TRUE(WIFSIGNALED(res.status) && WTERMSIG(res.status) == SIGKILL);
	ASSERT_TRUE(loop_now_ms() - t0 < 2000);
	int st = 0;
	ASSERT_EQ(waitpid(other, &st, WNOHANG), other);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 5);
	ASSERT_EQ(waitpid(-1, NULL, WNOHANG), -1); /* nothing else left behind */
}
