// SPDX-License-Identifier: Apache-2.0
/*
 * Exec stdio that nobody reads: execs whose output is never read (a probe
 * client that only waits) must not make the agent grow, while the output of a
 * just-waited exec stays readable (src/sandbox/process.c keeps at most
 * STDIO_LINGER_MAX such processes, each for at most STDIO_LINGER_MS).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctr.h"
#include "harness.h"
#include "sandbox/stdio.h"

/* Execs + waits, never reading; fails the test on the first error. */
static void exec_unread(struct ctr_env *e, const char *cid, Grpc__Process *p, int from, int to)
{
	char eid[32], *msg = NULL;

	for (int i = from; i < to; i++) {
		snprintf(eid, sizeof(eid), "e%d", i);
		int code = ctr_exec(e, cid, eid, p, &msg);
		if (code != 0)
			fprintf(stderr, "exec %d of the unread ones: status %d: %s\n", i, code,
				msg ? msg : "");
		free(msg);
		msg = NULL;
		ASSERT_EQ(code, 0);
		ASSERT_EQ(ctr_wait(e, cid, eid), 0);
	}
}

/* ReadStdout of one exec: the status code; *out the first reply's data (malloc'd) when 0. */
static int read_once(struct ctr_env *e, const char *cid, const char *eid, char **out)
{
	Grpc__ReadStreamRequest req = GRPC__READ_STREAM_REQUEST__INIT;
	Grpc__ReadStreamResponse *resp = NULL;

	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	req.len = 4096;
	int code = ctr_call(e, "ReadStdout", &req.base, &grpc__read_stream_response__descriptor,
			    (ProtobufCMessage **)&resp, NULL);
	if (code == 0) {
		*out = strndup((const char *)resp->data.data, resp->data.len);
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	}
	return code;
}

/*
 * Execs of `payload echo x`, each waited and never read: the agent's fd count and RSS stay
 * flat once the bound is reached, every exec succeeds, the newest waited output is still
 * readable and the oldest was freed. 2,000 execs by default (about 15 s);
 * EXEC_PILE_ROUNDS=10000 is the full run (about a minute on two busy cores).
 */
TEST_TIMEOUT(unread_execs_do_not_pile_up, 900)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"sleep", "900", NULL};
	const char *xargs[] = {"echo", "x", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "pile", args);
	Grpc__Process *p = ctr_process_new(xargs);
	int rounds = getenv("EXEC_PILE_ROUNDS") ? atoi(getenv("EXEC_PILE_ROUNDS")) : 2000;
	int warm = STDIO_LINGER_MAX + 64;
	char *out = NULL, eid[32];

	ctr_create_start(&e, "pile", ctr_spec_get(s));
	/* Past the bound once, so what the bound lets linger is already held. */
	exec_unread(&e, "pile", p, 0, warm);
	int fds0 = itest_fd_count_settled(e.agent.pid);
	long rss0 = itest_rss_kib(e.agent.pid);
	double t0 = itest_now_s();
	for (int i = warm; i < warm + rounds; i += 500) {
		int to = i + 500 < warm + rounds ? i + 500 : warm + rounds;
		exec_unread(&e, "pile", p, i, to);
		int fds = itest_fd_count(e.agent.pid);
		if (fds > fds0 + 8)
			fprintf(stderr,
				"after %d unread execs the agent holds %d fds (%d before)\n", to,
				fds, fds0);
		ASSERT_TRUE(fds <= fds0 + 8);
	}
	fprintf(stderr, "%d unread execs in %.1f s; fds %d -> %d, rss %ld -> %ld KiB\n", rounds,
		itest_now_s() - t0, fds0, itest_fd_count(e.agent.pid), rss0,
		itest_rss_kib(e.agent.pid));
	ASSERT_TRUE(itest_fd_count_settled(e.agent.pid) <= fds0 + 8);
	/* A sanitizer build keeps freed memory in quarantine: there only the fds tell. */
	if (!strstr(itest_agent_bin(), "san"))
		ASSERT_TRUE(itest_rss_kib(e.agent.pid) - rss0 < 2048);
	/* The newest waited exec still has its output; the oldest went first. */
	snprintf(eid, sizeof(eid), "e%d", warm + rounds - 1);
	ASSERT_EQ(read_once(&e, "pile", eid, &out), 0);
	ASSERT_STREQ(out, "x\n");
	free(out);
	ASSERT_EQ(read_once(&e, "pile", "e0", &out), 5 /* NOT_FOUND */);
	/* A just-waited exec: its whole output, then EOF. */
	const char *fargs[] = {"echo", "fresh", NULL};
	Grpc__Process *f = ctr_process_new(fargs);
	ASSERT_EQ(ctr_exec(&e, "pile", "fresh", f, NULL), 0);
	ASSERT_EQ(ctr_wait(&e, "pile", "fresh"), 0);
	size_t n = 0;
	out = ctr_read_all(&e, "pile", "fresh", false, &n);
	ASSERT_STREQ(out, "fresh\n");
	free(out);
	ctr_process_free(f);
	ctr_process_free(p);
	ASSERT_EQ(ctr_remove(&e, "pile"), 0);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

/* The reply to a ReadStdout sent earlier: its data (malloc'd, NUL-ended), *n its size. */
static char *recv_read(struct ctr_env *e, unsigned stream, int timeout_ms, size_t *n)
{
	_cleanup_error_ agent_error_t *err = NULL;
	struct ttrpc_reply r = {0};
	char *out = NULL;

	ASSERT_EQ(ttrpc_client_recv(e->c, stream, timeout_ms, &r, &err), 0);
	ASSERT_EQ(r.code, 0);
	Grpc__ReadStreamResponse *resp = grpc__read_stream_response__unpack(NULL, r.len, r.payload);
	ASSERT_NOT_NULL(resp);
	*n = resp->data.len;
	out = malloc(resp->data.len + 1);
	memcpy(out, resp->data.data, resp->data.len);
	out[resp->data.len] = 0;
	grpc__read_stream_response__free_unpacked(resp, NULL);
	ttrpc_reply_clear(&r);
	return out;
}

static unsigned send_read(struct ctr_env *e, const char *cid, const char *eid, uint32_t len)
{
	Grpc__ReadStreamRequest req = GRPC__READ_STREAM_REQUEST__INIT;

	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	req.len = len;
	return itest_send(e->c, "ReadStdout", &req.base);
}

/*
 * A ReadStdout asking for 1 MiB is filled from the pipe as far as it holds data: a writer of
 * 1 MiB blocks, and one reply carries most of a megabyte (the stdout pipe is 1 MiB when
 * agent.container_pipe_size is not set). A small write answers a waiting 1 MiB read at once.
 */
TEST_TIMEOUT(large_reads_fill_small_writes_return_at_once, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"sleep", "60", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "fill", args);
	ctr_create_start(&e, "fill", ctr_spec_get(s));

	const char *wargs[] = {"write-stdout-1m", "8388608", NULL};
	Grpc__Process *w = ctr_process_new(wargs);
	ASSERT_EQ(ctr_exec(&e, "fill", "w", w, NULL), 0);
	usleep(500 * 1000); /* the writer fills the pipe and blocks */
	size_t n = 0;
	char *out = recv_read(&e, send_read(&e, "fill", "w", 1 << 20), 10000, &n);
	fprintf(stderr, "one ReadStdout of 1 MiB from a full pipe: %zu bytes\n", n);
	ASSERT_TRUE(n > 512 * 1024);
	ASSERT_TRUE(n <= 1 << 20);
	ASSERT_TRUE(memcmp(out, "0123456789abcdef0123456789abcdef", 32) == 0);
	free(out);
	size_t first = n;
	free(ctr_read_all(&e, "fill", "w", false, &n));
	ASSERT_EQ(first + n, (size_t)8 << 20);
	ASSERT_EQ(ctr_wait(&e, "fill", "w"), 0);

	/* Interactive: a waiting 1 MiB read gets a 6-byte line as soon as it is written. */
	const char *cargs[] = {"cat", NULL};
	Grpc__Process *c = ctr_process_new(cargs);
	ASSERT_EQ(ctr_exec(&e, "fill", "cat", c, NULL), 0);
	for (int i = 0; i < 5; i++) {
		unsigned rs = send_read(&e, "fill", "cat", 1 << 20);
		Grpc__WriteStreamRequest wr = GRPC__WRITE_STREAM_REQUEST__INIT;
		wr.container_id = "fill";
		wr.exec_id = "cat";
		wr.data.data = (uint8_t *)"hello\n";
		wr.data.len = 6;
		double t0 = itest_now_s();
		unsigned ws = itest_send(e.c, "WriteStdin", &wr.base);
		out = recv_read(&e, rs, 5000, &n);
		double dt = itest_now_s() - t0;
		ASSERT_STREQ(out, "hello\n");
		ASSERT_TRUE(dt < 0.2); /* at once: nothing waits for the request to fill */
		free(out);
		struct ttrpc_reply r = {0};
		_cleanup_error_ agent_error_t *err = NULL;
		ASSERT_EQ(ttrpc_client_recv(e.c, ws, 5000, &r, &err), 0);
		ASSERT_EQ(r.code, 0);
		ttrpc_reply_clear(&r);
	}
	ASSERT_EQ(ctr_signal(&e, "fill", "cat", SIGKILL), 0);
	ASSERT_EQ(ctr_wait(&e, "fill", "cat"), 128 + SIGKILL);

	/* The default stdout pipe (agent.container_pipe_size unset) is 1 MiB. */
	const char *pargs[] = {"pipe-size", NULL};
	Grpc__Process *p = ctr_process_new(pargs);
	ASSERT_EQ(ctr_exec(&e, "fill", "ps", p, NULL), 0);
	out = ctr_read_all(&e, "fill", "ps", false, &n);
	ASSERT_EQ(ctr_wait(&e, "fill", "ps"), 0);
	ctr_assert_value(out, "pipe_size", "1048576");
	free(out);
	ctr_process_free(p);
	ctr_process_free(c);
	ctr_process_free(w);
	ASSERT_EQ(ctr_remove(&e, "fill"), 0);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}
