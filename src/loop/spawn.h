/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helper processes (iptables-save/restore, mkfs, a forked function) run without
 * blocking the loop: input is written and output read through the loop, the exit
 * comes from THE reaper, and a deadline kills the helper. Output is bounded.
 */
#ifndef AGENT_LOOP_SPAWN_H
#define AGENT_LOOP_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "loop/loop.h"
#include "loop/reaper.h"

struct spawn_result {
	int status; /* raw wait status */
	char *out; /* stdout, NUL-terminated */
	size_t out_len;
	char *err; /* stderr, NUL-terminated */
	size_t err_len;
	bool timed_out; /* killed at the deadline */
	bool truncated; /* output beyond the bound was discarded */
};

typedef void (*spawn_done_fn)(const struct spawn_result *res, void *data);

struct spawn_job;

/*
 * Starts argv[0] (an absolute path) with input on its stdin. done runs once, from the
 * loop, when the helper has exited and its output is drained (or the deadline passed).
 */
int spawn_run(struct loop *l, struct reaper *r, char *const argv[], const void *input,
	      size_t in_len, uint64_t timeout_ms, size_t max_out, spawn_done_fn done, void *data,
	      struct spawn_job **ret_job, agent_error_t **err);
/*
 * Same, with fn(arg) run in the forked child instead of a program (work that
 * may block, kept off the loop): the child exits 0 when fn returns 0, else 1,
 * and what fn writes to stdout/stderr comes back in the result. The child is a
 * copy of the agent: fn must not touch the loop.
 */
typedef int (*spawn_call_fn)(void *arg);
int spawn_call(struct loop *l, struct reaper *r, const char *name, spawn_call_fn fn, void *arg,
	       uint64_t timeout_ms, size_t max_out, spawn_done_fn done, void *data,
	       struct spawn_job **ret_job, agent_error_t **err);

/* The first executable `name` in /usr/sbin, /sbin, /usr/bin, /bin, into path; false if none. */
bool spawn_find_tool(const char *name, char *path, size_t size);
/* The caller no longer wants the result: the helper is killed, done is never called. */
void spawn_abandon(struct spawn_job *job);

#endif
