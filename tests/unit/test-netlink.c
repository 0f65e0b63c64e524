/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <linux/if_link.h>
#include <sched.h>
#include <string.h>

#include "harness.h"
#include "net/net.h"
#include "net/netlink.h"

TEST(attributes_build_and_parse_back)
{
	struct nl_msg m;
	nl_msg_init(&m, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = nl_msg_put(&m, sizeof(*ifi));
	ASSERT_NOT_NULL(ifi);
	ifi->ifi_index = 7;
	nl_attr_put_str(&m, IFLA_IFNAME, "eth0");
	nl_attr_put_u32(&m, IFLA_MTU, 1500);
	struct rtattr *nest = nl_attr_nest_begin(&m, IFLA_LINKINFO);
	nl_attr_put_str(&m, IFLA_INFO_KIND, "veth");
	nl_attr_nest_end(&m, nest);
	ASSERT_FALSE(m.overflow);

	const struct rtattr *tb[IFLA_MAX + 1];
	nl_attrs_parse(IFLA_RTA(NLMSG_DATA(&m.hdr)), IFLA_PAYLOAD(&m.hdr), tb, IFLA_MAX);
	char name[IFNAMSIZ];
	nl_attr_str(tb[IFLA_IFNAME], name, sizeof(name));
	ASSERT_STREQ(name, "eth0");
	ASSERT_EQ(nl_attr_u32(tb[IFLA_MTU]), 1500);
	const struct rtattr *li[IFLA_INFO_MAX + 1];
	ASSERT_NOT_NULL(tb[IFLA_LINKINFO]);
	nl_attrs_parse(nl_attr_data(tb[IFLA_LINKINFO]), nl_attr_len(tb[IFLA_LINKINFO]), li,
		       IFLA_INFO_MAX);
	char kind[16];
	nl_attr_str(li[IFLA_INFO_KIND], kind, sizeof(kind));
	ASSERT_STREQ(kind, "veth");
}

TEST(malformed_attributes_end_the_walk_safely)
{
	uint8_t buf[64] = {0};
	struct rtattr *a = (struct rtattr *)buf;
	a->rta_len = 200; /* claims more than there is */
	a->rta_type = IFLA_MTU;
	const struct rtattr *tb[IFLA_MAX + 1];
	nl_attrs_parse(buf, sizeof(buf), tb, IFLA_MAX);
	ASSERT_NULL(tb[IFLA_MTU]);
	ASSERT_EQ(nl_attr_u32(NULL), 0);
	char s[8];
	nl_attr_str(NULL, s, sizeof(s));
	ASSERT_STREQ(s, "");
}

TEST(message_bound_is_enforced)
{
	struct nl_msg m;
	nl_msg_init(&m, RTM_NEWLINK, 0);
	char big[1024];
	memset(big, 'x', sizeof(big));
	for (int i = 0; i < 20; i++)
		nl_attr_put(&m, IFLA_IFALIAS, big, sizeof(big));
	ASSERT_TRUE(m.overflow);
	struct nl_sock s;
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(nl_open(&s, &err), 0);
	ASSERT_EQ(nl_transact(&s, &m, NULL, NULL, &err), -E2BIG);
	nl_close(&s);
}

TEST(kernel_error_is_reported_with_errno)
{
	struct nl_sock s;
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(nl_open(&s, &err), 0);
	struct nl_msg m;
	nl_msg_init(&m, RTM_GETLINK, 0);
	struct ifinfomsg *ifi = nl_msg_put(&m, sizeof(*ifi));
	ifi->ifi_index = 0x7ffffff0; /* no such link */
	ASSERT_EQ(nl_transact(&s, &m, NULL, NULL, &err), -ENODEV);
	ASSERT_NOT_NULL(err);
	nl_close(&s);
}
