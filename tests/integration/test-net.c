/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network listing RPCs against the kernel's own view, in a network namespace the
 * test makes (veth pair, IPv4 and IPv6 addresses, a gateway route). No traffic
 * leaves that namespace.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
	Grpc__Interfaces *ifs =
		(Grpc__Interfaces *)call_list(c, "ListInterfaces", &grpc__interfaces__descriptor);
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

static int add_neighbors(struct ttrpc_client *c, const char *ips[], const char *devs[],
			 const char *macs[], size_t n, char **ret_msg)
{
	Types__IPAddress addr[8];
	Types__ARPNeighbor nb[8], *pnb[8];
	ASSERT_TRUE(n <= 8);
	for (size_t i = 0; i < n; i++) {
		types__ipaddress__init(&addr[i]);
		addr[i].address = (char *)ips[i];
		types__arpneighbor__init(&nb[i]);
		nb[i].toipaddress = &addr[i];
		nb[i].device = (char *)devs[i];
		nb[i].lladdr = (char *)macs[i];
		pnb[i] = &nb[i];
	}
	Grpc__ARPNeighbors list = GRPC__ARPNEIGHBORS__INIT;
	list.arpneighbors = pnb;
	list.n_arpneighbors = n;
	Grpc__AddARPNeighborsRequest req = GRPC__ADD_ARPNEIGHBORS_REQUEST__INIT;
	req.neighbors = &list;
	uint8_t buf[4096];
	size_t len = grpc__add_arpneighbors_request__pack(&req, buf);
	struct ttrpc_reply r = {0};
	_cleanup_error_ agent_error_t *err = NULL;
	if (ttrpc_client_call(c, "grpc.AgentService", "AddARPNeighbors", buf, len, 0, NULL, 0, &r,
			      &err) < 0)
		FAIL("AddARPNeighbors: %s", err->msg);
	int code = r.code;
	*ret_msg = strdup(r.message ? r.message : "");
	ttrpc_reply_clear(&r);
	return code;
}

/* `ip neigh` line for ip on v0, or "" */
static void neigh_of(const char *ip, char *out, size_t size)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "ip neigh show to %s dev v0", ip);
	FILE *p = popen(cmd, "r");
	ASSERT_NOT_NULL(p);
	if (!fgets(out, (int)size, p))
		out[0] = '\0';
	pclose(p);
}

TEST(add_arp_neighbors_permanent_v4_v6_and_validation)
{
	private_netns();
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	char *msg = NULL, line[256];

	const char *ips[] = {"10.9.8.50", "fd00::50"};
	const char *devs[] = {"v0", "v0"};
	const char *macs[] = {"02:00:00:00:00:50", "02:00:00:00:00:66"};
	ASSERT_EQ(add_neighbors(c, ips, devs, macs, 2, &msg), 0);
	free(msg);
	neigh_of("10.9.8.50", line, sizeof(line));
	ASSERT_NOT_NULL(strstr(line, "lladdr 02:00:00:00:00:50"));
	ASSERT_NOT_NULL(strstr(line, "PERMANENT"));
	neigh_of("fd00::50", line, sizeof(line));
	ASSERT_NOT_NULL(strstr(line, "lladdr 02:00:00:00:00:66"));
	ASSERT_NOT_NULL(strstr(line, "PERMANENT"));

	/* One bad entry: nothing of the request is applied. */
	const char *ips2[] = {"10.9.8.60", "10.9.8.999"};
	ASSERT_EQ(add_neighbors(c, ips2, devs, macs, 2, &msg), GRPC_INVALID_ARGUMENT);
	ASSERT_NOT_NULL(strstr(msg, "10.9.8.999"));
	free(msg);
	neigh_of("10.9.8.60", line, sizeof(line));
	ASSERT_STREQ(line, "");

	const char *nodev[] = {"nosuchdev"};
	ASSERT_EQ(add_neighbors(c, ips, nodev, macs, 1, &msg), GRPC_NOT_FOUND);
	ASSERT_NOT_NULL(strstr(msg, "Link not found"));
	free(msg);
	const char *badmac[] = {"02:00:zz"};
	ASSERT_EQ(add_neighbors(c, ips, devs, badmac, 1, &msg), GRPC_INVALID_ARGUMENT);
	free(msg);

	/* No neighbours message at all. */
	struct ttrpc_reply r = {0};
	ASSERT_EQ(ttrpc_client_call(c, "grpc.AgentService", "AddARPNeighbors", NULL, 0, 0, NULL, 0,
				    &r, NULL),
		  0);
	ASSERT_EQ(r.code, GRPC_INVALID_ARGUMENT);
	ttrpc_reply_clear(&r);
	itest_agent_stop(&a);
}

struct rt {
	const char *dest, *gw, *dev;
	uint32_t scope;
	int v6;
	const char *src;
};

static int update_routes(struct ttrpc_client *c, const struct rt *rts, size_t n, Grpc__Routes **ret,
			 char **ret_msg)
{
	Types__Route r[8], *pr[8];
	ASSERT_TRUE(n <= 8);
	for (size_t i = 0; i < n; i++) {
		types__route__init(&r[i]);
		r[i].dest = (char *)rts[i].dest;
		r[i].gateway = (char *)rts[i].gw;
		r[i].device = (char *)rts[i].dev;
		r[i].scope = rts[i].scope;
		r[i].family = rts[i].v6 ? TYPES__IPFAMILY__v6 : TYPES__IPFAMILY__v4;
		r[i].source = (char *)(rts[i].src ? rts[i].src : "");
		pr[i] = &r[i];
	}
	Grpc__Routes list = GRPC__ROUTES__INIT;
	list.routes = pr;
	list.n_routes = n;
	Grpc__UpdateRoutesRequest req = GRPC__UPDATE_ROUTES_REQUEST__INIT;
	req.routes = &list;
	uint8_t buf[4096];
	size_t len = grpc__update_routes_request__pack(&req, buf);
	struct ttrpc_reply rep = {0};
	_cleanup_error_ agent_error_t *err = NULL;
	if (ttrpc_client_call(c, "grpc.AgentService", "UpdateRoutes", buf, len, 0, NULL, 0, &rep,
			      &err) < 0)
		FAIL("UpdateRoutes: %s", err->msg);
	int code = rep.code;
	*ret_msg = strdup(rep.message ? rep.message : "");
	*ret = code ? NULL : grpc__routes__unpack(NULL, rep.len, rep.payload);
	ttrpc_reply_clear(&rep);
	return code;
}

/* Whether a line of the shell command's output contains want. */
static bool output_has(const char *cmd, const char *want)
{
	char line[512];
	FILE *p = popen(cmd, "r");
	bool found = false;
	while (p && fgets(line, sizeof(line), p))
		found |= strstr(line, want) != NULL;
	if (p)
		pclose(p);
	return found;
}

TEST(update_routes_link_routes_first_then_gateways_v4_v6)
{
	private_netns();
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	char *msg = NULL;
	Grpc__Routes *got = NULL;
	/* A route the request does not list: replaced away. */
	ASSERT_EQ(system("ip route add 10.99.0.0/16 via 10.9.8.1 dev v0"), 0);
	/* The gateway 10.9.9.1 is reachable only through the link route listed after it. */
	const struct rt rts[] = {
		{"10.40.0.0/16", "10.9.9.1", "v0", 0, 0, NULL},
		{"", "10.9.8.1", "v0", 0, 0, NULL},
		{"10.9.9.0/24", "", "v0", 253, 0, NULL},
		{"fd01::/64", "fd00::1", "v0", 0, 1, NULL},
	};
	int code = update_routes(c, rts, 4, &got, &msg);
	if (code)
		FAIL("UpdateRoutes answered %d: %s", code, msg);
	free(msg);
	ASSERT_TRUE(output_has("ip route", "10.40.0.0/16 via 10.9.9.1 dev v0"));
	ASSERT_TRUE(output_has("ip route", "default via 10.9.8.1 dev v0"));
	ASSERT_TRUE(output_has("ip route", "10.9.9.0/24 dev v0"));
	ASSERT_TRUE(output_has("ip -6 route", "fd01::/64 via fd00::1 dev v0"));
	ASSERT_FALSE(output_has("ip route", "10.99.0.0/16"));
	ASSERT_FALSE(output_has("ip route", "10.20.0.0/16")); /* from the set-up, not listed */
	ASSERT_TRUE(output_has("ip route", "10.9.8.0/24 dev v0 proto kernel"));
	/* The reply is the resulting table, default route included. */
	bool dflt = false;
	for (size_t i = 0; got && i < got->n_routes; i++)
		dflt |= strcmp(got->routes[i]->dest, "") == 0 &&
			strcmp(got->routes[i]->gateway, "10.9.8.1") == 0;
	ASSERT_TRUE(dflt);
	grpc__routes__free_unpacked(got, NULL);

	/* Invalid input: nothing applied. */
	const struct rt bad[] = {{"10.50.0.0/16", "10.9.8.1", "v0", 0, 0, NULL},
				 {"10.60.0.0/99", "", "v0", 0, 0, NULL}};
	ASSERT_EQ(update_routes(c, bad, 2, &got, &msg), GRPC_INVALID_ARGUMENT);
	ASSERT_NOT_NULL(strstr(msg, "10.60.0.0/99"));
	free(msg);
	ASSERT_FALSE(output_has("ip route", "10.50.0.0/16"));
	const struct rt nodev[] = {{"10.50.0.0/16", "", "nosuch0", 0, 0, NULL}};
	ASSERT_EQ(update_routes(c, nodev, 1, &got, &msg), GRPC_NOT_FOUND);
	ASSERT_NOT_NULL(strstr(msg, "Link not found"));
	free(msg);
	const struct rt mixed[] = {{"10.50.0.0/16", "fd00::1", "v0", 0, 0, NULL}};
	ASSERT_EQ(update_routes(c, mixed, 1, &got, &msg), GRPC_INVALID_ARGUMENT);
	free(msg);
	/* A gateway no link route reaches is refused before anything changes. */
	const struct rt unreach[] = {{"10.70.0.0/16", "", "v0", 253, 0, NULL},
				     {"10.80.0.0/16", "192.0.2.1", "v0", 0, 0, NULL}};
	ASSERT_EQ(update_routes(c, unreach, 2, &got, &msg), GRPC_INVALID_ARGUMENT);
	ASSERT_NOT_NULL(strstr(msg, "route 1"));
	ASSERT_NOT_NULL(strstr(msg, "192.0.2.1"));
	free(msg);
	ASSERT_FALSE(output_has("ip route", "10.70.0.0/16"));
	ASSERT_TRUE(output_has("ip route", "default via 10.9.8.1 dev v0"));
	itest_agent_stop(&a);
}

/* The guest: eth0 10.88.0.2/24 with IPv4 and IPv6 default routes, and one more route. */
static void guest_netns(void)
{
	if (unshare(CLONE_NEWNET) < 0)
		SKIP("cannot create a network namespace: %s", strerror(errno));
	const char *setup = "ip link set lo up && "
			    "ip link add eth0 type veth peer name peer0 && "
			    "ip link set eth0 up && ip link set peer0 up && "
			    "ip addr add 10.88.0.2/24 dev eth0 && "
			    "ip -6 addr add fd00:88::2/64 dev eth0 nodad && "
			    "ip route add default via 10.88.0.1 dev eth0 && "
			    "ip -6 route add default via fd00:88::1 dev eth0 && "
			    "ip route add 10.20.0.0/16 via 10.88.0.1 dev eth0";
	if (system(setup) != 0)
		SKIP("cannot set up veth test interfaces with ip(8)");
}

/* The main table as `ip route` / `ip -6 route` print it, without volatile fields. */
static char *table_text(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	ASSERT_NOT_NULL(out);
	const char *cmds[] = {"ip route show table main", "ip -6 route show table main"};
	for (int i = 0; i < 2; i++) {
		char line[512];
		FILE *p = popen(cmds[i], "r");
		ASSERT_NOT_NULL(p);
		while (fgets(line, sizeof(line), p)) {
			char *x = strstr(line, " expires");
			if (x)
				strcpy(x, "\n");
			fputs(line, out);
		}
		pclose(p);
	}
	fclose(out);
	return buf;
}

/*
 * The issue: one route whose gateway no link reaches. It is refused before anything is
 * deleted; the guest keeps its IPv4 and IPv6 default routes and every other route.
 */
TEST(update_routes_unreachable_gateway_keeps_the_guest_online)
{
	guest_netns();
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	char *before = table_text(), *msg = NULL;
	Grpc__Routes *got = NULL;
	const struct rt rts[] = {{"10.0.0.0/8", "192.168.1.1", "eth0", 0, 0, NULL}};
	int code = update_routes(c, rts, 1, &got, &msg);
	if (code == 0)
		FAIL("UpdateRoutes with an unreachable gateway answered OK");
	ASSERT_EQ(code, GRPC_INVALID_ARGUMENT);
	ASSERT_NOT_NULL(strstr(msg, "192.168.1.1"));
	ASSERT_NOT_NULL(strstr(msg, "reach"));
	free(msg);
	ASSERT_TRUE(output_has("ip route", "default via 10.88.0.1 dev eth0"));
	ASSERT_TRUE(output_has("ip -6 route", "default via fd00:88::1 dev eth0"));
	char *after = table_text();
	ASSERT_STREQ(after, before);
	free(after);
	free(before);
	itest_agent_stop(&a);
}

/*
 * A refusal no check foresees (a preferred source the guest does not own) comes after stale
 * routes were deleted and a link route added: the previous table is put back, and the reply
 * says so.
 */
TEST(update_routes_refused_midway_restores_the_previous_table)
{
	guest_netns();
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	char *before = table_text(), *msg = NULL;
	Grpc__Routes *got = NULL;
	const struct rt rts[] = {{"10.70.0.0/16", "", "eth0", 253, 0, NULL},
				 {"", "10.88.0.1", "eth0", 0, 0, "10.99.99.99"}};
	int code = update_routes(c, rts, 2, &got, &msg);
	if (code == 0)
		FAIL("UpdateRoutes with a foreign preferred source answered OK");
	ASSERT_NOT_NULL(strstr(msg, "route 1"));
	ASSERT_NOT_NULL(strstr(msg, "restored"));
	free(msg);
	ASSERT_TRUE(output_has("ip route", "default via 10.88.0.1 dev eth0"));
	ASSERT_TRUE(output_has("ip -6 route", "default via fd00:88::1 dev eth0"));
	ASSERT_FALSE(output_has("ip route", "10.70.0.0/16"));
	char *after = table_text();
	ASSERT_STREQ(after, before);
	free(after);
	free(before);
	/* The same request without the bad source applies. */
	const struct rt ok[] = {{"10.70.0.0/16", "", "eth0", 253, 0, NULL},
				{"", "10.88.0.1", "eth0", 0, 0, NULL}};
	code = update_routes(c, ok, 2, &got, &msg);
	if (code)
		FAIL("UpdateRoutes answered %d: %s", code, msg);
	free(msg);
	grpc__routes__free_unpacked(got, NULL);
	ASSERT_TRUE(output_has("ip route", "10.70.0.0/16 dev eth0"));
	ASSERT_FALSE(output_has("ip route", "10.20.0.0/16"));
	ASSERT_FALSE(output_has("ip -6 route", "default via fd00:88::1"));
	itest_agent_stop(&a);
}

static int update_interface(struct ttrpc_client *c, const Types__Interface *in,
			    Types__Interface **ret, char **ret_msg)
{
	Grpc__UpdateInterfaceRequest req = GRPC__UPDATE_INTERFACE_REQUEST__INIT;
	req.interface = (Types__Interface *)in;
	uint8_t buf[4096];
	size_t len = grpc__update_interface_request__pack(&req, buf);
	struct ttrpc_reply rep = {0};
	_cleanup_error_ agent_error_t *err = NULL;
	if (ttrpc_client_call(c, "grpc.AgentService", "UpdateInterface", buf, len, 0, NULL, 0, &rep,
			      &err) < 0)
		FAIL("UpdateInterface: %s", err->msg);
	int code = rep.code;
	*ret_msg = strdup(rep.message ? rep.message : "");
	*ret = code ? NULL : types__interface__unpack(NULL, rep.len, rep.payload);
	ttrpc_reply_clear(&rep);
	return code;
}

/* Moves v1 into a second namespace held by a child, with the far-end addresses. */
static pid_t peer_namespace(void)
{
	int p[2];
	ASSERT_EQ(pipe(p), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		(void)!write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	char x;
	close(p[1]);
	ASSERT_EQ(read(p[0], &x, 1), 1);
	close(p[0]);
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "ip link set v1 netns %d && "
		 "nsenter -t %d -n sh -c 'ip link set lo up && ip link set v1 up && "
		 "ip addr add 10.1.1.2/24 dev v1 && ip -6 addr add fd01::2/64 dev v1 nodad'",
		 pid, pid);
	ASSERT_EQ(system(cmd), 0);
	return pid;
}

TEST(update_interface_by_mac_renames_readdresses_and_carries_traffic)
{
	private_netns();
	pid_t peer = peer_namespace();
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	char mac[64], *msg = NULL;
	link_mac("v0", mac, sizeof(mac));
	for (char *p = mac; *p; p++)
		*p = (char)toupper((unsigned char)*p); /* the runtime's case must not matter */

	Types__IPAddress ip4 = TYPES__IPADDRESS__INIT, ip6 = TYPES__IPADDRESS__INIT;
	ip4.address = "10.1.1.1";
	ip4.mask = "24";
	ip6.family = TYPES__IPFAMILY__v6;
	ip6.address = "fd01::1";
	ip6.mask = "64";
	Types__IPAddress *ips[] = {&ip4, &ip6};
	Types__Interface in = TYPES__INTERFACE__INIT;
	in.name = "eth0";
	in.hwaddr = mac;
	in.mtu = 1450;
	in.ipaddresses = ips;
	in.n_ipaddresses = 2;

	/* Invalid first: nothing may change. */
	ip4.mask = "33";
	Types__Interface *out = NULL;
	ASSERT_EQ(update_interface(c, &in, &out, &msg), GRPC_INVALID_ARGUMENT);
	free(msg);
	ASSERT_TRUE(output_has("ip -o addr show dev v0", "10.9.8.7/24"));
	ip4.mask = "24";

	int code = update_interface(c, &in, &out, &msg);
	if (code)
		FAIL("UpdateInterface answered %d: %s", code, msg);
	free(msg);
	ASSERT_STREQ(out->name, "eth0");
	ASSERT_EQ(out->mtu, 1450);
	ASSERT_TRUE(out->raw_flags & IFF_UP);
	types__interface__free_unpacked(out, NULL);
	ASSERT_TRUE(output_has("ip -o addr show dev eth0", "10.1.1.1/24"));
	ASSERT_TRUE(output_has("ip -o addr show dev eth0", "fd01::1/64"));
	ASSERT_FALSE(output_has("ip -o addr show dev eth0", "10.9.8.7"));
	ASSERT_FALSE(output_has("ip -o addr show dev eth0", "fd00::5"));
	ASSERT_TRUE(output_has("ip -o link show dev eth0", "mtu 1450"));
	/* Traffic crosses the veth to the peer namespace, IPv4 and IPv6. */
	ASSERT_EQ(system("ping -c 1 -W 3 10.1.1.2 >/dev/null 2>&1"), 0);
	ASSERT_EQ(system("ping -6 -c 1 -W 3 fd01::2 >/dev/null 2>&1"), 0);

	/* With IPv6 off on the link, IPv6 addresses are skipped and the rest applies. */
	ASSERT_EQ(system("sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1"), 0);
	ip4.address = "10.1.1.3";
	code = update_interface(c, &in, &out, &msg);
	if (code)
		FAIL("UpdateInterface with IPv6 off answered %d: %s", code, msg);
	free(msg);
	types__interface__free_unpacked(out, NULL);
	ASSERT_TRUE(output_has("ip -o addr show dev eth0", "10.1.1.3/24"));

	/* An unknown MAC and name: the message the runtime retries on. */
	in.hwaddr = "02:de:ad:be:ef:00";
	in.name = "nosuch0";
	ASSERT_EQ(update_interface(c, &in, &out, &msg), GRPC_NOT_FOUND);
	ASSERT_NOT_NULL(strstr(msg, "Link not found"));
	free(msg);
	itest_agent_stop(&a);
	kill(peer, SIGKILL);
	waitpid(peer, NULL, 0);
}

/*
 * A rename the kernel refuses midway (another link holds the wanted name as an alternative
 * name): by then the link was down and readdressed. Its name, addresses, MTU, state and
 * routes are put back, and the reply says so.
 */
TEST(update_interface_refused_midway_restores_the_link)
{
	private_netns();
	if (system("ip link property add dev v1 altname eth0") != 0)
		SKIP("ip(8) cannot add alternative names here");
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	char mac[64], *msg = NULL, *before = table_text();
	link_mac("v0", mac, sizeof(mac));
	Types__IPAddress ip4 = TYPES__IPADDRESS__INIT;
	ip4.address = "10.1.1.1";
	ip4.mask = "24";
	Types__IPAddress *ips[] = {&ip4};
	Types__Interface in = TYPES__INTERFACE__INIT, *out = NULL;
	in.name = "eth0";
	in.hwaddr = mac;
	in.mtu = 1450;
	in.ipaddresses = ips;
	in.n_ipaddresses = 1;
	int code = update_interface(c, &in, &out, &msg);
	if (code == 0)
		FAIL("UpdateInterface to a name in use answered OK");
	ASSERT_NOT_NULL(strstr(msg, "restored"));
	free(msg);
	ASSERT_TRUE(output_has("ip -o link show dev v0", "mtu 1400"));
	ASSERT_TRUE(output_has("ip -o link show dev v0", ",UP"));
	ASSERT_TRUE(output_has("ip -o addr show dev v0", "10.9.8.7/24"));
	ASSERT_TRUE(output_has("ip -o addr show dev v0", "fd00::5/64"));
	ASSERT_FALSE(output_has("ip -o addr show dev v0", "10.1.1.1"));
	ASSERT_TRUE(output_has("ip route", "10.20.0.0/16 via 10.9.8.1 dev v0"));
	char *after = table_text();
	ASSERT_STREQ(after, before);
	free(after);
	free(before);
	itest_agent_stop(&a);
}

/* What the kernel would refuse for sure is refused before the link is touched. */
TEST(update_interface_validates_what_the_kernel_refuses)
{
	private_netns();
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	char mac[64], *msg = NULL;
	link_mac("v0", mac, sizeof(mac));
	Types__IPAddress ip = TYPES__IPADDRESS__INIT;
	Types__IPAddress *ips[] = {&ip};
	Types__Interface in = TYPES__INTERFACE__INIT, *out = NULL;
	in.hwaddr = mac;
	in.ipaddresses = ips;
	in.n_ipaddresses = 1;
	const char *bad[] = {"ff02::5", "::1", "::"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ip.address = (char *)bad[i];
		ip.mask = strchr(bad[i], ':') ? "64" : "24";
		int code = update_interface(c, &in, &out, &msg);
		if (code != GRPC_INVALID_ARGUMENT)
			FAIL("address %s: answered %d: %s", bad[i], code, msg);
		free(msg);
		ASSERT_TRUE(output_has("ip -o link show dev v0", ",UP"));
		ASSERT_TRUE(output_has("ip -o addr show dev v0", "10.9.8.7/24"));
	}
	itest_agent_stop(&a);
}

static int iptables_call(struct ttrpc_client *c, const char *method, bool v6, const char *rules,
			 char **ret_data, char **ret_msg)
{
	uint8_t buf[8192];
	size_t len;
	if (rules) {
		Grpc__SetIPTablesRequest req = GRPC__SET_IPTABLES_REQUEST__INIT;
		req.is_ipv6 = v6;
		req.data.data = (uint8_t *)rules;
		req.data.len = strlen(rules);
		len = grpc__set_iptables_request__pack(&req, buf);
	} else {
		Grpc__GetIPTablesRequest req = GRPC__GET_IPTABLES_REQUEST__INIT;
		req.is_ipv6 = v6;
		len = grpc__get_iptables_request__pack(&req, buf);
	}
	struct ttrpc_reply rep = {0};
	_cleanup_error_ agent_error_t *err = NULL;
	if (ttrpc_client_call(c, "grpc.AgentService", method, buf, len, 0, NULL, 0, &rep, &err) < 0)
		FAIL("%s: %s", method, err->msg);
	int code = rep.code;
	*ret_msg = strdup(rep.message ? rep.message : "");
	*ret_data = NULL;
	if (code == 0) {
		/* Both replies carry the text as field 1 (bytes). */
		Grpc__GetIPTablesResponse *g =
			grpc__get_iptables_response__unpack(NULL, rep.len, rep.payload);
		ASSERT_NOT_NULL(g);
		*ret_data =
			g->data.len ? strndup((const char *)g->data.data, g->data.len) : strdup("");
		grpc__get_iptables_response__free_unpacked(g, NULL);
	}
	ttrpc_reply_clear(&rep);
	return code;
}

TEST(iptables_set_and_get_v4_v6)
{
	private_netns();
	if (access("/usr/sbin/iptables-restore", X_OK) != 0 &&
	    access("/sbin/iptables-restore", X_OK))
		SKIP("iptables is not installed");
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	char *data = NULL, *msg = NULL;
	const char *v4 = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
			 ":OUTPUT ACCEPT [0:0]\n-A INPUT -s 10.9.8.99/32 -j DROP\nCOMMIT\n";
	int code = iptables_call(c, "SetIPTables", false, v4, &data, &msg);
	if (code)
		FAIL("SetIPTables answered %d: %s", code, msg);
	free(data);
	free(msg);
	ASSERT_EQ(iptables_call(c, "GetIPTables", false, NULL, &data, &msg), 0);
	ASSERT_NOT_NULL(strstr(data, "-A INPUT -s 10.9.8.99/32 -j DROP"));
	free(data);
	free(msg);
	ASSERT_TRUE(output_has("iptables-save", "-A INPUT -s 10.9.8.99/32 -j DROP"));

	const char *v6 = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s fd00::99/128 -j DROP\nCOMMIT\n";
	ASSERT_EQ(iptables_call(c, "SetIPTables", true, v6, &data, &msg), 0);
	free(data);
	free(msg);
	ASSERT_EQ(iptables_call(c, "GetIPTables", true, NULL, &data, &msg), 0);
	ASSERT_NOT_NULL(strstr(data, "fd00::99/128"));
	ASSERT_NULL(strstr(data, "10.9.8.99"));
	free(data);
	free(msg);

	/* Rules the tool refuses: INTERNAL with its own words; the table is unchanged. */
	ASSERT_EQ(iptables_call(c, "SetIPTables", false, "*filter\n-A NOCHAIN -j DROP\nCOMMIT\n",
				&data, &msg),
		  GRPC_INTERNAL);
	ASSERT_NOT_NULL(strstr(msg, "iptables-restore failed"));
	free(msg);
	ASSERT_EQ(iptables_call(c, "GetIPTables", false, NULL, &data, &msg), 0);
	ASSERT_NOT_NULL(strstr(data, "10.9.8.99/32"));
	free(data);
	free(msg);
	ASSERT_EQ(iptables_call(c, "SetIPTables", false, "", &data, &msg), GRPC_INVALID_ARGUMENT);
	free(msg);
	/* The helpers were reaped: the agent has no child left. */
	char path[64], kids[256] = "";
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", a.pid, a.pid);
	FILE *f = fopen(path, "r");
	ASSERT_NOT_NULL(f);
	if (!fgets(kids, sizeof(kids), f))
		kids[0] = '\0';
	fclose(f);
	ASSERT_STREQ(kids, "");
	itest_agent_stop(&a);
}
