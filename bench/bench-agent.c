/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Foundation figures, each beside a peer measured in the same run:
 *  - exec-to-accept time of the agent vs a minimal listener (this program in --peer mode),
 *  - idle RSS of the agent vs the same peer,
 *  - sequential Health.Check round trips per second vs a frame echo over the same kind of socket.
 * Usage: bench-agent AGENT_BIN [ROUNDS]
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ttrpc-client.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int try_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Peer: listen, then echo every frame back as a response frame of the same size. */
static int peer_main(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unlink(path);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 10) < 0)
		return 1;
	for (;;) {
		int c = accept(l, NULL, NULL);
		if (c < 0)
			continue;
		struct ttrpc_header h;
		uint8_t *p = NULL;
		while (ttrpc_read_frame(c, -1, &h, &p, NULL) == 0) {
			(void)ttrpc_write_frame(c, h.stream_id, TTRPC_TYPE_RESPONSE, 0, p, h.length,
						NULL);
			free(p);
			p = NULL;
		}
		close(c);
	}
}

static pid_t spawn(char *const argv[], const char *addr_env)
{
	pid_t pid = fork();
	if (pid == 0) {
		int n = open("/dev/null", O_RDWR);
		dup2(n, 0);
		dup2(n, 1);
		dup2(n, 2);
		if (addr_env)
			setenv("KATA_AGENT_SERVER_ADDR", addr_env, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static long rss_kib(pid_t pid)
{
	char p[64], line[256];
	long kib = -1;
	snprintf(p, sizeof(p), "/proc/%d/status", pid);
	FILE *f = fopen(p, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/* Median time from fork+exec to the first successful connect. Leaves the last one running. */
static double startup_ms(char *const argv[], const char *addr_env, const char *sock, int rounds,
			 pid_t *ret_last)
{
	double *t = calloc(rounds, sizeof(double));
	for (int i = 0; i < rounds; i++) {
		unlink(sock);
		double t0 = now_s();
		pid_t pid = spawn(argv, addr_env);
		int fd;
		while ((fd = try_connect(sock)) < 0) {
			if (now_s() - t0 > 5) {
				fprintf(stderr, "%s did not start\n", argv[0]);
				exit(1);
			}
		}
		t[i] = (now_s() - t0) * 1000;
		close(fd);
		if (i == rounds - 1 && ret_last)
			*ret_last = pid;
		else
			stop(pid);
	}
	qsort(t, rounds, sizeof(double), cmp_double);
	double m = t[rounds / 2];
	free(t);
	return m;
}

static double check_rate(const char *sock, int n, bool raw_echo)
{
	int fd = try_connect(sock);
	if (fd < 0)
		return 0;
	struct ttrpc_client *c = ttrpc_client_new(fd);
	uint8_t *req = NULL;
	size_t len = 0;
	ttrpc_encode_request("grpc.Health", "Check", NULL, 0, 0, NULL, 0, &req, &len, NULL);
	double t0 = now_s();
	for (int i = 0; i < n; i++) {
		if (raw_echo) {
			struct ttrpc_header h;
			uint8_t *p = NULL;
			if (ttrpc_write_frame(fd, 2 * i + 1, TTRPC_TYPE_REQUEST, 0, req, len,
					      NULL) < 0 ||
			    ttrpc_read_frame(fd, 5000, &h, &p, NULL) < 0)
				return 0;
			free(p);
		} else {
			struct ttrpc_reply r = {0};
			if (ttrpc_client_call(c, "grpc.Health", "Check", NULL, 0, 0, NULL, 0, &r,
					      NULL) < 0 ||
			    r.code != 0)
				return 0;
			ttrpc_reply_clear(&r);
		}
	}
	double rate = n / (now_s() - t0);
	free(req);
	ttrpc_client_free(c);
	return rate;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--peer") == 0)
		return peer_main(argv[2]);
	if (argc < 2) {
		fprintf(stderr, "usage: %s AGENT_BIN [ROUNDS]\n", argv[0]);
		return 2;
	}
	int rounds = argc > 2 ? atoi(argv[2]) : 21;
	char dir[] = "/tmp/kata-bench.XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char asock[128], psock[128], aaddr[160], self[4096];
	snprintf(asock, sizeof(asock), "%s/agent.sock", dir);
	snprintf(psock, sizeof(psock), "%s/peer.sock", dir);
	snprintf(aaddr, sizeof(aaddr), "unix://%s", asock);
	ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl < 0)
		return 1;
	self[sl] = 0;

	char *agent_argv[] = {argv[1], "--cmdline-file", "/dev/null", NULL};
	char *peer_argv[] = {self, "--peer", psock, NULL};
	struct stat st;
	if (stat(argv[1], &st) < 0) {
		perror(argv[1]);
		return 1;
	}

	pid_t apid = 0, ppid = 0;
	double a_ms = startup_ms(agent_argv, aaddr, asock, rounds, &apid);
	double p_ms = startup_ms(peer_argv, NULL, psock, rounds, &ppid);
	int n = 20000;
	double a_rate = check_rate(asock, n, false);
	double p_rate = check_rate(psock, n, true);
	usleep(100000);
	long a_rss = rss_kib(apid), p_rss = rss_kib(ppid);
	stop(apid);
	stop(ppid);

	printf("agent binary size: %lld bytes (%.0f KiB)\n", (long long)st.st_size,
	       st.st_size / 1024.0);
	printf("exec to accepting (median of %d): agent %.2f ms, peer listener %.2f ms, ratio "
	       "%.2fx\n",
	       rounds, a_ms, p_ms, a_ms / p_ms);
	printf("idle RSS after %d Checks: agent %ld KiB, peer %ld KiB, ratio %.2fx\n", n, a_rss,
	       p_rss, (double)a_rss / p_rss);
	printf("Check round trips over one connection: agent %.0f/s, frame echo peer %.0f/s, ratio "
	       "%.2fx\n",
	       a_rate, p_rate, a_rate / p_rate);
	unlink(asock);
	unlink(psock);
	rmdir(dir);
	return 0;
}
