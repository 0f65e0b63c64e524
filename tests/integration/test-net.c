/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network listing RPCs against the kernel's own view, in a network namespace the
 * test makes (veth pair, IPv4 and IPv6 addresses, a gateway route). No traffic
 * leaves that namespace.
 */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.pb-c.h"
#include "harness.h"
#include "itest.h"
#include "ttrpc-client.h"

static void private_netns(void)
{
	if (unshare(CLONE_NEWNET) < 0)
		SKIP("cannot create a network namespace: %s", strerror(errno));
	const char *setup = "ip link set lo up && "
			    "ip link add v0 type veth peer name v1 && "
			    "ip addr add 10.9.8.7/24 dev v0 && "
			    "ip link set v0 up mtu 1400 && ip link set v1 up && "
			    "ip -6 addr add fd00::5/64 dev v0 nodad && "
			    "ip route add 10.20.0.0/16 via 10.9.8.1";
	if (system(setup) != 0)
		SKIP("cannot set up veth test interfaces with ip(8)");
}

static ProtobufCMessage *call_list(struct ttrpc_client *c, const char *method,
				   const ProtobufCMessageDescriptor *desc)
{
	struct ttrpc_reply r = {0};
	_cleanup_error_ agent_error_t *err = NULL;
	if (ttrpc_client_call(c, "grpc.AgentService", method, NULL, 0, 0, NULL, 0, &r, &err) < 0)
		FAIL("%s: %s", method, err->msg);
	if (r.code != 0)
		FAIL("%s answered %d: %s", method, r.code, r.message);
	ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, r.len, r.payload);
	ASSERT_NOT_NULL(m);
	ttrpc_reply_clear(&r);
	return m;
}

/* The MAC of a link as ip(8) reports it (sysfs still shows the host's namespace). */
static void link_mac(const char *dev, char *out, size_t size)
{
	char cmd[128], line[512];
	snprintf(cmd, sizeof(cmd), "ip -o link show dev %s", dev);
	FILE *p = popen(cmd, "r");
	ASSERT_NOT_NULL(p);
	ASSERT_NOT_NULL(fgets(line, sizeof(line), p));
	pclose(p);
	const char *m = strstr(line, "link/ether ");
	ASSERT_NOT_NULL(m);
	m += strlen("link/ether ");
	snprintf(out, size, "%.*s", (int)strcspn(m, " "), m);
}

TEST(list_interfaces_matches_the_kernel)
{
	private_netns();
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	Grpc__Interfaces *ifs = (Grpc__Interfaces *)call_list(c, "ListInterfaces",
							      &grpc__interfaces__descriptor);
	const Types__Interface *v0 = NULL, *lo = NULL;
	for (size_t i = 0; i < ifs->n_interfaces; i++) {
		if (strcmp(ifs->interfaces[i]->name, "v0") == 0)
			v0 = ifs->interfaces[i];
		if (strcmp(ifs->interfaces[i]->name, "lo") == 0)
			lo = ifs->interfaces[i];
	}
	ASSERT_EQ(ifs->n_interfaces, 3); /* lo, v0, v1 */
	ASSERT_NOT_NULL(v0);
	ASSERT_NOT_NULL(lo);
	ASSERT_EQ(v0->mtu, 1400);
	ASSERT_STREQ(v0->type, "veth");
	ASSERT_TRUE(v0->raw_flags & IFF_UP);
	char mac[64];
	link_mac("v0", mac, sizeof(mac));
	ASSERT_STREQ(v0->hwaddr, mac);
	bool v4 = false, v6 = false;
	for (size_t i = 0; i < v0->n_ipaddresses; i++) {
		const Types__IPAddress *ip = v0->ipaddresses[i];
		if (strcmp(ip->address, "10.9.8.7") == 0) {
			ASSERT_STREQ(ip->mask, "24");
			ASSERT_EQ(ip->family, TYPES__IPFAMILY__v4);
			v4 = true;
		}
		if (strcmp(ip->address, "fd00::5") == 0) {
			ASSERT_STREQ(ip->mask, "64");
			ASSERT_EQ(ip->family, TYPES__IPFAMILY__v6);
			v6 = true;
		}
	}
	ASSERT_TRUE(v4 && v6);
	ASSERT_EQ(lo->n_ipaddresses, 2); /* 127.0.0.1/8 and ::1/128 */
	protobuf_c_message_free_unpacked(&ifs->base, NULL);
	itest_agent_stop(&a);
}

TEST(list_routes_matches_the_kernel_with_correct_families)
{
	private_netns();
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	Grpc__Routes *rs = (Grpc__Routes *)call_list(c, "ListRoutes", &grpc__routes__descriptor);
	bool gw = false, link = false, v6 = false;
	for (size_t i = 0; i < rs->n_routes; i++) {
		const Types__Route *r = rs->routes[i];
		if (strcmp(r->dest, "10.20.0.0/16") == 0) {
			ASSERT_STREQ(r->gateway, "10.9.8.1");
			ASSERT_STREQ(r->device, "v0");
			ASSERT_EQ(r->family, TYPES__IPFAMILY__v4);
			gw = true;
		} else if (strcmp(r->dest, "10.9.8.0/24") == 0) {
			ASSERT_STREQ(r->source, "10.9.8.7");
			ASSERT_EQ(r->scope, 253); /* RT_SCOPE_LINK */
			ASSERT_STREQ(r->gateway, "");
			link = true;
		} else if (strcmp(r->dest, "fd00::/64") == 0) {
			ASSERT_STREQ(r->device, "v0");
			ASSERT_EQ(r->family, TYPES__IPFAMILY__v6);
			v6 = true;
		}
	}
	ASSERT_TRUE(gw && link && v6);
	protobuf_c_message_free_unpacked(&rs->base, NULL);
	itest_agent_stop(&a);
}
