/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mem-agent's memcg reclaim decisions, without I/O, after the upstream
 * mem-agent (libs/mem-agent memcg.rs, mglru.rs): the text of the kernel's
 * /sys/kernel/debug/lru_gen parsed into one entry per memcg and NUMA node,
 * and the step-by-step eviction of a memcg's oldest MGLRU generation (which
 * stops when the generations move, when the oldest one is empty or stops
 * shrinking, or when the memcg's pressure passes its limit). The timer and
 * the child that writes the lru_gen commands live in sandbox/memagent.c.
 */
#ifndef AGENT_GUEST_MEMAGENT_MEMCG_H
#define AGENT_GUEST_MEMAGENT_MEMCG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define MEMAGENT_MAX_NR_GENS 4 /* the kernel's MAX_NR_GENS */
/* A memcg whose youngest generation is younger than this is not aged (upstream's value). */
#define MEMAGENT_IDLE_FRESH_IGNORE_MS (60 * 1000)
#define MEMAGENT_MEMCG_PATH_MAX 512

/* One memcg on one node, as lru_gen shows it. */
struct memagent_lru_gen {
	uint32_t memcg_id; /* 0: the kernel gives this memcg no id (offline): not worked on */
	uint32_t node;
	char path[MEMAGENT_MEMCG_PATH_MAX]; /* the memcg's path below the cgroup root */
	uint64_t min_seq, max_seq;
	uint64_t youngest_age_ms; /* age of the youngest generation */
	uint64_t min_anon, min_file; /* pages in the oldest generation (min_seq) */
};

/*
 * Parses the lru_gen text: "memcg ID PATH" lines, each followed by "node N"
 * lines and their generations "SEQ AGE_MS ANON FILE" (a negative count is
 * read as 0, as upstream does). A memcg line with no generation adds nothing; one
 * whose path is not absolute or has a ".." component is skipped (a cgroup name
 * holding a newline could forge lines: nothing outside the cgroup root is read).
 * *ret is malloc'd (free it), at most max entries (-E2BIG beyond).
 */
int memagent_lru_gen_parse(const char *text, size_t max, struct memagent_lru_gen **ret,
			   size_t *ret_n, agent_error_t **err);

/* The settings of MemAgentMemcgConfig (upstream's SingleConfig). */
struct memagent_memcg_config {
	bool disabled;
	bool swap;
	uint8_t swappiness_max;
	uint64_t period_secs;
	uint8_t period_psi_percent_limit;
	uint8_t eviction_psi_percent_limit;
	uint64_t eviction_run_aging_count_min;
};
void memagent_memcg_config_default(struct memagent_memcg_config *c);

/* One eviction of one memcg on one node, fed a fresh lru_gen entry each step. */
enum memagent_evict_stop {
	MEMAGENT_EVICT_GO, /* evict one more batch with *ret_swappiness */
	MEMAGENT_EVICT_STOP_GENS, /* not MAX_NR_GENS generations (the oldest one is gone) */
	MEMAGENT_EVICT_STOP_NO_MIN_LRU, /* nothing left to evict in the oldest generation */
	MEMAGENT_EVICT_STOP_MIN_LRU_INC, /* the oldest generation stopped shrinking */
	MEMAGENT_EVICT_STOP_PSI, /* the memcg's pressure passed eviction_psi_percent_limit */
};

struct memagent_evict {
	bool started;
	bool only_swap; /* no file pages: anonymous ones only, to swap */
	uint64_t last_file, last_anon;
	uint64_t file_pages, anon_pages; /* evicted so far */
};

/*
 * The next step: swap says whether swap may be used (config and free swap at the
 * start), swap_now whether free swap is left now; psi_percent the memcg's pressure
 * since the previous step (ignored on the first).
 */
enum memagent_evict_stop memagent_evict_step(const struct memagent_memcg_config *c,
					     struct memagent_evict *ev,
					     const struct memagent_lru_gen *now, bool swap,
					     bool swap_now, uint64_t psi_percent,
					     uint8_t *ret_swappiness);
const char *memagent_evict_stop_name(enum memagent_evict_stop s);

#endif
