/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes the ttRPC server end to end: the input is written to a real
 * connection (a socketpair) in short writes whose sizes come from the input
 * itself, and the server's loop runs between writes, so every split of the
 * frame header, envelope and request payload is hit. Replies are drained.
 * Input layout: byte 0 = seed for the chunk sizes, the rest = the byte stream.
 *
 * The fuzzer runs as root on a developer's machine or in CI: no method may change that
 * machine. Only the methods on the allow-list below reach their handler (they read, or
 * act on the inert sandbox's own state, which holds no container); every other one is
 * answered PERMISSION_DENIED by the harness. tests/run-fuzz.sh also runs each harness in
 * fresh namespaces, as a second guard.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "loop/loop.h"
#include "rpc/server.h"
#include "rpc/services.h"
#include "rpc/status.h"
#include "sandbox/sandbox.h"

static const char *const safe_methods[] = {
	/* reads */
	"ListInterfaces", "ListRoutes", "GetGuestDetails", "GetMetrics", "GetOOMEvent",
	/* look up a container or process first: the inert sandbox has none */
	"StartContainer", "RemoveContainer", "ExecProcess", "SignalProcess", "WaitProcess",
	"UpdateContainer", "StatsContainer", "PauseContainer", "ResumeContainer", "WriteStdin",
	"ReadStdout", "ReadStderr", "CloseStdin", "TtyWinResize",
	/* refused by the inert sandbox itself */
	"CreateContainer", "CreateSandbox"};

static bool method_is_safe(const char *name)
{
	for (size_t i = 0; i < sizeof(safe_methods) / sizeof(safe_methods[0]); i++)
		if (strcmp(safe_methods[i], name) == 0)
			return true;
	return false;
}

static void refuse(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	rpc_reply_status(call, GRPC_PERMISSION_DENIED, "not run by the fuzzing harness");
}

/* The agent's method table, every method off the allow-list refused. */
static const struct rpc_method *fuzz_methods(size_t *ret_n)
{
	static struct rpc_method table[128];
	static size_t n;

	if (!n) {
		const struct rpc_method *m = agent_service_methods(&n);
		if (n > sizeof(table) / sizeof(table[0]))
			abort(); /* a harness that cannot filter must not run */
		for (size_t i = 0; i < n; i++) {
			table[i] = m[i];
			if (m[i].fn && !method_is_safe(m[i].name))
				table[i].fn = refuse;
		}
	}
	*ret_n = n;
	return table;
}

static void drain(int fd)
{
	uint8_t buf[65536];
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct logger quiet;
	struct loop *l = NULL;
	struct rpc_server *srv = NULL;
	struct rpc_service agent_svc;
	struct sandbox sb;
	int sv[2];

	if (size < 1)
		return 0;
	logger_init(&quiet, LOG_LEVEL_CRITICAL, -1, NULL);
	quiet.cap = 0;
	log_install(&quiet);
	if (loop_new(&l) < 0)
		return 0;
	if (rpc_server_new(l, &srv) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) {
		rpc_server_free(srv);
		loop_free(l);
		return 0;
	}
	struct sandbox_options so = {.inert = true};
	sandbox_init(&sb, l, NULL, &so);
	agent_service_init(&agent_svc, &sb);
	agent_svc.methods = fuzz_methods(&agent_svc.n_methods);
	rpc_server_add_service(srv, &health_service);
	rpc_server_add_service(srv, &agent_svc);
	rpc_server_add_stream(srv, sv[0], false, NULL);

	uint32_t seed = data[0] | 1;
	const uint8_t *p = data + 1;
	size_t left = size - 1;
	while (left > 0) {
		seed = seed * 1103515245u + 12345u;
		size_t chunk = 1 + (seed >> 16) % 64;
		if (chunk > left)
			chunk = left;
		ssize_t n = send(sv[1], p, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n <= 0) {
			drain(sv[1]);
			if (loop_run_once(l, 0) < 0)
				break;
			if (n < 0 && errno != EAGAIN)
				break;
			continue;
		}
		p += n;
		left -= n;
		loop_run_once(l, 0);
		drain(sv[1]);
	}
	loop_run_once(l, 0);
	drain(sv[1]);
	close(sv[1]);
	loop_run_once(l, 0);
	rpc_server_free(srv);
	sandbox_release(&sb);
	loop_free(l);
	logger_release(&quiet);
	return 0;
}
