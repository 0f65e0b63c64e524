/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON <-> protobuf for any message, driven by protobuf-c descriptors, after
 * the proto3 JSON mapping:
 *   - field names as written in the .proto; the lowerCamelCase JSON name is
 *     accepted on input too (container_id / containerId)
 *   - int64, uint64 (and fixed/sint variants) are printed as strings and
 *     accepted as strings or numbers; 32-bit ints are numbers (strings accepted)
 *   - bytes as base64 (standard alphabet on output; standard or URL-safe, padded
 *     or not, on input)
 *   - enums by name (numbers accepted on input)
 *   - float/double as numbers; "NaN", "Infinity", "-Infinity" as strings
 *   - map fields (protobuf-c: repeated *Entry messages with key=1, value=2) as
 *     JSON objects; repeated fields as arrays; oneofs as their set member
 *   - null on input means "default"
 *   - fields holding their default value are left out on output unless
 *     JSONPB_EMIT_DEFAULTS (members of a oneof and proto2 optionals that are set
 *     are always printed)
 * Unknown JSON members are errors naming them (unless JSONPB_IGNORE_UNKNOWN);
 * a value of the wrong type is an error naming the field path, spelled as the
 * input spelled it ("OCI.Linux.Namespaces[1].Type: ..."). Message nesting is bounded by
 * JSONPB_MAX_DEPTH, JSON text by JSONPB_MAX_TEXT.
 *
 * Messages built here are allocated with the default protobuf-c allocator:
 * free them with protobuf_c_message_free_unpacked(msg, NULL).
 */
#ifndef AGENT_CLIENT_JSONPB_H
#define AGENT_CLIENT_JSONPB_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "base/error.h"

struct json_object;

#define JSONPB_MAX_DEPTH 64
#define JSONPB_MAX_TEXT (64u << 20)

enum jsonpb_flags {
	JSONPB_EMIT_DEFAULTS = 1u << 0, /* output: print fields holding default values */
	JSONPB_PRETTY = 1u << 1, /* output: indented text */
	JSONPB_ENUMS_AS_INTS = 1u << 2, /* output: enums as numbers */
	JSONPB_IGNORE_UNKNOWN = 1u << 3, /* input: skip unknown members */
	JSONPB_CASE_INSENSITIVE = 1u << 4, /* input: match names ignoring case and '_' (OCI) */
};

struct jsonpb_options {
	unsigned flags;
	/* With JSONPB_IGNORE_UNKNOWN: called with the path of each skipped member. */
	void (*on_unknown)(const char *path, void *userdata);
	void *userdata;
};

/* Parses JSON text (bounded, whole input must be one value) into a json-c object; a JSON
 * null gives *ret = NULL (json-c represents null as NULL). */
int jsonpb_parse_text(const char *text, size_t len, struct json_object **ret, agent_error_t **err);

/* Builds a message of type desc from a json-c value (an object, or null for all defaults). */
int jsonpb_from_json(struct json_object *json, const ProtobufCMessageDescriptor *desc,
		     const struct jsonpb_options *opts, ProtobufCMessage **ret,
		     agent_error_t **err);

/* jsonpb_parse_text + jsonpb_from_json. opts may be NULL. */
int jsonpb_parse(const char *text, size_t len, const ProtobufCMessageDescriptor *desc,
		 const struct jsonpb_options *opts, ProtobufCMessage **ret, agent_error_t **err);

/* The message as a json-c object (release with json_object_put). */
int jsonpb_to_json(const ProtobufCMessage *msg, unsigned flags, struct json_object **ret,
		   agent_error_t **err);

/* The message as malloc'ed JSON text. */
int jsonpb_print(const ProtobufCMessage *msg, unsigned flags, char **ret, agent_error_t **err);

/* Base64 (RFC 4648), exposed for tests and tools. Decoding accepts both alphabets, padding
 * optional; -EINVAL on anything else. */
char *jsonpb_base64_encode(const uint8_t *data, size_t len);
int jsonpb_base64_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_len);

#endif
