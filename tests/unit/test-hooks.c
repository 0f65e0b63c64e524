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
