/* SPDX-License-Identifier: Apache-2.0 */
/*
 * THE child reaper: the only code in the agent that calls waitpid(). On
 * SIGCHLD it drains waitpid(-1, WNOHANG | __WALL) and routes each exit to
 * whoever watches that pid. Exits nobody watched yet are kept in a bounded
 * cache, so a watcher registered late still learns the status at once.
 * Orphans re-parented to the agent (PID 1 or subreaper) are reaped the same way.
 */
#ifndef AGENT_LOOP_REAPER_H
#define AGENT_LOOP_REAPER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* status is the raw wait status. */
typedef void (*reaper_fn)(pid_t pid, int status, void *data);

#define REAPER_CACHE_MAX 256

struct reaper_watch {
	pid_t pid;
	reaper_fn fn;
	void *data;
};

struct reaper_exit {
	pid_t pid;
	int status;
};

struct reaper {
	struct reaper_watch *watches;
	size_t n_watches, cap_watches;
	struct reaper_exit cache[REAPER_CACHE_MAX]; /* ring of unclaimed exits */
	size_t cache_head, cache_len;
	unsigned long reaped_total;
	unsigned long orphans_total;
};

void reaper_init(struct reaper *r);
void reaper_release(struct reaper *r);
/*
 * Routes the exit of pid to fn. If pid already exited unclaimed, fn runs now
 * (before this returns) and 1 is returned; otherwise 0, or -errno.
 */
int reaper_watch(struct reaper *r, pid_t pid, reaper_fn fn, void *data);
void reaper_unwatch(struct reaper *r, pid_t pid);
/* Drains every exited child. Returns how many were reaped. */
unsigned reaper_reap(struct reaper *r);

/* Exit code as the runtime expects: WEXITSTATUS, or 128 + signal number. */
int reaper_exit_code(int status);

#endif
