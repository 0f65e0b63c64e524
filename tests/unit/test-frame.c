/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "base/macro.h"
#include "harness.h"
#include "rpc/frame.h"

static size_t make_frame(uint8_t *out, uint32_t sid, uint8_t type, const char *payload)
{
	struct ttrpc_header h = {.length = strlen(payload), .stream_id = sid, .type = type};
	ttrpc_header_encode(&h, out);
	memcpy(out + TTRPC_HEADER_SIZE, payload, h.length);
	return TTRPC_HEADER_SIZE + h.length;
}

TEST(header_roundtrip_big_endian)
{
	uint8_t b[TTRPC_HEADER_SIZE];
	struct ttrpc_header h = {.length = 0x01020304,
				 .stream_id = 0xa0b0c0d0,
				 .type = 2,
				 .flags = 5},
			    g;
	ttrpc_header_encode(&h, b);
	ASSERT_EQ(b[0], 1);
	ASSERT_EQ(b[3], 4);
	ASSERT_EQ(b[4], 0xa0);
	ASSERT_EQ(b[8], 2);
	ASSERT_EQ(b[9], 5);
	ttrpc_header_decode(b, &g);
	ASSERT_EQ(g.length, h.length);
	ASSERT_EQ(g.stream_id, h.stream_id);
	ASSERT_EQ(g.type, 2);
	ASSERT_EQ(g.flags, 5);
}

/* Every split of two back-to-back frames yields the same two frames. */
TEST(decoder_any_split)
{
	uint8_t wire[128];
	size_t n = make_frame(wire, 1, 1, "hello");
	n += make_frame(wire + n, 3, 1, "");
	n += make_frame(wire + n, 5, 1, "world!");

	for (size_t step = 1; step <= n; step++) {
		struct frame_decoder d;
		frame_decoder_init(&d, 64);
		unsigned got = 0;
		char seen[3][16] = {{0}};
		uint32_t sids[3] = {0};
		for (size_t off = 0; off < n; off += step) {
			const uint8_t *p = wire + off;
			size_t len = MIN(step, n - off);
			while (len > 0) {
				struct ttrpc_header h;
				const uint8_t *pl;
				int ev = frame_decoder_feed(&d, &p, &len, &h, &pl);
				if (ev == FRAME_NEED_MORE)
					break;
				ASSERT_EQ(ev, FRAME_COMPLETE);
				ASSERT_TRUE(got < 3);
				memcpy(seen[got], pl, h.length);
				sids[got++] = h.stream_id;
			}
		}
		ASSERT_EQ(got, 3);
		ASSERT_STREQ(seen[0], "hello");
		ASSERT_STREQ(seen[1], "");
		ASSERT_STREQ(seen[2], "world!");
		ASSERT_EQ(sids[2], 5);
		ASSERT_TRUE(frame_decoder_idle(&d));
		frame_decoder_release(&d);
	}
}

TEST(decoder_oversized_is_skipped_and_stream_resyncs)
{
	struct frame_decoder d;
	frame_decoder_init(&d, 8);
	uint8_t wire[64];
	size_t n = make_frame(wire, 7, 1, "0123456789abcdef"); /* 16 > 8 */
	n += make_frame(wire + n, 9, 1, "ok");
	const uint8_t *p = wire;
	size_t len = n;
	struct ttrpc_header h;
	const uint8_t *pl;

	ASSERT_EQ(frame_decoder_feed(&d, &p, &len, &h, &pl), FRAME_OVERSIZED);
	ASSERT_EQ(h.stream_id, 7);
	ASSERT_EQ(h.length, 16);
	ASSERT_FALSE(frame_decoder_idle(&d));
	ASSERT_EQ(frame_decoder_feed(&d, &p, &len, &h, &pl), FRAME_COMPLETE);
	ASSERT_EQ(h.stream_id, 9);
	ASSERT_EQ(memcmp(pl, "ok", 2), 0);
	ASSERT_EQ(len, 0);
	/* The decoder never allocated more than its bound for the oversized body. */
	ASSERT_TRUE(d.payload_cap <= 8);
	frame_decoder_release(&d);
}

TEST(decoder_reset_drops_partial)
{
	struct frame_decoder d;
	frame_decoder_init(&d, 64);
	uint8_t wire[64];
	size_t n = make_frame(wire, 1, 1, "abcdef");
	const uint8_t *p = wire;
	size_t len = 12; /* header + 2 bytes */
	struct ttrpc_header h;
	const uint8_t *pl;
	ASSERT_EQ(frame_decoder_feed(&d, &p, &len, &h, &pl), FRAME_NEED_MORE);
	ASSERT_FALSE(frame_decoder_idle(&d));
	frame_decoder_reset(&d);
	ASSERT_TRUE(frame_decoder_idle(&d));
	p = wire;
	len = n;
	ASSERT_EQ(frame_decoder_feed(&d, &p, &len, &h, &pl), FRAME_COMPLETE);
	ASSERT_EQ(memcmp(pl, "abcdef", 6), 0);
	frame_decoder_release(&d);
}

/*
 * The frame fuzzer's harness itself (its LLVMFuzzerTestOneInput), run on one input that asks
 * for network changes: the harness must refuse them. In a network namespace of the test's
 * own, with a default route the input would delete.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../fuzz/fuzz-frame.c"
#include "agent.pb-c.h"
#include "ttrpc-client.h"

static size_t add_request(uint8_t *out, uint32_t sid, const char *method, const ProtobufCMessage *m)
{
	uint8_t req[1024], *env = NULL;
	size_t req_len = protobuf_c_message_pack(m, req), env_len = 0;
	ASSERT_EQ(ttrpc_encode_request("grpc.AgentService", method, req, req_len, 0, NULL, 0, &env,
				       &env_len, NULL),
		  0);
	struct ttrpc_header h = {.length = env_len, .stream_id = sid, .type = TTRPC_TYPE_REQUEST};
	ttrpc_header_encode(&h, out);
	memcpy(out + TTRPC_HEADER_SIZE, env, env_len);
	free(env);
	return TTRPC_HEADER_SIZE + env_len;
}

static char *command_output(const char *cmd)
{
	char *buf = NULL, line[512];
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len), *p = popen(cmd, "r");
	ASSERT_NOT_NULL(p);
	while (fgets(line, sizeof(line), p))
		fputs(line, out);
	pclose(p);
	fclose(out);
	return buf;
}

TEST(frame_fuzzer_never_changes_the_network)
{
	if (unshare(CLONE_NEWNET) < 0)
		SKIP("cannot create a network namespace: %s", strerror(errno));
	if (system("ip link set lo up && ip link add eth0 type veth peer name peer0 && "
		   "ip link set eth0 up && ip addr add 10.88.0.2/24 dev eth0 && "
		   "ip route add default via 10.88.0.1 dev eth0") != 0)
		SKIP("cannot set up a veth pair with ip(8)");
	char *links = command_output("ip -o link show"), *routes = command_output("ip route"),
	     *neigh = command_output("ip neigh show");

	static uint8_t in[8192];
	size_t len = 1;
	in[0] = 7;
	Types__Route rt = TYPES__ROUTE__INIT, *prt[] = {&rt};
	rt.dest = "10.30.0.0/16";
	rt.device = "eth0";
	rt.scope = 253;
	Grpc__Routes rl = GRPC__ROUTES__INIT;
	rl.routes = prt;
	rl.n_routes = 1;
	Grpc__UpdateRoutesRequest ur = GRPC__UPDATE_ROUTES_REQUEST__INIT;
	ur.routes = &rl;
	len += add_request(in + len, 1, "UpdateRoutes", &ur.base);
	Types__Interface itf = TYPES__INTERFACE__INIT;
	itf.name = "fz0";
	itf.mtu = 1300;
	Grpc__UpdateInterfaceRequest ui = GRPC__UPDATE_INTERFACE_REQUEST__INIT;
	ui.interface = &itf;
	len += add_request(in + len, 3, "UpdateInterface", &ui.base);
	Types__IPAddress ip = TYPES__IPADDRESS__INIT;
	ip.address = "10.88.0.9";
	Types__ARPNeighbor nb = TYPES__ARPNEIGHBOR__INIT, *pnb[] = {&nb};
	nb.toipaddress = &ip;
	nb.device = "eth0";
	nb.lladdr = "02:00:00:00:00:09";
	Grpc__ARPNeighbors nl = GRPC__ARPNEIGHBORS__INIT;
	nl.arpneighbors = pnb;
	nl.n_arpneighbors = 1;
	Grpc__AddARPNeighborsRequest an = GRPC__ADD_ARPNEIGHBORS_REQUEST__INIT;
	an.neighbors = &nl;
	len += add_request(in + len, 5, "AddARPNeighbors", &an.base);

	LLVMFuzzerTestOneInput(in, len);

	char *links2 = command_output("ip -o link show"), *routes2 = command_output("ip route"),
	     *neigh2 = command_output("ip neigh show");
	ASSERT_STREQ(routes2, routes);
	ASSERT_STREQ(links2, links);
	ASSERT_STREQ(neigh2, neigh);
	free(links), free(routes), free(neigh), free(links2), free(routes2), free(neigh2);
}
