/* SPDX-License-Identifier: Apache-2.0 */
#include "toml.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const char *p, *end;
	unsigned line;
	agent_error_t **err;
	int depth;
};

static int perr(struct parser *ps, const char *what)
{
	return agent_error_set(ps->err, EINVAL, "line %u: %s", ps->line, what);
}

struct toml_value *toml_free(struct toml_value *v)
{
	if (!v)
		return NULL;
	free(v->s);
	for (size_t i = 0; i < v->n; i++) {
		if (v->keys)
			free(v->keys[i]);
		toml_free(v->items[i]);
	}
	free(v->keys);
	free(v->items);
	free(v);
	return NULL;
}

static struct toml_value *new_value(enum toml_type t)
{
	struct toml_value *v = calloc(1, sizeof(*v));
	if (v)
		v->type = t;
	return v;
}

const struct toml_value *toml_get(const struct toml_value *t, const char *key)
{
	if (!t || t->type != TOML_TABLE)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->keys[i], key) == 0)
			return t->items[i];
	return NULL;
}

/* Appends item (owned) under key (owned, may be NULL for arrays). */
static int append(struct toml_value *c, char *key, struct toml_value *item)
{
	if (c->n % 8 == 0) {
		struct toml_value **it = realloc(c->items, (c->n + 8) * sizeof(*it));
		if (!it)
			return -ENOMEM;
		c->items = it;
		if (c->type == TOML_TABLE) {
			char **k = realloc(c->keys, (c->n + 8) * sizeof(*k));
			if (!k)
				return -ENOMEM;
			c->keys = k;
		}
	}
	if (c->type == TOML_TABLE)
		c->keys[c->n] = key;
	c->items[c->n++] = item;
	return 0;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
}

static void skip_comment(struct parser *ps)
{
	if (ps->p < ps->end && *ps->p == '#')
		while (ps->p < ps->end && *ps->p != '\n')
			ps->p++;
}

/* Whitespace, newlines and comments (inside arrays). */
static void skip_all(struct parser *ps)
{
	for (;;) {
		skip_ws(ps);
		skip_comment(ps);
		if (ps->p < ps->end && (*ps->p == '\n' || *ps->p == '\r')) {
			if (*ps->p == '\n')
				ps->line++;
			ps->p++;
			continue;
		}
		return;
	}
}

static int utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = 0xc0 | cp >> 6;
		out[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = 0xe0 | cp >> 12;
		out[1] = 0x80 | ((cp >> 6) & 0x3f);
		out[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	out[0] = 0xf0 | cp >> 18;
	out[1] = 0x80 | ((cp >> 12) & 0x3f);
	out[2] = 0x80 | ((cp >> 6) & 0x3f);
	out[3] = 0x80 | (cp & 0x3f);
	return 4;
}

static int parse_string(struct parser *ps, char **ret)
{
	char q = *ps->p;
	if (ps->end - ps->p >= 3 && ps->p[1] == q && ps->p[2] == q)
		return perr(ps, "multi-line strings are not supported");
	ps->p++;
	/* Output is never longer than the input. */
	char *out = malloc(ps->end - ps->p + 1), *o = out;
	if (!out)
		return -ENOMEM;
	while (ps->p < ps->end && *ps->p != q) {
		char c = *ps->p++;
		if (c == '\n' || (c != '\t' && (unsigned char)c < 0x20) || c == 0x7f) {
			free(out);
			return perr(ps, "control character in string");
		}
		if (c != '\\' || q == '\'') {
			*o++ = c;
			continue;
		}
		if (ps->p >= ps->end)
			break;
		c = *ps->p++;
		switch (c) {
		case 'n':
			*o++ = '\n';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case '"':
			*o++ = '"';
			break;
		case '\\':
			*o++ = '\\';
			break;
		case 'u':
		case 'U': {
			int nd = c == 'u' ? 4 : 8;
			uint32_t cp = 0;
			if (ps->end - ps->p < nd) {
				free(out);
				return perr(ps, "short unicode escape");
			}
			for (int i = 0; i < nd; i++) {
				char h = *ps->p++;
				int d = h >= '0' && h <= '9'   ? h - '0'
					: h >= 'a' && h <= 'f' ? h - 'a' + 10
					: h >= 'A' && h <= 'F' ? h - 'A' + 10
							       : -1;
				if (d < 0) {
					free(out);
					return perr(ps, "bad unicode escape");
				}
				cp = cp << 4 | d;
			}
			if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0) {
				free(out);
				return perr(ps, "invalid unicode code point");
			}
			/* An escape is 6 or 10 input bytes and at most 4 output bytes. */
			o += utf8_put(o, cp);
			break;
		}
		default:
			free(out);
			return perr(ps, "invalid escape in string");
		}
	}
	if (ps->p >= ps->end) {
		free(out);
		return perr(ps, "unterminated string");
	}
	ps->p++;
	*o = '\0';
	*ret = out;
	return 0;
}

static bool is_bare(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* One key part: bare or quoted. */
static int parse_key_part(struct parser *ps, char **ret)
{
	skip_ws(ps);
	if (ps->p < ps->end && (*ps->p == '"' || *ps->p == '\''))
		return parse_string(ps, ret);
	const char *s = ps->p;
	while (ps->p < ps->end && is_bare(*ps->p))
		ps->p++;
	if (ps->p == s)
		return perr(ps, "expected a key");
	*ret = strndup(s, ps->p - s);
	return *ret ? 0 : -ENOMEM;
}

/* The sub-table key of t, created if absent; an error if key holds a non-table. */
static int descend(struct parser *ps, struct toml_value *t, char *key, struct toml_value **ret)
{
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->keys[i], key) == 0) {
			free(key);
			if (t->items[i]->type != TOML_TABLE)
				return perr(ps, "key is already defined as a value");
			*ret = t->items[i];
			return 0;
		}
	}
	struct toml_value *n = new_value(TOML_TABLE);
	if (!n || append(t, key, n) < 0) {
		free(key);
		toml_free(n);
		return -ENOMEM;
	}
	*ret = n;
	return 0;
}

static int parse_value(struct parser *ps, struct toml_value **ret);

/* key(.key)* = value, into table t. */
static int parse_keyval(struct parser *ps, struct toml_value *t)
{
	char *key = NULL;
	int r;
	for (;;) {
		r = parse_key_part(ps, &key);
		if (r < 0)
			return r;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == '.') {
			ps->p++;
			r = descend(ps, t, key, &t);
			if (r < 0)
				return r;
			key = NULL;
			continue;
		}
		break;
	}
	if (ps->p >= ps->end || *ps->p != '=') {
		free(key);
		return perr(ps, "expected '='");
	}
	ps->p++;
	skip_ws(ps);
	if (toml_get(t, key)) {
		free(key);
		return perr(ps, "duplicate key");
	}
	struct toml_value *v = NULL;
	r = parse_value(ps, &v);
	if (r < 0) {
		free(key);
		return r;
	}
	if (append(t, key, v) < 0) {
		free(key);
		toml_free(v);
		return -ENOMEM;
	}
	return 0;
}

static int parse_number(struct parser *ps, struct toml_value **ret)
{
	char buf[64];
	size_t n = 0;
	while (ps->p < ps->end && n < sizeof(buf) - 1 &&
	       (is_bare(*ps->p) || *ps->p == '+' || *ps->p == '.'))
		buf[n++] = *ps->p++;
	buf[n] = '\0';
	if (n == 0 || n == sizeof(buf) - 1)
		return perr(ps, "invalid value");
	if (strcmp(buf, "true") == 0 || strcmp(buf, "false") == 0) {
		struct toml_value *v = new_value(TOML_BOOL);
		if (!v)
			return -ENOMEM;
		v->b = buf[0] == 't';
		*ret = v;
		return 0;
	}
	/* Underscores must sit between digits. */
	char clean[64];
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '_') {
			if (i == 0 || i + 1 == n || !is_bare(buf[i - 1]) || buf[i - 1] == '_' ||
			    buf[i + 1] == '_')
				return perr(ps, "misplaced '_' in number");
			continue;
		}
		clean[m++] = buf[i];
	}
	clean[m] = '\0';
	const char *s = clean;
	bool neg = false;
	if (*s == '+' || *s == '-') {
		neg = *s == '-';
		s++;
	}
	int base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
		if (s != clean)
			return perr(ps, "sign on a prefixed integer");
		base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
		s += 2;
	}
	if (!*s)
		return perr(ps, "invalid number");
	char *endp;
	errno = 0;
	if (base == 10 && strpbrk(s, ".eE") && !strpbrk(s, "xX")) {
		double d = strtod(clean, &endp);
		if (*endp || errno || !isfinite(d))
			return perr(ps, "invalid float");
		struct toml_value *v = new_value(TOML_FLOAT);
		if (!v)
			return -ENOMEM;
		v->f = d;
		*ret = v;
		return 0;
	}
	if (*s == '+' || *s == '-')
		return perr(ps, "invalid number");
	unsigned long long u = strtoull(s, &endp, base);
	if (*endp || errno || u > (unsigned long long)INT64_MAX + (neg ? 1 : 0))
		return perr(ps, "invalid or out-of-range integer");
	if (base == 10 && s[0] == '0' && s[1])
		return perr(ps, "leading zero in integer");
	struct toml_value *v = new_value(TOML_INT);
	if (!v)
		return -ENOMEM;
	v->i = neg ? (int64_t)(0 - u) : (int64_t)u;
	*ret = v;
	return 0;
}

static int parse_array(struct parser *ps, struct toml_value **ret)
{
	struct toml_value *a = new_value(TOML_ARRAY);
	if (!a)
		return -ENOMEM;
	ps->p++;
	for (;;) {
		skip_all(ps);
		if (ps->p >= ps->end) {
			toml_free(a);
			return perr(ps, "unterminated array");
		}
		if (*ps->p == ']') {
			ps->p++;
			break;
		}
		struct toml_value *v = NULL;
		int r = parse_value(ps, &v);
		if (r < 0 || append(a, NULL, v) < 0) {
			toml_free(v);
			toml_free(a);
			return r < 0 ? r : -ENOMEM;
		}
		skip_all(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			break;
		}
		toml_free(a);
		return perr(ps, "expected ',' or ']' in array");
	}
	*ret = a;
	return 0;
}

static int parse_inline_table(struct parser *ps, struct toml_value **ret)
{
	struct toml_value *t = new_value(TOML_TABLE);
	if (!t)
		return -ENOMEM;
	t->defined = true;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		*ret = t;
		return 0;
	}
	for (;;) {
		int r = parse_keyval(ps, t);
		if (r < 0) {
			toml_free(t);
			return r;
		}
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			break;
		}
		toml_free(t);
		return perr(ps, "expected ',' or '}' in inline table");
	}
	*ret = t;
	return 0;
}

static int parse_value(struct parser *ps, struct toml_value **ret)
{
	int r;
	if (ps->p >= ps->end)
		return perr(ps, "missing value");
	if (++ps->depth > TOML_MAX_DEPTH) {
		ps->depth--;
		return perr(ps, "nesting too deep");
	}
	char c = *ps->p;
	if (c == '"' || c == '\'') {
		struct toml_value *v = new_value(TOML_STRING);
		if (!v) {
			r = -ENOMEM;
		} else {
			r = parse_string(ps, &v->s);
			if (r < 0)
				v = toml_free(v);
		}
		*ret = v;
	} else if (c == '[') {
		r = parse_array(ps, ret);
	} else if (c == '{') {
		r = parse_inline_table(ps, ret);
	} else {
		r = parse_number(ps, ret);
	}
	ps->depth--;
	return r;
}

/* After a statement only a comment may follow on the line. */
static int end_of_line(struct parser *ps)
{
	skip_ws(ps);
	skip_comment(ps);
	if (ps->p < ps->end && *ps->p == '\r')
		ps->p++;
	if (ps->p >= ps->end)
		return 0;
	if (*ps->p != '\n')
		return perr(ps, "unexpected text after a value");
	ps->p++;
	ps->line++;
	return 0;
}

static int parse_header(struct parser *ps, struct toml_value *root, struct toml_value **cur)
{
	ps->p++;
	if (ps->p < ps->end && *ps->p == '[')
		return perr(ps, "arrays of tables are not supported");
	struct toml_value *t = root;
	for (;;) {
		char *key = NULL;
		int r = parse_key_part(ps, &key);
		if (r < 0)
			return r;
		r = descend(ps, t, key, &t);
		if (r < 0)
			return r;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == '.') {
			ps->p++;
			continue;
		}
		break;
	}
	if (ps->p >= ps->end || *ps->p != ']')
		return perr(ps, "expected ']'");
	ps->p++;
	if (t->defined)
		return perr(ps, "table defined twice");
	t->defined = true;
	*cur = t;
	return 0;
}

int toml_parse(const char *text, size_t len, struct toml_value **ret, agent_error_t **err)
{
	struct parser ps = {.p = text, .end = text + len, .line = 1, .err = err};
	if (len > TOML_MAX_INPUT)
		return agent_error_set(err, E2BIG, "configuration file larger than %u bytes",
				       TOML_MAX_INPUT);
	if (memchr(text, '\0', len))
		return agent_error_set(err, EINVAL, "NUL byte in configuration file");
	struct toml_value *root = new_value(TOML_TABLE), *cur = root;
	if (!root)
		return -ENOMEM;
	root->defined = true;
	int r = 0;
	while (r == 0) {
		skip_all(&ps);
		if (ps.p >= ps.end)
			break;
		if (*ps.p == '[')
			r = parse_header(&ps, root, &cur);
		else
			r = parse_keyval(&ps, cur);
		if (r == 0)
			r = end_of_line(&ps);
	}
	if (r < 0) {
		toml_free(root);
		if (r == -ENOMEM)
			agent_error_set(err, ENOMEM, "out of memory");
		return r;
	}
	*ret = root;
	return 0;
}
