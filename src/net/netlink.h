/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small rtnetlink layer of our own: build a request (header, fixed part,
 * attributes, nested attributes), send it, and walk the replies (dump or ack)
 * with a bounded wait. Attribute parsing validates every length it reads.
 * Requests are synchronous: the kernel answers rtnetlink at once, and each
 * wait is bounded so the loop can never hang on it.
 */
#ifndef AGENT_NET_NETLINK_H
#define AGENT_NET_NETLINK_H

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define NL_MSG_MAX 8192
#define NL_TIMEOUT_MS 5000

struct nl_sock {
	int fd;
	uint32_t seq;
};

struct nl_msg {
	union {
		struct nlmsghdr hdr;
		uint8_t buf[NL_MSG_MAX];
	};
	bool overflow;
};

int nl_open(struct nl_sock *s, agent_error_t **err);
void nl_close(struct nl_sock *s);

void nl_msg_init(struct nl_msg *m, uint16_t type, uint16_t flags);
/* Appends the fixed part (ifinfomsg, ifaddrmsg, rtmsg, ndmsg); returns a pointer into m. */
void *nl_msg_put(struct nl_msg *m, size_t len);
void nl_attr_put(struct nl_msg *m, uint16_t type, const void *data, size_t len);
void nl_attr_put_u32(struct nl_msg *m, uint16_t type, uint32_t v);
void nl_attr_put_str(struct nl_msg *m, uint16_t type, const char *s);
struct rtattr *nl_attr_nest_begin(struct nl_msg *m, uint16_t type);
void nl_attr_nest_end(struct nl_msg *m, struct rtattr *nest);

/* Called for each reply message of a dump; return <0 to stop with that error. */
typedef int (*nl_reply_fn)(const struct nlmsghdr *h, void *data);

/*
 * Sends m and reads until the ack (or the end of a dump). Each data message goes to fn
 * (may be NULL). Returns 0, or the negative errno the kernel answered, with err filled.
 */
int nl_transact(struct nl_sock *s, struct nl_msg *m, nl_reply_fn fn, void *data,
		agent_error_t **err);

/*
 * Walks one datagram of replies to request seq: data messages go to fn (a callback error
 * is kept in *cb_err, and later messages are skipped). Returns 1 at the end of the answer
 * (NLMSG_DONE or an ack), 0 when more datagrams follow, or the negative errno the kernel
 * answered (err filled). nl_transact's reading loop; the netlink fuzzer feeds it.
 */
int nl_parse_replies(const void *buf, size_t len, uint32_t seq, nl_reply_fn fn, void *data,
		     int *cb_err, agent_error_t **err);

/*
 * Sends a message as a dump returned it, as type with flags (a dumped RTM_NEWROUTE sent
 * back as RTM_DELROUTE deletes exactly that route), on a socket of its own.
 */
int nl_send_raw(const void *msg, size_t len, uint16_t type, uint16_t flags, agent_error_t **err);

/* Fills tb[0..max] with the attributes in [start, start+len); bad lengths end the walk. */
void nl_attrs_parse(const void *start, size_t len, const struct rtattr **tb, int max);
/* The attribute's payload and its length. */
static inline const void *nl_attr_data(const struct rtattr *a)
{
	return RTA_DATA(a);
}
static inline size_t nl_attr_len(const struct rtattr *a)
{
	return RTA_PAYLOAD(a);
}
/* Payload as a u32 (0 when absent or short). */
uint32_t nl_attr_u32(const struct rtattr *a);
/* Payload as a NUL-terminated string copied into out (empty when absent). */
void nl_attr_str(const struct rtattr *a, char *out, size_t size);

#endif
