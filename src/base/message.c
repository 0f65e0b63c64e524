// SPDX-License-Identifier: Apache-2.0
#include "base/message.h"

#include <stdlib.h>

void *message_dup(const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);
	void *copy;

	if (!buf)
		return NULL;
	protobuf_c_message_pack(m, buf);
	copy = protobuf_c_message_unpack(m->descriptor, NULL, len, buf);
	free(buf);
	return copy;
}
