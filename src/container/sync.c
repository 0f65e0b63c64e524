// SPDX-License-Identifier: Apache-2.0
#include "container/sync.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

struct sync_wire {
	uint32_t step;
	int32_t errnum;
};

int sync_send(int fd, enum sync_step step, int errnum, const char *text)
{
	struct sync_wire w = {.step = step, .errnum = errnum};
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
	m->text[n - sizeof(w)] = '\0';
	return 0;
}

int sync_expect(int fd, enum sync_step step, struct sync_msg *m)
{
	int r = sync_recv(fd, m);

	if (r < 0)
		return r;
	return m->step == step ? 0 : -EPROTO;
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
