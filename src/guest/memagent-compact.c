/* SPDX-License-Identifier: Apache-2.0 */
/* The mem-agent's compaction decisions over /proc texts (see memagent.h). */
#include "guest/memagent-compact.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"

void memagent_compact_config_default(struct memagent_compact_config *c)
{
	*c = (struct memagent_compact_config){
		.disabled = false,
		.period_secs = 10 * 60,
		.period_psi_percent_limit = 1,
		.compact_psi_percent_limit = 5,
		.compact_sec_max = 5 * 60,
		.compact_order = MEMAGENT_PAGE_REPORTING_MIN_ORDER,
		.compact_threshold = 2u << MEMAGENT_PAGE_REPORTING_MIN_ORDER,
		.compact_force_times = MEMAGENT_FORCE_NEVER,
	};
}

static int bad(agent_error_t **err, const char *what)
{
	return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL, "%s", what);
}

int memagent_compact_config_apply(struct memagent_compact_config *c,
				  const struct memagent_compact_update *u, bool *ret_period_changed,
				  agent_error_t **err)
{
	bool changed = false;

	if (u->has_period_secs && u->period_secs == 0)
		return bad(err, "period_secs must be at least 1");
	if (u->has_period_psi_percent_limit && u->period_psi_percent_limit > 100)
		return bad(err, "period_psi_percent_limit must be at most 100");
	if (u->has_compact_psi_percent_limit && u->compact_psi_percent_limit > 100)
		return bad(err, "compact_psi_percent_limit must be at most 100");
	if (u->has_compact_sec_max && u->compact_sec_max < 0)
		return bad(err, "compact_sec_max must not be negative");
	if (u->has_compact_order && u->compact_order >= MEMAGENT_MAX_ORDER)
		return bad(err, "compact_order is too large");

	if (u->has_disabled && u->disabled != c->disabled) {
		c->disabled = u->disabled;
		changed = true;
	}
	if (u->has_period_psi_percent_limit)
		c->period_psi_percent_limit = (uint8_t)u->period_psi_percent_limit;
	if (u->has_compact_psi_percent_limit)
		c->compact_psi_percent_limit = (uint8_t)u->compact_psi_percent_limit;
	if (u->has_compact_sec_max)
		c->compact_sec_max = u->compact_sec_max;
	if (u->has_compact_order)
		c->compact_order = (uint8_t)u->compact_order;
	if (u->has_compact_threshold)
		c->compact_threshold = u->compact_threshold;
	if (u->has_compact_force_times)
		c->compact_force_times = u->compact_force_times;
	if (u->has_period_secs) {
		c->period_secs = u->period_secs;
		if (!c->disabled)
			changed = true;
	}
	*ret_period_changed = changed;
	return 0;
}

/* Parses a decimal u64 at s; the end into *end. */
static int parse_u64(const char *s, const char **end, uint64_t *ret)
{
	char *e;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &e, 10);
	if (errno)
		return -errno;
	*end = e;
	*ret = v;
	return 0;
}

int memagent_psi_some_total(const char *text, uint64_t *ret)
{
	size_t line_len = strcspn(text, "\n");
	const char *end = NULL;

	if (strncmp(text, "some ", 5) != 0)
		return -EINVAL;
	/* " total=" within the first line */
	for (const char *p = text; p < text + line_len; p++) {
		if (strncmp(p, " total=", 7) != 0)
			continue;
		p += 7;
		if (p >= text + line_len)
			return -EINVAL;
		uint64_t v = 0;
		int r = parse_u64(p, &end, &v);
		if (r < 0)
			return r;
		if (*end != '\0' && !isspace((unsigned char)*end))
			return -EINVAL;
		*ret = v;
		return 0;
	}
	return -EINVAL;
}

uint64_t memagent_psi_percent(struct memagent_psi_period *p, uint64_t total_us, uint64_t now_ms)
{
	uint64_t percent = 0;

	if (p->last_total_us != 0 && p->last_total_us < total_us && p->last_ms < now_ms) {
		uint64_t us = (now_ms - p->last_ms) * 1000;
		uint64_t delta = total_us - p->last_total_us;
		/* delta * 100 overflows only after ~5800 years of stall */
		percent = delta > UINT64_MAX / 100 ? 100 : delta * 100 / us;
	}
	p->last_total_us = total_us;
	p->last_ms = now_ms;
	return percent;
}

int memagent_meminfo_kb(const char *text, const char *key, uint64_t *ret)
{
	size_t klen = strlen(key);
	const char *line = text;

	while (*line) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			const char *p = line + klen + 1, *end;
			while (*p == ' ' || *p == '\t')
				p++;
			return parse_u64(p, &end, ret);
		}
		line = strchr(line, '\n');
		if (!line)
			break;
		line++;
	}
	return -ENOENT;
}

/* The next whitespace-separated token of [*p, end): its start and length, or 0 at the end. */
static size_t next_token(const char **p, const char *end, const char **ret_tok)
{
	const char *s = *p;

	while (s < end && isspace((unsigned char)*s))
		s++;
	const char *t = s;
	while (s < end && !isspace((unsigned char)*s))
		s++;
	*p = s;
	*ret_tok = t;
	return (size_t)(s - t);
}

int memagent_free_movable_pages(const char *text, unsigned order_limit, uint64_t *ret)
{
	uint64_t total = 0;
	const char *line = text;

	while (*line) {
		const char *end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		const char *p = line, *tok;
		size_t n;
		bool seen = false;
		unsigned order = 0;

		/* Tokens after "Movable" are the counts per order; others (headers) don't parse. */
		while ((n = next_token(&p, end, &tok)) > 0) {
			if (!seen) {
				seen = n == 7 && memcmp(tok, "Movable", 7) == 0;
				continue;
			}
			if (order >= order_limit || order >= MEMAGENT_MAX_ORDER)
				break;
			const char *num = tok[0] == '>' ? tok + 1 : tok, *nend;
			uint64_t v;
			if (parse_u64(num, &nend, &v) == 0 && nend == tok + n) {
				uint64_t pages = v << order;
				if (pages >> order != v || total + pages < total)
					return -EOVERFLOW;
				total += pages;
			}
			order++;
		}
		line = *end ? end + 1 : end;
	}
	*ret = total;
	return 0;
}

enum memagent_compact_verdict memagent_compact_decide(const struct memagent_compact_config *c,
						      struct memagent_compact_state *st,
						      const struct memagent_sample *s)
{
	enum memagent_compact_verdict v;

	if (!s->psi_ok)
		v = MEMAGENT_SKIP_PSI;
	else if (c->compact_force_times < MEMAGENT_FORCE_NEVER &&
		 st->force_counter >= c->compact_force_times)
		v = MEMAGENT_COMPACT_FORCED;
	else if (!s->have_mem)
		v = MEMAGENT_SKIP_UNKNOWN;
	else if (c->compact_threshold <= (UINT64_MAX >> 2) && st->prev_memfree_kb > s->memfree_kb &&
		 st->prev_memfree_kb - s->memfree_kb > (c->compact_threshold << 2))
		v = MEMAGENT_COMPACT_THRESHOLD; /* MemFree fell by more than the threshold (4k
						   pages) */
	else if (s->free_movable > st->prev_free_movable &&
		 s->free_movable - st->prev_free_movable > c->compact_threshold)
		v = MEMAGENT_COMPACT_THRESHOLD;
	else
		v = MEMAGENT_SKIP_THRESHOLD;
	if (!memagent_verdict_compacts(v))
		st->force_counter++;
	return v;
}

void memagent_compact_done(struct memagent_compact_state *st, uint64_t memfree_kb,
			   uint64_t free_movable)
{
	st->prev_memfree_kb = memfree_kb;
	st->prev_free_movable = free_movable;
	st->force_counter = 0;
}

const char *memagent_verdict_name(enum memagent_compact_verdict v)
{
	switch (v) {
	case MEMAGENT_SKIP_PSI:
		return "skipped: memory pressure over the limit";
	case MEMAGENT_SKIP_THRESHOLD:
		return "skipped: free movable pages under the threshold";
	case MEMAGENT_SKIP_UNKNOWN:
		return "skipped: meminfo or pagetypeinfo unreadable";
	case MEMAGENT_COMPACT_FORCED:
		return "forced";
	case MEMAGENT_COMPACT_THRESHOLD:
		return "over the threshold";
	}
	return "?";
}
