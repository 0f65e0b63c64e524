/* SPDX-License-Identifier: Apache-2.0 */
/* Raw frames on an fd and the ttrpc.Request / ttrpc.Response envelopes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "google/rpc/status.pb-c.h"
#include "io-util.h"
#include "ttrpc-client.h"
#include "ttrpc.pb-c.h"

int ttrpc_write_frame(int fd, uint32_t stream_id, uint8_t type, uint8_t flags,
		      const uint8_t *payload, size_t len, agent_error_t **err)
{
	if (len > UINT32_MAX)
		return agent_error_set(err, EMSGSIZE, "frame payload of %zu bytes cannot be framed",
				       len);
	struct ttrpc_header h = {
		.length = (uint32_t)len, .stream_id = stream_id, .type = type, .flags = flags};
	uint8_t hdr[TTRPC_HEADER_SIZE];
	ttrpc_header_encode(&h, hdr);

	struct iovec iov[2] = {
		{.iov_base = hdr, .iov_len = sizeof(hdr)},
		{.iov_base = (void *)payload, .iov_len = payload ? len : 0},
	};
	int r = client_io_write_all(fd, iov, 2);
	if (r < 0)
		return agent_error_setsys(err, -r, "writing frame for stream %u", stream_id);
	return 0;
}

/* Returns bytes read (< len only at EOF), or negative errno; -ETIMEDOUT at the deadline. */
static ssize_t read_full(int fd, uint8_t *buf, size_t len, int64_t deadline)
{
	size_t got = 0;
	while (got < len) {
		int w = client_io_wait_readable(fd, deadline);
		if (w < 0)
			return w;
		if (w == 0)
			return -ETIMEDOUT;
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int ttrpc_read_frame(int fd, int timeout_ms, struct ttrpc_header *ret_hdr, uint8_t **ret_payload,
		     agent_error_t **err)
{
	int64_t deadline = client_io_deadline(timeout_ms);
	uint8_t raw[TTRPC_HEADER_SIZE];
	struct ttrpc_header h;

	ssize_t n = read_full(fd, raw, sizeof(raw), deadline);
	if (n == -ETIMEDOUT)
		return agent_error_set(err, ETIMEDOUT, "timed out waiting for a frame");
	if (n < 0)
		return agent_error_setsys(err, (int)-n, "reading frame header");
	if (n == 0)
		return agent_error_set(err, EPIPE, "connection closed by peer");
	if ((size_t)n < sizeof(raw))
		return agent_error_set(err, EPROTO, "connection closed inside a frame header");
	ttrpc_header_decode(raw, &h);
	if (h.length > TTRPC_MAX_PAYLOAD) {
		*ret_hdr = h;
		return agent_error_set(err, EMSGSIZE, "frame of %u bytes exceeds the limit of %u",
				       h.length, TTRPC_MAX_PAYLOAD);
	}

	_cleanup_free_ uint8_t *payload = NULL;
	if (h.length > 0) {
		payload = malloc(h.length);
		if (!payload)
			return agent_error_set(err, ENOMEM, "out of memory");
		n = read_full(fd, payload, h.length, deadline);
		if (n == -ETIMEDOUT)
			return agent_error_set(err, ETIMEDOUT, "timed out inside a frame");
		if (n < 0)
			return agent_error_setsys(err, (int)-n, "reading frame payload");
		if ((size_t)n < h.length)
			return agent_error_set(err, EPROTO,
					       "connection closed inside a frame (%zd of %u bytes)",
					       n, h.length);
	}
	*ret_hdr = h;
	*ret_payload = TAKE_PTR(payload);
	return 0;
}

void ttrpc_reply_clear(struct ttrpc_reply *r)
{
	if (!r)
		return;
	free(r->message);
	free(r->payload);
	memset(r, 0, sizeof(*r));
}

int ttrpc_encode_request(const char *service, const char *method, const uint8_t *req,
			 size_t req_len, int64_t timeout_nano, const struct ttrpc_kv *md,
			 size_t n_md, uint8_t **ret_buf, size_t *ret_len, agent_error_t **err)
{
	Ttrpc__Request env = TTRPC__REQUEST__INIT;
	_cleanup_free_ Ttrpc__KeyValue *kvs = NULL;
	_cleanup_free_ Ttrpc__KeyValue **kvp = NULL;

	if (!service || !method)
		return agent_error_set(err, EINVAL, "service and method are required");
	env.service = (char *)service;
	env.method = (char *)method;
	env.payload.data = (uint8_t *)req;
	env.payload.len = req ? req_len : 0;
	env.timeout_nano = timeout_nano;
	if (n_md > 0) {
		kvs = calloc(n_md, sizeof(*kvs));
		kvp = calloc(n_md, sizeof(*kvp));
		if (!kvs || !kvp)
			return agent_error_set(err, ENOMEM, "out of memory");
		for (size_t i = 0; i < n_md; i++) {
			ttrpc__key_value__init(&kvs[i]);
			kvs[i].key = (char *)(md[i].key ? md[i].key : "");
			kvs[i].value = (char *)(md[i].value ? md[i].value : "");
			kvp[i] = &kvs[i];
		}
		env.n_metadata = n_md;
		env.metadata = kvp;
	}

	size_t sz = ttrpc__request__get_packed_size(&env);
	uint8_t *buf = malloc(sz ? sz : 1);
	if (!buf)
		return agent_error_set(err, ENOMEM, "out of memory");
	ttrpc__request__pack(&env, buf);
	*ret_buf = buf;
	*ret_len = sz;
	return 0;
}

int ttrpc_decode_response(const uint8_t *buf, size_t len, struct ttrpc_reply *ret,
			  agent_error_t **err)
{
	Ttrpc__Response *resp = ttrpc__response__unpack(NULL, len, buf);
	if (!resp)
		return agent_error_set(err, EBADMSG, "undecodable ttrpc.Response (%zu bytes)", len);

	struct ttrpc_reply r = {0};
	if (resp->status) {
		r.code = resp->status->code;
		r.message = strdup(resp->status->message ? resp->status->message : "");
	} else {
		r.message = strdup("");
	}
	if (r.message && resp->payload.len > 0) {
		r.payload = malloc(resp->payload.len);
		if (r.payload) {
			memcpy(r.payload, resp->payload.data, resp->payload.len);
			r.len = resp->payload.len;
		}
	}
	bool oom = !r.message || (resp->payload.len > 0 && !r.payload);
	ttrpc__response__free_unpacked(resp, NULL);
	if (oom) {
		ttrpc_reply_clear(&r);
		return agent_error_set(err, ENOMEM, "out of memory");
	}
	*ret = r;
	return 0;
}
