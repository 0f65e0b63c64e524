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

/*
 * An error reply with an extended ack: the kernel echoes the request (its length need not be
 * a multiple of 4) and puts the attributes after it, aligned. The kernel's message is found
 * there; an echoed length that does not fit is no message, never a read out of place (the
 * netlink fuzzer found attributes read at an unaligned offset).
 */
TEST(extended_ack_after_an_unaligned_echoed_request)
{
	uint32_t buf[64] = {0};
	struct nlmsghdr *h = (void *)buf;
	struct nlmsgerr *e = NLMSG_DATA(h);
	const char text[] = "Nexthop has invalid gateway";

	e->error = -EINVAL;
	e->msg.nlmsg_len = NLMSG_HDRLEN + 5; /* 21 bytes: 3 of padding follow */
	e->msg.nlmsg_seq = 9;
	size_t off = NLMSG_HDRLEN + sizeof(*e) + NLMSG_ALIGN(e->msg.nlmsg_len) - NLMSG_HDRLEN;
	struct rtattr *a = (void *)((uint8_t *)buf + off);
	a->rta_type = NLMSGERR_ATTR_MSG;
	a->rta_len = RTA_LENGTH(sizeof(text));
	memcpy(RTA_DATA(a), text, sizeof(text));
	h->nlmsg_len = off + RTA_ALIGN(a->rta_len);
	h->nlmsg_type = NLMSG_ERROR;
	h->nlmsg_flags = NLM_F_ACK_TLVS;
	h->nlmsg_seq = 9;
	ASSERT_TRUE(h->nlmsg_len <= sizeof(buf));

	int cb_err = 0;
	agent_error_t *err = NULL;
	ASSERT_EQ(nl_parse_replies(buf, h->nlmsg_len, 9, NULL, NULL, &cb_err, &err), -EINVAL);
	ASSERT_NOT_NULL(err);
	ASSERT_NOT_NULL(strstr(err->msg, text));
	err = agent_error_free(err);

	/* An echoed length past the reply: the error stands, without a kernel message. */
	e->msg.nlmsg_len = 4000;
	ASSERT_EQ(nl_parse_replies(buf, h->nlmsg_len, 9, NULL, NULL, &cb_err, &err), -EINVAL);
	ASSERT_NULL(strstr(err->msg, text));
	err = agent_error_free(err);
	/* A positive error code is no errno: EPROTO, not "success". */
	e->error = 5;
	ASSERT_EQ(nl_parse_replies(buf, h->nlmsg_len, 9, NULL, NULL, &cb_err, &err), -EPROTO);
	err = agent_error_free(err);
}
