// SPDX-License-Identifier: Apache-2.0
#include "rpc/strcheck.h"

#include <stdio.h>
#include <string.h>

#define STRCHECK_MAX_DEPTH 64

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

static bool scan(const ProtobufCMessageDescriptor *desc, const uint8_t *p, const uint8_t *end,
		 int depth, char *field, size_t fsize)
{
	if (depth > STRCHECK_MAX_DEPTH)
		return false;
	while (p < end) {
		uint64_t tag, n;
		if (!read_varint(&p, end, &tag))
			return false;
		switch (tag & 7) {
		case 0: /* varint */
			if (!read_varint(&p, end, &n))
				return false;
			continue;
		case 1: /* 64-bit */
			if (end - p < 8)
				return false;
			p += 8;
			continue;
		case 5: /* 32-bit */
			if (end - p < 4)
				return false;
			p += 4;
			continue;
		case 2: /* length-delimited: the only kind a string or message comes in */
			if (!read_varint(&p, end, &n) || n > (uint64_t)(end - p))
				return false;
			break;
		default: /* groups: not ours to judge */
			return false;
		}
		const ProtobufCFieldDescriptor *f =
			tag >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(
							 desc, (unsigned)(tag >> 3))
					       : NULL;
		if (f && f->type == PROTOBUF_C_TYPE_STRING && memchr(p, 0, n)) {
			snprintf(field, fsize, "%s", f->name);
			return true;
		}
		if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
		    scan(f->descriptor, p, p + n, depth + 1, field, fsize)) {
			char inner[256];
			snprintf(inner, sizeof(inner), "%s", field);
			snprintf(field, fsize, "%s.%s", f->name, inner);
			return true;
		}
		p += n;
	}
	return false;
}

bool rpc_string_has_nul(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
			char *field, size_t field_size)
{
	if (field_size)
		field[0] = '\0';
	if (!data || len == 0)
		return false; /* an empty request (data may be NULL: no pointer arithmetic on it) */
	return scan(desc, data, data + len, 0, field, field_size);
}
