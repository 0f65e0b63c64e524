/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "config/toml.h"
#include "harness.h"

static struct toml_value *parse_ok(const char *s)
{
	struct toml_value *v = NULL;
	_cleanup_error_ agent_error_t *err = NULL;
	if (toml_parse(s, strlen(s), &v, &err) < 0)
		FAIL("parse failed: %s\n%s", err ? err->msg : "?", s);
	return v;
}

static void parse_bad(const char *s, const char *line)
{
	struct toml_value *v = NULL;
	_cleanup_error_ agent_error_t *err = NULL;
	if (toml_parse(s, strlen(s), &v, &err) == 0)
		FAIL("accepted bad input: %s", s);
	ASSERT_NULL(v);
	ASSERT_NOT_NULL(err);
	if (line && !strstr(err->msg, line))
		FAIL("error \"%s\" does not name %s", err->msg, line);
}

TEST(toml_values_of_every_kind)
{
	struct toml_value *v = parse_ok("# comment\n"
					"a = \"x\\ty\\u00e9\\\"\"  # trailing\n"
					"b = 'C:\\raw'\n"
					"c = -42\n"
					"d = 0x1f\n"
					"e = 1_000\n"
					"f = true\n"
					"g = 1.5e3\n"
					"h = [1, [2, 3], \"s\",]\n"
					"i = { secs = 3, nanos = 0 }\n"
					"j.k = 5\n"
					"\"quoted key\" = 1\n"
					"[t]\n"
					"u = false\n"
					"[t.sub]\n"
					"w = 2\n");
	ASSERT_STREQ(toml_get(v, "a")->s, "x\ty\xc3\xa9\"");
	ASSERT_STREQ(toml_get(v, "b")->s, "C:\\raw");
	ASSERT_EQ(toml_get(v, "c")->i, -42);
	ASSERT_EQ(toml_get(v, "d")->i, 31);
	ASSERT_EQ(toml_get(v, "e")->i, 1000);
	ASSERT_TRUE(toml_get(v, "f")->b);
	ASSERT_TRUE(toml_get(v, "g")->f == 1500.0);
	const struct toml_value *h = toml_get(v, "h");
	ASSERT_EQ(h->type, TOML_ARRAY);
	ASSERT_EQ(h->n, 3);
	ASSERT_EQ(h->items[1]->items[1]->i, 3);
	ASSERT_EQ(toml_get(toml_get(v, "i"), "secs")->i, 3);
	ASSERT_EQ(toml_get(toml_get(v, "j"), "k")->i, 5);
	ASSERT_EQ(toml_get(v, "quoted key")->i, 1);
	ASSERT_FALSE(toml_get(toml_get(v, "t"), "u")->b);
	ASSERT_EQ(toml_get(toml_get(toml_get(v, "t"), "sub"), "w")->i, 2);
	toml_free(v);
}

TEST(toml_errors_name_the_line)
{
	parse_bad("a = 1\nb = \"unterminated\n", "line 2");
	parse_bad("a = \"bad \\q escape\"\n", "line 1");
	parse_bad("a = 1\na = 2\n", "line 2");
	parse_bad("[t]\n[t]\n", "line 2");
	parse_bad("a = 1 b = 2\n", "line 1");
	parse_bad("a = \n", "line 1");
	parse_bad("a = [1, 2\n", NULL);
	parse_bad("a = {x = 1\n", NULL);
	parse_bad("a = 01\n", NULL);
	parse_bad("a = 1__0\n", NULL);
	parse_bad("a = 99999999999999999999\n", NULL);
	parse_bad("a = \"\"\"multi\"\"\"\n", NULL);
	parse_bad("[[arr]]\n", NULL);
	parse_bad("a = 1\na.b = 2\n", NULL);
	parse_bad("= 1\n", NULL);
	parse_bad("a = \"\\u0000\"\n", NULL);
	parse_bad("a = \"\\ud800\"\n", NULL);
}

TEST(toml_depth_and_size_are_bounded)
{
	char deep[200];
	memset(deep, '[', 100);
	strcpy(deep + 100, "1");
	memset(deep + 101, ']', 50);
	deep[151] = '\0';
	char doc[256];
	snprintf(doc, sizeof(doc), "a = %s\n", deep);
	parse_bad(doc, "nesting");

	size_t big = TOML_MAX_INPUT + 10;
	char *huge = malloc(big + 1);
	memset(huge, '#', big);
	huge[big] = '\0';
	struct toml_value *v = NULL;
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(toml_parse(huge, big, &v, &err), -E2BIG);
	free(huge);

	static const char nul[] = "a = 1\0b = 2\n";
	agent_error_t *e2 = NULL;
	ASSERT_TRUE(toml_parse(nul, sizeof(nul) - 1, &v, &e2) < 0);
	agent_error_free(e2);
}
