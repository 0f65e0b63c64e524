/* SPDX-License-Identifier: Apache-2.0 */
/* A deep copy of a protobuf-c message, for requests that outlive their call. */
#ifndef AGENT_BASE_MESSAGE_H
#define AGENT_BASE_MESSAGE_H

#include <protobuf-c/protobuf-c.h>

/* A copy through the wire form, freed with protobuf_c_message_free_unpacked; NULL on ENOMEM. */
void *message_dup(const ProtobufCMessage *m);

#endif
