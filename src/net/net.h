/* SPDX-License-Identifier: Apache-2.0 */
/* The guest's network as the kernel reports it: links with their addresses, and routes. */
#ifndef AGENT_NET_NET_H
#define AGENT_NET_NET_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define NET_MAX_LINKS 4096
#define NET_MAX_ADDRS 4096
#define NET_MAX_ROUTES 16384

/* A dumped message (RTM_NEWADDR, RTM_NEWROUTE) as the kernel sent it: a restore sends it back. */
struct net_raw {
	void *msg;
	size_t len;
};

struct net_addr {
	int family; /* AF_INET or AF_INET6 */
	char address[64];
	unsigned prefix;
	struct net_raw raw;
};

struct net_link {
	int index;
	char name[IFNAMSIZ];
	char kind[32]; /* IFLA_INFO_KIND: veth, bridge, ...; empty for plain devices */
	char hwaddr[64];
	uint32_t mtu;
	uint32_t min_mtu, max_mtu; /* 0 when the kernel does not say */
	uint32_t flags; /* IFF_* */
	struct net_addr *addrs;
	size_t n_addrs;
};

struct net_route {
	int family;
	char dest[64]; /* "addr/prefix", empty for a default route */
	char gateway[64];
	char source[64]; /* preferred source */
	char device[IFNAMSIZ];
	uint32_t scope;
	uint32_t flags;
	uint32_t mtu;
	int ifindex;
	uint8_t protocol; /* RTPROT_*: kernel routes come with addresses */
	uint8_t tos;
	uint32_t priority; /* the metric */
	struct net_raw raw;
};

struct net_ip {
	int family; /* AF_INET or AF_INET6 */
	uint8_t bytes[16];
};

struct net_neigh {
	struct net_ip ip;
	int ifindex;
	uint8_t lladdr[32];
	size_t lladdr_len;
	uint16_t state; /* NUD_* */
	uint8_t flags; /* NTF_* */
};

/* An IPv4 or IPv6 address in text form. */
int net_parse_ip(const char *s, struct net_ip *ret);
/* A link-layer address "aa:bb:...", at most max bytes. */
int net_parse_mac(const char *s, uint8_t *out, size_t max, size_t *ret_len);
/* Adds or replaces one neighbour entry. */
int net_add_neighbor(const struct net_neigh *ne, agent_error_t **err);

struct net_route_req {
	int family;
	struct net_ip dst;
	unsigned dst_len; /* 0 = default route */
	struct net_ip gw;
	bool has_gw;
	struct net_ip src;
	unsigned src_len; /* full length (or 0): preferred source; shorter: source prefix */
	bool has_src;
	int ifindex;
	uint8_t scope;
	uint32_t flags;
	uint32_t mtu;
};

/* "addr" or "addr/prefix"; a bare address gets the full prefix. */
int net_parse_cidr(const char *s, struct net_ip *ret, unsigned *ret_prefix);
/* Adds or replaces one route in the main table (an existing identical route is fine). */
int net_add_route(const struct net_route_req *rq, agent_error_t **err);

int net_link_set_flags(int ifindex, uint32_t flags, uint32_t mask, agent_error_t **err);
int net_link_set_name(int ifindex, const char *name, agent_error_t **err);
int net_link_set_mtu(int ifindex, uint32_t mtu, agent_error_t **err);
int net_link_set_mac(int ifindex, const uint8_t *mac, size_t len, agent_error_t **err);
/* Adds (create or replace) or deletes one address of a link. */
int net_addr_change(bool add, int ifindex, const struct net_ip *ip, unsigned prefix,
		    agent_error_t **err);

/* Deletes a route as listed by net_list_routes, exactly that one (already gone is fine). */
int net_del_route(const struct net_route *r, agent_error_t **err);
/* Whether a and b are the same route of the table (destination, gateway, link, metric, tos). */
bool net_route_same(const struct net_route *a, const struct net_route *b);
/* Whether the prefix net/len contains ip (same family). */
bool net_prefix_contains(const struct net_ip *net, unsigned len, const struct net_ip *ip);

/*
 * Putting back what a failed update changed, from what was listed before it: routes of
 * the main table (those made by the kernel for addresses aside) not in the snapshot go, the
 * snapshot's missing ones come back as the kernel had them; a link's addresses likewise
 * (IPv6 link-local ones are the kernel's). Every step is tried; the first error is returned.
 */
int net_routes_restore(const struct net_route *snap, size_t n, agent_error_t **err);
int net_addrs_restore(int ifindex, const struct net_addr *snap, size_t n, agent_error_t **err);

/* Every link and its addresses. */
int net_list_links(struct net_link **ret, size_t *ret_n, agent_error_t **err);
void net_links_free(struct net_link *links, size_t n);
/* The routes of the main table, IPv4 then IPv6. */
int net_list_routes(struct net_route **ret, size_t *ret_n, agent_error_t **err);
void net_routes_free(struct net_route *routes, size_t n);
/*
 * The listing's parsers on replies given as bytes, as if the kernel had sent them (one
 * datagram each for links, addresses and routes, sequence number 1): the netlink fuzzer.
 */
int net_parse_replies(const void *links, size_t links_len, const void *addrs, size_t addrs_len,
		      const void *routes, size_t routes_len, agent_error_t **err);

#endif
