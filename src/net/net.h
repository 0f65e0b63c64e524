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

struct net_addr {
	int family; /* AF_INET or AF_INET6 */
	char address[64];
	unsigned prefix;
};

struct net_link {
	int index;
	char name[IFNAMSIZ];
	char kind[32]; /* IFLA_INFO_KIND: veth, bridge, ...; empty for plain devices */
	char hwaddr[64];
	uint32_t mtu;
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
};

/* Every link and its addresses. */
int net_list_links(struct net_link **ret, size_t *ret_n, agent_error_t **err);
void net_links_free(struct net_link *links, size_t n);
/* The routes of the main table, IPv4 then IPv6. */
int net_list_routes(struct net_route **ret, size_t *ret_n, agent_error_t **err);

#endif
