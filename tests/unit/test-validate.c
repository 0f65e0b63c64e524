/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <sys/mount.h>
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
} F;

#define ROOTDIR "/run/kata-containers/shared/containers/c1/rootfs"

/*
 * Container roots must lie below /run/kata-containers: each test (a fork of its
 * own) gets a private mount namespace with a tmpfs /run holding one.
 */
static void private_run(void)
{
	static bool done;
	if (done)
		return;
	if (unshare(CLONE_NEWNS) < 0)
		SKIP("cannot make a mount namespace: %s", strerror(errno));
	ASSERT_EQ(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ASSERT_EQ(mount("tmpfs", "/run", "tmpfs", 0, "mode=755"), 0);
	ASSERT_EQ(system("mkdir -p " ROOTDIR), 0);
	done = true;
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
	memset(&F, 0, sizeof(F));
	private_run();
	snprintf(F.rootdir, sizeof(F.rootdir), "%s", ROOTDIR);

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
		int _r = spec_validate(&F.spec, NULL, &_e);                        \
		if (_r != 0)                                                       \
			FAIL("expected valid, got %d: %s", _r, _e ? _e->msg : ""); \
	} while (0)

#define EXPECT_INVALID(substr)                                                           \
	do {                                                                             \
		_cleanup_error_ agent_error_t *_e = NULL;                                \
		ASSERT_EQ(spec_validate(&F.spec, NULL, &_e), -EINVAL);                   \
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
	int r = spec_validate(&F.spec, NULL, &e);
	unlink(link);
	ASSERT_EQ(r, -EINVAL);
	ASSERT_EQ(e->status, 3);
	ASSERT_NOT_NULL(strstr(e->msg, "root.path"));
	ASSERT_NOT_NULL(strstr(e->msg, "not canonical"));
}

TEST(root_missing_or_not_dir)
{
	base();
	char p[PATH_MAX + 8];
	snprintf(p, sizeof(p), "%s/nope", F.rootdir);
	F.root.path = p;
	EXPECT_INVALID("does not exist");
	base();
	ASSERT_EQ(system(": > " ROOTDIR "/../file"), 0);
	F.root.path = "/run/kata-containers/shared/containers/c1/file";
	EXPECT_INVALID("not a directory");
}

TEST(root_slash_and_long_path)
{
	base();
	F.root.path = "/";
	EXPECT_INVALID("root.path: \"/\" is not below /run/kata-containers");
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
	EXPECT_INVALID("a mount namespace is required");
	base();
	F.lnx.readonlypaths = paths;
	F.lnx.n_readonlypaths = 1;
	EXPECT_VALID();
	drop_ns("mount");
	EXPECT_INVALID("a mount namespace is required");
}

/* Without a mount namespace the container (and an exec in it) would work in the guest's root. */
TEST(mount_namespace_required)
{
	base();
	drop_ns("mount");
	EXPECT_INVALID("linux.namespaces: a mount namespace is required");
}

static int validate_with(const struct spec_policy *pol, char **msg)
{
	agent_error_t *e = NULL;
	int r = spec_validate(&F.spec, pol, &e);
	if (r < 0) {
		ASSERT_EQ(r, -EINVAL);
		ASSERT_EQ(e->status, 3);
	}
	if (msg)
		*msg = e ? strdup(e->msg) : NULL;
	agent_error_free(e);
	return r;
}

/* A host-given root that is (or leads to) the guest's own tree is refused. */
TEST(root_confined_below_run_kata_containers)
{
	base();
	ASSERT_EQ(system("ln -s / /run/kata-containers/up && ln -s /etc "
			 "/run/kata-containers/etc-link "
			 "&& mkdir -p /run/kata-containers-x/rootfs"),
		  0);
	static const char *const bad[] = {
		"/",
		"/etc",
		"/run",
		"/run/kata-containers",
		"/run/kata-containers-x/rootfs",
		"/run/kata-containers/up", /* a symlink to / */
		"/run/kata-containers/etc-link/ssl", /* through a symlink out: stays inside */
		"/run/kata-containers/shared/../../../etc",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *msg = NULL;
		F.root.path = (char *)bad[i];
		if (validate_with(NULL, &msg) != -EINVAL)
			FAIL("root %s accepted", bad[i]);
		if (!strstr(msg, "root.path"))
			FAIL("root %s: message \"%s\"", bad[i], msg);
		free(msg);
	}
	/* The debugging option lets any existing canonical directory through. */
	struct spec_policy loose = {.unconfined = true};
	F.root.path = "/";
	ASSERT_EQ(validate_with(&loose, NULL), 0);
	F.root.path = ROOTDIR;
	ASSERT_EQ(validate_with(NULL, NULL), 0);
}

static Grpc__Mount *one_mount(const char *type, const char *source, char *opt)
{
	static Grpc__Mount m;
	static Grpc__Mount *mp[1];
	static char *opts[1];
	grpc__mount__init(&m);
	m.destination = "/mnt";
	m.type = (char *)type;
	m.source = (char *)source;
	opts[0] = opt;
	m.options = opts;
	m.n_options = opt ? 1 : 0;
	mp[0] = &m;
	F.spec.mounts = mp;
	F.spec.n_mounts = 1;
	return &m;
}

/* Bind sources stay below /run/kata-containers (or are /dev nodes); other types are special. */
TEST(mount_sources_confined)
{
	static const struct {
		const char *type, *source, *opt;
		bool ok;
	} cases[] = {
		{"bind", "/", "rbind", false},
		{"bind", "/proc", "rbind", false},
		{"bind", "/etc", NULL, false},
		{"none", "/", "rbind", false},
		{"", "/var/run", "bind", false},
		{"bind", "/run/kata-containers", "rbind", false},
		{"bind", "/run/kata-containers/../etc", "rbind", false},
		{"bind", "/run/kata-containers-x/a", "rbind", false},
		{"bind", "/run/kata-containers/sandbox/shm", "rbind", true},
		{"bind", "/run/kata-containers/shared/containers/c1-0123-hostname", "rbind", true},
		{"none", "/run/kata-containers/sandbox/local/vol1", "bind", true},
		{"bind", "/dev/fuse", NULL, true}, /* a device node: checked when mounted */
		{"bind", "/dev", "rbind", false},
		{"proc", "/", NULL, true}, /* the source of a special filesystem is ignored */
		{"sysfs", "/sys", NULL, true},
		{"tmpfs", "shm", NULL, true},
		{"cgroup", "cgroup", NULL, true},
		{"devpts", "devpts", NULL, true},
		{"mqueue", "mqueue", NULL, true},
		{"ext4", "/dev/vda", NULL, false},
		{"overlay", "overlay", "lowerdir=/", false},
		{"tmpfs", "shm", "rbind", true}, /* a bind option on tmpfs does not make a bind */
	};
	base();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *msg = NULL;
		one_mount(cases[i].type, cases[i].source, (char *)cases[i].opt);
		int r = validate_with(NULL, &msg);
		if ((r == 0) != cases[i].ok)
			FAIL("%s %s (%s): %s", cases[i].type, cases[i].source,
			     cases[i].opt ? cases[i].opt : "", msg ? msg : "accepted");
		if (r < 0 && !strstr(msg, "mounts[0]"))
			FAIL("message \"%s\" does not name mounts[0]", msg);
		free(msg);
	}
	struct spec_policy loose = {.unconfined = true};
	one_mount("bind", "/", "rbind");
	ASSERT_EQ(validate_with(&loose, NULL), 0);
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
	struct spec_policy pol = {.hook_dir = "/usr/share/oci/hooks/"};
	base();
	h.path = "/usr/share/oci/hooks/prestart/hook";
	hooks.prestart = hp;
	hooks.n_prestart = 1;
	F.spec.hooks = &hooks;
	ASSERT_EQ(validate_with(&pol, NULL), 0);
	h.path = "hook";
	EXPECT_INVALID("hooks.prestart[0].path");
	h.path = "/usr/share/oci/hooks/prestart/hook";
	h.timeout = -1;
	ASSERT_EQ(validate_with(&pol, NULL), -EINVAL);
}

/* Spec hooks run as guest root in the agent's namespaces: only the guest's own hooks may. */
TEST(hooks_confined_to_guest_hook_dir)
{
	Grpc__Hooks hooks = GRPC__HOOKS__INIT;
	Grpc__Hook h = GRPC__HOOK__INIT;
	Grpc__Hook *hp[] = {&h};
	struct spec_policy pol = {.hook_dir = "/usr/share/oci/hooks"};
	char *msg = NULL;
	base();
	F.spec.hooks = &hooks;
	static const char *const bad[] = {"/bin/sh", "/usr/share/oci/hooks",
					  "/usr/share/oci/hooks/../../../../bin/sh",
					  "/usr/share/oci/hooksX/prestart/a"};
	Grpc__Hook ***lists[] = {&hooks.prestart,	 &hooks.poststart,
				 &hooks.poststop,	 &hooks.createruntime,
				 &hooks.createcontainer, &hooks.startcontainer};
	size_t *counts[] = {&hooks.n_prestart,	      &hooks.n_poststart,
			    &hooks.n_poststop,	      &hooks.n_createruntime,
			    &hooks.n_createcontainer, &hooks.n_startcontainer};
	for (size_t k = 0; k < 6; k++) {
		*lists[k] = hp;
		*counts[k] = 1;
		h.path = "/bin/sh";
		ASSERT_EQ(validate_with(NULL, &msg), -EINVAL); /* no hook dir at all */
		ASSERT_NOT_NULL(strstr(msg, "is not below the guest hook directory"));
		free(msg);
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			h.path = (char *)bad[i];
			if (validate_with(&pol, NULL) != -EINVAL)
				FAIL("hook %zu %s accepted", k, bad[i]);
		}
		h.path = "/usr/share/oci/hooks/prestart/a";
		ASSERT_EQ(validate_with(&pol, NULL), 0);
		struct spec_policy loose = {.unconfined = true};
		h.path = "/bin/sh";
		ASSERT_EQ(validate_with(&loose, NULL), 0);
		*counts[k] = 0;
	}
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
