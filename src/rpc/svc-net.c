/* SPDX-License-Identifier: Apache-2.0 */
/* ListInterfaces and ListRoutes: the kernel's view, mapped onto types.Interface / types.Route. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent.pb-c.h"
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

void rpc_list_routes(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
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
