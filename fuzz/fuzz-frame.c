/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes the ttRPC server end to end: the input is written to a real
 * connection (a socketpair) in short writes whose sizes come from the input
 * itself, and the server's loop runs between writes, so every split of the
 * frame header, envelope and request payload is hit. Replies are drained.
 * Input layout: byte 0 = seed for the chunk sizes, the rest = the byte stream.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "loop/loop.h"
#include "rpc/server.h"
#include "rpc/services.h"
#include "sandbox/sandbox.h"

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
