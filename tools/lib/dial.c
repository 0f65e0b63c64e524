/* SPDX-License-Identifier: Apache-2.0 */
/* ttrpc_dial(): agent addresses on the host side, with retries while the agent starts. */
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "io-util.h"
#include "ttrpc-client.h"

#define RETRY_INTERVAL_MS 50
#define MIN_ATTEMPT_MS 1000
#define HANDSHAKE_MAX_LINE 128

enum dial_kind {
	DIAL_UNIX,
	DIAL_VSOCK,
	DIAL_HVSOCK,
	DIAL_SERIAL,
};

struct dial_addr {
	enum dial_kind kind;
	union {
		struct sockaddr sa;
		struct sockaddr_un un;
		struct sockaddr_vm vm;
	} sa;
	socklen_t salen;
	uint32_t hv_port; /* hvsock: the guest port named in CONNECT */
};

static int parse_u32(const char *s, size_t n, uint32_t *ret)
{
	uint64_t v = 0;
	if (n == 0 || n > 10)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

static int set_unix_path(struct dial_addr *a, const char *path, size_t len, bool abstract)
{
	size_t room = sizeof(a->sa.un.sun_path) - (abstract ? 1 : 0);
	if (len == 0 || len >= room)
		return -EINVAL;
	a->sa.un.sun_family = AF_UNIX;
	memcpy(a->sa.un.sun_path + (abstract ? 1 : 0), path, len);
	/* A path counts its NUL, an abstract name its leading NUL: the same length either way. */
	a->salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	return 0;
}

static int parse_addr(const char *s, struct dial_addr *a, agent_error_t **err)
{
	memset(a, 0, sizeof(*a));
	if (!s || !*s)
		return agent_error_set(err, EINVAL, "empty agent address");

	if (strncmp(s, "unix://", 7) == 0 || strncmp(s, "serial://", 9) == 0) {
		bool serial = s[0] == 's';
		const char *p = s + (serial ? 9 : 7);
		bool abstract = !serial && *p == '@';
		a->kind = serial ? DIAL_SERIAL : DIAL_UNIX;
		if (abstract)
			p++;
		else if (*p != '/')
			return agent_error_set(err, EINVAL, "socket path in %s must be absolute",
					       s);
		if (set_unix_path(a, p, strlen(p), abstract) < 0)
			return agent_error_set(err, EINVAL, "bad socket path length in %s", s);
		return 0;
	}
	if (strncmp(s, "hvsock://", 9) == 0) {
		const char *p = s + 9;
		const char *colon = strrchr(p, ':');
		if (*p != '/' || !colon)
			return agent_error_set(err, EINVAL, "invalid address %s: %s", s,
					       "want hvsock:///path/to/socket:PORT");
		if (parse_u32(colon + 1, strlen(colon + 1), &a->hv_port) < 0)
			return agent_error_set(err, EINVAL, "invalid port in %s", s);
		a->kind = DIAL_HVSOCK;
		if (set_unix_path(a, p, (size_t)(colon - p), false) < 0)
			return agent_error_set(err, EINVAL, "bad socket path length in %s", s);
		return 0;
	}
	if (strncmp(s, "vsock://", 8) == 0) {
		const char *p = s + 8;
		const char *colon = strchr(p, ':');
		uint32_t cid, port;
		if (!colon || strchr(colon + 1, ':') ||
		    parse_u32(p, (size_t)(colon - p), &cid) < 0 ||
		    parse_u32(colon + 1, strlen(colon + 1), &port) < 0)
			return agent_error_set(err, EINVAL, "invalid address %s: %s", s,
					       "want vsock://CID:PORT");
		a->kind = DIAL_VSOCK;
		a->sa.vm.svm_family = AF_VSOCK;
		a->sa.vm.svm_cid = cid;
		a->sa.vm.svm_port = port;
		a->salen = sizeof(a->sa.vm);
		return 0;
	}
	return agent_error_set(
		err, EINVAL,
		"unsupported agent address %s (unix://, vsock://, hvsock://, serial://)", s);
}

static int set_blocking(int fd, bool blocking)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	fl = blocking ? (fl & ~O_NONBLOCK) : (fl | O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl) < 0 ? -errno : 0;
}

/* One non-blocking connect bounded by deadline; the fd comes back blocking. */
static int connect_once(const struct dial_addr *a, int64_t deadline, int *ret_fd)
{
	_cleanup_close_ int fd =
		socket(a->sa.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, &a->sa.sa, a->salen) < 0) {
		if (errno != EINPROGRESS && errno != EINTR)
			return -errno;
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		for (;;) {
			int r = poll(&p, 1, client_io_remaining_ms(deadline));
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return -errno;
			if (r == 0)
				return -ETIMEDOUT;
			break;
		}
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			return -errno;
		if (soerr)
			return -soerr;
	}
	int r = set_blocking(fd, true);
	if (r < 0)
		return r;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* Makes a received handshake line printable for an error message. */
static void escape_line(const char *in, size_t n, char *out, size_t out_size)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 5 < out_size; i++) {
		unsigned char ch = (unsigned char)in[i];
		if (ch == '\n') {
			o += (size_t)snprintf(out + o, out_size - o, "\\n");
		} else if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') {
			o += (size_t)snprintf(out + o, out_size - o, "\\x%02x", ch);
		} else {
			out[o++] = (char)ch;
		}
	}
	out[o] = '\0';
}

/*
 * Firecracker / Cloud Hypervisor hybrid vsock: "CONNECT <port>\n" answered by
 * "OK <host port>\n". The reply is read byte by byte so nothing after the line
 * is consumed. Returns 0, -ECONNRESET (closed without a reply: the guest side
 * is probably not listening yet), -ETIMEDOUT, or -EPROTO with *err set.
 */
static int hvsock_handshake(int fd, uint32_t port, int64_t deadline, agent_error_t **err)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	struct iovec iov = {.iov_base = line, .iov_len = (size_t)n};
	int r = client_io_write_all(fd, &iov, 1);
	if (r < 0)
		return r == -EPIPE ? -ECONNRESET : r;

	char reply[HANDSHAKE_MAX_LINE];
	size_t got = 0;
	for (;;) {
		r = client_io_wait_readable(fd, deadline);
		if (r < 0)
			return r;
		if (r == 0)
			return -ETIMEDOUT;
		ssize_t k = read(fd, reply + got, 1);
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return errno == EPIPE ? -ECONNRESET : -errno;
		}
		if (k == 0) {
			if (got == 0)
				return -ECONNRESET;
			break;
		}
		got++;
		if (reply[got - 1] == '\n' || got == sizeof(reply))
			break;
	}
	if (got >= 3 && memcmp(reply, "OK ", 3) == 0 && reply[got - 1] == '\n')
		return 0;

	char shown[HANDSHAKE_MAX_LINE * 4 + 8];
	escape_line(reply, got, shown, sizeof(shown));
	const char *partial = reply[got - 1] == '\n' ? "" : " (incomplete line)";
	return agent_error_set(err, EPROTO,
			       "hybrid vsock handshake for port %u refused: got \"%s\"%s", port,
			       shown, partial);
}

/* A previous session may have left bytes in the chardev: they would desync framing. */
static int serial_drain(int fd)
{
	uint8_t buf[4096];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return 0;
		return -errno;
	}
}

/* Errors that mean "not up yet": the socket file, the listener or the VM is still coming. */
static bool retryable(int r)
{
	return r == -ENOENT || r == -ECONNREFUSED || r == -ECONNRESET || r == -EAGAIN ||
	       r == -ETIMEDOUT;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int ttrpc_dial(const char *addr, int timeout_ms, agent_error_t **err)
{
	struct dial_addr a;
	int r = parse_addr(addr, &a, err);
	if (r < 0)
		return r;

	int64_t deadline = client_io_deadline(timeout_ms);
	for (;;) {
		int64_t attempt =
			deadline < 0 ? -1 : MAX(deadline, client_io_now_ms() + MIN_ATTEMPT_MS);
		_cleanup_close_ int fd = -1;

		r = connect_once(&a, attempt, &fd);
		if (r == 0 && a.kind == DIAL_HVSOCK) {
			r = hvsock_handshake(fd, a.hv_port, attempt, err);
			if (r == -EPROTO) {
				agent_error_wrap(err, "connecting to %s", addr);
				return r;
			}
		}
		if (r == 0 && a.kind == DIAL_SERIAL)
			r = serial_drain(fd);
		if (r == 0)
			return TAKE_FD(fd);

		int left = client_io_remaining_ms(deadline);
		if (!retryable(r) || left == 0) {
			if (timeout_ms > 0 && retryable(r))
				return agent_error_set(err, ETIMEDOUT,
						       "connecting to %s: gave up after %d ms: %s",
						       addr, timeout_ms, strerror(-r));
			if (r == -ECONNRESET && a.kind == DIAL_HVSOCK)
				return agent_error_set(
					err, ECONNRESET,
					"connecting to %s: closed before the handshake", addr);
			return agent_error_setsys(err, -r, "connecting to %s", addr);
		}
		sleep_ms(left < 0 ? RETRY_INTERVAL_MS : MIN(left, RETRY_INTERVAL_MS));
	}
}
