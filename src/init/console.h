/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The debug console (agent.debug_console): a shell for whoever debugs the
 * guest. On /dev/console it is restarted whenever it exits. On a listening
 * socket (agent.debug_console_vport) each connection, one at a time, gets a
 * shell on a new pty, relayed from the loop without blocking; the next
 * connection is taken when the session ends.
 */
#ifndef AGENT_INIT_CONSOLE_H
#define AGENT_INIT_CONSOLE_H

#include "base/error.h"
#include "loop/loop.h"
#include "loop/reaper.h"

struct debug_console;

/* The first of devkit-sh, bash, sh that exists, or NULL. */
const char *debug_console_shell(void);

/* A shell on `tty_path` (normally /dev/console), restarted when it exits. */
int debug_console_start_tty(struct loop *l, struct reaper *r, const char *tty_path,
			    struct debug_console **ret, agent_error_t **err);
/* Sessions on listen_fd (a listening socket; the console owns it from now on). */
int debug_console_start_listener(struct loop *l, struct reaper *r, int listen_fd,
				 struct debug_console **ret, agent_error_t **err);
/* Ends every session (the shells are killed). Accepts NULL. */
struct debug_console *debug_console_stop(struct debug_console *c);

#endif
