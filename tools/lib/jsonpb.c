/* SPDX-License-Identifier: Apache-2.0 */
/* Protobuf -> JSON (see jsonpb.h for the mapping), base64, and helpers shared with parsing. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "jsonpb-internal.h"

/* ---- helpers shared with jsonpb-parse.c --------------------------------------------------- */

bool jsonpb_is_map_field(const ProtobufCFieldDescriptor *f)
{
	if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
		return false;
	const ProtobufCMessageDescriptor *md = f->descriptor;
	if (!md || md->n_fields != 2)
		return false;
	const ProtobufCFieldDescriptor *k = protobuf_c_message_descriptor_get_field(md, 1);
	const ProtobufCFieldDescriptor *v = protobuf_c_message_descriptor_get_field(md, 2);
	if (!k || !v || strcmp(k->name, "key") != 0 || strcmp(v->name, "value") != 0)
		return false;
	size_t n = strlen(md->short_name);
	return n > 5 && strcmp(md->short_name + n - 5, "Entry") == 0;
}

void jsonpb_json_name(const char *name, char *out, size_t size)
{
	size_t o = 0;
	bool upper = false;
	if (size == 0)
		return;
	for (const char *p = name; *p && o + 1 < size; p++) {
		if (*p == '_') {
			upper = true;
			continue;
		}
		char ch = *p;
		if (upper && ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		upper = false;
		out[o++] = ch;
	}
	out[o] = '\0';
}

/* ---- base64 ------------------------------------------------------------------------------- */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *jsonpb_base64_encode(const uint8_t *data, size_t len)
{
	if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
		return NULL;
	size_t out_len = (len + 2) / 3 * 4;
	char *out = malloc(out_len + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)data[i + 1] << 8;
		if (i + 2 < len)
			v |= data[i + 2];
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64_alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

static int b64_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

int jsonpb_base64_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_len)
{
	/* Padding is optional, but when present it must complete the last quantum. */
	size_t pad = 0;
	while (pad < 2 && len > 0 && s[len - 1] == '=') {
		len--;
		pad++;
	}
	if (pad > 0 && (len + pad) % 4 != 0)
		return -EINVAL;
	if (len % 4 == 1)
		return -EINVAL;

	size_t out_len = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
	uint8_t *out = malloc(out_len ? out_len : 1);
	if (!out)
		return -ENOMEM;
	size_t o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(s[i]);
		if (v < 0) {
			free(out);
			return -EINVAL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero, or the text is not the canonical encoding of anything. */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
		free(out);
		return -EINVAL;
	}
	*ret = out;
	*ret_len = o;
	return 0;
}

/* ---- output ------------------------------------------------------------------------------- */

struct octx {
	unsigned flags;
	unsigned depth;
	agent_error_t **err;
};

static int emit_message(struct octx *c, const ProtobufCMessage *m, struct json_object **ret);

/* Size of one element of a repeated field of type t (shared with jsonpb-parse.c). */
size_t jsonpb_elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return sizeof(uint64_t);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	default:
		return sizeof(uint32_t);
	}
}

static bool value_is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return *(const uint64_t *)p == 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const double *)p == 0 && !signbit(*(const double *)p);
	case PROTOBUF_C_TYPE_FLOAT:
		return *(const float *)p == 0 && !signbit(*(const float *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return !*(const protobuf_c_boolean *)p;
	case PROTOBUF_C_TYPE_STRING:
		return !*(char *const *)p || !**(char *const *)p;
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return !*(ProtobufCMessage *const *)p;
	default:
		return *(const uint32_t *)p == 0;
	}
}

/* The shortest of a few precisions that reads back as the same value. */
static struct json_object *new_float(double v, bool single)
{
	if (isnan(v))
		return json_object_new_string("NaN");
	if (isinf(v))
		return json_object_new_string(v > 0 ? "Infinity" : "-Infinity");
	char buf[40];
	int lo = single ? 6 : 15, hi = single ? 9 : 17;
	for (int prec = lo; prec <= hi; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		double back = strtod(buf, NULL);
		if (single ? (float)back == (float)v : back == v)
			break;
	}
	return json_object_new_double_s(v, buf);
}

static struct json_object *new_u64_string(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return json_object_new_string(buf);
}

static struct json_object *new_i64_string(int64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return json_object_new_string(buf);
}

/* One value of field f stored at p (a single element for repeated fields). */
static int emit_value(struct octx *c, const ProtobufCFieldDescriptor *f, const void *p,
		      struct json_object **ret)
{
	struct json_object *j = NULL;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		j = json_object_new_int(*(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		j = json_object_new_int64(*(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		j = new_i64_string(*(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		j = new_u64_string(*(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		j = new_float(*(const float *)p, true);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		j = new_float(*(const double *)p, false);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		j = json_object_new_boolean(*(const protobuf_c_boolean *)p ? 1 : 0);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		int32_t v = *(const int32_t *)p;
		const ProtobufCEnumValue *ev =
			(c->flags & JSONPB_ENUMS_AS_INTS)
				? NULL
				: protobuf_c_enum_descriptor_get_value(f->descriptor, v);
		j = ev ? json_object_new_string(ev->name) : json_object_new_int(v);
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		j = json_object_new_string(s ? s : "");
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		char *s = jsonpb_base64_encode(b->data, b->len);
		if (s) {
			j = json_object_new_string(s);
			free(s);
		}
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
		if (!sub) {
			/* Only reached with EMIT_DEFAULTS or inside a map: {} reads back the same.
			 */
			j = json_object_new_object();
			break;
		}
		return emit_message(c, sub, ret);
	}
	}
	if (!j)
		return agent_error_set(c->err, ENOMEM, "out of memory");
	*ret = j;
	return 0;
}

static int map_key_string(const ProtobufCFieldDescriptor *kf, const void *p, char *buf, size_t size,
			  const char **ret)
{
	switch (kf->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		*ret = s ? s : "";
		return 0;
	}
	case PROTOBUF_C_TYPE_BOOL:
		*ret = *(const protobuf_c_boolean *)p ? "true" : "false";
		return 0;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		snprintf(buf, size, "%" PRId32, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		snprintf(buf, size, "%" PRIu32, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		snprintf(buf, size, "%" PRId64, *(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		snprintf(buf, size, "%" PRIu64, *(const uint64_t *)p);
		break;
	default:
		return -EINVAL;
	}
	*ret = buf;
	return 0;
}

static int emit_map(struct octx *c, const ProtobufCFieldDescriptor *f, ProtobufCMessage *const *arr,
		    size_t n, struct json_object **ret)
{
	const ProtobufCMessageDescriptor *md = f->descriptor;
	const ProtobufCFieldDescriptor *kf = protobuf_c_message_descriptor_get_field(md, 1);
	const ProtobufCFieldDescriptor *vf = protobuf_c_message_descriptor_get_field(md, 2);
	struct json_object *obj = json_object_new_object();
	if (!obj)
		return agent_error_set(c->err, ENOMEM, "out of memory");

	for (size_t i = 0; i < n; i++) {
		const ProtobufCMessage *e = arr[i];
		if (!e)
			continue;
		char kbuf[32];
		const char *key;
		if (map_key_string(kf, JSONPB_MEMBER(const char, e, kf->offset), kbuf, sizeof(kbuf),
				   &key) < 0) {
			json_object_put(obj);
			return agent_error_set(c->err, EINVAL, "%s: unsupported map key type",
					       f->name);
		}
		struct json_object *v = NULL;
		int r = emit_value(c, vf, JSONPB_MEMBER(const char, e, vf->offset), &v);
		if (r < 0 || json_object_object_add(obj, key, v) < 0) {
			json_object_put(v);
			json_object_put(obj);
			return r < 0 ? r : agent_error_set(c->err, ENOMEM, "out of memory");
		}
	}
	*ret = obj;
	return 0;
}

static int emit_repeated(struct octx *c, const ProtobufCFieldDescriptor *f, const void *arr,
			 size_t n, struct json_object **ret)
{
	if (jsonpb_is_map_field(f))
		return emit_map(c, f, arr, n, ret);

	struct json_object *a = json_object_new_array_ext((int)MIN(n, (size_t)INT32_MAX));
	if (!a)
		return agent_error_set(c->err, ENOMEM, "out of memory");
	size_t es = jsonpb_elem_size(f->type);
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = NULL;
		int r = emit_value(c, f, (const char *)arr + i * es, &v);
		if (r < 0 || json_object_array_add(a, v) < 0) {
			json_object_put(v);
			json_object_put(a);
			return r < 0 ? r : agent_error_set(c->err, ENOMEM, "out of memory");
		}
	}
	*ret = a;
	return 0;
}

/* Whether field f of m is printed, for non-repeated fields. */
static bool field_present(const struct octx *c, const ProtobufCMessage *m,
			  const ProtobufCFieldDescriptor *f)
{
	const void *p = JSONPB_MEMBER(const char, m, f->offset);

	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *JSONPB_MEMBER(const uint32_t, m, f->quantifier_offset) == f->id;
	if (f->label == PROTOBUF_C_LABEL_REQUIRED)
		return true;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
		if (f->type == PROTOBUF_C_TYPE_STRING)
			return *(char *const *)p && *(char *const *)p != f->default_value;
		if (f->type == PROTOBUF_C_TYPE_MESSAGE)
			return *(ProtobufCMessage *const *)p != NULL;
		if (*JSONPB_MEMBER(const protobuf_c_boolean, m, f->quantifier_offset))
			return true;
		return c->flags & JSONPB_EMIT_DEFAULTS;
	}
	return (c->flags & JSONPB_EMIT_DEFAULTS) || !value_is_default(f, p);
}

static int emit_message(struct octx *c, const ProtobufCMessage *m, struct json_object **ret)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	if (c->depth >= JSONPB_MAX_DEPTH)
		return agent_error_set(c->err, ELOOP, "%s: messages nested deeper than %d", d->name,
				       JSONPB_MAX_DEPTH);
	struct json_object *obj = json_object_new_object();
	if (!obj)
		return agent_error_set(c->err, ENOMEM, "out of memory");

	c->depth++;
	int r = 0;
	for (unsigned i = 0; i < d->n_fields && r == 0; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		struct json_object *v = NULL;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *JSONPB_MEMBER(const size_t, m, f->quantifier_offset);
			if (n == 0 && !(c->flags & JSONPB_EMIT_DEFAULTS))
				continue;
			r = emit_repeated(c, f, *JSONPB_MEMBER(void *const, m, f->offset), n, &v);
		} else {
			if (!field_present(c, m, f))
				continue;
			if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
			    !*JSONPB_MEMBER(ProtobufCMessage *const, m, f->offset))
				v = NULL; /* an absent message prints as null */
			else
				r = emit_value(c, f, JSONPB_MEMBER(const char, m, f->offset), &v);
		}
		if (r == 0 && json_object_object_add(obj, f->name, v) < 0) {
			json_object_put(v);
			r = agent_error_set(c->err, ENOMEM, "out of memory");
		}
	}
	c->depth--;
	if (r < 0) {
		json_object_put(obj);
		return r;
	}
	*ret = obj;
	return 0;
}

int jsonpb_to_json(const ProtobufCMessage *msg, unsigned flags, struct json_object **ret,
		   agent_error_t **err)
{
	struct octx c = {.flags = flags, .err = err};
	if (!msg)
		return agent_error_set(err, EINVAL, "no message");
	return emit_message(&c, msg, ret);
}

/* json-c's own pretty mode prints empty objects as "{\n}"; this one prints "{}". */
static void pretty(struct strbuf *sb, struct json_object *j, int depth)
{
	enum json_type t = json_object_get_type(j);
	bool is_obj = t == json_type_object && json_object_object_length(j) > 0;
	bool is_arr = t == json_type_array && json_object_array_length(j) > 0;

	if (is_obj || is_arr) {
		size_t n =
			is_obj ? (size_t)json_object_object_length(j) : json_object_array_length(j);
		size_t i = 0;
		strbuf_adds(sb, is_obj ? "{\n" : "[\n");
		if (is_obj) {
			json_object_object_foreach(j, key, val)
			{
				strbuf_addf(sb, "%*s", 2 * (depth + 1), "");
				strbuf_add_json_string(sb, key);
				strbuf_adds(sb, ": ");
				pretty(sb, val, depth + 1);
				strbuf_adds(sb, ++i < n ? ",\n" : "\n");
			}
		} else {
			for (i = 0; i < n; i++) {
				strbuf_addf(sb, "%*s", 2 * (depth + 1), "");
				pretty(sb, json_object_array_get_idx(j, i), depth + 1);
				strbuf_adds(sb, i + 1 < n ? ",\n" : "\n");
			}
		}
		strbuf_addf(sb, "%*s%c", 2 * depth, "", is_obj ? '}' : ']');
	} else if (t == json_type_object || t == json_type_array) {
		strbuf_adds(sb, t == json_type_object ? "{}" : "[]");
	} else if (t == json_type_string) {
		strbuf_add_json_string(sb, json_object_get_string(j));
	} else {
		strbuf_adds(sb, json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	}
}

int jsonpb_print(const ProtobufCMessage *msg, unsigned flags, char **ret, agent_error_t **err)
{
	struct json_object *j = NULL;
	int r = jsonpb_to_json(msg, flags, &j, err);
	if (r < 0)
		return r;
	char *out;
	if (flags & JSONPB_PRETTY) {
		struct strbuf sb;
		strbuf_init(&sb, 0);
		pretty(&sb, j, 0);
		out = sb.oom ? NULL : strbuf_steal(&sb);
		strbuf_release(&sb);
	} else {
		const char *s = json_object_to_json_string_ext(
			j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		out = s ? strdup(s) : NULL;
	}
	json_object_put(j);
	if (!out)
		return agent_error_set(err, ENOMEM, "out of memory");
	*ret = out;
	return 0;
}
