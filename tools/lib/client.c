/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The synchronous client: requests go out on odd stream ids, replies are read
 * through the shared frame decoder and matched to outstanding streams, so that
 * several calls can be in flight and collected in any order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io-util.h"
#include "ttrpc-client.h"

#define READ_CHUNK (64u << 10)

struct pending {
	uint32_t stream_id;
	bool done;
	int error; /* negative errno when the reply could not be had */
	struct ttrpc_reply reply;
};

struct ttrpc_client {
	int fd;
	uint32_t next_id;
	struct frame_decoder dec;
	uint8_t *rbuf; /* bytes read but not yet fed to the decoder: rbuf[rpos..rlen) */
	size_t rpos, rlen;
	struct pending *pend;
	size_t n_pend, cap_pend;
	int fatal; /* sticky negative errno once the connection is unusable */
	bool fatal_midframe;
	const struct ttrpc_kv *default_md; /* sent by calls that give none */
	size_t n_default_md;
};

struct ttrpc_client *ttrpc_client_new(int fd)
{
	if (fd < 0)
		return NULL;
	struct ttrpc_client *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->rbuf = malloc(READ_CHUNK);
	if (!c->rbuf) {
		free(c);
		return NULL;
	}
	c->fd = fd;
	c->next_id = 1;
	frame_decoder_init(&c->dec, TTRPC_MAX_PAYLOAD);
	return c;
}

void ttrpc_client_set_default_metadata(struct ttrpc_client *c, const struct ttrpc_kv *md,
				       size_t n_md)
{
	c->default_md = md;
	c->n_default_md = md ? n_md : 0;
}

struct ttrpc_client *ttrpc_client_free(struct ttrpc_client *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_pend; i++)
		ttrpc_reply_clear(&c->pend[i].reply);
	free(c->pend);
	frame_decoder_release(&c->dec);
	free(c->rbuf);
	safe_close(c->fd);
	free(c);
	return NULL;
}

int ttrpc_client_fd(const struct ttrpc_client *c)
{
	return c ? c->fd : -1;
}

static struct pending *pending_find(struct ttrpc_client *c, uint32_t stream_id)
{
	for (size_t i = 0; i < c->n_pend; i++)
		if (c->pend[i].stream_id == stream_id)
			return &c->pend[i];
	return NULL;
}

static void pending_remove(struct ttrpc_client *c, struct pending *p)
{
	ttrpc_reply_clear(&p->reply);
	size_t i = (size_t)(p - c->pend);
	c->pend[i] = c->pend[--c->n_pend];
}

static int pending_add(struct ttrpc_client *c, uint32_t stream_id)
{
	if (c->n_pend == c->cap_pend) {
		size_t cap = c->cap_pend ? c->cap_pend * 2 : 8;
		struct pending *p = realloc(c->pend, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		c->pend = p;
		c->cap_pend = cap;
	}
	c->pend[c->n_pend++] = (struct pending){.stream_id = stream_id};
	return 0;
}

int ttrpc_client_send(struct ttrpc_client *c, const char *service, const char *method,
		      const uint8_t *req, size_t req_len, int64_t timeout_nano,
		      const struct ttrpc_kv *md, size_t n_md, uint32_t *ret_stream_id,
		      agent_error_t **err)
{
	if (!c)
		return agent_error_set(err, EINVAL, "no client");
	if (c->fatal)
		return agent_error_set(err, -c->fatal,
				       "connection is unusable after an earlier error");
	if (c->n_pend >= TTRPC_CLIENT_MAX_INFLIGHT)
		return agent_error_set(err, EBUSY, "%u calls already in flight",
				       TTRPC_CLIENT_MAX_INFLIGHT);
	if (c->next_id > UINT32_MAX - 2)
		return agent_error_set(err, EOVERFLOW, "stream ids exhausted on this connection");

	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0;
	if (!md || !n_md) {
		md = c->default_md;
		n_md = c->n_default_md;
	}
	int r = ttrpc_encode_request(service, method, req, req_len, timeout_nano, md, n_md, &buf,
				     &len, err);
	if (r < 0)
		return r;
	if (len > TTRPC_MAX_PAYLOAD)
		return agent_error_set(
			err, EMSGSIZE,
			"request of %zu bytes exceeds the maximum message size of %u", len,
			TTRPC_MAX_PAYLOAD);
	if (pending_add(c, c->next_id) < 0)
		return agent_error_set(err, ENOMEM, "out of memory");

	uint32_t id = c->next_id;
	r = ttrpc_write_frame(c->fd, id, TTRPC_TYPE_REQUEST, 0, buf, len, err);
	if (r < 0) {
		/* A partial frame may be on the wire: nothing after it would parse. */
		c->fatal = r;
		pending_remove(c, pending_find(c, id));
		return r;
	}
	c->next_id += 2;
	*ret_stream_id = id;
	return 0;
}

static void handle_frame(struct ttrpc_client *c, const struct ttrpc_header *h,
			 const uint8_t *payload)
{
	/* Only unary calls exist: data frames and strays are not ours to keep. */
	if (h->type != TTRPC_TYPE_RESPONSE)
		return;
	struct pending *p = pending_find(c, h->stream_id);
	if (!p || p->done)
		return;
	p->done = true;
	if (ttrpc_decode_response(payload, h->length, &p->reply, NULL) < 0)
		p->error = -EBADMSG;
}

/* Feeds buffered input to the decoder until it is used up or the wanted stream is done. */
static int feed_buffered(struct ttrpc_client *c, const struct pending *want)
{
	while (c->rpos < c->rlen && !want->done) {
		const uint8_t *buf = c->rbuf + c->rpos;
		size_t len = c->rlen - c->rpos;
		struct ttrpc_header h;
		const uint8_t *payload;

		int ev = frame_decoder_feed(&c->dec, &buf, &len, &h, &payload);
		c->rpos = c->rlen - len;
		if (ev < 0)
			return ev;
		if (ev == FRAME_COMPLETE) {
			handle_frame(c, &h, payload);
		} else if (ev == FRAME_OVERSIZED) {
			struct pending *p = pending_find(c, h.stream_id);
			if (p && !p->done) {
				p->done = true;
				p->error = -EMSGSIZE;
			}
		}
	}
	if (c->rpos == c->rlen)
		c->rpos = c->rlen = 0;
	return 0;
}

static int fill(struct ttrpc_client *c, int64_t deadline)
{
	int w = client_io_wait_readable(c->fd, deadline);
	if (w < 0)
		return w;
	if (w == 0)
		return -ETIMEDOUT;
	for (;;) {
		ssize_t n = read(c->fd, c->rbuf, READ_CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		if (n == 0) {
			c->fatal_midframe = !frame_decoder_idle(&c->dec);
			return -EPIPE;
		}
		c->rpos = 0;
		c->rlen = (size_t)n;
		return 0;
	}
}

static int fatal_error(struct ttrpc_client *c, uint32_t stream_id, agent_error_t **err)
{
	if (c->fatal == -EPIPE) {
		const char *where = c->fatal_midframe ? " inside a frame" : "";
		return agent_error_set(err, EPIPE, "connection closed by the agent%s (stream %u)",
				       where, stream_id);
	}
	return agent_error_setsys(err, -c->fatal, "connection failed before the reply to stream %u",
				  stream_id);
}

int ttrpc_client_recv(struct ttrpc_client *c, uint32_t stream_id, int timeout_ms,
		      struct ttrpc_reply *ret, agent_error_t **err)
{
	if (!c)
		return agent_error_set(err, EINVAL, "no client");
	struct pending *p = pending_find(c, stream_id);
	if (!p)
		return agent_error_set(err, ENOENT, "stream %u is not outstanding", stream_id);

	int64_t deadline = client_io_deadline(timeout_ms);
	for (;;) {
		int r = feed_buffered(c, p);
		if (r < 0)
			return agent_error_set(err, -r, "out of memory decoding frames");
		if (p->done)
			break;
		if (c->fatal)
			return fatal_error(c, stream_id, err);
		r = fill(c, deadline);
		if (r == -ETIMEDOUT)
			return agent_error_set(err, ETIMEDOUT, "timed out waiting for stream %u",
					       stream_id);
		if (r < 0) {
			c->fatal = r;
			return fatal_error(c, stream_id, err);
		}
	}

	int e = p->error;
	if (e < 0) {
		pending_remove(c, p);
		if (e == -EMSGSIZE)
			return agent_error_set(err, EMSGSIZE, "reply on stream %u is over %u bytes",
					       stream_id, TTRPC_MAX_PAYLOAD);
		return agent_error_set(err, -e, "undecodable reply on stream %u", stream_id);
	}
	*ret = p->reply;
	memset(&p->reply, 0, sizeof(p->reply));
	pending_remove(c, p);
	return 0;
}

int ttrpc_client_call(struct ttrpc_client *c, const char *service, const char *method,
		      const uint8_t *req, size_t req_len, int64_t timeout_nano,
		      const struct ttrpc_kv *md, size_t n_md, struct ttrpc_reply *ret,
		      agent_error_t **err)
{
	uint32_t id;
	int r = ttrpc_client_send(c, service, method, req, req_len, timeout_nano, md, n_md, &id,
				  err);
	if (r < 0)
		return r;

	int timeout_ms = -1;
	if (timeout_nano > 0) {
		int64_t ms = timeout_nano / 1000000 + 1000;
		timeout_ms = ms > INT32_MAX ? INT32_MAX : (int)ms;
	}
	r = ttrpc_client_recv(c, id, timeout_ms, ret, err);
	if (r == -ETIMEDOUT) {
		/* Nobody will ask for this stream again: drop its reply if it ever comes. */
		struct pending *p = pending_find(c, id);
		if (p)
			pending_remove(c, p);
	}
	return r;
}

int ttrpc_client_call_msg(struct ttrpc_client *c, const char *service, const char *method,
			  const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_desc,
			  ProtobufCMessage **ret_resp, int32_t *ret_code, char **ret_msg,
			  int64_t timeout_nano, agent_error_t **err)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0;

	if (!req || !resp_desc)
		return agent_error_set(err, EINVAL,
				       "request message and reply descriptor required");
	len = protobuf_c_message_get_packed_size(req);
	buf = malloc(len ? len : 1);
	if (!buf)
		return agent_error_set(err, ENOMEM, "out of memory");
	protobuf_c_message_pack(req, buf);

	struct ttrpc_reply reply = {0};
	int r = ttrpc_client_call(c, service, method, buf, len, timeout_nano, NULL, 0, &reply, err);
	if (r < 0)
		return r;

	ProtobufCMessage *resp = NULL;
	if (reply.code == GRPC_OK) {
		resp = protobuf_c_message_unpack(resp_desc, NULL, reply.len, reply.payload);
		if (!resp) {
			ttrpc_reply_clear(&reply);
			return agent_error_set(err, EBADMSG, "%s/%s: reply does not decode as %s",
					       service, method, resp_desc->name);
		}
	}
	if (ret_resp)
		*ret_resp = resp;
	else if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	if (ret_code)
		*ret_code = reply.code;
	if (ret_msg)
		*ret_msg = TAKE_PTR(reply.message);
	ttrpc_reply_clear(&reply);
	return 0;
}
