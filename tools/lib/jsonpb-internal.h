/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between jsonpb.c (output) and jsonpb-parse.c (input). */
#ifndef AGENT_CLIENT_JSONPB_INTERNAL_H
#define AGENT_CLIENT_JSONPB_INTERNAL_H

#include <stdbool.h>

#include "jsonpb.h"

/* The struct member of field f inside message m. */
#define JSONPB_MEMBER(type, m, off) ((type *)(void *)((char *)(m) + (off)))

/*
 * protobuf-c keeps no map_entry option: a map field is a repeated message
 * whose type is the nested "<Field>Entry" with exactly key = 1 and value = 2,
 * which is the shape protoc gives every map and nothing else in practice.
 */
bool jsonpb_is_map_field(const ProtobufCFieldDescriptor *f);

/* The proto3 JSON name (lowerCamelCase: '_' dropped, next letter upper-cased) into out. */
void jsonpb_json_name(const char *name, char *out, size_t size);

size_t jsonpb_elem_size(ProtobufCType t);

#endif
