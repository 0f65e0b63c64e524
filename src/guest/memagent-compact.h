/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mem-agent's compaction decisions, without I/O: parsers of the texts of
 * /proc/pressure/{memory,io}, /proc/meminfo and /proc/pagetypeinfo, the PSI
 * percentage over a period, and whether a round compacts. The loop, the timer
 * and the child that writes /proc/sys/vm/compact_memory live in sandbox/memagent.c.
 * Defaults and rules follow the upstream mem-agent (libs/mem-agent compact.rs).
 */
#ifndef AGENT_GUEST_MEMAGENT_COMPACT_H
#define AGENT_GUEST_MEMAGENT_COMPACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define MEMAGENT_PAGE_REPORTING_MIN_ORDER 9
/* compact_force_times at or above this never forces (upstream: i64::MAX). */
#define MEMAGENT_FORCE_NEVER ((uint64_t)INT64_MAX)
#define MEMAGENT_MAX_ORDER 64 /* compact_order bound: every order a kernel has is below */

struct memagent_compact_config {
	bool disabled;
	uint64_t period_secs;
	uint8_t period_psi_percent_limit; /* skip a round above this PSI % since the last round */
	uint8_t compact_psi_percent_limit; /* stop a compaction above this PSI % */
	int64_t compact_sec_max; /* kill a compaction running longer */
	uint8_t compact_order; /* free movable pages are counted below this order */
	uint64_t compact_threshold; /* pages */
	uint64_t compact_force_times; /* rounds without compaction before one is forced */
};

/* A request: each field applies only when its has_* is set. */
struct memagent_compact_update {
	bool has_disabled, has_period_secs, has_period_psi_percent_limit,
		has_compact_psi_percent_limit, has_compact_sec_max, has_compact_order,
		has_compact_threshold, has_compact_force_times;
	bool disabled;
	uint64_t period_secs;
	uint32_t period_psi_percent_limit;
	uint32_t compact_psi_percent_limit;
	int64_t compact_sec_max;
	uint32_t compact_order;
	uint64_t compact_threshold;
	uint64_t compact_force_times;
};

void memagent_compact_config_default(struct memagent_compact_config *c);

/*
 * Checks every set field (percentages <= 100, period_secs >= 1, compact_sec_max >= 0,
 * compact_order < MEMAGENT_MAX_ORDER), then applies them all or none. *ret_period_changed
 * tells whether the timer must be re-armed: disabled flipped, or period_secs was given
 * while enabled (as upstream). Errors carry GRPC_INVALID_ARGUMENT.
 */
int memagent_compact_config_apply(struct memagent_compact_config *c,
				  const struct memagent_compact_update *u, bool *ret_period_changed,
				  agent_error_t **err);

/* "some ... total=N" of a /proc/pressure/<resource> text (the first line), microseconds. */
int memagent_psi_some_total(const char *text, uint64_t *ret);

/* PSI percentage between two samples, as upstream's psi::Period. */
struct memagent_psi_period {
	uint64_t last_total_us; /* 0 = no sample yet */
	uint64_t last_ms;
};
/*
 * Feeds the sample total_us (memory + io "some" totals) taken at now_ms; returns the
 * stall percentage since the previous sample: 0 on the first one, when the total did
 * not grow, or when no time passed.
 */
uint64_t memagent_psi_percent(struct memagent_psi_period *p, uint64_t total_us, uint64_t now_ms);

/* The value in kB of a /proc/meminfo key ("MemFree"). -ENOENT when absent. */
int memagent_meminfo_kb(const char *text, const char *key, uint64_t *ret);

/*
 * Free pages of the Movable type on orders below order_limit, from a /proc/pagetypeinfo
 * text: a block of 2^order pages counts 2^order. The kernel caps each count and then
 * prints ">N": N is counted.
 */
int memagent_free_movable_pages(const char *text, unsigned order_limit, uint64_t *ret);

/* What a round found, for the decision and the logs. */
enum memagent_compact_verdict {
	MEMAGENT_SKIP_PSI, /* PSI over period_psi_percent_limit (or unreadable) */
	MEMAGENT_SKIP_THRESHOLD, /* not enough change since the last compaction */
	MEMAGENT_SKIP_UNKNOWN, /* meminfo or pagetypeinfo unreadable */
	MEMAGENT_COMPACT_FORCED, /* compact_force_times rounds went by */
	MEMAGENT_COMPACT_THRESHOLD, /* free movable pages grew, or MemFree shrank */
};

struct memagent_compact_state {
	uint64_t force_counter; /* rounds since the last compaction */
	uint64_t prev_free_movable; /* after the last compaction */
	uint64_t prev_memfree_kb;
};

struct memagent_sample {
	bool psi_ok; /* the PSI gate passed */
	bool have_mem; /* memfree_kb and free_movable were read */
	uint64_t memfree_kb;
	uint64_t free_movable;
};

/* The decision of one round; a skip counts the round towards forcing. */
enum memagent_compact_verdict memagent_compact_decide(const struct memagent_compact_config *c,
						      struct memagent_compact_state *st,
						      const struct memagent_sample *s);
static inline bool memagent_verdict_compacts(enum memagent_compact_verdict v)
{
	return v == MEMAGENT_COMPACT_FORCED || v == MEMAGENT_COMPACT_THRESHOLD;
}
/* After a compaction: the new baseline, and the force counter back to 0. */
void memagent_compact_done(struct memagent_compact_state *st, uint64_t memfree_kb,
			   uint64_t free_movable);
const char *memagent_verdict_name(enum memagent_compact_verdict v);

#endif
