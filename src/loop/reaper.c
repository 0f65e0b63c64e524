/* SPDX-License-Identifier: Apache-2.0 */
#include "reaper.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

void reaper_init(struct reaper *r)
{
	memset(r, 0, sizeof(*r));
}

void reaper_release(struct reaper *r)
{
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

static bool cache_take(struct reaper *r, pid_t pid, int *ret_status)
{
	for (size_t i = 0; i < r->cache_len; i++) {
		size_t idx = (r->cache_head + i) % REAPER_CACHE_MAX;
		if (r->cache[idx].pid != pid)
			continue;
		*ret_status = r->cache[idx].status;
		/* Close the gap, keeping order. */
		for (size_t j = i; j + 1 < r->cache_len; j++) {
			size_t a = (r->cache_head + j) % REAPER_CACHE_MAX;
			size_t b = (r->cache_head + j + 1) % REAPER_CACHE_MAX;
			r->cache[a] = r->cache[b];
		}
		r->cache_len--;
		return true;
	}
	return false;
}

static void cache_put(struct reaper *r, pid_t pid, int status)
{
	if (r->cache_len == REAPER_CACHE_MAX) {
		/* Oldest unclaimed exit is most likely an orphan nobody will ask about. */
		r->cache_head = (r->cache_head + 1) % REAPER_CACHE_MAX;
		r->cache_len--;
	}
	size_t idx = (r->cache_head + r->cache_len) % REAPER_CACHE_MAX;
	r->cache[idx].pid = pid;
	r->cache[idx].status = status;
	r->cache_len++;
}

int reaper_watch(struct reaper *r, pid_t pid, reaper_fn fn, void *data)
{
	int status;

	if (pid <= 0 || !fn)
		return -EINVAL;
	if (cache_take(r, pid, &status)) {
		fn(pid, status, data);
		return 1;
	}
	for (size_t i = 0; i < r->n_watches; i++)
		if (r->watches[i].pid == pid)
			return -EEXIST;
	if (r->n_watches == r->cap_watches) {
		size_t cap = r->cap_watches ? r->cap_watches * 2 : 16;
		struct reaper_watch *w = realloc(r->watches, cap * sizeof(*w));
		if (!w)
			return -ENOMEM;
		r->watches = w;
		r->cap_watches = cap;
	}
	r->watches[r->n_watches++] = (struct reaper_watch){pid, fn, data};
	return 0;
}

void reaper_unwatch(struct reaper *r, pid_t pid)
{
	for (size_t i = 0; i < r->n_watches; i++) {
		if (r->watches[i].pid == pid) {
			r->watches[i] = r->watches[--r->n_watches];
			return;
		}
	}
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
		bool routed = false;
		for (size_t i = 0; i < r->n_watches; i++) {
			if (r->watches[i].pid != pid)
				continue;
			struct reaper_watch w = r->watches[i];
			r->watches[i] = r->watches[--r->n_watches];
			w.fn(pid, status, w.data);
			routed = true;
			break;
		}
		if (!routed) {
			r->orphans_total++;
			cache_put(r, pid, status);
		}
	}
	return n;
}
