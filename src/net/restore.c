/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Putting the table and a link's addresses back after an update failed midway. What was
 * listed before the update is sent back to the kernel as it was dumped (every attribute:
 * metric, preferred source, label, lifetimes), so nothing is lost in a translation.
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "net/net.h"
#include "net/netlink.h"

static const struct net_route *find_route(const struct net_route *v, size_t n,
					  const struct net_route *r)
{
	for (size_t i = 0; i < n; i++)
		if (net_route_same(&v[i], r))
			return &v[i];
	return NULL;
}

/* Keeps the first error; later ones are dropped (the first one explains the state). */
static void keep_first(int r, agent_error_t **first, agent_error_t *e, int *ret)
{
	if (r >= 0)
		return;
	if (*ret == 0) {
		*ret = r;
		*first = e;
	} else {
		agent_error_free(e);
	}
}

int net_routes_restore(const struct net_route *snap, size_t n, agent_error_t **err)
{
	struct net_route *cur = NULL;
	size_t n_cur = 0;
	agent_error_t *first = NULL;
	int ret = 0;

	if (net_list_routes(&cur, &n_cur, err) < 0)
		return agent_error_wrap(err, "restoring routes");
	for (size_t i = 0; i < n_cur; i++) {
		if (cur[i].protocol == RTPROT_KERNEL || find_route(snap, n, &cur[i]))
			continue;
		agent_error_t *e = NULL;
		keep_first(net_del_route(&cur[i], &e), &first, e, &ret);
	}
	/* Routes without a gateway first: the gateways of the others need them. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			const struct net_route *s = &snap[i];
			if (s->protocol == RTPROT_KERNEL ||
			    (s->gateway[0] != '\0') != (pass == 1) || find_route(cur, n_cur, s))
				continue;
			agent_error_t *e = NULL;
			int r = nl_send_raw(s->raw.msg, s->raw.len, RTM_NEWROUTE,
					    NLM_F_CREATE | NLM_F_EXCL, &e);
			if (r == -EEXIST) {
				agent_error_free(e);
				continue;
			}
			if (r < 0)
				agent_error_wrap(&e, "route %s via %s",
						 s->dest[0] ? s->dest : "default",
						 s->gateway[0] ? s->gateway : "-");
			keep_first(r, &first, e, &ret);
		}
	}
	net_routes_free(cur, n_cur);
	if (ret < 0 && err && !*err)
		*err = first;
	else
		agent_error_free(first);
	return ret;
}

static bool link_local6(const struct net_addr *a)
{
	struct net_ip ip;
	return a->family == AF_INET6 && net_parse_ip(a->address, &ip) == 0 && ip.bytes[0] == 0xfe &&
	       (ip.bytes[1] & 0xc0) == 0x80;
}

static bool has_addr(const struct net_addr *v, size_t n, const struct net_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].family == a->family && v[i].prefix == a->prefix &&
		    strcmp(v[i].address, a->address) == 0)
			return true;
	return false;
}

int net_addrs_restore(int ifindex, const struct net_addr *snap, size_t n, agent_error_t **err)
{
	struct net_link *links = NULL, *k = NULL;
	size_t n_links = 0;
	agent_error_t *first = NULL;
	int ret = 0;

	if (net_list_links(&links, &n_links, err) < 0)
		return agent_error_wrap(err, "restoring addresses");
	for (size_t i = 0; i < n_links; i++)
		if (links[i].index == ifindex)
			k = &links[i];
	if (!k) {
		net_links_free(links, n_links);
		return agent_error_set(err, ENODEV, "restoring addresses: link %d is gone",
				       ifindex);
	}
	for (size_t i = 0; i < k->n_addrs; i++) {
		const struct net_addr *a = &k->addrs[i];
		if (link_local6(a) || has_addr(snap, n, a))
			continue;
		agent_error_t *e = NULL;
		int r = nl_send_raw(a->raw.msg, a->raw.len, RTM_DELADDR, 0, &e);
		if (r == -EADDRNOTAVAIL) {
			agent_error_free(e);
			continue;
		}
		keep_first(r, &first, e, &ret);
	}
	for (size_t i = 0; i < n; i++) {
		const struct net_addr *a = &snap[i];
		if (link_local6(a) || has_addr(k->addrs, k->n_addrs, a))
			continue;
		agent_error_t *e = NULL;
		int r = nl_send_raw(a->raw.msg, a->raw.len, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL,
				    &e);
		if (r == -EEXIST) {
			agent_error_free(e);
			continue;
		}
		if (r < 0)
			agent_error_wrap(&e, "address %s/%u", a->address, a->prefix);
		keep_first(r, &first, e, &ret);
	}
	net_links_free(links, n_links);
	if (ret < 0 && err && !*err)
		*err = first;
	else
		agent_error_free(first);
	return ret;
}
