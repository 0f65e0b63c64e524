// SPDX-License-Identifier: Apache-2.0
/*
 * CreateSandbox's duties (spec 4.1): the run directory, the shared IPC and UTS
 * namespaces every container of the pod joins, and the pod's DNS.
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
#include "rpc/status.h"
#include "sandbox/container.h"
#include "sandbox/sandbox-setup.h"
#include "device/devmatch.h"
#include "uevent/listener.h"

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
	pid = fork();
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
		r = agent_error_setsys(err, errno, "fork");
		goto out;
	}
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

/*
 * The sandbox's device-backed storages must already be there: CreateSandbox
 * answers at once (only CreateContainer waits for hot-plugged disks).
 */
static int find_devices(struct sandbox *sb, Grpc__Storage **st, size_t n, char ***ret,
			agent_error_t **err)
{
	char **devs = calloc(n + 1, sizeof(char *));
	struct dev_match d;
	struct uevent ev;
	int r = 0;

	if (!devs)
		return agent_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n && r >= 0; i++) {
		r = storage_device_match(st[i], &d, err);
		if (r <= 0)
			continue;
		r = sb->uevents ? uevent_find(sb->uevents, &d.m, &ev, err) : 0;
		if (r == 0)
			r = agent_error_set_status(err, GRPC_UNAVAILABLE, ENODEV,
						   "storages[%zu]: device %s is not there", i,
						   st[i]->source);
		else if (r > 0 && asprintf(&devs[i], "/dev/%s", ev.devname) < 0)
			r = agent_error_set(err, ENOMEM, "out of memory");
	}
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			free(devs[i]);
		free(devs);
		return r;
	}
	*ret = devs;
	return 0;
}

int sandbox_create(struct sandbox *sb, const Grpc__CreateSandboxRequest *req, agent_error_t **err)
{
	int r;

	if (sb->opts.inert)
		return agent_error_set(err, EPERM, "this sandbox is inert");
	if (req->n_kernel_modules > 0)
		return agent_error_set_status(err, GRPC_UNIMPLEMENTED, EOPNOTSUPP,
					      "kernel_modules are not supported yet");
	if (strlen(req->hostname) > 64)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "hostname longer than 64 bytes");
	/* Every storage is checked before anything changes. */
	for (size_t i = 0; i < req->n_storages; i++) {
		r = storage_validate(req->storages[i], err);
		if (r < 0)
			return agent_error_wrap(err, "storages[%zu]", i);
	}
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
	r = make_shared_namespaces(sb, req->hostname, err);
	if (r < 0)
		return r;
	r = setup_dns(req->dns, req->n_dns, err);
	if (r < 0)
		return r;
	if (req->n_storages > 0) {
		char **points;
		size_t n;

		char **devs = NULL;
		r = find_devices(sb, req->storages, req->n_storages, &devs, err);
		if (r < 0)
			return r;
		r = storages_add(&sb->storages, req->storages, req->n_storages, devs, NULL, &points,
				 &n, err);
		for (size_t i = 0; devs && i < req->n_storages; i++)
			free(devs[i]);
		free(devs);
		if (r < 0)
			return r;
		char **all = realloc(sb->sandbox_storages,
				     (sb->n_sandbox_storages + n + 1) * sizeof(char *));
		if (!all) {
			storages_release(&sb->storages, points, n);
			return agent_error_set(err, ENOMEM, "out of memory");
		}
		memcpy(all + sb->n_sandbox_storages, points, n * sizeof(char *));
		sb->sandbox_storages = all;
		sb->n_sandbox_storages += n;
		free(points);
	}
	load_guest_hooks(sb, req->guest_hook_path);
	sb->created = true;
	return 0;
}

int sandbox_destroy(struct sandbox *sb, agent_error_t **err)
{
	int r = containers_destroy_all(sb, err);

	oom_queue_close(&sb->oom);
	return r;
}
