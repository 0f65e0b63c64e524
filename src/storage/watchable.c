// SPDX-License-Identifier: Apache-2.0
/*
 * watchable-bind on the agent's loop: one tmpfs on the watchable
 * directory, one inotify fd and one 2 s rescan timer for every watched
 * storage, all made with the first watch and gone with the last. Events only
 * mark a watch dirty; the mirroring runs from a short timer, a few watches per
 * turn, so the loop never does more than a bounded amount of copying at once.
 */
#include "storage/watchable.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/pathres.h"
#include "loop/loop.h"
#include "base/status.h"

#define SHARED_ROOT STORAGE_ROOT "/shared"
#define WATCH_DIR_GO SHARED_ROOT "/containers/watchable"
#define WATCH_DIR_RS SHARED_ROOT "/containers/passthrough/watchable"
#define WATCH_BATCH 4 /* watches mirrored per loop turn */
#define WATCH_KICK_MS 20 /* events coalesced this long before a mirror */
#define WATCH_MASK                                                                        \
	(IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
	 IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_DONT_FOLLOW)

struct watchable_watch {
	struct watchable_watch *next;
	struct watchable_set *set;
	char *source, *target;
	bool ro;
	bool bound; /* fell back to a bind mount: no longer watched */
	bool dirty;
	int wds[WATCHABLE_MAX_ENTRIES];
	size_t n_wds;
	struct watchable_snap snap;
};

struct watchable_set {
	struct loop *loop; /* NULL: no events, no rescans (the first copy only) */
	char *dir; /* the tmpfs */
	int ifd;
	struct loop_io *io;
	struct loop_timer *tick, *kick;
	struct watchable_watch *first;
	size_t n;
};

static bool path_under(const char *p, const char *root)
{
	size_t n = strlen(root);
	return strncmp(p, root, n) == 0 && (p[n] == '/' || p[n] == '\0');
}

int watchable_validate(const Grpc__Storage *s, agent_error_t **err)
{
	static const char *const dirs[] = {WATCH_DIR_GO, WATCH_DIR_RS};
	const char *mp = s->mount_point, *slash = strrchr(mp, '/');
	size_t dl = slash ? (size_t)(slash - mp) : 0;
	bool dir_ok = false;

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		dir_ok |= strlen(dirs[i]) == dl && !strncmp(mp, dirs[i], dl);
	if (!dir_ok || !slash[1] || !path_clean_under(mp, STORAGE_ROOT))
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "watchable-bind storage: mount_point \"%s\" must be "
					      "an entry of %s or %s",
					      mp, WATCH_DIR_GO, WATCH_DIR_RS);
	/* Not a mirror of the mirrors, nor of a directory holding them. */
	if (!path_clean_under(s->source, SHARED_ROOT) || path_under(s->source, WATCH_DIR_GO) ||
	    path_under(s->source, WATCH_DIR_RS) || path_under(WATCH_DIR_GO, s->source) ||
	    path_under(WATCH_DIR_RS, s->source))
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "watchable-bind storage: source \"%s\" must be a "
					      "clean path under %s, outside the watchable "
					      "directories",
					      s->source, SHARED_ROOT);
	return 0;
}

/* ---- inotify watches of one storage ---- */

static bool wd_held_elsewhere(const struct watchable_watch *w, int wd)
{
	for (const struct watchable_watch *o = w->set->first; o; o = o->next)
		for (size_t i = 0; o != w && i < o->n_wds; i++)
			if (o->wds[i] == wd)
				return true;
	return false;
}

static void wds_drop(struct watchable_watch *w)
{
	for (size_t i = 0; i < w->n_wds; i++)
		if (!wd_held_elsewhere(w, w->wds[i]))
			inotify_rm_watch(w->set->ifd, w->wds[i]);
	w->n_wds = 0;
}

/* Watches every directory of the last scan (the file itself for a file source). */
static void wds_refresh(struct watchable_watch *w)
{
	int fresh[WATCHABLE_MAX_ENTRIES];
	size_t n = 0;

	if (w->set->ifd < 0)
		return;
	for (size_t i = 0; i < w->snap.n; i++) {
		const struct watchable_entry *e = &w->snap.e[i];
		char path[4096];
		if (!S_ISDIR(e->st.st_mode) && e->rel[0])
			continue;
		if (snprintf(path, sizeof(path), "%s%s%s", w->source, e->rel[0] ? "/" : "",
			     e->rel) >= (int)sizeof(path))
			continue;
		/* Watched through an fd resolved with no symlink: the magic link is followed,
		 * nothing else. */
		int fd = pathres_open_under(SHARED_ROOT, path, O_PATH);
		if (fd < 0)
			continue;
		char proc[32];
		int wd = inotify_add_watch(w->set->ifd, pathres_proc(fd, proc, sizeof(proc)),
					   WATCH_MASK & ~(uint32_t)IN_DONT_FOLLOW);
		close(fd);
		if (wd >= 0)
			fresh[n++] = wd;
	}
	for (size_t i = 0; i < w->n_wds; i++) {
		bool kept = false;
		for (size_t k = 0; k < n; k++)
			kept |= fresh[k] == w->wds[i];
		if (!kept && !wd_held_elsewhere(w, w->wds[i]))
			inotify_rm_watch(w->set->ifd, w->wds[i]);
	}
	memcpy(w->wds, fresh, n * sizeof(int));
	w->n_wds = n;
}

/* ---- one storage ---- */

/* The mount point for the bind: the last copy, or made; never through a symlink. */
static int bind_target(const struct watchable_watch *w, bool dir, agent_error_t **err)
{
	int fd = storage_target(w->target, dir, err);

	if (fd >= 0)
		return fd;
	/* Whatever took the copy's place (not a directory or file as wanted) goes. */
	agent_error_clear(err);
	watchable_mirror_remove(w->target);
	return storage_target(w->target, dir, err);
}

/* Too big to copy: the source bound on the target (over the last copy, if any). */
static int fall_back_to_bind(struct watchable_watch *w, agent_error_t **err)
{
	_cleanup_close_ int fd = pathres_open_under(SHARED_ROOT, w->source, O_PATH);
	_cleanup_close_ int tfd = -1, top = -1;
	char proc[32], tproc[32];
	struct stat st;

	if (fd < 0)
		return storage_path_error(fd, "watchable-bind: source", w->source, err);
	if (fstat(fd, &st) < 0)
		return agent_error_setsys(err, errno, "watchable-bind: %s", w->source);
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "watchable-bind: %s is not a file or directory",
					      w->source);
	tfd = bind_target(w, S_ISDIR(st.st_mode), err);
	if (tfd < 0)
		return tfd;
	/* Both through fds: the source opened above onto the target opened above. */
	if (mount(pathres_proc(fd, proc, sizeof(proc)), pathres_proc(tfd, tproc, sizeof(tproc)),
		  NULL, MS_BIND, NULL) < 0)
		return agent_error_setsys(err, errno, "binding %s on %s", w->source, w->target);
	if (w->ro) {
		top = storage_target(w->target, S_ISDIR(st.st_mode), err);
		if (top < 0 || mount(NULL, pathres_proc(top, tproc, sizeof(tproc)), NULL,
				     MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0) {
			int r = top < 0 ? top
					: agent_error_setsys(err, errno, "remounting %s read-only",
							     w->target);
			umount2(tproc, MNT_DETACH);
			return r;
		}
	}
	w->bound = true;
	w->dirty = false;
	wds_drop(w);
	watchable_snap_clear(&w->snap);
	return 0;
}

/* Mirrors the source now; too big → bind. Errors leave the watch as it was, retried later. */
static int watch_sync(struct watchable_watch *w, agent_error_t **err)
{
	int r;

	w->dirty = false;
	if (w->bound)
		return 0;
	r = watchable_mirror(w->source, w->target, &w->snap, err);
	if (r == -E2BIG || r == -EFBIG) {
		agent_error_clear(err);
		return fall_back_to_bind(w, err);
	}
	wds_refresh(w);
	return r < 0 ? r : 0;
}

/* ---- the loop side ---- */

static void set_process(struct watchable_set *set);

static void on_kick(struct loop_timer *t, void *data)
{
	struct watchable_set *set = data;

	set->kick = NULL;
	set_process(set);
}

static void kick(struct watchable_set *set, unsigned delay_ms)
{
	if (set->loop && !set->kick)
		set->kick = loop_timer_add(set->loop, loop_now_ms() + delay_ms, on_kick, set);
}

static void set_process(struct watchable_set *set)
{
	unsigned done = 0;

	for (struct watchable_watch *w = set->first; w; w = w->next) {
		if (!w->dirty)
			continue;
		if (done++ == WATCH_BATCH) {
			kick(set, 0); /* the rest in the next turn */
			return;
		}
		agent_error_t *err = NULL;
		watch_sync(w, &err); /* a failure is retried at the next event or rescan */
		agent_error_free(err);
	}
}

static void on_tick(struct loop_timer *t, void *data)
{
	struct watchable_set *set = data;

	set->tick = loop_timer_add(set->loop, loop_now_ms() + WATCHABLE_RESCAN_MS, on_tick, set);
	for (struct watchable_watch *w = set->first; w; w = w->next)
		w->dirty = !w->bound;
	set_process(set);
}

static void mark_wd(struct watchable_set *set, int wd, bool gone)
{
	for (struct watchable_watch *w = set->first; w; w = w->next) {
		for (size_t i = 0; i < w->n_wds; i++) {
			if (w->wds[i] != wd)
				continue;
			w->dirty = !w->bound;
			if (gone)
				w->wds[i] = w->wds[--w->n_wds];
			break;
		}
	}
}

static void on_inotify(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct watchable_set *set = data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	/* Bounded: whatever is left raises EPOLLIN again. */
	for (int round = 0; round < 8; round++) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW) {
				for (struct watchable_watch *w = set->first; w; w = w->next)
					w->dirty = !w->bound;
			} else {
				mark_wd(set, ev->wd, ev->mask & IN_IGNORED);
			}
			p += sizeof(*ev) + ev->len;
		}
	}
	kick(set, WATCH_KICK_MS);
}

static void set_free(struct storage_table *t)
{
	struct watchable_set *set = t->watchable;

	if (!set)
		return;
	if (set->loop) {
		set->kick = loop_timer_cancel(set->loop, set->kick);
		set->tick = loop_timer_cancel(set->loop, set->tick);
		if (set->io)
			set->io = loop_io_del(set->loop, set->io);
	}
	safe_close(set->ifd);
	/* Detached through an fd resolved with no symlink, as it was mounted. */
	int fd = pathres_open_under(STORAGE_ROOT, set->dir, O_PATH | O_DIRECTORY);
	if (fd >= 0) {
		char proc[32];
		umount2(pathres_proc(fd, proc, sizeof(proc)), MNT_DETACH);
		close(fd);
	}
	free(set->dir);
	free(set);
	t->watchable = NULL;
}

/* The one set of watches, made with the tmpfs on its directory at first use. */
static int set_get(struct storage_table *t, const char *dir, struct watchable_set **ret,
		   agent_error_t **err)
{
	struct watchable_set *set = t->watchable;
	int r;

	if (set) {
		if (strcmp(set->dir, dir) != 0)
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "watchable-bind storage: %s is in use, all "
						      "watchable storages share one directory",
						      set->dir);
		*ret = set;
		return 0;
	}
	set = calloc(1, sizeof(*set));
	if (!set || !(set->dir = strdup(dir))) {
		free(set);
		return agent_error_set(err, ENOMEM, "out of memory");
	}
	set->ifd = -1;
	/* In the host's share: made and mounted on with no symlink followed. */
	int fd = storage_target(dir, true, err);
	if (fd < 0) {
		free(set->dir);
		free(set);
		return fd;
	}
	/* The shared directory is read-only from the guest: the copies live in a tmpfs. */
	char proc[32];
	r = mount("tmpfs", pathres_proc(fd, proc, sizeof(proc)), "tmpfs", MS_NOSUID | MS_NODEV,
		  "mode=0755");
	close(fd);
	if (r < 0) {
		r = agent_error_setsys(err, errno, "mounting a tmpfs on %s", dir);
		free(set->dir);
		free(set);
		return r;
	}
	t->watchable = set;
	set->loop = t->loop;
	if (set->loop) {
		/* Without inotify the rescans alone keep the copies current. */
		set->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (set->ifd >= 0)
			set->io = loop_io_add(set->loop, set->ifd, EPOLLIN, on_inotify, set);
		set->tick = loop_timer_add(set->loop, loop_now_ms() + WATCHABLE_RESCAN_MS, on_tick,
					   set);
		if (!set->tick) {
			set_free(t);
			return agent_error_set(err, ENOMEM, "watchable-bind: no timer");
		}
	}
	*ret = set;
	return 0;
}

void watchable_release(struct storage_table *t, struct watchable_watch *w)
{
	struct watchable_set *set;

	if (!w)
		return;
	set = w->set;
	wds_drop(w);
	for (struct watchable_watch **pp = &set->first; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			set->n--;
			break;
		}
	}
	if (w->bound)
		storage_unmount(w->target);
	watchable_mirror_remove(w->target);
	watchable_snap_clear(&w->snap);
	free(w->source);
	free(w->target);
	free(w);
	if (set->n == 0)
		set_free(t);
}

int storage_driver_watchable(const struct storage_req *rq, char **ret_cleanup, agent_error_t **err)
{
	const Grpc__Storage *s = rq->s;
	struct watchable_set *set = NULL;
	struct watchable_watch *w;
	struct stat st;
	int r;

	if (!rq->cid)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "watchable-bind storage needs a container");
	r = watchable_validate(s, err);
	if (r < 0)
		return r;
	/* No symlink on the way, the source itself included. */
	_cleanup_close_ int sfd = pathres_open_under(SHARED_ROOT, s->source, O_PATH);
	if (sfd < 0)
		return storage_path_error(sfd, "watchable-bind: source", s->source, err);
	if (fstat(sfd, &st) < 0)
		return agent_error_setsys(err, errno, "watchable-bind: %s", s->source);
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "watchable-bind: %s is not a file or directory",
					      s->source);
	_cleanup_free_ char *dir =
		strndup(s->mount_point, strrchr(s->mount_point, '/') - s->mount_point);
	if (!dir)
		return agent_error_set(err, ENOMEM, "out of memory");
	r = set_get(rq->table, dir, &set, err);
	if (r < 0)
		return r;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->source = strdup(s->source)) || !(w->target = strdup(s->mount_point))) {
		if (w)
			free(w->source);
		free(w);
		if (set->n == 0)
			set_free(rq->table);
		return agent_error_set(err, ENOMEM, "out of memory");
	}
	w->set = set;
	for (size_t i = 0; i < s->n_options; i++)
		w->ro |= !strcmp(s->options[i], "ro");
	w->next = set->first;
	set->first = w;
	set->n++;
	r = watch_sync(w, err);
	if (r < 0) {
		watchable_release(rq->table, w);
		return agent_error_wrap(err, "watchable-bind %s", s->mount_point);
	}
	rq->entry->watch = w;
	*ret_cleanup = NULL; /* the watch is the cleanup */
	return 0;
}
