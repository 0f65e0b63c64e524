/* SPDX-License-Identifier: Apache-2.0 */
/* The child side of a spawn, shared by loop/spawn.c and loop/spawn-sync.c (internal to loop/). */
#ifndef AGENT_LOOP_SPAWN_CHILD_H
#define AGENT_LOOP_SPAWN_CHILD_H

#include <stdint.h>

#include "base/error.h"
#include "loop/reaper.h"
#include "loop/spawn.h"

/* What the child runs: cmd exec'd, or fn(arg) whose result is the exit status. */
struct spawn_what {
	const struct spawn_cmd *cmd;
	spawn_call_fn fn;
	void *arg;
	const char *name;
};

/* The parent's ends of the pipes; -1 for one the helper does not have. */
struct spawn_ends {
	int in; /* write end of the child's stdin */
	int out, err; /* read ends of its stdout and stderr */
	int report; /* read end: the errno of a failed exec, or EOF */
	pid_t pid;
	int pidfd; /* only without a reaper (blocking use); -1 otherwise or without pidfds */
};

/*
 * Makes the pipes and forks through loop_fork (claimed by r when not NULL). The
 * child gets stdin from the pipe, stdout/stderr to pipes or /dev/null, and runs w.
 */
int spawn_child_start(struct reaper *r, const struct spawn_what *w, struct spawn_ends *ends,
		      agent_error_t **err);
void spawn_ends_close(struct spawn_ends *ends);
/* After the exit: the errno the child reported for its exec, or 0. Closes the report fd. */
int spawn_exec_errno(struct spawn_ends *ends);

#endif
