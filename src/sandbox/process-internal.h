/* SPDX-License-Identifier: Apache-2.0 */
/* What container.c and process.c share about processes (not for the RPC layer). */
#ifndef AGENT_SANDBOX_PROCESS_INTERNAL_H
#define AGENT_SANDBOX_PROCESS_INTERNAL_H

#include "sandbox/container.h"

struct process *process_new(struct container *c, const char *exec_id, bool init, bool tty);
void process_link(struct container *c, struct process *p);
/* Frees a process that was unlinked (or never linked). */
void process_destroy(struct process *p);
/* Unlinks and frees now (not from inside one of its callbacks). */
void process_discard(struct process *p);
/*
 * Pipes or a pty; child[] gets the container's ends (close them after the fork).
 * passfd: the process's passfd streams (sandbox/passfd.h), taken (set to -1), or NULL.
 */
int process_stdio_new(struct process *p, struct loop *loop, int32_t pipe_size, int passfd[3],
		      int child[3], agent_error_t **err);
void process_stdio_child_close(int child[3]);
/*
 * The process is pid, and pidfd (borrowed from its launch, -1: none) refers to it:
 * a duplicate is kept, any earlier one closed.
 */
void process_set_pid(struct process *p, pid_t pid, int pidfd);
/*
 * Sends sig through the process's pidfd: 0 also when it exited already (a
 * no-op, never a recycled pid); -errno otherwise. Without a pidfd (kernels
 * before 5.3) kill(), only while THE reaper has not seen it exit.
 */
int process_signal(struct process *p, int sig);
/* THE reaper's callback for container processes. */
void process_on_exit(pid_t pid, int status, void *data);
/*
 * Takes p's launch away from p, then frees it (kill: SIGKILL the child); a
 * step it still owed is completed with -ECANCELED from inside this call, when
 * p->launch is NULL already: that is how the step's owner tells it was dropped.
 */
void process_launch_drop(struct process *p, bool kill);
/* The container's side of its init's exit (container.c). */
void container_on_init_exit(struct container *c);

#endif
