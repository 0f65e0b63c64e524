// SPDX-License-Identifier: Apache-2.0
/*
 * agent.trace: one span per RPC, as u64 big-endian length + JSON, to
 * agent.trace_addr; parents from the traceparent metadata; a collector that
 * is not there never slows the API, and is reached once it listens.
 */
#include <endian.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "itest.h"
#include "ttrpc-client.h"

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ASSERT_EQ(listen(fd, 2), 0);
	return fd;
}

static bool read_full(int fd, void *buf, size_t n, int timeout_ms)
{
	size_t got = 0;
	while (got < n) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, timeout_ms) != 1)
			return false;
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r <= 0)
			return false;
		got += r;
	}
	return true;
}

/* The next span's JSON (malloc'd), or NULL after timeout_ms. */
static char *next_span(int fd, int timeout_ms)
{
	uint64_t be;
	if (!read_full(fd, &be, 8, timeout_ms))
		return NULL;
	uint64_t n = be64toh(be);
	ASSERT_TRUE(n > 0 && n < 65536);
	char *s = calloc(1, n + 1);
	ASSERT_TRUE(read_full(fd, s, n, timeout_ms));
	return s;
}

static void start_traced_agent(struct itest_agent *a, const char *trace_sock)
{
	char line[256];
	snprintf(line, sizeof(line), "agent.trace agent.trace_addr=unix://%s", trace_sock);
	itest_agent_start_cmdline(a, line);
}

static void check_with_parent(struct ttrpc_client *c, const char *traceparent)
{
	struct ttrpc_kv md = {"traceparent", traceparent};
	struct ttrpc_reply r = {0};
	agent_error_t *err = NULL;
	ASSERT_EQ(ttrpc_client_call(c, "grpc.Health", "Check", NULL, 0, 0, traceparent ? &md : NULL,
				    traceparent ? 1 : 0, &r, &err),
		  0);
	ASSERT_EQ(r.code, 0);
	ttrpc_reply_clear(&r);
}

TEST_TIMEOUT(spans_per_rpc_with_parents, 60)
{
	char sock[128];
	snprintf(sock, sizeof(sock), "/tmp/trace-%d.sock", (int)getpid());
	int l = listen_unix(sock);
	struct itest_agent a;
	start_traced_agent(&a, sock);
	struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));

	check_with_parent(c, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
	struct ttrpc_reply r = {0};
	agent_error_t *err = NULL;
	ASSERT_EQ(ttrpc_client_call(c, "grpc.AgentService", "RemoveContainer", NULL, 0, 0, NULL, 0,
				    &r, &err),
		  0);
	ttrpc_reply_clear(&r);

	struct pollfd p = {.fd = l, .events = POLLIN};
	ASSERT_EQ(poll(&p, 1, 5000), 1);
	int col = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	char *s1 = next_span(col, 5000), *s2 = next_span(col, 5000);
	ASSERT_NOT_NULL(s1);
	ASSERT_NOT_NULL(s2);
	ASSERT_NOT_NULL(strstr(s1, "\"name\":\"check\""));
	ASSERT_NOT_NULL(strstr(s1, "\"trace_id\":\"0af7651916cd43dd8448eb211c80319c\""));
	ASSERT_NOT_NULL(strstr(s1, "\"parent_span_id\":\"b7ad6b7169203331\""));
	ASSERT_NOT_NULL(strstr(s1, "\"status\":{\"code\":0}"));
	ASSERT_NOT_NULL(strstr(s2, "\"name\":\"remove_container\""));
	ASSERT_NULL(strstr(s2, "\"code\":0}"));
	free(s1);
	free(s2);
	c = ttrpc_client_free(c);
	itest_agent_stop(&a);
	/* At shutdown the root span goes out. */
	char *root = next_span(col, 2000);
	ASSERT_NOT_NULL(root);
	ASSERT_NOT_NULL(strstr(root, "\"name\":\"root-span\""));
	free(root);
	close(col);
	close(l);
	unlink(sock);
}

TEST_TIMEOUT(absent_collector_never_slows_calls, 60)
{
	char sock[128];
	snprintf(sock, sizeof(sock), "/tmp/trace-late-%d.sock", (int)getpid());
	unlink(sock);
	struct itest_agent a;
	start_traced_agent(&a, sock);
	struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 2000; i++)
		check_with_parent(c, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ASSERT_TRUE((t1.tv_sec - t0.tv_sec) < 5);
	/* The collector arrives: the waiting spans reach it after a reconnect. */
	int l = listen_unix(sock);
	struct pollfd p = {.fd = l, .events = POLLIN};
	ASSERT_EQ(poll(&p, 1, 5000), 1);
	int col = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	char *s = next_span(col, 5000);
	ASSERT_NOT_NULL(s);
	ASSERT_NOT_NULL(strstr(s, "\"name\":\"check\""));
	free(s);
	c = ttrpc_client_free(c);
	itest_agent_stop(&a);
	close(col);
	close(l);
	unlink(sock);
}
