/* SPDX-License-Identifier: Apache-2.0 */
#include "reaper.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/macro.h"
#include "loop/loop.h"

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

void reaper_init(struct reaper *r)
{
	memset(r, 0, sizeof(*r));
	r->cache_ttl_ms = REAPER_CACHE_TTL_MS;
}

void reaper_release(struct reaper *r)
{
	for (size_t i = 0; i < r->n_watches; i++)
		safe_close(r->watches[i].pidfd);
	free(r->watches);
	reaper_init(r);
}

int reaper_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

int pidfd_signal(int pidfd, int sig)
{
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		return -errno;
	return 0;
}

uint64_t reaper_generation(const struct reaper *r)
{
	return r->gen;
}

static struct reaper_exit *cache_at(struct reaper *r, size_t i)
{
	return &r->cache[(r->cache_head + i) % REAPER_CACHE_MAX];
}

static void cache_remove(struct reaper *r, size_t i)
{
	/* Close the gap, keeping order. */
	for (size_t j = i; j + 1 < r->cache_len; j++)
		*cache_at(r, j) = *cache_at(r, j + 1);
	r->cache_len--;
}

/* Entries are in reaping order: the expired ones are at the head. */
static void cache_expire(struct reaper *r)
{
	uint64_t now = loop_now_ms();

	while (r->cache_len && now - cache_at(r, 0)->at_ms >= r->cache_ttl_ms) {
		r->cache_head = (r->cache_head + 1) % REAPER_CACHE_MAX;
		r->cache_len--;
	}
}

/* Drops every cached exit of pid (all stale: a live process has that pid now). */
static void cache_drop(struct reaper *r, pid_t pid)
{
	for (size_t i = r->cache_len; i-- > 0;)
		if (cache_at(r, i)->pid == pid)
			cache_remove(r, i);
}

/*
 * The newest cached exit of pid reaped after gen; older ones of that pid are
 * stale (the pid was freed and given again) and dropped with it.
 */
static bool cache_take(struct reaper *r, pid_t pid, uint64_t gen, int *ret_status)
{
	bool found = false;

	cache_expire(r);
	for (size_t i = r->cache_len; i-- > 0;) {
		struct reaper_exit *e = cache_at(r, i);
		if (e->pid != pid)
			continue;
		if (!found && e->gen > gen) {
			*ret_status = e->status;
			found = true;
		}
		cache_remove(r, i);
	}
	return found;
}

static void cache_put(struct reaper *r, pid_t pid, int status)
{
	cache_expire(r);
	if (r->cache_len == REAPER_CACHE_MAX) {
		/* Oldest unclaimed exit is most likely an orphan nobody will ask about. */
		r->cache_head = (r->cache_head + 1) % REAPER_CACHE_MAX;
		r->cache_len--;
	}
	*cache_at(r, r->cache_len) = (struct reaper_exit){
		.pid = pid,
		.status = status,
		.gen = r->gen,
		.at_ms = loop_now_ms(),
	};
	r->cache_len++;
}

static struct reaper_watch *find(struct reaper *r, pid_t pid)
{
	for (size_t i = 0; i < r->n_watches; i++)
		if (r->watches[i].pid == pid)
			return &r->watches[i];
	return NULL;
}

static void remove_watch(struct reaper *r, struct reaper_watch *w)
{
	safe_close(w->pidfd);
	*w = r->watches[--r->n_watches];
}

static int add_watch(struct reaper *r, const struct reaper_watch *w)
{
	if (r->n_watches == r->cap_watches) {
		size_t cap = r->cap_watches ? r->cap_watches * 2 : 16;
		struct reaper_watch *nw = realloc(r->watches, cap * sizeof(*nw));
		if (!nw)
			return -ENOMEM;
		r->watches = nw;
		r->cap_watches = cap;
	}
	r->watches[r->n_watches++] = *w;
	return 0;
}

int reaper_claim(struct reaper *r, pid_t pid, int pidfd)
{
	if (pid <= 0 || find(r, pid)) {
		safe_close(pidfd);
		return pid <= 0 ? -EINVAL : -EEXIST;
	}
	cache_drop(r, pid);
	int rc = add_watch(r, &(struct reaper_watch){.pid = pid, .pidfd = pidfd});
	if (rc < 0)
		safe_close(pidfd);
	return rc;
}

int reaper_watch_since(struct reaper *r, pid_t pid, uint64_t gen, reaper_fn fn, void *data)
{
	struct reaper_watch *w;
	int status = 0; /* set on both paths that use it; -Os cannot tell */

	if (pid <= 0 || !fn)
		return -EINVAL;
	w = find(r, pid);
	if (w && w->fn)
		return -EEXIST;
	if (w && w->exited) {
		status = w->status;
		remove_watch(r, w);
		fn(pid, status, data);
		return 1;
	}
	if (w) {
		w->fn = fn;
		w->data = data;
		return 0;
	}
	/*
	 * Our child, not reaped yet (running, or exited with the exit pending): any
	 * cached exit of that pid belonged to an earlier process.
	 */
	siginfo_t si = {0};
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0)
		cache_drop(r, pid);
	else if (cache_take(r, pid, gen, &status)) {
		fn(pid, status, data);
		return 1;
	}
	return add_watch(r,
			 &(struct reaper_watch){.pid = pid, .pidfd = -1, .fn = fn, .data = data});
}

int reaper_watch(struct reaper *r, pid_t pid, reaper_fn fn, void *data)
{
	return reaper_watch_since(r, pid, 0, fn, data);
}

void reaper_unwatch(struct reaper *r, pid_t pid)
{
	struct reaper_watch *w = find(r, pid);

	if (w)
		remove_watch(r, w);
}

int reaper_kill(struct reaper *r, pid_t pid, int sig)
{
	struct reaper_watch *w = find(r, pid);

	if (!w || w->exited)
		return -ESRCH;
	if (w->pidfd >= 0) {
		int rc = pidfd_signal(w->pidfd, sig);
		if (rc != -ENOSYS)
			return rc;
	}
	/* Not reaped yet, and only THE reaper reaps: the pid is still that process. */
	return kill(pid, sig) < 0 ? -errno : 0;
}

unsigned reaper_reap(struct reaper *r)
{
	unsigned n = 0;
	for (;;) {
		int status = 0;
		pid_t pid = waitpid(-1, &status, WNOHANG | __WALL);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		if (!WIFEXITED(status) && !WIFSIGNALED(status))
			continue; /* stopped/continued: not an exit */
		n++;
		r->reaped_total++;
		r->gen++;
		struct reaper_watch *w = find(r, pid);
		if (w && !w->fn) {
			/* Claimed, no watcher yet: hold it; the pidfd has no more use. */
			w->exited = true;
			w->status = status;
			w->pidfd = safe_close(w->pidfd);
		} else if (w) {
			struct reaper_watch copy = *w;
			remove_watch(r, w);
			copy.fn(pid, status, copy.data);
		} else {
			r->orphans_total++;
			cache_put(r, pid, status);
		}
	}
	return n;
}
