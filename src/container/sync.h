/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The set-up conversation between the agent and a container child, over a
 * SOCK_SEQPACKET socketpair: numbered steps in an order fixed by one table
 * (sync.c) that both sides walk, each message sent or received advancing a
 * cursor (struct sync_seq): a step out of order, repeated, or from the wrong
 * side fails the launch with EPROTO. One message per packet: a header and
 * optional text (an error message or a log line).
 */
#ifndef AGENT_CONTAINER_SYNC_H
#define AGENT_CONTAINER_SYNC_H

#include <stdbool.h>
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
	int32_t status; /* SYNC_ERROR: the google.rpc status the child chose, 0 for none */
	char text[SYNC_TEXT_MAX];
};

enum sync_side { SYNC_SIDE_AGENT, SYNC_SIDE_CHILD };

/* The shape of a launch, which selects the table's optional steps. */
#define SYNC_SHAPE_INIT 0x1u /* a container init: parked (READY, START) */
#define SYNC_SHAPE_USERNS 0x2u /* the child makes a user namespace (USERNS, MAPS_DONE) */
#define SYNC_SHAPE_PID_AFTER_USER 0x4u /* then a pid namespace and the init's pid (PID) */

struct sync_seq {
	enum sync_side side; /* who walks this cursor */
	unsigned shape;
	unsigned pos; /* the next table entry */
	unsigned logs_used; /* LOG lines taken at pos */
	unsigned create_logs, start_logs; /* LOG lines allowed: one per hook that may fail */
	bool ended; /* after SYNC_ERROR nothing more is valid */
};

/*
 * A cursor at the start of the conversation. create_logs/start_logs: how many
 * LOG lines may come while the init is set up (createContainer hooks) and once
 * it is started (startContainer hooks).
 */
void sync_seq_init(struct sync_seq *s, enum sync_side side, unsigned shape, unsigned create_logs,
		   unsigned start_logs);
/*
 * Takes step as the next message, sent by this side (sending) or received from
 * the other one: 0, or -EPROTO when the table does not allow it here (the
 * cursor is then unchanged). SYNC_ERROR from the child is allowed anywhere
 * before the end and ends the conversation.
 */
int sync_seq_advance(struct sync_seq *s, enum sync_step step, bool sending);
/* sync_send after sync_seq_advance; -EPROTO (nothing sent) when out of order. */
int sync_send_seq(int fd, struct sync_seq *s, enum sync_step step, int errnum, const char *text);
/* sync_recv, then the step checked against the table: -EPROTO (m filled) when out of order. */
int sync_recv_seq(int fd, struct sync_seq *s, struct sync_msg *m);

/* Sends one message; text may be NULL. Returns 0 or -errno. */
int sync_send(int fd, enum sync_step step, int errnum, const char *text);
/* The same with a status (SYNC_ERROR from the child: how the agent should report it). */
int sync_send_status(int fd, enum sync_step step, int errnum, int status, const char *text);
/* Receives one message; -EPIPE on end of stream (peer gone or exec'd). */
int sync_recv(int fd, struct sync_msg *m);
const char *sync_step_name(uint32_t step);

#endif
