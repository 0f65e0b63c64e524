/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel command line. Tokens are split on ASCII whitespace with double
 * quotes grouping, the way the kernel's own next_arg() does it (a quote opens
 * or closes a quoted run anywhere; a leading quote of the whole token or of
 * its value is dropped with the matching last quote). Options are matched by
 * their whole name; unknown tokens are not ours and are ignored silently.
 */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "config/option.h"

/* How much of a token a warning quotes. */
#define WHAT_MAX 160

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r';
}

struct token {
	const char *name;
	size_t name_len;
	const char *value; /* NULL: no '=' */
	size_t value_len;
	size_t len; /* the whole token as written */
};

/* The next token at or after *pp; false at the end. Every call consumes at least one byte. */
static bool next_token(const char **pp, const char *end, struct token *t)
{
	const char *p = *pp;
	while (p < end && is_space(*p))
		p++;
	if (p >= end) {
		*pp = p;
		return false;
	}
	const char *start = p, *eq = NULL;
	bool in_quote = false, quoted = false;
	if (*p == '"') {
		p++;
		in_quote = quoted = true;
	}
	const char *args = p;
	for (; p < end && (in_quote || !is_space(*p)); p++) {
		if (!eq && *p == '=')
			eq = p;
		if (*p == '"')
			in_quote = !in_quote;
	}
	*pp = p;

	/* As next_arg(): the value's leading quote goes, and so does the token's last
	 * quote when the value or the whole token started with one. */
	const char *tend = p;
	bool strip_last = quoted;
	t->len = (size_t)(p - start);
	t->name = args;
	if (eq) {
		t->name_len = (size_t)(eq - args);
		t->value = eq + 1;
		if (t->value < tend && *t->value == '"') {
			t->value++;
			strip_last = true;
		}
	} else {
		t->name_len = (size_t)(tend - args);
		t->value = NULL;
	}
	if (strip_last && tend > args && tend[-1] == '"') {
		tend--;
		if (!eq)
			t->name_len = (size_t)(tend - args);
	}
	t->value_len = t->value && tend > t->value ? (size_t)(tend - t->value) : 0;
	return true;
}

bool config_parse_cmdline_at(struct agent_config *c, const char *cmdline, size_t len,
			     size_t *ret_stop)
{
	const char *p = cmdline, *end = cmdline + len;
	struct token t;
	char value[CONFIG_VALUE_MAX + 1];
	char what[WHAT_MAX + 8];

	/* Bounded: every token consumes at least one byte of at most CONFIG_CMDLINE_MAX. */
	while (next_token(&p, end, &t)) {
		const struct option_def *o = option_by_name(t.name, t.name_len);
		if (!o)
			continue; /* not ours; agent.mem_agent_memcg_*: accepted, unused */
		const char *tok = t.name;
		size_t shown = t.value ? (size_t)(t.value + t.value_len - tok) : t.name_len;
		snprintf(what, sizeof(what), "%.*s%s", (int)MIN(shown, WHAT_MAX), tok,
			 shown > WHAT_MAX ? "..." : "");
		if (t.value && t.value_len > CONFIG_VALUE_MAX) {
			agent_config_warn(c, "%s: value longer than %u bytes; ignored", what,
					  CONFIG_VALUE_MAX);
			continue;
		}
		if (t.value) {
			memcpy(value, t.value, t.value_len);
			value[t.value_len] = '\0';
		}
		bool applied = option_set_text(c, o, t.value ? value : NULL, what);
		if (o->kind == OPT_CONFIG_FILE && applied) {
			/* Upstream: the file alone configures from here on (see config.c). */
			if (ret_stop)
				*ret_stop = (size_t)(p - cmdline);
			return true;
		}
	}
	if (ret_stop)
		*ret_stop = len;
	return false;
}

size_t config_cmdline_clamp(struct agent_config *c, const char *cmdline, size_t len)
{
	if (len > CONFIG_CMDLINE_MAX) {
		agent_config_warn(c,
				  "kernel command line longer than %u bytes; the rest is ignored",
				  CONFIG_CMDLINE_MAX);
		len = CONFIG_CMDLINE_MAX;
	}
	/* A NUL ends the command line, as it ends the kernel's. */
	return strnlen(cmdline, len);
}

bool agent_config_parse_cmdline(struct agent_config *c, const char *cmdline, size_t len)
{
	len = config_cmdline_clamp(c, cmdline, len);
	bool stopped = config_parse_cmdline_at(c, cmdline, len, NULL);
	config_normalize(c);
	return stopped;
}
