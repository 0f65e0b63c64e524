/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A recursive-descent TOML reader (see toml.h for the subset). Recursion only
 * happens through arrays and inline tables, and every container is created at
 * its parent's depth + 1 with a hard bound, so the stack and toml_free() stay
 * shallow. Each loop consumes at least one byte per round or stops.
 */
#include "config/toml.h"
#include "config/decimal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How a table came to be; decides whether a header or a dotted key may (re)open it. */
enum {
	HOW_IMPLICIT = 0, /* an intermediate of a [a.b.c] header */
	HOW_HEADER, /* [a] (and the root) */
	HOW_DOTTED, /* a.b = ... */
	HOW_INLINE, /* a = { ... }: closed once written */
};

#define SCALAR_MAX 128 /* longest number/boolean token */

struct parser {
	const char *p, *end;
	unsigned line;
	size_t n_values;
	agent_error_t **err;
};

static int perr(struct parser *ps, const char *what)
{
	return agent_error_set(ps->err, EINVAL, "line %u: %s", ps->line, what);
}

static int oom(struct parser *ps)
{
	return agent_error_set(ps->err, ENOMEM, "line %u: out of memory", ps->line);
}

const char *toml_type_name(enum toml_type type)
{
	switch (type) {
	case TOML_STRING:
		return "string";
	case TOML_INT:
		return "integer";
	case TOML_FLOAT:
		return "float";
	case TOML_BOOL:
		return "boolean";
	case TOML_ARRAY:
		return "array";
	case TOML_TABLE:
		return "table";
	}
	return "value";
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

const struct toml_value *toml_get(const struct toml_value *t, const char *key)
{
	if (!t || t->type != TOML_TABLE || !key)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->keys[i], key) == 0)
			return t->items[i];
	return NULL;
}

static struct toml_value *find(struct toml_value *t, const char *key)
{
	return (struct toml_value *)toml_get(t, key);
}

/* A new value one level below parent_depth; containers are refused past TOML_MAX_DEPTH. */
static int new_value(struct parser *ps, enum toml_type type, unsigned parent_depth,
		     struct toml_value **ret)
{
	if ((type == TOML_ARRAY || type == TOML_TABLE) && parent_depth + 1 > TOML_MAX_DEPTH)
		return perr(ps, "nesting too deep");
	if (ps->n_values >= TOML_MAX_VALUES)
		return perr(ps, "too many values");
	struct toml_value *v = calloc(1, sizeof(*v));
	if (!v)
		return oom(ps);
	ps->n_values++;
	v->type = type;
	v->line = ps->line;
	v->depth = parent_depth + 1;
	*ret = v;
	return 0;
}

/* Appends item to container c, taking both item and key (NULL for arrays); frees them on error. */
static int append(struct parser *ps, struct toml_value *c, char *key, struct toml_value *item)
{
	if (c->type == TOML_TABLE && c->n >= TOML_MAX_KEYS) {
		free(key);
		toml_free(item);
		return perr(ps, "too many keys in one table");
	}
	/* Capacity: 8, then doubled whenever n reaches a power of two. */
	if (c->n == 0 || (c->n >= 8 && (c->n & (c->n - 1)) == 0)) {
		size_t cap = c->n == 0 ? 8 : c->n * 2;
		struct toml_value **items = realloc(c->items, cap * sizeof(*items));
		if (items)
			c->items = items;
		char **keys = NULL;
		if (items && c->type == TOML_TABLE) {
			keys = realloc(c->keys, cap * sizeof(*keys));
			if (keys)
				c->keys = keys;
		}
		if (!items || (c->type == TOML_TABLE && !keys)) {
			free(key);
			toml_free(item);
			return oom(ps);
		}
	}
	if (c->type == TOML_TABLE)
		c->keys[c->n] = key;
	c->items[c->n++] = item;
	return 0;
}

static bool at_end(const struct parser *ps)
{
	return ps->p >= ps->end;
}

static void skip_ws(struct parser *ps)
{
	while (!at_end(ps) && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
}

static void skip_comment(struct parser *ps)
{
	if (!at_end(ps) && *ps->p == '#')
		while (!at_end(ps) && *ps->p != '\n' && *ps->p != '\r')
			ps->p++;
}

/* A newline ("\n" or "\r\n") at p: consumes it. 0 if none, <0 on a bare '\r'. */
static int newline(struct parser *ps)
{
	if (at_end(ps))
		return 0;
	if (*ps->p == '\n') {
		ps->p++;
		ps->line++;
		return 1;
	}
	if (*ps->p == '\r') {
		if (ps->end - ps->p < 2 || ps->p[1] != '\n')
			return perr(ps, "carriage return without a line feed");
		ps->p += 2;
		ps->line++;
		return 1;
	}
	return 0;
}

/* Whitespace, newlines and comments, as allowed between array elements. */
static int skip_blank(struct parser *ps)
{
	for (;;) {
		skip_ws(ps);
		skip_comment(ps);
		int r = newline(ps);
		if (r <= 0)
			return r;
	}
}

/* After a statement: optional whitespace and comment, then a newline or the end. */
static int end_of_line(struct parser *ps)
{
	skip_ws(ps);
	skip_comment(ps);
	if (at_end(ps))
		return 0;
	int r = newline(ps);
	if (r < 0)
		return r;
	return r > 0 ? 0 : perr(ps, "unexpected text after the value");
}

static int hexval(char h)
{
	if (h >= '0' && h <= '9')
		return h - '0';
	if (h >= 'a' && h <= 'f')
		return h - 'a' + 10;
	if (h >= 'A' && h <= 'F')
		return h - 'A' + 10;
	return -1;
}

static size_t utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static bool is_control(unsigned char ch)
{
	return (ch < 0x20 && ch != '\t') || ch == 0x7f;
}

/* A basic ("...") or literal ('...') single-line string at p. */
static int parse_string(struct parser *ps, char **ret)
{
	const char q = *ps->p;
	if (ps->end - ps->p >= 3 && ps->p[1] == q && ps->p[2] == q)
		return perr(ps, "multi-line strings are not supported");
	ps->p++;

	/* First pass: where it ends, so the copy is sized by the string, not by the input. */
	const char *s = ps->p, *e = s;
	while (e < ps->end && *e != q && *e != '\n') {
		if (*e == '\\' && q == '"' && e + 1 < ps->end && e[1] != '\n')
			e++;
		e++;
	}
	if (e >= ps->end || *e != q)
		return perr(ps, "unterminated string");

	/* Decoded text is never longer: an escape of 2, 6 or 10 bytes yields at most 4. */
	char *out = malloc((size_t)(e - s) + 1), *o = out;
	if (!out)
		return oom(ps);
	const char *msg = NULL;
	while (s < e && !msg) {
		unsigned char ch = (unsigned char)*s++;
		if (is_control(ch)) {
			msg = "control character in a string";
			break;
		}
		if (ch != '\\' || q == '\'') {
			*o++ = (char)ch;
			continue;
		}
		ch = (unsigned char)*s++; /* the first pass saw it: s < e */
		switch (ch) {
		case 'b':
			*o++ = '\b';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case '"':
			*o++ = '"';
			break;
		case '\\':
			*o++ = '\\';
			break;
		case 'u':
		case 'U': {
			int nd = ch == 'u' ? 4 : 8;
			uint32_t cp = 0;
			if (e - s < nd) {
				msg = "short unicode escape";
				break;
			}
			for (int i = 0; i < nd && !msg; i++) {
				int d = hexval(*s++);
				if (d < 0)
					msg = "bad unicode escape";
				cp = cp << 4 | (uint32_t)(d & 0xf);
			}
			if (!msg && (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0))
				msg = "unicode escape is not a valid character";
			if (!msg)
				o += utf8_put(o, cp);
			break;
		}
		default:
			msg = "invalid escape in a string";
			break;
		}
	}
	if (msg) {
		free(out);
		return perr(ps, msg);
	}
	*o = '\0';
	ps->p = e + 1;
	*ret = out;
	return 0;
}

static bool is_bare(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-';
}

/* One part of a key: bare, "basic" or 'literal'. */
static int parse_key_part(struct parser *ps, char **ret)
{
	skip_ws(ps);
	if (!at_end(ps) && (*ps->p == '"' || *ps->p == '\''))
		return parse_string(ps, ret);
	const char *s = ps->p;
	while (!at_end(ps) && is_bare(*ps->p))
		ps->p++;
	if (ps->p == s)
		return perr(ps, "expected a key");
	*ret = strndup(s, (size_t)(ps->p - s));
	return *ret ? 0 : oom(ps);
}

/*
 * The table under key in t for a dotted key or a header's path, created with
 * `how` if absent. An existing table may be entered unless it was written
 * inline, or (for dotted keys) defined by a header. Takes key.
 */
static int descend(struct parser *ps, struct toml_value *t, char *key, int how,
		   struct toml_value **ret)
{
	struct toml_value *sub = find(t, key);
	if (sub) {
		free(key);
		if (sub->type != TOML_TABLE)
			return perr(ps,
				    sub->type == TOML_ARRAY
					    ? "key is an array (arrays of tables are not supported)"
					    : "key already holds a value");
		if (sub->how == HOW_INLINE || (how == HOW_DOTTED && sub->how == HOW_HEADER))
			return perr(ps, "cannot add keys to a table defined elsewhere");
		*ret = sub;
		return 0;
	}
	int r = new_value(ps, TOML_TABLE, t->depth, &sub);
	if (r < 0) {
		free(key);
		return r;
	}
	sub->how = how;
	r = append(ps, t, key, sub);
	if (r < 0)
		return r;
	*ret = sub;
	return 0;
}

static int parse_value(struct parser *ps, unsigned parent_depth, struct toml_value **ret);

/*
 * a.b.c: walks (creating, as `how` says) the tables before the last part, starting at *t;
 * leaves *t at the table that holds the last part and returns that part in *ret_key.
 */
static int parse_key_path(struct parser *ps, struct toml_value **t, int how, char **ret_key)
{
	char *key = NULL;
	int r = parse_key_part(ps, &key);
	if (r < 0)
		return r;
	for (;;) {
		skip_ws(ps);
		if (at_end(ps) || *ps->p != '.')
			break;
		ps->p++;
		r = descend(ps, *t, TAKE_PTR(key), how, t);
		if (r < 0)
			return r;
		r = parse_key_part(ps, &key);
		if (r < 0)
			return r;
	}
	*ret_key = key;
	return 0;
}

/* key(.key)* = value, into table t. */
static int parse_keyval(struct parser *ps, struct toml_value *t)
{
	char *key = NULL;
	int r = parse_key_path(ps, &t, HOW_DOTTED, &key);
	if (r < 0)
		return r;
	if (at_end(ps) || *ps->p != '=') {
		free(key);
		return perr(ps, "expected '=' after a key");
	}
	ps->p++;
	skip_ws(ps);
	if (find(t, key)) {
		free(key);
		return perr(ps, "duplicate key");
	}
	struct toml_value *v = NULL;
	r = parse_value(ps, t->depth, &v);
	if (r < 0) {
		free(key);
		return r;
	}
	return append(ps, t, key, v);
}

static bool is_digit_of(char ch, int base)
{
	int d = hexval(ch);
	return d >= 0 && d < base;
}

/* digit ('_'? digit)*, the digits copied to out[*on...]; false if there is not one digit. */
static bool scan_digits(const char **pp, const char *end, int base, char *out, size_t *on)
{
	const char *p = *pp;
	if (p >= end || !is_digit_of(*p, base))
		return false;
	while (p < end) {
		if (is_digit_of(*p, base)) {
			out[(*on)++] = *p++;
		} else if (*p == '_' && p + 1 < end && is_digit_of(p[1], base)) {
			p++;
		} else {
			break;
		}
	}
	*pp = p;
	return true;
}

/* true, false, integers and floats: a token of [A-Za-z0-9_+-.:]. */
static int parse_scalar(struct parser *ps, unsigned parent_depth, struct toml_value **ret)
{
	char tok[SCALAR_MAX + 1], clean[SCALAR_MAX + 1];
	size_t n = 0, cn = 0;
	while (!at_end(ps) &&
	       (is_bare(*ps->p) || *ps->p == '+' || *ps->p == '.' || *ps->p == ':')) {
		if (n == SCALAR_MAX)
			return perr(ps, "value too long");
		tok[n++] = *ps->p++;
	}
	tok[n] = '\0';
	if (n == 0)
		return perr(ps, "invalid value");

	struct toml_value *v;
	if (strcmp(tok, "true") == 0 || strcmp(tok, "false") == 0) {
		int r = new_value(ps, TOML_BOOL, parent_depth, &v);
		if (r < 0)
			return r;
		v->b = tok[0] == 't';
		*ret = v;
		return 0;
	}
	if (strchr(tok, ':') || (n >= 5 && strspn(tok, "0123456789") == 4 && tok[4] == '-'))
		return perr(ps, "dates and times are not supported");

	const char *p = tok, *end = tok + n;
	bool is_float = false;
	int base = 10;
	if (n >= 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'o' || tok[1] == 'b')) {
		base = tok[1] == 'x' ? 16 : tok[1] == 'o' ? 8 : 2;
		p += 2;
		if (!scan_digits(&p, end, base, clean, &cn) || p != end)
			return perr(ps, "invalid integer");
	} else {
		if (*p == '+' || *p == '-')
			clean[cn++] = *p++;
		if (strcmp(p, "inf") == 0 || strcmp(p, "nan") == 0) {
			int r = new_value(ps, TOML_FLOAT, parent_depth, &v);
			if (r < 0)
				return r;
			v->f = p[0] == 'i' ? (tok[0] == '-' ? -INFINITY : INFINITY) : NAN;
			*ret = v;
			return 0;
		}
		if (p < end && *p == '0' &&
		    (p + 1 == end || p[1] == '.' || p[1] == 'e' || p[1] == 'E')) {
			clean[cn++] = *p++;
		} else if (p >= end || *p == '0' || !scan_digits(&p, end, 10, clean, &cn)) {
			return perr(ps, p < end && *p == '0' ? "leading zero in a number"
							     : "invalid value");
		}
		if (p < end && *p == '.') {
			clean[cn++] = *p++;
			if (!scan_digits(&p, end, 10, clean, &cn))
				return perr(ps, "invalid float");
			is_float = true;
		}
		if (p < end && (*p == 'e' || *p == 'E')) {
			clean[cn++] = *p++;
			if (p < end && (*p == '+' || *p == '-'))
				clean[cn++] = *p++;
			if (!scan_digits(&p, end, 10, clean, &cn))
				return perr(ps, "invalid float");
			is_float = true;
		}
		if (p != end)
			return perr(ps, "invalid value");
	}
	clean[cn] = '\0';

	char *endp;
	errno = 0;
	if (is_float) {
		double d;
		if (decimal_to_double(clean, &d) < 0)
			return perr(ps, "float out of range");
		int r = new_value(ps, TOML_FLOAT, parent_depth, &v);
		if (r < 0)
			return r;
		v->f = d;
	} else {
		long long i;
		if (base == 10) {
			i = strtoll(clean, &endp, 10);
		} else {
			unsigned long long u = strtoull(clean, &endp, base);
			if (u > INT64_MAX)
				errno = ERANGE;
			i = (long long)u;
		}
		if (*endp || errno)
			return perr(ps, "integer out of range");
		int r = new_value(ps, TOML_INT, parent_depth, &v);
		if (r < 0)
			return r;
		v->i = i;
	}
	*ret = v;
	return 0;
}

static int parse_array(struct parser *ps, unsigned parent_depth, struct toml_value **ret)
{
	struct toml_value *a = NULL;
	int r = new_value(ps, TOML_ARRAY, parent_depth, &a);
	if (r < 0)
		return r;
	ps->p++; /* '[' */
	for (;;) {
		r = skip_blank(ps);
		if (r < 0)
			break;
		if (at_end(ps)) {
			r = perr(ps, "unterminated array");
			break;
		}
		if (*ps->p == ']') {
			ps->p++;
			*ret = a;
			return 0;
		}
		struct toml_value *v = NULL;
		r = parse_value(ps, a->depth, &v);
		if (r < 0)
			break;
		r = append(ps, a, NULL, v);
		if (r < 0)
			break;
		r = skip_blank(ps);
		if (r < 0)
			break;
		if (!at_end(ps) && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (!at_end(ps) && *ps->p == ']')
			continue; /* closed at the top of the loop */
		r = perr(ps, at_end(ps) ? "unterminated array" : "expected ',' or ']' in an array");
		break;
	}
	toml_free(a);
	return r;
}

static int parse_inline_table(struct parser *ps, unsigned parent_depth, struct toml_value **ret)
{
	struct toml_value *t = NULL;
	int r = new_value(ps, TOML_TABLE, parent_depth, &t);
	if (r < 0)
		return r;
	t->how = HOW_DOTTED; /* keys may be added while it is being written */
	ps->p++; /* '{' */
	skip_ws(ps);
	if (!at_end(ps) && *ps->p == '}') {
		ps->p++;
		t->how = HOW_INLINE;
		*ret = t;
		return 0;
	}
	for (;;) {
		r = parse_keyval(ps, t);
		if (r < 0)
			break;
		skip_ws(ps);
		if (!at_end(ps) && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (!at_end(ps) && *ps->p == '}') {
			ps->p++;
			t->how = HOW_INLINE;
			*ret = t;
			return 0;
		}
		r = perr(ps, "expected ',' or '}' in an inline table");
		break;
	}
	toml_free(t);
	return r;
}

static int parse_value(struct parser *ps, unsigned parent_depth, struct toml_value **ret)
{
	if (at_end(ps) || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '#')
		return perr(ps, "missing value");
	switch (*ps->p) {
	case '"':
	case '\'': {
		struct toml_value *v = NULL;
		int r = new_value(ps, TOML_STRING, parent_depth, &v);
		if (r < 0)
			return r;
		r = parse_string(ps, &v->s);
		if (r < 0) {
			toml_free(v);
			return r;
		}
		*ret = v;
		return 0;
	}
	case '[':
		return parse_array(ps, parent_depth, ret);
	case '{':
		return parse_inline_table(ps, parent_depth, ret);
	default:
		return parse_scalar(ps, parent_depth, ret);
	}
}

/* [a.b.c]: the table becomes the current one. */
static int parse_header(struct parser *ps, struct toml_value *root, struct toml_value **cur)
{
	ps->p++; /* '[' */
	if (!at_end(ps) && *ps->p == '[')
		return perr(ps, "arrays of tables are not supported");
	struct toml_value *t = root;
	char *key = NULL;
	int r = parse_key_path(ps, &t, HOW_IMPLICIT, &key);
	if (r < 0)
		return r;
	if (at_end(ps) || *ps->p != ']') {
		free(key);
		return perr(ps, "expected ']' after a table name");
	}
	ps->p++;
	struct toml_value *existing = find(t, key);
	if (existing) {
		free(key);
		if (existing->type != TOML_TABLE || existing->how != HOW_IMPLICIT)
			return perr(ps, "table defined twice");
		existing->how = HOW_HEADER;
		*cur = existing;
		return 0;
	}
	r = descend(ps, t, key, HOW_HEADER, &t);
	if (r < 0)
		return r;
	*cur = t;
	return 0;
}

int toml_parse(const char *text, size_t len, struct toml_value **ret, agent_error_t **err)
{
	struct parser ps = {.p = text, .end = text + len, .line = 1, .err = err};

	if (len > TOML_MAX_INPUT)
		return agent_error_set(err, E2BIG, "larger than %u bytes", TOML_MAX_INPUT);
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		unsigned line = 1;
		for (const char *p = text; p < nul; p++)
			line += *p == '\n';
		return agent_error_set(err, EINVAL, "line %u: NUL byte", line);
	}
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		ps.p += 3; /* a UTF-8 byte order mark */

	struct toml_value *root = NULL, *cur;
	int r = new_value(&ps, TOML_TABLE, 0, &root);
	if (r < 0)
		return r;
	root->depth = 0;
	root->how = HOW_HEADER;
	cur = root;
	while (r >= 0) {
		skip_ws(&ps);
		if (at_end(&ps))
			break;
		/* Each statement ends its line; a blank or comment line is only that end. */
		if (*ps.p == '[')
			r = parse_header(&ps, root, &cur);
		else if (*ps.p != '#' && *ps.p != '\n' && *ps.p != '\r')
			r = parse_keyval(&ps, cur);
		if (r >= 0)
			r = end_of_line(&ps);
	}
	if (r < 0) {
		toml_free(root);
		return r;
	}
	*ret = root;
	return 0;
}
