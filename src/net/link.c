/* SPDX-License-Identifier: Apache-2.0 */
/* Changing links and their addresses. */
#include <errno.h>
#include <string.h>

#include "net/net.h"
#include "net/netlink.h"

static int transact_one(struct nl_msg *m, agent_error_t **err)
{
	struct nl_sock s;
	int r = nl_open(&s, err);
	if (r < 0)
		return r;
	r = nl_transact(&s, m, NULL, NULL, err);
	nl_close(&s);
	return r;
}

static struct ifinfomsg *link_msg(struct nl_msg *m, int ifindex)
{
	nl_msg_init(m, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = nl_msg_put(m, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return ifi;
}

int net_link_set_flags(int ifindex, uint32_t flags, uint32_t mask, agent_error_t **err)
{
	struct nl_msg m;
	struct ifinfomsg *ifi = link_msg(&m, ifindex);
	ifi->ifi_flags = flags;
	ifi->ifi_change = mask;
	return transact_one(&m, err);
}

int net_link_set_name(int ifindex, const char *name, agent_error_t **err)
{
	struct nl_msg m;
	link_msg(&m, ifindex);
	nl_attr_put_str(&m, IFLA_IFNAME, name);
	return transact_one(&m, err);
}

int net_link_set_mtu(int ifindex, uint32_t mtu, agent_error_t **err)
{
	struct nl_msg m;
	link_msg(&m, ifindex);
	nl_attr_put_u32(&m, IFLA_MTU, mtu);
	return transact_one(&m, err);
}

int net_link_set_mac(int ifindex, const uint8_t *mac, size_t len, agent_error_t **err)
{
	struct nl_msg m;
	link_msg(&m, ifindex);
	nl_attr_put(&m, IFLA_ADDRESS, mac, len);
	return transact_one(&m, err);
}

int net_addr_change(bool add, int ifindex, const struct net_ip *ip, unsigned prefix,
		    agent_error_t **err)
{
	struct nl_msg m;
	nl_msg_init(&m, add ? RTM_NEWADDR : RTM_DELADDR, add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	struct ifaddrmsg *ifa = nl_msg_put(&m, sizeof(*ifa));
	ifa->ifa_family = ip->family;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_index = ifindex;
	size_t alen = ip->family == AF_INET ? 4 : 16;
	nl_attr_put(&m, IFA_LOCAL, ip->bytes, alen);
	nl_attr_put(&m, IFA_ADDRESS, ip->bytes, alen);
	if (ip->family == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD; /* the host already checked the address */
	return transact_one(&m, err);
}
