// SPDX-License-Identifier: Apache-2.0
/*
 * A "cgroup" mount in the container: cgroup2 on a v2 host; on v1 a
 * tmpfs with a bind of the container's own cgroup directory of each hierarchy.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "container/pathsafe.h"
#include "container/rootfs-internal.h"

#define CGROUP_FILE_MAX (64 * 1024)
#define CGROUP_HIER_MAX 64
#define CG_KEEP (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_RELATIME)

/* True when every comma-separated word of want is a word of have. */
static bool words_in(const char *want, const char *have)
{
	const char *p = want;
	while (*p) {
		const char *e = strchrnul(p, ',');
		size_t l = (size_t)(e - p);
		bool found = false;
		const char *h = have;
		while (*h && !found) {
			const char *he = strchrnul(h, ',');
			if ((size_t)(he - h) == l && strncmp(h, p, l) == 0)
				found = true;
			h = *he ? he + 1 : he;
		}
		if (l && !found)
			return false;
		p = *e ? e + 1 : e;
	}
	return true;
}

static int bind_hierarchy(int rootfd, const char *dest, const struct mountinfo_entry *e,
			  const char *ctrls, const char *cgpath, unsigned long flags, unsigned how,
			  agent_error_t **err)
{
	char src[PATH_MAX], sub[PATH_MAX];
	const char *rel = cgpath;
	/* A hierarchy mounted from a sub-cgroup (cgroup ns) shows paths below its root. */
	if (strcmp(e->root, "/") != 0 && rootfs_path_under(cgpath, e->root))
		rel = cgpath + strlen(e->root);
	if (snprintf(src, sizeof(src), "%s%s", e->mountpoint, rel) >= (int)sizeof(src))
		return agent_error_set(err, ENAMETOOLONG, "cgroup path too long");
	const char *base = strrchr(e->mountpoint, '/');
	base = base ? base + 1 : e->mountpoint;
	if (snprintf(sub, sizeof(sub), "%s/%s", dest, base) >= (int)sizeof(sub))
		return agent_error_set(err, ENAMETOOLONG, "cgroup path too long");

	_cleanup_close_ int fd = pathsafe_mkdir_p(rootfd, sub, 0755, how);
	if (fd < 0)
		return agent_error_setsys(err, -fd, "mount %s: create %s", dest, sub);
	char tp[32];
	pathsafe_proc_fd(fd, tp, sizeof(tp));
	if (mount(src, tp, NULL, MS_BIND | MS_REC, NULL) < 0)
		return agent_error_setsys(err, errno, "mount %s: bind %s", dest, src);
	_cleanup_close_ int nfd = pathsafe_open(rootfd, sub, O_PATH, how);
	if (nfd < 0)
		return agent_error_setsys(err, -nfd, "mount %s: reopen %s", dest, sub);
	pathsafe_proc_fd(nfd, tp, sizeof(tp));
	unsigned long f = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC |
			  (flags & MS_RDONLY) | rootfs_mount_flags_of(tp);
	if (mount(NULL, tp, NULL, f, NULL) < 0)
		return agent_error_setsys(err, errno, "mount %s: remount %s", dest, sub);

	/* "cpu,cpuacct" is also reachable as "cpu" and "cpuacct". */
	if (strchr(ctrls, ',')) {
		_cleanup_close_ int dfd = pathsafe_open(rootfd, dest, O_PATH | O_DIRECTORY, how);
		char name[NAME_MAX + 1];
		const char *p = ctrls;
		while (dfd >= 0 && *p) {
			const char *e2 = strchrnul(p, ',');
			size_t l = (size_t)(e2 - p);
			if (l && l <= NAME_MAX && !memchr(p, '=', l)) {
				memcpy(name, p, l);
				name[l] = '\0';
				if (strcmp(name, base) != 0)
					(void)symlinkat(base, dfd, name);
			}
			p = *e2 ? e2 + 1 : e2;
		}
	}
	return 0;
}

static int mount_v1(int rootfd, const char *dest, unsigned long flags, unsigned how,
		    agent_error_t **err)
{
	_cleanup_free_ char *mi = NULL;
	_cleanup_free_ char *cg = malloc(CGROUP_FILE_MAX);
	if (!cg)
		return agent_error_set(err, ENOMEM, "out of memory");
	int r = read_file_small("/proc/self/cgroup", cg, CGROUP_FILE_MAX);
	if (r == -EFBIG)
		return agent_error_set(err, EFBIG, "/proc/self/cgroup too large");
	if (r < 0)
		return agent_error_setsys(err, -r, "reading /proc/self/cgroup");
	r = mountinfo_read(&mi, err);
	if (r < 0)
		return r;
	struct mountinfo_entry hier[CGROUP_HIER_MAX], e;
	size_t nh = 0;
	char *pos = mi;
	while (mountinfo_next(&pos, &e) == 1 && nh < CGROUP_HIER_MAX)
		if (strcmp(e.fstype, "cgroup") == 0)
			hier[nh++] = e;

	char *save = NULL;
	for (char *line = strtok_r(cg, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* id:controllers:path; the v2 line is "0::/path". */
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2 || c2 == c1 + 1)
			continue;
		*c2 = '\0';
		const char *ctrls = c1 + 1, *path = c2 + 1;
		for (size_t i = 0; i < nh; i++) {
			if (!words_in(ctrls, hier[i].superopts))
				continue;
			r = bind_hierarchy(rootfd, dest, &hier[i], ctrls, path, flags, how, err);
			if (r < 0)
				return r;
			break;
		}
	}
	return 0;
}

int rootfs_mount_cgroup(const struct rootfs_ctx *c, int rootfd, const char *dest,
			unsigned long flags, unsigned how, agent_error_t **err)
{
	_cleanup_close_ int fd = pathsafe_mkdir_p(rootfd, dest, 0755, how);
	if (fd < 0)
		return agent_error_setsys(err, -fd, "mount %s: target", dest);
	char tp[32];
	pathsafe_proc_fd(fd, tp, sizeof(tp));
	if (c->cgroup_v2) {
		if (mount("cgroup2", tp, "cgroup2", flags & CG_KEEP, NULL) < 0)
			return agent_error_setsys(err, errno, "mount %s: cgroup2", dest);
		return 0;
	}
	if (mount("tmpfs", tp, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
		return agent_error_setsys(err, errno, "mount %s: tmpfs", dest);
	int r = mount_v1(rootfd, dest, flags, how, err);
	if (r < 0)
		return r;
	if (flags & MS_RDONLY) {
		_cleanup_close_ int nfd = pathsafe_open(rootfd, dest, O_PATH, how);
		if (nfd < 0)
			return agent_error_setsys(err, -nfd, "mount %s: reopen", dest);
		pathsafe_proc_fd(nfd, tp, sizeof(tp));
		if (mount(NULL, tp, NULL,
			  MS_REMOUNT | MS_BIND | MS_RDONLY | rootfs_mount_flags_of(tp), NULL) < 0)
			return agent_error_setsys(err, errno, "mount %s: remount read-only", dest);
	}
	return 0;
}
