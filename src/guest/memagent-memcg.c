/* SPDX-License-Identifier: Apache-2.0 */
/* The mem-agent's memcg reclaim decisions over the lru_gen text (see memagent-memcg.h). */
#include "guest/memagent-memcg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"

void memagent_memcg_config_default(struct memagent_memcg_config *c)
{
	*c = (struct memagent_memcg_config){
		.disabled = false,
		.swap = false,
		.swappiness_max = 50,
		.period_secs = 10 * 60,
		.period_psi_percent_limit = 1,
		.eviction_psi_percent_limit = 1,
		.eviction_run_aging_count_min = 3,
	};
}

/* A decimal u64 word; a negative one ("-3") is 0. false when not a number. */
static bool word_u64(const char *w, size_t n, uint64_t *ret)
{
	uint64_t v = 0;
	bool neg = n > 1 && w[0] == '-';

	if (n == 0 || n > 21)
		return false;
	for (size_t i = neg; i < n; i++) {
		if (w[i] < '0' || w[i] > '9')
			return false;
		uint64_t d = (uint64_t)(w[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ret = neg ? 0 : v;
	return true;
}

/* Up to max words of the line [s, e): starts and lengths; the count. */
static size_t split(const char *s, const char *e, const char **w, size_t *len, size_t max)
{
	size_t n = 0;

	while (s < e) {
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		if (s == e)
			break;
		const char *b = s;
		while (s < e && *s != ' ' && *s != '\t')
			s++;
		if (n == max)
			return max + 1;
		w[n] = b;
		len[n++] = (size_t)(s - b);
	}
	return n;
}

/* Whether a ".." component is in the path [p, p + n). */
static bool dotdot(const char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == '.' && p[i + 1] == '.' && (i == 0 || p[i - 1] == '/') &&
		    (i + 2 == n || p[i + 2] == '/'))
			return true;
	return false;
}

struct parse {
	struct memagent_lru_gen cur;
	bool in_memcg, in_node, have_gen;
	struct memagent_lru_gen *out;
	size_t n, cap, max;
};

static int flush(struct parse *p)
{
	if (!p->in_node || !p->have_gen)
		return 0;
	p->have_gen = false;
	if (p->n == p->max)
		return -E2BIG;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct memagent_lru_gen *o = realloc(p->out, cap * sizeof(*o));
		if (!o)
			return -ENOMEM;
		p->out = o;
		p->cap = cap;
	}
	p->out[p->n++] = p->cur;
	return 0;
}

int memagent_lru_gen_parse(const char *text, size_t max, struct memagent_lru_gen **ret,
			   size_t *ret_n, agent_error_t **err)
{
	struct parse p = {.max = max};
	unsigned line = 0;
	int r = 0;

	for (const char *s = text; *s && r == 0;) {
		const char *e = strchr(s, '\n');
		if (!e)
			e = s + strlen(s);
		const char *w[5];
		size_t len[5], n = split(s, e, w, len, 5);
		uint64_t v[4];
		line++;
		if (n >= 3 && len[0] == 5 && !strncmp(w[0], "memcg", 5)) {
			r = flush(&p);
			p.in_memcg = p.in_node = false;
			size_t plen = (size_t)(e - w[2]);
			while (plen && (w[2][plen - 1] == ' ' || w[2][plen - 1] == '\t'))
				plen--;
			/* A path below the cgroup root, never out of it: it names files to read. */
			if (r == 0 && word_u64(w[1], len[1], &v[0]) && v[0] <= UINT32_MAX &&
			    plen < sizeof(p.cur.path) && w[2][0] == '/' && !dotdot(w[2], plen)) {
				memset(&p.cur, 0, sizeof(p.cur));
				p.cur.memcg_id = (uint32_t)v[0];
				memcpy(p.cur.path, w[2], plen);
				p.in_memcg = true;
			}
		} else if (n == 2 && len[0] == 4 && !strncmp(w[0], "node", 4)) {
			r = flush(&p);
			p.in_node = false;
			if (r == 0 && p.in_memcg && word_u64(w[1], len[1], &v[0]) &&
			    v[0] <= UINT32_MAX) {
				p.cur.node = (uint32_t)v[0];
				p.in_node = true;
			}
		} else if (n == 4 && p.in_node) {
			bool ok = true;
			for (size_t i = 0; i < 4; i++)
				ok &= word_u64(w[i], len[i], &v[i]);
			if (!ok) {
				r = -EBADMSG;
				break;
			}
			if (!p.have_gen || v[0] < p.cur.min_seq) {
				p.cur.min_seq = v[0];
				p.cur.min_anon = v[2];
				p.cur.min_file = v[3];
			}
			if (!p.have_gen || v[0] > p.cur.max_seq)
				p.cur.max_seq = v[0];
			if (!p.have_gen || v[1] < p.cur.youngest_age_ms)
				p.cur.youngest_age_ms = v[1];
			p.have_gen = true;
		} else if (n > 0) {
			/* Anything else ends the node it follows (upstream skips such lines). */
			r = flush(&p);
			p.in_node = false;
		}
		s = *e ? e + 1 : e;
	}
	if (r == 0)
		r = flush(&p);
	if (r < 0) {
		free(p.out);
		if (r == -EBADMSG)
			return agent_error_set(err, EBADMSG,
					       "lru_gen line %u: a generation that is "
					       "not four numbers",
					       line);
		return agent_error_set(err, -r, "lru_gen: %s",
				       r == -E2BIG ? "too many memcgs" : "out of memory");
	}
	*ret = p.out;
	*ret_n = p.n;
	return 0;
}

static uint8_t div_round_200(uint64_t anon, uint64_t file)
{
	uint64_t a = 200 * anon, b = anon + file, q = a / b, rem = a % b;
	return (uint8_t)(rem >= b - rem ? q + 1 : q);
}

enum memagent_evict_stop memagent_evict_step(const struct memagent_memcg_config *c,
					     struct memagent_evict *ev,
					     const struct memagent_lru_gen *now, bool swap,
					     bool swap_now, uint64_t psi_percent,
					     uint8_t *ret_swappiness)
{
	if (now->max_seq - now->min_seq + 1 != MEMAGENT_MAX_NR_GENS)
		return MEMAGENT_EVICT_STOP_GENS;
	if (!ev->started) {
		if (now->min_file == 0) {
			if (!swap || now->min_anon == 0)
				return MEMAGENT_EVICT_STOP_NO_MIN_LRU;
			ev->only_swap = true;
		}
		ev->started = true;
	} else {
		if (now->min_file >= ev->last_file && now->min_anon >= ev->last_anon)
			return MEMAGENT_EVICT_STOP_MIN_LRU_INC;
		ev->anon_pages += ev->last_anon > now->min_anon ? ev->last_anon - now->min_anon : 0;
		ev->file_pages += ev->last_file > now->min_file ? ev->last_file - now->min_file : 0;
		if (!ev->only_swap && now->min_file == 0)
			return MEMAGENT_EVICT_STOP_NO_MIN_LRU;
		if (psi_percent > c->eviction_psi_percent_limit)
			return MEMAGENT_EVICT_STOP_PSI;
	}
	ev->last_file = now->min_file;
	ev->last_anon = now->min_anon;
	if (ev->only_swap) {
		if (!swap_now)
			return MEMAGENT_EVICT_STOP_NO_MIN_LRU;
		*ret_swappiness = 200;
	} else if (!swap || now->min_anon == 0 || !swap_now) {
		*ret_swappiness = 0;
	} else {
		uint8_t s = div_round_200(now->min_anon, now->min_file);
		*ret_swappiness = s > c->swappiness_max ? c->swappiness_max : s;
	}
	return MEMAGENT_EVICT_GO;
}

const char *memagent_evict_stop_name(enum memagent_evict_stop s)
{
	switch (s) {
	case MEMAGENT_EVICT_GO:
		return "go";
	case MEMAGENT_EVICT_STOP_GENS:
		return "generations moved";
	case MEMAGENT_EVICT_STOP_NO_MIN_LRU:
		return "oldest generation empty";
	case MEMAGENT_EVICT_STOP_MIN_LRU_INC:
		return "oldest generation stopped shrinking";
	case MEMAGENT_EVICT_STOP_PSI:
		return "pressure";
	}
	return "?";
}
