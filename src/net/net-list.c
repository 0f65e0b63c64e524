/* SPDX-License-Identifier: Apache-2.0 */
/* Reading links, addresses and routes from the kernel (RTM_GETLINK/GETADDR/GETROUTE dumps). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "net/netlink.h"

struct link_list {
	struct net_link *v;
	size_t n;
};

static void format_hw(const struct rtattr *a, char *out, size_t size)
{
	out[0] = '\0';
	if (!a)
		return;
	const uint8_t *p = nl_attr_data(a);
	size_t len = nl_attr_len(a), o = 0;
	for (size_t i = 0; i < len && o + 4 <= size; i++)
		o += snprintf(out + o, size - o, i ? ":%02x" : "%02x", p[i]);
}

static int on_link(const struct nlmsghdr *h, void *data)
{
	struct link_list *l = data;
	if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return 0;
	if (l->n >= NET_MAX_LINKS)
		return -E2BIG;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	const struct rtattr *tb[IFLA_MAX + 1];
	nl_attrs_parse(IFLA_RTA(ifi), IFLA_PAYLOAD(h), tb, IFLA_MAX);
	struct net_link *v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	struct net_link *k = &v[l->n++];
	memset(k, 0, sizeof(*k));
	k->index = ifi->ifi_index;
	k->flags = ifi->ifi_flags;
	nl_attr_str(tb[IFLA_IFNAME], k->name, sizeof(k->name));
	k->mtu = nl_attr_u32(tb[IFLA_MTU]);
	k->min_mtu = nl_attr_u32(tb[IFLA_MIN_MTU]);
	k->max_mtu = nl_attr_u32(tb[IFLA_MAX_MTU]);
	format_hw(tb[IFLA_ADDRESS], k->hwaddr, sizeof(k->hwaddr));
	if (tb[IFLA_LINKINFO]) {
		const struct rtattr *li[IFLA_INFO_MAX + 1];
		nl_attrs_parse(nl_attr_data(tb[IFLA_LINKINFO]), nl_attr_len(tb[IFLA_LINKINFO]), li,
			       IFLA_INFO_MAX);
		nl_attr_str(li[IFLA_INFO_KIND], k->kind, sizeof(k->kind));
	}
	return 0;
}

static struct net_link *find_link(struct link_list *l, int index)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].index == index)
			return &l->v[i];
	return NULL;
}

struct addr_ctx {
	struct link_list *links;
	size_t total;
};

static int on_addr(const struct nlmsghdr *h, void *data)
{
	struct addr_ctx *c = data;
	if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
		return 0;
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	const struct rtattr *tb[IFA_MAX + 1];
	nl_attrs_parse(IFA_RTA(ifa), IFA_PAYLOAD(h), tb, IFA_MAX);
	/* IFA_LOCAL is the address itself on point-to-point links; else IFA_ADDRESS. */
	const struct rtattr *a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	struct net_link *k = find_link(c->links, ifa->ifa_index);
	if (!a || !k || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return 0;
	size_t want = ifa->ifa_family == AF_INET ? 4 : 16;
	if (nl_attr_len(a) < want)
		return 0;
	if (++c->total > NET_MAX_ADDRS)
		return -E2BIG;
	struct net_addr *v = realloc(k->addrs, (k->n_addrs + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	k->addrs = v;
	void *raw = malloc(h->nlmsg_len);
	if (!raw)
		return -ENOMEM;
	memcpy(raw, h, h->nlmsg_len);
	struct net_addr *na = &v[k->n_addrs++];
	na->raw.msg = raw;
	na->raw.len = h->nlmsg_len;
	na->family = ifa->ifa_family;
	na->prefix = ifa->ifa_prefixlen;
	inet_ntop(ifa->ifa_family, nl_attr_data(a), na->address, sizeof(na->address));
	return 0;
}

static int dump(struct nl_sock *s, uint16_t type, size_t hdr_len, nl_reply_fn fn, void *data,
		agent_error_t **err)
{
	struct nl_msg m;
	nl_msg_init(&m, type, NLM_F_DUMP);
	nl_msg_put(&m, hdr_len);
	return nl_transact(s, &m, fn, data, err);
}

void net_links_free(struct net_link *links, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < links[i].n_addrs; j++)
			free(links[i].addrs[j].raw.msg);
		free(links[i].addrs);
	}
	free(links);
}

void net_routes_free(struct net_route *routes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(routes[i].raw.msg);
	free(routes);
}

int net_list_links(struct net_link **ret, size_t *ret_n, agent_error_t **err)
{
	struct nl_sock s;
	struct link_list l = {0};
	int r = nl_open(&s, err);
	if (r < 0)
		return r;
	r = dump(&s, RTM_GETLINK, sizeof(struct ifinfomsg), on_link, &l, err);
	if (r == 0) {
		struct addr_ctx c = {.links = &l};
		r = dump(&s, RTM_GETADDR, sizeof(struct ifaddrmsg), on_addr, &c, err);
	}
	nl_close(&s);
	if (r < 0) {
		net_links_free(l.v, l.n);
		return agent_error_wrap(err, "listing interfaces");
	}
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

struct route_ctx {
	struct net_route *v;
	size_t n;
	struct net_link *links;
	size_t n_links;
};

static void addr_attr(const struct rtattr *a, int family, char *out, size_t size)
{
	out[0] = '\0';
	size_t want = family == AF_INET ? 4 : 16;
	if (a && nl_attr_len(a) >= want)
		inet_ntop(family, nl_attr_data(a), out, size);
}

static int on_route(const struct nlmsghdr *h, void *data)
{
	struct route_ctx *c = data;
	if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg)))
		return 0;
	const struct rtmsg *rt = NLMSG_DATA(h);
	const struct rtattr *tb[RTA_MAX + 1];
	nl_attrs_parse(RTM_RTA(rt), RTM_PAYLOAD(h), tb, RTA_MAX);
	uint32_t table = tb[RTA_TABLE] ? nl_attr_u32(tb[RTA_TABLE]) : rt->rtm_table;
	if (table != RT_TABLE_MAIN || rt->rtm_type != RTN_UNICAST)
		return 0;
	if (c->n >= NET_MAX_ROUTES)
		return -E2BIG;
	struct net_route *v = realloc(c->v, (c->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->v = v;
	void *raw = malloc(h->nlmsg_len);
	if (!raw)
		return -ENOMEM;
	memcpy(raw, h, h->nlmsg_len);
	struct net_route *r = &v[c->n++];
	memset(r, 0, sizeof(*r));
	r->raw.msg = raw;
	r->raw.len = h->nlmsg_len;
	r->family = rt->rtm_family;
	r->scope = rt->rtm_scope;
	r->flags = rt->rtm_flags;
	r->protocol = rt->rtm_protocol;
	r->tos = rt->rtm_tos;
	r->priority = nl_attr_u32(tb[RTA_PRIORITY]);
	if (tb[RTA_DST]) {
		char a[64];
		addr_attr(tb[RTA_DST], rt->rtm_family, a, sizeof(a));
		snprintf(r->dest, sizeof(r->dest), "%.50s/%u", a, rt->rtm_dst_len);
	}
	addr_attr(tb[RTA_GATEWAY], rt->rtm_family, r->gateway, sizeof(r->gateway));
	addr_attr(tb[RTA_PREFSRC], rt->rtm_family, r->source, sizeof(r->source));
	int oif = (int)nl_attr_u32(tb[RTA_OIF]);
	r->ifindex = oif;
	for (size_t i = 0; i < c->n_links; i++)
		if (c->links[i].index == oif)
			snprintf(r->device, sizeof(r->device), "%s", c->links[i].name);
	if (tb[RTA_METRICS]) {
		const struct rtattr *mx[RTAX_MAX + 1];
		nl_attrs_parse(nl_attr_data(tb[RTA_METRICS]), nl_attr_len(tb[RTA_METRICS]), mx,
			       RTAX_MAX);
		r->mtu = nl_attr_u32(mx[RTAX_MTU]);
	}
	return 0;
}

int net_list_routes(struct net_route **ret, size_t *ret_n, agent_error_t **err)
{
	struct route_ctx c = {0};
	int r = net_list_links(&c.links, &c.n_links, err);
	if (r < 0)
		return r;
	struct nl_sock s;
	r = nl_open(&s, err);
	for (int fam = 0; r == 0 && fam < 2; fam++) {
		struct nl_msg m;
		nl_msg_init(&m, RTM_GETROUTE, NLM_F_DUMP);
		struct rtmsg *rt = nl_msg_put(&m, sizeof(*rt));
		rt->rtm_family = fam == 0 ? AF_INET : AF_INET6;
		r = nl_transact(&s, &m, on_route, &c, err);
	}
	if (s.fd >= 0)
		nl_close(&s);
	net_links_free(c.links, c.n_links);
	if (r < 0) {
		net_routes_free(c.v, c.n);
		return agent_error_wrap(err, "listing routes");
	}
	*ret = c.v;
	*ret_n = c.n;
	return 0;
}

int net_parse_replies(const void *links, size_t links_len, const void *addrs, size_t addrs_len,
		      const void *routes, size_t routes_len, agent_error_t **err)
{
	struct link_list l = {0};
	struct addr_ctx a = {.links = &l};
	struct route_ctx rc = {0};
	int cb_err = 0, r;

	r = nl_parse_replies(links, links_len, 1, on_link, &l, &cb_err, err);
	if (r >= 0 && !cb_err)
		r = nl_parse_replies(addrs, addrs_len, 1, on_addr, &a, &cb_err, err);
	rc.links = l.v;
	rc.n_links = l.n;
	if (r >= 0 && !cb_err)
		r = nl_parse_replies(routes, routes_len, 1, on_route, &rc, &cb_err, err);
	net_routes_free(rc.v, rc.n);
	net_links_free(l.v, l.n);
	return r < 0 ? r : cb_err;
}
