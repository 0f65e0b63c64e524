/* SPDX-License-Identifier: Apache-2.0 */
/* ListInterfaces and ListRoutes: the kernel's view, mapped onto types.Interface / types.Route. */
#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "net/net.h"
#include "rpc/agent-handlers.h"

static Types__IPFamily family_of(int af)
{
	/* Upstream reports these backwards; the proto says v4 = 0, v6 = 1, and so do we. */
	return af == AF_INET6 ? TYPES__IPFAMILY__v6 : TYPES__IPFAMILY__v4;
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
		struct net_link *k = &links[i];
		Types__Interface *it = &ifs[i];
		types__interface__init(it);
		it->name = k->name;
		it->hwaddr = k->hwaddr;
		it->mtu = k->mtu;
		it->type = k->kind;
		it->raw_flags = k->flags;
		it->ipaddresses = &ipp[a];
		it->n_ipaddresses = k->n_addrs;
		for (size_t j = 0; j < k->n_addrs; j++, a++) {
			types__ipaddress__init(&ips[a]);
			ips[a].family = family_of(k->addrs[j].family);
			ips[a].address = k->addrs[j].address;
			snprintf(masks[a], sizeof(masks[a]), "%u", k->addrs[j].prefix);
			ips[a].mask = masks[a];
			ipp[a] = &ips[a];
		}
		ifp[i] = it;
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
	free(routes);
}

#define MAX_NEIGHBORS 4096

/*
 * AddARPNeighbors: every entry is checked before any is applied; if the kernel then
 * refuses one, the reply says which, and that the ones before it were applied.
 */
void rpc_add_arp_neighbors(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__AddARPNeighborsRequest *r = (const Grpc__AddARPNeighborsRequest *)req;
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

/*
 * UpdateRoutes: every route is checked before any is added; routes without a gateway go
 * first (the gateways they reach need them). Existing routes stay, as upstream. If the
 * kernel refuses one, the reply names it and how many were added before it.
 */
void rpc_update_routes(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__UpdateRoutesRequest *r = (const Grpc__UpdateRoutesRequest *)req;
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
	size_t done = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			if (rq[i].has_gw != (pass == 1))
				continue;
			agent_error_t *err = NULL;
			if (net_add_route(&rq[i], &err) < 0) {
				const Types__Route *t = r->routes->routes[i];
				agent_error_wrap(
					&err,
					"route %zu (dest \"%s\" gateway \"%s\" dev %s; %zu "
					"other routes were added before it)",
					i, t->dest, t->gateway, t->device, done);
				rpc_reply_error(call, err);
				goto out;
			}
			done++;
		}
	}
	reply_routes(call);
out:
	free(rq);
}
