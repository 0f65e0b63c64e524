/* SPDX-License-Identifier: Apache-2.0 */
/* Address parsing for requests, and neighbour (ARP/NDP) entries. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "net/net.h"
#include "net/netlink.h"

int net_parse_ip(const char *s, struct net_ip *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!s || !*s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, ret->bytes) == 1) {
		ret->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ret->bytes) == 1) {
		ret->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

int net_parse_mac(const char *s, uint8_t *out, size_t max, size_t *ret_len)
{
	size_t n = 0;
	const char *p = s;
	if (!s || !*s)
		return -EINVAL;
	for (;;) {
		int hi, lo;
		char c1 = p[0], c2 = c1 ? p[1] : 0;
		hi = c1 >= '0' && c1 <= '9'		    ? c1 - '0'
		     : (c1 | 32) >= 'a' && (c1 | 32) <= 'f' ? (c1 | 32) - 'a' + 10
							    : -1;
		lo = c2 >= '0' && c2 <= '9'		    ? c2 - '0'
		     : (c2 | 32) >= 'a' && (c2 | 32) <= 'f' ? (c2 | 32) - 'a' + 10
							    : -1;
		if (hi < 0 || lo < 0 || n >= max)
			return -EINVAL;
		out[n++] = (uint8_t)(hi << 4 | lo);
		p += 2;
		if (*p == '\0')
			break;
		if (*p != ':')
			return -EINVAL;
		p++;
	}
	*ret_len = n;
	return 0;
}

int net_add_neighbor(const struct net_neigh *ne, agent_error_t **err)
{
	struct nl_sock s;
	int r = nl_open(&s, err);
	if (r < 0)
		return r;
	struct nl_msg m;
	nl_msg_init(&m, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
	struct ndmsg *nd = nl_msg_put(&m, sizeof(*nd));
	nd->ndm_family = ne->ip.family;
	nd->ndm_ifindex = ne->ifindex;
	nd->ndm_state = ne->state;
	nd->ndm_flags = ne->flags;
	nd->ndm_type = RTN_UNICAST;
	nl_attr_put(&m, NDA_DST, ne->ip.bytes, ne->ip.family == AF_INET ? 4 : 16);
	if (ne->lladdr_len)
		nl_attr_put(&m, NDA_LLADDR, ne->lladdr, ne->lladdr_len);
	r = nl_transact(&s, &m, NULL, NULL, err);
	nl_close(&s);
	return r;
}
