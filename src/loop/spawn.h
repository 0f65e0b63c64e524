/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helper processes (iptables-save/restore, mkfs, OCI hooks, a forked function)
 * run without blocking the loop: input is written and output read through the
 * loop, the exit comes from THE reaper, and a deadline kills the helper. Output
 * is bounded. Every child is forked through loop_fork (loop/fork.h): it keeps
 * only its stdin/stdout/stderr, with default signal handling.
 *
 * spawn_exec_sync() is the blocking form, for where there is no loop (the
 * container's set-up child): it waits for its own child only.
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
	int exec_errno; /* the exec itself failed with this errno (status is then exit 127) */
};

/* A program to run. */
struct spawn_cmd {
	const char *path; /* absolute */
	char *const *argv;
	char *const *envp; /* NULL: the agent's own environment */
	bool discard_output; /* stdout and stderr to /dev/null instead of collected */
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
/* The same with a full command: its own environment, its output discarded if asked. */
int spawn_exec(struct loop *l, struct reaper *r, const struct spawn_cmd *cmd, const void *input,
	       size_t in_len, uint64_t timeout_ms, size_t max_out, spawn_done_fn done, void *data,
	       struct spawn_job **ret_job, agent_error_t **err);
/*
 * Blocking: runs cmd (its output is always discarded) with input on its stdin,
 * waits for it (only it: no other child is reaped) and kills it at the deadline
 * (0 = none). 0 with *res filled (out/err empty), or -errno when it could not start.
 */
int spawn_exec_sync(const struct spawn_cmd *cmd, const void *input, size_t in_len,
		    uint64_t timeout_ms, struct spawn_result *res, agent_error_t **err);
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
