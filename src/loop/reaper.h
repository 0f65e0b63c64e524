/* SPDX-License-Identifier: Apache-2.0 */
/*
 * THE child reaper: the only code in the agent that waits for any child (the
 * blocking one-child wait of loop/fork.c aside, used where there is no loop).
 * On SIGCHLD it drains waitpid(-1, WNOHANG | __WALL) and routes each exit to
 * whoever watches that pid.
 *
 * A child forked through loop_fork() (loop/fork.h) is claimed at fork time:
 * its exit is held for the watcher to come and goes to no one else, and any
 * exit the cache still had for a previous process with the same pid is dropped.
 * Exits of processes nobody claimed (orphans re-parented to the agent, the
 * grandchild init of a container in a new user+pid namespace) go to a cache
 * bounded in count (REAPER_CACHE_MAX) and in age (cache_ttl_ms), so a watcher
 * registered late still learns the status; reaper_watch_since() ignores the
 * entries reaped before a generation, so a recycled pid never gets a stale exit.
 * While a pid is claimed or watched, reaper_kill() signals it through its
 * pidfd; once it exited it says ESRCH, never hitting a recycled pid.
 */
#ifndef AGENT_LOOP_REAPER_H
#define AGENT_LOOP_REAPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* status is the raw wait status. */
typedef void (*reaper_fn)(pid_t pid, int status, void *data);

#define REAPER_CACHE_MAX 256
#define REAPER_CACHE_TTL_MS (60 * 1000)

struct reaper_watch {
	pid_t pid;
	int pidfd; /* owned; -1 when none */
	reaper_fn fn; /* NULL: claimed at fork time, no watcher yet */
	void *data;
	bool exited; /* claimed and exited: status is held for the watcher */
	int status;
};

struct reaper_exit {
	pid_t pid;
	int status;
	uint64_t gen; /* reaper generation when reaped */
	uint64_t at_ms; /* CLOCK_MONOTONIC when reaped */
};

struct reaper {
	struct reaper_watch *watches;
	size_t n_watches, cap_watches;
	struct reaper_exit cache[REAPER_CACHE_MAX]; /* ring of unclaimed exits, oldest first */
	size_t cache_head, cache_len;
	uint64_t cache_ttl_ms; /* unclaimed exits older than this are dropped */
	uint64_t gen; /* +1 per exit reaped */
	unsigned long reaped_total;
	unsigned long orphans_total;
};

void reaper_init(struct reaper *r);
/* Closes the pidfds it holds; routes nothing more. */
void reaper_release(struct reaper *r);

/*
 * Claims pid, a child just forked (loop_fork does it): its exit is held until a
 * watcher comes. Takes pidfd (may be -1) in every case. Drops cached exits of pid.
 */
int reaper_claim(struct reaper *r, pid_t pid, int pidfd);
/*
 * Routes the exit of pid to fn. If pid already exited (held for a claim, or
 * cached unclaimed), fn runs now (before this returns) and 1 is returned;
 * otherwise 0, or -errno (-EEXIST when someone already watches it).
 */
int reaper_watch(struct reaper *r, pid_t pid, reaper_fn fn, void *data);
/*
 * The same, for a pid that was not forked by loop_fork (a grandchild), known
 * to be alive at generation gen (reaper_generation() taken before the process
 * could exist): cached exits of that pid reaped at or before gen are stale.
 */
int reaper_watch_since(struct reaper *r, pid_t pid, uint64_t gen, reaper_fn fn, void *data);
uint64_t reaper_generation(const struct reaper *r);
/* Forgets the watch or claim; a later exit of pid goes to the cache. */
void reaper_unwatch(struct reaper *r, pid_t pid);
/*
 * Sends sig to a claimed or watched pid that has not exited, through its pidfd
 * when there is one. -ESRCH when the pid is not (or no longer) one of those.
 */
int reaper_kill(struct reaper *r, pid_t pid, int sig);
/* Drains every exited child. Returns how many were reaped. */
unsigned reaper_reap(struct reaper *r);

/* Exit code as the runtime expects: WEXITSTATUS, or 128 + signal number. */
int reaper_exit_code(int status);

/* pidfd_send_signal(pidfd, sig); -errno on failure (-ENOSYS on kernels before 5.1). */
int pidfd_signal(int pidfd, int sig);

#endif
