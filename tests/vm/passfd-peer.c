// SPDX-License-Identifier: Apache-2.0
/*
 * Both ends of passfd I/O inside the test guest (tests/vm/steps-passfd.sh),
 * built static with musl and run from the virtio-fs share:
 *
 *   passfd-peer gen N
 *       the workload: N pattern bytes to stdout, then stdin read to its EOF
 *       and "stdin BYTES FIRST-LINE" on stderr; exits 7.
 *   passfd-peer client PORT FILE
 *       the host's part, over vsock_loopback: three connections to the agent's
 *       passfd PORT on VMADDR_CID_LOCAL, their source ports written to FILE as
 *       IN:OUT:ERR; then "passfd-stdin\n" and EOF on the first, and the other two
 *       read to EOF: "stdout BYTES ok" (or "bad at OFFSET"), "stderr TEXT" and
 *       the stdout throughput seen.
 *   passfd-peer sink
 *       stdin read to EOF and checked as the client checks its stdout stream
 *       (the plain-pipe figure of the benchmark).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* musl has no kernel headers: the kernel's struct sockaddr_vm (linux/vm_sockets.h). */
struct sockaddr_vm {
	sa_family_t svm_family;
	unsigned short svm_reserved1;
	unsigned int svm_port;
	unsigned int svm_cid;
	unsigned char svm_flags;
	unsigned char svm_zero[3];
};
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#define VMADDR_CID_LOCAL 1

static unsigned char pattern(uint64_t i)
{
	return (unsigned char)(i * 131 + (i >> 12));
}

static void write_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			exit(120);
		p = (const char *)p + w;
		n -= (size_t)w;
	}
}

static int gen(uint64_t n)
{
	static unsigned char buf[65536];
	char first[64] = "";
	uint64_t in = 0;

	for (uint64_t off = 0; off < n;) {
		size_t k = n - off < sizeof(buf) ? (size_t)(n - off) : sizeof(buf);
		for (size_t i = 0; i < k; i++)
			buf[i] = pattern(off + i);
		write_all(1, buf, k);
		off += k;
	}
	close(1);
	for (;;) {
		ssize_t r = read(0, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (in == 0) {
			size_t l = (size_t)r < sizeof(first) - 1 ? (size_t)r : sizeof(first) - 1;
			memcpy(first, buf, l);
			first[strcspn(first, "\n")] = '\0';
		}
		in += (uint64_t)r;
	}
	dprintf(2, "stdin %llu %s\n", (unsigned long long)in, first);
	return 7;
}

static int connect_local(uint32_t port, uint32_t *src)
{
	struct sockaddr_vm sa = {
		.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_LOCAL, .svm_port = port};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		printf("vsock %u: %s\n", port, strerror(errno));
		exit(2);
	}
	*src = sa.svm_port;
	return fd;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int client(uint32_t port, const char *file)
{
	static unsigned char buf[65536];
	uint32_t ports[3];
	int fds[3];
	char tmp[4096], err[4096] = "";
	size_t err_len = 0;
	uint64_t out = 0, bad = UINT64_MAX;

	for (int i = 0; i < 3; i++)
		fds[i] = connect_local(port, &ports[i]);
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	FILE *f = fopen(tmp, "w");
	if (!f || fprintf(f, "%u:%u:%u\n", ports[0], ports[1], ports[2]) < 0 || fclose(f) != 0 ||
	    rename(tmp, file) < 0) {
		printf("cannot write %s: %s\n", file, strerror(errno));
		return 2;
	}
	write_all(fds[0], "passfd-stdin\n", 13);
	shutdown(fds[0], SHUT_WR);
	double t0 = 0;
	int open_n = 2;
	while (open_n) {
		struct pollfd p[2] = {{.fd = fds[1], .events = POLLIN},
				      {.fd = fds[2], .events = POLLIN}};
		if (poll(p, 2, -1) < 0)
			continue;
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			ssize_t r = read(fds[1 + i], buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				close(fds[1 + i]);
				fds[1 + i] = -1;
				open_n--;
				continue;
			}
			if (i == 1) {
				size_t k = (size_t)r < sizeof(err) - 1 - err_len
						   ? (size_t)r
						   : sizeof(err) - 1 - err_len;
				memcpy(err + err_len, buf, k);
				err_len += k;
				continue;
			}
			if (!out)
				t0 = now_s();
			for (ssize_t j = 0; j < r && bad == UINT64_MAX; j++)
				if (buf[j] != pattern(out + (uint64_t)j))
					bad = out + (uint64_t)j;
			out += (uint64_t)r;
		}
	}
	double dt = now_s() - t0;
	err[err_len] = '\0';
	err[strcspn(err, "\n")] = '\0';
	if (bad == UINT64_MAX)
		printf("stdout %llu ok\n", (unsigned long long)out);
	else
		printf("stdout %llu bad at %llu\n", (unsigned long long)out,
		       (unsigned long long)bad);
	printf("stderr %s\n", err);
	printf("seconds %.3f MB/s %.1f\n", dt, dt > 0 ? (double)out / dt / 1e6 : 0.0);
	return 0;
}

static int sink(void)
{
	static unsigned char buf[65536];
	uint64_t n = 0, bad = UINT64_MAX;
	double t0 = 0;

	for (;;) {
		ssize_t r = read(0, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (!n)
			t0 = now_s();
		for (ssize_t j = 0; j < r && bad == UINT64_MAX; j++)
			if (buf[j] != pattern(n + (uint64_t)j))
				bad = n + (uint64_t)j;
		n += (uint64_t)r;
	}
	double dt = now_s() - t0;
	printf("stdout %llu %s\n", (unsigned long long)n, bad == UINT64_MAX ? "ok" : "bad");
	printf("seconds %.3f MB/s %.1f\n", dt, dt > 0 ? (double)n / dt / 1e6 : 0.0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "sink") == 0)
		return sink();
	if (argc == 3 && strcmp(argv[1], "gen") == 0)
		return gen(strtoull(argv[2], NULL, 10));
	if (argc == 4 && strcmp(argv[1], "client") == 0)
		return client((uint32_t)strtoul(argv[2], NULL, 10), argv[3]);
	fprintf(stderr, "usage: passfd-peer gen N | client PORT FILE | sink\n");
	return 2;
}
