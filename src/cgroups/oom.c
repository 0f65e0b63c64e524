/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OOM watching: v1 registers an eventfd on memory.oom_control through
 * cgroup.event_control; v2 watches memory.events with inotify. Either way the
 * fd only says "look again": cgroup_oom_check() reads the oom_kill counter.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>

#include "internal.h"

static int read_kills(const struct cgroup_oom *o, uint64_t *ret_kills, bool *ret_under)
{
	_cleanup_free_ char *s = NULL;
	int r = cg_read(o->file, NULL, &s);
	if (r < 0)
		return r == -ENODEV ? -ENOENT : r;
	uint64_t kills = 0, under = 0;
	cg_kv_u64(s, "oom_kill", &kills);
	if (!o->v2)
		cg_kv_u64(s, "under_oom", &under);
	*ret_kills = kills;
	*ret_under = under != 0;
	return 0;
}

static int oom_new(bool v2, const char *dir, const char *file, struct cgroup_oom **ret,
		   agent_error_t **err)
{
	struct cgroup_oom *o = calloc(1, sizeof(*o));
	if (!o)
		return agent_error_set(err, ENOMEM, "out of memory");
	o->fd = -1;
	o->v2 = v2;
	o->file = cg_join(dir, file);
	if (!o->file) {
		free(o);
		return agent_error_set(err, ENOMEM, "out of memory");
	}
	bool under;
	int r = read_kills(o, &o->last_kills, &under);
	if (r < 0) {
		cgroup_oom_close(o);
		return agent_error_setsys(err, -r, "read %s/%s", dir, file);
	}
	*ret = o;
	return 0;
}

int cg_oom_open_v1(const char *memdir, struct cgroup_oom **ret, agent_error_t **err)
{
	struct cgroup_oom *o = NULL;
	int r = oom_new(false, memdir, "memory.oom_control", &o, err);
	if (r < 0)
		return r;
	o->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (o->fd < 0) {
		cgroup_oom_close(o);
		return agent_error_setsys(err, errno, "eventfd");
	}
	/* The kernel takes its own reference to the control file: ours can close. */
	_cleanup_close_ int cfd = open(o->file, O_RDONLY | O_CLOEXEC);
	if (cfd < 0) {
		r = agent_error_setsys(err, errno, "open %s", o->file);
		cgroup_oom_close(o);
		return r;
	}
	r = cg_writef(memdir, "cgroup.event_control", err, "%d %d", o->fd, cfd);
	if (r < 0) {
		cgroup_oom_close(o);
		return r;
	}
	*ret = o;
	return 0;
}

int cg_oom_open_v2(const char *dir, struct cgroup_oom **ret, agent_error_t **err)
{
	struct cgroup_oom *o = NULL;
	int r = oom_new(true, dir, "memory.events", &o, err);
	if (r < 0)
		return r;
	o->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (o->fd < 0) {
		cgroup_oom_close(o);
		return agent_error_setsys(err, errno, "inotify_init1");
	}
	if (inotify_add_watch(o->fd, o->file, IN_MODIFY) < 0) {
		r = agent_error_setsys(err, errno, "inotify_add_watch %s", o->file);
		cgroup_oom_close(o);
		return r;
	}
	*ret = o;
	return 0;
}

int cgroup_oom_fd(const struct cgroup_oom *o)
{
	return o->fd;
}

int cgroup_oom_check(struct cgroup_oom *o, bool *ret_oom)
{
	char buf[4096];
	ssize_t n;
	bool woke = false;

	/* Drain: eventfd reads 8 bytes; inotify in batches. */
	while ((n = read(o->fd, buf, sizeof(buf))) > 0)
		woke = true;
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return -errno;
	uint64_t kills;
	bool under;
	int r = read_kills(o, &kills, &under);
	/*
	 * v1 signals when the cgroup goes OOM, just before the OOM killer
	 * picks a victim and counts it: give the counter a moment (bounded).
	 */
	for (int i = 0; !o->v2 && woke && r == 0 && kills <= o->last_kills && !under && i < 100;
	     i++) {
		cg_sleep_ms(1);
		r = read_kills(o, &kills, &under);
	}
	if (r < 0)
		return r;
	*ret_oom = kills > o->last_kills || under;
	o->last_kills = kills;
	return 0;
}

struct cgroup_oom *cgroup_oom_close(struct cgroup_oom *o)
{
	if (!o)
		return NULL;
	safe_close(o->fd);
	free(o->file);
	free(o);
	return NULL;
}
