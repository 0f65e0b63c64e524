/* SPDX-License-Identifier: Apache-2.0 */
#include "frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void ttrpc_header_encode(const struct ttrpc_header *h, uint8_t out[TTRPC_HEADER_SIZE])
{
	put_be32(out, h->length);
	put_be32(out + 4, h->stream_id);
	out[8] = h->type;
	out[9] = h->flags;
}

void ttrpc_header_decode(const uint8_t in[TTRPC_HEADER_SIZE], struct ttrpc_header *h)
{
	h->length = get_be32(in);
	h->stream_id = get_be32(in + 4);
	h->type = in[8];
	h->flags = in[9];
}

void frame_decoder_init(struct frame_decoder *d, size_t max_payload)
{
	memset(d, 0, sizeof(*d));
	d->max_payload = max_payload;
}

void frame_decoder_reset(struct frame_decoder *d)
{
	d->hdr_len = 0;
	d->payload_len = 0;
	d->skip = 0;
}

void frame_decoder_release(struct frame_decoder *d)
{
	free(d->payload);
	d->payload = NULL;
	d->payload_cap = 0;
	frame_decoder_reset(d);
}

bool frame_decoder_idle(const struct frame_decoder *d)
{
	return d->hdr_len == 0 && d->skip == 0;
}

/* Keeps memory proportional to the frames actually seen, never above the limit. */
static int reserve(struct frame_decoder *d, size_t need)
{
	if (need <= d->payload_cap)
		return 0;
	size_t cap = d->payload_cap ? d->payload_cap : 4096;
	while (cap < need)
		cap *= 2;
	if (cap > d->max_payload)
		cap = d->max_payload;
	uint8_t *p = realloc(d->payload, cap);
	if (!p)
		return -ENOMEM;
	d->payload = p;
	d->payload_cap = cap;
	return 0;
}

int frame_decoder_feed(struct frame_decoder *d, const uint8_t **buf, size_t *len,
		       struct ttrpc_header *ret_header, const uint8_t **ret_payload)
{
	for (;;) {
		if (d->skip > 0) {
			size_t n = *len < d->skip ? *len : (size_t)d->skip;
			*buf += n;
			*len -= n;
			d->skip -= n;
			if (d->skip > 0)
				return FRAME_NEED_MORE;
			d->hdr_len = 0;
			continue;
		}

		if (d->hdr_len < TTRPC_HEADER_SIZE) {
			size_t n = TTRPC_HEADER_SIZE - d->hdr_len;
			if (n > *len)
				n = *len;
			memcpy(d->hdr + d->hdr_len, *buf, n);
			d->hdr_len += n;
			*buf += n;
			*len -= n;
			if (d->hdr_len < TTRPC_HEADER_SIZE)
				return FRAME_NEED_MORE;
			ttrpc_header_decode(d->hdr, &d->cur);
			d->payload_len = 0;
			if (d->cur.length > d->max_payload) {
				d->skip = d->cur.length;
				*ret_header = d->cur;
				if (d->skip == 0)
					d->hdr_len = 0;
				return FRAME_OVERSIZED;
			}
			if (reserve(d, d->cur.length) < 0) {
				/* Treat like an oversized frame so the stream stays in sync. */
				d->skip = d->cur.length;
				*ret_header = d->cur;
				return FRAME_OVERSIZED;
			}
		}

		size_t want = d->cur.length - d->payload_len;
		size_t n = want < *len ? want : *len;
		if (n) {
			memcpy(d->payload + d->payload_len, *buf, n);
			d->payload_len += n;
			*buf += n;
			*len -= n;
		}
		if (d->payload_len < d->cur.length)
			return FRAME_NEED_MORE;

		*ret_header = d->cur;
		*ret_payload = d->payload ? d->payload : (const uint8_t *)"";
		d->hdr_len = 0;
		return FRAME_COMPLETE;
	}
}
