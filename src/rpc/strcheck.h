/* SPDX-License-Identifier: Apache-2.0 */
/*
 * protobuf-c hands string fields to C as NUL-terminated char *, so a NUL byte
 * inside one ("ab\0cd") silently cuts it ("ab"). This scans a request's packed
 * bytes, guided by its descriptor, for such strings at any depth.
 */
#ifndef AGENT_RPC_STRCHECK_H
#define AGENT_RPC_STRCHECK_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * True when a string field of the message (or of a message inside it) holds a NUL
 * byte; field gets its name ("container_id", "OCI.Process.Env"). Bytes that do not
 * parse end the scan with false (the unpacker is the judge of those).
 */
bool rpc_string_has_nul(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
			char *field, size_t field_size);

#endif
