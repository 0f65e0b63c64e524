// SPDX-License-Identifier: Apache-2.0
/*
 * kata-agent-ctl --passfd: the host side of passfd I/O (the agent's
 * agent.passfd_listener_port). One connection per stdio stream to the
 * agent's passfd port, over vsock or over a hybrid vsock unix socket
 * ("CONNECT <port>\n", answered "OK <host port>\n"); the request names each
 * by its source port, and ctl copies them to its own stdio until the
 * process's output ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"

#define PASSFD_CONNECT_TIMEOUT_MS 10000

static int parse_port(const char *s, uint32_t *ret)
{
	uint64_t v;

	if (ctl_parse_uint(s, UINT32_MAX, &v) < 0)
		return -1;
	*ret = (uint32_t)v;
	return 0;
}

/* "unix:///path:PORT" or "hvsock:///path:PORT": the path and the port after its last ':'. */
static int split_unix(const char *s, char *path, size_t size, uint32_t *port)
{
	const char *colon = strrchr(s, ':');

	if (!colon || colon - s >= (ptrdiff_t)size || parse_port(colon + 1, port) < 0)
		return -1;
	snprintf(path, size, "%.*s", (int)(colon - s), s);
	return path[0] ? 0 : -1;
}

static int connect_vsock(uint32_t cid, uint32_t port, uint32_t *src_port)
{
	struct sockaddr_vm sa = {.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		ctl_fail("--passfd: vsock socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		ctl_fail("--passfd: vsock %u:%u: %s", cid, port, strerror(errno));
		close(fd);
		return -1;
	}
	*src_port = sa.svm_port;
	return fd;
}

/* Hybrid vsock: the reply line is read byte by byte so no stream data is consumed. */
static int connect_hybrid(const char *path, uint32_t port, uint32_t *src_port)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char line[64], reply[64];
	size_t got = 0;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		ctl_fail("--passfd: socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ctl_fail("--passfd: %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (write(fd, line, (size_t)n) != n)
		goto proto;
	while (got < sizeof(reply) - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, PASSFD_CONNECT_TIMEOUT_MS) <= 0 || read(fd, reply + got, 1) != 1)
			goto proto;
		if (reply[got++] == '\n')
			break;
	}
	reply[got] = '\0';
	if (got < 5 || strncmp(reply, "OK ", 3) != 0 || reply[got - 1] != '\n')
		goto proto;
	reply[got - 1] = '\0';
	if (parse_port(reply + 3, src_port) < 0)
		goto proto;
	return fd;
proto:
	ctl_fail("--passfd: %s: the hybrid vsock handshake for port %u failed", path, port);
	close(fd);
	return -1;
}

int ctl_passfd_ports(const char *arg, struct ctl_passfd *pf)
{
	char a[3][16];

	if (sscanf(arg, "%15[0-9]:%15[0-9]:%15[0-9]", a[0], a[1], a[2]) != 3)
		return ctl_usage_error("--passfd-ports", "want IN:OUT:ERR source ports, got '%s'",
				       arg);
	for (int i = 0; i < 3; i++)
		if (parse_port(a[i], &pf->ports[i]) < 0)
			return ctl_usage_error("--passfd-ports", "invalid port '%s'", a[i]);
	return CTL_OK;
}

int ctl_passfd_open(const struct ctl *ctl, const char *arg, bool with_stderr, struct ctl_passfd *pf)
{
	char path[256];
	uint32_t cid = 0, port = 0, agent_port;
	bool hybrid;

	if (strncmp(arg, "vsock://", 8) == 0) {
		hybrid = false;
		if (sscanf(arg + 8, "%u:%u", &cid, &port) != 2)
			return ctl_usage_error("--passfd", "want vsock://CID:PORT, got '%s'", arg);
	} else if (strncmp(arg, "unix://", 7) == 0 || strncmp(arg, "hvsock://", 9) == 0) {
		hybrid = true;
		if (split_unix(strstr(arg, "://") + 3, path, sizeof(path), &port) < 0)
			return ctl_usage_error("--passfd", "want unix:///PATH:PORT, got '%s'", arg);
	} else if (parse_port(arg, &port) == 0) {
		/* A port alone: on the agent's own vsock CID or hybrid vsock socket. */
		if (strncmp(ctl->addr, "vsock://", 8) == 0 &&
		    sscanf(ctl->addr + 8, "%u:%u", &cid, &agent_port) == 2)
			hybrid = false;
		else if (strncmp(ctl->addr, "hvsock://", 9) == 0 &&
			 split_unix(ctl->addr + 9, path, sizeof(path), &agent_port) == 0)
			hybrid = true;
		else
			return ctl_usage_error("--passfd",
					       "a bare PORT needs a vsock:// or hvsock:// --addr; "
					       "give vsock://CID:PORT or unix:///PATH:PORT");
	} else {
		return ctl_usage_error("--passfd",
				       "want PORT, vsock://CID:PORT or "
				       "unix:///PATH:PORT, got '%s'",
				       arg);
	}
	if (port == 0)
		return ctl_usage_error("--passfd", "port 0 is not a passfd port");
	for (int i = 0; i < 3; i++) {
		if (i == 2 && !with_stderr)
			break;
		pf->fds[i] = hybrid ? connect_hybrid(path, port, &pf->ports[i])
				    : connect_vsock(cid, port, &pf->ports[i]);
		if (pf->fds[i] < 0)
			return CTL_FAILED;
	}
	return CTL_OK;
}

void ctl_passfd_release(struct ctl_passfd *pf)
{
	for (int i = 0; i < 3; i++) {
		if (pf->fds[i] >= 0)
			close(pf->fds[i]);
		pf->fds[i] = -1;
	}
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int ctl_passfd_copy(struct ctl_passfd *pf)
{
	static char buf[65536];
	/* [0]: our stdin -> the stdin stream; [1], [2]: the streams -> our stdout, stderr. */
	int src[3] = {pf->fds[0] >= 0 ? 0 : -1, pf->fds[1], pf->fds[2]};
	int dst[3] = {pf->fds[0], 1, 2};

	for (;;) {
		struct pollfd p[3];
		int n = 0, idx[3];

		for (int i = 0; i < 3; i++) {
			if (src[i] < 0)
				continue;
			p[n] = (struct pollfd){.fd = src[i], .events = POLLIN};
			idx[n++] = i;
		}
		if (src[1] < 0 && src[2] < 0)
			return CTL_OK; /* the output ended: stdin has no reader any more */
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return ctl_fail("--passfd: poll: %s", strerror(errno));
		}
		for (int k = 0; k < n; k++) {
			int i = idx[k];
			if (!p[k].revents)
				continue;
			ssize_t r = read(src[i], buf, sizeof(buf));
			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (r > 0 && write_all(dst[i], buf, (size_t)r) == 0)
				continue;
			/* EOF or an error: the stream ends; stdin's end is told with a shutdown. */
			if (i == 0)
				shutdown(dst[0], SHUT_WR);
			src[i] = -1;
		}
	}
}
