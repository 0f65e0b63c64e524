/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtnetlink replies as the kernel might send them, parsed as the agent's listing parses
 * them: the reply walk (dump messages, DONE, errors with extended acks) and the link,
 * address and route parsers with their attributes and nested attributes. Input layout:
 * two bytes give the lengths of the link and address datagrams (in 16-byte units), the
 * rest is split into the link, address and route datagrams. Nothing is sent anywhere.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t rest = size - 2;
	size_t l1 = (size_t)data[0] * 16, l2 = (size_t)data[1] * 16;
	if (l1 > rest)
		l1 = rest;
	if (l2 > rest - l1)
		l2 = rest - l1;
	/* Each datagram in its own aligned copy, as recv() would give it. */
	const size_t lens[3] = {l1, l2, rest - l1 - l2};
	uint32_t *bufs[3];
	const uint8_t *p = data + 2;
	for (int i = 0; i < 3; i++) {
		bufs[i] = malloc(lens[i] + 4);
		if (!bufs[i])
			abort();
		memcpy(bufs[i], p, lens[i]);
		p += lens[i];
	}
	agent_error_t *err = NULL;
	int r = net_parse_replies(bufs[0], lens[0], bufs[1], lens[1], bufs[2], lens[2], &err);
	if (r < 0 && (!err || !err->msg))
		abort(); /* every refusal says why */
	if (r >= 0 && err)
		abort(); /* no error object without a failure */
	agent_error_free(err);
	for (int i = 0; i < 3; i++)
		free(bufs[i]);
	return 0;
}
