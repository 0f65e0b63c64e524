// SPDX-License-Identifier: Apache-2.0
/*
 * Exec stdio that nobody reads: execs whose output is never read (a probe
 * client that only waits) must not make the agent grow, while the output of a
 * just-waited exec stays readable (src/sandbox/process.c keeps at most
 * STDIO_LINGER_MAX such processes, each for at most STDIO_LINGER_MS).
 */
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
