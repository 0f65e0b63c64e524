/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container filesystem view, built for real: a temporary rootfs, a forked
 * child in new mount/uts/net namespaces that prepares, pivots and finishes,
 * then checks from inside what it sees (mountinfo, /dev, read-only paths).
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container/pathsafe.h"
#include "container/rootfs-internal.h"
#include "container/rootfs.h"
#include "harness.h"
#include "rpc/status.h"

#define TMPFS_MAGIC_ 0x01021994
#define SYSFS_MAGIC_ 0x62656572
#define PROC_MAGIC_ 0x9fa0
#define DEVPTS_MAGIC_ 0x1cd1
#define CGROUP_MAGIC_ 0x27e0eb
#define CGROUP2_MAGIC_ 0x63677270

/* ---- a small spec builder ---------------------------------------------------------------- */

#define MAXN 16
struct specb {
	Grpc__Spec spec;
	Grpc__Root root;
	Grpc__Linux lx;
	Grpc__Mount m[MAXN];
	Grpc__Mount *mp[MAXN];
	char optbuf[MAXN][256];
	char *optv[MAXN][MAXN];
	Grpc__LinuxDevice d[MAXN];
	Grpc__LinuxDevice *dp[MAXN];
	Grpc__Linux__SysctlEntry s[MAXN];
	Grpc__Linux__SysctlEntry *sp[MAXN];
	char *masked[MAXN];
	char *ro[MAXN];
};

static void specb_init(struct specb *b, const char *rootfs)
{
	memset(b, 0, sizeof(*b));
	grpc__spec__init(&b->spec);
	grpc__root__init(&b->root);
	grpc__linux__init(&b->lx);
	b->root.path = (char *)rootfs;
	b->spec.root = &b->root;
	b->spec.linux = &b->lx;
	b->spec.mounts = b->mp;
	b->lx.devices = b->dp;
	b->lx.sysctl = b->sp;
	b->lx.maskedpaths = b->masked;
	b->lx.readonlypaths = b->ro;
}

/* opts: comma-separated words, or "". */
static void add_mount(struct specb *b, const char *dest, const char *type, const char *src,
		      const char *opts)
{
	Grpc__Mount *m = &b->m[b->spec.n_mounts];
	grpc__mount__init(m);
	m->destination = (char *)dest;
	m->type = (char *)type;
	m->source = (char *)src;
	size_t i = b->spec.n_mounts;
	m->options = b->optv[i];
	snprintf(b->optbuf[i], sizeof(b->optbuf[i]), "%s", opts);
	char *save = NULL;
	for (char *t = strtok_r(b->optbuf[i], ",", &save); t && m->n_options < MAXN;
	     t = strtok_r(NULL, ",", &save))
		m->options[m->n_options++] = t;
	b->mp[b->spec.n_mounts++] = m;
}

static void add_device(struct specb *b, const char *path, const char *type, int major, int minor,
		       unsigned mode, unsigned uid, unsigned gid)
{
	Grpc__LinuxDevice *d = &b->d[b->lx.n_devices];
	grpc__linux_device__init(d);
	d->path = (char *)path;
	d->type = (char *)type;
	d->major = major;
	d->minor = minor;
	d->filemode = mode;
	d->uid = uid;
	d->gid = gid;
	b->dp[b->lx.n_devices++] = d;
}

static void add_sysctl(struct specb *b, const char *k, const char *v)
{
	Grpc__Linux__SysctlEntry *s = &b->s[b->lx.n_sysctl];
	grpc__linux__sysctl_entry__init(s);
	s->key = (char *)k;
	s->value = (char *)v;
	b->sp[b->lx.n_sysctl++] = s;
}

/* ---- fixtures ---------------------------------------------------------------------------- */

static void write_file(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		FAIL("create %s: %m", path);
	ASSERT_EQ(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

static void mkdirf(const char *fmt, ...) _printf_(1, 2);
static void mkdirf(const char *fmt, ...)
{
	char p[PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p, sizeof(p), fmt, ap);
	va_end(ap);
	if (mkdir(p, 0755) < 0)
		FAIL("mkdir %s: %m", p);
}

static const char *pathf(const char *fmt, ...) _printf_(1, 2);
static const char *pathf(const char *fmt, ...)
{
	static char bufs[8][PATH_MAX];
	static int n;
	char *p = bufs[n++ % 8];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p, PATH_MAX, fmt, ap);
	va_end(ap);
	return p;
}

struct fixture {
	char root[64];
	char host[64];
};

static void fixture_make(struct fixture *f)
{
	if (geteuid() != 0)
		SKIP("needs root");
	snprintf(f->root, sizeof(f->root), "/tmp/rootfs-test-XXXXXX");
	snprintf(f->host, sizeof(f->host), "/tmp/rootfs-host-XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(f->root));
	ASSERT_NOT_NULL(mkdtemp(f->host));
	const char *dirs[] = {"bin", "proc", "sys", "dev", "etc", "tmp"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		mkdirf("%s/%s", f->root, dirs[i]);
	write_file(pathf("%s/data", f->host), "from-host");
	write_file(pathf("%s/single", f->host), "single");
}

static void fixture_clean(struct fixture *f)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system '%s' '%s'", f->root, f->host);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", f->root);
}

/* Runs fn in a child and returns its exit status (0 = all its assertions held). */
static int run_child(void (*fn)(void *), void *arg)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	int st;
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

/* A macro so that err is read after the call, not before. */
#define must(call, what)                                                            \
	do {                                                                        \
		int _r = (call);                                                    \
		if (_r < 0)                                                         \
			FAIL("%s: %d %s", what, _r, err ? err->msg : "(no error)"); \
	} while (0)

/* ---- inside the container ---------------------------------------------------------------- */

struct mi {
	char options[256];
	char fstype[64];
	char superopts[512];
	bool found;
};

/* The last (topmost) mountinfo entry at mountpoint. */
static struct mi find_mount(const char *mountpoint)
{
	struct mi ret = {0};
	_cleanup_free_ char *buf = NULL;
	ASSERT_TRUE(mountinfo_read(&buf, NULL) >= 0);
	char *pos = buf;
	struct mountinfo_entry e;
	while (mountinfo_next(&pos, &e) == 1) {
		if (strcmp(e.mountpoint, mountpoint) != 0)
			continue;
		ret.found = true;
		snprintf(ret.options, sizeof(ret.options), "%s", e.options);
		snprintf(ret.fstype, sizeof(ret.fstype), "%s", e.fstype);
		snprintf(ret.superopts, sizeof(ret.superopts), "%s", e.superopts);
	}
	return ret;
}

static bool has_word(const char *list, const char *w)
{
	size_t l = strlen(w);
	for (const char *p = list; p && *p;) {
		const char *e = strchrnul(p, ',');
		if ((size_t)(e - p) == l && strncmp(p, w, l) == 0)
			return true;
		p = *e ? e + 1 : e;
	}
	return false;
}

static void read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		FAIL("open %s: %m", path);
	ssize_t n = read(fd, buf, size - 1);
	ASSERT_TRUE(n >= 0);
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	close(fd);
}

static long fs_type(const char *path)
{
	struct statfs sf;
	if (statfs(path, &sf) < 0)
		FAIL("statfs %s: %m", path);
	return (long)sf.f_type;
}

static void assert_erofs_create(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		FAIL("created %s on what should be read-only", path);
	if (errno != EROFS)
		FAIL("create %s: %m, expected EROFS", path);
}

static void assert_chardev(const char *path, unsigned major, unsigned minor, unsigned mode)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		FAIL("lstat %s: %m", path);
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(major(st.st_rdev), major);
	ASSERT_EQ(minor(st.st_rdev), minor);
	if (mode)
		ASSERT_EQ(st.st_mode & 07777, mode);
}

static void assert_link(const char *path, const char *target)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		FAIL("readlink %s: %m", path);
	buf[n] = '\0';
	ASSERT_STREQ(buf, target);
}

/* ---- the full container view ------------------------------------------------------------- */

static void full_spec(struct specb *b, struct fixture *f)
{
	specb_init(b, f->root);
	add_mount(b, "/proc", "proc", "proc", "nosuid,noexec,nodev");
	add_mount(b, "/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro");
	add_mount(b, "/tmp/sized", "tmpfs", "tmpfs", "nosuid,size=1024k,mode=711");
	add_mount(b, "/ro-host", "bind", pathf("%s", f->host), "rbind,ro,nosuid");
	add_mount(b, "/etc/single", "none", pathf("%s/single", f->host), "bind");
	add_mount(b, "/escape/inner", "tmpfs", "tmpfs", "");
	add_mount(b, "/proc/uptime", "bind", pathf("%s/single", f->host), "bind,ro");
	add_device(b, "/dev/mynull", "c", 1, 3, 0600, 1000, 1000);
	add_sysctl(b, "net.ipv4.ip_forward", "1");
	add_sysctl(b, "kernel.domainname", "rootfs.test");
	add_sysctl(b, "net.ipv4.no_such_key_here", "1");
	b->masked[b->lx.n_maskedpaths++] = "/masked-dir";
	b->masked[b->lx.n_maskedpaths++] = "/masked-file";
	b->masked[b->lx.n_maskedpaths++] = "/not-there";
	b->ro[b->lx.n_readonlypaths++] = "/rw-dir/ro";
	b->ro[b->lx.n_readonlypaths++] = "/proc/sys";
	b->ro[b->lx.n_readonlypaths++] = "/not-there-either";
	b->root.readonly = true;

	/* Escapes that must stay inside the root. */
	ASSERT_EQ(symlink("/../../../tmp/escape-target", pathf("%s/escape", f->root)), 0);
	mkdirf("%s/masked-dir", f->root);
	write_file(pathf("%s/masked-dir/secret", f->root), "secret");
	write_file(pathf("%s/masked-file", f->root), "secret");
	mkdirf("%s/rw-dir", f->root);
	mkdirf("%s/rw-dir/ro", f->root);
}

struct child_arg {
	struct specb *b;
	struct fixture *f;
	bool userns;
	bool cgroup_v2;
	const char *proc_file;
	unsigned how;
};

static void full_child(void *p)
{
	struct child_arg *a = p;
	agent_error_t *err = NULL;
	struct rootfs_ctx c = {.spec = &a->b->spec, .rootfs = a->f->root};

	ASSERT_EQ(unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWNET), 0);
	must(rootfs_validate(c.spec, &err), "validate");
	must(rootfs_prepare_how(&c, a->how, &err), "prepare");
	must(rootfs_pivot(&c, &err), "pivot");
	must(rootfs_finish(&c, &err), "finish");

	char buf[4096];
	struct mi m;

	/* The old root is gone: nothing of the host is mounted under it. */
	ASSERT_FALSE(find_mount(a->f->root).found);
	m = find_mount("/");
	ASSERT_TRUE(m.found);
	ASSERT_TRUE(has_word(m.options, "ro"));
	assert_erofs_create("/newfile");
	assert_erofs_create("/tmp/newfile");

	m = find_mount("/proc");
	ASSERT_STREQ(m.fstype, "proc");
	ASSERT_TRUE(has_word(m.options, "nosuid") && has_word(m.options, "noexec"));
	m = find_mount("/sys");
	ASSERT_STREQ(m.fstype, "sysfs");
	ASSERT_TRUE(has_word(m.options, "ro"));
	ASSERT_EQ(fs_type("/sys"), SYSFS_MAGIC_);

	m = find_mount("/tmp/sized");
	ASSERT_STREQ(m.fstype, "tmpfs");
	ASSERT_TRUE(has_word(m.superopts, "size=1024k"));
	ASSERT_TRUE(has_word(m.superopts, "mode=711"));
	ASSERT_TRUE(has_word(m.options, "nosuid"));
	write_file("/tmp/sized/ok", "writable");

	/* The bind of a host directory, read-only. */
	m = find_mount("/ro-host");
	ASSERT_TRUE(m.found);
	ASSERT_TRUE(has_word(m.options, "ro") && has_word(m.options, "nosuid"));
	read_file("/ro-host/data", buf, sizeof(buf));
	ASSERT_STREQ(buf, "from-host");
	assert_erofs_create("/ro-host/new");

	/* The bind of one file, its target created in the read-only root before it became so. */
	read_file("/etc/single", buf, sizeof(buf));
	ASSERT_STREQ(buf, "single");
	read_file("/proc/uptime", buf, sizeof(buf));
	ASSERT_STREQ(buf, "single");

	/* The symlinked destination landed inside the root. */
	ASSERT_TRUE(find_mount("/tmp/escape-target/inner").found);
	ASSERT_EQ(fs_type("/tmp/escape-target/inner"), TMPFS_MAGIC_);

	/* /dev */
	m = find_mount("/dev");
	ASSERT_STREQ(m.fstype, "tmpfs");
	ASSERT_TRUE(has_word(m.superopts, "mode=755"));
	ASSERT_TRUE(has_word(m.superopts, "size=65536k"));
	ASSERT_TRUE(has_word(m.options, "nosuid"));
	ASSERT_EQ(fs_type("/dev/pts"), DEVPTS_MAGIC_);
	m = find_mount("/dev/pts");
	ASSERT_TRUE(has_word(m.superopts, "ptmxmode=666"));
	ASSERT_TRUE(has_word(m.superopts, "mode=620"));
	ASSERT_EQ(fs_type("/dev/shm"), TMPFS_MAGIC_);
	struct stat st;
	ASSERT_EQ(stat("/dev/shm", &st), 0);
	ASSERT_EQ(st.st_mode & 07777, 01777);
	assert_chardev("/dev/null", 1, 3, 0666);
	assert_chardev("/dev/zero", 1, 5, 0666);
	assert_chardev("/dev/full", 1, 7, 0666);
	assert_chardev("/dev/tty", 5, 0, 0666);
	assert_chardev("/dev/urandom", 1, 9, 0666);
	assert_chardev("/dev/random", 1, 8, 0666);
	assert_chardev("/dev/mynull", 1, 3, 0600);
	ASSERT_EQ(lstat("/dev/mynull", &st), 0);
	ASSERT_EQ(st.st_uid, 1000);
	ASSERT_EQ(st.st_gid, 1000);
	assert_link("/dev/fd", "/proc/self/fd");
	assert_link("/dev/stdin", "/proc/self/fd/0");
	assert_link("/dev/stdout", "/proc/self/fd/1");
	assert_link("/dev/stderr", "/proc/self/fd/2");
	assert_link("/dev/ptmx", "pts/ptmx");
	if (access("/proc/kcore", F_OK) == 0)
		assert_link("/dev/core", "/proc/kcore");
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, "x", 1), 1);
	close(fd);
	fd = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	close(fd);

	/* sysctl in the new uts and net namespaces; the missing key was skipped. */
	read_file("/proc/sys/net/ipv4/ip_forward", buf, sizeof(buf));
	ASSERT_STREQ(buf, "1");
	read_file("/proc/sys/kernel/domainname", buf, sizeof(buf));
	ASSERT_STREQ(buf, "rootfs.test");

	/* Masked: the directory is an empty read-only tmpfs, the file reads nothing. */
	DIR *d = opendir("/masked-dir");
	ASSERT_NOT_NULL(d);
	struct dirent *de;
	int entries = 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			entries++;
	closedir(d);
	ASSERT_EQ(entries, 0);
	ASSERT_EQ(fs_type("/masked-dir"), TMPFS_MAGIC_);
	ASSERT_TRUE(has_word(find_mount("/masked-dir").options, "ro"));
	ASSERT_EQ(mkdir("/masked-dir/x", 0755), -1);
	ASSERT_EQ(errno, EROFS);
	read_file("/masked-file", buf, sizeof(buf));
	ASSERT_STREQ(buf, "");
	assert_chardev("/masked-file", 1, 3, 0);

	/* Read-only paths. */
	ASSERT_TRUE(has_word(find_mount("/rw-dir/ro").options, "ro"));
	ASSERT_TRUE(has_word(find_mount("/proc/sys").options, "ro"));
	fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
	ASSERT_EQ(fd, -1);
	ASSERT_EQ(errno, EROFS);
}

static void full_view(unsigned how)
{
	struct fixture f;
	struct specb b;
	fixture_make(&f);
	full_spec(&b, &f);
	struct child_arg a = {.b = &b, .f = &f, .how = how};
	int st = run_child(full_child, &a);
	/* Nothing leaked onto the host. */
	bool escaped = access("/tmp/escape-target", F_OK) == 0;
	fixture_clean(&f);
	ASSERT_EQ(st, 0);
	ASSERT_FALSE(escaped);
}

TEST(rootfs_full_container_view)
{
	full_view(0);
}

/* The same container with every in-root lookup done by the fallback walk. */
TEST(rootfs_full_container_view_fallback_walk)
{
	full_view(PATHSAFE_FORCE_WALK);
}

/* ---- refusals ---------------------------------------------------------------------------- */

static void kcore_child(void *p)
{
	struct child_arg *a = p;
	agent_error_t *err = NULL;
	struct rootfs_ctx c = {.spec = &a->b->spec, .rootfs = a->f->root};
	ASSERT_EQ(unshare(CLONE_NEWNS), 0);
	int r = rootfs_prepare(&c, &err);
	ASSERT_TRUE(r < 0);
	ASSERT_NOT_NULL(err);
	if (!strstr(err->msg, "/proc/kcore"))
		FAIL("error does not name /proc/kcore: %s", err->msg);
	ASSERT_EQ(err->status, GRPC_INVALID_ARGUMENT);
}

TEST(rootfs_bind_into_proc_kcore_refused)
{
	struct fixture f;
	struct specb b;
	if (access("/proc/kcore", F_OK) < 0)
		SKIP("no /proc/kcore on this kernel");
	fixture_make(&f);
	specb_init(&b, f.root);
	add_mount(&b, "/proc", "proc", "proc", "");
	add_mount(&b, "/proc/kcore", "bind", pathf("%s/single", f.host), "bind");
	struct child_arg a = {.b = &b, .f = &f};
	int st = run_child(kcore_child, &a);
	fixture_clean(&f);
	ASSERT_EQ(st, 0);
}

static void expect_invalid(struct specb *b, const char *needle)
{
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(rootfs_validate(&b->spec, &err), -EINVAL);
	ASSERT_NOT_NULL(err);
	ASSERT_EQ(err->status, GRPC_INVALID_ARGUMENT);
	if (!strstr(err->msg, needle))
		FAIL("error \"%s\" does not mention \"%s\"", err->msg, needle);
}

TEST(rootfs_validate_refusals)
{
	struct specb b;
	specb_init(&b, "/");
	add_mount(&b, "/proc", "proc", "proc", "");
	add_device(&b, "/dev/vfio/1", "c", 1, 3, 0, 0, 0);
	add_sysctl(&b, "net.ipv4.ip_forward", "1");
	ASSERT_EQ(rootfs_validate(&b.spec, NULL), 0);

	specb_init(&b, "/");
	add_mount(&b, "relative/dest", "tmpfs", "tmpfs", "");
	expect_invalid(&b, "relative/dest");
	specb_init(&b, "/");
	add_mount(&b, "/a/../b", "tmpfs", "tmpfs", "");
	expect_invalid(&b, "..");
	specb_init(&b, "/");
	add_mount(&b, "/a", "tmpfs", "tmpfs", "loop");
	expect_invalid(&b, "loop");
	specb_init(&b, "/");
	add_device(&b, "/etc/null", "c", 1, 3, 0, 0, 0);
	expect_invalid(&b, "/etc/null");
	specb_init(&b, "/");
	add_device(&b, "/dev/../etc/x", "c", 1, 3, 0, 0, 0);
	expect_invalid(&b, "..");
	specb_init(&b, "/");
	add_device(&b, "/dev/x", "a", 1, 3, 0, 0, 0);
	expect_invalid(&b, "type");
	/* "a/b/c" is the slash form of sysctl(8) (for dots inside a component): allowed. */
	const char *bad_keys[] = {"/net/ipv4", "net//x", "net/../x", "net..x", ".net", "net.", ""};
	for (size_t i = 0; i < ARRAY_SIZE(bad_keys); i++) {
		specb_init(&b, "/");
		add_sysctl(&b, bad_keys[i], "1");
		expect_invalid(&b, "sysctl");
	}
}

static void sysrq_child(void *p)
{
	struct child_arg *a = p;
	agent_error_t *err = NULL;
	struct rootfs_ctx c = {.spec = &a->b->spec, .rootfs = a->f->root};
	ASSERT_EQ(unshare(CLONE_NEWNS), 0);
	ASSERT_TRUE(rootfs_prepare(&c, &err) < 0);
	if (!strstr(err->msg, a->proc_file))
		FAIL("error does not name %s: %s", a->proc_file, err->msg);
}

/* Same rule, for a /proc file every kernel has; reached through an in-root symlink too. */
TEST(rootfs_bind_into_proc_refused_even_through_symlink)
{
	struct fixture f;
	struct specb b;
	static const char *const candidates[] = {"/proc/sysrq-trigger", "/proc/kmsg",
						 "/proc/timer_list", "/proc/keys"};
	const char *target = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(candidates) && !target; i++)
		if (access(candidates[i], F_OK) == 0)
			target = candidates[i];
	if (!target)
		SKIP("none of the usual /proc files exists");
	fixture_make(&f);
	ASSERT_EQ(symlink(target, pathf("%s/innocent", f.root)), 0);
	specb_init(&b, f.root);
	add_mount(&b, "/proc", "proc", "proc", "");
	add_mount(&b, "/innocent", "bind", pathf("%s/single", f.host), "bind");
	struct child_arg a = {.b = &b, .f = &f, .proc_file = target};
	int st = run_child(sysrq_child, &a);
	fixture_clean(&f);
	ASSERT_EQ(st, 0);
}

/* ---- in-root resolution, openat2 and the fallback walk ----------------------------------- */

static void same_file(int fd, const char *path)
{
	struct stat a, b;
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(fstat(fd, &a), 0);
	if (lstat(path, &b) < 0)
		FAIL("lstat %s: %m", path);
	if (a.st_ino != b.st_ino || a.st_dev != b.st_dev)
		FAIL("fd is not %s", path);
	close(fd);
}

static void pathsafe_cases(unsigned how)
{
	struct fixture f;
	fixture_make(&f);
	const char *r = f.root;
	mkdirf("%s/a", r);
	mkdirf("%s/a/b", r);
	ASSERT_EQ(symlink("/a", pathf("%s/abs", r)), 0);
	ASSERT_EQ(symlink("../../../a", pathf("%s/up", r)), 0);
	ASSERT_EQ(symlink("../../../../etc", pathf("%s/a/esc", r)), 0);
	ASSERT_EQ(symlink("loop2", pathf("%s/loop1", r)), 0);
	ASSERT_EQ(symlink("loop1", pathf("%s/loop2", r)), 0);
	ASSERT_EQ(symlink("/nowhere/deeper", pathf("%s/dangling", r)), 0);
	ASSERT_EQ(symlink("b", pathf("%s/a/rel", r)), 0);
	int root = open(r, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(root >= 0);

	same_file(pathsafe_open(root, "/abs/b", O_PATH, how), pathf("%s/a/b", r));
	same_file(pathsafe_open(root, "up/b", O_PATH, how), pathf("%s/a/b", r));
	same_file(pathsafe_open(root, "/a/esc", O_PATH, how), pathf("%s/etc", r));
	same_file(pathsafe_open(root, "/../../a/b/..", O_PATH, how), pathf("%s/a", r));
	same_file(pathsafe_open(root, "/a/rel", O_PATH | O_DIRECTORY, how), pathf("%s/a/b", r));
	same_file(pathsafe_open(root, "/", O_PATH, how), r);
	ASSERT_EQ(pathsafe_open(root, "/loop1", O_PATH, how), -ELOOP);
	ASSERT_EQ(pathsafe_open(root, "/a/b/missing", O_PATH, how), -ENOENT);
	/* An empty path names nothing (as open(2) and openat2 say), not the root. */
	ASSERT_EQ(pathsafe_open(root, "", O_PATH, how), -ENOENT);
	/* NOFOLLOW: the link itself. */
	int fd = pathsafe_open(root, "/abs", O_PATH, how | PATHSAFE_NOFOLLOW);
	struct stat st;
	ASSERT_EQ(fstatat(fd, "", &st, AT_EMPTY_PATH), 0);
	ASSERT_TRUE(S_ISLNK(st.st_mode));
	close(fd);
	/* A magic link is never followed to its real target. */
	fd = pathsafe_open(root, "/proc/self/root/etc", O_PATH, how);
	ASSERT_TRUE(fd < 0);

	/* Creation follows links inside the root, never outside. */
	same_file(pathsafe_mkdir_p(root, "/up/new/sub", 0755, how), pathf("%s/a/new/sub", r));
	same_file(pathsafe_create(root, "/abs/file", false, how), pathf("%s/a/file", r));
	ASSERT_EQ(lstat(pathf("%s/a/file", r), &st), 0);
	ASSERT_TRUE(S_ISREG(st.st_mode));
	same_file(pathsafe_mkdir_p(root, "/dangling/x", 0755, how),
		  pathf("%s/nowhere/deeper/x", r));
	same_file(pathsafe_create(root, "/a/esc/passwd-like", false, how),
		  pathf("%s/etc/passwd-like", r));
	ASSERT_EQ(pathsafe_mkdir_p(root, "/loop1/x", 0755, how), -ELOOP);
	close(root);
	fixture_clean(&f);
}

TEST(pathsafe_openat2)
{
	int fd = pathsafe_open(AT_FDCWD, "/", O_PATH, 0);
	ASSERT_TRUE(fd >= 0);
	close(fd);
	errno = 0;
	if (syscall(SYS_openat2, -1, "", NULL, 0) < 0 && errno == ENOSYS)
		SKIP("openat2 not available (the walk test still runs)");
	pathsafe_cases(0);
}

TEST(pathsafe_fallback_walk)
{
	pathsafe_cases(PATHSAFE_FORCE_WALK);
}

/* ---- cgroup mounts ----------------------------------------------------------------------- */

static void cgroup_child(void *p)
{
	struct child_arg *a = p;
	agent_error_t *err = NULL;
	struct rootfs_ctx c = {
		.spec = &a->b->spec, .rootfs = a->f->root, .cgroup_v2 = a->cgroup_v2};
	ASSERT_EQ(unshare(CLONE_NEWNS | CLONE_NEWNET), 0);
	must(rootfs_prepare(&c, &err), "prepare");
	must(rootfs_pivot(&c, &err), "pivot");
	must(rootfs_finish(&c, &err), "finish");
	if (a->cgroup_v2) {
		ASSERT_EQ(fs_type("/sys/fs/cgroup"), CGROUP2_MAGIC_);
		ASSERT_TRUE(has_word(find_mount("/sys/fs/cgroup").options, "ro"));
		return;
	}
	ASSERT_EQ(fs_type("/sys/fs/cgroup"), TMPFS_MAGIC_);
	ASSERT_TRUE(has_word(find_mount("/sys/fs/cgroup").options, "ro"));
	ASSERT_EQ(fs_type("/sys/fs/cgroup/memory"), CGROUP_MAGIC_);
	struct mi m = find_mount("/sys/fs/cgroup/memory");
	ASSERT_TRUE(has_word(m.options, "ro") && has_word(m.options, "nosuid"));
	/* Our own cgroup's directory: this process is listed in it. */
	char buf[65536], me[32];
	read_file("/sys/fs/cgroup/memory/cgroup.procs", buf, sizeof(buf));
	snprintf(me, sizeof(me), "%d", getpid());
	bool found = false;
	for (char *s = NULL, *t = strtok_r(buf, "\n", &s); t; t = strtok_r(NULL, "\n", &s))
		found |= strcmp(t, me) == 0;
	ASSERT_TRUE(found);
	ASSERT_EQ(mkdir("/sys/fs/cgroup/memory/x", 0755), -1);
	ASSERT_EQ(errno, EROFS);
}

static void cgroup_case(bool v2)
{
	struct fixture f;
	struct specb b;
	if (!v2 && fs_type("/sys/fs/cgroup/memory") != CGROUP_MAGIC_)
		SKIP("no cgroup v1 memory hierarchy at /sys/fs/cgroup/memory");
	fixture_make(&f);
	specb_init(&b, f.root);
	add_mount(&b, "/proc", "proc", "proc", "");
	add_mount(&b, "/sys", "sysfs", "sysfs", "nosuid,noexec,nodev");
	add_mount(&b, "/sys/fs/cgroup", "cgroup", "cgroup", "nosuid,noexec,nodev,relatime,ro");
	struct child_arg a = {.b = &b, .f = &f, .cgroup_v2 = v2};
	int st = run_child(cgroup_child, &a);
	fixture_clean(&f);
	ASSERT_EQ(st, 0);
}

TEST(rootfs_cgroup_v1_binds_own_cgroup)
{
	cgroup_case(false);
}

TEST(rootfs_cgroup_v2_mount)
{
	cgroup_case(true);
}

/* ---- a user namespace: device nodes are binds of the host's ------------------------------ */

static void userns_child(void *p)
{
	struct child_arg *a = p;
	agent_error_t *err = NULL;
	int go[2], done[2];
	ASSERT_EQ(pipe2(go, O_CLOEXEC), 0);
	ASSERT_EQ(pipe2(done, O_CLOEXEC), 0);
	pid_t self = getpid();
	pid_t mapper = fork();
	ASSERT_TRUE(mapper >= 0);
	if (mapper == 0) {
		/* Still in the initial user namespace: writes the maps for its parent. */
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		const char *files[] = {"uid_map", "gid_map"};
		for (int i = 0; i < 2; i++) {
			char path[64];
			snprintf(path, sizeof(path), "/proc/%d/%s", self, files[i]);
			int fd = open(path, O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, "0 0 4294967295", 14) != 14)
				_exit(2);
			close(fd);
		}
		_exit(write(done[1], "x", 1) == 1 ? 0 : 3);
	}
	ASSERT_EQ(unshare(CLONE_NEWUSER), 0);
	ASSERT_EQ(write(go[1], "x", 1), 1);
	char c;
	ASSERT_EQ(read(done[0], &c, 1), 1);
	int st;
	ASSERT_EQ(waitpid(mapper, &st, 0), mapper);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ASSERT_EQ(unshare(CLONE_NEWNS), 0);

	struct rootfs_ctx ctx = {.spec = &a->b->spec, .rootfs = a->f->root, .userns = true};
	must(rootfs_prepare(&ctx, &err), "prepare");
	must(rootfs_pivot(&ctx, &err), "pivot");
	must(rootfs_finish(&ctx, &err), "finish");

	/* No mknod here: each default device is a bind mount of the host node. */
	const char *devs[] = {"/dev/null", "/dev/zero",	   "/dev/full",
			      "/dev/tty",  "/dev/urandom", "/dev/random"};
	for (size_t i = 0; i < ARRAY_SIZE(devs); i++)
		if (!find_mount(devs[i]).found)
			FAIL("%s is not a bind mount", devs[i]);
	assert_chardev("/dev/null", 1, 3, 0);
	assert_chardev("/dev/zero", 1, 5, 0);
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, "x", 1), 1);
	close(fd);
	ASSERT_EQ(fs_type("/dev/pts"), DEVPTS_MAGIC_);
	char buf[256];
	read_file("/ro-host/data", buf, sizeof(buf));
	ASSERT_STREQ(buf, "from-host");
	assert_erofs_create("/ro-host/new");
	assert_erofs_create("/newfile");
	write_file("/tmp/sized/ok", "writable");
}

TEST(rootfs_user_namespace_binds_devices)
{
	struct fixture f;
	struct specb b;
	if (access("/proc/self/ns/user", F_OK) < 0)
		SKIP("no user namespaces");
	fixture_make(&f);
	specb_init(&b, f.root);
	/* proc cannot be mounted fresh without a pid namespace of our own: bind the host's. */
	add_mount(&b, "/proc", "bind", "/proc", "rbind");
	add_mount(&b, "/tmp/sized", "tmpfs", "tmpfs", "size=1024k");
	add_mount(&b, "/ro-host", "bind", pathf("%s", f.host), "rbind,ro");
	b.root.readonly = true;
	struct child_arg a = {.b = &b, .f = &f};
	int st = run_child(userns_child, &a);
	fixture_clean(&f);
	ASSERT_EQ(st, 0);
}

/* ---- rootfsPropagation ------------------------------------------------------------------- */

/* The optional fields (shared:N, master:N) of the mountinfo line for "/". */
static void root_tags(char *buf, size_t size)
{
	FILE *fp = fopen("/proc/self/mountinfo", "re");
	ASSERT_NOT_NULL(fp);
	char line[4096];
	buf[0] = '\0';
	while (fgets(line, sizeof(line), fp)) {
		char mp[PATH_MAX], opt[256];
		int n = 0;
		if (sscanf(line, "%*d %*d %*s %*s %4095s %255s %n", mp, opt, &n) < 2 ||
		    strcmp(mp, "/") != 0)
			continue;
		char *dash = strstr(line + n, "- ");
		if (dash)
			*dash = '\0';
		snprintf(buf, size, "%s", line + n);
	}
	fclose(fp);
}

static void propagation_child(void *p)
{
	struct child_arg *a = p;
	agent_error_t *err = NULL;
	struct rootfs_ctx c = {.spec = &a->b->spec, .rootfs = a->f->root};
	ASSERT_EQ(unshare(CLONE_NEWNS), 0);
	must(rootfs_prepare(&c, &err), "prepare");
	must(rootfs_pivot(&c, &err), "pivot");
	must(rootfs_finish(&c, &err), "finish");
	char tags[512], buf[64];
	read_file("/ro-host/data", buf, sizeof(buf));
	ASSERT_STREQ(buf, "from-host");
	root_tags(tags, sizeof(tags));
	const char *prop = a->b->lx.rootfspropagation;
	if (strcmp(prop, "rprivate") == 0 && (strstr(tags, "shared:") || strstr(tags, "master:")))
		FAIL("/ is not private: %s", tags);
	if (strcmp(prop, "rshared") == 0 && !strstr(tags, "shared:"))
		FAIL("/ is not shared: %s", tags);
	if (strcmp(prop, "runbindable") == 0 && !strstr(tags, "unbindable"))
		FAIL("/ is not unbindable: %s", tags);
}

TEST(rootfs_propagation_words)
{
	const char *words[] = {"rprivate", "rslave", "rshared", "private", "slave", "runbindable"};
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		struct fixture f;
		struct specb b;
		fixture_make(&f);
		specb_init(&b, f.root);
		add_mount(&b, "/proc", "proc", "proc", "");
		add_mount(&b, "/ro-host", "bind", f.host, "rbind,ro");
		b.lx.rootfspropagation = (char *)words[i];
		struct child_arg a = {.b = &b, .f = &f};
		int st = run_child(propagation_child, &a);
		fixture_clean(&f);
		if (st != 0)
			FAIL("rootfsPropagation %s: child status %d", words[i], st);
	}
	/* Not a propagation word. */
	struct specb b;
	specb_init(&b, "/");
	b.lx.rootfspropagation = "ro";
	_cleanup_error_ agent_error_t *err = NULL;
	struct rootfs_ctx c = {.spec = &b.spec, .rootfs = "/"};
	ASSERT_EQ(rootfs_prepare(&c, &err), -EINVAL);
	ASSERT_EQ(err->status, GRPC_INVALID_ARGUMENT);
}

/* ---- a /dev from the spec ---------------------------------------------------------------- */

static void spec_dev_child(void *p)
{
	struct child_arg *a = p;
	agent_error_t *err = NULL;
	struct rootfs_ctx c = {.spec = &a->b->spec, .rootfs = a->f->root};
	ASSERT_EQ(unshare(CLONE_NEWNS), 0);
	must(rootfs_prepare(&c, &err), "prepare");
	must(rootfs_pivot(&c, &err), "pivot");
	must(rootfs_finish(&c, &err), "finish");
	if (a->how) {
		/* A bind-mounted /dev is left alone: nothing was created in it. */
		ASSERT_EQ(access("/dev/null", F_OK), -1);
		ASSERT_EQ(access("/dev/ptmx", F_OK), -1);
		char buf[64];
		read_file("/dev/data", buf, sizeof(buf));
		ASSERT_STREQ(buf, "from-host");
		return;
	}
	struct mi m = find_mount("/dev");
	ASSERT_STREQ(m.fstype, "tmpfs");
	ASSERT_TRUE(has_word(m.options, "ro"));
	ASSERT_TRUE(has_word(m.superopts, "size=1024k"));
	assert_chardev("/dev/null", 1, 3, 0666);
	assert_chardev("/dev/mynull", 1, 3, 0640);
	assert_link("/dev/ptmx", "pts/ptmx");
	m = find_mount("/dev/pts");
	ASSERT_STREQ(m.fstype, "devpts");
	ASSERT_TRUE(has_word(m.superopts, "mode=600"));
	assert_erofs_create("/dev/newfile");
	ASSERT_EQ(fs_type("/dev/mqueue"), 0x19800202);
}

TEST(rootfs_spec_dev_readonly_and_bind)
{
	for (int bind = 0; bind < 2; bind++) {
		struct fixture f;
		struct specb b;
		fixture_make(&f);
		specb_init(&b, f.root);
		add_mount(&b, "/proc", "proc", "proc", "");
		if (bind) {
			add_mount(&b, "/dev", "bind", f.host, "rbind");
		} else {
			add_mount(&b, "/dev", "tmpfs", "tmpfs",
				  "nosuid,strictatime,mode=755,size=1024k,ro");
			add_mount(&b, "/dev/pts", "devpts", "devpts",
				  "nosuid,noexec,newinstance,ptmxmode=0666,mode=0600");
			add_mount(&b, "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev");
		}
		add_device(&b, "/dev/mynull", "c", 1, 3, 0640, 0, 0);
		struct child_arg a = {.b = &b, .f = &f, .how = (unsigned)bind};
		int st = run_child(spec_dev_child, &a);
		bool host_touched = access(pathf("%s/null", f.host), F_OK) == 0;
		fixture_clean(&f);
		ASSERT_EQ(st, 0);
		ASSERT_FALSE(host_touched);
	}
}
