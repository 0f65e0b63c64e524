/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Devices that are already present: their sysfs `uevent` file gives the same
 * keys the kernel sent when they were added, so a wait can be satisfied by a
 * device that appeared before the wait, or before the agent started.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "internal.h"

#define UEVENT_FILE_MAX 4096
#define SCAN_MAX_ENTRIES 4096

int uevent_from_sysfs(const char *sysroot, const char *devpath, struct uevent *ret,
		      agent_error_t **err)
{
	size_t dlen = strlen(devpath);
	if (dlen >= UEVENT_DEVPATH_MAX || !uevent_devpath_ok(devpath, dlen))
		return agent_error_set(err, EINVAL, "bad device path %s", devpath);

	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s%s/uevent", sysroot, devpath) >= (int)sizeof(path))
		return agent_error_set(err, ENAMETOOLONG, "sysfs path too long");
	char buf[UEVENT_FILE_MAX];
	int r = read_file_small(path, buf, sizeof(buf));
	if (r < 0)
		return agent_error_setsys(err, -r, "reading %s", path);
	size_t len = (size_t)r;

	struct uevent ev;
	uevent_init(&ev);
	unsigned seen = 0;
	for (size_t off = 0; off < len;) {
		const char *line = buf + off;
		const char *nl = memchr(line, '\n', len - off);
		size_t llen = nl ? (size_t)(nl - line) : len - off;
		off += llen + 1;
		if (llen == 0)
			continue;
		const char *eq = memchr(line, '=', llen);
		if (!eq || eq == line)
			return agent_error_set(err, EINVAL, "%s: line is not KEY=VALUE", path);
		r = uevent_set_pair(&ev, line, (size_t)(eq - line), eq + 1,
				    llen - (size_t)(eq - line) - 1, &seen, err);
		if (r < 0) {
			agent_error_wrap(err, "%s", path);
			return r;
		}
	}

	/* The uevent file has neither SUBSYSTEM nor DEVPATH: they come from the tree. */
	if (snprintf(path, sizeof(path), "%s%s/subsystem", sysroot, devpath) >= (int)sizeof(path))
		return agent_error_set(err, ENAMETOOLONG, "sysfs path too long");
	char link[PATH_MAX];
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return agent_error_setsys(err, errno, "reading link %s", path);
	link[n] = '\0';
	const char *sub = strrchr(link, '/');
	sub = sub ? sub + 1 : link;
	size_t slen = strlen(sub);
	if (!slen || slen >= sizeof(ev.subsystem))
		return agent_error_set(err, EINVAL, "%s: bad subsystem link", path);
	memcpy(ev.subsystem, sub, slen + 1);
	memcpy(ev.devpath, devpath, dlen + 1);
	ev.action = UEVENT_ACTION_ADD;
	ev.synthesized = true;
	*ret = ev;
	return 0;
}

/* "<sysroot>/class/block/sda" (a link) -> "/devices/.../block/sda", when under sysroot. */
static int entry_devpath(const char *real_root, const char *entry, char *ret, size_t cap)
{
	char real[PATH_MAX];
	if (!realpath(entry, real))
		return -errno;
	size_t rl = strlen(real_root);
	if (strncmp(real, real_root, rl) != 0 || real[rl] != '/')
		return -EXDEV;
	size_t n = strlen(real + rl);
	if (n >= cap)
		return -ENAMETOOLONG;
	memcpy(ret, real + rl, n + 1);
	return 0;
}

static int scan_dir(const char *real_root, const char *dir, const struct uevent_match *m,
		    struct uevent *ret)
{
	char dpath[PATH_MAX];
	if (snprintf(dpath, sizeof(dpath), "%s%s", real_root, dir) >= (int)sizeof(dpath))
		return 0;
	DIR *d = opendir(dpath);
	if (!d)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	int found = 0;
	unsigned count = 0;
	struct dirent *de;
	while (!found && (de = readdir(d)) != NULL && count++ < SCAN_MAX_ENTRIES) {
		if (de->d_name[0] == '.')
			continue;
		char entry[PATH_MAX], devpath[UEVENT_DEVPATH_MAX];
		if (snprintf(entry, sizeof(entry), "%s/%s", dpath, de->d_name) >=
		    (int)sizeof(entry))
			continue;
		if (entry_devpath(real_root, entry, devpath, sizeof(devpath)) < 0)
			continue;
		struct uevent ev;
		/* A device may vanish or be half-built while we look: skip it, never fail. */
		if (uevent_from_sysfs(real_root, devpath, &ev, NULL) < 0)
			continue;
		if (uevent_match_test(m, &ev)) {
			*ret = ev;
			found = 1;
		}
	}
	closedir(d);
	return found;
}

int uevent_scan_sysfs(const char *sysroot, const struct uevent_match *m, struct uevent *ret,
		      agent_error_t **err)
{
	unsigned actions = m->actions ? m->actions : UEVENT_ACTIONS_PRESENT;
	if (!(actions & UEVENT_ACTION_BIT(UEVENT_ACTION_ADD)))
		return 0;
	char real_root[PATH_MAX];
	if (!realpath(sysroot, real_root))
		return agent_error_setsys(err, errno, "sysfs root %s", sysroot);

	struct uevent ev;
	if (m->devpath && *m->devpath) {
		if (uevent_from_sysfs(real_root, m->devpath, &ev, NULL) < 0)
			return 0;
		if (!uevent_match_test(m, &ev))
			return 0;
		*ret = ev;
		return 1;
	}

	char dirs[3][UEVENT_WORD_MAX + 32];
	size_t ndirs = 0;
	if (m->subsystem && *m->subsystem) {
		if (strchr(m->subsystem, '/') || strlen(m->subsystem) >= UEVENT_WORD_MAX)
			return agent_error_set(err, EINVAL, "bad subsystem name %s", m->subsystem);
		snprintf(dirs[ndirs++], sizeof(dirs[0]), "/class/%s", m->subsystem);
		snprintf(dirs[ndirs++], sizeof(dirs[0]), "/bus/%s/devices", m->subsystem);
	} else {
		snprintf(dirs[ndirs++], sizeof(dirs[0]), "/dev/block");
		snprintf(dirs[ndirs++], sizeof(dirs[0]), "/dev/char");
		snprintf(dirs[ndirs++], sizeof(dirs[0]), "/class/net");
	}
	for (size_t i = 0; i < ndirs; i++) {
		int r = scan_dir(real_root, dirs[i], m, &ev);
		if (r < 0)
			return agent_error_setsys(err, -r, "scanning %s%s", real_root, dirs[i]);
		if (r > 0) {
			*ret = ev;
			return 1;
		}
	}
	return 0;
}
