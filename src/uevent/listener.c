/* SPDX-License-Identifier: Apache-2.0 */
/* The uevent socket, the cache of devices seen and the waiters (see listener.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "internal.h"
#include "listener.h"

#define RCVBUF_BYTES (4 * 1024 * 1024)
#define READS_PER_WAKEUP 64

struct cache_entry {
	bool used;
	struct uevent ev; /* action normalized to ADD: "this device is present" */
};

struct uevent_waiter {
	struct uevent_listener *l;
	struct uevent_waiter *prev, *next;
	uint64_t id;
	uint64_t checked; /* last dispatch round that looked at this waiter */
	bool ready; /* found at once: ev holds the event, timer fires now */
	struct loop_timer *timer;
	uint64_t timeout_ms;
	uevent_wait_fn fn;
	void *userdata;
	struct uevent_match m; /* its strings point into the buffers below */
	char what[UEVENT_NAME_MAX];
	char subsystem[UEVENT_WORD_MAX];
	char devpath[UEVENT_DEVPATH_MAX];
	char prefix[UEVENT_DEVPATH_MAX];
	char suffix[UEVENT_DEVPATH_MAX];
	char contains[UEVENT_DEVPATH_MAX];
	char devname[UEVENT_NAME_MAX];
	char arg[UEVENT_DEVPATH_MAX];
	char desc[UEVENT_DEVPATH_MAX];
	struct uevent ev;
};

struct uevent_listener {
	struct loop *loop;
	int fd;
	struct loop_io *io;
	uint32_t portid;
	unsigned flags;
	char sysroot[PATH_MAX];
	struct uevent_waiter *head;
	unsigned nwaiters;
	uint64_t next_id;
	uint64_t round;
	unsigned cache_next;
	struct uevent_stats stats;
	struct cache_entry cache[UEVENT_CACHE_SIZE];
};

/* --- cache ------------------------------------------------------------------------------- */

static struct cache_entry *cache_lookup(struct uevent_listener *l, const char *devpath)
{
	for (size_t i = 0; i < UEVENT_CACHE_SIZE; i++)
		if (l->cache[i].used && strcmp(l->cache[i].ev.devpath, devpath) == 0)
			return &l->cache[i];
	return NULL;
}

static void cache_put(struct uevent_listener *l, const struct uevent *ev)
{
	struct cache_entry *e = cache_lookup(l, ev->devpath);
	if (!e) {
		e = &l->cache[l->cache_next];
		l->cache_next = (l->cache_next + 1) % UEVENT_CACHE_SIZE;
	}
	e->used = true;
	e->ev = *ev;
	e->ev.action = UEVENT_ACTION_ADD;
}

static bool present_in_sysfs(const struct uevent_listener *l, const char *devpath)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s%s", l->sysroot, devpath) >= (int)sizeof(path))
		return false;
	return access(path, F_OK) == 0;
}

static int cache_find(struct uevent_listener *l, const struct uevent_match *m, struct uevent *ret)
{
	for (size_t i = 0; i < UEVENT_CACHE_SIZE; i++) {
		struct cache_entry *e = &l->cache[i];
		if (!e->used || !uevent_match_test(m, &e->ev))
			continue;
		/* A "remove" lost to an overflow must not leave a ghost behind. */
		if (!present_in_sysfs(l, e->ev.devpath)) {
			e->used = false;
			continue;
		}
		*ret = e->ev;
		return 1;
	}
	return 0;
}

int uevent_find(struct uevent_listener *l, const struct uevent_match *m, struct uevent *ret_ev,
		agent_error_t **err)
{
	struct uevent ev;
	int r = cache_find(l, m, &ev);
	if (r == 0)
		r = uevent_scan_sysfs(l->sysroot, m, &ev, err);
	if (r > 0)
		*ret_ev = ev;
	return r;
}

/* --- waiters ------------------------------------------------------------------------------ */

static void waiter_unlink(struct uevent_listener *l, struct uevent_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		l->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
	l->nwaiters--;
	if (w->timer)
		w->timer = loop_timer_cancel(l->loop, w->timer);
}

static void waiter_complete(struct uevent_listener *l, struct uevent_waiter *w,
			    const struct uevent *ev)
{
	waiter_unlink(l, w);
	l->stats.waits_fired++;
	w->fn(ev, NULL, w->userdata);
	free(w);
}

static void on_timer(struct loop_timer *t, void *data)
{
	struct uevent_waiter *w = data;
	struct uevent_listener *l = w->l;
	w->timer = NULL; /* the loop frees a fired timer */
	if (w->ready) {
		waiter_complete(l, w, &w->ev);
		return;
	}
	waiter_unlink(l, w);
	l->stats.waits_timed_out++;
	agent_error_t *e = NULL;
	agent_error_set(&e, ETIMEDOUT, "Timeout after %" PRIu64 " ms waiting for uevent: %s",
			w->timeout_ms, w->desc);
	w->fn(NULL, e, w->userdata);
	free(w);
}

/*
 * Offers an event (or, with ev NULL, a fresh sysfs look) to every waiter that
 * existed when the round began. A callback may add or cancel waiters, so the
 * walk restarts after each completion; `checked` keeps it linear in practice.
 */
static void dispatch(struct uevent_listener *l, const struct uevent *ev)
{
	uint64_t round = ++l->round, limit = l->next_id;
	for (;;) {
		struct uevent_waiter *w = l->head;
		while (w && (w->checked == round || w->id >= limit || w->ready))
			w = w->next;
		if (!w)
			return;
		w->checked = round;
		if (ev) {
			if (uevent_match_test(&w->m, ev))
				waiter_complete(l, w, ev);
			continue;
		}
		struct uevent found;
		if (uevent_scan_sysfs(l->sysroot, &w->m, &found, NULL) > 0)
			waiter_complete(l, w, &found);
	}
}

static int copy_str(const char **dst_ptr, char *dst, size_t cap, const char *src)
{
	if (!src || !*src) {
		*dst_ptr = NULL;
		return 0;
	}
	size_t n = strlen(src);
	if (n >= cap)
		return -EINVAL;
	memcpy(dst, src, n + 1);
	*dst_ptr = dst;
	return 0;
}

static int copy_match(struct uevent_waiter *w, const struct uevent_match *m)
{
	struct uevent_match *c = &w->m;
	*c = *m;
	int r = 0;
	r |= copy_str(&c->what, w->what, sizeof(w->what), m->what);
	r |= copy_str(&c->subsystem, w->subsystem, sizeof(w->subsystem), m->subsystem);
	r |= copy_str(&c->devpath, w->devpath, sizeof(w->devpath), m->devpath);
	r |= copy_str(&c->devpath_prefix, w->prefix, sizeof(w->prefix), m->devpath_prefix);
	r |= copy_str(&c->devpath_suffix, w->suffix, sizeof(w->suffix), m->devpath_suffix);
	r |= copy_str(&c->devpath_contains, w->contains, sizeof(w->contains), m->devpath_contains);
	r |= copy_str(&c->devname, w->devname, sizeof(w->devname), m->devname);
	r |= copy_str(&c->arg, w->arg, sizeof(w->arg), m->arg);
	return r ? -EINVAL : 0;
}

int uevent_wait(struct uevent_listener *l, const struct uevent_match *m, uint64_t timeout_ms,
		uevent_wait_fn fn, void *userdata, struct uevent_waiter **ret_waiter,
		agent_error_t **err)
{
	if (!fn)
		return agent_error_set(err, EINVAL, "uevent wait without a callback");
	if (l->nwaiters >= UEVENT_MAX_WAITERS)
		return agent_error_set(err, ENOSPC, "too many pending device waits (%u)",
				       l->nwaiters);
	_cleanup_free_ struct uevent_waiter *w = calloc(1, sizeof(*w));
	if (!w)
		return agent_error_set(err, ENOMEM, "out of memory");
	if (copy_match(w, m) < 0)
		return agent_error_set(err, EINVAL, "device match too long");
	uevent_match_describe(&w->m, w->desc, sizeof(w->desc));
	w->l = l;
	w->fn = fn;
	w->userdata = userdata;
	w->timeout_ms = timeout_ms;

	int r = uevent_find(l, &w->m, &w->ev, err);
	if (r < 0) {
		agent_error_wrap(err, "looking for %s", w->desc);
		return r;
	}
	w->ready = r > 0;
	uint64_t deadline = w->ready ? loop_now_ms() : loop_now_ms() + timeout_ms;
	w->timer = loop_timer_add(l->loop, deadline, on_timer, w);
	if (!w->timer)
		return agent_error_setsys(err, errno ? errno : ENOMEM, "arming device wait timer");
	w->id = l->next_id++;
	w->next = l->head;
	if (l->head)
		l->head->prev = w;
	l->head = w;
	l->nwaiters++;
	if (ret_waiter)
		*ret_waiter = w;
	w = NULL;
	return 0;
}

struct uevent_waiter *uevent_wait_cancel(struct uevent_listener *l, struct uevent_waiter *w)
{
	if (!w)
		return NULL;
	waiter_unlink(l, w);
	free(w);
	return NULL;
}

/* --- events ------------------------------------------------------------------------------- */

static void online_memory(struct uevent_listener *l, const struct uevent *ev)
{
	char path[PATH_MAX], state[8] = "";
	if (snprintf(path, sizeof(path), "%s%s/online", l->sysroot, ev->devpath) >=
	    (int)sizeof(path))
		return;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, state, sizeof(state) - 1) <= 0 || state[0] != '0')
		return;
	if (write_file(path, "1") == 0)
		l->stats.memory_onlined++;
}

int uevent_listener_process(struct uevent_listener *l, const void *buf, size_t len)
{
	struct uevent ev;
	int r = uevent_parse(buf, len, &ev, NULL);
	if (r < 0) {
		l->stats.dropped_parse++;
		return r;
	}
	l->stats.accepted++;
	if (ev.action == UEVENT_ACTION_REMOVE) {
		struct cache_entry *e = cache_lookup(l, ev.devpath);
		if (e)
			e->used = false;
	} else if (UEVENT_ACTIONS_PRESENT & UEVENT_ACTION_BIT(ev.action)) {
		cache_put(l, &ev);
	}
	if (ev.action == UEVENT_ACTION_ADD && (l->flags & UEVENT_LISTENER_ONLINE_MEMORY) &&
	    strcmp(ev.subsystem, "memory") == 0)
		online_memory(l, &ev);
	dispatch(l, &ev);
	return 0;
}

static void on_readable(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct uevent_listener *l = data;
	char buf[UEVENT_MSG_MAX + 1];
	for (int i = 0; i < READS_PER_WAKEUP; i++) {
		struct sockaddr_nl sa;
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr mh = {
			.msg_name = &sa,
			.msg_namelen = sizeof(sa),
			.msg_iov = &iov,
			.msg_iovlen = 1,
		};
		memset(&sa, 0, sizeof(sa));
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* Events were lost: whoever waits may have missed its device. */
				l->stats.overflows++;
				dispatch(l, NULL);
				continue;
			}
			return;
		}
		l->stats.received++;
		if (mh.msg_namelen != sizeof(sa) || sa.nl_family != AF_NETLINK || sa.nl_pid != 0) {
			l->stats.dropped_sender++;
			continue;
		}
		if ((mh.msg_flags & MSG_TRUNC) || (size_t)n > UEVENT_MSG_MAX) {
			l->stats.dropped_parse++;
			continue;
		}
		uevent_listener_process(l, buf, (size_t)n);
	}
}

int uevent_listener_new(struct loop *loop, const char *sysroot, unsigned flags,
			struct uevent_listener **ret, agent_error_t **err)
{
	if (!sysroot)
		sysroot = UEVENT_DEFAULT_SYSROOT;
	_cleanup_free_ struct uevent_listener *l = calloc(1, sizeof(*l));
	if (!l)
		return agent_error_set(err, ENOMEM, "out of memory");
	if (!realpath(sysroot, l->sysroot))
		return agent_error_setsys(err, errno, "sysfs root %s", sysroot);
	l->loop = loop;
	l->flags = flags;
	l->next_id = 1;

	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
					NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return agent_error_setsys(err, errno, "uevent socket");
	int sz = RCVBUF_BYTES;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return agent_error_setsys(err, errno, "binding uevent socket");
	socklen_t slen = sizeof(sa);
	if (getsockname(fd, (struct sockaddr *)&sa, &slen) < 0)
		return agent_error_setsys(err, errno, "uevent socket name");
	l->portid = sa.nl_pid;
	l->io = loop_io_add(loop, fd, EPOLLIN, on_readable, l);
	if (!l->io)
		return agent_error_setsys(err, errno, "watching uevent socket");
	l->fd = TAKE_FD(fd);
	*ret = TAKE_PTR(l);
	return 0;
}

struct uevent_listener *uevent_listener_free(struct uevent_listener *l)
{
	if (!l)
		return NULL;
	while (l->head)
		uevent_wait_cancel(l, l->head);
	if (l->io)
		loop_io_del(l->loop, l->io);
	safe_close(l->fd);
	free(l);
	return NULL;
}

unsigned uevent_listener_pending(const struct uevent_listener *l)
{
	return l->nwaiters;
}

void uevent_listener_stats(const struct uevent_listener *l, struct uevent_stats *ret)
{
	*ret = l->stats;
}

uint32_t uevent_listener_portid(const struct uevent_listener *l)
{
	return l->portid;
}
