/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container/rlimits.h"
#include "container/validate.h"
#include "harness.h"

/*
 * One valid spec per test process (each test runs in its own fork), mutated
 * once per test. The peer validators (seccomp, rootfs, cgroup resources) are
 * other modules' concern and are not exercised here.
 */
static struct {
	Grpc__Spec spec;
	Grpc__Process proc;
	Grpc__Root root;
	Grpc__Linux lnx;
	Grpc__LinuxCapabilities caps;
	Grpc__LinuxNamespace ns[8];
	Grpc__LinuxNamespace *nsp[8];
	char *args[2];
	char *env[2];
	char rootdir[PATH_MAX];
	char tmpdir[64];
} F;

static void cleanup_rootdir(void)
{
	rmdir(F.tmpdir);
}

static void add_ns(const char *type)
{
	size_t i = F.lnx.n_namespaces++;
	grpc__linux_namespace__init(&F.ns[i]);
	F.ns[i].type = (char *)type;
	F.nsp[i] = &F.ns[i];
}

static void base(void)
{
	static bool registered;
	if (F.tmpdir[0])
		rmdir(F.tmpdir);
	memset(&F, 0, sizeof(F));
	snprintf(F.tmpdir, sizeof(F.tmpdir), "/tmp/test-validate-XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(F.tmpdir));
	if (!registered)
		atexit(cleanup_rootdir);
	registered = true;
	ASSERT_NOT_NULL(realpath(F.tmpdir, F.rootdir));

	grpc__spec__init(&F.spec);
	grpc__process__init(&F.proc);
	grpc__root__init(&F.root);
	grpc__linux__init(&F.lnx);
	grpc__linux_capabilities__init(&F.caps);

	F.args[0] = "/bin/true";
	F.proc.args = F.args;
	F.proc.n_args = 1;
	F.env[0] = "PATH=/usr/bin:/bin";
	F.env[1] = "HOME=/root";
	F.proc.env = F.env;
	F.proc.n_env = 2;
	F.proc.cwd = "/";
	F.proc.capabilities = &F.caps;
	F.root.path = F.rootdir;
	F.lnx.namespaces = F.nsp;
	add_ns("pid");
	add_ns("network");
	add_ns("ipc");
	add_ns("uts");
	add_ns("mount");

	F.spec.process = &F.proc;
	F.spec.root = &F.root;
	F.spec.linux = &F.lnx;
}

/* Removes the namespace of that type from the list. */
static void drop_ns(const char *type)
{
	for (size_t i = 0; i < F.lnx.n_namespaces; i++) {
		if (strcmp(F.nsp[i]->type, type) == 0) {
			memmove(&F.nsp[i], &F.nsp[i + 1],
				(F.lnx.n_namespaces - i - 1) * sizeof(F.nsp[0]));
			F.lnx.n_namespaces--;
			return;
		}
	}
	FAIL("namespace %s not in the base spec", type);
}

#define EXPECT_VALID()                                                             \
	do {                                                                       \
		_cleanup_error_ agent_error_t *_e = NULL;                          \
		int _r = spec_validate(&F.spec, &_e);                              \
		if (_r != 0)                                                       \
			FAIL("expected valid, got %d: %s", _r, _e ? _e->msg : ""); \
	} while (0)

#define EXPECT_INVALID(substr)                                                           \
	do {                                                                             \
		_cleanup_error_ agent_error_t *_e = NULL;                                \
		ASSERT_EQ(spec_validate(&F.spec, &_e), -EINVAL);                         \
		ASSERT_NOT_NULL(_e);                                                     \
		ASSERT_EQ(_e->status, 3);                                                \
		ASSERT_EQ(_e->errnum, EINVAL);                                           \
		if (!strstr(_e->msg, substr))                                            \
			FAIL("message \"%s\" does not contain \"%s\"", _e->msg, substr); \
	} while (0)

TEST(valid_base_spec_passes)
{
	base();
	EXPECT_VALID();
}

TEST(missing_linux)
{
	base();
	F.spec.linux = NULL;
	EXPECT_INVALID("linux: missing");
}

TEST(missing_process)
{
	base();
	F.spec.process = NULL;
	EXPECT_INVALID("process: missing");
}

TEST(empty_args)
{
	base();
	F.proc.n_args = 0;
	EXPECT_INVALID("process.args: must not be empty");
}

TEST(empty_program_name)
{
	base();
	F.args[0] = "";
	EXPECT_INVALID("process.args[0]");
}

TEST(missing_capabilities)
{
	base();
	F.proc.capabilities = NULL;
	EXPECT_INVALID("process.capabilities: missing process capabilities");
}

TEST(missing_root)
{
	base();
	F.spec.root = NULL;
	EXPECT_INVALID("root.path: missing");
	base();
	F.root.path = "";
	EXPECT_INVALID("root.path: missing");
}

TEST(root_relative)
{
	base();
	F.root.path = "tmp";
	EXPECT_INVALID("root.path");
}

TEST(root_not_canonical_lexically)
{
	char p[PATH_MAX + 8];
	const char *suffix[] = {"/", "/.", "/..", "/./x"};
	for (size_t i = 0; i < 4; i++) {
		base();
		snprintf(p, sizeof(p), "%s%s", F.rootdir, suffix[i]);
		F.root.path = p;
		EXPECT_INVALID("root.path");
	}
	base();
	snprintf(p, sizeof(p), "/%s", F.rootdir);
	F.root.path = p;
	EXPECT_INVALID("not canonical");
}

TEST(root_symlink_not_canonical)
{
	base();
	char link[PATH_MAX + 8];
	snprintf(link, sizeof(link), "%s-link", F.rootdir);
	ASSERT_EQ(symlink(F.rootdir, link), 0);
	F.root.path = link;
	_cleanup_error_ agent_error_t *e = NULL;
	int r = spec_validate(&F.spec, &e);
	unlink(link);
	ASSERT_EQ(r, -EINVAL);
	ASSERT_EQ(e->status, 3);
	ASSERT_NOT_NULL(strstr(e->msg, "root.path"));
	ASSERT_NOT_NULL(strstr(e->msg, "resolves to"));
}

TEST(root_missing_or_not_dir)
{
	base();
	char p[PATH_MAX + 8];
	snprintf(p, sizeof(p), "%s/nope", F.rootdir);
	F.root.path = p;
	EXPECT_INVALID("does not exist");
	base();
	F.root.path = "/etc/passwd";
	EXPECT_INVALID("not a directory");
}

TEST(root_slash_and_long_path)
{
	base();
	F.root.path = "/";
	EXPECT_VALID();
	static char longp[5000];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	F.root.path = longp;
	EXPECT_INVALID("root.path: longer than");
}

TEST(hostname_needs_uts)
{
	base();
	F.spec.hostname = "box";
	EXPECT_VALID();
	drop_ns("uts");
	EXPECT_INVALID("hostname");
	base();
	F.spec.hostname = "0123456789012345678901234567890123456789012345678901234567890123456789";
	EXPECT_INVALID("hostname: longer than");
}

TEST(masked_and_readonly_paths_need_mount)
{
	char *paths[] = {"/proc/kcore"};
	base();
	F.lnx.maskedpaths = paths;
	F.lnx.n_maskedpaths = 1;
	EXPECT_VALID();
	drop_ns("mount");
	EXPECT_INVALID("linux.maskedPaths");
	base();
	F.lnx.readonlypaths = paths;
	F.lnx.n_readonlypaths = 1;
	EXPECT_VALID();
	drop_ns("mount");
	EXPECT_INVALID("linux.readonlyPaths");
}

TEST(namespace_type_unknown)
{
	base();
	F.ns[1].type = "time";
	EXPECT_INVALID("linux.namespaces[1].type: unknown namespace \"time\"");
	F.ns[1].type = "";
	EXPECT_INVALID("linux.namespaces[1].type");
}

TEST(namespace_listed_twice)
{
	base();
	add_ns("pid");
	EXPECT_INVALID("linux.namespaces[5].type");
}

static void add_maps(Grpc__LinuxIDMapping *m, Grpc__LinuxIDMapping **mp, uint32_t size)
{
	grpc__linux_idmapping__init(m);
	m->hostid = 100000;
	m->containerid = 0;
	m->size = size;
	mp[0] = m;
}

TEST(user_namespace_needs_maps)
{
	if (access("/proc/self/ns/user", F_OK) < 0)
		SKIP("no user namespaces in this kernel");
	Grpc__LinuxIDMapping u, g;
	Grpc__LinuxIDMapping *up[1], *gp[1];
	base();
	add_ns("user");
	EXPECT_INVALID("linux.uidMappings");
	add_maps(&u, up, 65536);
	add_maps(&g, gp, 65536);
	F.lnx.uidmappings = up;
	F.lnx.n_uidmappings = 1;
	EXPECT_INVALID("linux.gidMappings");
	F.lnx.gidmappings = gp;
	F.lnx.n_gidmappings = 1;
	EXPECT_VALID();
	u.size = 0;
	EXPECT_INVALID("linux.uidMappings: a user namespace needs a mapping of size > 0");
	u.size = 1;
	g.size = 0;
	EXPECT_INVALID("linux.gidMappings");
}

TEST(maps_without_user_namespace)
{
	Grpc__LinuxIDMapping u, g;
	Grpc__LinuxIDMapping *up[1], *gp[1];
	base();
	add_maps(&u, up, 1);
	F.lnx.uidmappings = up;
	F.lnx.n_uidmappings = 1;
	EXPECT_INVALID("linux.uidMappings: set without a user namespace");
	base();
	add_maps(&g, gp, 1);
	F.lnx.gidmappings = gp;
	F.lnx.n_gidmappings = 1;
	EXPECT_INVALID("linux.gidMappings: set without a user namespace");
}

TEST(cgroup_namespace_accepted_when_supported)
{
	if (access("/proc/self/ns/cgroup", F_OK) < 0)
		SKIP("no cgroup namespaces in this kernel");
	base();
	add_ns("cgroup");
	EXPECT_VALID();
}

static Grpc__Linux__SysctlEntry sysctl_e[4];
static Grpc__Linux__SysctlEntry *sysctl_p[4];

static void set_sysctl(const char *key)
{
	grpc__linux__sysctl_entry__init(&sysctl_e[0]);
	sysctl_e[0].key = (char *)key;
	sysctl_e[0].value = "1";
	sysctl_p[0] = &sysctl_e[0];
	F.lnx.sysctl = sysctl_p;
	F.lnx.n_sysctl = 1;
}

TEST(sysctl_ipc_keys_need_ipc)
{
	const char *keys[] = {"kernel.msgmax", "kernel.msgmnb",		 "kernel.msgmni",
			      "kernel.sem",    "kernel.shmall",		 "kernel.shmmax",
			      "kernel.shmmni", "kernel.shm_rmid_forced", "fs.mqueue.msg_max",
			      "kernel/shmmax"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		base();
		set_sysctl(keys[i]);
		EXPECT_VALID();
		drop_ns("ipc");
		char want[96];
		snprintf(want, sizeof(want), "linux.sysctl[%s]: needs an ipc namespace", keys[i]);
		EXPECT_INVALID(want);
	}
}

TEST(sysctl_net_always_allowed)
{
	base();
	drop_ns("network");
	set_sysctl("net.ipv4.ip_forward");
	EXPECT_VALID();
	set_sysctl("net/ipv4/conf/eth0.100/forwarding");
	EXPECT_VALID();
}

TEST(sysctl_domainname_needs_uts)
{
	base();
	set_sysctl("kernel.domainname");
	EXPECT_VALID();
	drop_ns("uts");
	EXPECT_INVALID("linux.sysctl[kernel.domainname]: needs a uts namespace");
}

TEST(sysctl_hostname_rejected)
{
	base();
	set_sysctl("kernel.hostname");
	EXPECT_INVALID("linux.sysctl[kernel.hostname]");
}

TEST(sysctl_other_keys_rejected)
{
	const char *keys[] = {"kernel.pid_max", "vm.swappiness", "fs.file-max", "kernel.msgmaxx"};
	for (size_t i = 0; i < 4; i++) {
		base();
		set_sysctl(keys[i]);
		EXPECT_INVALID("Sysctl config contains invalid settings");
		EXPECT_INVALID(keys[i]);
	}
}

TEST(sysctl_malformed_keys_rejected)
{
	const char *keys[] = {"net..ipv4", "net.ipv4.", "/net/ipv4", "net/../kernel", ""};
	for (size_t i = 0; i < 5; i++) {
		base();
		set_sysctl(keys[i]);
		EXPECT_INVALID("linux.sysctl");
	}
}

TEST(selinux_labels_shape)
{
	base();
	F.proc.selinuxlabel = "system_u:system_r:container_t:s0:c1,c2";
	F.lnx.mountlabel = "system_u:object_r:container_file_t:s0";
	EXPECT_VALID();
	F.proc.selinuxlabel = "container_t";
	EXPECT_INVALID("process.selinuxLabel");
	base();
	F.lnx.mountlabel = "a:b:c:d";
	EXPECT_INVALID("linux.mountLabel");
}

TEST(rlimits_checked)
{
	Grpc__POSIXRlimit r0 = GRPC__POSIXRLIMIT__INIT, r1 = GRPC__POSIXRLIMIT__INIT;
	Grpc__POSIXRlimit *rp[] = {&r0, &r1};
	base();
	r0.type = "RLIMIT_NOFILE";
	r0.soft = r0.hard = 1024;
	r1.type = "RLIMIT_CORE";
	r1.soft = 0;
	r1.hard = UINT64_MAX;
	F.proc.rlimits = rp;
	F.proc.n_rlimits = 2;
	EXPECT_VALID();
	r0.type = "RLIMIT_FOO";
	EXPECT_INVALID("process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"");
	r0.type = "nofile";
	EXPECT_INVALID("process.rlimits[0].type");
	r0.type = "RLIMIT_NOFILE";
	r1.soft = 10;
	r1.hard = 5;
	EXPECT_INVALID("process.rlimits[1]: soft limit 10 above hard limit 5");
}

TEST(cwd_must_be_absolute)
{
	base();
	F.proc.cwd = "";
	EXPECT_VALID();
	F.proc.cwd = "work";
	EXPECT_INVALID("process.cwd");
}

TEST(env_entries_checked)
{
	base();
	F.env[1] = "EMPTY=";
	EXPECT_VALID();
	/* Malformed entries are ignored when the environment is built, as upstream does. */
	F.env[1] = "NOEQUALS";
	EXPECT_VALID();
	F.env[1] = "=value";
	EXPECT_VALID();
	F.env[1] = "  =value";
	EXPECT_VALID();
}

TEST(devices_checked)
{
	Grpc__LinuxDevice d = GRPC__LINUX_DEVICE__INIT;
	Grpc__LinuxDevice *dp[] = {&d};
	base();
	d.path = "/dev/fuse";
	d.type = "c";
	d.major = 10;
	d.minor = 229;
	F.lnx.devices = dp;
	F.lnx.n_devices = 1;
	EXPECT_VALID();
	d.type = "x";
	EXPECT_INVALID("linux.devices[0].type");
	d.type = "cb";
	EXPECT_INVALID("linux.devices[0].type");
	d.type = "b";
	d.path = "";
	EXPECT_INVALID("linux.devices[0].path");
}

TEST(hooks_checked)
{
	Grpc__Hooks hooks = GRPC__HOOKS__INIT;
	Grpc__Hook h = GRPC__HOOK__INIT;
	Grpc__Hook *hp[] = {&h};
	base();
	h.path = "/usr/bin/hook";
	hooks.prestart = hp;
	hooks.n_prestart = 1;
	F.spec.hooks = &hooks;
	EXPECT_VALID();
	h.path = "hook";
	EXPECT_INVALID("hooks.prestart[0].path");
	h.path = "/usr/bin/hook";
	h.timeout = -1;
	EXPECT_INVALID("hooks.prestart[0].timeout");
}

TEST(oom_score_adj_range)
{
	base();
	F.proc.oomscoreadj = -1000;
	EXPECT_VALID();
	F.proc.oomscoreadj = 1001;
	EXPECT_INVALID("process.oomScoreAdj");
}

/* Test allocations, freed at the end of the test so LeakSanitizer stays quiet. */
static void *tracked[16];
static size_t n_tracked;

static void *tcalloc(size_t n, size_t size)
{
	ASSERT_TRUE(n_tracked < 16);
	void *p = calloc(n, size);
	ASSERT_NOT_NULL(p);
	return tracked[n_tracked++] = p;
}

static void free_tracked(void)
{
	while (n_tracked > 0)
		free(tracked[--n_tracked]);
}

/* n copies of the same pointer: enough for the count bounds. */
static char **many(char *s, size_t n)
{
	char **v = tcalloc(n, sizeof(*v));
	ASSERT_NOT_NULL(v);
	for (size_t i = 0; i < n; i++)
		v[i] = s;
	return v;
}

TEST(counts_bounded)
{
	base();
	F.proc.env = many("A=1", 1024);
	F.proc.n_env = 1024;
	EXPECT_VALID();
	F.proc.env = many("A=1", 1025);
	F.proc.n_env = 1025;
	EXPECT_INVALID("process.env: too many entries");

	base();
	F.proc.args = many("x", 1025);
	F.proc.n_args = 1025;
	EXPECT_INVALID("process.args: too many entries");

	base();
	Grpc__Mount m = GRPC__MOUNT__INIT;
	Grpc__Mount **mp = tcalloc(1025, sizeof(*mp));
	for (size_t i = 0; i < 1025; i++)
		mp[i] = &m;
	F.spec.mounts = mp;
	F.spec.n_mounts = 1025;
	EXPECT_INVALID("mounts: too many entries");

	base();
	Grpc__LinuxNamespace **np = tcalloc(1025, sizeof(*np));
	for (size_t i = 0; i < 1025; i++)
		np[i] = &F.ns[0];
	F.lnx.namespaces = np;
	F.lnx.n_namespaces = 1025;
	EXPECT_INVALID("linux.namespaces: too many entries");

	base();
	Grpc__LinuxDevice d = GRPC__LINUX_DEVICE__INIT;
	Grpc__LinuxDevice **dp = tcalloc(1025, sizeof(*dp));
	for (size_t i = 0; i < 1025; i++)
		dp[i] = &d;
	F.lnx.devices = dp;
	F.lnx.n_devices = 1025;
	EXPECT_INVALID("linux.devices: too many entries");

	base();
	Grpc__POSIXRlimit r = GRPC__POSIXRLIMIT__INIT;
	r.type = "RLIMIT_NOFILE";
	Grpc__POSIXRlimit **rp = tcalloc(1025, sizeof(*rp));
	for (size_t i = 0; i < 1025; i++)
		rp[i] = &r;
	F.proc.rlimits = rp;
	F.proc.n_rlimits = 1025;
	EXPECT_INVALID("process.rlimits: too many entries");
	free_tracked();
}

TEST(sizes_bounded)
{
	static char big[2048];
	memset(big, 'v', sizeof(big) - 1);
	memcpy(big, "K=", 2);
	base();
	F.proc.env = many(big, 100); /* 200 KiB */
	F.proc.n_env = 100;
	EXPECT_INVALID("process.env: environment larger than");

	static char longcwd[5000];
	memset(longcwd, 'c', sizeof(longcwd) - 1);
	longcwd[0] = '/';
	base();
	F.proc.cwd = longcwd;
	EXPECT_INVALID("process.cwd: longer than");

	base();
	F.ns[0].path = longcwd;
	EXPECT_INVALID("linux.namespaces[0].path");
	free_tracked();
}

TEST(process_validate_for_exec)
{
	Grpc__Process p = GRPC__PROCESS__INIT;
	char *args[] = {"/bin/sh"};
	_cleanup_error_ agent_error_t *err = NULL;
	p.args = args;
	p.n_args = 1;
	/* ExecProcess may leave capabilities out: the container's are used. */
	ASSERT_EQ(process_validate(&p, "process", &err), 0);
	p.n_args = 0;
	ASSERT_EQ(process_validate(&p, "exec.process", &err), -EINVAL);
	ASSERT_EQ(err->status, 3);
	ASSERT_NOT_NULL(strstr(err->msg, "exec.process.args"));
	err = agent_error_free(err);
	ASSERT_EQ(process_validate(NULL, "process", &err), -EINVAL);
}

TEST(container_ids)
{
	ASSERT_TRUE(container_id_valid("ab"));
	ASSERT_TRUE(container_id_valid("a1_b.c-d"));
	ASSERT_TRUE(container_id_valid("0123456789abcdef"));
	ASSERT_FALSE(container_id_valid("a"));
	ASSERT_FALSE(container_id_valid(""));
	ASSERT_FALSE(container_id_valid(NULL));
	ASSERT_FALSE(container_id_valid("-ab"));
	ASSERT_FALSE(container_id_valid(".ab"));
	ASSERT_FALSE(container_id_valid("a/b"));
	ASSERT_FALSE(container_id_valid("a b"));
	ASSERT_FALSE(container_id_valid("ab\n"));
	char id[130];
	memset(id, 'a', 128);
	id[128] = '\0';
	ASSERT_TRUE(container_id_valid(id));
	id[128] = 'a';
	id[129] = '\0';
	ASSERT_FALSE(container_id_valid(id));
}

TEST(exec_ids)
{
	ASSERT_TRUE(exec_id_valid("e"));
	ASSERT_TRUE(exec_id_valid("exec-1 with space"));
	ASSERT_FALSE(exec_id_valid(""));
	ASSERT_FALSE(exec_id_valid(NULL));
	ASSERT_FALSE(exec_id_valid("."));
	ASSERT_FALSE(exec_id_valid(".."));
	ASSERT_FALSE(exec_id_valid("a/b"));
	ASSERT_FALSE(exec_id_valid("a\tb"));
	ASSERT_FALSE(exec_id_valid("a\x7f"));
	char id[130];
	memset(id, 'e', 129);
	id[129] = '\0';
	ASSERT_FALSE(exec_id_valid(id));
	id[128] = '\0';
	ASSERT_TRUE(exec_id_valid(id));
}

TEST(rlimit_names)
{
	static const struct {
		const char *name;
		int res;
	} t[] = {
		{"RLIMIT_AS", RLIMIT_AS},
		{"RLIMIT_CORE", RLIMIT_CORE},
		{"RLIMIT_CPU", RLIMIT_CPU},
		{"RLIMIT_DATA", RLIMIT_DATA},
		{"RLIMIT_FSIZE", RLIMIT_FSIZE},
		{"RLIMIT_LOCKS", RLIMIT_LOCKS},
		{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
		{"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
		{"RLIMIT_NICE", RLIMIT_NICE},
		{"RLIMIT_NOFILE", RLIMIT_NOFILE},
		{"RLIMIT_NPROC", RLIMIT_NPROC},
		{"RLIMIT_RSS", RLIMIT_RSS},
		{"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
		{"RLIMIT_RTTIME", RLIMIT_RTTIME},
		{"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
		{"RLIMIT_STACK", RLIMIT_STACK},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ASSERT_EQ(rlimit_from_name(t[i].name), t[i].res);
	ASSERT_EQ(rlimit_from_name("RLIMIT_NOPE"), -1);
	ASSERT_EQ(rlimit_from_name("rlimit_nofile"), -1);
	ASSERT_EQ(rlimit_from_name(NULL), -1);
}

TEST(rlimits_apply_sets_limits)
{
	Grpc__Process p = GRPC__PROCESS__INIT;
	Grpc__POSIXRlimit r0 = GRPC__POSIXRLIMIT__INIT, r1 = GRPC__POSIXRLIMIT__INIT;
	Grpc__POSIXRlimit *rp[] = {&r0, &r1};
	r0.type = "RLIMIT_NOFILE";
	r0.soft = 123;
	r0.hard = 456;
	r1.type = "RLIMIT_CORE";
	r1.soft = 0;
	r1.hard = UINT64_MAX; /* RLIM_INFINITY */
	p.rlimits = rp;
	p.n_rlimits = 2;
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(rlimits_apply(&p, &err), 0);
	struct rlimit rl;
	ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
	ASSERT_EQ(rl.rlim_cur, 123);
	ASSERT_EQ(rl.rlim_max, 456);
	ASSERT_EQ(getrlimit(RLIMIT_CORE, &rl), 0);
	ASSERT_EQ(rl.rlim_cur, 0);
	ASSERT_TRUE(rl.rlim_max == RLIM_INFINITY);

	/* The kernel refuses soft > hard: the error names the limit. */
	r0.soft = 500;
	r0.hard = 400;
	ASSERT_EQ(rlimits_apply(&p, &err), -EINVAL);
	ASSERT_NOT_NULL(strstr(err->msg, "RLIMIT_NOFILE"));
	err = agent_error_free(err);
	r0.type = "RLIMIT_BOGUS";
	ASSERT_EQ(rlimits_apply(&p, &err), -EINVAL);
	ASSERT_NOT_NULL(strstr(err->msg, "RLIMIT_BOGUS"));
}
