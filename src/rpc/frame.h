/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ttRPC framing: a 10-byte big-endian header {u32 length, u32 stream_id,
 * u8 type, u8 flags} followed by `length` bytes of payload. This file knows
 * only bytes; the envelopes (ttrpc.Request/Response) are decoded in rpc/call.c.
 *
 * The decoder is incremental and allocation-bounded: it accepts any split of
 * the input, hands out each complete frame, and turns a frame whose length is
 * above the limit into a FRAME_OVERSIZED event whose body it then skips, so
 * the connection can go on.
 */
#ifndef AGENT_RPC_FRAME_H
#define AGENT_RPC_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TTRPC_HEADER_SIZE 10
#define TTRPC_MAX_PAYLOAD (4u << 20)

enum ttrpc_msg_type {
	TTRPC_TYPE_REQUEST = 1,
	TTRPC_TYPE_RESPONSE = 2,
	TTRPC_TYPE_DATA = 3,
};

struct ttrpc_header {
	uint32_t length;
	uint32_t stream_id;
	uint8_t type;
	uint8_t flags;
};

void ttrpc_header_encode(const struct ttrpc_header *h, uint8_t out[TTRPC_HEADER_SIZE]);
void ttrpc_header_decode(const uint8_t in[TTRPC_HEADER_SIZE], struct ttrpc_header *h);

enum frame_event {
	FRAME_NEED_MORE = 0, /* all input consumed, no complete frame yet */
	FRAME_COMPLETE, /* *ret_header and payload are valid until the next call */
	FRAME_OVERSIZED, /* header announced too much; body is being skipped */
};

struct frame_decoder {
	uint8_t hdr[TTRPC_HEADER_SIZE];
	size_t hdr_len;
	struct ttrpc_header cur;
	uint8_t *payload; /* owned; grows up to max_payload */
	size_t payload_cap;
	size_t payload_len;
	uint64_t skip; /* bytes of an oversized body still to discard */
	size_t max_payload;
};

void frame_decoder_init(struct frame_decoder *d, size_t max_payload);
void frame_decoder_reset(struct frame_decoder *d); /* drop any partial frame */
void frame_decoder_release(struct frame_decoder *d);
bool frame_decoder_idle(const struct frame_decoder *d); /* no partial frame held */

/*
 * Consumes input from buf and len (advancing both) until one event happens.
 * On FRAME_COMPLETE, *ret_payload points into the decoder (valid until the next call).
 * Returns a frame_event, or -ENOMEM.
 */
int frame_decoder_feed(struct frame_decoder *d, const uint8_t **buf, size_t *len,
		       struct ttrpc_header *ret_header, const uint8_t **ret_payload);

#endif
