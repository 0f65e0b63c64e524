// SPDX-License-Identifier: Apache-2.0
/*
 * agent.trace: one span per RPC, as u64 big-endian length + the span's OTLP/JSON
 * encoding, to agent.trace_addr; parents from the traceparent metadata; a
 * collector that is not there never slows the API, and is reached once it
 * listens. kata-agent-ctl trace-forward turns the stream into OTLP/JSON
 * TracesData lines, which tests/otlp/check-otlp.py parses against the OTLP
 * protobuf messages (protoc + python3-protobuf).
 */
#include <endian.h>
#include <fcntl.h>
#include <poll.h>
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
	char line[512];
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
	snprintf(sock, sizeof(sock), "%s/trace.sock", test_scratch_dir());
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
	/* OTLP/JSON: hex ids, integer enums, 64-bit times as strings, key/value attributes. */
	ASSERT_NOT_NULL(strstr(s1, "\"name\":\"check\""));
	ASSERT_NOT_NULL(strstr(s1, "\"traceId\":\"0af7651916cd43dd8448eb211c80319c\""));
	ASSERT_NOT_NULL(strstr(s1, "\"parentSpanId\":\"b7ad6b7169203331\""));
	ASSERT_NOT_NULL(strstr(s1, "\"kind\":2"));
	ASSERT_NOT_NULL(strstr(s1, "\"startTimeUnixNano\":\""));
	ASSERT_NOT_NULL(
		strstr(s1, "{\"key\":\"rpc.method\",\"value\":{\"stringValue\":\"Check\"}}"));
	ASSERT_NULL(strstr(s1, "\"code\":")); /* OK leaves the status unset */
	ASSERT_NOT_NULL(strstr(s2, "\"name\":\"remove_container\""));
	ASSERT_NOT_NULL(strstr(s2, "\"status\":{\"code\":2}")); /* ERROR */
	/* No traceparent: a child of the agent's root span, in its trace. */
	char root_trace[33] = "", root_span[17] = "";
	const char *tid = strstr(s2, "\"traceId\":\""), *pid = strstr(s2, "\"parentSpanId\":\"");
	ASSERT_NOT_NULL(tid);
	ASSERT_NOT_NULL(pid);
	memcpy(root_trace, tid + 11, 32);
	memcpy(root_span, pid + 16, 16);
	free(s1);
	free(s2);
	c = ttrpc_client_free(c);
	itest_agent_stop(&a);
	/* At shutdown the root span goes out. */
	char *root = next_span(col, 2000);
	ASSERT_NOT_NULL(root);
	ASSERT_NOT_NULL(strstr(root, "\"name\":\"root-span\""));
	ASSERT_NOT_NULL(strstr(root, "\"kind\":1"));
	char want[64];
	snprintf(want, sizeof(want), "\"traceId\":\"%s\"", root_trace);
	ASSERT_NOT_NULL(strstr(root, want));
	snprintf(want, sizeof(want), "\"spanId\":\"%s\"", root_span);
	ASSERT_NOT_NULL(strstr(root, want));
	ASSERT_NULL(strstr(root, "parentSpanId"));
	free(root);
	close(col);
	close(l);
	unlink(sock);
}

TEST_TIMEOUT(absent_collector_never_slows_calls, 60)
{
	char sock[128];
	snprintf(sock, sizeof(sock), "%s/trace-late.sock", test_scratch_dir());
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

/* serial://PATH: a virtio-serial port in a guest, here a FIFO (a character stream that is no
 * socket): the same frames arrive. */
TEST_TIMEOUT(spans_to_a_serial_port, 60)
{
	char fifo[256], line[512];
	snprintf(fifo, sizeof(fifo), "%s/trace.port", test_scratch_dir());
	ASSERT_EQ(mkfifo(fifo, 0600), 0);
	int rd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_TRUE(rd >= 0);
	snprintf(line, sizeof(line), "agent.trace agent.trace_addr=serial://%s", fifo);
	struct itest_agent a;
	itest_agent_start_cmdline(&a, line);
	struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	check_with_parent(c, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
	char *s = next_span(rd, 5000);
	ASSERT_NOT_NULL(s);
	ASSERT_NOT_NULL(strstr(s, "\"traceId\":\"0af7651916cd43dd8448eb211c80319c\""));
	ASSERT_NOT_NULL(strstr(s, "\"parentSpanId\":\"b7ad6b7169203331\""));
	free(s);
	c = ttrpc_client_free(c);
	itest_agent_stop(&a);
	close(rd);
}

/* --- kata-agent-ctl trace-forward ------------------------------------------------------- */

static const char *ctl_bin(void)
{
	const char *p = getenv("KATA_AGENT_CTL");
	return p && *p ? p : "build/kata-agent-ctl";
}

/* tests/otlp/check-otlp.py: from the working directory (the repository), else next to the
 * build tree this binary is in (BUILD/tests/integration/test-trace). */
static const char *checker(void)
{
	static char path[4200];
	char exe[4096];
	ssize_t n;

	if (access("tests/otlp/check-otlp.py", R_OK) == 0)
		return "tests/otlp/check-otlp.py";
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ASSERT_TRUE(n > 0);
	exe[n] = '\0';
	for (int i = 0; i < 4; i++)
		*strrchr(exe, '/') = '\0';
	snprintf(path, sizeof(path), "%s/tests/otlp/check-otlp.py", exe);
	ASSERT_EQ(access(path, R_OK), 0);
	return path;
}

static pid_t start_forwarder(const char *listen_addr, const char *sock, const char *out)
{
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		execl(ctl_bin(), ctl_bin(), "trace-forward", "--listen", listen_addr, "--out", out,
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		struct stat st;
		if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode))
			return pid;
		usleep(10000);
	}
	FAIL("trace-forward did not listen on %s", sock);
}

static void stop_forwarder(pid_t pid)
{
	int st;
	ASSERT_EQ(kill(pid, SIGTERM), 0);
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return strdup("");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(buf);
		return strdup("");
	}
	return buf;
}

static bool wait_file_contains(const char *path, const char *s, int timeout_ms)
{
	for (int t = 0; t < timeout_ms; t += 20) {
		char *text = slurp(path);
		bool found = strstr(text, s) != NULL;
		free(text);
		if (found)
			return true;
		usleep(20000);
	}
	return false;
}

/* Runs check-otlp.py on path: its output (one line per span), or SKIP without protobuf. */
static char *check_otlp(const char *path)
{
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "python3 '%s' '%s' 2>&1", checker(), path);
	FILE *p = popen(cmd, "r");
	ASSERT_NOT_NULL(p);
	char *buf = NULL;
	size_t cap = 0;
	if (getdelim(&buf, &cap, '\0', p) < 0) {
		free(buf);
		buf = strdup("");
	}
	int st = pclose(p);
	ASSERT_TRUE(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77)
		SKIP("%s", buf);
	if (WEXITSTATUS(st) != 0)
		FAIL("check-otlp.py rejected %s: %s", path, buf);
	return buf;
}

struct span_line {
	char trace[33], span[17], parent[17], name[64];
	int kind, code;
};

static int parse_spans(const char *text, struct span_line *out, int max)
{
	int n = 0;
	const char *p = text;
	while (*p && n < max) {
		struct span_line *s = &out[n];
		if (sscanf(p, "%32s %16s %16s %d %d %63s", s->trace, s->span, s->parent, &s->kind,
			   &s->code, s->name) == 6)
			n++;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return n;
}

static const struct span_line *find_span(const struct span_line *s, int n, const char *name,
					 const char *parent)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s[i].name, name) == 0 && (!parent || strcmp(s[i].parent, parent) == 0))
			return &s[i];
	return NULL;
}

TEST_TIMEOUT(forward_writes_otlp_traces_data, 90)
{
	char sock[256], addr[300], out[256];
	snprintf(sock, sizeof(sock), "%s/fwd.sock", test_scratch_dir());
	snprintf(addr, sizeof(addr), "unix://%s", sock);
	snprintf(out, sizeof(out), "%s/spans.jsonl", test_scratch_dir());
	pid_t fwd = start_forwarder(addr, sock, out);

	struct itest_agent a;
	start_traced_agent(&a, sock);
	struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	/* Two calls of one host trace, under two host spans; one call with no context. */
	check_with_parent(c, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
	check_with_parent(c, "00-4bf92f3577b34da6a3ce929d0e0e4736-53995c3f42cd8ad8-01");
	struct ttrpc_reply r = {0};
	agent_error_t *err = NULL;
	ASSERT_EQ(ttrpc_client_call(c, "grpc.AgentService", "RemoveContainer", NULL, 0, 0, NULL, 0,
				    &r, &err),
		  0);
	ASSERT_NE(r.code, 0);
	ttrpc_reply_clear(&r);
	/* kata-agent-ctl --traceparent sends the context with its calls. */
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "'%s' --addr '%s' --traceparent "
		 "00-4bf92f3577b34da6a3ce929d0e0e4736-1111222233334444-01 version >/dev/null",
		 ctl_bin(), a.addr);
	ASSERT_EQ(system(cmd), 0);
	c = ttrpc_client_free(c);
	itest_agent_stop(&a);
	ASSERT_TRUE(wait_file_contains(out, "root-span", 5000));
	stop_forwarder(fwd);

	/* Every line a TracesData for the agent's service. */
	char *text = slurp(out);
	for (char *line = text; *line;) {
		ASSERT_EQ(strncmp(line,
				  "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":"
				  "\"service.name\",\"value\":{\"stringValue\":\"kata-agent\"}}]}",
				  93),
			  0);
		char *nl = strchr(line, '\n');
		ASSERT_NOT_NULL(nl);
		line = nl + 1;
	}
	free(text);

	char *lines = check_otlp(out);
	struct span_line s[16];
	int n = parse_spans(lines, s, 16);
	ASSERT_EQ(n, 5);
	const struct span_line *v = find_span(s, n, "version", "1111222233334444");
	ASSERT_NOT_NULL(v);
	ASSERT_STREQ(v->trace, "4bf92f3577b34da6a3ce929d0e0e4736");
	const struct span_line *c1 = find_span(s, n, "check", "00f067aa0ba902b7");
	const struct span_line *c2 = find_span(s, n, "check", "53995c3f42cd8ad8");
	const struct span_line *rm = find_span(s, n, "remove_container", NULL);
	const struct span_line *root = find_span(s, n, "root-span", "-");
	ASSERT_NOT_NULL(c1);
	ASSERT_NOT_NULL(c2);
	ASSERT_NOT_NULL(rm);
	ASSERT_NOT_NULL(root);
	ASSERT_STREQ(c1->trace, "4bf92f3577b34da6a3ce929d0e0e4736");
	ASSERT_STREQ(c2->trace, "4bf92f3577b34da6a3ce929d0e0e4736");
	ASSERT_TRUE(strcmp(c1->span, c2->span) != 0);
	ASSERT_EQ(c1->kind, 2); /* SERVER */
	ASSERT_EQ(c1->code, 0); /* UNSET */
	ASSERT_EQ(rm->code, 2); /* ERROR */
	/* Without a context: a child of the root span, in the root's trace. */
	ASSERT_STREQ(rm->trace, root->trace);
	ASSERT_STREQ(rm->parent, root->span);
	ASSERT_EQ(root->kind, 1); /* INTERNAL */
	free(lines);
}

static void send_frame(int fd, const char *payload, uint64_t claimed_len)
{
	uint64_t be = htobe64(claimed_len);
	ASSERT_EQ(write(fd, &be, 8), 8);
	if (payload)
		ASSERT_EQ(write(fd, payload, strlen(payload)), (ssize_t)strlen(payload));
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* A peer that is not an agent: frames that are no span are dropped, a length out of bounds
 * ends that connection only, spans split across reads are whole, and the output stays valid
 * OTLP. The hybrid vsock form listens on PATH_PORT. */
TEST_TIMEOUT(forward_survives_hostile_streams, 60)
{
	char base[200], sock[256], addr[300], out[256];
	snprintf(base, sizeof(base), "%s/vm.sock", test_scratch_dir());
	snprintf(sock, sizeof(sock), "%s_10240", base);
	snprintf(addr, sizeof(addr), "hvsock://%s:10240", base);
	snprintf(out, sizeof(out), "%s/spans.jsonl", test_scratch_dir());
	pid_t fwd = start_forwarder(addr, sock, out);
	const char *good = "{\"traceId\":\"0af7651916cd43dd8448eb211c80319c\",\"spanId\":"
			   "\"b7ad6b7169203331\",\"name\":\"good\",\"kind\":2,"
			   "\"startTimeUnixNano\":\"1\",\"endTimeUnixNano\":\"2\"}";

	/* A length far beyond any span: the connection is closed, the forwarder lives on. */
	int fd = connect_unix(sock);
	send_frame(fd, NULL, 1ull << 40);
	char ch;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ASSERT_EQ(poll(&p, 1, 5000), 1);
	ASSERT_TRUE(read(fd, &ch, 1) <= 0);
	close(fd);

	fd = connect_unix(sock);
	send_frame(fd, "not json", 8);
	send_frame(fd, "[1,2]", 5);
	send_frame(fd, "{\"traceId\":\"zz\",\"spanId\":\"b7ad6b7169203331\",\"name\":\"x\"}",
		   strlen("{\"traceId\":\"zz\",\"spanId\":\"b7ad6b7169203331\",\"name\":\"x\"}"));
	send_frame(fd, "{} trailing", 11);
	/* A good span in three pieces. */
	uint64_t be = htobe64(strlen(good));
	ASSERT_EQ(write(fd, &be, 3), 3);
	usleep(50000);
	ASSERT_EQ(write(fd, (char *)&be + 3, 5), 5);
	ASSERT_EQ(write(fd, good, 20), 20);
	usleep(50000);
	ASSERT_EQ(write(fd, good + 20, strlen(good) - 20), (ssize_t)strlen(good) - 20);
	ASSERT_TRUE(wait_file_contains(out, "\"name\":\"good\"", 5000));
	close(fd);
	stop_forwarder(fwd);

	char *lines = check_otlp(out);
	struct span_line s[4];
	ASSERT_EQ(parse_spans(lines, s, 4), 1);
	ASSERT_STREQ(s[0].name, "good");
	free(lines);
}
