/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The set-up conversation between the agent and a container child, over a
 * SOCK_SEQPACKET socketpair: numbered steps, each side checks that it got the
 * step it expected. One message per packet: a header and optional text (an
 * error message or a log line).
 */
#ifndef AGENT_CONTAINER_SYNC_H
#define AGENT_CONTAINER_SYNC_H

#include <stdint.h>

enum sync_step {
	SYNC_GO = 1, /* agent -> child: placed in the cgroup, go on */
	SYNC_USERNS = 2, /* child -> agent: user namespace made, write the id maps */
	SYNC_MAPS_DONE = 3, /* agent -> child: maps written */
	SYNC_READY = 4, /* child -> agent: init is set up and parked */
	SYNC_START = 5, /* agent -> child: StartContainer, exec now */
	SYNC_ERROR = 6, /* child -> agent: set-up failed (errnum + text); the child exits */
	SYNC_LOG = 7, /* child -> agent: a log line */
	SYNC_PID = 8, /* child -> agent: the init is this pid (errnum); the child exits */
};

#define SYNC_TEXT_MAX 2048

struct sync_msg {
	uint32_t step;
	int32_t errnum; /* positive errno for SYNC_ERROR */
	char text[SYNC_TEXT_MAX];
};

/* Sends one message; text may be NULL. Returns 0 or -errno. */
int sync_send(int fd, enum sync_step step, int errnum, const char *text);
/* Receives one message; -EPIPE on end of stream (peer gone or exec'd). */
int sync_recv(int fd, struct sync_msg *m);
/* Receives and checks the step; an SYNC_ERROR or another step gives -EPROTO (m filled). */
int sync_expect(int fd, enum sync_step step, struct sync_msg *m);
const char *sync_step_name(uint32_t step);

#endif
