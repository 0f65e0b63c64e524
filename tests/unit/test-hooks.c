/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container/hooks.h"
#include "harness.h"
#include "loop/loop.h"
#include "loop/reaper.h"

static char *slurp(const char *path)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t n = 0;
	ssize_t r;
	while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = '\0';
	return buf;
}

static void tmpfile_path(char *buf, size_t n)
{
	snprintf(buf, n, "/tmp/test-hooks-%d-XXXXXX", (int)getpid());
	int fd = mkstemp(buf);
	ASSERT_TRUE(fd >= 0);
	close(fd);
}

/* A hook running "/bin/sh -c SCRIPT" with the given env. */
static void sh_hook(Grpc__Hook *h, char **argv, const char *script, char **env, size_t n_env)
{
	grpc__hook__init(h);
	h->path = "/bin/sh";
	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = (char *)script;
	h->args = argv;
	h->n_args = 3;
	h->env = env;
	h->n_env = n_env;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

TEST(hook_gets_state_json_on_stdin)
{
	char file[64], script[128];
	tmpfile_path(file, sizeof(file));
	snprintf(script, sizeof(script), "cat > %s", file);
	Grpc__Hook h;
	char *argv[3];
	sh_hook(&h, argv, script, NULL, 0);

	Grpc__Spec spec = GRPC__SPEC__INIT;
	Grpc__Spec__AnnotationsEntry a1 = GRPC__SPEC__ANNOTATIONS_ENTRY__INIT;
	a1.key = "io.kubernetes.cri.container-type";
	a1.value = "container";
	Grpc__Spec__AnnotationsEntry *ann[] = {&a1};
	spec.annotations = ann;
	spec.n_annotations = 1;
	_cleanup_free_ char *json = oci_state_json("c1", "created", 42, "/run/b", &spec);
	ASSERT_NOT_NULL(json);

	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(hook_run(&h, json, &err), 0);
	ASSERT_STREQ(slurp(file), json);
	ASSERT_STREQ(json,
		     "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"created\",\"pid\":42,"
		     "\"bundle\":\"/run/b\",\"annotations\":{\"io.kubernetes.cri.container-"
		     "type\":\"container\"}}");
	unlink(file);
}

TEST(hook_env_is_exactly_the_hook_env)
{
	char file[64], script[160];
	tmpfile_path(file, sizeof(file));
	/* The shell's own initial environment, as execve gave it. */
	snprintf(script, sizeof(script), "tr '\\0' '\\n' < /proc/$$/environ > %s", file);
	char *env[] = {"A=1", "B=two words", "PATH=/usr/bin:/bin"};
	Grpc__Hook h;
	char *argv[3];
	sh_hook(&h, argv, script, env, 3);
	setenv("SHOULD_NOT_LEAK", "x", 1);
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(hook_run(&h, "{}", &err), 0);
	ASSERT_STREQ(slurp(file), "A=1\nB=two words\nPATH=/usr/bin:/bin\n");
	unlink(file);
}

TEST(hook_gets_clean_signal_state_and_devnull_output)
{
	char file[64], script[400];
	tmpfile_path(file, sizeof(file));
	/*
	 * Look at the shell's fds from a command substitution (dash applies a simple
	 * command's redirections in the shell itself), and at the signal state of an
	 * exec'd grep (dash blocks everything while it waits for a child).
	 */
	snprintf(script, sizeof(script),
		 "x=$(readlink /proc/$$/fd/1 /proc/$$/fd/2); echo \"$x\" > %s; "
		 "exec grep -E '^Sig(Blk|Ign)' /proc/self/status >> %s",
		 file, file);
	Grpc__Hook h;
	char *argv[3];
	char *env[] = {"PATH=/usr/bin:/bin"};
	sh_hook(&h, argv, script, env, 1);
	/* The agent blocks signals for its signalfd and may ignore some: hooks must not inherit it.
	 */
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	signal(SIGINT, SIG_IGN);
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(hook_run(&h, "{}", &err), 0);
	const char *got = slurp(file);
	const char *want = "/dev/null\n/dev/null\nSigBlk:\t0000000000000000\nSigIgn:\t";
	ASSERT_TRUE(strncmp(got, want, strlen(want)) == 0);
	/*
	 * Signals 32-34 are the C library's own (glibc refuses to touch them): one
	 * inherited ignored from whoever started the test (make does) stays so.
	 */
	char *end;
	unsigned long long ign = strtoull(got + strlen(want), &end, 16);
	ASSERT_EQ(*end, '\n');
	ASSERT_EQ(ign & ~0x380000000ULL, 0);
	unlink(file);
}

TEST(hook_args_default_to_path)
{
	char file[64], script[128];
	tmpfile_path(file, sizeof(file));
	/* No args: argv is [path]; the script sees $0 = /bin/sh via a wrapper file. */
	snprintf(script, sizeof(script), "#!/bin/sh\necho \"$0 $#\" > %s.out\n", file);
	int fd = open(file, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, script, strlen(script)), (ssize_t)strlen(script));
	close(fd);
	ASSERT_EQ(chmod(file, 0755), 0);
	Grpc__Hook h = GRPC__HOOK__INIT;
	h.path = file;
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(hook_run(&h, "{}", &err), 0);
	char out[80], expect[80];
	snprintf(out, sizeof(out), "%s.out", file);
	snprintf(expect, sizeof(expect), "%s 0\n", file);
	ASSERT_STREQ(slurp(out), expect);
	unlink(out);
	unlink(file);
}

TEST_TIMEOUT(hook_timeout_kills_and_reaps, 15)
{
	Grpc__Hook h = GRPC__HOOK__INIT;
	char *argv[] = {"sleep", "30"};
	h.path = "/bin/sleep";
	h.args = argv;
	h.n_args = 2;
	h.timeout = 1;
	_cleanup_error_ agent_error_t *err = NULL;
	double t0 = now_s();
	ASSERT_EQ(hook_run(&h, "{}", &err), -ETIMEDOUT);
	double dt = now_s() - t0;
	ASSERT_TRUE(dt >= 0.9 && dt < 3.0);
	ASSERT_NOT_NULL(err);
	ASSERT_NOT_NULL(strstr(err->msg, "/bin/sleep"));
	ASSERT_NOT_NULL(strstr(err->msg, "timed out"));
	/* The hook was reaped: no child is left. */
	ASSERT_EQ(waitpid(-1, NULL, WNOHANG), -1);
	ASSERT_EQ(errno, ECHILD);
}

TEST(hook_nonzero_exit_is_reported)
{
	Grpc__Hook h;
	char *argv[3];
	sh_hook(&h, argv, "exit 7", NULL, 0);
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_TRUE(hook_run(&h, "{}", &err) < 0);
	ASSERT_NOT_NULL(err);
	ASSERT_NOT_NULL(strstr(err->msg, "exited with status 7"));
	ASSERT_NOT_NULL(strstr(err->msg, "/bin/sh"));
}

TEST(hook_killed_by_signal_is_reported)
{
	Grpc__Hook h;
	char *argv[3];
	sh_hook(&h, argv, "kill -9 $$", NULL, 0);
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_TRUE(hook_run(&h, "{}", &err) < 0);
	ASSERT_NOT_NULL(strstr(err->msg, "killed by signal 9"));
}

TEST(hook_exec_failure_is_reported)
{
	Grpc__Hook h = GRPC__HOOK__INIT;
	h.path = "/nonexistent/hook";
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(hook_run(&h, "{}", &err), -ENOENT);
	ASSERT_NOT_NULL(strstr(err->msg, "/nonexistent/hook"));
}

TEST(hook_relative_path_refused)
{
	Grpc__Hook h = GRPC__HOOK__INIT;
	h.path = "sh";
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(hook_run(&h, "{}", &err), -EINVAL);
}

TEST(hook_not_reading_large_state_does_not_hang_or_sigpipe)
{
	/* 1 MiB of state, far above a pipe's capacity; the hook never reads it and exits. */
	size_t n = 1 << 20;
	_cleanup_free_ char *big = malloc(n + 1);
	ASSERT_NOT_NULL(big);
	memset(big, 'x', n);
	big[n] = '\0';
	Grpc__Hook h;
	char *argv[3];
	sh_hook(&h, argv, "exit 0", NULL, 0);
	h.timeout = 5;
	_cleanup_error_ agent_error_t *err = NULL;
	double t0 = now_s();
	ASSERT_EQ(hook_run(&h, big, &err), 0);
	ASSERT_TRUE(now_s() - t0 < 2.0);
	/* No SIGPIPE is left pending either. */
	sigset_t pending;
	sigpending(&pending);
	ASSERT_FALSE(sigismember(&pending, SIGPIPE));
}

TEST(hook_reads_large_state_fully)
{
	char file[64], script[128];
	tmpfile_path(file, sizeof(file));
	snprintf(script, sizeof(script), "sleep 0.2; exec wc -c > %s", file);
	size_t n = 1 << 20;
	_cleanup_free_ char *big = malloc(n + 1);
	ASSERT_NOT_NULL(big);
	memset(big, 'y', n);
	big[n] = '\0';
	char *env[] = {"PATH=/usr/bin:/bin"};
	Grpc__Hook h;
	char *argv[3];
	sh_hook(&h, argv, script, env, 1);
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(hook_run(&h, big, &err), 0);
	ASSERT_STREQ(slurp(file), "1048576\n");
	unlink(file);
}

TEST(hook_waits_only_for_its_own_child)
{
	pid_t other = fork();
	ASSERT_TRUE(other >= 0);
	if (other == 0)
		_exit(5);
	usleep(100 * 1000); /* the other child is a zombie now */
	Grpc__Hook h;
	char *argv[3];
	sh_hook(&h, argv, "exit 0", NULL, 0);
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(hook_run(&h, "{}", &err), 0);
	int st = 0;
	ASSERT_EQ(waitpid(other, &st, WNOHANG), other);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 5);
}

TEST(state_json_escapes_quotes_backslashes_and_control_chars)
{
	Grpc__Spec spec = GRPC__SPEC__INIT;
	Grpc__Spec__AnnotationsEntry a1 = GRPC__SPEC__ANNOTATIONS_ENTRY__INIT;
	Grpc__Spec__AnnotationsEntry a2 = GRPC__SPEC__ANNOTATIONS_ENTRY__INIT;
	a1.key = "k\"1";
	a1.value = "v\\1\n";
	a2.key = "ctl";
	a2.value = "\x01\x1f\t\r\xc3\xa9\xff";
	Grpc__Spec__AnnotationsEntry *ann[] = {&a1, &a2};
	spec.annotations = ann;
	spec.n_annotations = 2;
	_cleanup_free_ char *json = oci_state_json("id\"x", "running", 7, "/b\\d", &spec);
	ASSERT_NOT_NULL(json);
	ASSERT_STREQ(json, "{\"ociVersion\":\"1.0.2\",\"id\":\"id\\\"x\",\"status\":\"running\","
			   "\"pid\":7,\"bundle\":\"/b\\\\d\",\"annotations\":{\"k\\\"1\":"
			   "\"v\\\\1\\n\",\"ctl\":\"\\u0001\\u001f\\t\\r\xc3\xa9\\ufffd\"}}");

	/* And a real JSON parser agrees. */
	struct json_object *o = json_tokener_parse(json);
	ASSERT_NOT_NULL(o);
	struct json_object *v;
	ASSERT_TRUE(json_object_object_get_ex(o, "id", &v));
	ASSERT_STREQ(json_object_get_string(v), "id\"x");
	ASSERT_TRUE(json_object_object_get_ex(o, "pid", &v));
	ASSERT_EQ(json_object_get_int(v), 7);
	struct json_object *ann_o;
	ASSERT_TRUE(json_object_object_get_ex(o, "annotations", &ann_o));
	ASSERT_TRUE(json_object_object_get_ex(ann_o, "k\"1", &v));
	ASSERT_STREQ(json_object_get_string(v), "v\\1\n");
	json_object_put(o);
}

TEST(state_json_without_spec_has_empty_annotations)
{
	_cleanup_free_ char *json = oci_state_json("c", "stopped", 0, "/b", NULL);
	ASSERT_STREQ(json,
		     "{\"ociVersion\":\"1.0.2\",\"id\":\"c\",\"status\":\"stopped\",\"pid\":0,"
		     "\"bundle\":\"/b\",\"annotations\":{}}");
}

/* Makes pidfd_open fail with ENOSYS in this test process, as on kernels before 5.3. */
static void disable_pidfd_open(void)
{
#if defined(__x86_64__)
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
	ASSERT_EQ(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	ASSERT_EQ(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
	ASSERT_EQ(syscall(SYS_pidfd_open, getpid(), 0), -1);
	ASSERT_EQ(errno, ENOSYS);
#else
	SKIP("seccomp filter for this test written for x86_64 only");
#endif
}

TEST_TIMEOUT(hook_without_pidfd_times_out_and_reaps, 15)
{
	disable_pidfd_open();
	Grpc__Hook h = GRPC__HOOK__INIT;
	char *argv[] = {"sleep", "30"};
	h.path = "/bin/sleep";
	h.args = argv;
	h.n_args = 2;
	h.timeout = 1;
	_cleanup_error_ agent_error_t *err = NULL;
	double t0 = now_s();
	ASSERT_EQ(hook_run(&h, "{}", &err), -ETIMEDOUT);
	double dt = now_s() - t0;
	ASSERT_TRUE(dt >= 0.9 && dt < 3.0);
	ASSERT_EQ(waitpid(-1, NULL, WNOHANG), -1);
	ASSERT_EQ(errno, ECHILD);
}

TEST(hook_without_pidfd_feeds_state_and_reports_exit)
{
	disable_pidfd_open();
	char file[64], script[128];
	tmpfile_path(file, sizeof(file));
	snprintf(script, sizeof(script), "cat > %s; exit 3", file);
	Grpc__Hook h;
	char *argv[3];
	sh_hook(&h, argv, script, NULL, 0);
	_cleanup_error_ agent_error_t *err = NULL;
	double t0 = now_s();
	ASSERT_TRUE(hook_run(&h, "{\"a\":1}", &err) < 0);
	ASSERT_TRUE(now_s() - t0 < 2.0);
	ASSERT_NOT_NULL(strstr(err->msg, "exited with status 3"));
	ASSERT_STREQ(slurp(file), "{\"a\":1}");
	unlink(file);
}

/* --- hooks on the loop ---------------------------------------------------------------------- */

struct arun {
	struct loop *l;
	struct reaper r;
	int done_calls, fails, r_done;
	char last_err[256];
	char first_fail[256];
};

static void arun_chld(const struct signalfd_siginfo *si, void *data)
{
	reaper_reap(data);
}

static void arun_fail(const agent_error_t *err, void *data)
{
	struct arun *a = data;
	if (a->fails++ == 0)
		snprintf(a->first_fail, sizeof(a->first_fail), "%s", err->msg);
}

static void arun_done(int r, const agent_error_t *err, void *data)
{
	struct arun *a = data;
	a->done_calls++;
	a->r_done = r;
	snprintf(a->last_err, sizeof(a->last_err), "%s", err ? err->msg : "");
}

static void arun_setup(struct arun *a)
{
	memset(a, 0, sizeof(*a));
	reaper_init(&a->r);
	ASSERT_EQ(loop_new(&a->l), 0);
	ASSERT_EQ(loop_signal_add(a->l, SIGCHLD, arun_chld, &a->r), 0);
}

static void arun_wait(struct arun *a)
{
	while (a->done_calls == 0)
		ASSERT_TRUE(loop_run_once(a->l, 10000) > 0);
	ASSERT_EQ(a->done_calls, 1);
}

static void arun_teardown(struct arun *a)
{
	loop_free(a->l);
	reaper_release(&a->r);
}

/* Three hooks append to one file, each reading the state first: order and stdin both show. */
TEST(async_hooks_run_in_order_with_the_state_on_stdin)
{
	struct arun a;
	arun_setup(&a);
	char file[64], s1[160], s2[160], s3[160];
	tmpfile_path(file, sizeof(file));
	snprintf(s1, sizeof(s1), "read s; echo \"1 $s\" >> %s", file);
	snprintf(s2, sizeof(s2), "sleep 0.2; read s; echo \"2 $s\" >> %s", file);
	snprintf(s3, sizeof(s3), "read s; echo \"3 $s\" >> %s", file);
	char *env[] = {"PATH=/usr/bin:/bin"};
	Grpc__Hook h1, h2, h3;
	char *a1[3], *a2[3], *a3[3];
	sh_hook(&h1, a1, s1, env, 1);
	sh_hook(&h2, a2, s2, env, 1);
	sh_hook(&h3, a3, s3, env, 1);
	Grpc__Hook *hooks[] = {&h1, &h2, &h3};
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(hooks_run_async(a.l, &a.r, hooks, 3, "{\"id\":\"c\"}", HOOKS_RUN_ALL, arun_fail,
				  arun_done, &a, NULL, &err),
		  0);
	ASSERT_EQ(a.done_calls, 0); /* never before it returns */
	arun_wait(&a);
	ASSERT_EQ(a.r_done, 0);
	ASSERT_EQ(a.fails, 0);
	ASSERT_STREQ(slurp(file), "1 {\"id\":\"c\"}\n2 {\"id\":\"c\"}\n3 {\"id\":\"c\"}\n");
	unlink(file);
	arun_teardown(&a);
}

struct ticker {
	struct loop *l;
	int ticks;
};

static void on_tick(struct loop_timer *t, void *data)
{
	struct ticker *k = data;
	k->ticks++;
	loop_timer_add(k->l, loop_now_ms() + 50, on_tick, k);
}

/* A hook that outlives its timeout is killed and fails; the loop kept running meanwhile. */
TEST_TIMEOUT(async_hook_timeout_kills_it_without_blocking_the_loop, 15)
{
	struct arun a;
	arun_setup(&a);
	Grpc__Hook slow = GRPC__HOOK__INIT;
	char *argv[] = {"sleep", "30"};
	slow.path = "/bin/sleep";
	slow.args = argv;
	slow.n_args = 2;
	slow.timeout = 1;
	char file[64], script[128];
	tmpfile_path(file, sizeof(file));
	unlink(file);
	snprintf(script, sizeof(script), "echo ran > %s", file);
	Grpc__Hook after;
	char *a2[3];
	sh_hook(&after, a2, script, NULL, 0);
	Grpc__Hook *hooks[] = {&slow, &after};
	struct ticker k = {a.l, 0};
	loop_timer_add(a.l, loop_now_ms() + 50, on_tick, &k);
	_cleanup_error_ agent_error_t *err = NULL;
	uint64_t t0 = loop_now_ms();
	ASSERT_EQ(hooks_run_async(a.l, &a.r, hooks, 2, "{}", HOOKS_STOP_AT_FIRST_FAILURE, arun_fail,
				  arun_done, &a, NULL, &err),
		  0);
	arun_wait(&a);
	uint64_t dt = loop_now_ms() - t0;
	ASSERT_TRUE(dt >= 900 && dt < 3000);
	ASSERT_EQ(a.r_done, -ETIMEDOUT);
	ASSERT_NOT_NULL(strstr(a.last_err, "timed out"));
	ASSERT_EQ(a.fails, 1);
	ASSERT_TRUE(k.ticks >= 10); /* ~20 ticks of 50 ms while the hook ran */
	ASSERT_TRUE(access(file, F_OK) < 0); /* stopped at the first failure */
	/* The sleeper was reaped by THE reaper: nothing left. */
	ASSERT_EQ(waitpid(-1, NULL, WNOHANG), -1);
	arun_teardown(&a);
}

/* poststart/poststop: a failing hook is reported and the next ones still run. */
TEST(async_hooks_run_all_goes_on_after_a_failure)
{
	struct arun a;
	arun_setup(&a);
	char file[64], script[128];
	tmpfile_path(file, sizeof(file));
	snprintf(script, sizeof(script), "echo ran > %s", file);
	Grpc__Hook bad, missing = GRPC__HOOK__INIT, relative = GRPC__HOOK__INIT, good;
	char *a1[3], *a2[3];
	sh_hook(&bad, a1, "exit 4", NULL, 0);
	missing.path = "/nonexistent/hook";
	relative.path = "hook";
	sh_hook(&good, a2, script, NULL, 0);
	Grpc__Hook *hooks[] = {&bad, &missing, &relative, &good};
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(hooks_run_async(a.l, &a.r, hooks, 4, "{}", HOOKS_RUN_ALL, arun_fail, arun_done,
				  &a, NULL, &err),
		  0);
	arun_wait(&a);
	ASSERT_EQ(a.r_done, 0);
	ASSERT_EQ(a.fails, 3);
	ASSERT_NOT_NULL(strstr(a.first_fail, "exited with status 4"));
	ASSERT_STREQ(slurp(file), "ran\n");
	unlink(file);
	arun_teardown(&a);
}

/* prestart/createRuntime: the first failure ends the run with its error. */
TEST(async_hooks_stop_at_the_first_failure)
{
	struct arun a;
	arun_setup(&a);
	char file[64], script[128];
	tmpfile_path(file, sizeof(file));
	unlink(file);
	snprintf(script, sizeof(script), "echo ran > %s", file);
	Grpc__Hook missing = GRPC__HOOK__INIT, good;
	char *a2[3];
	missing.path = "/nonexistent/hook";
	sh_hook(&good, a2, script, NULL, 0);
	Grpc__Hook *hooks[] = {&missing, &good};
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(hooks_run_async(a.l, &a.r, hooks, 2, "{}", HOOKS_STOP_AT_FIRST_FAILURE, NULL,
				  arun_done, &a, NULL, &err),
		  0);
	arun_wait(&a);
	ASSERT_EQ(a.r_done, -ENOENT);
	ASSERT_NOT_NULL(strstr(a.last_err, "/nonexistent/hook"));
	usleep(100 * 1000);
	ASSERT_TRUE(access(file, F_OK) < 0);
	/* No hooks at all: done all the same, from the loop. */
	a.done_calls = 0;
	ASSERT_EQ(hooks_run_async(a.l, &a.r, NULL, 0, NULL, HOOKS_STOP_AT_FIRST_FAILURE, NULL,
				  arun_done, &a, NULL, &err),
		  0);
	ASSERT_EQ(a.done_calls, 0);
	arun_wait(&a);
	ASSERT_EQ(a.r_done, 0);
	arun_teardown(&a);
}

/* A hook that closes its stdin unread: the loop's writer gets EPIPE, never a SIGPIPE, whether
 * or not the process ignores SIGPIPE (the agent does; a library caller may not). */
TEST_TIMEOUT(async_hook_not_reading_a_large_state_raises_no_sigpipe, 15)
{
	struct arun a;
	arun_setup(&a);
	size_t n = 1 << 20;
	_cleanup_free_ char *big = malloc(n + 1);
	ASSERT_NOT_NULL(big);
	memset(big, 'x', n);
	big[n] = '\0';
	Grpc__Hook quits, missing = GRPC__HOOK__INIT;
	char *a1[3];
	sh_hook(&quits, a1, "exec 0<&-; exit 0", NULL, 0);
	missing.path = "/nonexistent/hook";
	Grpc__Hook *hooks[] = {&quits, &missing};
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(hooks_run_async(a.l, &a.r, hooks, 2, big, HOOKS_RUN_ALL, arun_fail, arun_done, &a,
				  NULL, &err),
		  0);
	arun_wait(&a);
	ASSERT_EQ(a.fails, 1);
	ASSERT_NOT_NULL(strstr(a.first_fail, "/nonexistent/hook"));
	sigset_t pending;
	sigpending(&pending);
	ASSERT_FALSE(sigismember(&pending, SIGPIPE));
	arun_teardown(&a);
}

/* Abandoned (the container went away): the running hook is killed, done never runs. */
TEST_TIMEOUT(async_hooks_abandoned_kill_the_running_hook, 15)
{
	struct arun a;
	arun_setup(&a);
	char file[64], script[256];
	tmpfile_path(file, sizeof(file));
	unlink(file);
	/* The hook writes its pid, then waits. */
	snprintf(script, sizeof(script), "echo $$ > %s.tmp; mv %s.tmp %s; exec sleep 30", file,
		 file, file);
	char *env[] = {"PATH=/usr/bin:/bin"};
	Grpc__Hook h, after;
	char *a1[3], *a2[3];
	sh_hook(&h, a1, script, env, 1);
	sh_hook(&after, a2, "exit 0", NULL, 0);
	Grpc__Hook *hooks[] = {&h, &after};
	struct hooks_job *job = NULL;
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(hooks_run_async(a.l, &a.r, hooks, 2, "{}", HOOKS_RUN_ALL, arun_fail, arun_done,
				  &a, &job, &err),
		  0);
	ASSERT_NOT_NULL(job);
	while (access(file, F_OK) < 0)
		ASSERT_TRUE(loop_run_once(a.l, 100) >= 0);
	pid_t hook_pid = (pid_t)atoi(slurp(file));
	ASSERT_TRUE(hook_pid > 0);
	hooks_abandon(job);
	/* It dies (killed), THE reaper collects it, and nobody is called. */
	uint64_t end = loop_now_ms() + 3000;
	while (kill(hook_pid, 0) == 0 && loop_now_ms() < end)
		loop_run_once(a.l, 50);
	ASSERT_EQ(kill(hook_pid, 0), -1);
	ASSERT_EQ(errno, ESRCH);
	for (int i = 0; i < 5; i++)
		loop_run_once(a.l, 50);
	ASSERT_EQ(a.done_calls, 0);
	ASSERT_EQ(a.fails, 0);
	unlink(file);
	arun_teardown(&a);
}
