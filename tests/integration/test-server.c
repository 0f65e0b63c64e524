/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The real agent on a unix socket, driven through the client library and raw
 * frames: health, dispatch of every method, framing edge cases, deadlines,
 * deferred replies beside quick ones, many connections, and no fd leaks.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "ctr.h"
#include "harness.h"
#include "health.pb-c.h"
#include "itest.h"
#include "rpc/services.h"
#include "rpc/status.h"
#include "ttrpc-client.h"
#include "ttrpc.pb-c.h"

#define HEALTH "grpc.Health"
#define AGENT "grpc.AgentService"

static struct ttrpc_client *client_for(const struct itest_agent *a)
{
	int fd = itest_connect(a);
	if (fd < 0)
		FAIL("connect: %s", strerror(-fd));
	return ttrpc_client_new(fd);
}

static void call_ok(struct ttrpc_client *c, const char *svc, const char *method,
		    struct ttrpc_reply *r)
{
	_cleanup_error_ agent_error_t *err = NULL;
	if (ttrpc_client_call(c, svc, method, NULL, 0, 0, NULL, 0, r, &err) < 0)
		FAIL("%s/%s: %s", svc, method, err ? err->msg : "?");
}

TEST(health_check_and_version)
{
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_for(&a);
	itest_check_serving(c);

	struct ttrpc_reply r = {0};
	call_ok(c, HEALTH, "Version", &r);
	ASSERT_EQ(r.code, 0);
	Grpc__VersionCheckResponse *v =
		grpc__version_check_response__unpack(NULL, r.len, r.payload);
	ASSERT_NOT_NULL(v);
	ASSERT_STREQ(v->grpc_version, "0.0.1");
	ASSERT_STREQ(v->agent_version, AGENT_VERSION);
	grpc__version_check_response__free_unpacked(v, NULL);
	ttrpc_reply_clear(&r);
	itest_agent_stop(&a);
}

/* Whether this build has a handler for the method (from the agent's own table). */
static bool implemented(const char *method)
{
	size_t n;
	const struct rpc_method *t = agent_service_methods(&n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, method) == 0)
			return t[i].fn != NULL;
	return false;
}

TEST(every_agent_method_is_dispatched)
{
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_for(&a);
	const ProtobufCServiceDescriptor *d = &grpc__agent_service__descriptor;
	ASSERT_EQ(d->n_methods, 42);
	for (unsigned i = 0; i < d->n_methods; i++) {
		const char *m = d->methods[i].name;
		if (implemented(m))
			continue; /* each tested on its own */
		struct ttrpc_reply r = {0};
		call_ok(c, AGENT, m, &r);
		if (strcmp(m, "SetPolicy") == 0) {
			ASSERT_EQ(r.code, GRPC_NOT_FOUND);
			ASSERT_STREQ(r.message, "/grpc.AgentService/SetPolicy is not supported");
		} else {
			if (r.code != GRPC_UNIMPLEMENTED)
				FAIL("%s answered %d (%s)", m, r.code, r.message);
			ASSERT_NOT_NULL(strstr(r.message, m));
		}
		ttrpc_reply_clear(&r);
	}
	itest_check_serving(c);
	itest_agent_stop(&a);
}

TEST(unknown_service_and_method)
{
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_for(&a);
	struct ttrpc_reply r = {0};
	call_ok(c, "grpc.Nope", "Check", &r);
	ASSERT_EQ(r.code, GRPC_INVALID_ARGUMENT);
	ASSERT_STREQ(r.message, "grpc.Nope service does not exist");
	ttrpc_reply_clear(&r);
	call_ok(c, AGENT, "NoSuchMethod", &r);
	ASSERT_EQ(r.code, GRPC_UNIMPLEMENTED);
	ASSERT_STREQ(r.message, "NoSuchMethod method");
	ttrpc_reply_clear(&r);
	itest_agent_stop(&a);
}

TEST(undecodable_request_payload)
{
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_for(&a);
	_cleanup_error_ agent_error_t *err = NULL;
	struct ttrpc_reply r = {0};
	/* Field 1 (service) as a length-delimited field that runs past the end. */
	static const uint8_t bad[] = {0x0a, 0x7f, 'x'};
	ASSERT_EQ(ttrpc_client_call(c, HEALTH, "Check", bad, sizeof(bad), 0, NULL, 0, &r, &err), 0);
	ASSERT_EQ(r.code, GRPC_INVALID_ARGUMENT);
	ttrpc_reply_clear(&r);
	itest_check_serving(c);
	itest_agent_stop(&a);
}

static uint8_t *encode_check(size_t *ret_len)
{
	uint8_t *buf = NULL;
	_cleanup_error_ agent_error_t *err = NULL;
	if (ttrpc_encode_request(HEALTH, "Check", NULL, 0, 0, NULL, 0, &buf, ret_len, &err) < 0)
		FAIL("encode: %s", err->msg);
	return buf;
}

static void expect_reply(int fd, uint32_t sid, int code)
{
	struct ttrpc_header h;
	uint8_t *p = NULL;
	_cleanup_error_ agent_error_t *err = NULL;
	if (ttrpc_read_frame(fd, 5000, &h, &p, &err) < 0)
		FAIL("no reply for stream %u: %s", sid, err ? err->msg : "?");
	ASSERT_EQ(h.type, TTRPC_TYPE_RESPONSE);
	ASSERT_EQ(h.stream_id, sid);
	struct ttrpc_reply r = {0};
	ASSERT_EQ(ttrpc_decode_response(p, h.length, &r, NULL), 0);
	if (r.code != code)
		FAIL("stream %u: code %d (%s), want %d", sid, r.code, r.message, code);
	ttrpc_reply_clear(&r);
	free(p);
}

TEST(frame_split_into_single_bytes)
{
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	int fd = itest_connect(&a);
	size_t len;
	_cleanup_free_ uint8_t *req = encode_check(&len);
	uint8_t wire[256];
	struct ttrpc_header h = {.length = len, .stream_id = 1, .type = TTRPC_TYPE_REQUEST};
	ttrpc_header_encode(&h, wire);
	memcpy(wire + TTRPC_HEADER_SIZE, req, len);
	for (size_t i = 0; i < TTRPC_HEADER_SIZE + len; i++) {
		ASSERT_EQ(write(fd, wire + i, 1), 1);
		usleep(1000);
	}
	expect_reply(fd, 1, GRPC_OK);
	close(fd);
	itest_agent_stop(&a);
}

TEST(many_streams_interleaved_all_answered_once)
{
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_for(&a);
	enum { N = 300 };
	uint32_t sids[N];
	for (int i = 0; i < N; i++) {
		const char *m = i % 3 == 0 ? "Version" : "Check";
		ASSERT_EQ(ttrpc_client_send(c, HEALTH, m, NULL, 0, 0, NULL, 0, &sids[i], NULL), 0);
	}
	/* Collect in reverse order: the client keeps the others for later. */
	for (int i = N - 1; i >= 0; i--) {
		struct ttrpc_reply r = {0};
		ASSERT_EQ(ttrpc_client_recv(c, sids[i], 5000, &r, NULL), 0);
		ASSERT_EQ(r.code, 0);
		ttrpc_reply_clear(&r);
	}
	itest_agent_stop(&a);
}

/* A call that waits (GetOOMEvent) never delays the others on the same connection. */
TEST(deferred_call_does_not_block_others)
{
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_for(&a);
	uint32_t oom_sid, chk;
	ASSERT_EQ(ttrpc_client_send(c, AGENT, "GetOOMEvent", NULL, 0, 0, NULL, 0, &oom_sid, NULL),
		  0);
	for (int i = 0; i < 50; i++) {
		double t = itest_now_s();
		itest_check_serving(c);
		ASSERT_TRUE(itest_now_s() - t < 1.0);
	}
	ASSERT_EQ(ttrpc_client_send(c, HEALTH, "Check", NULL, 0, 0, NULL, 0, &chk, NULL), 0);
	struct ttrpc_reply r = {0};
	ASSERT_EQ(ttrpc_client_recv(c, chk, 5000, &r, NULL), 0);
	ttrpc_reply_clear(&r);
	/* The OOM call is still open: nothing arrives for it. */
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_TRUE(ttrpc_client_recv(c, oom_sid, 300, &r, &err) < 0);
	itest_agent_stop(&a);
}

TEST(deadline_answers_deadline_exceeded)
{
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_for(&a);
	struct ttrpc_reply r = {0};
	_cleanup_error_ agent_error_t *err = NULL;
	double t = itest_now_s();
	ASSERT_EQ(ttrpc_client_call(c, AGENT, "GetOOMEvent", NULL, 0, 200 * 1000000LL, NULL, 0, &r,
				    &err),
		  0);
	double took = itest_now_s() - t;
	ASSERT_EQ(r.code, GRPC_DEADLINE_EXCEEDED);
	ASSERT_STREQ(r.message, "timeout");
	ASSERT_TRUE(took >= 0.19);
	ASSERT_TRUE(took < 3.0);
	ttrpc_reply_clear(&r);
	itest_check_serving(c);
	itest_agent_stop(&a);
}

TEST(even_stream_id_rejected)
{
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	int fd = itest_connect(&a);
	size_t len;
	_cleanup_free_ uint8_t *req = encode_check(&len);
	ASSERT_EQ(ttrpc_write_frame(fd, 2, TTRPC_TYPE_REQUEST, 0, req, len, NULL), 0);
	struct ttrpc_header h;
	uint8_t *p = NULL;
	ASSERT_EQ(ttrpc_read_frame(fd, 5000, &h, &p, NULL), 0);
	struct ttrpc_reply r = {0};
	ASSERT_EQ(ttrpc_decode_response(p, h.length, &r, NULL), 0);
	ASSERT_EQ(h.stream_id, 2);
	ASSERT_EQ(r.code, GRPC_INVALID_ARGUMENT);
	ASSERT_STREQ(r.message, "stream id must be odd");
	ttrpc_reply_clear(&r);
	free(p);
	/* The connection goes on. */
	ASSERT_EQ(ttrpc_write_frame(fd, 3, TTRPC_TYPE_REQUEST, 0, req, len, NULL), 0);
	expect_reply(fd, 3, GRPC_OK);
	close(fd);
	itest_agent_stop(&a);
}

TEST(oversized_frame_rejected_connection_survives)
{
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	int fd = itest_connect(&a);
	long rss_before = itest_rss_kib(a.pid);
	size_t big = 5u << 20;
	uint8_t *junk = calloc(1, big);
	ASSERT_NOT_NULL(junk);
	/* Write in a child: the agent answers before it has skipped the whole body. */
	pid_t w = fork();
	if (w == 0) {
		_exit(ttrpc_write_frame(fd, 1, TTRPC_TYPE_REQUEST, 0, junk, big, NULL) == 0 ? 0
											    : 1);
	}
	expect_reply(fd, 1, GRPC_INVALID_ARGUMENT);
	int st;
	ASSERT_EQ(waitpid(w, &st, 0), w);
	ASSERT_EQ(st, 0);
	free(junk);
	size_t len;
	_cleanup_free_ uint8_t *req = encode_check(&len);
	ASSERT_EQ(ttrpc_write_frame(fd, 3, TTRPC_TYPE_REQUEST, 0, req, len, NULL), 0);
	expect_reply(fd, 3, GRPC_OK);
	/* The agent skipped the 5 MiB body instead of holding it. */
	ASSERT_TRUE(itest_rss_kib(a.pid) - rss_before < 2048);
	close(fd);
	itest_agent_stop(&a);
}

TEST(garbage_bytes_do_not_hurt_the_agent)
{
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	srand(42);
	for (int round = 0; round < 20; round++) {
		int fd = itest_connect(&a);
		uint8_t buf[4096];
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = rand();
		/* Keep announced lengths small so the agent answers instead of waiting for bodies.
		 */
		buf[0] = 0;
		buf[1] = 0;
		(void)!write(fd, buf, sizeof(buf));
		usleep(2000);
		close(fd);
	}
	ASSERT_TRUE(itest_alive(a.pid));
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_for(&a);
	itest_check_serving(c);
	itest_agent_stop(&a);
}

static void wait_fd_count(pid_t pid, int want)
{
	int n = -1;
	for (int i = 0; i < 200; i++) {
		n = itest_fd_count(pid);
		if (n == want)
			return;
		usleep(10000);
	}
	FAIL("agent holds %d fds, expected %d", n, want);
}

TEST(disconnects_mid_request_leak_nothing)
{
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	int base = itest_fd_count_settled(a.pid);
	ASSERT_TRUE(base > 0);
	size_t len;
	_cleanup_free_ uint8_t *req = encode_check(&len);
	for (int i = 0; i < 50; i++) {
		int fd = itest_connect(&a);
		ASSERT_TRUE(fd >= 0);
		switch (i % 4) {
		case 0: /* a deferred call left open */ {
			struct ttrpc_client *c = ttrpc_client_new(fd);
			uint32_t sid;
			ASSERT_EQ(ttrpc_client_send(c, AGENT, "GetOOMEvent", NULL, 0, 0, NULL, 0,
						    &sid, NULL),
				  0);
			ttrpc_client_free(c);
			fd = -1;
			break;
		}
		case 1: /* half a header */
			ASSERT_EQ(write(fd, req, 4), 4);
			break;
		case 2: /* header, half the body */
		{
			uint8_t hdr[TTRPC_HEADER_SIZE];
			struct ttrpc_header h = {.length = len, .stream_id = 1, .type = 1};
			ttrpc_header_encode(&h, hdr);
			ASSERT_EQ(write(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
			ASSERT_EQ(write(fd, req, len / 2), (ssize_t)(len / 2));
			break;
		}
		default: /* a request whose reply is never read */
			ASSERT_EQ(ttrpc_write_frame(fd, 1, TTRPC_TYPE_REQUEST, 0, req, len, NULL),
				  0);
			break;
		}
		if (fd >= 0)
			close(fd);
	}
	wait_fd_count(a.pid, base);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_for(&a);
	itest_check_serving(c);
	itest_agent_stop(&a);
}

TEST(many_connections_at_once)
{
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	int base = itest_fd_count_settled(a.pid);
	enum { N = 100 };
	struct ttrpc_client *cs[N];
	uint32_t sids[N];
	for (int i = 0; i < N; i++) {
		cs[i] = client_for(&a);
		ASSERT_EQ(ttrpc_client_send(cs[i], AGENT, "GetOOMEvent", NULL, 0, 0, NULL, 0,
					    &sids[i], NULL),
			  0);
	}
	for (int i = 0; i < N; i++)
		itest_check_serving(cs[i]);
	ASSERT_EQ(itest_fd_count(a.pid), base + N);
	for (int i = 0; i < N; i++)
		ttrpc_client_free(cs[i]);
	wait_fd_count(a.pid, base);
	itest_agent_stop(&a);
}

TEST(logs_are_json_lines)
{
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_for(&a);
	itest_check_serving(c);
	itest_agent_stop(&a);
	ASSERT_TRUE(itest_log_contains(&a, "\"msg\":\"announce\""));
	ASSERT_TRUE(itest_log_contains(&a, "\"msg\":\"kata-agent shutdown complete\""));
	FILE *f = fopen(a.log, "r");
	ASSERT_NOT_NULL(f);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lines = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		lines++;
		if (strncmp(line, "{\"msg\":", 7) != 0 || line[n - 2] != '}' ||
		    !strstr(line, "\"level\":\"") || !strstr(line, "\"ts\":\"") ||
		    !strstr(line, "\"subsystem\":\""))
			FAIL("not a log record: %s", line);
	}
	free(line);
	fclose(f);
	ASSERT_TRUE(lines >= 3);
}

/* A bad address in the configuration is a warning: the agent keeps a valid one and serves. */
TEST(invalid_server_address_is_replaced_with_a_warning)
{
	char path[] = "/tmp/kata-cmdline-XXXXXX";
	int fd = mkstemp(path);
	ASSERT_TRUE(fd >= 0);
	dprintf(fd, "agent.server_addr=tcp://1.2.3.4:1\n");
	close(fd);
	const char *args[] = {"--cmdline-file", path, NULL};
	struct itest_agent a;
	itest_agent_start(&a, NULL, args); /* the environment's unix address is the valid one */
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_for(&a);
	itest_check_serving(c);
	ASSERT_TRUE(itest_log_contains(&a, "tcp://1.2.3.4:1"));
	ASSERT_TRUE(itest_log_contains(&a, "\"level\":\"WARN\""));
	itest_agent_stop(&a);
	unlink(path);
}

/* An address that parses but cannot be bound: outside a VM the agent exits, saying why. */
TEST(unbindable_address_fails_start_with_clear_log)
{
	struct itest_agent a = {0};
	/* The harness removes its scratch directory after the test. */
	snprintf(a.dir, sizeof(a.dir), "%s", test_scratch_dir());
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "KATA_AGENT_SERVER_ADDR=unix:///nonexistent-dir/agent.sock %s --cmdline-file "
		 "/dev/null 2>%s/log; echo $? >%s/rc",
		 itest_agent_bin(), a.dir, a.dir);
	ASSERT_EQ(system(cmd), 0);
	snprintf(a.log, sizeof(a.log), "%s/log", a.dir);
	ASSERT_TRUE(itest_log_contains(&a, "cannot bind unix socket /nonexistent-dir/agent.sock"));
	snprintf(a.log, sizeof(a.log), "%s/rc", a.dir);
	bool exit_1 = itest_log_contains(&a, "1");
	unlink(a.log);
	snprintf(a.log, sizeof(a.log), "%s/log", a.dir);
	unlink(a.log);
	rmdir(a.dir); /* nothing left in /tmp */
	ASSERT_TRUE(exit_1);
}

/* Lines of the agent's log that contain s and (unless NULL) also t. */
static int log_count2(const struct itest_agent *a, const char *s, const char *t)
{
	FILE *f = fopen(a->log, "r");
	char *line = NULL;
	size_t cap = 0;
	int n = 0;
	ASSERT_NOT_NULL(f);
	while (getline(&line, &cap, f) > 0)
		n += strstr(line, s) && (!t || strstr(line, t));
	free(line);
	fclose(f);
	return n;
}

static int log_count(const struct itest_agent *a, const char *s)
{
	return log_count2(a, s, NULL);
}

/*
 * Deadlines the host sends at the edges of int64: the largest one and negative ones are no
 * deadline worth a timer (INT64_MAX ns is ~292 years), never an overflow (the sanitizer build
 * reports one in the agent's log) nor a call cut short.
 */
TEST(extreme_timeouts_neither_overflow_nor_cut_calls)
{
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_for(&a);
	const int64_t timeouts[] = {INT64_MAX, INT64_MAX - 1, -1, INT64_MIN, 1};
	uint32_t sids[5];
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(ttrpc_client_send(c, AGENT, "GetOOMEvent", NULL, 0, timeouts[i], NULL, 0,
					    &sids[i], NULL),
			  0);
	itest_check_serving(c);
	/* 1 ns rounds up to 1 ms: that call ends; the others wait on. */
	struct ttrpc_reply r = {0};
	ASSERT_EQ(ttrpc_client_recv(c, sids[4], 3000, &r, NULL), 0);
	ASSERT_EQ(r.code, GRPC_DEADLINE_EXCEEDED);
	ttrpc_reply_clear(&r);
	for (int i = 0; i < 4; i++) {
		_cleanup_error_ agent_error_t *err = NULL;
		ASSERT_EQ(ttrpc_client_recv(c, sids[i], 100, &r, &err), -ETIMEDOUT);
	}
	itest_check_serving(c);
	ASSERT_TRUE(itest_alive(a.pid));
	ASSERT_FALSE(itest_log_contains(&a, "runtime error"));
	itest_agent_stop(&a);
}

/*
 * A deferred call whose deadline passed before its step failed: the client got
 * DEADLINE_EXCEEDED, and the step's own error still reaches the log once (AddSwap's disk
 * never comes: slot 1f on the root bus).
 */
TEST_TIMEOUT(error_after_the_deadline_is_logged_once, 30)
{
	struct stat st;
	if (stat("/sys/devices/pci0000:00", &st) < 0)
		SKIP("no PCI root bus in this machine's sysfs");
	struct itest_agent a;
	itest_agent_start_cmdline(&a, "agent.hotplug_timeout=600ms");
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_for(&a);
	Grpc__AddSwapRequest req = GRPC__ADD_SWAP_REQUEST__INIT;
	uint32_t slots[] = {0x1f};
	req.pcipath = slots;
	req.n_pcipath = 1;
	uint8_t buf[64];
	size_t len = grpc__add_swap_request__pack(&req, buf);
	struct ttrpc_reply r = {0};
	ASSERT_EQ(ttrpc_client_call(c, AGENT, "AddSwap", buf, len, 150 * 1000000LL, NULL, 0, &r,
				    NULL),
		  0);
	ASSERT_EQ(r.code, GRPC_DEADLINE_EXCEEDED);
	ttrpc_reply_clear(&r);
	/* The disk wait ends at 600 ms with its own error, which nobody will read. */
	bool seen = false;
	for (int i = 0; i < 300 && !seen; i++) {
		usleep(10000);
		seen = log_count(&a, "after its caller was gone") > 0;
	}
	ASSERT_TRUE(seen);
	itest_check_serving(c);
	ASSERT_EQ(log_count(&a, "after its caller was gone"), 1);
	ASSERT_TRUE(log_count(&a, "AddSwap") >= 1);
	itest_agent_stop(&a);
}

/*
 * ReadStdout with len 0 on a live process: not an empty OK reply (which a runtime reads as
 * EOF) but INVALID_ARGUMENT, as upstream also refuses it; the output is still there for the
 * next read of a real size.
 */
TEST_TIMEOUT(read_stdout_len_zero_is_not_eof, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *args[] = {"echo", "hello", "--", "sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "rz", args);
	ASSERT_EQ(ctr_create(&e, "rz", ctr_spec_get(s), NULL), 0);
	ASSERT_EQ(ctr_start(&e, "rz", NULL), 0);

	Grpc__ReadStreamRequest req = GRPC__READ_STREAM_REQUEST__INIT;
	Grpc__ReadStreamResponse *resp = NULL;
	char *msg = NULL;
	req.container_id = req.exec_id = "rz";
	for (int i = 0; i < 2; i++) {
		const char *method = i ? "ReadStderr" : "ReadStdout";
		req.len = 0;
		int code = ctr_call(&e, method, &req.base, &grpc__read_stream_response__descriptor,
				    (ProtobufCMessage **)&resp, &msg);
		if (code == 0)
			FAIL("%s len 0 answered OK with %zu bytes", method, resp->data.len);
		ASSERT_EQ(code, GRPC_INVALID_ARGUMENT);
		ASSERT_NOT_NULL(strstr(msg, "len"));
		free(msg);
	}
	req.len = 64;
	ASSERT_EQ(ctr_call(&e, "ReadStdout", &req.base, &grpc__read_stream_response__descriptor,
			   (ProtobufCMessage **)&resp, NULL),
		  0);
	ASSERT_EQ(resp->data.len, 6);
	ASSERT_EQ(memcmp(resp->data.data, "hello\n", 6), 0);
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	ASSERT_EQ(ctr_signal(&e, "rz", "", SIGKILL), 0);
	ASSERT_EQ(ctr_wait(&e, "rz", "rz"), 128 + SIGKILL);
	ASSERT_EQ(ctr_remove(&e, "rz"), 0);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

/* A non-blocking connect: it fails rather than waits when the listen backlog is full. */
static int connect_nowait(const struct itest_agent *a)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ASSERT_TRUE(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a->sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	int fl = fcntl(fd, F_GETFL);
	ASSERT_EQ(fcntl(fd, F_SETFL, fl & ~O_NONBLOCK), 0);
	return fd;
}

/*
 * The connection cap comes from the agent's RLIMIT_NOFILE (a quarter of it: 64 -> 16). Past
 * it the agent stops accepting instead of closing: the rest wait in the listen backlog and are
 * served as earlier connections close, each Check answered; one warning for the burst.
 */
TEST_TIMEOUT(connections_past_the_cap_wait_and_are_all_served, 60)
{
	enum { NOFILE = 64, CAP = NOFILE / 4, N = CAP + 44 };
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	{
		_cleanup_ttrpc_client_ struct ttrpc_client *c = client_for(&a);
		itest_check_serving(c); /* start-up (which raises its own limit) is over */
	}
	struct rlimit rl = {NOFILE, NOFILE};
	ASSERT_EQ(prlimit(a.pid, RLIMIT_NOFILE, &rl, NULL), 0);

	struct ttrpc_client *cs[N];
	uint32_t sids[N];
	for (int i = 0; i < N; i++) {
		int fd = connect_nowait(&a);
		if (fd < 0)
			FAIL("connection %d of %d could not even wait in the backlog: %s", i, N,
			     strerror(-fd));
		cs[i] = ttrpc_client_new(fd);
		ASSERT_EQ(ttrpc_client_send(cs[i], HEALTH, "Check", NULL, 0, 0, NULL, 0, &sids[i],
					    NULL),
			  0);
	}
	/* Past the cap a connection waits: no answer yet, and not closed either. */
	struct ttrpc_reply r = {0};
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(ttrpc_client_recv(cs[N - 1], sids[N - 1], 300, &r, &err), -ETIMEDOUT);
	/* Each one is answered once those before it have closed. */
	for (int i = 0; i < N; i++) {
		agent_error_t *e = NULL;
		int rr = ttrpc_client_recv(cs[i], sids[i], 5000, &r, &e);
		if (rr < 0)
			FAIL("connection %d of %d: %s", i, N, e ? e->msg : strerror(-rr));
		ASSERT_EQ(r.code, 0);
		ttrpc_reply_clear(&r);
		cs[i] = ttrpc_client_free(cs[i]);
	}
	ASSERT_TRUE(itest_alive(a.pid));
	/* One warning for the whole burst, not one per connection. */
	ASSERT_EQ(log_count2(&a, "connection cap", "\"level\":\"WARN\""), 1);
	ASSERT_EQ(log_count(&a, "\"level\":\"WARN\""), 1);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_for(&a);
	itest_check_serving(c);
	itest_agent_stop(&a);
}
