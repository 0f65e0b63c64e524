// SPDX-License-Identifier: Apache-2.0
/*
 * CreateSandbox's duties: the run directory, kernel modules, the shared
 * IPC and UTS namespaces every container of the pod joins, the pod's DNS and its
 * storages, whose hot-plugged disks are waited for (within agent.hotplug_timeout)
 * before anything changes.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/status.h"
#include "sandbox/container.h"
#include "sandbox/sandbox-setup.h"
#include "base/message.h"
#include "device/devmatch.h"
#include "guest/guest.h"
#include "init/kmod.h"
#include "loop/fork.h"
#include "sandbox/devwait.h"
#include "storage/mkfs.h"

#define SANDBOX_NS_DIR "/run/sandbox-ns"
#define SANDBOX_DNS_FILE SANDBOX_RUN_DIR "/sandbox/resolv.conf"

static int bind_file(const char *src, const char *dst, agent_error_t **err)
{
	int fd;

	umount2(dst, MNT_DETACH); /* a previous CreateSandbox's */
	fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return agent_error_setsys(err, errno, "creating %s", dst);
	close(fd);
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		return agent_error_setsys(err, errno, "binding %s on %s", src, dst);
	return 0;
}

static void ignore_exit(pid_t pid, int status, void *data)
{
}

/*
 * A short-lived child makes the namespaces; bind mounts keep them after it
 * exits (THE reaper collects it). The hostname is set inside the new UTS one.
 */
static int make_shared_namespaces(struct sandbox *sb, const char *hostname, agent_error_t **err)
{
	int ready[2], hold[2];
	char src[64], c;
	pid_t pid;
	int r;

	r = mkdir_p(SANDBOX_NS_DIR, 0755);
	if (r < 0)
		return agent_error_setsys(err, -r, "creating %s", SANDBOX_NS_DIR);
	if (pipe2(ready, O_CLOEXEC) < 0)
		return agent_error_setsys(err, errno, "pipe");
	if (pipe2(hold, O_CLOEXEC) < 0) {
		r = agent_error_setsys(err, errno, "pipe");
		close(ready[0]);
		close(ready[1]);
		return r;
	}
	const int keep[] = {ready[1], hold[0]};
	pid = loop_fork(sb->reaper, keep, ARRAY_SIZE(keep), 0, NULL, err);
	if (pid == 0) {
		char ok = 1;

		close(ready[0]);
		close(hold[1]);
		if (unshare(CLONE_NEWIPC | CLONE_NEWUTS) < 0 ||
		    (hostname[0] && sethostname(hostname, strlen(hostname)) < 0))
			ok = 0;
		if (write(ready[1], &ok, 1) != 1)
			_exit(1);
		/* Wait until the agent has bound the namespaces. */
		if (read(hold[0], &ok, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	if (pid < 0) {
		r = agent_error_wrap(err, "creating the shared IPC and UTS namespaces");
		goto out;
	}
	/* Its exit means nothing: collected, not kept. */
	reaper_watch(sb->reaper, pid, ignore_exit, NULL);
	if (read(ready[0], &c, 1) != 1 || c != 1) {
		r = agent_error_set(err, EIO, "creating the shared IPC and UTS namespaces failed");
		goto out;
	}
	snprintf(src, sizeof(src), "/proc/%d/ns/ipc", (int)pid);
	r = bind_file(src, SANDBOX_NS_DIR "/ipc", err);
	if (r < 0)
		goto out;
	snprintf(src, sizeof(src), "/proc/%d/ns/uts", (int)pid);
	r = bind_file(src, SANDBOX_NS_DIR "/uts", err);
	if (r < 0)
		goto out;
	free(sb->shared_ipc_ns);
	free(sb->shared_uts_ns);
	sb->shared_ipc_ns = strdup(SANDBOX_NS_DIR "/ipc");
	sb->shared_uts_ns = strdup(SANDBOX_NS_DIR "/uts");
	r = 0;
out:
	close(ready[0]);
	close(hold[1]); /* lets the child exit */
	return r;
}

static int setup_dns(char **lines, size_t n, agent_error_t **err)
{
	struct strbuf sb;
	struct stat st;
	int r;

	if (n == 0)
		return 0;
	if (stat("/etc/resolv.conf", &st) < 0)
		return 0; /* no resolv.conf in the guest: nothing to point at */
	if (S_ISDIR(st.st_mode))
		return agent_error_set(err, EISDIR, "/etc/resolv.conf is a directory");
	strbuf_init(&sb, 64 * 1024);
	for (size_t i = 0; i < n; i++) {
		const char *s = lines[i];
		size_t len = strlen(s);

		while (len && (*s == ' ' || *s == '\t'))
			s++, len--;
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n'))
			len--;
		if (memchr(s, '\n', len)) {
			strbuf_release(&sb);
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "dns[%zu]: one line per entry", i);
		}
		strbuf_add(&sb, s, len);
		strbuf_adds(&sb, "\n");
	}
	if (sb.oom) {
		strbuf_release(&sb);
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, E2BIG, "dns: too long");
	}
	r = mkdir_p(SANDBOX_RUN_DIR "/sandbox", 0755);
	if (r >= 0) {
		int fd = open(SANDBOX_DNS_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, sb.s, sb.len) != (ssize_t)sb.len)
			r = -errno;
		if (fd >= 0)
			close(fd);
	}
	strbuf_release(&sb);
	if (r < 0)
		return agent_error_setsys(err, -r, "writing %s", SANDBOX_DNS_FILE);
	umount2("/etc/resolv.conf", MNT_DETACH);
	if (mount(SANDBOX_DNS_FILE, "/etc/resolv.conf", NULL, MS_BIND, NULL) < 0)
		return agent_error_setsys(err, errno, "binding %s on /etc/resolv.conf",
					  SANDBOX_DNS_FILE);
	return 0;
}

#define GUEST_HOOKS_MAX 64

/* <dir>/<kind>/<file>: each executable regular file (not a symlink) is a hook. */
static int scan_hook_dir(const char *dir, const char *kind, Grpc__Hook ***ret, size_t *ret_n)
{
	char path[4096];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, kind);
	d = opendir(path);
	if (!d)
		return 0; /* missing directories are fine */
	while ((e = readdir(d)) && *ret_n < GUEST_HOOKS_MAX) {
		char file[4096];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		if (snprintf(file, sizeof(file), "%s/%s", path, e->d_name) >= (int)sizeof(file) ||
		    lstat(file, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
			continue;
		Grpc__Hook **hooks = realloc(*ret, (*ret_n + 1) * sizeof(*hooks));
		Grpc__Hook *h = calloc(1, sizeof(*h));
		char **args = calloc(2, sizeof(char *));
		if (hooks)
			*ret = hooks;
		if (!hooks || !h || !args) {
			free(h);
			free(args);
			break;
		}
		grpc__hook__init(h);
		h->path = strdup(file);
		args[0] = strdup(e->d_name);
		args[1] = strdup(kind);
		h->args = args;
		h->n_args = 2;
		(*ret)[(*ret_n)++] = h;
	}
	closedir(d);
	return 0;
}

static void load_guest_hooks(struct sandbox *sb, const char *dir)
{
	Grpc__Hooks *h;

	if (sb->guest_hooks)
		grpc__hooks__free_unpacked(sb->guest_hooks, NULL);
	sb->guest_hooks = NULL;
	free(sb->guest_hook_path);
	sb->guest_hook_path = dir[0] ? strdup(dir) : NULL; /* spec hooks must lie below it */
	if (!dir[0])
		return;
	h = calloc(1, sizeof(*h));
	if (!h)
		return;
	grpc__hooks__init(h);
	scan_hook_dir(dir, "prestart", &h->prestart, &h->n_prestart);
	scan_hook_dir(dir, "poststart", &h->poststart, &h->n_poststart);
	scan_hook_dir(dir, "poststop", &h->poststop, &h->n_poststop);
	sb->guest_hooks = h;
}

/* The sandbox's storages, with the devices found for them. */
static int add_storages(struct sandbox *sb, Grpc__Storage **st, size_t n, char *const *devs,
			agent_error_t **err)
{
	char **points;
	size_t np;
	int r;

	if (n == 0)
		return 0;
	r = storages_add(&sb->storages, st, n, devs, NULL, &points, &np, err);
	if (r < 0)
		return r;
	char **all =
		realloc(sb->sandbox_storages, (sb->n_sandbox_storages + np + 1) * sizeof(char *));
	if (!all) {
		storages_release(&sb->storages, points, np);
		return agent_error_set(err, ENOMEM, "out of memory");
	}
	memcpy(all + sb->n_sandbox_storages, points, np * sizeof(char *));
	sb->sandbox_storages = all;
	sb->n_sandbox_storages += np;
	free(points);
	return 0;
}

static int load_modules(Grpc__KernelModule **m, size_t n, agent_error_t **err)
{
	for (size_t i = 0; i < n; i++) {
		int r = kmod_load("/", m[i]->name, m[i]->parameters, m[i]->n_parameters, err);
		if (r < 0) {
			if (*err && !(*err)->status)
				(*err)->status = GRPC_INTERNAL;
			return agent_error_wrap(err, "kernel_modules[%zu]", i);
		}
	}
	return 0;
}

/* Everything CreateSandbox changes, once its devices are there. */
static int create_apply(struct sandbox *sb, const Grpc__CreateSandboxRequest *req,
			char *const *devs, agent_error_t **err)
{
	int r;

	if (sb->n_containers == 0) {
		/* A fresh start, but never through a mount point below it. */
		rm_rf(SANDBOX_RUN_DIR);
	}
	r = mkdir_p(SANDBOX_RUN_DIR, 0755);
	if (r < 0)
		return agent_error_setsys(err, -r, "creating %s", SANDBOX_RUN_DIR);
	free(sb->hostname);
	sb->hostname = strdup(req->hostname);
	if (req->sandbox_id[0]) {
		free(sb->id);
		sb->id = strdup(req->sandbox_id);
	}
	r = load_modules(req->kernel_modules, req->n_kernel_modules, err);
	if (r < 0)
		return r;
	r = make_shared_namespaces(sb, req->hostname, err);
	if (r < 0)
		return r;
	r = setup_dns(req->dns, req->n_dns, err);
	if (r < 0)
		return r;
	r = add_storages(sb, req->storages, req->n_storages, devs, err);
	if (r < 0)
		return r;
	load_guest_hooks(sb, req->guest_hook_path);
	sb->created = true;
	return 0;
}

struct sandbox_creating {
	struct sandbox *sb;
	Grpc__CreateSandboxRequest *req;
	struct devwait *wait;
	struct storage_mkfs *mkfs;
	sandbox_done_fn done;
	void *ctx;
};

static void creating_end(struct sandbox_creating *cr, int r, agent_error_t *err)
{
	sandbox_done_fn done = cr->done;
	void *ctx = cr->ctx;

	cr->sb->creating = NULL;
	devwait_cancel(cr->wait);
	storage_mkfs_cancel(cr->mkfs);
	protobuf_c_message_free_unpacked(&cr->req->base, NULL);
	free(cr);
	done(r, err, ctx);
}

static void on_formatted(int r, agent_error_t *err, char *const *devs, void *data)
{
	struct sandbox_creating *cr = data;

	cr->mkfs = NULL; /* gone once this returns */
	if (r >= 0)
		r = create_apply(cr->sb, cr->req, devs, &err);
	creating_end(cr, r, err);
}

/* The devices are there: block volumes asking for a filesystem get one, then all is applied. */
static void after_devices(struct sandbox_creating *cr, char *const *devs)
{
	const Grpc__CreateSandboxRequest *req = cr->req;
	struct sandbox *sb = cr->sb;
	agent_error_t *err = NULL;
	int r;

	r = storage_mkfs_start(&sb->storages, sb->loop, sb->reaper, req->storages, req->n_storages,
			       devs, req->n_storages, on_formatted, cr, &cr->mkfs, &err);
	if (r >= 0 && cr->mkfs)
		return;
	if (r >= 0)
		r = create_apply(sb, req, devs, &err);
	creating_end(cr, r, err);
}

static void on_devices(int r, agent_error_t *err, char *const *devs, void *data)
{
	struct sandbox_creating *cr = data;

	cr->wait = NULL; /* gone once this returns */
	if (r < 0)
		creating_end(cr, r, err);
	else
		after_devices(cr, devs);
}

/* Matches for the storages whose devices may still be coming; *ret_any says if one does. */
static int device_matches(Grpc__Storage **st, size_t n, struct dev_match *ms, struct dev_match **mp,
			  bool *ret_any, agent_error_t **err)
{
	*ret_any = false;
	for (size_t i = 0; i < n; i++) {
		int r = storage_device_match(st[i], &ms[i], err);
		if (r < 0) {
			if (*err && !(*err)->status)
				(*err)->status = GRPC_INVALID_ARGUMENT;
			return agent_error_wrap(err, "storages[%zu]", i);
		}
		mp[i] = r > 0 ? &ms[i] : NULL;
		*ret_any |= r > 0;
	}
	return 0;
}

static int validate(const Grpc__CreateSandboxRequest *req, agent_error_t **err)
{
	int r;

	if (strlen(req->hostname) > 64)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "hostname longer than 64 bytes");
	if (req->n_kernel_modules > SANDBOX_MODULES_MAX)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, E2BIG,
					      "kernel_modules: more than %d", SANDBOX_MODULES_MAX);
	for (size_t i = 0; i < req->n_kernel_modules; i++) {
		const Grpc__KernelModule *m = req->kernel_modules[i];
		r = kmod_validate(m->name, m->parameters, m->n_parameters, err);
		if (r < 0)
			return agent_error_wrap(err, "kernel_modules[%zu]", i);
	}
	if (req->n_storages > STORAGES_MAX)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, E2BIG,
					      "storages: more than %d", STORAGES_MAX);
	for (size_t i = 0; i < req->n_storages; i++) {
		r = storage_validate(req->storages[i], err);
		if (r < 0)
			return agent_error_wrap(err, "storages[%zu]", i);
	}
	return 0;
}

int sandbox_create(struct sandbox *sb, const Grpc__CreateSandboxRequest *req, sandbox_done_fn done,
		   void *ctx, agent_error_t **err)
{
	struct dev_match *ms = NULL, **mp = NULL;
	struct sandbox_creating *cr = NULL;
	size_t n = req->n_storages;
	bool waits;
	int r;

	if (sb->opts.inert)
		return agent_error_set(err, EPERM, "this sandbox is inert");
	if (sb->creating)
		return agent_error_set_status(err, GRPC_FAILED_PRECONDITION, EBUSY,
					      "a CreateSandbox is still waiting for its devices");
	/* Every input is checked before anything changes. */
	r = validate(req, err);
	if (r < 0)
		return r;
	ms = calloc(n ? n : 1, sizeof(*ms));
	mp = calloc(n ? n : 1, sizeof(*mp));
	if (!ms || !mp) {
		r = agent_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	r = device_matches(req->storages, n, ms, mp, &waits, err);
	if (r < 0)
		goto out;
	bool mkfs = false;
	for (size_t i = 0; i < n; i++)
		mkfs |= storage_wants_mkfs(req->storages[i]);
	if (!waits && !mkfs) {
		r = create_apply(sb, req, NULL, err);
		if (r >= 0)
			done(0, NULL, ctx);
		goto out;
	}
	/* Hot-plugged disks may still be coming, mkfs takes its time: the reply waits, the loop
	 * does not. */
	cr = calloc(1, sizeof(*cr));
	if (cr)
		cr->req = message_dup(&req->base);
	if (!cr || !cr->req) {
		free(cr);
		r = agent_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	cr->sb = sb;
	cr->done = done;
	cr->ctx = ctx;
	if (waits)
		r = devwait_start(sb, mp, n, on_devices, cr, &cr->wait, err);
	if (r < 0) {
		protobuf_c_message_free_unpacked(&cr->req->base, NULL);
		free(cr);
		goto out;
	}
	sb->creating = cr;
	if (!waits)
		after_devices(cr, NULL); /* may answer at once */
out:
	free(ms);
	free(mp);
	return r;
}

void sandbox_create_abort(struct sandbox *sb)
{
	agent_error_t *err = NULL;

	if (!sb->creating)
		return;
	agent_error_set_status(
		&err, GRPC_ABORTED, ECANCELED,
		"the sandbox was destroyed while CreateSandbox waited for its devices");
	creating_end(sb->creating, -ECANCELED, err);
}

struct destroying {
	struct sandbox *sb;
	sandbox_done_fn done;
	void *ctx;
};

static void on_containers_removed(int r, agent_error_t *err, void *data)
{
	struct destroying *d = data;

	/* CopyFile's temporaries of copies the host never finished (best effort). */
	guest_copy_cleanup(GUEST_COPY_ROOT, NULL);
	oom_queue_close(&d->sb->oom);
	d->done(r, err, d->ctx);
	free(d);
}

int sandbox_destroy(struct sandbox *sb, sandbox_done_fn done, void *ctx, agent_error_t **err)
{
	struct destroying *d = calloc(1, sizeof(*d));

	if (!d)
		return agent_error_set(err, ENOMEM, "out of memory");
	d->sb = sb;
	d->done = done;
	d->ctx = ctx;
	sandbox_create_abort(sb);
	int r = containers_remove_all(sb, on_containers_removed, d, err);
	if (r < 0)
		free(d);
	return r;
}
