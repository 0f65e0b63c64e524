/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mem-agent's memcg work that touches the kernel, shared by sandbox/memagent.c
 * (on the loop: the period's pressure check) and the child it forks for each round
 * (aging and eviction through /sys/kernel/debug/lru_gen, which may take long and
 * is killable: the kernel checks for signals between batches).
 */
#ifndef AGENT_SANDBOX_MEMAGENT_MEMCG_H
#define AGENT_SANDBOX_MEMAGENT_MEMCG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/memagent-memcg.h"

#define MEMAGENT_LRU_GEN_MAX (4u << 20) /* the lru_gen text of a guest with many memcgs */
#define MEMAGENT_MEMCG_MAX 4096 /* memcg x node entries worked on */

/*
 * A memcg's own pressure: the "some" totals of memory.pressure and io.pressure
 * in psi_root/path, minus those of its child cgroups (as upstream: their
 * reclaim is theirs). Microseconds.
 */
int memagent_memcg_psi_total(const char *psi_root, const char *path, uint64_t *ret);

struct memagent_memcg_job {
	struct memagent_lru_gen g; /* as the round saw it */
	bool evict; /* aged often enough: its oldest generation is evicted after the aging */
};

struct memagent_memcg_child {
	const char *lru_gen; /* the debugfs file */
	const char *psi_root;
	const char *meminfo;
	struct memagent_memcg_config cfg;
	const struct memagent_memcg_job *jobs;
	size_t n_jobs;
	int out_fd; /* one line per job: "<path> <node> aged|evicted <file> <anon> <stop>" */
};

/* In the forked child: ages every job, then evicts the oldest generation of those that ask. */
int memagent_memcg_child_run(const struct memagent_memcg_child *c);

#endif
