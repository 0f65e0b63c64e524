/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host-side ttRPC client against fake servers run in forked children:
 * out-of-order replies, strays, oversized and broken replies, raw frames,
 * and dialing (unix, abstract, serial, hybrid vsock handshake, timeouts).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent-methods.h"
#include "base/macro.h"
#include "grpc-codes.h"
#include "harness.h"
#include "ttrpc-client.h"

#include "google/rpc/status.pb-c.h"
#include "health.pb-c.h"
#include "ttrpc.pb-c.h"

/* ---- fake server plumbing ----------------------------------------------------------------- */

/* LeakSanitizer's entry point when built with SAN=1; the harness _exit()s, so ask explicitly. */
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static void assert_no_leaks(void)
{
	if (__lsan_do_recoverable_leak_check && __lsan_do_recoverable_leak_check())
		FAIL("memory leaked (see the LeakSanitizer report above)");
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* Runs fn(fd) in a child; the parent keeps only its own end. */
static pid_t serve(int fd, void (*fn)(int fd))
{
	fflush(NULL);
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		fn(fd);
		_exit(0);
	}
	close(fd);
	return pid;
}

/* The fake server's own assertions surface here. */
static void server_done(pid_t pid)
{
	int st = 0;
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		FAIL("fake server failed (status 0x%x)", st);
}

static void socket_pair(int *client, int *server)
{
	int sv[2];
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	*client = sv[0];
	*server = sv[1];
}

static Ttrpc__Request *read_request(int fd, struct ttrpc_header *ret_hdr)
{
	uint8_t *payload = NULL;
	agent_error_t *err = NULL;
	if (ttrpc_read_frame(fd, 5000, ret_hdr, &payload, &err) < 0)
		FAIL("server: reading a request: %s", err->msg);
	ASSERT_EQ(ret_hdr->type, TTRPC_TYPE_REQUEST);
	Ttrpc__Request *req = ttrpc__request__unpack(NULL, ret_hdr->length, payload);
	free(payload);
	ASSERT_NOT_NULL(req);
	return req;
}

static void send_reply(int fd, uint32_t stream_id, int code, const char *msg, const void *payload,
		       size_t len)
{
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
	st.code = code;
	st.message = (char *)(msg ? msg : "");
	resp.status = &st;
	resp.payload.data = (uint8_t *)payload;
	resp.payload.len = len;
	size_t n = ttrpc__response__get_packed_size(&resp);
	uint8_t *buf = malloc(n + 1);
	ASSERT_NOT_NULL(buf);
	ttrpc__response__pack(&resp, buf);
	ASSERT_EQ(ttrpc_write_frame(fd, stream_id, TTRPC_TYPE_RESPONSE, 0, buf, n, NULL), 0);
	free(buf);
}

/* Replies to one request with "re:" + its payload. */
static void echo_one(int fd)
{
	struct ttrpc_header h;
	Ttrpc__Request *req = read_request(fd, &h);
	char out[256];
	int n = snprintf(out, sizeof(out), "re:%.*s", (int)req->payload.len,
			 (const char *)req->payload.data);
	send_reply(fd, h.stream_id, 0, NULL, out, (size_t)n);
	ttrpc__request__free_unpacked(req, NULL);
}

static struct ttrpc_client *client_on(int fd)
{
	struct ttrpc_client *c = ttrpc_client_new(fd);
	ASSERT_NOT_NULL(c);
	return c;
}

static uint32_t send_str(struct ttrpc_client *c, const char *method, const char *payload)
{
	uint32_t id = 0;
	agent_error_t *err = NULL;
	if (ttrpc_client_send(c, "test.Svc", method, (const uint8_t *)payload, strlen(payload), 0,
			      NULL, 0, &id, &err) < 0)
		FAIL("send: %s", err->msg);
	return id;
}

static void expect_reply(struct ttrpc_client *c, uint32_t id, int timeout_ms, const char *want)
{
	struct ttrpc_reply r = {0};
	agent_error_t *err = NULL;
	if (ttrpc_client_recv(c, id, timeout_ms, &r, &err) < 0)
		FAIL("recv %u: %s", id, err->msg);
	ASSERT_EQ(r.code, GRPC_OK);
	ASSERT_STREQ(r.message, "");
	ASSERT_EQ(r.len, strlen(want));
	ASSERT_TRUE(memcmp(r.payload, want, r.len) == 0);
	ttrpc_reply_clear(&r);
}

static void expect_recv_error(struct ttrpc_client *c, uint32_t id, int timeout_ms, int errnum,
			      const char *want)
{
	struct ttrpc_reply r = {0};
	agent_error_t *err = NULL;
	int rc = ttrpc_client_recv(c, id, timeout_ms, &r, &err);
	if (rc != -errnum)
		FAIL("recv %u: got %d (%s), want -%d", id, rc, err ? err->msg : "no error", errnum);
	ASSERT_NULL(r.message);
	if (want && !strstr(err->msg, want))
		FAIL("error \"%s\" does not mention \"%s\"", err->msg, want);
	agent_error_free(err);
}

/* ---- calls -------------------------------------------------------------------------------- */

static void srv_reverse_three(int fd)
{
	struct ttrpc_header h[3];
	Ttrpc__Request *req[3];
	for (int i = 0; i < 3; i++) {
		req[i] = read_request(fd, &h[i]);
		ASSERT_EQ(h[i].stream_id, 1 + 2 * i);
		ASSERT_EQ(h[i].flags, 0);
		ASSERT_STREQ(req[i]->service, "test.Svc");
	}
	ASSERT_STREQ(req[1]->method, "B");
	/* Answer 5, 1, 3: as a concurrent server may. */
	static const int order[] = {2, 0, 1};
	for (int k = 0; k < 3; k++) {
		int i = order[k];
		char out[64];
		int n = snprintf(out, sizeof(out), "re:%.*s", (int)req[i]->payload.len,
				 (const char *)req[i]->payload.data);
		send_reply(fd, h[i].stream_id, 0, NULL, out, (size_t)n);
	}
	for (int i = 0; i < 3; i++)
		ttrpc__request__free_unpacked(req[i], NULL);
}

TEST(out_of_order_replies_collected_by_stream)
{
	int cfd, sfd;
	socket_pair(&cfd, &sfd);
	pid_t pid = serve(sfd, srv_reverse_three);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_on(cfd);

	ASSERT_EQ(send_str(c, "A", "a"), 1);
	ASSERT_EQ(send_str(c, "B", "bb"), 3);
	ASSERT_EQ(send_str(c, "C", "ccc"), 5);
	/* Collect in yet another order than the server's. */
	expect_reply(c, 3, 5000, "re:bb");
	expect_reply(c, 1, 5000, "re:a");
	expect_reply(c, 5, 5000, "re:ccc");
	/* Collected streams are gone. */
	expect_recv_error(c, 1, 0, ENOENT, "not outstanding");
	server_done(pid);
	assert_no_leaks();
}

static void srv_strays_then_two(int fd)
{
	struct ttrpc_header h1, h3;
	Ttrpc__Request *r1 = read_request(fd, &h1);
	Ttrpc__Request *r3 = read_request(fd, &h3);
	/* Noise first: a reply for a stream never sent, and a data frame. */
	send_reply(fd, 99, 0, NULL, "stray", 5);
	ASSERT_EQ(ttrpc_write_frame(fd, h3.stream_id, TTRPC_TYPE_DATA, 0, (const uint8_t *)"d", 1,
				    NULL),
		  0);
	send_reply(fd, h1.stream_id, 0, NULL, "one", 3);
	send_reply(fd, h3.stream_id, 0, NULL, "three", 5);
	ttrpc__request__free_unpacked(r1, NULL);
	ttrpc__request__free_unpacked(r3, NULL);
	close(fd);
}

TEST(call_keeps_replies_of_other_streams)
{
	int cfd, sfd;
	socket_pair(&cfd, &sfd);
	pid_t pid = serve(sfd, srv_strays_then_two);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_on(cfd);

	uint32_t first = send_str(c, "A", "x");
	struct ttrpc_reply r = {0};
	agent_error_t *err = NULL;
	if (ttrpc_client_call(c, "test.Svc", "B", (const uint8_t *)"y", 1, 0, NULL, 0, &r, &err) <
	    0)
		FAIL("call: %s", err->msg);
	ASSERT_EQ(r.len, 5);
	ASSERT_TRUE(memcmp(r.payload, "three", 5) == 0);
	ttrpc_reply_clear(&r);
	server_done(pid);
	/* The server is gone: the earlier reply must have been kept, not re-read. */
	expect_reply(c, first, 0, "one");
	expect_recv_error(c, 99, 0, ENOENT, NULL);
	assert_no_leaks();
}

static void srv_check_envelope(int fd)
{
	struct ttrpc_header h;
	Ttrpc__Request *req = read_request(fd, &h);
	ASSERT_STREQ(req->service, "grpc.Health");
	ASSERT_STREQ(req->method, "Check");
	ASSERT_EQ(req->timeout_nano, 123456789);
	ASSERT_EQ(req->n_metadata, 2);
	ASSERT_STREQ(req->metadata[0]->key, "k1");
	ASSERT_STREQ(req->metadata[1]->value, "v2");
	Grpc__CheckRequest *cr =
		grpc__check_request__unpack(NULL, req->payload.len, req->payload.data);
	ASSERT_NOT_NULL(cr);
	ASSERT_STREQ(cr->service, "agent");
	grpc__check_request__free_unpacked(cr, NULL);
	send_reply(fd, h.stream_id, GRPC_NOT_FOUND, "nope", NULL, 0);
	ttrpc__request__free_unpacked(req, NULL);

	/* Second call: a typed OK reply. */
	req = read_request(fd, &h);
	Grpc__HealthCheckResponse hr = GRPC__HEALTH_CHECK_RESPONSE__INIT;
	hr.status = GRPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	uint8_t buf[16];
	size_t n = grpc__health_check_response__pack(&hr, buf);
	send_reply(fd, h.stream_id, 0, NULL, buf, n);
	ttrpc__request__free_unpacked(req, NULL);

	/* Third: OK with a payload that is not the announced message. */
	req = read_request(fd, &h);
	send_reply(fd, h.stream_id, 0, NULL, "\xff\xff\xff", 3);
	ttrpc__request__free_unpacked(req, NULL);
}

TEST(status_metadata_and_typed_calls)
{
	int cfd, sfd;
	socket_pair(&cfd, &sfd);
	pid_t pid = serve(sfd, srv_check_envelope);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_on(cfd);

	Grpc__CheckRequest cr = GRPC__CHECK_REQUEST__INIT;
	cr.service = "agent";
	uint8_t buf[64];
	size_t n = grpc__check_request__pack(&cr, buf);
	const struct ttrpc_kv md[] = {{"k1", "v1"}, {"k2", "v2"}};
	struct ttrpc_reply r = {0};
	agent_error_t *err = NULL;
	ASSERT_EQ(ttrpc_client_call(c, "grpc.Health", "Check", buf, n, 123456789, md, 2, &r, &err),
		  0);
	ASSERT_EQ(r.code, GRPC_NOT_FOUND);
	ASSERT_STREQ(r.message, "nope");
	ASSERT_NULL(r.payload);
	ttrpc_reply_clear(&r);

	ProtobufCMessage *resp = NULL;
	int32_t code = -1;
	char *msg = NULL;
	ASSERT_EQ(ttrpc_client_call_msg(c, "grpc.Health", "Check", &cr.base,
					&grpc__health_check_response__descriptor, &resp, &code,
					&msg, 0, &err),
		  0);
	ASSERT_EQ(code, 0);
	ASSERT_STREQ(msg, "");
	ASSERT_NOT_NULL(resp);
	ASSERT_EQ(((Grpc__HealthCheckResponse *)resp)->status,
		  GRPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
	protobuf_c_message_free_unpacked(resp, NULL);
	free(msg);

	resp = NULL;
	ASSERT_EQ(ttrpc_client_call_msg(c, "grpc.Health", "Check", &cr.base,
					&grpc__health_check_response__descriptor, &resp, &code,
					NULL, 0, &err),
		  -EBADMSG);
	ASSERT_NULL(resp);
	ASSERT_NOT_NULL(strstr(err->msg, "grpc.HealthCheckResponse"));
	agent_error_free(err);
	server_done(pid);
	assert_no_leaks();
}

static void srv_oversized_then_normal(int fd)
{
	struct ttrpc_header h1, h3;
	Ttrpc__Request *r1 = read_request(fd, &h1);
	Ttrpc__Request *r3 = read_request(fd, &h3);
	size_t big = TTRPC_MAX_PAYLOAD + 1;
	uint8_t *junk = calloc(1, big);
	ASSERT_NOT_NULL(junk);
	ASSERT_EQ(ttrpc_write_frame(fd, h1.stream_id, TTRPC_TYPE_RESPONSE, 0, junk, big, NULL), 0);
	free(junk);
	send_reply(fd, h3.stream_id, 0, NULL, "fine", 4);
	ttrpc__request__free_unpacked(r1, NULL);
	ttrpc__request__free_unpacked(r3, NULL);
}

TEST(oversized_reply_fails_its_stream_only)
{
	int cfd, sfd;
	socket_pair(&cfd, &sfd);
	pid_t pid = serve(sfd, srv_oversized_then_normal);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_on(cfd);

	uint32_t a = send_str(c, "A", "a"), b = send_str(c, "B", "b");
	expect_recv_error(c, a, 5000, EMSGSIZE, "is over");
	expect_reply(c, b, 5000, "fine");
	server_done(pid);
	assert_no_leaks();
}

TEST(oversized_request_refused_before_sending)
{
	int cfd, sfd;
	socket_pair(&cfd, &sfd);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_on(cfd);
	size_t big = TTRPC_MAX_PAYLOAD;
	uint8_t *junk = calloc(1, big);
	ASSERT_NOT_NULL(junk);
	uint32_t id = 0;
	agent_error_t *err = NULL;
	ASSERT_EQ(ttrpc_client_send(c, "s", "m", junk, big, 0, NULL, 0, &id, &err), -EMSGSIZE);
	ASSERT_EQ(id, 0);
	agent_error_free(err);
	free(junk);
	/* Nothing reached the wire, and the next id is still 1. */
	char probe;
	ASSERT_EQ(recv(sfd, &probe, 1, MSG_DONTWAIT), -1);
	ASSERT_EQ(errno, EAGAIN);
	ASSERT_EQ(send_str(c, "A", "a"), 1);
	close(sfd);
	assert_no_leaks();
}

static void srv_read_then_close(int fd)
{
	struct ttrpc_header h;
	Ttrpc__Request *r = read_request(fd, &h);
	ttrpc__request__free_unpacked(r, NULL);
	/* Half a header, then gone. */
	ASSERT_EQ(write(fd, "\0\0\0", 3), 3);
	close(fd);
}

TEST(connection_closed_mid_frame)
{
	int cfd, sfd;
	socket_pair(&cfd, &sfd);
	pid_t pid = serve(sfd, srv_read_then_close);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_on(cfd);
	uint32_t id = send_str(c, "A", "a");
	expect_recv_error(c, id, 5000, EPIPE, "inside a frame");
	server_done(pid);
	/* The connection stays failed. */
	uint32_t id2 = 0;
	agent_error_t *err = NULL;
	ASSERT_TRUE(ttrpc_client_send(c, "s", "m", NULL, 0, 0, NULL, 0, &id2, &err) < 0);
	agent_error_free(err);
	assert_no_leaks();
}

static void srv_slow_echo(int fd)
{
	sleep_ms(300);
	echo_one(fd);
}

TEST(recv_timeout_leaves_stream_outstanding)
{
	int cfd, sfd;
	socket_pair(&cfd, &sfd);
	pid_t pid = serve(sfd, srv_slow_echo);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_on(cfd);
	uint32_t id = send_str(c, "A", "late");
	int64_t t0 = now_ms();
	expect_recv_error(c, id, 50, ETIMEDOUT, "timed out");
	ASSERT_TRUE(now_ms() - t0 < 250);
	expect_reply(c, id, 5000, "re:late");
	server_done(pid);
	assert_no_leaks();
}

static void srv_garbage_reply(int fd)
{
	struct ttrpc_header h;
	Ttrpc__Request *r = read_request(fd, &h);
	ASSERT_EQ(ttrpc_write_frame(fd, h.stream_id, TTRPC_TYPE_RESPONSE, 0,
				    (const uint8_t *)"\x0a\xff", 2, NULL),
		  0);
	ttrpc__request__free_unpacked(r, NULL);
	echo_one(fd);
}

TEST(undecodable_reply_fails_its_stream_only)
{
	int cfd, sfd;
	socket_pair(&cfd, &sfd);
	pid_t pid = serve(sfd, srv_garbage_reply);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_on(cfd);
	expect_recv_error(c, send_str(c, "A", "a"), 5000, EBADMSG, "undecodable");
	expect_reply(c, send_str(c, "B", "b"), 5000, "re:b");
	server_done(pid);
	assert_no_leaks();
}

/* ---- raw frames --------------------------------------------------------------------------- */

TEST(raw_frames)
{
	int a, b;
	socket_pair(&a, &b);
	struct ttrpc_header h;
	uint8_t *p = NULL;
	agent_error_t *err = NULL;

	/* Anything goes on the way out: even stream ids, odd types and flags. */
	ASSERT_EQ(ttrpc_write_frame(a, 2, 7, 0x5a, (const uint8_t *)"xyz", 3, &err), 0);
	ASSERT_EQ(ttrpc_read_frame(b, 1000, &h, &p, &err), 0);
	ASSERT_EQ(h.stream_id, 2);
	ASSERT_EQ(h.type, 7);
	ASSERT_EQ(h.flags, 0x5a);
	ASSERT_EQ(h.length, 3);
	ASSERT_TRUE(memcmp(p, "xyz", 3) == 0);
	free(p);

	ASSERT_EQ(ttrpc_write_frame(a, 1, 1, 0, NULL, 0, &err), 0);
	p = (uint8_t *)"untouched";
	ASSERT_EQ(ttrpc_read_frame(b, 1000, &h, &p, &err), 0);
	ASSERT_NULL(p);
	ASSERT_EQ(h.length, 0);

	/* An announced length over the limit: reported, body left unread. */
	uint8_t hdr[TTRPC_HEADER_SIZE];
	struct ttrpc_header big = {.length = TTRPC_MAX_PAYLOAD + 1, .stream_id = 9, .type = 2};
	ttrpc_header_encode(&big, hdr);
	ASSERT_EQ(write(a, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	ASSERT_EQ(ttrpc_read_frame(b, 1000, &h, &p, &err), -EMSGSIZE);
	ASSERT_EQ(h.stream_id, 9);
	err = agent_error_free(err);

	ASSERT_EQ(ttrpc_read_frame(b, 50, &h, &p, &err), -ETIMEDOUT);
	err = agent_error_free(err);

	ASSERT_EQ(write(a, hdr, 4), 4);
	ASSERT_EQ(write(a, hdr, TTRPC_HEADER_SIZE), TTRPC_HEADER_SIZE);
	close(a);
	/* 4 + 10 bytes: a header whose length field is garbage, then EOF inside its body. */
	ASSERT_TRUE(ttrpc_read_frame(b, 1000, &h, &p, &err) < 0);
	err = agent_error_free(err);
	close(b);

	socket_pair(&a, &b);
	struct ttrpc_header small = {.length = 10, .stream_id = 1, .type = 2};
	ttrpc_header_encode(&small, hdr);
	ASSERT_EQ(write(a, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	ASSERT_EQ(write(a, "abc", 3), 3);
	close(a);
	ASSERT_EQ(ttrpc_read_frame(b, 1000, &h, &p, &err), -EPROTO);
	err = agent_error_free(err);
	ASSERT_EQ(ttrpc_read_frame(b, 1000, &h, &p, &err), -EPIPE);
	err = agent_error_free(err);
	close(b);
	assert_no_leaks();
}

TEST(envelopes_roundtrip)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	const struct ttrpc_kv md[] = {{"a", "b"}};
	ASSERT_EQ(ttrpc_encode_request("grpc.AgentService", "StartContainer", (const uint8_t *)"pl",
				       2, -1, md, 1, &buf, &len, NULL),
		  0);
	Ttrpc__Request *req = ttrpc__request__unpack(NULL, len, buf);
	ASSERT_NOT_NULL(req);
	ASSERT_STREQ(req->method, "StartContainer");
	ASSERT_EQ(req->timeout_nano, -1);
	ASSERT_EQ(req->payload.len, 2);
	ASSERT_STREQ(req->metadata[0]->value, "b");
	ttrpc__request__free_unpacked(req, NULL);
	free(buf);

	/* A response without status means OK with an empty message. */
	struct ttrpc_reply r = {0};
	ASSERT_EQ(ttrpc_decode_response((const uint8_t *)"\x12\x01z", 3, &r, NULL), 0);
	ASSERT_EQ(r.code, 0);
	ASSERT_STREQ(r.message, "");
	ASSERT_EQ(r.len, 1);
	ttrpc_reply_clear(&r);
	agent_error_t *err = NULL;
	ASSERT_EQ(ttrpc_decode_response((const uint8_t *)"\xff", 1, &r, &err), -EBADMSG);
	ASSERT_NULL(r.message);
	agent_error_free(err);
	assert_no_leaks();
}

/* ---- dialing ------------------------------------------------------------------------------ */

struct tmpsock {
	char dir[64];
	char path[108];
};

static void tmpsock_init(struct tmpsock *t, const char *name)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/test-client.XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, name);
}

static void tmpsock_cleanup(struct tmpsock *t)
{
	unlink(t->path);
	rmdir(t->dir);
}

static int listen_unix(const char *path, bool abstract)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_TRUE(fd >= 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(path);
	ASSERT_TRUE(n + 1 < sizeof(sa.sun_path));
	memcpy(sa.sun_path + (abstract ? 1 : 0), path, n);
	socklen_t sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, sl), 0);
	ASSERT_EQ(listen(fd, 4), 0);
	return fd;
}

static void read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	while (n + 1 < size) {
		ssize_t k = read(fd, buf + n, 1);
		ASSERT_EQ(k, 1);
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = '\0';
}

static const char *hv_answer;
static bool hv_hangup_first;

static void srv_hvsock(int lfd)
{
	int fd;
	if (hv_hangup_first) {
		/* Guest port not listening yet: the VMM closes the connection. */
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		ASSERT_TRUE(fd >= 0);
		char line[64];
		read_line(fd, line, sizeof(line));
		close(fd);
	}
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	char line[64];
	read_line(fd, line, sizeof(line));
	ASSERT_STREQ(line, "CONNECT 1024\n");
	ASSERT_EQ(write(fd, hv_answer, strlen(hv_answer)), (ssize_t)strlen(hv_answer));
	if (strncmp(hv_answer, "OK ", 3) == 0)
		echo_one(fd);
	close(fd);
}

static void hvsock_case(const char *answer, bool hangup_first, int want)
{
	struct tmpsock t;
	tmpsock_init(&t, "hv.sock");
	int lfd = listen_unix(t.path, false);
	hv_answer = answer;
	hv_hangup_first = hangup_first;
	pid_t pid = serve(lfd, srv_hvsock);

	char addr[160];
	snprintf(addr, sizeof(addr), "hvsock://%s:1024", t.path);
	agent_error_t *err = NULL;
	int fd = ttrpc_dial(addr, 3000, &err);
	if (want == 0) {
		if (fd < 0)
			FAIL("dial %s: %s", addr, err->msg);
		_cleanup_ttrpc_client_ struct ttrpc_client *c = client_on(fd);
		expect_reply(c, send_str(c, "A", "after-handshake"), 5000, "re:after-handshake");
	} else {
		ASSERT_EQ(fd, want);
		ASSERT_NOT_NULL(strstr(err->msg, "FAILED"));
		ASSERT_NOT_NULL(strstr(err->msg, addr));
		agent_error_free(err);
	}
	server_done(pid);
	tmpsock_cleanup(&t);
}

TEST(hvsock_handshake_ok)
{
	hvsock_case("OK 1\n", false, 0);
}

TEST(hvsock_handshake_retried_after_hangup)
{
	hvsock_case("OK 1073741824\n", true, 0);
}

TEST(hvsock_handshake_refused)
{
	hvsock_case("FAILED\n", false, -EPROTO);
}

TEST(dial_times_out_on_missing_socket)
{
	struct tmpsock t;
	tmpsock_init(&t, "missing.sock");
	char addr[160];
	snprintf(addr, sizeof(addr), "unix://%s", t.path);
	agent_error_t *err = NULL;
	int64_t t0 = now_ms();
	ASSERT_EQ(ttrpc_dial(addr, 300, &err), -ETIMEDOUT);
	int64_t took = now_ms() - t0;
	ASSERT_GE(took, 300);
	ASSERT_TRUE(took < 2000);
	ASSERT_NOT_NULL(strstr(err->msg, "No such file"));
	err = agent_error_free(err);

	/* timeout 0: one attempt, the real errno. */
	t0 = now_ms();
	ASSERT_EQ(ttrpc_dial(addr, 0, &err), -ENOENT);
	ASSERT_TRUE(now_ms() - t0 < 200);
	agent_error_free(err);
	tmpsock_cleanup(&t);
	assert_no_leaks();
}

static const char *late_path;

static void srv_late_listener(int unused)
{
	sleep_ms(300);
	int lfd = listen_unix(late_path, false);
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	echo_one(fd);
}

TEST(dial_waits_for_the_agent)
{
	struct tmpsock t;
	tmpsock_init(&t, "late.sock");
	late_path = t.path;
	int dummy = dup(0);
	pid_t pid = serve(dummy, srv_late_listener);
	char addr[160];
	snprintf(addr, sizeof(addr), "unix://%s", t.path);
	agent_error_t *err = NULL;
	int fd = ttrpc_dial(addr, 5000, &err);
	if (fd < 0)
		FAIL("dial: %s", err->msg);
	ASSERT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ASSERT_FALSE(fcntl(fd, F_GETFL) & O_NONBLOCK);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = client_on(fd);
	expect_reply(c, send_str(c, "A", "hi"), 5000, "re:hi");
	server_done(pid);
	tmpsock_cleanup(&t);
}

static void srv_accept_echo(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	echo_one(fd);
}

TEST(dial_abstract_and_serial)
{
	char name[64];
	snprintf(name, sizeof(name), "kata-test-client-%d", (int)getpid());
	pid_t pid = serve(listen_unix(name, true), srv_accept_echo);
	char addr[160];
	snprintf(addr, sizeof(addr), "unix://@%s", name);
	agent_error_t *err = NULL;
	int fd = ttrpc_dial(addr, 2000, &err);
	if (fd < 0)
		FAIL("dial %s: %s", addr, err->msg);
	struct ttrpc_client *c = client_on(fd);
	expect_reply(c, send_str(c, "A", "abs"), 5000, "re:abs");
	c = ttrpc_client_free(c);
	ASSERT_NULL(c);
	server_done(pid);

	struct tmpsock t;
	tmpsock_init(&t, "console.sock");
	pid = serve(listen_unix(t.path, false), srv_accept_echo);
	snprintf(addr, sizeof(addr), "serial://%s", t.path);
	fd = ttrpc_dial(addr, 2000, &err);
	if (fd < 0)
		FAIL("dial %s: %s", addr, err->msg);
	c = client_on(fd);
	expect_reply(c, send_str(c, "A", "ser"), 5000, "re:ser");
	ttrpc_client_free(c);
	server_done(pid);
	tmpsock_cleanup(&t);
	assert_no_leaks();
}

TEST(dial_rejects_bad_addresses)
{
	static const char *const bad[] = {
		"",
		"tcp://127.0.0.1:1024",
		"vsock://3",
		"vsock://x:1024",
		"vsock://3:1024:5",
		"vsock://3:99999999999",
		"unix://relative/path",
		"unix://",
		"hvsock:///run/vm.sock",
		"hvsock:///run/vm.sock:port",
		"serial://dev/ttyS0",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		agent_error_t *err = NULL;
		int r = ttrpc_dial(bad[i], 0, &err);
		if (r != -EINVAL)
			FAIL("dial \"%s\": %d (%s), want -EINVAL", bad[i], r,
			     err ? err->msg : "no error");
		agent_error_free(err);
	}
	ASSERT_EQ(ttrpc_dial(NULL, 0, NULL), -EINVAL);
	assert_no_leaks();
}

/* ---- names -------------------------------------------------------------------------------- */

TEST(code_names)
{
	ASSERT_STREQ(grpc_code_name(0), "OK");
	ASSERT_STREQ(grpc_code_name(GRPC_INVALID_ARGUMENT), "INVALID_ARGUMENT");
	ASSERT_STREQ(grpc_code_name(4), "DEADLINE_EXCEEDED");
	ASSERT_STREQ(grpc_code_name(12), "UNIMPLEMENTED");
	ASSERT_STREQ(grpc_code_name(14), "UNAVAILABLE");
	ASSERT_STREQ(grpc_code_name(16), "UNAUTHENTICATED");
	ASSERT_STREQ(grpc_code_name(17), "UNKNOWN_CODE");
	ASSERT_STREQ(grpc_code_name(-1), "UNKNOWN_CODE");
	ASSERT_EQ(grpc_code_from_name("not_found"), 5);
	ASSERT_EQ(grpc_code_from_name("INTERNAL"), 13);
	ASSERT_EQ(grpc_code_from_name("nope"), -1);
	for (int i = 0; i <= 16; i++)
		ASSERT_EQ(grpc_code_from_name(grpc_code_name(i)), i);
}

TEST(method_lookup)
{
	const ProtobufCServiceDescriptor *s;
	const ProtobufCMethodDescriptor *m;
	ASSERT_EQ(agent_method_lookup("CreateContainer", &s, &m, NULL), 0);
	ASSERT_STREQ(s->name, "grpc.AgentService");
	ASSERT_STREQ(m->input->name, "grpc.CreateContainerRequest");
	ASSERT_STREQ(m->output->name, "google.protobuf.Empty");
	ASSERT_EQ(agent_method_lookup("grpc.Health.Check", &s, &m, NULL), 0);
	ASSERT_STREQ(s->name, "grpc.Health");
	ASSERT_STREQ(m->output->name, "grpc.HealthCheckResponse");
	ASSERT_EQ(agent_method_lookup("Health.Version", &s, &m, NULL), 0);
	ASSERT_STREQ(m->output->name, "grpc.VersionCheckResponse");
	ASSERT_EQ(agent_method_lookup("/grpc.AgentService/WaitProcess", &s, &m, NULL), 0);
	ASSERT_STREQ(m->name, "WaitProcess");
	agent_error_t *err = NULL;
	ASSERT_EQ(agent_method_lookup("createcontainer", &s, &m, &err), -ENOENT);
	ASSERT_NOT_NULL(strstr(err->msg, "createcontainer"));
	err = agent_error_free(err);
	ASSERT_EQ(agent_method_lookup("grpc.Nope.Check", &s, &m, &err), -ENOENT);
	ASSERT_NOT_NULL(strstr(err->msg, "grpc.Nope"));
	agent_error_free(err);
	size_t n = 0;
	const ProtobufCServiceDescriptor *const *all = agent_services(&n);
	ASSERT_EQ(n, 2);
	ASSERT_GE(all[0]->n_methods, 40);
	assert_no_leaks();
}
