/* SPDX-License-Identifier: Apache-2.0 */
/* The mem-agent's compaction rounds on the loop (see memagent.h). */
#include "sandbox/memagent.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/macro.h"
#include "loop/fork.h"
#include "base/status.h"

#define TEXT_MAX (256u << 10) /* pagetypeinfo of a large NUMA guest fits */
#define WATCH_MS 1000

struct memagent {
	struct loop *loop;
	struct reaper *reaper;
	struct memagent_paths paths;
	char psi_mem[256], psi_io[256];
	memagent_event_fn fn;
	void *data;
	struct memagent_compact_config cfg;
	struct memagent_compact_state st;
	struct memagent_psi_period period_psi; /* across rounds */
	struct memagent_psi_period compact_psi; /* during one compaction */
	struct memagent_memcg_config memcg;
	struct loop_timer *timer; /* the next round, or the watch tick of a compaction */
	uint64_t last_reset_ms; /* the period counts from here (upstream's Timeout) */
	bool reset_once; /* false until the first reset: the first round runs at once */
	pid_t child; /* 0: none */
	uint64_t child_start_ms;
	int64_t rest_sec;
	const char *stop_reason;
	enum memagent_compact_verdict verdict;
	uint64_t compactions;
};

static const struct memagent_paths default_paths = {
	.psi_dir = MEMAGENT_PROC_PSI,
	.compact_memory = MEMAGENT_COMPACT_MEMORY,
	.meminfo = "/proc/meminfo",
	.pagetypeinfo = "/proc/pagetypeinfo",
	.lru_gen_enabled = MEMAGENT_LRU_GEN_ENABLED,
};

static void emit(struct memagent *ma, struct memagent_event *ev)
{
	if (ma->fn)
		ma->fn(ev, ma->data);
}

static void emit_error(struct memagent *ma, const char *msg)
{
	struct memagent_event ev = {.kind = MEMAGENT_EV_ERROR, .msg = msg};
	emit(ma, &ev);
}

/* The whole (bounded) text of a proc file, NUL-terminated, into *ret (malloc'd). */
static int read_text(const char *path, char **ret)
{
	int r = read_file_all(path, TEXT_MAX, ret);
	return r < 0 ? r : 0;
}

static int read_psi_file(const char *path, uint64_t *ret)
{
	_cleanup_free_ char *t = NULL;
	int r = read_text(path, &t);
	return r < 0 ? r : memagent_psi_some_total(t, ret);
}

/* memory + io "some" totals, as upstream sums them. */
static int read_psi_total(struct memagent *ma, uint64_t *ret)
{
	uint64_t m, i;
	int r = read_psi_file(ma->psi_mem, &m);
	if (r < 0)
		return r;
	r = read_psi_file(ma->psi_io, &i);
	if (r < 0)
		return r;
	*ret = m + i;
	return 0;
}

static int read_mem(struct memagent *ma, uint64_t *ret_memfree_kb, uint64_t *ret_movable)
{
	_cleanup_free_ char *mi = NULL, *pti = NULL;
	int r = read_text(ma->paths.meminfo, &mi);
	if (r < 0)
		return r;
	r = read_text(ma->paths.pagetypeinfo, &pti);
	if (r < 0)
		return r;
	r = memagent_meminfo_kb(mi, "MemFree", ret_memfree_kb);
	if (r < 0)
		return r;
	return memagent_free_movable_pages(pti, ma->cfg.compact_order, ret_movable);
}

static void on_round(struct loop_timer *t, void *data);

#define FAR_MS (1ull << 42) /* ~139 years: "never" that timerfd still takes */

static uint64_t period_ms(const struct memagent *ma)
{
	return ma->cfg.period_secs >= FAR_MS / 1000 ? FAR_MS : ma->cfg.period_secs * 1000;
}

static void arm_at(struct memagent *ma, uint64_t deadline)
{
	ma->timer = loop_timer_cancel(ma->loop, ma->timer);
	if (ma->cfg.disabled || ma->child)
		return;
	ma->timer = loop_timer_add(ma->loop, deadline, on_round, ma);
	if (!ma->timer)
		emit_error(ma, "cannot arm the compaction timer");
}

/*
 * Arms the next round period_secs after the last reset (at once if that is
 * past, or if there was none yet: upstream's Timeout starts expired). Not a
 * clock comparison: in a guest booted a moment ago CLOCK_MONOTONIC is below
 * any period.
 */
static void arm_round(struct memagent *ma)
{
	arm_at(ma, ma->reset_once ? ma->last_reset_ms + period_ms(ma) : loop_now_ms());
}

static void reset_period(struct memagent *ma)
{
	ma->last_reset_ms = loop_now_ms();
	ma->reset_once = true;
}

/* A round failed: as upstream, the next one waits MEMAGENT_ERROR_SLEEP_SECS. */
static void arm_after_error(struct memagent *ma)
{
	arm_at(ma, loop_now_ms() + MEMAGENT_ERROR_SLEEP_SECS * 1000ull);
}

static void round_over(struct memagent *ma)
{
	reset_period(ma);
	arm_round(ma);
}

static void on_child_exit(pid_t pid, int status, void *data)
{
	struct memagent *ma = data;
	uint64_t memfree_kb, movable;
	struct memagent_event ev = {
		.kind = MEMAGENT_EV_DONE,
		.verdict = ma->verdict,
		.pid = pid,
		.status = status,
		.duration_ms = loop_now_ms() - ma->child_start_ms,
		.stop_reason = ma->stop_reason,
	};

	ma->child = 0;
	ma->timer = loop_timer_cancel(ma->loop, ma->timer);
	emit(ma, &ev);
	if (read_mem(ma, &memfree_kb, &movable) < 0) {
		/* as upstream: the round failed, the next one waits longer */
		emit_error(ma, "cannot read meminfo or pagetypeinfo after a compaction");
		arm_after_error(ma);
		return;
	}
	memagent_compact_done(&ma->st, memfree_kb, movable);
	round_over(ma);
}

static void kill_child(struct memagent *ma, const char *why)
{
	if (ma->stop_reason)
		return;
	ma->stop_reason = why;
	reaper_kill(ma->reaper, ma->child, SIGKILL);
}

/* Each second of a compaction: time left, and the pressure it causes. */
static void on_watch(struct loop_timer *t, void *data)
{
	struct memagent *ma = data;
	uint64_t total;

	ma->timer = NULL;
	if (!ma->child)
		return;
	ma->rest_sec--;
	if (ma->rest_sec <= 0)
		kill_child(ma, "timeout");
	if (read_psi_total(ma, &total) < 0) {
		kill_child(ma, "pressure unreadable");
	} else {
		uint64_t pct = memagent_psi_percent(&ma->compact_psi, total, loop_now_ms());
		if (pct > ma->cfg.compact_psi_percent_limit)
			kill_child(ma, "pressure");
	}
	ma->timer = loop_timer_add(ma->loop, loop_now_ms() + WATCH_MS, on_watch, ma);
}

static int start_child(struct memagent *ma, agent_error_t **err)
{
	uint64_t total;
	pid_t pid = loop_fork(ma->reaper, NULL, 0, 0, NULL, err);

	if (pid < 0)
		return agent_error_wrap(err, "starting a compaction");
	if (pid == 0) {
		/* The child only writes; the kernel compacts in its context, so killing it stops.
		 */
		int fd = open(ma->paths.compact_memory, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			_exit(2);
		_exit(write(fd, "1", 1) == 1 ? 0 : 1);
	}
	ma->child = pid;
	ma->child_start_ms = loop_now_ms();
	ma->stop_reason = NULL;
	ma->rest_sec = ma->cfg.compact_sec_max;
	ma->compact_psi = (struct memagent_psi_period){0};
	if (read_psi_total(ma, &total) == 0)
		memagent_psi_percent(&ma->compact_psi, total, ma->child_start_ms);
	ma->compactions++;
	int r = reaper_watch(ma->reaper, pid, on_child_exit, ma);
	if (r < 0) {
		reaper_kill(ma->reaper, pid, SIGKILL);
		reaper_unwatch(ma->reaper, pid);
		ma->child = 0;
		return agent_error_setsys(err, -r, "watching the compaction child");
	}
	if (r == 0 && ma->child) {
		if (ma->rest_sec <= 0)
			kill_child(ma, "timeout");
		ma->timer = loop_timer_add(ma->loop, loop_now_ms() + WATCH_MS, on_watch, ma);
	}
	return 0;
}

static void on_round(struct loop_timer *t, void *data)
{
	struct memagent *ma = data;
	struct memagent_sample s = {0};
	uint64_t total, pct = 0;
	_cleanup_error_ agent_error_t *err = NULL;

	ma->timer = NULL;
	if (ma->cfg.disabled || ma->child)
		return;
	if (read_psi_total(ma, &total) == 0) {
		pct = memagent_psi_percent(&ma->period_psi, total, loop_now_ms());
		s.psi_ok = pct <= ma->cfg.period_psi_percent_limit;
	}
	if (s.psi_ok)
		s.have_mem = read_mem(ma, &s.memfree_kb, &s.free_movable) == 0;
	ma->verdict = memagent_compact_decide(&ma->cfg, &ma->st, &s);
	struct memagent_event ev = {.verdict = ma->verdict, .psi_percent = pct};
	if (!memagent_verdict_compacts(ma->verdict)) {
		ev.kind = MEMAGENT_EV_SKIPPED;
		emit(ma, &ev);
		round_over(ma);
		return;
	}
	sched_yield();
	if (start_child(ma, &err) < 0) {
		emit_error(ma, err->msg);
		arm_after_error(ma);
		return;
	}
	ev.kind = MEMAGENT_EV_STARTED;
	ev.pid = ma->child ? ma->child : 0;
	emit(ma, &ev);
}

int memagent_new(struct loop *loop, struct reaper *reaper,
		 const struct memagent_compact_config *cfg, const struct memagent_paths *paths,
		 memagent_event_fn fn, void *data, struct memagent **ret, agent_error_t **err)
{
	uint64_t total;
	struct memagent *ma = calloc(1, sizeof(*ma));

	if (!ma)
		return agent_error_set(err, ENOMEM, "mem-agent");
	ma->loop = loop;
	ma->reaper = reaper;
	ma->paths = paths ? *paths : default_paths;
	ma->fn = fn;
	ma->data = data;
	ma->cfg = *cfg;
	ma->memcg = (struct memagent_memcg_config){
		.swappiness_max = 50,
		.period_secs = 10 * 60,
		.period_psi_percent_limit = 1,
		.eviction_psi_percent_limit = 1,
		.eviction_run_aging_count_min = 3,
	};
	snprintf(ma->psi_mem, sizeof(ma->psi_mem), "%s/memory", ma->paths.psi_dir);
	snprintf(ma->psi_io, sizeof(ma->psi_io), "%s/io", ma->paths.psi_dir);
	int r = read_psi_total(ma, &total);
	if (r < 0) {
		free(ma);
		return agent_error_setsys(err, -r, "mem-agent needs PSI (%s/memory and io)",
					  paths ? paths->psi_dir : MEMAGENT_PROC_PSI);
	}
	arm_round(ma); /* never reset: the first round at once */
	*ret = ma;
	return 0;
}

struct memagent *memagent_free(struct memagent *ma)
{
	if (!ma)
		return NULL;
	ma->timer = loop_timer_cancel(ma->loop, ma->timer);
	if (ma->child) {
		/* Through the reaper (its pidfd) while it still knows the child, then forget it. */
		reaper_kill(ma->reaper, ma->child, SIGKILL);
		reaper_unwatch(ma->reaper, ma->child);
	}
	free(ma);
	return NULL;
}

int memagent_compact_set(struct memagent *ma, const struct memagent_compact_update *u,
			 agent_error_t **err)
{
	bool was_disabled = ma->cfg.disabled, rearm;
	int r = memagent_compact_config_apply(&ma->cfg, u, &rearm, err);
	if (r < 0)
		return r;
	if (!rearm)
		return 0;
	if (was_disabled && !ma->cfg.disabled)
		reset_period(ma); /* as upstream: re-enabled counts from now */
	arm_round(ma);
	return 0;
}

const struct memagent_compact_config *memagent_compact_config(const struct memagent *ma)
{
	return &ma->cfg;
}

uint64_t memagent_compactions(const struct memagent *ma)
{
	return ma->compactions;
}

/* Whether MGLRU is there and on; -errno and *why otherwise. */
static int lru_gen_on(const char *path, const char **why)
{
	_cleanup_free_ char *t = NULL;
	int r = read_text(path, &t);

	if (r < 0) {
		*why = r == -ENOENT ? "the kernel has no MGLRU (" MEMAGENT_LRU_GEN_ENABLED
				      " is missing, CONFIG_LRU_GEN off)"
				    : "cannot read " MEMAGENT_LRU_GEN_ENABLED;
		return r;
	}
	char *end;
	unsigned long v = strtoul(t, &end, 16);
	if (end == t) {
		*why = "cannot parse " MEMAGENT_LRU_GEN_ENABLED;
		return -EINVAL;
	}
	if (v == 0) {
		/* Debian's guest kernel boots so (CONFIG_LRU_GEN=y, CONFIG_LRU_GEN_ENABLED off). */
		*why = "MGLRU is off (" MEMAGENT_LRU_GEN_ENABLED " is 0); upstream's mem-agent "
		       "switches it on, but this agent implements no aging or eviction to use it";
		return -EOPNOTSUPP;
	}
	return 0;
}

int memagent_memcg_set(struct memagent *ma, const struct memagent_memcg_update *u,
		       agent_error_t **err)
{
	const char *why = NULL;
	struct memagent_memcg_config *c = &ma->memcg;

	if (lru_gen_on(ma->paths.lru_gen_enabled, &why) < 0)
		return agent_error_set_status(err, GRPC_UNIMPLEMENTED, EOPNOTSUPP,
					      "memcg reclaim needs MGLRU: %s", why);
	if (u->has_swappiness_max && u->swappiness_max > 200)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "swappiness_max must be at most 200");
	if (u->has_period_secs && u->period_secs == 0)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "period_secs must be at least 1");
	if ((u->has_period_psi_percent_limit && u->period_psi_percent_limit > 100) ||
	    (u->has_eviction_psi_percent_limit && u->eviction_psi_percent_limit > 100))
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "psi percent limits must be at most 100");
	if (u->has_disabled)
		c->disabled = u->disabled;
	if (u->has_swap)
		c->swap = u->swap;
	if (u->has_swappiness_max)
		c->swappiness_max = (uint8_t)u->swappiness_max;
	if (u->has_period_secs)
		c->period_secs = u->period_secs;
	if (u->has_period_psi_percent_limit)
		c->period_psi_percent_limit = (uint8_t)u->period_psi_percent_limit;
	if (u->has_eviction_psi_percent_limit)
		c->eviction_psi_percent_limit = (uint8_t)u->eviction_psi_percent_limit;
	if (u->has_eviction_run_aging_count_min)
		c->eviction_run_aging_count_min = u->eviction_run_aging_count_min;
	if (c->disabled)
		return 0;
	return agent_error_set_status(err, GRPC_UNIMPLEMENTED, EOPNOTSUPP,
				      "memcg reclaim (MGLRU aging and eviction through "
				      "/sys/kernel/debug/lru_gen) is not implemented; the settings "
				      "are kept");
}
