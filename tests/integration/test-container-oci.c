// SPDX-License-Identifier: Apache-2.0
/*
 * OCI spec features end to end, one test each: the real agent
 * creates a container from a spec built here, the static payload reports from
 * inside, and the test asserts on that report or on the host side (the
 * container's cgroup files, its /proc/<pid>/root). One basic report is also
 * compared with what crun produces for the equivalent config.json.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctr.h"
#include "harness.h"

#define XMAX 8

/* A spec from ctr_spec_new() with room for more namespaces, mounts and sysctls. */
struct oci {
	struct ctr_spec *s;
	Grpc__Spec *spec;
	Grpc__LinuxNamespace ns[XMAX];
	Grpc__LinuxNamespace *nsp[XMAX];
	Grpc__Mount mnt[XMAX];
	Grpc__Mount *mntp[XMAX];
	Grpc__Linux__SysctlEntry sc[XMAX];
	Grpc__Linux__SysctlEntry *scp[XMAX];
	size_t n_own_mnt;
};

static struct oci *oci_new(const struct ctr_env *e, const char *cid, const char *const *args)
{
	struct oci *o = calloc(1, sizeof(*o));
	ASSERT_NOT_NULL(o);
	o->s = ctr_spec_new(e, cid, args);
	o->spec = ctr_spec_get(o->s);
	Grpc__Linux *lx = o->spec->linux;
	ASSERT_TRUE(lx->n_namespaces < XMAX && o->spec->n_mounts < XMAX);
	for (size_t i = 0; i < lx->n_namespaces; i++)
		o->nsp[i] = lx->namespaces[i];
	lx->namespaces = o->nsp;
	for (size_t i = 0; i < o->spec->n_mounts; i++)
		o->mntp[i] = o->spec->mounts[i];
	o->spec->mounts = o->mntp;
	lx->sysctl = o->scp;
	return o;
}

static void oci_free(struct oci *o)
{
	ctr_spec_free(o->s);
	free(o);
}

static void oci_add_ns(struct oci *o, const char *type, const char *path)
{
	Grpc__Linux *lx = o->spec->linux;
	ASSERT_TRUE(lx->n_namespaces < XMAX);
	Grpc__LinuxNamespace *n = &o->ns[lx->n_namespaces];
	grpc__linux_namespace__init(n);
	n->type = (char *)type;
	n->path = (char *)(path ? path : "");
	o->nsp[lx->n_namespaces++] = n;
}

/* opts: NULL-terminated, kept by the caller until the container is created. */
static void oci_add_mount(struct oci *o, const char *dest, const char *type, const char *src,
			  const char *const *opts)
{
	ASSERT_TRUE(o->spec->n_mounts < XMAX);
	Grpc__Mount *m = &o->mnt[o->n_own_mnt++];
	grpc__mount__init(m);
	m->destination = (char *)dest;
	m->type = (char *)type;
	m->source = (char *)src;
	m->options = (char **)opts;
	for (m->n_options = 0; opts && opts[m->n_options];)
		m->n_options++;
	o->mntp[o->spec->n_mounts++] = m;
}

static void oci_add_sysctl(struct oci *o, const char *key, const char *value)
{
	Grpc__Linux *lx = o->spec->linux;
	ASSERT_TRUE(lx->n_sysctl < XMAX);
	Grpc__Linux__SysctlEntry *s = &o->sc[lx->n_sysctl];
	grpc__linux__sysctl_entry__init(s);
	s->key = (char *)key;
	s->value = (char *)value;
	o->scp[lx->n_sysctl++] = s;
}

static void assert_has(const char *out, const char *want)
{
	if (!strstr(out, want))
		FAIL("\"%s\" not in the output:\n%s", want, out);
}

static void assert_lacks(const char *out, const char *unwanted)
{
	if (strstr(out, unwanted))
		FAIL("\"%s\" unexpectedly in the output:\n%s", unwanted, out);
}

/* Runs the container to its end and removes it; returns its stdout (exit code asserted 0). */
static char *run_ok(struct ctr_env *e, const char *cid, struct oci *o)
{
	int code;
	char *out = ctr_run(e, cid, o->spec, &code);
	if (code != 0) {
		char *err = ctr_read_all(e, cid, cid, true, NULL);
		FAIL("%s exited %d; stdout:\n%s\nstderr:\n%s", cid, code, out, err);
	}
	ASSERT_EQ(ctr_remove(e, cid), 0);
	return out;
}

static void create_start(struct ctr_env *e, const char *cid, struct oci *o)
{
	ctr_create_start(e, cid, o->spec);
}

/* Kills a running container, returns what it wrote, removes it. */
static char *kill_collect(struct ctr_env *e, const char *cid)
{
	ASSERT_EQ(ctr_signal(e, cid, "", SIGKILL), 0);
	char *out = ctr_read_all(e, cid, cid, false, NULL);
	ASSERT_EQ(ctr_wait(e, cid, cid), 128 + SIGKILL);
	ASSERT_EQ(ctr_remove(e, cid), 0);
	return out;
}

/* Reads a container's stdout until it contains needle (it keeps running); returns it all. */
static char *read_until(struct ctr_env *e, const char *cid, const char *needle)
{
	size_t cap = 65536, n = 0;
	char *out = calloc(1, cap);
	ASSERT_NOT_NULL(out);
	while (!strstr(out, needle)) {
		Grpc__ReadStreamRequest req = GRPC__READ_STREAM_REQUEST__INIT;
		Grpc__ReadStreamResponse *resp = NULL;
		req.container_id = (char *)cid;
		req.exec_id = (char *)cid;
		req.len = 4096;
		int code = ctr_call(e, "ReadStdout", &req.base,
				    &grpc__read_stream_response__descriptor,
				    (ProtobufCMessage **)&resp, NULL);
		if (code != 0 || resp->data.len == 0 || n + resp->data.len >= cap)
			FAIL("no \"%s\" in the output (code %d):\n%s", needle, code, out);
		memcpy(out + n, resp->data.data, resp->data.len);
		n += resp->data.len;
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	}
	return out;
}

/* The first line of a host file (newline dropped), or NULL. */
static char *host_read(const char *path)
{
	char buf[4096];
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *r = fgets(buf, sizeof(buf), f) ? strdup(buf) : strdup("");
	fclose(f);
	r[strcspn(r, "\n")] = '\0';
	return r;
}

/* The container's cgroup directory of one controller ("" on v2). */
static void cg_dir(const struct ctr_env *e, const char *ctrl, const char *cid, char *buf,
		   size_t size)
{
	if (e->v2)
		snprintf(buf, size, "/sys/fs/cgroup%s/%s", e->cgparent, cid);
	else
		snprintf(buf, size, "/sys/fs/cgroup/%s%s/%s", ctrl, e->cgparent, cid);
}

/* The container's init as a host pid, from its cgroup (polled: it may still be starting). */
static pid_t host_pid(const struct ctr_env *e, const char *cid)
{
	char dir[256], path[300];
	cg_dir(e, "pids", cid, dir, sizeof(dir));
	if (!e->v2 && access(dir, F_OK) < 0)
		cg_dir(e, "freezer", cid, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	for (int i = 0; i < 200; i++) {
		char *v = host_read(path);
		pid_t pid = v ? (pid_t)atoi(v) : 0;
		free(v);
		if (pid > 0)
			return pid;
		usleep(20 * 1000);
	}
	FAIL("no process in %s", path);
}

/* A directory for bind sources, where the runtime puts shared files (the private /run). */
static void host_tmpdir(char *buf, size_t size)
{
	snprintf(buf, size, "%s/src-XXXXXX", CTR_SHARED_DIR);
	ASSERT_NOT_NULL(mkdtemp(buf));
}

static void host_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	ASSERT_NOT_NULL(f);
	fputs(text, f);
	fclose(f);
}

static void rootfs_write(const struct ctr_env *e, const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s%s", e->rootfs, rel);
	host_write(path, text);
}

static void rootfs_mkdir(const struct ctr_env *e, const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s%s", e->rootfs, rel);
	ASSERT_EQ(mkdir(path, 0755), 0);
}

/* The /proc/self/mountinfo line (from read-file output) whose mount point is point. */
static char *mountinfo_line(const char *out, const char *point)
{
	char pat[128];
	snprintf(pat, sizeof(pat), " %s ", point);
	for (const char *p = out; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		char *line = strndup(p, l);
		/* id parent maj:min root POINT ...: the fifth field. */
		char *f = line;
		for (int k = 0; k < 4 && f; k++) {
			f = strchr(f, ' ');
			if (f)
				f++;
		}
		if (f && strncmp(f - 1, pat, strlen(pat)) == 0)
			return line;
		free(line);
		p = nl ? nl + 1 : NULL;
	}
	FAIL("no mount at %s in:\n%s", point, out);
}

/* The "mount=<point> ..." line of a report. */
static char *mount_line(const char *out, const char *point)
{
	char pat[128];
	snprintf(pat, sizeof(pat), "mount=%s ", point);
	const char *p = strstr(out, pat);
	if (!p)
		FAIL("no %s in:\n%s", pat, out);
	return strndup(p, strcspn(p, "\n"));
}

/* --- mounts ------------------------------------------------------------------- */

TEST_TIMEOUT(mount_tmpfs_with_size_and_mode, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {
		"read-file", "/proc/self/mountinfo", "--", "write-file", "/scratch/f", "x", NULL};
	struct oci *o = oci_new(&e, "tm", args);
	const char *opts[] = {"nosuid", "nodev", "size=1m", "mode=700", NULL};
	oci_add_mount(o, "/scratch", "tmpfs", "tmpfs", opts);
	char *out = run_ok(&e, "tm", o);
	char *line = mountinfo_line(out, "/scratch");
	assert_has(line, " rw,nosuid,nodev");
	assert_has(line, " - tmpfs tmpfs ");
	assert_has(line, "size=1024k");
	assert_has(line, "mode=700"); /* tmpfs shows mode= only when not the default 1777 */
	assert_has(out, "write /scratch/f=ok");
	free(line);
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(mount_readonly_bind_of_a_host_directory, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	char src[64], path[128];
	host_tmpdir(src, sizeof(src));
	snprintf(path, sizeof(path), "%s/hello.txt", src);
	host_write(path, "hi-from-host\n");
	const char *args[] = {"report", "--",	      "read-file",    "/hostdir/hello.txt",
			      "--",	"write-file", "/hostdir/new", "x",
			      NULL};
	struct oci *o = oci_new(&e, "rb", args);
	const char *opts[] = {"rbind", "ro", "nosuid", NULL};
	oci_add_mount(o, "/hostdir", "bind", src, opts);
	char *out = run_ok(&e, "rb", o);
	assert_has(out, "hi-from-host\n");
	assert_has(out, "write /hostdir/new=errno 30"); /* EROFS */
	char *ml = mount_line(out, "/hostdir");
	char *opt = strrchr(ml, ' ');
	if (strncmp(opt, " ro,nosuid", 10) != 0)
		FAIL("/hostdir is not ro,nosuid: %s", ml);
	free(ml);
	snprintf(path, sizeof(path), "%s/new", src);
	ASSERT_TRUE(access(path, F_OK) < 0);
	/* The host's view is untouched: still writable there. */
	host_write(path, "y");
	unlink(path);
	snprintf(path, sizeof(path), "%s/hello.txt", src);
	unlink(path);
	rmdir(src);
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(mount_bind_of_a_single_file, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	char src[64], path[128];
	host_tmpdir(src, sizeof(src));
	snprintf(path, sizeof(path), "%s/single.conf", src);
	host_write(path, "key=value\n");
	/* The target and its parent do not exist in the rootfs: both are created. */
	const char *args[] = {"read-file", "/etc/app/single.conf", "--", "ls", "/etc/app", NULL};
	struct oci *o = oci_new(&e, "bf", args);
	const char *opts[] = {"bind", NULL};
	oci_add_mount(o, "/etc/app/single.conf", "none", path, opts);
	char *out = run_ok(&e, "bf", o);
	assert_has(out, "key=value\nls=single.conf\n");
	unlink(path);
	rmdir(src);
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

/* --- confinement: nothing of the guest's own tree reaches a container ----------------------- */

static int create_code(struct ctr_env *e, const char *cid, struct oci *o, const char *want_in_msg)
{
	char *msg = NULL;
	int code = ctr_create(e, cid, o->spec, &msg);
	if (code == 0)
		ASSERT_EQ(ctr_remove(e, cid), 0);
	else if (want_in_msg && (!msg || !strstr(msg, want_in_msg)))
		FAIL("%s: code %d, message \"%s\" lacks \"%s\"", cid, code, msg ? msg : "",
		     want_in_msg);
	free(msg);
	return code;
}

TEST_TIMEOUT(guest_root_bind_sources_and_spec_hooks_refused, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"report", NULL};

	/* The guest's root as the container's root. */
	struct oci *o = oci_new(&e, "g1", args);
	o->spec->root->path = "/";
	ASSERT_EQ(create_code(&e, "g1", o, "root.path"), 3);
	o->spec->root->path = "/run"; /* a guest directory, above the runtime's */
	ASSERT_EQ(create_code(&e, "g1", o, "root.path"), 3);
	oci_free(o);

	/* Binds of guest trees. */
	static const char *const srcs[] = {"/", "/proc", "/etc", "/run/kata-containers",
					   "/run/kata-containers/../../etc"};
	const char *bind[] = {"rbind", NULL};
	for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		o = oci_new(&e, "g2", args);
		oci_add_mount(o, "/hostroot", "bind", srcs[i], bind);
		if (create_code(&e, "g2", o, "mounts[1].source") != 3)
			FAIL("bind of %s not refused with INVALID_ARGUMENT", srcs[i]);
		oci_free(o);
	}
	/* A filesystem that is not a special one (its source would be a guest path or disk). */
	o = oci_new(&e, "g3", args);
	const char *ov[] = {"lowerdir=/etc", NULL};
	oci_add_mount(o, "/ov", "overlay", "overlay", ov);
	ASSERT_EQ(create_code(&e, "g3", o, "mounts[1].type"), 3);
	oci_free(o);

	/* A spec hook would run as guest root in the agent's namespaces: none without a hook dir.
	 */
	o = oci_new(&e, "g4", args);
	Grpc__Hooks hooks = GRPC__HOOKS__INIT;
	Grpc__Hook h = GRPC__HOOK__INIT, *hp = &h;
	char *hargs[] = {"sh", "-c", "touch /run/spec-hook-ran"};
	h.path = "/bin/sh";
	h.args = hargs;
	h.n_args = 3;
	hooks.prestart = &hp;
	hooks.n_prestart = 1;
	o->spec->hooks = &hooks;
	ASSERT_EQ(create_code(&e, "g4", o, "hooks.prestart[0].path"), 3);
	struct stat st;
	ASSERT_TRUE(stat("/run/spec-hook-ran", &st) < 0);
	/* The same spec without the hook runs. */
	o->spec->hooks = NULL;
	char *out = run_ok(&e, "g4", o);
	assert_has(out, "uid=0");
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(bind_source_symlink_cannot_leave_run_kata_containers, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	/* The host writes the shared directory: a symlink there to the guest's /etc. */
	ASSERT_EQ(symlink("/etc", CTR_SHARED_DIR "/esc"), 0);
	const char *args[] = {"ls", "/data", NULL};
	struct oci *o = oci_new(&e, "sy", args);
	const char *bind[] = {"rbind", NULL};
	oci_add_mount(o, "/data", "bind", CTR_SHARED_DIR "/esc", bind);
	char *msg = NULL;
	int code = ctr_create(&e, "sy", o->spec, &msg);
	if (code == 0) {
		ASSERT_EQ(ctr_start(&e, "sy", NULL), 0);
		char *out = ctr_read_all(&e, "sy", "sy", false, NULL);
		FAIL("a bind through a symlink out of /run/kata-containers was made:\n%s", out);
	}
	free(msg);
	/* A symlink that stays inside is followed. */
	ASSERT_EQ(mkdir(CTR_SHARED_DIR "/real", 0755), 0);
	host_write(CTR_SHARED_DIR "/real/inside", "x");
	ASSERT_EQ(symlink("real", CTR_SHARED_DIR "/in"), 0);
	o->mnt[0].source = CTR_SHARED_DIR "/in";
	char *out = run_ok(&e, "sy", o);
	assert_has(out, "ls=inside");
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

/*
 * A rootfs whose /proc or /sys is a symlink (to anywhere: out of the root or
 * inside it) or a file is a bad request, refused with INVALID_ARGUMENT naming
 * the mount before anything is made; the same rootfs with plain directories runs.
 */
TEST_TIMEOUT(proc_or_sys_not_a_directory_in_the_rootfs_is_invalid, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"exit", "0", NULL};
	char p[256], q[300];
	static const struct {
		const char *dir, *type, *link;
	} cases[] = {
		{"/proc", "proc", "/etc"}, {"/proc", "proc", "tmp"}, {"/proc", "proc", NULL},
		{"/sys", "sysfs", "/dev"}, {"/sys", "sysfs", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", e.rootfs, cases[i].dir);
		snprintf(q, sizeof(q), "%s.real", p);
		ASSERT_EQ(rename(p, q), 0);
		if (cases[i].link)
			ASSERT_EQ(symlink(cases[i].link, p), 0);
		else
			host_write(p, "not a directory");
		struct oci *o = oci_new(&e, "pl", args);
		if (strcmp(cases[i].type, "sysfs") == 0) {
			static const char *const ro[] = {"ro", NULL};
			oci_add_mount(o, "/sys", "sysfs", "sysfs", ro);
		}
		char *msg = NULL;
		int code = ctr_create(&e, "pl", o->spec, &msg);
		if (code == 0)
			ASSERT_EQ(ctr_remove(&e, "pl"), 0);
		if (code != 3 || !msg || !strstr(msg, cases[i].dir))
			FAIL("%s as %s%s: code %d, message \"%s\" (want INVALID_ARGUMENT naming "
			     "it)",
			     cases[i].dir, cases[i].link ? "a symlink to " : "a file",
			     cases[i].link ? cases[i].link : "", code, msg ? msg : "");
		free(msg);
		ASSERT_EQ(unlink(p), 0);
		ASSERT_EQ(rename(q, p), 0);
		/* Put back, the same spec runs. */
		char *out = run_ok(&e, "pl", o);
		free(out);
		oci_free(o);
	}
	ctr_env_teardown(&e);
}

/*
 * What only the container's set-up can see (here: a bind onto a /proc file, found once
 * proc is mounted) and refuses as a bad request reaches the client as INVALID_ARGUMENT too.
 */
TEST_TIMEOUT(set_up_refusal_of_the_request_is_invalid_argument, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"exit", "0", NULL};
	host_write(CTR_SHARED_DIR "/fake", "x");
	struct oci *o = oci_new(&e, "bp", args);
	static const char *const bind[] = {"bind", NULL};
	oci_add_mount(o, "/proc/sys/kernel/hostname", "bind", CTR_SHARED_DIR "/fake", bind);
	char *msg = NULL;
	int code = ctr_create(&e, "bp", o->spec, &msg);
	if (code == 0)
		ASSERT_EQ(ctr_remove(&e, "bp"), 0);
	if (code != 3 || !msg || !strstr(msg, "/proc/sys/kernel/hostname"))
		FAIL("bind onto a /proc file: code %d, message \"%s\" (want INVALID_ARGUMENT)",
		     code, msg ? msg : "");
	free(msg);
	oci_free(o);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(special_filesystem_source_is_ignored, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"read-file", "/proc/self/mountinfo", NULL};
	struct oci *o = oci_new(&e, "ps", args);
	o->spec->mounts[0]->source = "/"; /* the proc mount */
	char *out = run_ok(&e, "ps", o);
	char *ml = mountinfo_line(out, "/proc");
	if (!strstr(ml, " - proc proc "))
		FAIL("/proc mounted with the spec's path source: %s", ml);
	free(ml);
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(debug_unconfined_paths_allows_guest_bind_sources, 60)
{
	struct ctr_env e;
	ctr_env_setup_cmdline(&e, false, "agent.debug_unconfined_paths=1");
	ASSERT_EQ(mkdir("/run/outside", 0755), 0);
	host_write("/run/outside/f", "outside\n");
	const char *args[] = {"read-file", "/o/f", NULL};
	struct oci *o = oci_new(&e, "uc", args);
	const char *bind[] = {"rbind", NULL};
	oci_add_mount(o, "/o", "bind", "/run/outside", bind);
	char *out = run_ok(&e, "uc", o);
	assert_has(out, "outside\n");
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(mount_propagation_option, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"read-file", "/proc/self/mountinfo", NULL};
	struct oci *o = oci_new(&e, "mp", args);
	const char *sh[] = {"rshared", NULL};
	const char *pr[] = {"rprivate", NULL};
	oci_add_mount(o, "/shared", "tmpfs", "tmpfs", sh);
	oci_add_mount(o, "/private", "tmpfs", "tmpfs", pr);
	char *out = run_ok(&e, "mp", o);
	/* mountinfo's optional fields: "shared:N" for a shared mount, none for a private one. */
	char *l1 = mountinfo_line(out, "/shared");
	char *l2 = mountinfo_line(out, "/private");
	assert_has(l1, " shared:");
	assert_lacks(l2, "shared:");
	assert_lacks(l2, "master:");
	free(l1);
	free(l2);
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(mount_sysfs_read_only, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"report",	    "--",     "ls", "/sys", "--",
			      "write-file", "/sys/x", "y",  NULL};
	struct oci *o = oci_new(&e, "sy", args);
	const char *opts[] = {"nosuid", "noexec", "nodev", "ro", NULL};
	oci_add_mount(o, "/sys", "sysfs", "sysfs", opts);
	char *out = run_ok(&e, "sy", o);
	assert_has(out, "mount=/sys sysfs ro,nosuid,nodev,noexec");
	assert_has(out, "ls=kernel\n");
	assert_has(out, "write /sys/x=errno 30");
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

/* --- maskedPaths, readonlyPaths, root.readonly -------------------------------------------- */

TEST_TIMEOUT(masked_file_reads_empty, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	rootfs_write(&e, "/etc/secret", "top-secret\n");
	const char *args[] = {"echo",	     "<",	    "--", "read-file", "/etc/secret",
			      "--",	     "echo",	    ">",  "--",	       "write-file",
			      "/etc/secret", "overwritten", NULL};
	struct oci *o = oci_new(&e, "mf", args);
	char *masked[] = {"/etc/secret", "/no/such/path"};
	o->spec->linux->maskedpaths = masked;
	o->spec->linux->n_maskedpaths = 2;
	char *out = run_ok(&e, "mf", o);
	/* Like /dev/null: reads nothing, writes vanish. */
	assert_has(out, "<\n>\n");
	assert_has(out, "write /etc/secret=ok");
	char path[256];
	snprintf(path, sizeof(path), "%s/etc/secret", e.rootfs);
	char *v = host_read(path);
	ASSERT_TRUE(v && strcmp(v, "top-secret") == 0);
	free(v);
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(masked_directory_is_empty_and_read_only, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	rootfs_mkdir(&e, "/data/private");
	rootfs_write(&e, "/data/private/key", "k\n");
	const char *args[] = {"ls",	    "/data/private",
			      "--",	    "echo",
			      "end-ls",	    "--",
			      "write-file", "/data/private/x",
			      "y",	    "--",
			      "read-file",  "/data/private/key",
			      "--",	    "echo",
			      "end",	    NULL};
	struct oci *o = oci_new(&e, "md", args);
	char *masked[] = {"/data/private"};
	o->spec->linux->maskedpaths = masked;
	o->spec->linux->n_maskedpaths = 1;
	char *out = run_ok(&e, "md", o);
	ASSERT_TRUE(strncmp(out, "end-ls\n", 7) == 0);
	assert_has(out, "write /data/private/x=errno 30");
	assert_lacks(out, "k\n");
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(readonly_paths, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	rootfs_mkdir(&e, "/data/ro");
	rootfs_write(&e, "/data/ro/keep", "kept\n");
	const char *args[] = {"write-file", "/data/ro/x",
			      "y",	    "--",
			      "write-file", "/data/ro/keep",
			      "changed",    "--",
			      "read-file",  "/data/ro/keep",
			      "--",	    "write-file",
			      "/data/rw",   "z",
			      NULL};
	struct oci *o = oci_new(&e, "ro", args);
	char *ro[] = {"/data/ro", "/not/there"};
	o->spec->linux->readonlypaths = ro;
	o->spec->linux->n_readonlypaths = 2;
	char *out = run_ok(&e, "ro", o);
	assert_has(out, "write /data/ro/x=errno 30");
	assert_has(out, "write /data/ro/keep=errno 30");
	assert_has(out, "kept\n");
	assert_has(out, "write /data/rw=ok");
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(root_readonly_keeps_tmp_mount_writable, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"report", "--",	      "write-file", "/x", "y",
			      "--",	"write-file", "/tmp/x",	    "y",  NULL};
	struct oci *o = oci_new(&e, "rr", args);
	const char *opts[] = {"nosuid", "nodev", NULL};
	oci_add_mount(o, "/tmp", "tmpfs", "tmpfs", opts);
	o->spec->root->readonly = true;
	char *out = run_ok(&e, "rr", o);
	assert_has(out, "write /x=errno 30");
	assert_has(out, "write /tmp/x=ok");
	assert_has(out, "mount=/ tmpfs ro,");
	assert_has(out, "mount=/tmp tmpfs rw,");
	/* /dev stays writable (it is its own tmpfs). */
	assert_has(out, "mount=/dev tmpfs rw,");
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

/* --- linux.devices ------------------------------------------------------------------------ */

TEST_TIMEOUT(spec_device_and_default_devices, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"open", "/dev/mynull", "--",    "open", "/dev/zero",
			      "--",   "ls",	     "/dev",  "--",   "echo",
			      "done", "--",	     "sleep", "30",   NULL};
	struct oci *o = oci_new(&e, "dv", args);
	Grpc__LinuxDevice dev = GRPC__LINUX_DEVICE__INIT, *devp = &dev;
	dev.path = "/dev/mynull";
	dev.type = "c";
	dev.major = 1;
	dev.minor = 3;
	dev.filemode = 0600;
	dev.uid = 1000;
	dev.gid = 1000;
	o->spec->linux->devices = &devp;
	o->spec->linux->n_devices = 1;
	/* As uid 1000 without capabilities: only the node's owner can open a 0600 node. */
	ctr_spec_set_user(o->s, 1000, 1000);
	create_start(&e, "dv", o);
	char *out = read_until(&e, "dv", "done\n");
	pid_t pid = host_pid(&e, "dv");
	char path[128];
	struct stat st;
	snprintf(path, sizeof(path), "/proc/%d/root/dev/mynull", (int)pid);
	ASSERT_EQ(stat(path, &st), 0);
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(st.st_mode & 07777, 0600);
	ASSERT_EQ(st.st_uid, 1000);
	ASSERT_EQ(st.st_gid, 1000);
	ASSERT_EQ(major(st.st_rdev), 1);
	ASSERT_EQ(minor(st.st_rdev), 3);
	/* A default device keeps the host node's mode. */
	snprintf(path, sizeof(path), "/proc/%d/root/dev/zero", (int)pid);
	ASSERT_EQ(stat(path, &st), 0);
	ASSERT_TRUE(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 5);
	ASSERT_EQ(st.st_mode & 0777, 0666);
	free(kill_collect(&e, "dv"));
	assert_has(out, "open /dev/mynull=ok");
	assert_has(out, "open /dev/zero=ok");
	static const char *const defaults[] = {"null", "zero",	 "full", "tty", "urandom", "random",
					       "ptmx", "mynull", "pts",	 "shm", "fd",	   "stdin"};
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		char want[64];
		snprintf(want, sizeof(want), "ls=%s\n", defaults[i]);
		assert_has(out, want);
	}
	assert_has(out, "done\n");
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

/* --- sysctl -------------------------------------------------------------------------------- */

TEST_TIMEOUT(sysctl_net_in_a_new_network_namespace, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	char *host = host_read("/proc/sys/net/ipv4/ip_forward");
	ASSERT_NOT_NULL(host);
	/* The opposite of the host's value, so that a write to the host's would show. */
	const char *want = strcmp(host, "1") == 0 ? "0" : "1";
	const char *args[] = {"read-file", "/proc/sys/net/ipv4/ip_forward", "--", "report", NULL};
	struct oci *o = oci_new(&e, "sn", args);
	oci_add_ns(o, "network", NULL);
	oci_add_sysctl(o, "net.ipv4.ip_forward", want);
	char *out = run_ok(&e, "sn", o);
	ASSERT_TRUE(out[0] == want[0] && out[1] == '\n');
	char *v = host_read("/proc/sys/net/ipv4/ip_forward");
	ASSERT_TRUE(strcmp(v, host) == 0);
	char self[64];
	ssize_t l = readlink("/proc/self/ns/net", self, sizeof(self) - 1);
	ASSERT_TRUE(l > 0);
	self[l] = '\0';
	char *ns = ctr_report_value(out, "ns.net");
	ASSERT_NOT_NULL(ns);
	ASSERT_TRUE(strcmp(ns, self) != 0);
	free(ns);
	free(v);
	free(host);
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(sysctl_domainname_with_uts, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	char host[256];
	ASSERT_EQ(getdomainname(host, sizeof(host)), 0);
	const char *args[] = {"report", NULL};
	struct oci *o = oci_new(&e, "sd", args);
	oci_add_sysctl(o, "kernel.domainname", "oci.example");
	char *out = run_ok(&e, "sd", o);
	ctr_assert_value(out, "domainname", "oci.example");
	char after[256];
	ASSERT_EQ(getdomainname(after, sizeof(after)), 0);
	ASSERT_TRUE(strcmp(host, after) == 0);
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

/* --- process fields ----------------------------------------------------------------------- */

TEST_TIMEOUT(rlimit_nofile, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"report", NULL};
	struct oci *o = oci_new(&e, "rl", args);
	Grpc__POSIXRlimit rl[2] = {GRPC__POSIXRLIMIT__INIT, GRPC__POSIXRLIMIT__INIT};
	Grpc__POSIXRlimit *rlp[2] = {&rl[0], &rl[1]};
	rl[0].type = "RLIMIT_NOFILE";
	rl[0].soft = 1024;
	rl[0].hard = 2048;
	/*
	 * Lowered only: raising a hard limit needs CAP_SYS_RESOURCE, which this machine's
	 * root may lack (and the agent itself runs with RLIMIT_CORE 0:0 outside dev mode).
	 */
	rl[1].type = "RLIMIT_STACK";
	rl[1].soft = 4 << 20;
	rl[1].hard = 6 << 20;
	o->spec->process->rlimits = rlp;
	o->spec->process->n_rlimits = 2;
	char *out = run_ok(&e, "rl", o);
	ctr_assert_value(out, "rlimit.NOFILE", "1024:2048");
	ctr_assert_value(out, "rlimit.STACK", "4194304:6291456");
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(oom_score_adj, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"report", NULL};
	struct oci *o = oci_new(&e, "os", args);
	o->spec->process->oomscoreadj = 500;
	char *out = run_ok(&e, "os", o);
	ctr_assert_value(out, "oom_score_adj", "500");
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(env_trimmed_and_home_default, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"report", NULL};
	struct oci *o = oci_new(&e, "en", args);
	ctr_spec_add_env(o->s, "  SPACED  =  value with inner space  ");
	ctr_spec_add_env(o->s, "EMPTY=");
	ctr_spec_add_env(o->s, "=nokey");
	ctr_spec_add_env(o->s, "  =blankkey");
	ctr_spec_add_env(o->s, "NOEQUALS");
	ctr_spec_add_env(o->s, "A=b=c");
	char *out = run_ok(&e, "en", o);
	ctr_assert_value(out, "env.SPACED", "value with inner space");
	ctr_assert_value(out, "env.EMPTY", "");
	ctr_assert_value(out, "env.A", "b=c");
	ctr_assert_value(out, "env.HOME", "/root");
	assert_lacks(out, "nokey");
	assert_lacks(out, "blankkey");
	assert_lacks(out, "NOEQUALS");
	free(out);
	oci_free(o);

	/* An explicit HOME is kept; uid 1000 would default to /home/u. */
	o = oci_new(&e, "en2", args);
	ctr_spec_add_env(o->s, "HOME=/custom");
	ctr_spec_set_user(o->s, 1000, 1000);
	out = run_ok(&e, "en2", o);
	ctr_assert_value(out, "env.HOME", "/custom");
	free(out);
	oci_free(o);

	/* A uid without a passwd entry: HOME=/. */
	o = oci_new(&e, "en3", args);
	ctr_spec_set_user(o->s, 4242, 4242);
	out = run_ok(&e, "en3", o);
	ctr_assert_value(out, "env.HOME", "/");
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(cwd_created_if_missing, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"report", "--", "write-file", "here", "x", NULL};
	struct oci *o = oci_new(&e, "cw", args);
	o->spec->process->cwd = "/work/sub";
	char *out = run_ok(&e, "cw", o);
	ctr_assert_value(out, "cwd", "/work/sub");
	assert_has(out, "write here=ok");
	char path[256];
	snprintf(path, sizeof(path), "%s/work/sub/here", e.rootfs);
	ASSERT_EQ(access(path, F_OK), 0);
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(umask_default, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	mode_t old = umask(0077); /* the agent's own umask must not leak in */
	umask(old);
	const char *args[] = {"report", NULL};
	struct oci *o = oci_new(&e, "um", args);
	char *out = run_ok(&e, "um", o);
	ctr_assert_value(out, "umask", "0022");
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(hostname_from_the_spec, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	char host[256];
	ASSERT_EQ(gethostname(host, sizeof(host)), 0);
	const char *args[] = {"report", NULL};
	struct oci *o = oci_new(&e, "hn", args);
	o->spec->hostname = "oci-host.example";
	char *out = run_ok(&e, "hn", o);
	ctr_assert_value(out, "hostname", "oci-host.example");
	char after[256];
	ASSERT_EQ(gethostname(after, sizeof(after)), 0);
	ASSERT_TRUE(strcmp(host, after) == 0);
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(capabilities_reduced_to_net_bind_service, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"report", NULL};
	struct oci *o = oci_new(&e, "cp", args);
	char *one[] = {"CAP_NET_BIND_SERVICE"};
	Grpc__LinuxCapabilities *c = o->spec->process->capabilities;
	c->bounding = c->effective = c->permitted = c->inheritable = c->ambient = one;
	c->n_bounding = c->n_effective = c->n_permitted = c->n_inheritable = c->n_ambient = 1;
	ctr_spec_set_user(o->s, 1000, 1000);
	char *out = run_ok(&e, "cp", o);
	ctr_assert_value(out, "uid", "1000");
	ctr_assert_value(out, "cap_bnd", "0000000000000400");
	ctr_assert_value(out, "cap_prm", "0000000000000400");
	ctr_assert_value(out, "cap_inh", "0000000000000400");
	ctr_assert_value(out, "cap_eff", "0000000000000400");
	ctr_assert_value(out, "cap_amb", "0000000000000400");
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

/* --- namespaces ----------------------------------------------------------------------------- */

/* Whether this kernel lets root make a user namespace at all (tried in a throw-away child). */
static bool kernel_allows_userns(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
	int st = 0;
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

TEST_TIMEOUT(user_namespace_with_mappings, 60)
{
	/*
	 * The init's pid namespace belongs to its user namespace (made after it), so it
	 * can mount its own /proc; the bundle is reachable by its mapped root.
	 */
	struct ctr_env e;
	ctr_env_setup(&e, false);
	if (access("/proc/self/ns/user", F_OK) < 0 || !kernel_allows_userns())
		SKIP("the kernel refuses user namespaces here");
	const char *args[] = {"report",
			      "--",
			      "read-file",
			      "/proc/self/uid_map",
			      "--",
			      "read-file",
			      "/proc/self/gid_map",
			      "--",
			      "open",
			      "/dev/null",
			      NULL};
	struct oci *o = oci_new(&e, "us", args);
	oci_add_ns(o, "user", NULL);
	Grpc__LinuxIDMapping m = GRPC__LINUX_IDMAPPING__INIT, *mp = &m;
	m.containerid = 0;
	m.hostid = 100000;
	m.size = 65536;
	Grpc__Linux *lx = o->spec->linux;
	lx->uidmappings = lx->gidmappings = &mp;
	lx->n_uidmappings = lx->n_gidmappings = 1;
	char *msg = NULL;
	int code = ctr_create(&e, "us", o->spec, &msg);
	if (code != 0)
		FAIL("create: %d %s", code, msg);
	free(msg);
	ASSERT_EQ(ctr_start(&e, "us", NULL), 0);
	char *out = ctr_read_all(&e, "us", "us", false, NULL);
	ASSERT_EQ(ctr_wait(&e, "us", "us"), 0);
	ASSERT_EQ(ctr_remove(&e, "us"), 0);
	ctr_assert_value(out, "uid", "0");
	ctr_assert_value(out, "gid", "0");
	/* uid_map: "%10u %10u %10u\n" */
	assert_has(out, "         0     100000      65536\n");
	char *ns = ctr_report_value(out, "ns.user");
	char self[64];
	ssize_t l = readlink("/proc/self/ns/user", self, sizeof(self) - 1);
	ASSERT_TRUE(l > 0 && ns);
	self[l] = '\0';
	ASSERT_TRUE(strcmp(ns, self) != 0);
	/* Device nodes are bind mounts from the host in a user namespace: still usable. */
	assert_has(out, "open /dev/null=ok");
	free(ns);
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(network_namespace_joined_by_path, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	char name[64], path[128], cmd[256];
	snprintf(name, sizeof(name), "ctr-oci-%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "ip netns add %s", name);
	if (system(cmd) != 0)
		SKIP("ip netns add failed (iproute2 missing?)");
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	struct stat st;
	ASSERT_EQ(stat(path, &st), 0);
	char want[64];
	snprintf(want, sizeof(want), "net:[%lu]", (unsigned long)st.st_ino);
	const char *args[] = {"report", NULL};
	struct oci *o = oci_new(&e, "nj", args);
	oci_add_ns(o, "network", path);
	char *out = run_ok(&e, "nj", o);
	ctr_assert_value(out, "ns.net", want);
	snprintf(cmd, sizeof(cmd), "ip netns del %s", name);
	ASSERT_EQ(system(cmd), 0);
	free(out);
	oci_free(o);
	ctr_env_teardown(&e);
}

/* --- cgroup resources, v1 and v2 ------------------------------------------------- */

/* On v2 the test's private hierarchy offers only what the root has available. */
static void need_v2_controller(const char *ctrl)
{
	char *c = host_read("/sys/fs/cgroup/cgroup.controllers");
	bool ok = false;
	for (char *save = NULL, *t = c ? strtok_r(c, " ", &save) : NULL; t;
	     t = strtok_r(NULL, " ", &save))
		if (strcmp(t, ctrl) == 0)
			ok = true;
	free(c);
	if (!ok)
		SKIP("cgroup v2 controller %s is not available here (bound to v1)", ctrl);
}

static void assert_cg_file(const struct ctr_env *e, const char *ctrl, const char *cid,
			   const char *file, const char *want)
{
	char dir[256], path[300];
	cg_dir(e, ctrl, cid, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	char *v = host_read(path);
	if (!v)
		FAIL("cannot read %s: %s", path, strerror(errno));
	if (strcmp(v, want) != 0)
		FAIL("%s: got \"%s\", want \"%s\"", path, v, want);
	free(v);
}

static void cg_memory(bool v2)
{
	struct ctr_env e;
	ctr_env_setup(&e, v2);
	if (v2)
		need_v2_controller("memory");
	else if (access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) < 0)
		SKIP("no v1 memory controller here");
	const char *args[] = {"sleep", "30", NULL};
	struct oci *o = oci_new(&e, "cm", args);
	ctr_spec_set_memory(o->s, 64 << 20);
	create_start(&e, "cm", o);
	(void)host_pid(&e, "cm");
	if (v2)
		assert_cg_file(&e, "memory", "cm", "memory.max", "67108864");
	else
		assert_cg_file(&e, "memory", "cm", "memory.limit_in_bytes", "67108864");
	free(kill_collect(&e, "cm"));
	oci_free(o);
	ctr_env_teardown(&e);
}

static void cg_pids(bool v2)
{
	struct ctr_env e;
	ctr_env_setup(&e, v2);
	if (v2)
		need_v2_controller("pids");
	else if (access("/sys/fs/cgroup/pids/cgroup.procs", F_OK) < 0)
		SKIP("no v1 pids controller here");
	const char *args[] = {"sleep", "30", NULL};
	struct oci *o = oci_new(&e, "cpi", args);
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxPids pids = GRPC__LINUX_PIDS__INIT;
	pids.limit = 50;
	res.pids = &pids;
	o->spec->linux->resources = &res;
	create_start(&e, "cpi", o);
	(void)host_pid(&e, "cpi");
	assert_cg_file(&e, "pids", "cpi", "pids.max", "50");
	free(kill_collect(&e, "cpi"));
	oci_free(o);
	ctr_env_teardown(&e);
}

static void cg_cpu(bool v2)
{
	struct ctr_env e;
	ctr_env_setup(&e, v2);
	if (v2)
		need_v2_controller("cpu");
	else if (access("/sys/fs/cgroup/cpu/cpu.shares", F_OK) < 0)
		SKIP("no v1 cpu controller here");
	const char *args[] = {"sleep", "30", NULL};
	struct oci *o = oci_new(&e, "cc", args);
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxCPU cpu = GRPC__LINUX_CPU__INIT;
	cpu.shares = 512;
	cpu.quota = 50000;
	cpu.period = 100000;
	res.cpu = &cpu;
	o->spec->linux->resources = &res;
	create_start(&e, "cc", o);
	(void)host_pid(&e, "cc");
	if (v2) {
		/* weight = 1 + (shares - 2) * 9999 / 262142 */
		char w[32];
		snprintf(w, sizeof(w), "%llu", 1 + (512ULL - 2) * 9999 / 262142);
		assert_cg_file(&e, "cpu", "cc", "cpu.weight", w);
		assert_cg_file(&e, "cpu", "cc", "cpu.max", "50000 100000");
	} else {
		assert_cg_file(&e, "cpu", "cc", "cpu.shares", "512");
		assert_cg_file(&e, "cpu", "cc", "cpu.cfs_quota_us", "50000");
		assert_cg_file(&e, "cpu", "cc", "cpu.cfs_period_us", "100000");
	}
	free(kill_collect(&e, "cc"));
	oci_free(o);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(cgroup_memory_limit_v1, 60)
{
	cg_memory(false);
}

TEST_TIMEOUT(cgroup_memory_limit_v2, 60)
{
	cg_memory(true);
}

TEST_TIMEOUT(cgroup_pids_limit_v1, 60)
{
	cg_pids(false);
}

TEST_TIMEOUT(cgroup_pids_limit_v2, 60)
{
	cg_pids(true);
}

TEST_TIMEOUT(cgroup_cpu_shares_quota_v1, 60)
{
	cg_cpu(false);
}

TEST_TIMEOUT(cgroup_cpu_shares_quota_v2, 60)
{
	cg_cpu(true);
}

/* --- ids and strings with a NUL byte ------------------------------------------------------- */

/* Packs req, turns the '\x01' in the string `marked` into NUL, sends it raw; the status. */
static int send_with_nul(struct ctr_env *e, const char *method, const ProtobufCMessage *req,
			 const char *marked, char **msg)
{
	size_t len = protobuf_c_message_get_packed_size(req);
	uint8_t *buf = malloc(len);
	ASSERT_NOT_NULL(buf);
	protobuf_c_message_pack(req, buf);
	uint8_t *at = memmem(buf, len, marked, strlen(marked));
	ASSERT_NOT_NULL(at);
	*(uint8_t *)memchr(at, 0x01, strlen(marked)) = 0;
	uint32_t stream;
	agent_error_t *err = NULL;
	ASSERT_EQ(ttrpc_client_send(e->c, "grpc.AgentService", method, buf, len, 0, NULL, 0,
				    &stream, &err),
		  0);
	free(buf);
	struct ttrpc_reply r = {0};
	ASSERT_EQ(ttrpc_client_recv(e->c, stream, 10000, &r, &err), 0);
	int code = r.code;
	*msg = strdup(r.message ? r.message : "");
	ttrpc_reply_clear(&r);
	return code;
}

TEST_TIMEOUT(strings_with_a_nul_byte_refused, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"report", NULL};
	struct oci *o = oci_new(&e, "ab", args);
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	req.container_id = "ab\x01"
			   "cd"; /* "ab\0cd" on the wire */
	req.exec_id = "ab";
	req.oci = o->spec;
	char *msg = NULL;
	int code = send_with_nul(&e, "CreateContainer", &req.base, req.container_id, &msg);
	if (code == 0) {
		ctr_remove(&e, "ab");
		FAIL("container id \"ab\\0cd\" accepted");
	}
	ASSERT_EQ(code, 3);
	if (!strstr(msg, "container_id"))
		FAIL("message: %s", msg);
	free(msg);
	/* Deep inside the spec: an env entry. */
	req.container_id = "ab";
	ctr_spec_add_env(o->s, "A=b\x01"
			       "c");
	ASSERT_EQ(send_with_nul(&e, "CreateContainer", &req.base,
				"A=b\x01"
				"c",
				&msg),
		  3);
	if (!strstr(msg, "Process.Env"))
		FAIL("message: %s", msg);
	free(msg);
	/* An exec id. */
	o->spec->process->n_env--;
	const char *sl[] = {"sleep", "30", NULL};
	struct oci *o2 = oci_new(&e, "sl", sl);
	create_start(&e, "sl", o2);
	Grpc__ExecProcessRequest ex = GRPC__EXEC_PROCESS_REQUEST__INIT;
	Grpc__Process *p = ctr_process_new(args);
	ex.container_id = "sl";
	ex.exec_id = "e\x01"
		     "x";
	ex.process = p;
	ASSERT_EQ(send_with_nul(&e, "ExecProcess", &ex.base, ex.exec_id, &msg), 3);
	free(msg);
	ctr_process_free(p);
	free(kill_collect(&e, "sl"));
	/* Nothing was made under the cut id "ab". */
	ASSERT_NE(ctr_remove(&e, "ab") == 0 && ctr_start(&e, "ab", NULL) == 0, true);
	oci_free(o2);
	oci_free(o);
	ctr_env_teardown(&e);
}

/* --- a container's cgroup is its own ------------------------------------------------------- */

static const char *const cg_hier[] = {"cpu",	 "cpuacct", "cpuset", "memory", "devices",
				      "freezer", "blkio",   "pids",   "unified"};

/* rel ("/kata-itest-N-R/victim") in the cgroup2 mount or in every v1 hierarchy there is. */
static void hier_dir(bool v2, size_t i, const char *rel, char *buf, size_t size)
{
	if (v2)
		snprintf(buf, size, "/sys/fs/cgroup%s", rel);
	else
		snprintf(buf, size, "/sys/fs/cgroup/%s%s", cg_hier[i], rel);
}

/* A guest process the agent did not start, placed in rel (made here). */
static pid_t victim_in(bool v2, const char *parent, const char *rel)
{
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	char dir[256], procs[300], num[32];
	snprintf(num, sizeof(num), "%d\n", (int)pid);
	size_t n = v2 ? 1 : sizeof(cg_hier) / sizeof(cg_hier[0]);
	int placed = 0;
	for (size_t i = 0; i < n; i++) {
		hier_dir(v2, i, parent, dir, sizeof(dir));
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			continue;
		hier_dir(v2, i, rel, dir, sizeof(dir));
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			continue;
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
		/* cpuset needs cpus and mems first: a hierarchy that refuses is skipped. */
		int fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd >= 0 && write(fd, num, strlen(num)) == (ssize_t)strlen(num))
			placed++;
		if (fd >= 0)
			close(fd);
	}
	if (!placed) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		SKIP("cannot place a process in a cgroup of our own");
	}
	return pid;
}

static void victim_end(bool v2, pid_t pid, const char *rel)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	char dir[256];
	size_t n = v2 ? 1 : sizeof(cg_hier) / sizeof(cg_hier[0]);
	for (size_t i = 0; i < n; i++) {
		hier_dir(v2, i, rel, dir, sizeof(dir));
		rmdir(dir);
	}
}

static bool pid_alive(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

static void cgroup_taken(bool v2)
{
	struct ctr_env e;
	ctr_env_setup(&e, v2);
	char rel[128];
	snprintf(rel, sizeof(rel), "%s/victim", e.cgparent);
	pid_t victim = victim_in(v2, e.cgparent, rel);
	const char *args[] = {"sleep", "30", NULL};

	/* A cgroup holding a process the agent did not start is refused, the process untouched. */
	struct oci *o = oci_new(&e, "cv", args);
	o->spec->linux->cgroupspath = rel;
	char *msg = NULL;
	int code = ctr_create(&e, "cv", o->spec, &msg);
	if (code == 0) {
		ctr_signal(&e, "cv", "", SIGKILL);
		usleep(200 * 1000);
		bool alive = pid_alive(victim);
		ctr_remove(&e, "cv");
		victim_end(v2, victim, rel);
		FAIL("a container was made in a cgroup holding pid %d (%s by a kill-all)",
		     (int)victim, alive ? "spared" : "killed");
	}
	ASSERT_EQ(code, 9);
	if (!strstr(msg, "already holds processes"))
		FAIL("message: %s", msg);
	free(msg);
	ASSERT_TRUE(pid_alive(victim));
	/* Its parent holds it too (below): refused the same way. */
	o->spec->linux->cgroupspath = e.cgparent;
	ASSERT_EQ(ctr_create(&e, "cv", o->spec, NULL), 9);
	/* The agent's own cgroup and the root: never. */
	o->spec->linux->cgroupspath = "/";
	ASSERT_EQ(ctr_create(&e, "cv", o->spec, NULL), 3);
	snprintf(rel, sizeof(rel), "%s/x/../victim", e.cgparent);
	o->spec->linux->cgroupspath = rel;
	ASSERT_EQ(ctr_create(&e, "cv", o->spec, NULL), 3);
	char own[512] = "", path[64];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)e.agent.pid);
	FILE *f = fopen(path, "re");
	ASSERT_NOT_NULL(f);
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		/* v2: "0::/path"; v1: "N:memory:/path" */
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		bool match = v2 ? (c2 == c1 + 1) : strncmp(c1 + 1, "memory:", 7) == 0;
		if (match) {
			snprintf(own, sizeof(own), "%s", c2 + 1);
			own[strcspn(own, "\n")] = '\0';
		}
	}
	fclose(f);
	if (own[0] && strcmp(own, "/") != 0) {
		o->spec->linux->cgroupspath = own;
		code = ctr_create(&e, "cv", o->spec, &msg);
		if (code != 9)
			FAIL("the agent's own cgroup %s: code %d %s", own, code, msg);
		free(msg);
	}
	ASSERT_TRUE(itest_alive(e.agent.pid));
	ASSERT_TRUE(pid_alive(victim));

	/* Two containers with one path: the second is refused, the first keeps running. */
	snprintf(rel, sizeof(rel), "%s/shared", e.cgparent);
	o->spec->linux->cgroupspath = rel;
	create_start(&e, "c1", o);
	struct oci *o2 = oci_new(&e, "c2", args);
	o2->spec->linux->cgroupspath = rel;
	ASSERT_EQ(ctr_create(&e, "c2", o2->spec, NULL), 9);
	free(kill_collect(&e, "c1"));
	ASSERT_TRUE(pid_alive(victim));
	oci_free(o2);
	oci_free(o);
	snprintf(rel, sizeof(rel), "%s/victim", e.cgparent);
	victim_end(v2, victim, rel);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(cgroup_holding_other_processes_refused_v1, 60)
{
	cgroup_taken(false);
}

TEST_TIMEOUT(cgroup_holding_other_processes_refused_v2, 60)
{
	cgroup_taken(true);
}

/* --- crun as the reference ------------------------------------------------------------------ */

static const char *const cmp_caps[] = {
	"CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_SETGID", "CAP_NET_BIND_SERVICE", NULL};

static void json_list(FILE *f, const char *const *v)
{
	fputc('[', f);
	for (size_t i = 0; v[i]; i++)
		fprintf(f, "%s\"%s\"", i ? "," : "", v[i]);
	fputc(']', f);
}

static void write_crun_config(const struct ctr_env *e, const char *bundle, const char *cgpath)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	FILE *f = fopen(path, "we");
	ASSERT_NOT_NULL(f);
	fprintf(f, "{\"ociVersion\":\"1.0.2\",\"process\":{\"terminal\":false,"
		   "\"user\":{\"uid\":1000,\"gid\":1000,\"additionalGids\":[10,20]},"
		   "\"args\":[\"/bin/payload\",\"report\"],"
		   "\"env\":[\"PATH=/bin\",\"CTR_TEST=yes\"],\"cwd\":\"/home/u\","
		   "\"noNewPrivileges\":true,\"capabilities\":{");
	static const char *const sets[] = {"bounding", "effective", "permitted", "ambient"};
	for (size_t i = 0; i < 4; i++) {
		fprintf(f, "%s\"%s\":", i ? "," : "", sets[i]);
		json_list(f, cmp_caps);
	}
	fprintf(f,
		"}},\"root\":{\"path\":\"%s\",\"readonly\":false},\"hostname\":\"h-cmp\","
		"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
		"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
		"\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]}],"
		"\"linux\":{\"cgroupsPath\":\"%s\",\"namespaces\":[{\"type\":\"pid\"},"
		"{\"type\":\"mount\"},{\"type\":\"ipc\"},{\"type\":\"uts\"}]}}\n",
		e->rootfs, cgpath);
	fclose(f);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

TEST_TIMEOUT(report_agrees_with_crun, 90)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	if (system("command -v crun >/dev/null 2>&1") != 0)
		SKIP("crun is not installed");
	const char *args[] = {"report", NULL};
	struct oci *o = oci_new(&e, "cmp", args);
	ctr_spec_set_user(o->s, 1000, 1000);
	uint32_t gids[] = {10, 20};
	o->spec->process->user->additionalgids = gids;
	o->spec->process->user->n_additionalgids = 2;
	o->spec->process->nonewprivileges = true;
	o->spec->process->cwd = "/home/u";
	Grpc__LinuxCapabilities *c = o->spec->process->capabilities;
	c->bounding = c->effective = c->permitted = c->ambient = (char **)cmp_caps;
	c->n_bounding = c->n_effective = c->n_permitted = c->n_ambient = 5;
	c->n_inheritable = 0;
	/* Same /dev as crun gets from its config (the agent mounts one anyway). */
	const char *devopts[] = {"nosuid", "strictatime", "mode=755", "size=65536k", NULL};
	oci_add_mount(o, "/dev", "tmpfs", "tmpfs", devopts);
	char *agent = run_ok(&e, "cmp", o);

	char bundle[64], cgpath[64], cmd[512], outp[128], errp[128];
	snprintf(bundle, sizeof(bundle), "/run/ctr-oci-bundle-XXXXXX"); /* the private /run */
	ASSERT_NOT_NULL(mkdtemp(bundle));
	snprintf(cgpath, sizeof(cgpath), "/kata-itest-crun-%d", (int)getpid());
	write_crun_config(&e, bundle, cgpath);
	snprintf(outp, sizeof(outp), "%s/out", bundle);
	snprintf(errp, sizeof(errp), "%s/err", bundle);
	/*
	 * /run is this test's private tmpfs: crun's state goes there and vanishes with it.
	 * crun refuses a hybrid hierarchy whose cgroup2 part has controllers (hugetlb
	 * here): it runs in its own mount namespace without /sys/fs/cgroup/unified, so
	 * it sees plain cgroup v1, like the agent's container did.
	 */
	snprintf(cmd, sizeof(cmd),
		 "unshare -m --propagation private sh -c 'umount -l /sys/fs/cgroup/unified "
		 "2>/dev/null; exec crun --cgroup-manager=cgroupfs run --bundle %s ctr-oci-cmp-%d' "
		 "</dev/null >%s 2>%s",
		 bundle, (int)getpid(), outp, errp);
	int rc = system(cmd);
	char *crun = slurp(outp);
	char *crun_err = slurp(errp);
	if (rc != 0)
		FAIL("crun failed (%d): %s\nstdout:\n%s", rc, crun_err, crun);
	/*
	 * Intended differences, not compared: stdin_is (the agent gives the container
	 * pipes, crun here inherits /dev/null), the ns.*, cgroup= and pid-dependent lines,
	 * and the mounts the runtimes add beside the spec's (the agent's /dev/pts, /dev/shm).
	 */
	static const char *const keys[] = {"uid",	   "euid",    "gid",	  "egid",
					   "groups",	   "umask",   "cwd",	  "hostname",
					   "no_new_privs", "cap_inh", "cap_prm",  "cap_eff",
					   "cap_bnd",	   "cap_amb", "env.HOME", "env.PATH",
					   "env.CTR_TEST", "pid",     "tty",	  "rlimit.NOFILE"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *a = ctr_report_value(agent, keys[i]);
		char *b = ctr_report_value(crun, keys[i]);
		if (!a || !b || strcmp(a, b) != 0)
			FAIL("%s: agent \"%s\", crun \"%s\"", keys[i], a ? a : "(none)",
			     b ? b : "(none)");
		free(a);
		free(b);
	}
	/* Both mount /proc from the spec the same way. */
	char *ma = mount_line(agent, "/proc"), *mb = mount_line(crun, "/proc");
	if (strcmp(ma, mb) != 0)
		FAIL("/proc: agent \"%s\", crun \"%s\"", ma, mb);
	free(ma);
	free(mb);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", bundle);
	ASSERT_EQ(system(cmd), 0);
	for (const char *ctl = "cpu\0cpuacct\0cpuset\0memory\0devices\0freezer\0blkio\0pids\0"
			       "systemd\0unified\0";
	     *ctl; ctl += strlen(ctl) + 1) {
		char p[256];
		snprintf(p, sizeof(p), "/sys/fs/cgroup/%s%s", ctl, cgpath);
		rmdir(p);
	}
	free(crun);
	free(crun_err);
	free(agent);
	oci_free(o);
	ctr_env_teardown(&e);
}
