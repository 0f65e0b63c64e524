// SPDX-License-Identifier: Apache-2.0
#include "container/sync.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

/*
 * The conversation, in order. An entry applies when the launch's shape has all
 * of `shape`; entries that do not apply are passed over. LOG entries take up
 * to their count of lines (possibly none) and are passed over by the next step.
 */
enum log_slot { LOGS_NONE, LOGS_CREATE, LOGS_START };

static const struct {
	enum sync_step step;
	enum sync_side from;
	unsigned shape;
	enum log_slot logs;
} sync_table[] = {
	{SYNC_GO, SYNC_SIDE_AGENT, 0, LOGS_NONE},
	{SYNC_USERNS, SYNC_SIDE_CHILD, SYNC_SHAPE_USERNS, LOGS_NONE},
	{SYNC_MAPS_DONE, SYNC_SIDE_AGENT, SYNC_SHAPE_USERNS, LOGS_NONE},
	{SYNC_PID, SYNC_SIDE_CHILD, SYNC_SHAPE_USERNS | SYNC_SHAPE_PID_AFTER_USER, LOGS_NONE},
	{SYNC_LOG, SYNC_SIDE_CHILD, SYNC_SHAPE_INIT, LOGS_CREATE},
	{SYNC_READY, SYNC_SIDE_CHILD, SYNC_SHAPE_INIT, LOGS_NONE},
	{SYNC_START, SYNC_SIDE_AGENT, SYNC_SHAPE_INIT, LOGS_NONE},
	{SYNC_LOG, SYNC_SIDE_CHILD, SYNC_SHAPE_INIT, LOGS_START},
};

#define SYNC_TABLE_LEN (sizeof(sync_table) / sizeof(sync_table[0]))

void sync_seq_init(struct sync_seq *s, enum sync_side side, unsigned shape, unsigned create_logs,
		   unsigned start_logs)
{
	*s = (struct sync_seq){
		.side = side,
		.shape = shape,
		.create_logs = create_logs,
		.start_logs = start_logs,
	};
}

int sync_seq_advance(struct sync_seq *s, enum sync_step step, bool sending)
{
	enum sync_side peer = s->side == SYNC_SIDE_AGENT ? SYNC_SIDE_CHILD : SYNC_SIDE_AGENT;
	enum sync_side from = sending ? s->side : peer;

	if (s->ended)
		return -EPROTO;
	if (step == SYNC_ERROR) {
		if (from != SYNC_SIDE_CHILD)
			return -EPROTO;
		s->ended = true;
		return 0;
	}
	for (unsigned i = s->pos; i < SYNC_TABLE_LEN; i++) {
		unsigned need = sync_table[i].shape;

		if ((s->shape & need) != need)
			continue;
		if (sync_table[i].logs != LOGS_NONE) {
			unsigned max =
				sync_table[i].logs == LOGS_CREATE ? s->create_logs : s->start_logs;
			unsigned used = i == s->pos ? s->logs_used : 0;

			if (step == SYNC_LOG && from == SYNC_SIDE_CHILD && used < max) {
				s->pos = i;
				s->logs_used = used + 1;
				return 0;
			}
			continue;
		}
		if (sync_table[i].step != step || sync_table[i].from != from)
			return -EPROTO;
		s->pos = i + 1;
		s->logs_used = 0;
		return 0;
	}
	return -EPROTO;
}

int sync_send_seq(int fd, struct sync_seq *s, enum sync_step step, int errnum, const char *text)
{
	struct sync_seq before = *s;
	int r = sync_seq_advance(s, step, true);

	if (r < 0)
		return r;
	r = sync_send(fd, step, errnum, text);
	if (r < 0)
		*s = before;
	return r;
}

int sync_recv_seq(int fd, struct sync_seq *s, struct sync_msg *m)
{
	int r = sync_recv(fd, m);

	if (r < 0)
		return r;
	return sync_seq_advance(s, m->step, false);
}

struct sync_wire {
	uint32_t step;
	int32_t errnum;
	int32_t status;
};

int sync_send(int fd, enum sync_step step, int errnum, const char *text)
{
	return sync_send_status(fd, step, errnum, 0, text);
}

int sync_send_status(int fd, enum sync_step step, int errnum, int status, const char *text)
{
	struct sync_wire w = {.step = step, .errnum = errnum, .status = status};
	size_t tlen = text ? strnlen(text, SYNC_TEXT_MAX - 1) : 0;
	struct iovec iov[2] = {{&w, sizeof(w)}, {(void *)text, tlen}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = tlen ? 2 : 1};
	ssize_t n;

	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(w) + tlen ? 0 : -EIO;
}

int sync_recv(int fd, struct sync_msg *m)
{
	struct sync_wire w;
	struct iovec iov[2] = {{&w, sizeof(w)}, {m->text, SYNC_TEXT_MAX - 1}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	ssize_t n;

	m->step = 0; /* "unknown" in messages when nothing whole came */
	m->errnum = 0;
	m->status = 0;
	m->text[0] = '\0';
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ECONNRESET ? -EPIPE : -errno;
	if (n == 0)
		return -EPIPE;
	if ((size_t)n < sizeof(w))
		return -EPROTO;
	m->step = w.step;
	m->errnum = w.errnum;
	m->status = w.status;
	m->text[n - sizeof(w)] = '\0';
	return 0;
}

const char *sync_step_name(uint32_t step)
{
	static const char *const names[] = {
		[SYNC_GO] = "go",	[SYNC_USERNS] = "userns", [SYNC_MAPS_DONE] = "maps-done",
		[SYNC_READY] = "ready", [SYNC_START] = "start",	  [SYNC_ERROR] = "error",
		[SYNC_LOG] = "log",	[SYNC_PID] = "pid",
	};
	return step < sizeof(names) / sizeof(names[0]) && names[step] ? names[step] : "unknown";
}
