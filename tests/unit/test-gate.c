/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The server's gate (rpc_server_set_gate): while closed, calls to a gated service are held
 * and Health answers at once; a held call keeps its deadline and leaves the queue with its
 * client; opening the gate runs the held calls in arrival order.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "harness.h"
#include "loop/loop.h"
#include "rpc/server.h"
#include "rpc/services.h"
#include "sandbox/sandbox.h"
#include "ttrpc-client.h"

struct env {
	struct logger quiet;
	struct loop *l;
	struct rpc_server *srv;
	struct rpc_service agent_svc;
	struct sandbox sb;
};

static void env_init(struct env *e)
{
	memset(e, 0, sizeof(*e));
	logger_init(&e->quiet, LOG_LEVEL_CRITICAL, -1, NULL);
	log_install(&e->quiet);
	ASSERT_EQ(loop_new(&e->l), 0);
	ASSERT_EQ(rpc_server_new(e->l, &e->srv), 0);
	struct sandbox_options so = {.inert = true};
	sandbox_init(&e->sb, e->l, NULL, &so);
	agent_service_init(&e->agent_svc, &e->sb);
	ASSERT_TRUE(e->agent_svc.gated);
	ASSERT_EQ(rpc_server_add_service(e->srv, &health_service), 0);
	ASSERT_EQ(rpc_server_add_service(e->srv, &e->agent_svc), 0);
}

static void env_release(struct env *e)
{
	e->srv = rpc_server_free(e->srv);
	sandbox_release(&e->sb);
	e->l = loop_free(e->l);
	logger_release(&e->quiet);
}

/* A client on one end of a socketpair whose other end the server serves. */
static struct ttrpc_client *connect_client(struct env *e)
{
	int sv[2];
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
	ASSERT_EQ(rpc_server_add_stream(e->srv, sv[0], false, NULL), 0);
	struct ttrpc_client *c = ttrpc_client_new(sv[1]);
	ASSERT_NOT_NULL(c);
	return c;
}

static void spin(struct env *e, int ms)
{
	uint64_t end = loop_now_ms() + ms;
	do
		ASSERT_GE(loop_run_once(e->l, 5), 0);
	while (loop_now_ms() < end);
}

static uint32_t send_call(struct ttrpc_client *c, const char *svc, const char *method,
			  int64_t timeout_nano)
{
	uint32_t sid = 0;
	agent_error_t *err = NULL;
	if (ttrpc_client_send(c, svc, method, NULL, 0, timeout_nano, NULL, 0, &sid, &err) < 0)
		FAIL("send %s: %s", method, err->msg);
	return sid;
}

/* The reply of stream sid if it is there now: its code, or -ETIMEDOUT. */
static int reply_code(struct ttrpc_client *c, uint32_t sid)
{
	struct ttrpc_reply r = {0};
	agent_error_t *err = NULL;
	int ret = ttrpc_client_recv(c, sid, 0, &r, &err);
	if (ret < 0) {
		agent_error_free(err);
		return ret;
	}
	ret = r.code;
	ttrpc_reply_clear(&r);
	return ret;
}

TEST(a_closed_gate_holds_the_agent_service_and_health_answers)
{
	struct env e;
	env_init(&e);
	struct ttrpc_client *c = connect_client(&e);

	rpc_server_set_gate(e.srv, true);
	uint32_t held = send_call(c, "grpc.AgentService", "GetGuestDetails", 0);
	uint32_t check = send_call(c, "grpc.Health", "Check", 0);
	spin(&e, 50);
	ASSERT_EQ(reply_code(c, check), 0);
	ASSERT_EQ(reply_code(c, held), -ETIMEDOUT);
	struct rpc_stats st;
	rpc_server_get_stats(e.srv, &st);
	ASSERT_EQ(st.calls_in_flight, 1);

	rpc_server_set_gate(e.srv, false);
	spin(&e, 50);
	int code = reply_code(c, held);
	ASSERT_GE(code, 0); /* answered, whatever the inert sandbox says */
	ASSERT_NE(code, 4); /* not DEADLINE_EXCEEDED */
	rpc_server_get_stats(e.srv, &st);
	ASSERT_EQ(st.calls_in_flight, 0);
	ttrpc_client_free(c);
	env_release(&e);
}

TEST(a_held_call_keeps_its_deadline)
{
	struct env e;
	env_init(&e);
	struct ttrpc_client *c = connect_client(&e);

	rpc_server_set_gate(e.srv, true);
	uint32_t sid = send_call(c, "grpc.AgentService", "GetGuestDetails", 30 * 1000000LL);
	uint32_t other = send_call(c, "grpc.AgentService", "GetGuestDetails", 0);
	spin(&e, 120);
	ASSERT_EQ(reply_code(c, sid), 4); /* DEADLINE_EXCEEDED while held */
	ASSERT_EQ(reply_code(c, other), -ETIMEDOUT);
	rpc_server_set_gate(e.srv, false);
	spin(&e, 50);
	ASSERT_GE(reply_code(c, other), 0);
	ttrpc_client_free(c);
	env_release(&e);
}

/* Held calls of several connections run when the gate opens; a client that left is skipped. */
TEST(held_calls_run_when_it_opens_and_a_gone_client_is_dropped)
{
	struct env e;
	env_init(&e);
	struct ttrpc_client *a = connect_client(&e), *gone = connect_client(&e);

	rpc_server_set_gate(e.srv, true);
	uint32_t a1 = send_call(a, "grpc.AgentService", "GetGuestDetails", 0);
	(void)send_call(gone, "grpc.AgentService", "GetGuestDetails", 0);
	uint32_t a2 = send_call(a, "grpc.AgentService", "GetGuestDetails", 0);
	spin(&e, 50);
	gone = ttrpc_client_free(gone);
	spin(&e, 50);
	struct rpc_stats st;
	rpc_server_get_stats(e.srv, &st);
	ASSERT_EQ(st.calls_in_flight, 2);
	ASSERT_EQ(st.connections, 1);

	rpc_server_set_gate(e.srv, false);
	spin(&e, 50);
	ASSERT_GE(reply_code(a, a1), 0);
	ASSERT_GE(reply_code(a, a2), 0);
	rpc_server_get_stats(e.srv, &st);
	ASSERT_EQ(st.calls_in_flight, 0);
	ttrpc_client_free(a);
	env_release(&e);
}

/* The server freed with calls still held (the agent stopping during boot): nothing leaks. */
TEST(the_server_goes_with_calls_held)
{
	struct env e;
	env_init(&e);
	struct ttrpc_client *c = connect_client(&e);
	rpc_server_set_gate(e.srv, true);
	(void)send_call(c, "grpc.AgentService", "GetGuestDetails", 0);
	spin(&e, 30);
	ttrpc_client_free(c);
	env_release(&e);
}
