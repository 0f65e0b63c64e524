/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container/seccomp.h"
#include "harness.h"
#include "rpc/status.h"

/* A filter spec built in place: no allocations, so nothing to free in the forked tests. */
#define MAX_RULES 48
struct rule_b {
	Grpc__LinuxSyscall sc;
	char *names[4];
	Grpc__LinuxSeccompArg a[6];
	Grpc__LinuxSeccompArg *ap[6];
};
struct filt {
	Grpc__LinuxSeccomp s;
	struct rule_b r[MAX_RULES];
	Grpc__LinuxSyscall *rp[MAX_RULES];
	char *arches[4];
	char *flags[4];
};

static void filt_init(struct filt *f, const char *def)
{
	memset(f, 0, sizeof(*f));
	f->s = (Grpc__LinuxSeccomp)GRPC__LINUX_SECCOMP__INIT;
	f->s.defaultaction = (char *)def;
	f->s.syscalls = f->rp;
	f->s.architectures = f->arches;
	f->s.flags = f->flags;
}

static struct rule_b *filt_rule(struct filt *f, const char *name, const char *action)
{
	ASSERT_TRUE(f->s.n_syscalls < MAX_RULES);
	struct rule_b *r = &f->r[f->s.n_syscalls];
	r->sc = (Grpc__LinuxSyscall)GRPC__LINUX_SYSCALL__INIT;
	r->sc.action = (char *)action;
	r->sc.names = r->names;
	r->sc.args = r->ap;
	r->names[r->sc.n_names++] = (char *)name;
	f->rp[f->s.n_syscalls++] = &r->sc;
	return r;
}

static void rule_name(struct rule_b *r, const char *name)
{
	ASSERT_TRUE(r->sc.n_names < 4);
	r->names[r->sc.n_names++] = (char *)name;
}

static void rule_errno(struct rule_b *r, uint32_t e)
{
	r->sc.errno_ret_case = GRPC__LINUX_SYSCALL__ERRNO_RET_ERRNORET;
	r->sc.errnoret = e;
}

static void rule_arg(struct rule_b *r, uint64_t index, const char *op, uint64_t v, uint64_t v2)
{
	ASSERT_TRUE(r->sc.n_args < 6);
	Grpc__LinuxSeccompArg *a = &r->a[r->sc.n_args];
	*a = (Grpc__LinuxSeccompArg)GRPC__LINUX_SECCOMP_ARG__INIT;
	a->index = index;
	a->op = (char *)op;
	a->value = v;
	a->valuetwo = v2;
	r->ap[r->sc.n_args++] = a;
}

static void filt_arch(struct filt *f, const char *a)
{
	f->arches[f->s.n_architectures++] = (char *)a;
}

static void filt_flag(struct filt *f, const char *fl)
{
	f->flags[f->s.n_flags++] = (char *)fl;
}

/* Validation fails with INVALID_ARGUMENT and a message naming `field`. */
static void expect_invalid(const struct filt *f, const char *field, const char *also)
{
	agent_error_t *err = NULL;
	ASSERT_EQ(seccomp_validate(&f->s, &err), -EINVAL);
	ASSERT_NOT_NULL(err);
	ASSERT_EQ(err->status, GRPC_INVALID_ARGUMENT);
	if (!strstr(err->msg, field) || (also && !strstr(err->msg, also)))
		FAIL("message \"%s\" lacks \"%s\" / \"%s\"", err->msg, field, also ? also : "");
	agent_error_free(err);
}

static void load_nnp(const struct filt *f)
{
	agent_error_t *err = NULL;
	ASSERT_EQ(prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL), 0);
	int r = seccomp_load_oci(&f->s, &err);
	if (r < 0)
		FAIL("seccomp_load_oci: %d %s", r, err ? err->msg : "");
}

static int status_seccomp(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	ASSERT_NOT_NULL(f);
	char line[256];
	int v = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp: %d", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* Ends a grandchild without the sanitizers' exit work (which needs syscalls a filter blocks). */
static _Noreturn void quick_exit_code(int code)
{
	for (;;)
		syscall(SYS_exit_group, code);
}

/* Calls the raw syscall; returns errno on failure, 0 on success. */
static int sys_errno(long nr, unsigned long a0, unsigned long a1)
{
	errno = 0;
	long r = syscall(nr, a0, a1, 0UL, 0UL, 0UL, 0UL);
	return r == -1 ? errno : 0;
}

static int getcwd_errno(void)
{
	char buf[256];
	return sys_errno(SYS_getcwd, (unsigned long)buf, sizeof(buf));
}

static void need_seccomp(void)
{
	if (prctl(PR_GET_SECCOMP, 0UL, 0UL, 0UL, 0UL) < 0 && errno == EINVAL)
		SKIP("kernel without seccomp");
	if (status_seccomp() != 0)
		SKIP("already under a seccomp filter");
}

TEST(seccomp_validate_accepts_good_spec)
{
	struct filt f;
	filt_init(&f, "SCMP_ACT_ERRNO");
	filt_arch(&f, "SCMP_ARCH_X86_64");
	filt_arch(&f, "SCMP_ARCH_X86");
	filt_arch(&f, "SCMP_ARCH_AARCH64");
	filt_arch(&f, "SCMP_ARCH_RISCV64");
	filt_flag(&f, "SECCOMP_FILTER_FLAG_TSYNC");
	filt_flag(&f, "SECCOMP_FILTER_FLAG_LOG");
	filt_flag(&f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW");
	const char *acts[] = {"SCMP_ACT_KILL",	"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
			      "SCMP_ACT_TRAP",	"SCMP_ACT_ERRNO",	 "SCMP_ACT_TRACE",
			      "SCMP_ACT_ALLOW", "SCMP_ACT_LOG"};
	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
		filt_rule(&f, "read", acts[i]);
	struct rule_b *r = filt_rule(&f, "no_such_syscall_at_all", "SCMP_ACT_ALLOW");
	const char *ops[] = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",
			     "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT"};
	for (int i = 0; i < 6; i++)
		rule_arg(r, (uint64_t)i, ops[i], 1, 0);
	rule_arg(filt_rule(&f, "umask", "SCMP_ACT_ERRNO"), 0, "SCMP_CMP_MASKED_EQ", 7, 7);
	agent_error_t *err = NULL;
	ASSERT_EQ(seccomp_validate(&f.s, &err), 0);
	ASSERT_NULL(err);
	ASSERT_EQ(seccomp_validate(NULL, &err), 0);
}

TEST(seccomp_validate_rejects_each_bad_field)
{
	struct filt f;

	filt_init(&f, "");
	expect_invalid(&f, "linux.seccomp.defaultAction", "missing");
	filt_init(&f, "SCMP_ACT_FOO");
	expect_invalid(&f, "linux.seccomp.defaultAction", "SCMP_ACT_FOO");
	filt_init(&f, "scmp_act_allow"); /* names are case-sensitive, as upstream's enum */
	expect_invalid(&f, "linux.seccomp.defaultAction", NULL);
	filt_init(&f, "SCMP_ACT_NOTIFY");
	expect_invalid(&f, "linux.seccomp.defaultAction", "listener");

	filt_init(&f, "SCMP_ACT_ALLOW");
	filt_arch(&f, "SCMP_ARCH_X86_64");
	filt_arch(&f, "SCMP_ARCH_VAX");
	expect_invalid(&f, "linux.seccomp.architectures[1]", "SCMP_ARCH_VAX");

	filt_init(&f, "SCMP_ACT_ALLOW");
	filt_flag(&f, "SECCOMP_FILTER_FLAG_BOGUS");
	expect_invalid(&f, "linux.seccomp.flags[0]", "SECCOMP_FILTER_FLAG_BOGUS");

	filt_init(&f, "SCMP_ACT_ALLOW");
	filt_rule(&f, "read", "SCMP_ACT_ERRNO");
	filt_rule(&f, "write", "SCMP_ACT_BOGUS");
	expect_invalid(&f, "linux.seccomp.syscalls[1].action", "SCMP_ACT_BOGUS");

	filt_init(&f, "SCMP_ACT_ALLOW");
	filt_rule(&f, "write", "");
	expect_invalid(&f, "linux.seccomp.syscalls[0].action", "missing");

	filt_init(&f, "SCMP_ACT_ALLOW");
	filt_rule(&f, "read", "SCMP_ACT_NOTIFY");
	expect_invalid(&f, "linux.seccomp.syscalls[0].action", "notify listener");

	filt_init(&f, "SCMP_ACT_ALLOW");
	rule_errno(filt_rule(&f, "read", "SCMP_ACT_ERRNO"), 5000);
	expect_invalid(&f, "linux.seccomp.syscalls[0].action", "errnoRet 5000");

	filt_init(&f, "SCMP_ACT_ALLOW");
	rule_errno(filt_rule(&f, "read", "SCMP_ACT_TRACE"), 0x10000);
	expect_invalid(&f, "linux.seccomp.syscalls[0].action", "errnoRet");

	filt_init(&f, "SCMP_ACT_ALLOW");
	struct rule_b *r = filt_rule(&f, "read", "SCMP_ACT_ERRNO");
	rule_arg(r, 0, "SCMP_CMP_EQ", 1, 0);
	rule_arg(r, 1, "SCMP_CMP_APPROX", 1, 0);
	expect_invalid(&f, "linux.seccomp.syscalls[0].args[1].op", "SCMP_CMP_APPROX");

	filt_init(&f, "SCMP_ACT_ALLOW");
	rule_arg(filt_rule(&f, "read", "SCMP_ACT_ERRNO"), 6, "SCMP_CMP_EQ", 1, 0);
	expect_invalid(&f, "linux.seccomp.syscalls[0].args[0].index", "6");

	filt_init(&f, "SCMP_ACT_ALLOW");
	rule_arg(filt_rule(&f, "read", "SCMP_ACT_ERRNO"), UINT64_C(1) << 32, "SCMP_CMP_EQ", 1, 0);
	expect_invalid(&f, "linux.seccomp.syscalls[0].args[0].index", NULL);
}

TEST(seccomp_load_refuses_invalid_spec_before_loading)
{
	need_seccomp();
	struct filt f;
	filt_init(&f, "SCMP_ACT_ALLOW");
	filt_rule(&f, "getcwd", "SCMP_ACT_ERRNO");
	filt_flag(&f, "SECCOMP_FILTER_FLAG_NOPE");
	agent_error_t *err = NULL;
	ASSERT_EQ(seccomp_load_oci(&f.s, &err), -EINVAL);
	ASSERT_EQ(err->status, GRPC_INVALID_ARGUMENT);
	agent_error_free(err);
	ASSERT_EQ(status_seccomp(), 0);
	ASSERT_EQ(getcwd_errno(), 0);
}

TEST(seccomp_errno_ret_and_default_eperm)
{
	need_seccomp();
	struct filt f;
	filt_init(&f, "SCMP_ACT_ALLOW");
	rule_errno(filt_rule(&f, "getcwd", "SCMP_ACT_ERRNO"), 42);
	filt_rule(&f, "getpgrp", "SCMP_ACT_ERRNO"); /* no errnoRet: EPERM */
	ASSERT_EQ(getcwd_errno(), 0);
	load_nnp(&f);
	ASSERT_EQ(status_seccomp(), 2);
	ASSERT_EQ(getcwd_errno(), 42);
	ASSERT_EQ(sys_errno(SYS_getpgrp, 0, 0), EPERM);
	ASSERT_EQ(sys_errno(SYS_getpid, 0, 0), 0);
}

TEST(seccomp_default_errno_blocks_unlisted)
{
	need_seccomp();
	/* In a grandchild that only makes raw syscalls and exits with a verdict. */
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct filt f;
		filt_init(&f, "SCMP_ACT_ERRNO");
		/* Exit, and what the sanitizers' runtime may call on the way. */
		static const char *const allow[] = {
			"exit_group",	  "exit",	  "getpid",  "write",
			"mmap",		  "munmap",	  "madvise", "sigaltstack",
			"rt_sigprocmask", "rt_sigaction", "gettid",  "sched_yield",
			"futex",
		};
		for (size_t i = 0; i < sizeof(allow) / sizeof(allow[0]); i++)
			filt_rule(&f, allow[i], "SCMP_ACT_ALLOW");
		if (prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) < 0 ||
		    seccomp_load_oci(&f.s, NULL) < 0)
			quick_exit_code(10);
		if (getcwd_errno() != EPERM)
			quick_exit_code(11);
		if (sys_errno(SYS_getpgrp, 0, 0) != EPERM)
			quick_exit_code(12);
		if (sys_errno(SYS_getpid, 0, 0) != 0)
			quick_exit_code(13);
		quick_exit_code(0);
	}
	int st;
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(WEXITSTATUS(st), 0);
}

TEST(seccomp_arg_filter_blocks_only_that_value)
{
	need_seccomp();
	struct filt f;
	filt_init(&f, "SCMP_ACT_ALLOW");
	struct rule_b *r = filt_rule(&f, "personality", "SCMP_ACT_ERRNO");
	rule_errno(r, 77);
	rule_arg(r, 0, "SCMP_CMP_EQ", 0xffffffff, 0);
	load_nnp(&f);
	ASSERT_EQ(sys_errno(SYS_personality, 0xffffffffUL, 0), 77);
	ASSERT_EQ(sys_errno(SYS_personality, 0, 0), 0); /* PER_LINUX: what it already is */
}

TEST(seccomp_masked_eq)
{
	need_seccomp();
	struct filt f;
	filt_init(&f, "SCMP_ACT_ALLOW");
	/* umask(m) fails when (m & 077) == 077: OCI value is the mask, valueTwo the datum. */
	struct rule_b *r = filt_rule(&f, "umask", "SCMP_ACT_ERRNO");
	rule_errno(r, 33);
	rule_arg(r, 0, "SCMP_CMP_MASKED_EQ", 077, 077);
	load_nnp(&f);
	ASSERT_EQ(sys_errno(SYS_umask, 0777, 0), 33);
	ASSERT_EQ(sys_errno(SYS_umask, 0177, 0), 33);
	ASSERT_EQ(sys_errno(SYS_umask, 0170, 0), 0);
	ASSERT_EQ(sys_errno(SYS_umask, 0022, 0), 0);
}

TEST(seccomp_args_on_different_indexes_are_anded)
{
	need_seccomp();
	struct filt f;
	filt_init(&f, "SCMP_ACT_ALLOW");
	struct rule_b *r = filt_rule(&f, "getpriority", "SCMP_ACT_ERRNO");
	rule_errno(r, 42);
	rule_arg(r, 0, "SCMP_CMP_EQ", PRIO_PROCESS, 0);
	rule_arg(r, 1, "SCMP_CMP_GT", 1000000000, 0);
	load_nnp(&f);
	ASSERT_EQ(sys_errno(SYS_getpriority, PRIO_PROCESS, 1000000001), 42);
	ASSERT_EQ(sys_errno(SYS_getpriority, PRIO_PROCESS, 0), 0);
	ASSERT_NE(sys_errno(SYS_getpriority, PRIO_PGRP, 1000000001), 42);
}

TEST(seccomp_args_on_same_index_become_separate_rules)
{
	need_seccomp();
	struct filt f;
	filt_init(&f, "SCMP_ACT_ALLOW");
	/* As runc and crun: repeated index => one rule per condition (OR). */
	struct rule_b *r = filt_rule(&f, "umask", "SCMP_ACT_ERRNO");
	rule_errno(r, 42);
	rule_arg(r, 0, "SCMP_CMP_EQ", 011, 0);
	rule_arg(r, 0, "SCMP_CMP_EQ", 022, 0);
	load_nnp(&f);
	ASSERT_EQ(sys_errno(SYS_umask, 011, 0), 42);
	ASSERT_EQ(sys_errno(SYS_umask, 022, 0), 42);
	ASSERT_EQ(sys_errno(SYS_umask, 033, 0), 0);
}

static void expect_sigsys_child(const char *action)
{
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct filt f;
		filt_init(&f, "SCMP_ACT_ALLOW");
		filt_rule(&f, "getcwd", action);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) < 0 ||
		    seccomp_load_oci(&f.s, NULL) < 0)
			_exit(2);
		(void)getcwd_errno();
		quick_exit_code(0);
	}
	int st;
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	if (!WIFSIGNALED(st))
		FAIL("%s: child was not killed, status 0x%x", action, st);
	ASSERT_EQ(WTERMSIG(st), SIGSYS);
}

TEST(seccomp_kill_process_kills_with_sigsys)
{
	need_seccomp();
	expect_sigsys_child("SCMP_ACT_KILL_PROCESS");
	expect_sigsys_child("SCMP_ACT_KILL");
	expect_sigsys_child("SCMP_ACT_KILL_THREAD");
}

TEST(seccomp_flags_and_arches_accepted)
{
	need_seccomp();
	if (seccomp_api_get() < 4)
		SKIP("libseccomp API level %u: no LOG/SPEC_ALLOW", seccomp_api_get());
	struct filt f;
	filt_init(&f, "SCMP_ACT_ALLOW");
	filt_arch(&f, "SCMP_ARCH_X86_64");
	filt_arch(&f, "SCMP_ARCH_X86");
	filt_arch(&f, "SCMP_ARCH_X32");
	filt_flag(&f, "SECCOMP_FILTER_FLAG_LOG");
	filt_flag(&f, "SECCOMP_FILTER_FLAG_TSYNC");
	filt_flag(&f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW");
	rule_errno(filt_rule(&f, "getcwd", "SCMP_ACT_ERRNO"), 42);
	filt_rule(&f, "getppid", "SCMP_ACT_LOG");
	load_nnp(&f);
	ASSERT_EQ(status_seccomp(), 2);
	ASSERT_EQ(getcwd_errno(), 42);
	ASSERT_EQ(sys_errno(SYS_getppid, 0, 0), 0);
}

TEST(seccomp_skips_unknown_names_and_default_equal_rules)
{
	need_seccomp();
	struct filt f;
	filt_init(&f, "SCMP_ACT_ALLOW");
	filt_rule(&f, "getppid", "SCMP_ACT_ALLOW"); /* same as the default: skipped */
	struct rule_b *r = filt_rule(&f, "no_such_syscall", "SCMP_ACT_ERRNO");
	rule_name(r, "getcwd");
	rule_name(r, "socketcall"); /* a multiplexer only on 32-bit x86 */
	rule_name(r, "");
	rule_errno(r, 42);
	load_nnp(&f);
	ASSERT_EQ(getcwd_errno(), 42);
	ASSERT_EQ(sys_errno(SYS_getppid, 0, 0), 0);
}

TEST(seccomp_long_filter_uses_tree_and_still_matches)
{
	need_seccomp();
	static const char *const names[] = {
		"acct",
		"add_key",
		"bpf",
		"clock_adjtime",
		"clock_settime",
		"create_module",
		"delete_module",
		"finit_module",
		"get_kernel_syms",
		"get_mempolicy",
		"init_module",
		"ioperm",
		"iopl",
		"kcmp",
		"kexec_file_load",
		"kexec_load",
		"keyctl",
		"lookup_dcookie",
		"mbind",
		"mount",
		"move_pages",
		"nfsservctl",
		"open_by_handle_at",
		"perf_event_open",
		"pivot_root",
		"fanotify_init",
		"syslog",
		"vhangup",
		"query_module",
		"quotactl",
		"reboot",
		"request_key",
		"set_mempolicy",
		"setns",
		"settimeofday",
		"swapoff",
		"swapon",
		"sysfs",
		"umount2",
		"unshare",
		"uselib",
		"userfaultfd",
		"ustat",
		"vm86",
		"vm86old",
	};
	struct filt f;
	filt_init(&f, "SCMP_ACT_ALLOW");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && i < MAX_RULES - 1; i++)
		rule_errno(filt_rule(&f, names[i], "SCMP_ACT_ERRNO"), 40);
	rule_errno(filt_rule(&f, "getcwd", "SCMP_ACT_ERRNO"), 42);
	load_nnp(&f);
	ASSERT_EQ(getcwd_errno(), 42);
	ASSERT_EQ(sys_errno(SYS_unshare, 0, 0), 40);
	ASSERT_EQ(sys_errno(SYS_getpid, 0, 0), 0);
}

TEST(seccomp_nnp_not_forced)
{
	need_seccomp();
	if (geteuid() != 0)
		SKIP("needs CAP_SYS_ADMIN to load without no_new_privs");
	struct filt f;
	filt_init(&f, "SCMP_ACT_ALLOW");
	rule_errno(filt_rule(&f, "getcwd", "SCMP_ACT_ERRNO"), 42);
	agent_error_t *err = NULL;
	ASSERT_EQ(prctl(PR_GET_NO_NEW_PRIVS, 0UL, 0UL, 0UL, 0UL), 0);
	ASSERT_EQ(seccomp_load_oci(&f.s, &err), 0);
	ASSERT_EQ(prctl(PR_GET_NO_NEW_PRIVS, 0UL, 0UL, 0UL, 0UL), 0);
	ASSERT_EQ(getcwd_errno(), 42);
}
