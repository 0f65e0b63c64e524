/* SPDX-License-Identifier: Apache-2.0 */
/* The TOML reader: every kind of value, the structure rules, errors with line numbers, bounds. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/decimal.h"
#include "config/toml.h"
#include "harness.h"

static struct toml_value *parse_ok_len(const char *s, size_t len)
{
	struct toml_value *v = NULL;
	_cleanup_error_ agent_error_t *err = NULL;
	if (toml_parse(s, len, &v, &err) < 0)
		FAIL("parse failed: %s\n---\n%s\n---", err ? err->msg : "?", s);
	ASSERT_NOT_NULL(v);
	ASSERT_EQ(v->type, TOML_TABLE);
	return v;
}

static struct toml_value *parse_ok(const char *s)
{
	return parse_ok_len(s, strlen(s));
}

/* Must fail with -EINVAL (or want_errno) and an error naming `needle` (e.g. "line 2:"). */
static void parse_bad_len(const char *s, size_t len, const char *needle)
{
	struct toml_value *v = NULL;
	_cleanup_error_ agent_error_t *err = NULL;
	int r = toml_parse(s, len, &v, &err);
	if (r >= 0)
		FAIL("accepted bad input:\n---\n%s\n---", s);
	ASSERT_NULL(v);
	ASSERT_NOT_NULL(err);
	ASSERT_NOT_NULL(err->msg);
	if (needle && !strstr(err->msg, needle))
		FAIL("error \"%s\" does not contain \"%s\" for:\n---\n%s\n---", err->msg, needle,
		     s);
}

static void parse_bad(const char *s, const char *needle)
{
	parse_bad_len(s, strlen(s), needle);
}

static const struct toml_value *path(const struct toml_value *t, const char *a, const char *b)
{
	const struct toml_value *v = toml_get(t, a);
	if (v && b)
		v = toml_get(v, b);
	if (!v)
		FAIL("no value at %s%s%s", a, b ? "." : "", b ? b : "");
	return v;
}

TEST(toml_scalars)
{
	struct toml_value *v = parse_ok("# comment\n"
					"s = \"x\\ty\\u00e9\\\"\\\\ \\b\\f\\r\\n\"  # trailing\n"
					"u = \"\\U0001F600\"\n"
					"lit = 'C:\\raw\\n \"q\"'\n"
					"empty = \"\"\n"
					"neg = -42\n"
					"pos = +17\n"
					"zero = 0\n"
					"hex = 0x1f_FF\n"
					"oct = 0o755\n"
					"bin = 0b1010\n"
					"sep = 1_000_000\n"
					"max = 9223372036854775807\n"
					"min = -9223372036854775808\n"
					"t = true\n"
					"f = false\n"
					"fl = 1.5e3\n"
					"fl2 = -0.25\n"
					"fl3 = 6E-2\n"
					"inf = -inf\n"
					"nan = nan\n");
	ASSERT_STREQ(toml_get(v, "s")->s, "x\ty\xc3\xa9\"\\ \b\f\r\n");
	ASSERT_STREQ(toml_get(v, "u")->s, "\xf0\x9f\x98\x80");
	ASSERT_STREQ(toml_get(v, "lit")->s, "C:\\raw\\n \"q\"");
	ASSERT_STREQ(toml_get(v, "empty")->s, "");
	ASSERT_EQ(toml_get(v, "neg")->i, -42);
	ASSERT_EQ(toml_get(v, "pos")->i, 17);
	ASSERT_EQ(toml_get(v, "zero")->i, 0);
	ASSERT_EQ(toml_get(v, "hex")->i, 0x1fff);
	ASSERT_EQ(toml_get(v, "oct")->i, 0755);
	ASSERT_EQ(toml_get(v, "bin")->i, 10);
	ASSERT_EQ(toml_get(v, "sep")->i, 1000000);
	ASSERT_TRUE(toml_get(v, "max")->i == INT64_MAX);
	ASSERT_TRUE(toml_get(v, "min")->i == INT64_MIN);
	ASSERT_EQ(toml_get(v, "t")->type, TOML_BOOL);
	ASSERT_TRUE(toml_get(v, "t")->b);
	ASSERT_FALSE(toml_get(v, "f")->b);
	ASSERT_EQ(toml_get(v, "fl")->type, TOML_FLOAT);
	ASSERT_TRUE(toml_get(v, "fl")->f == 1500.0);
	ASSERT_TRUE(toml_get(v, "fl2")->f == -0.25);
	ASSERT_TRUE(toml_get(v, "fl3")->f == 0.06);
	ASSERT_TRUE(toml_get(v, "inf")->f < -1e308);
	ASSERT_TRUE(toml_get(v, "nan")->f != toml_get(v, "nan")->f);
	ASSERT_EQ(toml_get(v, "neg")->line, 6);
	ASSERT_NULL(toml_get(v, "missing"));
	ASSERT_NULL(toml_get(toml_get(v, "neg"), "x")); /* not a table */
	ASSERT_EQ(v->n, 20);
	ASSERT_STREQ(v->keys[0], "s"); /* document order */
	toml_free(v);
}

TEST(toml_tables_arrays_keys)
{
	struct toml_value *v = parse_ok("top = 1\n"
					"j.k = 5\n"
					"j.l.m = 6\n"
					"\"quoted key\" = 1\n"
					"'lit.key' = 2\n"
					"\"\" = 3\n"
					"a = [1, [2, 3], \"s\", {x = 1},]\n"
					"multi = [ # comment\n"
					"  1,\n"
					"\n"
					"  2 # two\n"
					"]\n"
					"empty = []\n"
					"it = { secs = 3, nanos = 0, in.ner = true }\n"
					"eit = {}\n"
					"[t]\n"
					"u = false\n"
					"[t.sub]\n"
					"w = 2\n"
					"[ x . \"y z\" ]\n"
					"k = 'v'\n"
					"[impl.child]\n"
					"c = 1\n"
					"[impl]\n"
					"d = 2\n");
	ASSERT_EQ(path(v, "j", "k")->i, 5);
	ASSERT_EQ(path(path(v, "j", "l"), "m", NULL)->i, 6);
	ASSERT_EQ(path(v, "quoted key", NULL)->i, 1);
	ASSERT_EQ(path(v, "lit.key", NULL)->i, 2);
	ASSERT_EQ(path(v, "", NULL)->i, 3);
	const struct toml_value *a = path(v, "a", NULL);
	ASSERT_EQ(a->type, TOML_ARRAY);
	ASSERT_EQ(a->n, 4);
	ASSERT_EQ(a->items[1]->items[1]->i, 3);
	ASSERT_STREQ(a->items[2]->s, "s");
	ASSERT_EQ(path(a->items[3], "x", NULL)->i, 1);
	const struct toml_value *m = path(v, "multi", NULL);
	ASSERT_EQ(m->n, 2);
	ASSERT_EQ(m->items[1]->i, 2);
	ASSERT_EQ(m->items[1]->line, 11);
	ASSERT_EQ(path(v, "empty", NULL)->n, 0);
	ASSERT_EQ(path(v, "it", "secs")->i, 3);
	ASSERT_TRUE(path(path(v, "it", "in"), "ner", NULL)->b);
	ASSERT_EQ(path(v, "eit", NULL)->type, TOML_TABLE);
	ASSERT_FALSE(path(v, "t", "u")->b);
	ASSERT_EQ(path(path(v, "t", "sub"), "w", NULL)->i, 2);
	ASSERT_STREQ(path(path(v, "x", "y z"), "k", NULL)->s, "v");
	ASSERT_EQ(path(path(v, "impl", "child"), "c", NULL)->i, 1);
	ASSERT_EQ(path(v, "impl", "d")->i, 2);
	/* Keys after a header belong to it, not to the root. */
	ASSERT_NULL(toml_get(v, "u"));
	ASSERT_NULL(toml_get(v, "d"));
	toml_free(v);
}

TEST(toml_layout_variants)
{
	/* Empty, comments only, CRLF, a BOM, no final newline, tabs. */
	toml_free(parse_ok(""));
	toml_free(parse_ok("# only a comment"));
	toml_free(parse_ok("\n\n   \n\t\n"));
	struct toml_value *v = parse_ok("\xef\xbb\xbf"
					"a = 1\r\n"
					"# c\r\n"
					"\tb\t=\t\"x\"\t# c\r\n"
					"c = 3");
	ASSERT_EQ(toml_get(v, "a")->i, 1);
	ASSERT_STREQ(toml_get(v, "b")->s, "x");
	ASSERT_EQ(toml_get(v, "c")->i, 3);
	ASSERT_EQ(toml_get(v, "c")->line, 4);
	toml_free(v);
	/* Not NUL-terminated: the length is what counts. */
	v = parse_ok_len("a = 12345", 6);
	ASSERT_EQ(toml_get(v, "a")->i, 12);
	toml_free(v);
}

TEST(toml_errors_name_the_line)
{
	static const struct {
		const char *text;
		const char *needle;
	} cases[] = {
		{"a = 1\nb = \"unterminated\n", "line 2: unterminated string"},
		{"a = 'unterminated\n", "line 1: unterminated string"},
		{"a = \"ends with backslash\\", "line 1: unterminated string"},
		{"\n\na = \"bad \\q escape\"\n", "line 3: invalid escape"},
		{"a = \"\\u12\"\n", "line 1: short unicode escape"},
		{"a = \"\\u12G4\"\n", "line 1: bad unicode escape"},
		{"a = \"\\u0000\"\n", "line 1: unicode escape"},
		{"a = \"\\ud800\"\n", "line 1: unicode escape"},
		{"a = \"\\U00110000\"\n", "line 1: unicode escape"},
		{"a = \"tab\tok but bell \a no\"\n", "line 1: control character"},
		{"a = \"cr\rin string\"\n", "line 1: control character"},
		{"a = 1\na = 2\n", "line 2: duplicate key"},
		{"a.b = 1\na.b = 2\n", "line 2: duplicate key"},
		{"[t]\nx = 1\n[t]\n", "line 3: table defined twice"},
		{"a = 1\n[a]\n", "line 2: table defined twice"},
		{"a = 1\na.b = 2\n", "line 2: key already holds a value"},
		{"a = {x = 1}\na.y = 2\n", "line 2: cannot add keys"},
		{"a = {x = 1}\n[a.b]\n", "line 2: cannot add keys"},
		{"a.b = 1\n[a]\n", "line 2: table defined twice"},
		{"[a.b]\n[a]\nb.c = 1\n", "line 3: cannot add keys"},
		{"a = 1 b = 2\n", "line 1: unexpected text"},
		{"[t] x = 1\n", "line 1: unexpected text"},
		{"a = \n", "line 1: missing value"},
		{"a = # nothing\n", "line 1: missing value"},
		{"a =", "line 1: missing value"},
		{"a\n", "line 1: expected '='"},
		{"a b = 1\n", "line 1: expected '='"},
		{"= 1\n", "line 1: expected a key"},
		{"a. = 1\n", "line 1: expected a key"},
		{"[]\n", "line 1: expected a key"},
		{"[a\n", "line 1: expected ']'"},
		{"x = 1\n[[arr]]\n", "line 2: arrays of tables"},
		{"a = [1, 2\n", "line 2: unterminated array"},
		{"a = [1 2]\n", "line 1: expected ',' or ']'"},
		{"a = [,]\n", "line 1: invalid value"},
		{"a = {x = 1\n", "line 1: expected ',' or '}'"},
		{"a = {x = 1,}\n", "line 1: expected a key"},
		{"a = {x = 1,\ny = 2}\n", "line 1: expected a key"},
		{"a = {x = 1, x = 2}\n", "line 1: duplicate key"},
		{"a = 01\n", "line 1: leading zero"},
		{"a = 00\n", "line 1: leading zero"},
		{"a = 1__0\n", "line 1: invalid value"},
		{"a = 1_\n", "line 1: invalid value"},
		{"a = _1\n", "line 1: invalid value"},
		{"a = 1.\n", "line 1: invalid float"},
		{"a = .5\n", "line 1: invalid value"},
		{"a = 1e\n", "line 1: invalid float"},
		{"a = 0x\n", "line 1: invalid"},
		{"a = 0xG1\n", "line 1: invalid integer"},
		{"a = -0x1\n", "line 1:"},
		{"a = 0b102\n", "line 1: invalid integer"},
		{"a = 9223372036854775808\n", "line 1: integer out of range"},
		{"a = 0xffffffffffffffffff\n", "line 1: integer out of range"},
		{"a = 1e999\n", "line 1: float out of range"},
		{"a = tru\n", "line 1: invalid value"},
		{"a = True\n", "line 1: invalid value"},
		{"a = bare\n", "line 1: invalid value"},
		{"a = 1979-05-27\n", "line 1: dates and times"},
		{"a = 07:32:00\n", "line 1: dates and times"},
		{"a = \"\"\"multi\"\"\"\n", "line 1: multi-line strings"},
		{"a = '''multi'''\n", "line 1: multi-line strings"},
		{"a = 1\rb = 2\n", "line 1: carriage return"},
		{"a = @\n", "line 1: invalid value"},
		{"a = 1\n\n\n\n\nb = [\n1,\n2,\n\"x\n", "line 9: unterminated string"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		parse_bad(cases[i].text, cases[i].needle);

	static const char nul[] = "a = 1\nb = 2\0c = 3\n";
	parse_bad_len(nul, sizeof(nul) - 1, "line 2: NUL byte");
}

/* "a = [[[...1...]]]" with n brackets. */
static char *nested_arrays(int n)
{
	size_t len = 4 + 2 * (size_t)n + 3;
	char *s = malloc(len);
	ASSERT_NOT_NULL(s);
	size_t k = 0;
	memcpy(s, "a = ", 4);
	k = 4;
	for (int i = 0; i < n; i++)
		s[k++] = '[';
	s[k++] = '1';
	for (int i = 0; i < n; i++)
		s[k++] = ']';
	s[k++] = '\n';
	s[k] = '\0';
	return s;
}

/* A key of n dotted parts ("a.a.a... = 1") or, with header, "[a.a.a...]". */
static char *dotted(int n, bool header)
{
	size_t len = 2 * (size_t)n + 8;
	char *s = malloc(len);
	ASSERT_NOT_NULL(s);
	size_t k = 0;
	if (header)
		s[k++] = '[';
	for (int i = 0; i < n; i++) {
		if (i)
			s[k++] = '.';
		s[k++] = 'a';
	}
	memcpy(s + k, header ? "]\n" : " = 1\n", header ? 3 : 6);
	return s;
}

TEST(toml_depth_is_bounded)
{
	/* The root is depth 0; 32 nested containers are fine, 33 are not. */
	_cleanup_free_ char *ok = nested_arrays(TOML_MAX_DEPTH - 1);
	toml_free(parse_ok(ok)); /* under the root table: depths 1..31 */
	_cleanup_free_ char *edge = nested_arrays(TOML_MAX_DEPTH);
	toml_free(parse_ok(edge));
	_cleanup_free_ char *deep = nested_arrays(TOML_MAX_DEPTH + 1);
	parse_bad(deep, "line 1: nesting too deep");
	_cleanup_free_ char *very = nested_arrays(100000);
	parse_bad(very, "nesting too deep");

	_cleanup_free_ char *d_ok = dotted(TOML_MAX_DEPTH, false);
	toml_free(parse_ok(d_ok)); /* 31 tables and a value */
	_cleanup_free_ char *d_bad = dotted(TOML_MAX_DEPTH + 2, false);
	parse_bad(d_bad, "nesting too deep");
	/* This used to overflow the stack when freeing a 200000-deep tree. */
	_cleanup_free_ char *d_huge = dotted(200000, false);
	parse_bad(d_huge, "nesting too deep");
	_cleanup_free_ char *h_bad = dotted(TOML_MAX_DEPTH + 1, true);
	parse_bad(h_bad, "nesting too deep");
	/* Inline tables count too: 32 levels are fine, 33 are not. */
	for (int levels = TOML_MAX_DEPTH; levels <= TOML_MAX_DEPTH + 1; levels++) {
		char doc[512];
		size_t k = 0;
		for (int i = 0; i < levels; i++)
			k += snprintf(doc + k, sizeof(doc) - k, "k%d = {", i);
		k += snprintf(doc + k, sizeof(doc) - k, "v = 1");
		for (int i = 0; i < levels; i++)
			doc[k++] = '}';
		doc[k++] = '\n';
		doc[k] = '\0';
		if (levels <= TOML_MAX_DEPTH)
			toml_free(parse_ok(doc));
		else
			parse_bad(doc, "nesting too deep");
	}
}

TEST(toml_size_and_counts_are_bounded)
{
	/* Over the input bound: refused whole, before parsing. */
	size_t big = TOML_MAX_INPUT + 1;
	_cleanup_free_ char *huge = malloc(big);
	ASSERT_NOT_NULL(huge);
	memset(huge, '#', big);
	struct toml_value *v = NULL;
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(toml_parse(huge, big, &v, &err), -E2BIG);
	ASSERT_NULL(v);

	/* Exactly at the bound: a comment of 1 MiB parses. */
	toml_free(parse_ok_len(huge, TOML_MAX_INPUT));

	/* Too many keys in one table. */
	size_t cap = (TOML_MAX_KEYS + 1) * 16;
	_cleanup_free_ char *keys = malloc(cap);
	size_t n = 0;
	for (int i = 0; i <= TOML_MAX_KEYS; i++)
		n += snprintf(keys + n, cap - n, "k%d = %d\n", i, i);
	char line[64];
	snprintf(line, sizeof(line), "line %d: too many keys", TOML_MAX_KEYS + 1);
	parse_bad(keys, line);

	/* Too many values in all: one long array. */
	size_t acap = (size_t)TOML_MAX_VALUES * 2 + 16;
	_cleanup_free_ char *arr = malloc(acap);
	memcpy(arr, "a = [", 5);
	n = 5;
	for (int i = 0; i < TOML_MAX_VALUES; i++) {
		arr[n++] = '1';
		arr[n++] = ',';
	}
	arr[n++] = ']';
	arr[n] = '\0';
	parse_bad(arr, "too many values");

	/* 60000 short strings: memory and time stay proportional to the input. */
	size_t scap = 60000 * 8 + 16;
	_cleanup_free_ char *strs = malloc(scap);
	memcpy(strs, "a = [", 5);
	n = 5;
	for (int i = 0; i < 60000; i++) {
		memcpy(strs + n, "\"x\", ", 5);
		n += 5;
	}
	strs[n++] = ']';
	strs[n] = '\0';
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	v = parse_ok(strs);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ASSERT_EQ(toml_get(v, "a")->n, 60000);
	toml_free(v);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (secs > 2.0)
		FAIL("60000 strings took %.2f s", secs);
}

/* A deterministic xorshift, so a failure reproduces. */
static uint32_t next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

TEST_TIMEOUT(toml_mutations_never_crash, 120)
{
	static const char *const seeds[] = {
		"a = \"x\\u00e9\"\n[t]\nb = [1, [2, {c = 'd'}]]\n",
		"hotplug_timeout = { secs = 3, nanos = 0 }\nx.y.z = 0x1f\n",
		"[a.b]\nc = -1_000\n[a]\nd = 1.5e3 # c\n",
	};
	static const char alphabet[] = "[]{}=,.\"'\\#\n\r\t 0x1_e+-abtrufsl";
	uint32_t seed = 0x2545f491;
	char buf[256];

	for (int round = 0; round < 30000; round++) {
		const char *s = seeds[round % ARRAY_SIZE(seeds)];
		size_t len = strlen(s);
		memcpy(buf, s, len);
		int edits = 1 + (int)(next_rand(&seed) % 4);
		for (int e = 0; e < edits; e++) {
			size_t at = next_rand(&seed) % len;
			uint32_t op = next_rand(&seed) % 3;
			if (op == 0) {
				buf[at] = alphabet[next_rand(&seed) % (sizeof(alphabet) - 1)];
			} else if (op == 1 && len > 1) {
				memmove(buf + at, buf + at + 1, len - at - 1);
				len--;
			} else if (len + 1 < sizeof(buf)) {
				memmove(buf + at + 1, buf + at, len - at);
				buf[at] = alphabet[next_rand(&seed) % (sizeof(alphabet) - 1)];
				len++;
			}
		}
		struct toml_value *v = NULL;
		agent_error_t *err = NULL;
		int r = toml_parse(buf, len, &v, &err);
		if (r < 0) {
			ASSERT_NULL(v);
			ASSERT_NOT_NULL(err);
			ASSERT_TRUE(strncmp(err->msg, "line ", 5) == 0);
		} else {
			ASSERT_NOT_NULL(v);
			ASSERT_NULL(err);
		}
		toml_free(v);
		agent_error_free(err);
	}
}

/* Equal as doubles, telling -0 from 0. */
static bool same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

/* Floats are converted as the C library's strtod (correctly rounded) converts them. */
TEST(toml_floats_as_strtod)
{
	static const char *const fixed[] = {
		"1.5e3",
		"0.1",
		"-0.0",
		"0e0",
		"1e-400",
		"-1e-400",
		"4.9406564584124654e-324",
		"2.4703282292062327e-324",
		"2.4703282292062328e-324",
		"2.2250738585072011e-308",
		"2.2250738585072014e-308",
		"1.7976931348623157e308",
		"1.7976931348623158e308",
		"1.79769313486231580793e308",
		"9007199254740993",
		"9007199254740993.0000000001",
		"123456789012345678901234567890e-20",
		"0.000000000000000000000000000001e30",
		"7.2057594037927933e16",
		"1e23",
		"8.98846567431158e307",
		"1e308",
		"1e-308",
		"2.225073858507201136057409796709131975934819546351645648e-308",
		"1.00000000000000011102230246251565404236316680908203125",
		"1.00000000000000011102230246251565404236316680908203124",
		"1.00000000000000011102230246251565404236316680908203126",
	};
	double d;
	char s[1100];

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		ASSERT_EQ(decimal_to_double(fixed[i], &d), 0);
		if (!same_double(d, strtod(fixed[i], NULL)))
			FAIL("%s: %a, strtod %a", fixed[i], d, strtod(fixed[i], NULL));
	}
	ASSERT_EQ(decimal_to_double("1.7976931348623159e308", &d), -ERANGE);
	ASSERT_EQ(decimal_to_double("-1e309", &d), -ERANGE);
	ASSERT_EQ(decimal_to_double("1e99999999999999999999", &d), -ERANGE);
	ASSERT_EQ(decimal_to_double("1e-99999999999999999999", &d), 0);
	ASSERT_TRUE(same_double(d, 0.0));
	/* The exact midpoint between DBL_MAX and 2^1024 rounds up (to infinity). */
	snprintf(s, sizeof(s), "%.0Lf", 0x1.fffffffffffff8p1023L);
	ASSERT_EQ(decimal_to_double(s, &d), -ERANGE);
	/*
	 * 800 digits and more: those beyond decide only as "something below". A tie (rounds to
	 * even, down here), then the same tie with a last digit 1 far beyond (rounds up).
	 */
	snprintf(s, sizeof(s), "%.1000Le", (long double)0x1p-1022 + 0x1p-1075L);
	ASSERT_EQ(decimal_to_double(s, &d), 0);
	ASSERT_TRUE(same_double(d, 0x1p-1022));
	*strchr(s, 'e') = '\0';
	s[strlen(s) - 1] = '1';
	strcat(s, "e-308");
	ASSERT_EQ(decimal_to_double(s, &d), 0);
	ASSERT_TRUE(same_double(d, 0x1.0000000000001p-1022));
	ASSERT_TRUE(same_double(d, strtod(s, NULL)));

	unsigned seed = (unsigned)time(NULL);
	srand(seed);
	for (int i = 0; i < 20000; i++) {
		/* A random double's exact or shortened text, or random digits and exponent. */
		uint64_t bits =
			((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^ (uint64_t)rand();
		double x;
		memcpy(&x, &bits, sizeof(x));
		if (!isfinite(x))
			continue;
		switch (i % 3) {
		case 0:
			snprintf(s, sizeof(s), "%.*e", rand() % 25, x);
			break;
		case 1: { /* exactly halfway between |x| and the next double (a tie) */
			uint64_t up = (bits & ~(1ULL << 63)) + 1;
			double y;
			memcpy(&y, &up, sizeof(y));
			if (!isfinite(y))
				continue;
			long double mid = ((long double)fabs(x) + y) / 2;
			snprintf(s, sizeof(s), "%.800Le", x < 0 ? -mid : mid);
			break;
		}
		default: {
			int n = 1 + rand() % 40, k = 0;
			for (int j = 0; j < n; j++)
				s[k++] = (char)('0' + rand() % 10);
			snprintf(s + k, sizeof(s) - (size_t)k, "e%d", rand() % 700 - 360);
		}
		}
		double want = strtod(s, NULL);
		int r = decimal_to_double(s, &d);
		if (isinf(want) ? r != -ERANGE : (r != 0 || !same_double(d, want)))
			FAIL("seed %u: %s: %d %a, strtod %a", seed, s, r, d, want);
	}
}
