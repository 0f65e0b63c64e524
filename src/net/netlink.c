/* SPDX-License-Identifier: Apache-2.0 */
#include "netlink.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop/loop.h"

int nl_open(struct nl_sock *s, agent_error_t **err)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	int one = 1;

	s->seq = (uint32_t)loop_now_ms();
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s->fd < 0)
		return agent_error_setsys(err, errno, "cannot open a netlink socket");
	/* Extended acks carry the kernel's own error text. */
	(void)setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		nl_close(s);
		return agent_error_setsys(err, e, "cannot bind a netlink socket");
	}
	return 0;
}

void nl_close(struct nl_sock *s)
{
	s->fd = safe_close(s->fd);
}

void nl_msg_init(struct nl_msg *m, uint16_t type, uint16_t flags)
{
	memset(m, 0, sizeof(*m));
	m->hdr.nlmsg_len = NLMSG_LENGTH(0);
	m->hdr.nlmsg_type = type;
	m->hdr.nlmsg_flags = NLM_F_REQUEST | flags;
}

static void *reserve(struct nl_msg *m, size_t len)
{
	size_t at = NLMSG_ALIGN(m->hdr.nlmsg_len);
	if (m->overflow || at + RTA_ALIGN(len) > sizeof(m->buf)) {
		m->overflow = true;
		return NULL;
	}
	m->hdr.nlmsg_len = at + RTA_ALIGN(len);
	memset(m->buf + at, 0, RTA_ALIGN(len));
	return m->buf + at;
}

void *nl_msg_put(struct nl_msg *m, size_t len)
{
	return reserve(m, len);
}

void nl_attr_put(struct nl_msg *m, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = reserve(m, RTA_LENGTH(len));
	if (!a)
		return;
	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
}

void nl_attr_put_u32(struct nl_msg *m, uint16_t type, uint32_t v)
{
	nl_attr_put(m, type, &v, sizeof(v));
}

void nl_attr_put_str(struct nl_msg *m, uint16_t type, const char *s)
{
	nl_attr_put(m, type, s, strlen(s) + 1);
}

struct rtattr *nl_attr_nest_begin(struct nl_msg *m, uint16_t type)
{
	struct rtattr *a = reserve(m, RTA_LENGTH(0));
	if (a)
		a->rta_type = type;
	return a;
}

void nl_attr_nest_end(struct nl_msg *m, struct rtattr *nest)
{
	if (nest && !m->overflow)
		nest->rta_len = (uint8_t *)m->buf + m->hdr.nlmsg_len - (uint8_t *)nest;
}

void nl_attrs_parse(const void *start, size_t len, const struct rtattr **tb, int max)
{
	memset(tb, 0, sizeof(*tb) * (max + 1));
	if ((uintptr_t)start % RTA_ALIGNTO)
		return; /* never where the kernel puts attributes */
	const struct rtattr *a = start;
	int rem = (int)len;
	for (; RTA_OK(a, rem); a = RTA_NEXT(a, rem)) {
		unsigned type = a->rta_type & ~NLA_F_NESTED;
		if (type <= (unsigned)max && !tb[type])
			tb[type] = a;
	}
}

uint32_t nl_attr_u32(const struct rtattr *a)
{
	uint32_t v = 0;
	if (a && RTA_PAYLOAD(a) >= sizeof(v))
		memcpy(&v, RTA_DATA(a), sizeof(v));
	return v;
}

void nl_attr_str(const struct rtattr *a, char *out, size_t size)
{
	size_t n = a ? RTA_PAYLOAD(a) : 0;
	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(out, RTA_DATA(a), n);
	out[n] = '\0';
	out[strnlen(out, n)] = '\0';
}

/* NLMSG_OK without its signed/unsigned comparison. */
static bool msg_ok(const struct nlmsghdr *h, int rem)
{
	return rem >= (int)sizeof(*h) && h->nlmsg_len >= sizeof(*h) &&
	       h->nlmsg_len <= (unsigned)rem;
}

/* The kernel's message in an extended ack, if any. */
static const char *ext_ack_msg(const struct nlmsghdr *h)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	size_t off = sizeof(*e);
	if (!(h->nlmsg_flags & NLM_F_CAPPED)) {
		/* The request echoed whole, padded: the attributes start aligned after it. */
		if (e->msg.nlmsg_len < NLMSG_HDRLEN || e->msg.nlmsg_len > h->nlmsg_len)
			return NULL;
		off += NLMSG_ALIGN(e->msg.nlmsg_len) - NLMSG_HDRLEN;
	}
	if (NLMSG_HDRLEN + off >= h->nlmsg_len)
		return NULL;
	const struct rtattr *tb[NLMSGERR_ATTR_MAX + 1];
	nl_attrs_parse((const uint8_t *)e + off, h->nlmsg_len - NLMSG_HDRLEN - off, tb,
		       NLMSGERR_ATTR_MAX);
	const struct rtattr *m = tb[NLMSGERR_ATTR_MSG];
	if (!m || nl_attr_len(m) == 0 || ((const char *)nl_attr_data(m))[nl_attr_len(m) - 1])
		return NULL;
	return nl_attr_data(m);
}

int nl_transact(struct nl_sock *s, struct nl_msg *m, nl_reply_fn fn, void *data,
		agent_error_t **err)
{
	uint8_t rbuf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct sockaddr_nl dst = {.nl_family = AF_NETLINK};

	if (m->overflow)
		return agent_error_set(err, E2BIG, "netlink request too large");
	m->hdr.nlmsg_seq = ++s->seq;
	m->hdr.nlmsg_flags |= NLM_F_ACK;
	if (sendto(s->fd, m->buf, m->hdr.nlmsg_len, 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		return agent_error_setsys(err, errno, "netlink send failed");

	uint64_t deadline = loop_now_ms() + NL_TIMEOUT_MS;
	int cb_err = 0;
	for (;;) {
		uint64_t now = loop_now_ms();
		if (now >= deadline)
			return agent_error_set(err, ETIMEDOUT, "no netlink answer within %d ms",
					       NL_TIMEOUT_MS);
		struct pollfd p = {.fd = s->fd, .events = POLLIN};
		int pr = poll(&p, 1, (int)(deadline - now));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			continue;
		ssize_t n = recv(s->fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return agent_error_setsys(err, errno, "netlink receive failed");
		}
		int r = nl_parse_replies(rbuf, (size_t)n, s->seq, fn, data, &cb_err, err);
		if (r != 0)
			return r == 1 ? cb_err : r;
	}
}

int nl_parse_replies(const void *buf, size_t len, uint32_t seq, nl_reply_fn fn, void *data,
		     int *cb_err, agent_error_t **err)
{
	int rem = len > INT32_MAX ? INT32_MAX : (int)len;

	for (const struct nlmsghdr *h = buf; msg_ok(h, rem); h = NLMSG_NEXT(h, rem)) {
		if (h->nlmsg_seq != seq)
			continue; /* a late answer to an earlier request */
		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return agent_error_set(err, EPROTO, "short netlink error");
			if (e->error == 0)
				return 1;
			const char *km = ext_ack_msg(h);
			/* A positive or absurd code is the kernel's bug, never errno 0. */
			int code = e->error < 0 && e->error > -4096 ? -e->error : EPROTO;
			return agent_error_setsys(err, code, "netlink%s%s", km ? ": " : "",
						  km ? km : "");
		}
		if (fn && !*cb_err) {
			int r = fn(h, data);
			if (r < 0)
				*cb_err = agent_error_set(err, -r, "netlink reply not understood");
		}
	}
	return 0;
}

int nl_send_raw(const void *msg, size_t len, uint16_t type, uint16_t flags, agent_error_t **err)
{
	struct nl_sock s;
	struct nl_msg m;

	if (len < NLMSG_HDRLEN || len > sizeof(m.buf))
		return agent_error_set(err, EINVAL, "netlink message of %zu bytes", len);
	nl_msg_init(&m, type, flags);
	memcpy(m.buf, msg, len);
	m.hdr.nlmsg_len = (uint32_t)len;
	m.hdr.nlmsg_type = type;
	m.hdr.nlmsg_flags = NLM_F_REQUEST | flags;
	m.hdr.nlmsg_pid = 0;
	int r = nl_open(&s, err);
	if (r < 0)
		return r;
	r = nl_transact(&s, &m, NULL, NULL, err);
	nl_close(&s);
	return r;
}
