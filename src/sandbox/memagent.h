/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mem-agent (agent.mem_agent_enable) on the loop: a timer runs a compaction
 * round every period_secs; a round that decides to compact (guest/memagent-compact.h)
 * forks a child that writes 1 to /proc/sys/vm/compact_memory, watched each
 * second and killed after compact_sec_max or when PSI passes
 * compact_psi_percent_limit. Beside it, memcg reclaim through MGLRU has its own
 * timer and child (see memagent_memcg_set). Nothing blocks the loop. What happens
 * is reported through a callback (the agent logs it); this code does not log.
 */
#ifndef AGENT_SANDBOX_MEMAGENT_H
#define AGENT_SANDBOX_MEMAGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "guest/memagent-compact.h"
#include "guest/memagent-memcg.h"
#include "loop/loop.h"
#include "loop/reaper.h"

#define MEMAGENT_PROC_PSI "/proc/pressure"
#define MEMAGENT_COMPACT_MEMORY "/proc/sys/vm/compact_memory"
#define MEMAGENT_LRU_GEN_ENABLED "/sys/kernel/mm/lru_gen/enabled"
/* After a round that failed (fork, say): as upstream's AGENT_WORK_ERROR_SLEEP_SECS. */
#define MEMAGENT_ERROR_SLEEP_SECS (5 * 60)

enum memagent_event_kind {
	MEMAGENT_EV_SKIPPED, /* a round that did not compact: verdict, psi_percent */
	MEMAGENT_EV_STARTED, /* a compaction child started: verdict, psi_percent, pid */
	MEMAGENT_EV_DONE, /* it ended: pid, status, duration_ms, stop_reason (NULL if none) */
	MEMAGENT_EV_ERROR, /* a round failed: msg */
	MEMAGENT_EV_MEMCG, /* a memcg round's outcome for one memcg: msg (the child's line) */
	MEMAGENT_EV_MEMCG_OFF, /* memcg reclaim cannot run: msg says why */
};

struct memagent_event {
	enum memagent_event_kind kind;
	enum memagent_compact_verdict verdict;
	uint64_t psi_percent;
	pid_t pid;
	int status; /* raw wait status */
	uint64_t duration_ms;
	const char *stop_reason; /* "timeout" or "pressure" when the child was killed */
	const char *msg;
};

typedef void (*memagent_event_fn)(const struct memagent_event *ev, void *data);

struct memagent_memcg_update {
	bool has_disabled, has_swap, has_swappiness_max, has_period_secs,
		has_period_psi_percent_limit, has_eviction_psi_percent_limit,
		has_eviction_run_aging_count_min;
	bool disabled, swap;
	uint32_t swappiness_max;
	uint64_t period_secs;
	uint32_t period_psi_percent_limit, eviction_psi_percent_limit;
	uint64_t eviction_run_aging_count_min;
};

struct memagent_paths {
	const char *psi_dir; /* holds "memory" and "io" */
	const char *compact_memory;
	const char *meminfo;
	const char *pagetypeinfo;
	const char *lru_gen_enabled;
	const char *lru_gen; /* the debugfs file; NULL: no memcg reclaim */
	const char *debugfs; /* mounted there when lru_gen is missing, or NULL */
	const char *cgroup_root; /* where a memcg's path is found (psi files, its inode) */
};

struct memagent;

/*
 * Starts the mem-agent with the given compaction settings; the first round runs at
 * once (as upstream). paths NULL: the kernel's. Fails when PSI cannot be read.
 */
int memagent_new(struct loop *loop, struct reaper *reaper,
		 const struct memagent_compact_config *cfg, const struct memagent_paths *paths,
		 memagent_event_fn fn, void *data, struct memagent **ret, agent_error_t **err);
/* Stops the timer and kills a running compaction. Returns NULL. */
struct memagent *memagent_free(struct memagent *ma);

/* MemAgentCompactSet: checks and applies the set fields; re-arms the timer if needed. */
int memagent_compact_set(struct memagent *ma, const struct memagent_compact_update *u,
			 agent_error_t **err);
const struct memagent_compact_config *memagent_compact_config(const struct memagent *ma);
/* Compactions started so far. */
uint64_t memagent_compactions(const struct memagent *ma);

/*
 * MemAgentMemcgSet: the set fields are checked (GRPC_INVALID_ARGUMENT) and stored;
 * GRPC_UNIMPLEMENTED when memcg reclaim cannot run here (no MGLRU, no lru_gen debugfs
 * file, no per-cgroup PSI), saying why. A change of period_secs or disabled starts a
 * round at once, as upstream.
 *
 * A memcg round (every period_secs, the first at start): the lru_gen text is read;
 * each memcg whose own pressure since the previous round is within
 * period_psi_percent_limit and whose youngest generation is older than 60 s is aged
 * (a new generation); one aged eviction_run_aging_count_min times or more then has
 * its oldest generation evicted, batch by batch, until the generations move, the
 * oldest one is empty or stops shrinking, or the memcg's pressure passes
 * eviction_psi_percent_limit (upstream's rules, libs/mem-agent memcg.rs). The aging
 * and eviction run in a child of the agent, killed after MEMAGENT_MEMCG_SEC_MAX.
 */
#define MEMAGENT_MEMCG_SEC_MAX (5 * 60)
int memagent_memcg_set(struct memagent *ma, const struct memagent_memcg_update *u,
		       agent_error_t **err);
const struct memagent_memcg_config *memagent_memcg_config(const struct memagent *ma);
/* memcg rounds that forked a child so far. */
uint64_t memagent_memcg_rounds(const struct memagent *ma);

#endif
