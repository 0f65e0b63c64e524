/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Foundation figures against a real ttRPC server: bench/ttrpc-peer, a Go program on
 * containerd's ttrpc (the library the Kata shim uses) serving the same grpc.Health/Check.
 * Each round starts the agent and the peer in turn (the order swaps every round), and measures
 * for each:
 *  - start-up: fork+exec until the first Check is answered SERVING (connect retried),
 *  - Check round trips per second over that connection (sequential calls),
 *  - idle RSS (VmRSS) 100 ms after those calls.
 * Prints min/median/max of each, as human lines and FIGURE lines (bench/bench.h).
 * Usage: bench-agent AGENT_BIN PEER_BIN [ROUNDS [CHECKS_PER_ROUND]]
 * Without a usable PEER_BIN the agent's figures are printed without a peer.
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

#include "bench.h"
#include "health.pb-c.h"
#include "ttrpc-client.h"

#define START_TIMEOUT_S 10.0

struct server {
	const char *name;
	char *argv[4];
	char sock[96];
	char addr_env[160]; /* KATA_AGENT_SERVER_ADDR, or "" */
	double *start_ms, *rate, *rss_kib;
	int n; /* rounds measured */
	bool failed;
};

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

static pid_t spawn(struct server *s)
{
	pid_t pid = fork();
	if (pid == 0) {
		int n = open("/dev/null", O_RDWR);
		dup2(n, 0);
		dup2(n, 1);
		dup2(n, 2);
		if (s->addr_env[0])
			setenv("KATA_AGENT_SERVER_ADDR", s->addr_env, 1);
		execv(s->argv[0], s->argv);
		_exit(127);
	}
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static long rss_kib(pid_t pid)
{
	char p[64], line[256];
	long kib = -1;
	snprintf(p, sizeof(p), "/proc/%d/status", pid);
	FILE *f = fopen(p, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/* One grpc.Health/Check; true when answered SERVING. */
static bool check_once(struct ttrpc_client *c, const uint8_t *req, size_t len)
{
	_cleanup_error_ agent_error_t *err = NULL;
	struct ttrpc_reply r = {0};
	bool ok = false;

	if (ttrpc_client_call(c, "grpc.Health", "Check", req, len, 0, NULL, 0, &r, &err) == 0 &&
	    r.code == 0) {
		Grpc__HealthCheckResponse *h =
			grpc__health_check_response__unpack(NULL, r.len, r.payload);
		ok = h && h->status == GRPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
		if (h)
			grpc__health_check_response__free_unpacked(h, NULL);
	}
	ttrpc_reply_clear(&r);
	return ok;
}

/* One round for one server: start-up, round trips, idle RSS. false if it did not work. */
static bool round_one(struct server *s, int checks, const uint8_t *req, size_t len)
{
	struct ttrpc_client *c = NULL;
	struct timespec pause = {0, 20000};

	unlink(s->sock);
	double t0 = bench_now_s();
	pid_t pid = spawn(s);
	if (pid < 0)
		return false;
	for (;;) {
		int fd = try_connect(s->sock);
		if (fd >= 0) {
			c = ttrpc_client_new(fd);
			if (c && check_once(c, req, len))
				break;
			c = ttrpc_client_free(c);
		}
		if (bench_now_s() - t0 > START_TIMEOUT_S) {
			fprintf(stderr, "bench-agent: %s did not answer Check within %.0f s\n",
				s->name, START_TIMEOUT_S);
			stop(pid);
			return false;
		}
		/* A short pause so the retry loop does not starve the starting server. */
		nanosleep(&pause, NULL);
	}
	double t1 = bench_now_s();
	for (int i = 0; i < checks; i++)
		if (!check_once(c, req, len)) {
			fprintf(stderr, "bench-agent: %s: Check %d failed\n", s->name, i);
			ttrpc_client_free(c);
			stop(pid);
			return false;
		}
	double t2 = bench_now_s();
	usleep(100000);
	long rss = rss_kib(pid);
	ttrpc_client_free(c);
	stop(pid);
	s->start_ms[s->n] = (t1 - t0) * 1000;
	s->rate[s->n] = checks / (t2 - t1);
	s->rss_kib[s->n] = rss;
	s->n++;
	return true;
}

static void server_init(struct server *s, const char *name, int rounds)
{
	s->name = name;
	s->start_ms = calloc(rounds, sizeof(double));
	s->rate = calloc(rounds, sizeof(double));
	s->rss_kib = calloc(rounds, sizeof(double));
	if (!s->start_ms || !s->rate || !s->rss_kib) {
		fprintf(stderr, "bench-agent: out of memory\n");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s AGENT_BIN PEER_BIN [ROUNDS [CHECKS_PER_ROUND]]\n",
			argv[0]);
		return 2;
	}
	int rounds = argc > 3 ? atoi(argv[3]) : 21;
	int checks = argc > 4 ? atoi(argv[4]) : 5000;
	if (rounds < 1)
		rounds = 1;
	if (checks < 1)
		checks = 1;
	signal(SIGPIPE, SIG_IGN);

	char dir[] = "/tmp/kata-bench.XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	struct server agent = {0}, peer = {0};
	server_init(&agent, "agent", rounds);
	server_init(&peer, "ttrpc-go", rounds);
	snprintf(agent.sock, sizeof(agent.sock), "%s/agent.sock", dir);
	snprintf(agent.addr_env, sizeof(agent.addr_env), "unix://%s", agent.sock);
	agent.argv[0] = argv[1];
	agent.argv[1] = "--cmdline-file";
	agent.argv[2] = "/dev/null";
	snprintf(peer.sock, sizeof(peer.sock), "%s/peer.sock", dir);
	peer.argv[0] = argv[2];
	peer.argv[1] = peer.sock;
	if (access(argv[1], X_OK) < 0) {
		fprintf(stderr, "bench-agent: %s: %s\n", argv[1], strerror(errno));
		rmdir(dir);
		return 1;
	}
	bool have_peer = access(argv[2], X_OK) == 0;
	if (!have_peer) {
		printf("peer missing: %s is not built (make bench-deps installs Go and "
		       "containerd's ttrpc); agent figures only\n",
		       argv[2]);
		printf("NOTE\tthe Go ttRPC peer (%s) is not built: start-up, RSS and Check figures "
		       "have no peer\n",
		       argv[2]);
	}

	uint8_t req[64];
	Grpc__CheckRequest creq = GRPC__CHECK_REQUEST__INIT;
	creq.service = "";
	size_t len = grpc__check_request__pack(&creq, req);

	bench_print_load("bench-agent", "before");
	printf("agent %s vs peer %s (containerd ttrpc, Go), %d rounds alternating, %d Checks per "
	       "round\n",
	       argv[1], argv[2], rounds, checks);
	for (int i = 0; i < rounds; i++) {
		struct server *order[2] = {&agent, &peer};
		if (i % 2) {
			order[0] = &peer;
			order[1] = &agent;
		}
		for (int k = 0; k < 2; k++) {
			struct server *s = order[k];
			if (s->failed || (s == &peer && !have_peer))
				continue;
			if (!round_one(s, checks, req, len))
				s->failed = true;
		}
	}
	bench_print_load("bench-agent", "after");
	unlink(agent.sock);
	unlink(peer.sock);
	rmdir(dir);
	if (agent.failed || agent.n == 0) {
		fprintf(stderr, "bench-agent: the agent failed\n");
		return 1;
	}
	if (peer.failed)
		printf("peer failed: figures without a peer\nNOTE\tthe Go ttRPC peer failed (its "
		       "error is above in run.log): start-up, RSS and Check figures have no "
		       "peer\n");
	bool p = have_peer && !peer.failed && peer.n > 0;

	struct bench_stats a, ps;
	a = bench_stats(agent.start_ms, agent.n);
	ps = bench_stats(peer.start_ms, peer.n);
	bench_figure("start-up to first Check", "ms", true, "ttrpc-go", a, p ? &ps : NULL);
	a = bench_stats(agent.rss_kib, agent.n);
	ps = bench_stats(peer.rss_kib, peer.n);
	bench_figure("idle RSS after Checks", "KiB", true, "ttrpc-go", a, p ? &ps : NULL);
	a = bench_stats(agent.rate, agent.n);
	ps = bench_stats(peer.rate, peer.n);
	bench_figure("Check round trips", "calls/s", false, "ttrpc-go", a, p ? &ps : NULL);
	return 0;
}
