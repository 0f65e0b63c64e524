/* SPDX-License-Identifier: Apache-2.0 */
/* kata-agent-ctl: check, version, call, list-methods, ping. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent-methods.h"
#include "ctl.h"
#include "health.pb-c.h"
#include "jsonpb.h"
#include "ttrpc-client.h"

#define MAX_JSON_ARG (16u << 20)

/* Commands without options still accept (and reject) options consistently. */
static int no_options(int argc, char **argv, int min_args, int max_args)
{
	static const struct option none[] = {{NULL, 0, NULL, 0}};
	opterr = 0;
	if (getopt_long(argc, argv, ":", none, NULL) != -1)
		return ctl_usage_error(argv[0], "unknown option '%s'", argv[optind - 1]);
	int n = argc - optind;
	if (n < min_args || n > max_args)
		return ctl_usage_error(argv[0], "wrong number of arguments");
	return CTL_OK;
}

static int cmd_health(struct ctl *ctl, int argc, char **argv, const char *method)
{
	int r = no_options(argc, argv, 0, 0);
	if (r != CTL_OK)
		return r;
	Grpc__CheckRequest req = GRPC__CHECK_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	r = ctl_call(ctl, method, &req.base, &resp);
	if (r == CTL_OK)
		r = ctl_print_json(resp);
	protobuf_c_message_free_unpacked(resp, NULL);
	return r;
}

static int cmd_check(struct ctl *ctl, int argc, char **argv)
{
	return cmd_health(ctl, argc, argv, "grpc.Health.Check");
}

static int cmd_version(struct ctl *ctl, int argc, char **argv)
{
	return cmd_health(ctl, argc, argv, "grpc.Health.Version");
}

static int cmd_call(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"emit-defaults", no_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	unsigned flags = JSONPB_PRETTY;
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":d", opts, NULL)) != -1) {
		if (opt != 'd')
			return ctl_usage_error(argv[0], "unknown option '%s'", argv[optind - 1]);
		flags |= JSONPB_EMIT_DEFAULTS;
	}
	int n = argc - optind;
	if (n < 1 || n > 2)
		return ctl_usage_error(argv[0], "want METHOD [JSON]");

	const ProtobufCServiceDescriptor *svc;
	const ProtobufCMethodDescriptor *m;
	_cleanup_error_ agent_error_t *err = NULL;
	if (agent_method_lookup(argv[optind], &svc, &m, &err) < 0)
		return ctl_usage_error(argv[0], "%s (see list-methods)", err->msg);

	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if (ctl_read_arg(n == 2 ? argv[optind + 1] : "{}", MAX_JSON_ARG, &text, &len, &err) < 0)
		return ctl_usage_error(argv[0], "%s", err->msg);
	ProtobufCMessage *req = NULL;
	int r = ctl_parse_message(m->name, text, len, m->input, &req);
	if (r != CTL_OK)
		return r;

	char full[256];
	snprintf(full, sizeof(full), "%s.%s", svc->name, m->name);
	ProtobufCMessage *resp = NULL;
	r = ctl_call(ctl, full, req, &resp);
	protobuf_c_message_free_unpacked(req, NULL);
	if (r != CTL_OK)
		return r;

	_cleanup_free_ char *out = NULL;
	if (jsonpb_print(resp, flags, &out, &err) < 0)
		r = ctl_fail("%s: printing the reply: %s", m->name, err->msg);
	else
		puts(out);
	protobuf_c_message_free_unpacked(resp, NULL);
	return r;
}

static int cmd_list_methods(struct ctl *ctl, int argc, char **argv)
{
	int r = no_options(argc, argv, 0, 0);
	if (r != CTL_OK)
		return r;
	size_t n = 0;
	const ProtobufCServiceDescriptor *const *svcs = agent_services(&n);
	for (size_t s = 0; s < n; s++) {
		/* AgentService methods go by their bare names in `call`; others by full name. */
		bool bare = strcmp(svcs[s]->name, AGENT_SERVICE_NAME) == 0;
		for (unsigned i = 0; i < svcs[s]->n_methods; i++) {
			const ProtobufCMethodDescriptor *m = &svcs[s]->methods[i];
			char name[128];
			snprintf(name, sizeof(name), "%s%s%s", bare ? "" : svcs[s]->name,
				 bare ? "" : ".", m->name);
			printf("%-34s %s -> %s\n", name, m->input->name, m->output->name);
		}
	}
	return CTL_OK;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

#define PING_MAX_COUNT 10000000u
#define PING_MAX_INFLIGHT 1024u

/* N Health.Check calls on one connection, K in flight at a time; prints the rate. */
static int cmd_ping(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"count", required_argument, NULL, 'c'},
		{"inflight", required_argument, NULL, 'k'},
		{NULL, 0, NULL, 0},
	};
	uint64_t count = 1000, inflight = 1;
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:k:", opts, NULL)) != -1) {
		if (opt == 'c' && ctl_parse_uint(optarg, PING_MAX_COUNT, &count) == 0 && count > 0)
			continue;
		if (opt == 'k' && ctl_parse_uint(optarg, PING_MAX_INFLIGHT, &inflight) == 0 &&
		    inflight > 0)
			continue;
		if (opt == 'c' || opt == 'k')
			return ctl_usage_error(argv[0], "invalid value '%s' for %s", optarg,
					       argv[optind - 1]);
		return ctl_usage_error(argv[0], "unknown option '%s'", argv[optind - 1]);
	}
	if (optind != argc)
		return ctl_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
	struct ttrpc_client *c = ctl_client(ctl);
	if (!c)
		return CTL_FAILED;

	Grpc__CheckRequest req = GRPC__CHECK_REQUEST__INIT;
	uint8_t buf[16];
	size_t len = grpc__check_request__pack(&req, buf);
	int64_t timeout = ctl_call_timeout(ctl, "Check");
	int timeout_ms = timeout > 0 ? (int)(timeout / 1000000) + 1000 : -1;
	_cleanup_free_ uint32_t *lat = calloc(count, sizeof(*lat));
	_cleanup_free_ uint32_t *ids = calloc(inflight, sizeof(*ids));
	_cleanup_free_ int64_t *started = calloc(inflight, sizeof(*started));
	if (!lat || !ids || !started)
		return ctl_fail("out of memory");

	_cleanup_error_ agent_error_t *err = NULL;
	uint64_t sent = 0, done = 0, failed = 0;
	int64_t t0 = now_ns();
	while (done < count) {
		/* Keep the window full, then collect the oldest call (slot done % inflight). */
		while (sent < count && sent - done < inflight) {
			size_t slot = sent % inflight;
			started[slot] = now_ns();
			if (ttrpc_client_send(c, HEALTH_SERVICE_NAME, "Check", buf, len, timeout,
					      NULL, 0, &ids[slot], &err) < 0)
				return ctl_fail("Check: %s", err->msg);
			sent++;
		}
		size_t slot = done % inflight;
		struct ttrpc_reply reply = {0};
		if (ttrpc_client_recv(c, ids[slot], timeout_ms, &reply, &err) < 0)
			return ctl_fail("Check: %s", err->msg);
		int64_t ns = now_ns() - started[slot];
		lat[done] = (uint32_t)MIN(ns / 1000, (int64_t)UINT32_MAX);
		if (reply.code != GRPC_OK) {
			if (failed == 0)
				ctl_fail("Check: %s (%d): %s", grpc_code_name(reply.code),
					 reply.code, reply.message);
			failed++;
		}
		ttrpc_reply_clear(&reply);
		done++;
	}
	double secs = (double)(now_ns() - t0) / 1e9;

	qsort(lat, count, sizeof(*lat), cmp_u32);
	printf("ping: %" PRIu64 " calls in %.3f s over 1 connection (%" PRIu64
	       " in flight): %.0f calls/s; latency us min %u p50 %u p99 %u max %u\n",
	       count, secs, inflight, secs > 0 ? (double)count / secs : 0.0, lat[0], lat[count / 2],
	       lat[count * 99 / 100], lat[count - 1]);
	if (failed)
		return ctl_fail("ping: %" PRIu64 " of %" PRIu64 " calls failed", failed, count);
	return CTL_OK;
}

const struct ctl_command ctl_basic_commands[] = {
	{"check", "", "grpc.Health/Check: prints the serving status", cmd_check},
	{"version", "", "grpc.Health/Version: prints the API and agent versions", cmd_version},
	{"call", "[--emit-defaults] METHOD [JSON]",
	 "call any method (CreateContainer, grpc.Health.Check, ...) with a JSON request "
	 "(default {}); prints the reply as JSON",
	 cmd_call},
	{"list-methods", "", "every method with its request and reply types", cmd_list_methods},
	{"ping", "[--count N] [--inflight K]",
	 "N Health.Check calls (default 1000) on one connection, K at a time (default 1); "
	 "prints calls/s and latency",
	 cmd_ping},
	{NULL, NULL, NULL, NULL},
};
