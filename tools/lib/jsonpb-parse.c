/* SPDX-License-Identifier: Apache-2.0 */
/* JSON -> protobuf (see jsonpb.h for the mapping). */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpb-internal.h"

/* JSON nesting allowed by the tokenizer: a message level can cost an object and an array. */
#define TOKENER_DEPTH (2 * JSONPB_MAX_DEPTH + 8)

struct pctx {
	const struct jsonpb_options *o;
	unsigned depth;
	char path[512];
	size_t plen;
	agent_error_t **err;
};

/* Appends a path segment; returns the previous length for path_pop(). */
_printf_(2, 3) static size_t path_push(struct pctx *c, const char *fmt, ...)
{
	size_t old = c->plen;
	if (c->plen >= sizeof(c->path) - 1)
		return old;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(c->path + c->plen, sizeof(c->path) - c->plen, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->plen = MIN(c->plen + (size_t)n, sizeof(c->path) - 1);
	return old;
}

static void path_pop(struct pctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

static size_t push_field(struct pctx *c, const char *name)
{
	return c->plen ? path_push(c, ".%s", name) : path_push(c, "%s", name);
}

_printf_(3, 4) static int perr(struct pctx *c, int errnum, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return agent_error_set(c->err, errnum, "%s: %s", c->plen ? c->path : "(top level)", msg);
}

static const char *jtype(struct json_object *j)
{
	return json_type_to_name(json_object_get_type(j));
}

/* ---- field lookup ------------------------------------------------------------------------- */

/* Equal ignoring ASCII case and underscores. */
static bool loose_eq(const char *a, const char *b)
{
	for (;;) {
		while (*a == '_')
			a++;
		while (*b == '_')
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
		a++;
		b++;
	}
}

static const ProtobufCFieldDescriptor *
find_field(const struct pctx *c, const ProtobufCMessageDescriptor *d, const char *key)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
	if (f)
		return f;
	for (unsigned i = 0; i < d->n_fields; i++) {
		char jname[128];
		jsonpb_json_name(d->fields[i].name, jname, sizeof(jname));
		if (strcmp(jname, key) == 0)
			return &d->fields[i];
	}
	if (c->o->flags & JSONPB_CASE_INSENSITIVE)
		for (unsigned i = 0; i < d->n_fields; i++)
			if (loose_eq(d->fields[i].name, key))
				return &d->fields[i];
	return NULL;
}

/* ---- scalars ------------------------------------------------------------------------------ */

/* An integer from a JSON number or string; range checks are the caller's. */
static int get_integer(struct pctx *c, struct json_object *j, bool is_unsigned, int64_t *ret_s,
		       uint64_t *ret_u)
{
	const char *text;
	enum json_type t = json_object_get_type(j);

	if (t == json_type_int) {
		/* The printed form is exact for both json-c storage classes (int64 and uint64). */
		text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	} else if (t == json_type_double) {
		/* 1e3 and 5.0 are integers too (proto3 JSON accepts exponents). */
		double v = json_object_get_double(j);
		const char *shown = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
		if (!isfinite(v))
			return perr(c, ERANGE, "integer %s out of range", shown);
		if (v < -9223372036854775808.0 || v >= 18446744073709551616.0 ||
		    (!is_unsigned && v >= 9223372036854775808.0) || (is_unsigned && v < 0))
			return perr(c, ERANGE, "integer %s out of range", shown);
		if (is_unsigned ? (double)(uint64_t)v != v : (double)(int64_t)v != v)
			return perr(c, EINVAL, "want an integer, got %s", shown);
		if (is_unsigned)
			*ret_u = (uint64_t)v;
		else
			*ret_s = (int64_t)v;
		return 0;
	} else if (t == json_type_string) {
		text = json_object_get_string(j);
	} else {
		return perr(c, EINVAL, "want an integer, got %s", jtype(j));
	}

	const char *p = text;
	if (!*p || isspace((unsigned char)*p) || *p == '+')
		return perr(c, EINVAL, "want an integer, got \"%s\"", text);
	char *end;
	errno = 0;
	if (is_unsigned) {
		if (*p == '-')
			return perr(c, ERANGE, "negative value %s for an unsigned field", text);
		*ret_u = strtoull(p, &end, 10);
	} else {
		*ret_s = strtoll(p, &end, 10);
	}
	if (end == p || *end)
		return perr(c, EINVAL, "want an integer, got \"%s\"", text);
	if (errno == ERANGE)
		return perr(c, ERANGE, "integer %s out of range", text);
	return 0;
}

static int get_double(struct pctx *c, struct json_object *j, double *ret)
{
	enum json_type t = json_object_get_type(j);
	if (t == json_type_int || t == json_type_double) {
		double v = t == json_type_int ? (double)json_object_get_int64(j)
					      : json_object_get_double(j);
		if (t == json_type_int && json_object_get_int64(j) == INT64_MAX)
			v = (double)json_object_get_uint64(j);
		if (!isfinite(v))
			return perr(c, ERANGE, "number %s out of range",
				    json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		*ret = v;
		return 0;
	}
	if (t != json_type_string)
		return perr(c, EINVAL, "want a number, got %s", jtype(j));
	const char *s = json_object_get_string(j);
	if (strcmp(s, "NaN") == 0) {
		*ret = NAN;
		return 0;
	}
	if (strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0) {
		*ret = s[0] == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	/* Decimal notation only: strtod would also take "nan", "inf" and hex floats. */
	if (!*s || (*s != '-' && !(*s >= '0' && *s <= '9')) ||
	    s[strspn(s, "0123456789.eE+-")] != '\0')
		return perr(c, EINVAL, "want a number, got \"%s\"", s);
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || end == s)
		return perr(c, EINVAL, "want a number, got \"%s\"", s);
	if (errno == ERANGE || !isfinite(v))
		return perr(c, ERANGE, "number %s out of range", s);
	*ret = v;
	return 0;
}

static int set_string(struct pctx *c, struct json_object *j, char **dst)
{
	if (!json_object_is_type(j, json_type_string))
		return perr(c, EINVAL, "want a string, got %s", jtype(j));
	int len = json_object_get_string_len(j);
	const char *s = json_object_get_string(j);
	if (memchr(s, '\0', (size_t)len))
		return perr(c, EINVAL, "string contains a NUL character");
	char *copy = strdup(s);
	if (!copy)
		return agent_error_set(c->err, ENOMEM, "out of memory");
	*dst = copy;
	return 0;
}

static int set_bytes(struct pctx *c, struct json_object *j, ProtobufCBinaryData *dst)
{
	if (!json_object_is_type(j, json_type_string))
		return perr(c, EINVAL, "want a base64 string, got %s", jtype(j));
	uint8_t *data;
	size_t len;
	int r = jsonpb_base64_decode(json_object_get_string(j),
				     (size_t)json_object_get_string_len(j), &data, &len);
	if (r == -ENOMEM)
		return agent_error_set(c->err, ENOMEM, "out of memory");
	if (r < 0)
		return perr(c, EINVAL, "invalid base64");
	dst->data = data;
	dst->len = len;
	return 0;
}

static int get_enum(struct pctx *c, const ProtobufCFieldDescriptor *f, struct json_object *j,
		    int32_t *ret)
{
	const ProtobufCEnumDescriptor *ed = f->descriptor;
	if (json_object_is_type(j, json_type_string)) {
		const char *s = json_object_get_string(j);
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(ed, s);
		if (!ev && (c->o->flags & JSONPB_CASE_INSENSITIVE))
			for (unsigned i = 0; i < ed->n_values && !ev; i++)
				if (loose_eq(ed->values[i].name, s))
					ev = &ed->values[i];
		if (!ev)
			return perr(c, EINVAL, "\"%s\" is not a value of enum %s", s, ed->name);
		*ret = ev->value;
		return 0;
	}
	if (!json_object_is_type(j, json_type_int))
		return perr(c, EINVAL, "want an enum name or number, got %s", jtype(j));
	int64_t v = 0;
	uint64_t u;
	int r = get_integer(c, j, false, &v, &u);
	if (r < 0)
		return r;
	if (v < INT32_MIN || v > INT32_MAX)
		return perr(c, ERANGE, "enum value %" PRId64 " out of range", v);
	*ret = (int32_t)v; /* proto3 enums are open: unnamed numbers are kept */
	return 0;
}

static int parse_message(struct pctx *c, struct json_object *j, const ProtobufCMessageDescriptor *d,
			 ProtobufCMessage **ret);

/* Stores one JSON value into the member at p (a single element for repeated fields). */
static int parse_value(struct pctx *c, const ProtobufCFieldDescriptor *f, struct json_object *j,
		       void *p)
{
	int64_t s = 0;
	uint64_t u = 0;
	double d = 0;
	int r;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if ((r = get_integer(c, j, false, &s, &u)) < 0)
			return r;
		if (s < INT32_MIN || s > INT32_MAX)
			return perr(c, ERANGE, "%" PRId64 " out of range for int32", s);
		*(int32_t *)p = (int32_t)s;
		return 0;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if ((r = get_integer(c, j, true, &s, &u)) < 0)
			return r;
		if (u > UINT32_MAX)
			return perr(c, ERANGE, "%" PRIu64 " out of range for uint32", u);
		*(uint32_t *)p = (uint32_t)u;
		return 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		if ((r = get_integer(c, j, false, &s, &u)) < 0)
			return r;
		*(int64_t *)p = s;
		return 0;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if ((r = get_integer(c, j, true, &s, &u)) < 0)
			return r;
		*(uint64_t *)p = u;
		return 0;
	case PROTOBUF_C_TYPE_FLOAT:
		if ((r = get_double(c, j, &d)) < 0)
			return r;
		if (isfinite(d) && (d > FLT_MAX || d < -FLT_MAX))
			return perr(c, ERANGE, "%g out of range for float", d);
		*(float *)p = (float)d;
		return 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		if ((r = get_double(c, j, &d)) < 0)
			return r;
		*(double *)p = d;
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_object_is_type(j, json_type_boolean))
			return perr(c, EINVAL, "want true or false, got %s", jtype(j));
		*(protobuf_c_boolean *)p = json_object_get_boolean(j) ? 1 : 0;
		return 0;
	case PROTOBUF_C_TYPE_ENUM:
		return get_enum(c, f, j, (int32_t *)p);
	case PROTOBUF_C_TYPE_STRING:
		return set_string(c, j, (char **)p);
	case PROTOBUF_C_TYPE_BYTES:
		return set_bytes(c, j, (ProtobufCBinaryData *)p);
	case PROTOBUF_C_TYPE_MESSAGE:
		return parse_message(c, j, f->descriptor, (ProtobufCMessage **)p);
	}
	return perr(c, EINVAL, "unsupported field type %d", (int)f->type);
}

/* ---- repeated fields and maps ------------------------------------------------------------- */

/* A fresh message of type d with its defaults, allocated like protobuf-c would. */
static ProtobufCMessage *message_new(const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = calloc(1, d->sizeof_message);
	if (m)
		protobuf_c_message_init(d, m);
	return m;
}

/* A map key (always a JSON member name) into the key field of an entry. */
static int parse_map_key(struct pctx *c, const ProtobufCFieldDescriptor *kf, const char *key,
			 void *p)
{
	if (kf->type == PROTOBUF_C_TYPE_BOOL) {
		if (strcmp(key, "true") != 0 && strcmp(key, "false") != 0)
			return perr(c, EINVAL, "map key \"%s\" is not true or false", key);
		*(protobuf_c_boolean *)p = key[0] == 't';
		return 0;
	}
	struct json_object *k = json_object_new_string(key);
	if (!k)
		return agent_error_set(c->err, ENOMEM, "out of memory");
	int r = parse_value(c, kf, k, p);
	json_object_put(k);
	return r;
}

static int parse_map(struct pctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		     struct json_object *j)
{
	if (!json_object_is_type(j, json_type_object))
		return perr(c, EINVAL, "want an object (map), got %s", jtype(j));
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	const ProtobufCFieldDescriptor *kf = protobuf_c_message_descriptor_get_field(ed, 1);
	const ProtobufCFieldDescriptor *vf = protobuf_c_message_descriptor_get_field(ed, 2);
	size_t n = (size_t)json_object_object_length(j);
	if (n == 0)
		return 0;
	ProtobufCMessage **arr = calloc(n, sizeof(*arr));
	if (!arr)
		return agent_error_set(c->err, ENOMEM, "out of memory");
	/* Owned by m from here on, so a failure half-way frees what was built. */
	*JSONPB_MEMBER(ProtobufCMessage **, m, f->offset) = arr;
	*JSONPB_MEMBER(size_t, m, f->quantifier_offset) = n;

	size_t i = 0;
	json_object_object_foreach(j, key, val)
	{
		size_t old = path_push(c, "[\"%s\"]", key);
		ProtobufCMessage *e = arr[i++] = message_new(ed);
		if (!e)
			return agent_error_set(c->err, ENOMEM, "out of memory");
		int r = parse_map_key(c, kf, key, JSONPB_MEMBER(char, e, kf->offset));
		if (r == 0 && !json_object_is_type(val, json_type_null))
			r = parse_value(c, vf, val, JSONPB_MEMBER(char, e, vf->offset));
		if (r < 0)
			return r;
		path_pop(c, old);
	}
	return 0;
}

static int parse_repeated(struct pctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
			  struct json_object *j)
{
	if (jsonpb_is_map_field(f))
		return parse_map(c, m, f, j);
	if (!json_object_is_type(j, json_type_array))
		return perr(c, EINVAL, "want an array, got %s", jtype(j));
	size_t n = json_object_array_length(j);
	if (n == 0)
		return 0;
	size_t es = jsonpb_elem_size(f->type);
	char *arr = calloc(n, es);
	if (!arr)
		return agent_error_set(c->err, ENOMEM, "out of memory");
	*JSONPB_MEMBER(void *, m, f->offset) = arr;
	*JSONPB_MEMBER(size_t, m, f->quantifier_offset) = n;

	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(j, i);
		size_t old = path_push(c, "[%zu]", i);
		if (json_object_is_type(v, json_type_null)) {
			if (f->type == PROTOBUF_C_TYPE_MESSAGE)
				return perr(c, EINVAL, "null element in a repeated message field");
			if (f->type == PROTOBUF_C_TYPE_STRING)
				return perr(c, EINVAL, "null element in a repeated string field");
			path_pop(c, old);
			continue; /* a zero scalar */
		}
		int r = parse_value(c, f, v, arr + i * es);
		if (r < 0)
			return r;
		path_pop(c, old);
	}
	return 0;
}

/* ---- messages ----------------------------------------------------------------------------- */

static int parse_field(struct pctx *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		       struct json_object *val)
{
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return parse_repeated(c, m, f, val);

	void *p = JSONPB_MEMBER(char, m, f->offset);
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t *which = JSONPB_MEMBER(uint32_t, m, f->quantifier_offset);
		if (*which != 0 && *which != f->id) {
			const ProtobufCFieldDescriptor *other =
				protobuf_c_message_descriptor_get_field(m->descriptor, *which);
			return perr(c, EINVAL,
				    "only one member of a oneof may be set (%s is set too)",
				    other ? other->name : "another");
		}
		/* Mark the member first: a failure half-way must still free what was stored. */
		*which = f->id;
	}
	int r = parse_value(c, f, val, p);
	if (r < 0)
		return r;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE)
		*JSONPB_MEMBER(protobuf_c_boolean, m, f->quantifier_offset) = 1;
	return 0;
}

static void free_msgp(ProtobufCMessage **m)
{
	if (*m)
		protobuf_c_message_free_unpacked(*m, NULL);
}

static int parse_message(struct pctx *c, struct json_object *j, const ProtobufCMessageDescriptor *d,
			 ProtobufCMessage **ret)
{
	if (!json_object_is_type(j, json_type_object))
		return perr(c, EINVAL, "want an object (%s), got %s", d->name, jtype(j));
	if (c->depth >= JSONPB_MAX_DEPTH)
		return perr(c, ELOOP, "messages nested deeper than %d", JSONPB_MAX_DEPTH);

	_cleanup_(free_msgp) ProtobufCMessage *m = message_new(d);
	_cleanup_free_ const char **seen = calloc(d->n_fields ? d->n_fields : 1, sizeof(*seen));
	if (!m || !seen)
		return agent_error_set(c->err, ENOMEM, "out of memory");

	c->depth++;
	json_object_object_foreach(j, key, val)
	{
		const ProtobufCFieldDescriptor *f = find_field(c, d, key);
		if (!f) {
			size_t old = push_field(c, key);
			if (!(c->o->flags & JSONPB_IGNORE_UNKNOWN)) {
				int r = perr(c, EINVAL, "unknown field \"%s\" in %s", key, d->name);
				c->depth--;
				return r;
			}
			if (c->o->on_unknown)
				c->o->on_unknown(c->path, c->o->userdata);
			path_pop(c, old);
			continue;
		}
		size_t idx = (size_t)(f - d->fields);
		size_t old = push_field(c, key); /* the spelling the input used */
		int r = 0;
		if (seen[idx])
			r = perr(c, EINVAL, "field given twice (as \"%s\" and \"%s\")", seen[idx],
				 key);
		seen[idx] = key;
		/* null means "default": nothing to store. */
		if (r == 0 && !json_object_is_type(val, json_type_null))
			r = parse_field(c, m, f, val);
		if (r < 0) {
			c->depth--;
			return r;
		}
		path_pop(c, old);
	}
	c->depth--;
	*ret = TAKE_PTR(m);
	return 0;
}

int jsonpb_from_json(struct json_object *json, const ProtobufCMessageDescriptor *desc,
		     const struct jsonpb_options *opts, ProtobufCMessage **ret, agent_error_t **err)
{
	static const struct jsonpb_options defaults = {0};
	struct pctx c = {.o = opts ? opts : &defaults, .err = err};

	if (!desc)
		return agent_error_set(err, EINVAL, "no message type");
	if (!json || json_object_is_type(json, json_type_null)) {
		ProtobufCMessage *m = message_new(desc);
		if (!m)
			return agent_error_set(err, ENOMEM, "out of memory");
		*ret = m;
		return 0;
	}
	return parse_message(&c, json, desc, ret);
}

/* ---- text --------------------------------------------------------------------------------- */

/*
 * json-c saturates integer literals beyond 64 bits without telling anyone;
 * catch them in the text first so "overflow" is an error, not a wrong value.
 */
static int check_integer_literals(const char *s, size_t len, agent_error_t **err)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"') {
			for (i++; i < len && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			continue;
		}
		if (s[i] != '-' && !(s[i] >= '0' && s[i] <= '9'))
			continue;
		size_t start = i;
		bool integral = true;
		if (s[i] == '-')
			i++;
		while (i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == 'e' ||
				   s[i] == 'E' || s[i] == '+' || s[i] == '-')) {
			if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
				integral = false;
			i++;
		}
		size_t n = i - start;
		if (integral && n > 0 && n < 64) {
			char num[64];
			memcpy(num, s + start, n);
			num[n] = '\0';
			errno = 0;
			if (num[0] == '-')
				(void)strtoll(num, NULL, 10);
			else
				(void)strtoull(num, NULL, 10);
			if (errno == ERANGE)
				return agent_error_set(err, ERANGE,
						       "integer %s at offset %zu exceeds 64 bits",
						       num, start);
		} else if (integral && n >= 64) {
			return agent_error_set(err, ERANGE, "integer at offset %zu exceeds 64 bits",
					       start);
		}
		i--;
	}
	return 0;
}

int jsonpb_parse_text(const char *text, size_t len, struct json_object **ret, agent_error_t **err)
{
	if (len > JSONPB_MAX_TEXT)
		return agent_error_set(err, E2BIG, "JSON text of %zu bytes exceeds the limit of %u",
				       len, JSONPB_MAX_TEXT);
	int r = check_integer_literals(text, len, err);
	if (r < 0)
		return r;

	/* json-c needs a terminator to finish a top-level number: hand it the NUL too. */
	_cleanup_free_ char *copy = malloc(len + 1);
	if (!copy)
		return agent_error_set(err, ENOMEM, "out of memory");
	memcpy(copy, text, len);
	copy[len] = '\0';

	struct json_tokener *tok = json_tokener_new_ex(TOKENER_DEPTH);
	if (!tok)
		return agent_error_set(err, ENOMEM, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	struct json_object *j = json_tokener_parse_ex(tok, copy, (int)len + 1);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);

	/* Success with no object is a JSON null. */
	if (jerr != json_tokener_success) {
		json_object_put(j);
		/* The tokenizer stops at the NUL we appended: an error there is a truncation. */
		if (jerr == json_tokener_continue || end >= len)
			return agent_error_set(err, EINVAL,
					       "invalid JSON: unexpected end of input");
		return agent_error_set(err, EINVAL, "invalid JSON at offset %zu: %s", end,
				       json_tokener_error_desc(jerr));
	}
	for (size_t i = end; i < len; i++) {
		if (!isspace((unsigned char)copy[i])) {
			json_object_put(j);
			return agent_error_set(err, EINVAL,
					       "invalid JSON: trailing data at offset %zu", i);
		}
	}
	*ret = j;
	return 0;
}

int jsonpb_parse(const char *text, size_t len, const ProtobufCMessageDescriptor *desc,
		 const struct jsonpb_options *opts, ProtobufCMessage **ret, agent_error_t **err)
{
	struct json_object *j = NULL;
	int r = jsonpb_parse_text(text, len, &j, err);
	if (r < 0)
		return r;
	r = jsonpb_from_json(j, desc, opts, ret, err);
	json_object_put(j);
	return r;
}
