/* SPDX-License-Identifier: Apache-2.0 */
/* Adding routes to the main table (create or replace). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "net/netlink.h"

int net_parse_cidr(const char *s, struct net_ip *ret, unsigned *ret_prefix)
{
	char buf[64];
	const char *slash = s ? strchr(s, '/') : NULL;
	size_t n = slash ? (size_t)(slash - s) : (s ? strlen(s) : 0);
	if (!s || n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (net_parse_ip(buf, ret) < 0)
		return -EINVAL;
	unsigned max = ret->family == AF_INET ? 32 : 128;
	if (!slash) {
		*ret_prefix = max;
		return 0;
	}
	const char *p = slash + 1;
	if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 3)
		return -EINVAL;
	unsigned v = (unsigned)atoi(p);
	if (v > max)
		return -EINVAL;
	*ret_prefix = v;
	return 0;
}

int net_add_route(const struct net_route_req *rq, agent_error_t **err)
{
	struct nl_sock s;
	int r = nl_open(&s, err);
	if (r < 0)
		return r;
	size_t alen = rq->family == AF_INET ? 4 : 16;
	struct nl_msg m;
	nl_msg_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	struct rtmsg *rt = nl_msg_put(&m, sizeof(*rt));
	rt->rtm_family = rq->family;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_BOOT;
	rt->rtm_type = RTN_UNICAST;
	rt->rtm_scope = rq->scope;
	rt->rtm_flags = rq->flags;
	rt->rtm_dst_len = rq->dst_len;
	if (rq->dst_len)
		nl_attr_put(&m, RTA_DST, rq->dst.bytes, alen);
	if (rq->has_gw)
		nl_attr_put(&m, RTA_GATEWAY, rq->gw.bytes, alen);
	if (rq->has_src) {
		if (rq->src_len && rq->src_len < alen * 8) {
			rt->rtm_src_len = rq->src_len;
			nl_attr_put(&m, RTA_SRC, rq->src.bytes, alen);
		} else {
			nl_attr_put(&m, RTA_PREFSRC, rq->src.bytes, alen);
		}
	}
	nl_attr_put_u32(&m, RTA_OIF, (uint32_t)rq->ifindex);
	if (rq->mtu) {
		struct rtattr *mx = nl_attr_nest_begin(&m, RTA_METRICS);
		nl_attr_put_u32(&m, RTAX_MTU, rq->mtu);
		nl_attr_nest_end(&m, mx);
	}
	r = nl_transact(&s, &m, NULL, NULL, err);
	nl_close(&s);
	if (r == -EEXIST) {
		/* Already there as asked: not an error (as upstream). */
		if (err)
			agent_error_clear(err);
		r = 0;
	}
	return r;
}

int net_del_route(const struct net_route *rt, agent_error_t **err)
{
	int r = nl_send_raw(rt->raw.msg, rt->raw.len, RTM_DELROUTE, 0, err);
	if (r == -ESRCH || r == -ENOENT) {
		if (err)
			agent_error_clear(err);
		r = 0;
	}
	return r;
}

bool net_route_same(const struct net_route *a, const struct net_route *b)
{
	return a->family == b->family && a->ifindex == b->ifindex && a->priority == b->priority &&
	       a->tos == b->tos && strcmp(a->dest, b->dest) == 0 &&
	       strcmp(a->gateway, b->gateway) == 0;
}

bool net_prefix_contains(const struct net_ip *net, unsigned len, const struct net_ip *ip)
{
	unsigned bits = net->family == AF_INET ? 32 : 128;
	if (net->family != ip->family || len > bits)
		return false;
	size_t whole = len / 8;
	if (memcmp(net->bytes, ip->bytes, whole) != 0)
		return false;
	if (len % 8 == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - len % 8));
	return (net->bytes[whole] & mask) == (ip->bytes[whole] & mask);
}
