/* SPDX-License-Identifier: Apache-2.0 */
/* ListInterfaces and ListRoutes: the kernel's view, mapped onto types.Interface / types.Route. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent.pb-c.h"
#include "base/log.h"
#include "base/message.h"
#include "base/strbuf.h"
#include "google/protobuf/empty.pb-c.h"
#include "net/net.h"
#include "device/devmatch.h"
#include "device/pcipath.h"
#include "rpc/agent-handlers.h"
#include "sandbox/sandbox.h"
#include "uevent/listener.h"

/* Methods that change the guest's network refuse in an inert (fuzzing) sandbox. */
static bool refuse_inert(struct rpc_call *call, const void *ctx)
{
	const struct sandbox *sb = ctx;

	if (!sb || !sb->opts.inert)
		return false;
	rpc_reply_status(call, GRPC_PERMISSION_DENIED, "this sandbox is inert");
	return true;
}

static Types__IPFamily family_of(int af)
{
	/* Upstream reports these backwards; the proto says v4 = 0, v6 = 1, and so do we. */
	return af == AF_INET6 ? TYPES__IPFAMILY__v6 : TYPES__IPFAMILY__v4;
}

/* One types.Interface from a link; ips, ipp and masks have room for its addresses. */
static void fill_interface(Types__Interface *it, const struct net_link *k, Types__IPAddress *ips,
			   Types__IPAddress **ipp, char (*masks)[8])
{
	types__interface__init(it);
	it->name = (char *)k->name;
	it->hwaddr = (char *)k->hwaddr;
	it->mtu = k->mtu;
	it->type = (char *)k->kind;
	it->raw_flags = k->flags;
	it->ipaddresses = ipp;
	it->n_ipaddresses = k->n_addrs;
	for (size_t j = 0; j < k->n_addrs; j++) {
		types__ipaddress__init(&ips[j]);
		ips[j].family = family_of(k->addrs[j].family);
		ips[j].address = (char *)k->addrs[j].address;
		snprintf(masks[j], sizeof(masks[j]), "%u", k->addrs[j].prefix);
		ips[j].mask = masks[j];
		ipp[j] = &ips[j];
	}
}

void rpc_list_interfaces(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	agent_error_t *err = NULL;
	struct net_link *links = NULL;
	size_t n = 0;

	if (net_list_links(&links, &n, &err) < 0) {
		rpc_reply_error(call, err);
		return;
	}
	size_t n_addrs = 0;
	for (size_t i = 0; i < n; i++)
		n_addrs += links[i].n_addrs;

	/* One allocation each for the messages, the pointer arrays and the mask strings. */
	Types__Interface *ifs = calloc(n ? n : 1, sizeof(*ifs));
	Types__Interface **ifp = calloc(n ? n : 1, sizeof(*ifp));
	Types__IPAddress *ips = calloc(n_addrs ? n_addrs : 1, sizeof(*ips));
	Types__IPAddress **ipp = calloc(n_addrs ? n_addrs : 1, sizeof(*ipp));
	char(*masks)[8] = calloc(n_addrs ? n_addrs : 1, sizeof(*masks));
	if (!ifs || !ifp || !ips || !ipp || !masks) {
		rpc_reply_status(call, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	size_t a = 0;
	for (size_t i = 0; i < n; i++) {
		fill_interface(&ifs[i], &links[i], &ips[a], &ipp[a], &masks[a]);
		a += links[i].n_addrs;
		ifp[i] = &ifs[i];
	}
	Grpc__Interfaces resp = GRPC__INTERFACES__INIT;
	resp.interfaces = ifp;
	resp.n_interfaces = n;
	rpc_reply(call, &resp.base);
out:
	free(ifs);
	free(ifp);
	free(ips);
	free(ipp);
	free(masks);
	net_links_free(links, n);
}

/* Answers with the main table as ListRoutes shows it. */
static void reply_routes(struct rpc_call *call)
{
	agent_error_t *err = NULL;
	struct net_route *routes = NULL;
	size_t n = 0;

	if (net_list_routes(&routes, &n, &err) < 0) {
		rpc_reply_error(call, err);
		return;
	}
	Types__Route *rs = calloc(n ? n : 1, sizeof(*rs));
	Types__Route **rp = calloc(n ? n : 1, sizeof(*rp));
	if (!rs || !rp) {
		rpc_reply_status(call, GRPC_RESOURCE_EXHAUSTED, "out of memory");
	} else {
		for (size_t i = 0; i < n; i++) {
			types__route__init(&rs[i]);
			rs[i].dest = routes[i].dest;
			rs[i].gateway = routes[i].gateway;
			rs[i].device = routes[i].device;
			rs[i].source = routes[i].source;
			rs[i].scope = routes[i].scope;
			rs[i].family = family_of(routes[i].family);
			rs[i].flags = routes[i].flags;
			rs[i].mtu = routes[i].mtu;
			rp[i] = &rs[i];
		}
		Grpc__Routes resp = GRPC__ROUTES__INIT;
		resp.routes = rp;
		resp.n_routes = n;
		rpc_reply(call, &resp.base);
	}
	free(rs);
	free(rp);
	net_routes_free(routes, n);
}

#define MAX_NEIGHBORS 4096

/*
 * AddARPNeighbors: every entry is checked before any is applied; if the kernel then
 * refuses one, the reply says which, and that the ones before it were applied.
 */
void rpc_add_arp_neighbors(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__AddARPNeighborsRequest *r = (const Grpc__AddARPNeighborsRequest *)req;
	if (refuse_inert(call, ctx))
		return;
	if (!r->neighbors) {
		rpc_reply_status(call, GRPC_INVALID_ARGUMENT, "AddARPNeighbors: missing neighbors");
		return;
	}
	size_t n = r->neighbors->n_arpneighbors;
	if (n > MAX_NEIGHBORS) {
		rpc_reply_status(call, GRPC_INVALID_ARGUMENT, "%zu neighbours: at most %d", n,
				 MAX_NEIGHBORS);
		return;
	}
	struct net_neigh *ns = calloc(n ? n : 1, sizeof(*ns));
	if (!ns) {
		rpc_reply_status(call, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const Types__ARPNeighbor *a = r->neighbors->arpneighbors[i];
		struct net_neigh *ne = &ns[i];
		if (!a->toipaddress || net_parse_ip(a->toipaddress->address, &ne->ip) < 0) {
			rpc_reply_status(call, GRPC_INVALID_ARGUMENT,
					 "neighbour %zu: invalid IP address \"%.64s\"", i,
					 a->toipaddress ? a->toipaddress->address : "");
			goto out;
		}
		if (!a->device || !*a->device || strlen(a->device) >= IFNAMSIZ ||
		    !(ne->ifindex = (int)if_nametoindex(a->device))) {
			rpc_reply_status(call, GRPC_NOT_FOUND,
					 "neighbour %zu: Link not found: %.32s", i,
					 a->device ? a->device : "");
			goto out;
		}
		if (a->lladdr && *a->lladdr &&
		    net_parse_mac(a->lladdr, ne->lladdr, sizeof(ne->lladdr), &ne->lladdr_len) < 0) {
			rpc_reply_status(call, GRPC_INVALID_ARGUMENT,
					 "neighbour %zu: invalid link-layer address \"%.64s\"", i,
					 a->lladdr);
			goto out;
		}
		if (a->state < 0 || a->state > 0xffff || a->flags < 0 || a->flags > 0xff) {
			rpc_reply_status(call, GRPC_INVALID_ARGUMENT,
					 "neighbour %zu: state %d or flags %d out of range", i,
					 a->state, a->flags);
			goto out;
		}
		ne->state = a->state ? (uint16_t)a->state : NUD_PERMANENT;
		ne->flags = (uint8_t)a->flags;
	}
	for (size_t i = 0; i < n; i++) {
		agent_error_t *err = NULL;
		if (net_add_neighbor(&ns[i], &err) < 0) {
			agent_error_wrap(&err,
					 "neighbour %zu of %zu (%s on %s; the %zu before it were "
					 "applied)",
					 i, n, r->neighbors->arpneighbors[i]->toipaddress->address,
					 r->neighbors->arpneighbors[i]->device, i);
			rpc_reply_error(call, err);
			goto out;
		}
	}
	Google__Protobuf__Empty empty = GOOGLE__PROTOBUF__EMPTY__INIT;
	rpc_reply(call, &empty.base);
out:
	free(ns);
}

void rpc_list_routes(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	reply_routes(call);
}

#define MAX_ROUTES 4096

/* Validates one route of the request into rq; replies and returns false when it is not valid. */
static bool route_from_request(struct rpc_call *call, size_t i, const Types__Route *r,
			       struct net_route_req *rq)
{
	unsigned plen;
	int fam = r->family == TYPES__IPFAMILY__v6 ? AF_INET6 : AF_INET;
	bool fam_known = false;

	memset(rq, 0, sizeof(*rq));
	if (!r->device || !*r->device || strlen(r->device) >= IFNAMSIZ ||
	    !(rq->ifindex = (int)if_nametoindex(r->device))) {
		rpc_reply_status(call, GRPC_NOT_FOUND, "route %zu: Link not found: %.32s", i,
				 r->device ? r->device : "");
		return false;
	}
	if (r->dest && *r->dest) {
		if (net_parse_cidr(r->dest, &rq->dst, &plen) < 0)
			goto bad_dest;
		rq->dst_len = plen;
		fam = rq->dst.family;
		fam_known = true;
	}
	if (r->gateway && *r->gateway) {
		if (net_parse_ip(r->gateway, &rq->gw) < 0 || (fam_known && rq->gw.family != fam)) {
			rpc_reply_status(call, GRPC_INVALID_ARGUMENT,
					 "route %zu: invalid gateway \"%.64s\"", i, r->gateway);
			return false;
		}
		rq->has_gw = true;
		fam = rq->gw.family;
		fam_known = true;
	}
	if (r->source && *r->source) {
		if (net_parse_cidr(r->source, &rq->src, &plen) < 0 ||
		    (fam_known && rq->src.family != fam)) {
			rpc_reply_status(call, GRPC_INVALID_ARGUMENT,
					 "route %zu: invalid source \"%.64s\"", i, r->source);
			return false;
		}
		rq->src_len = plen;
		rq->has_src = true;
		fam = rq->src.family;
	}
	if (r->scope > 255 || r->flags > 0xff) {
		rpc_reply_status(call, GRPC_INVALID_ARGUMENT,
				 "route %zu: scope %u or flags %u out of range", i, r->scope,
				 r->flags);
		return false;
	}
	rq->family = fam;
	rq->dst.family = fam;
	rq->scope = (uint8_t)r->scope;
	rq->flags = r->flags;
	rq->mtu = r->mtu;
	return true;
bad_dest:
	rpc_reply_status(call, GRPC_INVALID_ARGUMENT, "route %zu: invalid destination \"%.64s\"", i,
			 r->dest);
	return false;
}

/* Whether the listed route e is the requested route t (same destination, gateway, link). */
static bool same_route(const Types__Route *t, const struct net_route_req *rq,
		       const struct net_route *e)
{
	if (rq->family != e->family || rq->ifindex != e->ifindex)
		return false;
	char want_dest[80] = "";
	if (rq->dst_len) {
		char a[64];
		inet_ntop(rq->family, rq->dst.bytes, a, sizeof(a));
		snprintf(want_dest, sizeof(want_dest), "%s/%u", a, rq->dst_len);
	}
	char want_gw[64] = "";
	if (rq->has_gw)
		inet_ntop(rq->family, rq->gw.bytes, want_gw, sizeof(want_gw));
	return strcmp(want_dest, e->dest) == 0 && strcmp(want_gw, e->gateway) == 0;
}

/* Whether the listed route e is one without gateway on ifindex whose prefix holds gw. */
static bool table_route_reaches(const struct net_route *e, const struct net_route_req *g)
{
	struct net_ip dst = {.family = e->family};
	unsigned plen = 0;

	if (e->gateway[0] || e->ifindex != g->ifindex || e->family != g->family)
		return false;
	if (g->family == AF_INET && e->scope <= g->scope)
		return false; /* the kernel looks the gateway up at a narrower scope */
	if (e->dest[0] && net_parse_cidr(e->dest, &dst, &plen) < 0)
		return false;
	return net_prefix_contains(&dst, plen, &g->gw);
}

/*
 * Whether the kernel will take route g's gateway: a route without gateway on the same link
 * must hold it, one of the request's or one of the table's that stays (stale[] go). IPv6
 * link-local gateways and onlink routes need none.
 */
static bool gateway_reachable(const struct net_route_req *rq, size_t n, size_t self,
			      const struct net_route *have, size_t n_have, const bool *stale)
{
	const struct net_route_req *g = &rq[self];

	if (g->flags & RTNH_F_ONLINK)
		return true;
	if (g->family == AF_INET6 && g->gw.bytes[0] == 0xfe && (g->gw.bytes[1] & 0xc0) == 0x80)
		return true;
	for (size_t i = 0; i < n; i++) {
		const struct net_route_req *c = &rq[i];
		if (c->has_gw || c->ifindex != g->ifindex || c->family != g->family)
			continue;
		if (g->family == AF_INET && c->scope <= g->scope)
			continue;
		struct net_ip dst = c->dst;
		dst.family = c->family;
		if (net_prefix_contains(&dst, c->dst_len, &g->gw))
			return true;
	}
	for (size_t h = 0; h < n_have; h++)
		if (!stale[h] && table_route_reaches(&have[h], g))
			return true;
	return false;
}

/* After a refusal midway: the table as it was, and the error says whether that worked. */
static void restore_routes(agent_error_t **err, const struct net_route *have, size_t n_have)
{
	agent_error_t *rerr = NULL;

	if (net_routes_restore(have, n_have, &rerr) < 0) {
		agent_error_wrap(
			err, "refused midway, and restoring the previous routes failed too (%s)",
			rerr ? rerr->msg : "?");
		agent_error_free(rerr);
		return;
	}
	agent_error_wrap(err, "refused midway, the previous routes were restored");
}

/*
 * UpdateRoutes: every route is checked before anything changes, the gateways too (each
 * must be reachable through a route without gateway on its link, in the request or in
 * what stays of the table). The request replaces the routes of the links it names
 * (upstream only adds; the issue asks for the table as given), keeping the kernel's own
 * prefix routes; routes without a gateway go first. If the kernel still refuses a step,
 * the table is put back as it was and the reply names the step and says so.
 */
void rpc_update_routes(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__UpdateRoutesRequest *r = (const Grpc__UpdateRoutesRequest *)req;
	struct net_route *have = NULL;
	size_t n_have = 0;
	bool *stale = NULL;
	agent_error_t *err = NULL;

	if (refuse_inert(call, ctx))
		return;
	if (!r->routes) {
		rpc_reply_status(call, GRPC_INVALID_ARGUMENT, "UpdateRoutes: missing routes");
		return;
	}
	size_t n = r->routes->n_routes;
	if (n > MAX_ROUTES) {
		rpc_reply_status(call, GRPC_INVALID_ARGUMENT, "%zu routes: at most %d", n,
				 MAX_ROUTES);
		return;
	}
	struct net_route_req *rq = calloc(n ? n : 1, sizeof(*rq));
	if (!rq) {
		rpc_reply_status(call, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (!route_from_request(call, i, r->routes->routes[i], &rq[i]))
			goto out;
	if (net_list_routes(&have, &n_have, &err) < 0) {
		rpc_reply_error(call, err);
		goto out;
	}
	/* Stale: on a link the request names, not listed in it, not the kernel's own. */
	stale = calloc(n_have ? n_have : 1, sizeof(*stale));
	if (!stale) {
		rpc_reply_status(call, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	for (size_t h = 0; h < n_have; h++) {
		const struct net_route *e = &have[h];
		bool on_our_link = false, listed = false;
		for (size_t i = 0; i < n; i++) {
			if (rq[i].ifindex != e->ifindex)
				continue;
			on_our_link = true;
			listed |= same_route(r->routes->routes[i], &rq[i], e);
		}
		stale[h] = on_our_link && !listed && e->protocol != RTPROT_KERNEL;
	}
	for (size_t i = 0; i < n; i++) {
		const Types__Route *t = r->routes->routes[i];
		if (rq[i].has_gw && !gateway_reachable(rq, n, i, have, n_have, stale)) {
			rpc_reply_status(
				call, GRPC_INVALID_ARGUMENT,
				"route %zu (dest \"%.64s\" gateway %.64s dev %.32s): the "
				"gateway is not reachable on %.32s, no route without gateway "
				"there holds it (in the request or the table); nothing was "
				"changed",
				i, t->dest, t->gateway, t->device, t->device);
			goto out;
		}
	}

	for (size_t h = 0; h < n_have; h++) {
		const struct net_route *e = &have[h];
		if (!stale[h])
			continue;
		if (net_del_route(e, &err) < 0) {
			agent_error_wrap(&err, "removing stale route %s via %s dev %s",
					 e->dest[0] ? e->dest : "default", e->gateway, e->device);
			goto failed;
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			if (rq[i].has_gw != (pass == 1))
				continue;
			if (net_add_route(&rq[i], &err) < 0) {
				const Types__Route *t = r->routes->routes[i];
				agent_error_wrap(&err,
						 "route %zu (dest \"%s\" gateway \"%s\" dev %s)", i,
						 t->dest, t->gateway, t->device);
				goto failed;
			}
		}
	}
	reply_routes(call);
	goto out;
failed:
	restore_routes(&err, have, n_have);
	rpc_reply_error(call, err);
out:
	free(stale);
	net_routes_free(have, n_have);
	free(rq);
}

#define MAX_IFACE_ADDRS 256

struct want_addr {
	struct net_ip ip;
	unsigned prefix;
};

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	return strcspn(s, "/: \t\n") == n;
}

static struct net_link *link_by_name(struct net_link *l, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i].name, name) == 0)
			return &l[i];
	return NULL;
}

static struct net_link *link_by_mac(struct net_link *l, size_t n, const char *mac)
{
	for (size_t i = 0; i < n; i++)
		if (mac && *mac && strcasecmp(l[i].hwaddr, mac) == 0)
			return &l[i];
	return NULL;
}

static bool wanted(const struct want_addr *w, size_t n, const struct net_addr *have)
{
	struct net_ip ip;
	if (net_parse_ip(have->address, &ip) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (w[i].ip.family == ip.family && w[i].prefix == have->prefix &&
		    memcmp(w[i].ip.bytes, ip.bytes, sizeof(ip.bytes)) == 0)
			return true;
	return false;
}

/* Whether IPv6 is switched off on the link (net.ipv6.conf.IF.disable_ipv6, or no IPv6). */
static bool ipv6_disabled(const char *ifname)
{
	char path[96], v = '1';
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	FILE *f = fopen(path, "re");
	if (!f)
		return true;
	if (fread(&v, 1, 1, f) != 1)
		v = '1';
	fclose(f);
	return v == '1';
}

/* Records a finished step for the error message, if a later one fails. */
#define STEP(sb, ...) strbuf_addf(sb, __VA_ARGS__)

/* IPv6 addresses the kernel never assigns to a link: multicast, loopback, unspecified. */
static const char *unassignable(const struct net_ip *ip)
{
	static const uint8_t zero[16];

	if (ip->family != AF_INET6)
		return NULL;
	if (ip->bytes[0] == 0xff)
		return "multicast";
	if (memcmp(ip->bytes, zero, 15) == 0 && ip->bytes[15] <= 1)
		return ip->bytes[15] ? "loopback" : "unspecified";
	return NULL;
}

/* Renames links back: through a temporary name each, as two may have swapped names. */
static int restore_names(const struct net_link *const *was, size_t n, agent_error_t **err)
{
	struct net_link *cur = NULL;
	size_t n_cur = 0;
	bool moved[2] = {false, false};
	int r = net_list_links(&cur, &n_cur, err);

	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct net_link *now = NULL;
		for (size_t j = 0; j < n_cur; j++)
			if (cur[j].index == was[i]->index)
				now = &cur[j];
		if (!now || strcmp(now->name, was[i]->name) == 0)
			continue;
		char tmp[IFNAMSIZ];
		snprintf(tmp, sizeof(tmp), "kr%d", was[i]->index);
		r = net_link_set_name(was[i]->index, tmp, err);
		moved[i] = r == 0;
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		if (moved[i])
			r = net_link_set_name(was[i]->index, was[i]->name, err);
	net_links_free(cur, n_cur);
	return r;
}

/*
 * After a refusal midway: the link (and the one it may have swapped names with) as it was:
 * names, MAC, MTU, addresses, ARP and up state, then the routes (the kernel drops a link's
 * IPv4 routes when it goes down). Every step is tried; the first error is returned.
 */
static int restore_link(const struct net_link *was, const struct net_link *other,
			const struct net_route *routes, size_t n_routes, agent_error_t **err)
{
	const struct net_link *named[2] = {was, other};
	agent_error_t *e = NULL;
	int ret = 0, r;
	uint8_t mac[32];
	size_t mac_len = 0;

#define KEEP(x)                          \
	do {                             \
		r = (x);                 \
		if (r < 0 && ret == 0) { \
			ret = r;         \
			*err = e;        \
			e = NULL;        \
		}                        \
		e = agent_error_free(e); \
	} while (0)
	KEEP(restore_names(named, other ? 2 : 1, &e));
	if (was->hwaddr[0] && net_parse_mac(was->hwaddr, mac, sizeof(mac), &mac_len) == 0)
		KEEP(net_link_set_mac(was->index, mac, mac_len, &e));
	if (was->mtu)
		KEEP(net_link_set_mtu(was->index, was->mtu, &e));
	KEEP(net_addrs_restore(was->index, was->addrs, was->n_addrs, &e));
	KEEP(net_link_set_flags(was->index, was->flags & (IFF_UP | IFF_NOARP), IFF_UP | IFF_NOARP,
				&e));
	KEEP(net_routes_restore(routes, n_routes, &e));
#undef KEEP
	return ret;
}

/*
 * UpdateInterface: find the link by MAC (or by name, giving it the MAC), then with the
 * link down: replace its addresses (IPv6 link-local ones stay), rename it (swapping names
 * with a link that holds the wanted one), set MTU and ARP, bring it up. The request is
 * validated whole first, against the link too (its MTU range; addresses no link can hold).
 * If the kernel still refuses a step, the link, its addresses and the routes are put back
 * as they were, and the reply names the step, what was done, and that it was undone.
 * The reply is the interface as the kernel now reports it.
 */
static void update_interface_now(struct rpc_call *call, const Types__Interface *in)
{
	struct want_addr want[MAX_IFACE_ADDRS];
	uint8_t mac[32];
	size_t mac_len = 0;
	agent_error_t *err = NULL;
	struct net_link *links = NULL;
	size_t n_links = 0;
	struct net_route *routes = NULL;
	size_t n_routes = 0;
	struct strbuf done;
	const struct net_link *other = NULL;

	if (!in) {
		rpc_reply_status(call, GRPC_INVALID_ARGUMENT, "UpdateInterface: missing interface");
		return;
	}
	if (in->name && *in->name && !valid_ifname(in->name)) {
		rpc_reply_status(call, GRPC_INVALID_ARGUMENT,
				 "update interface: invalid name \"%.32s\"", in->name);
		return;
	}
	if (in->mtu && (in->mtu < 68 || in->mtu > 65535)) {
		rpc_reply_status(call, GRPC_INVALID_ARGUMENT, "update interface: invalid MTU %llu",
				 (unsigned long long)in->mtu);
		return;
	}
	if (in->hwaddr && *in->hwaddr &&
	    net_parse_mac(in->hwaddr, mac, sizeof(mac), &mac_len) < 0) {
		rpc_reply_status(call, GRPC_INVALID_ARGUMENT,
				 "update interface: invalid hwAddr \"%.64s\"", in->hwaddr);
		return;
	}
	if (in->n_ipaddresses > MAX_IFACE_ADDRS) {
		rpc_reply_status(call, GRPC_INVALID_ARGUMENT,
				 "update interface: %zu addresses, at most %d", in->n_ipaddresses,
				 MAX_IFACE_ADDRS);
		return;
	}
	for (size_t i = 0; i < in->n_ipaddresses; i++) {
		const Types__IPAddress *ip = in->ipaddresses[i];
		char *end = NULL;
		unsigned long p = ip && ip->mask ? strtoul(ip->mask, &end, 10) : 0;
		if (!ip || net_parse_ip(ip->address, &want[i].ip) < 0 || !ip->mask || !*ip->mask ||
		    *end || p > (want[i].ip.family == AF_INET ? 32u : 128u)) {
			rpc_reply_status(call, GRPC_INVALID_ARGUMENT,
					 "update interface: invalid address %zu \"%.64s/%.8s\"", i,
					 ip && ip->address ? ip->address : "",
					 ip && ip->mask ? ip->mask : "");
			return;
		}
		const char *why = unassignable(&want[i].ip);
		if (why) {
			rpc_reply_status(call, GRPC_INVALID_ARGUMENT,
					 "update interface: address %zu \"%.64s\" is %s: no link "
					 "can hold it",
					 i, ip->address, why);
			return;
		}
		want[i].prefix = (unsigned)p;
	}

	if (net_list_links(&links, &n_links, &err) < 0) {
		rpc_reply_error(call, err);
		return;
	}
	strbuf_init(&done, 4096);
	struct net_link *k = link_by_mac(links, n_links, in->hwaddr);
	bool give_mac = false;
	if (!k && mac_len && in->name && *in->name) {
		k = link_by_name(links, n_links, in->name);
		give_mac = k != NULL;
	}
	if (!k) {
		rpc_reply_status(call, GRPC_NOT_FOUND,
				 "update interface: Link not found (hwAddr %.64s, name %.32s)",
				 in->hwaddr ? in->hwaddr : "", in->name ? in->name : "");
		goto out;
	}
	if (in->mtu &&
	    ((k->min_mtu && in->mtu < k->min_mtu) || (k->max_mtu && in->mtu > k->max_mtu))) {
		rpc_reply_status(call, GRPC_INVALID_ARGUMENT,
				 "update interface %s: MTU %llu is outside the link's range %u-%u",
				 k->name, (unsigned long long)in->mtu, k->min_mtu, k->max_mtu);
		goto out;
	}
	/* What a failure midway puts back. */
	if (net_list_routes(&routes, &n_routes, &err) < 0) {
		rpc_reply_error(call, err);
		goto out;
	}
	int idx = k->index;
	const char *old_name = k->name;
	if (give_mac) {
		if (net_link_set_mac(idx, mac, mac_len, &err) < 0) {
			err = agent_error_free(err);
			rpc_reply_status(call, GRPC_NOT_FOUND,
					 "update interface: Link not found (hwAddr %.64s, name "
					 "%.32s)",
					 in->hwaddr, in->name);
			goto out;
		}
		STEP(&done, "MAC of %s set; ", old_name);
	}

	if ((k->flags & IFF_UP) && net_link_set_flags(idx, 0, IFF_UP, &err) < 0)
		goto fail;
	STEP(&done, "link down; ");
	for (size_t i = 0; i < k->n_addrs; i++) {
		const struct net_addr *h = &k->addrs[i];
		struct net_ip ip;
		if (wanted(want, in->n_ipaddresses, h) || net_parse_ip(h->address, &ip) < 0)
			continue;
		if (ip.family == AF_INET6 && ip.bytes[0] == 0xfe && (ip.bytes[1] & 0xc0) == 0x80)
			continue; /* link-local: the kernel's own */
		int r = net_addr_change(false, idx, &ip, h->prefix, &err);
		if (r == -EADDRNOTAVAIL) {
			/* IPv6 addresses go with the link going down (keep_addr_on_down=0). */
			err = agent_error_free(err);
			continue;
		}
		if (r < 0)
			goto fail;
		STEP(&done, "removed %s/%u; ", h->address, h->prefix);
	}
	bool no_v6 = ipv6_disabled(old_name);
	for (size_t i = 0; i < in->n_ipaddresses; i++) {
		if (want[i].ip.family == AF_INET6 && no_v6) {
			STEP(&done, "skipped %s (IPv6 disabled); ", in->ipaddresses[i]->address);
			continue; /* as upstream */
		}
		if (net_addr_change(true, idx, &want[i].ip, want[i].prefix, &err) < 0)
			goto fail;
		STEP(&done, "added %s/%u; ", in->ipaddresses[i]->address, want[i].prefix);
	}
	if (in->name && *in->name && strcmp(in->name, old_name) != 0) {
		other = link_by_name(links, n_links, in->name);
		char tmp[IFNAMSIZ];
		snprintf(tmp, sizeof(tmp), "%.10s_temp", in->name);
		if (other && net_link_set_name(other->index, tmp, &err) < 0)
			goto fail;
		if (net_link_set_name(idx, in->name, &err) < 0)
			goto fail;
		if (other && net_link_set_name(other->index, old_name, &err) < 0)
			goto fail;
		STEP(&done, "renamed %s to %s%s; ", old_name, in->name,
		     other ? " (names swapped)" : "");
	}
	if (in->mtu && net_link_set_mtu(idx, (uint32_t)in->mtu, &err) < 0)
		goto fail;
	if (net_link_set_flags(idx, (in->raw_flags & IFF_NOARP) | IFF_UP, IFF_NOARP | IFF_UP,
			       &err) < 0)
		goto fail;

	/* The reply: the link as the kernel now has it. */
	struct net_link *now = NULL;
	size_t n_now = 0;
	if (net_list_links(&now, &n_now, &err) < 0) {
		rpc_reply_error(call, err);
		goto out;
	}
	for (size_t i = 0; i < n_now; i++) {
		if (now[i].index != idx)
			continue;
		size_t na = now[i].n_addrs ? now[i].n_addrs : 1;
		Types__IPAddress *ips = calloc(na, sizeof(*ips));
		Types__IPAddress **ipp = calloc(na, sizeof(*ipp));
		char(*masks)[8] = calloc(na, sizeof(*masks));
		if (ips && ipp && masks) {
			Types__Interface out;
			fill_interface(&out, &now[i], ips, ipp, masks);
			rpc_reply(call, &out.base);
		} else {
			rpc_reply_status(call, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		}
		free(ips);
		free(ipp);
		free(masks);
		net_links_free(now, n_now);
		goto out;
	}
	net_links_free(now, n_now);
	rpc_reply_status(call, GRPC_NOT_FOUND, "update interface: Link not found after update");
	goto out;
fail:;
	agent_error_t *rerr = NULL;
	if (restore_link(k, other, routes, n_routes, &rerr) < 0)
		agent_error_wrap(
			&err, "update interface %s (done: %s; restoring the link failed too: %s)",
			old_name, done.s && done.len ? done.s : "nothing", rerr ? rerr->msg : "?");
	else
		agent_error_wrap(&err,
				 "update interface %s (done: %s; all of it undone, the link, its "
				 "addresses and routes restored)",
				 old_name, done.s && done.len ? done.s : "nothing");
	agent_error_free(rerr);
	rpc_reply_error(call, err);
out:
	strbuf_release(&done);
	net_routes_free(routes, n_routes);
	net_links_free(links, n_links);
}

/* --- devicePath: wait for the hot-plugged NIC ------------------------------------------------ */

struct iface_wait {
	struct rpc_call *call;
	struct sandbox *sb;
	Types__Interface *in; /* our copy: the request is gone when the device comes */
	struct uevent_waiter *w;
};

static void iface_wait_free(struct iface_wait *iw)
{
	types__interface__free_unpacked(iw->in, NULL);
	free(iw);
}

static void iface_wait_cancelled(struct rpc_call *call, void *data)
{
	struct iface_wait *iw = data;

	uevent_wait_cancel(iw->sb->uevents, iw->w);
	iface_wait_free(iw);
}

static void iface_device_ready(const struct uevent *ev, agent_error_t *err, void *data)
{
	struct iface_wait *iw = data;

	rpc_call_set_cancel(iw->call, NULL, NULL);
	if (!ev) {
		rpc_reply_error(iw->call, err);
		iface_wait_free(iw);
		return;
	}
	/* The NIC is there: give it the wanted MAC (best effort), then the usual update. */
	uint8_t mac[32];
	size_t mac_len = 0;
	unsigned idx = ev->interface[0] ? if_nametoindex(ev->interface) : 0;
	if (idx && iw->in->hwaddr && *iw->in->hwaddr &&
	    net_parse_mac(iw->in->hwaddr, mac, sizeof(mac), &mac_len) == 0) {
		agent_error_t *merr = NULL;
		if (net_link_set_mac((int)idx, mac, mac_len, &merr) < 0) {
			log_warn("net", "setting %s on %s: %s", iw->in->hwaddr, ev->interface,
				 merr->msg);
			agent_error_free(merr);
		}
	}
	update_interface_now(iw->call, iw->in);
	iface_wait_free(iw);
}

void rpc_update_interface(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Types__Interface *in = ((const Grpc__UpdateInterfaceRequest *)req)->interface;
	struct sandbox *sb = ctx;
	agent_error_t *err = NULL;
	struct pci_path pp;
	struct pci_sysfs_path sp;
	struct dev_match d;
	struct iface_wait *iw;

	if (refuse_inert(call, ctx))
		return;
	if (!in || !in->devicepath || !*in->devicepath) {
		update_interface_now(call, in);
		return;
	}
	if (!sb->uevents) {
		rpc_reply_status(
			call, GRPC_UNAVAILABLE,
			"update interface: no uevent listener to wait for devicePath %.64s",
			in->devicepath);
		return;
	}
	if (pci_path_parse(in->devicepath, &pp, &err) < 0 ||
	    pci_path_resolve(NULL, &pp, &sp, &err) < 0 ||
	    dev_match_net_pci(&d, &sp, in->devicepath, &err) < 0) {
		if (!err->status && err->errnum == EINVAL)
			err->status = GRPC_INVALID_ARGUMENT;
		agent_error_wrap(&err, "update interface: devicePath");
		rpc_reply_error(call, err);
		return;
	}
	iw = calloc(1, sizeof(*iw));
	if (iw)
		iw->in = message_dup(&in->base);
	if (!iw || !iw->in) {
		free(iw);
		rpc_reply_status(call, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	iw->call = call;
	iw->sb = sb;
	if (uevent_wait(sb->uevents, &d.m, sb->opts.hotplug_timeout_ms, iface_device_ready, iw,
			&iw->w, &err) < 0) {
		iface_wait_free(iw);
		rpc_reply_error(call, err);
		return;
	}
	rpc_call_set_cancel(call, iface_wait_cancelled, iw);
}
