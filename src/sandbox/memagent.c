/* SPDX-License-Identifier: Apache-2.0 */
/* The mem-agent's compaction rounds on the loop (see memagent.h). */
#include "sandbox/memagent.h"
#include "sandbox/memagent-memcg.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/macro.h"
#include "loop/fork.h"
#include "base/status.h"

#define TEXT_MAX (256u << 10) /* pagetypeinfo of a large NUMA guest fits */
#define WATCH_MS 1000

/* A memcg x node the rounds follow: how often it was aged, its pressure across rounds. */
struct memcg_seen {
	char path[MEMAGENT_MEMCG_PATH_MAX];
	uint32_t id, node;
	uint64_t ino;
	uint64_t aged;
	struct memagent_psi_period psi;
	bool seen;
};

struct memcg_round {
	const char *off; /* why memcg reclaim cannot run, or NULL */
	char off_buf[160];
	char psi_root[600];
	struct memcg_seen *seen;
	size_t n_seen;
	struct loop_timer *timer;
	uint64_t last_reset_ms;
	bool reset_once;
	pid_t child;
	int out; /* the child's report pipe */
	uint64_t child_start_ms;
	uint64_t rounds;
};

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
	struct memcg_round mr;
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
	.lru_gen = "/sys/kernel/debug/lru_gen",
	.debugfs = "/sys/kernel/debug",
	.cgroup_root = "/sys/fs/cgroup",
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
	/* While a compaction runs the timer is its watch: it stays; its end arms the next round. */
	if (ma->child)
		return;
	ma->timer = loop_timer_cancel(ma->loop, ma->timer);
	if (ma->cfg.disabled)
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

static void memcg_start(struct memagent *ma);
static void memcg_stop(struct memagent *ma);

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
	memagent_memcg_config_default(&ma->memcg);
	ma->mr.out = -1;
	snprintf(ma->psi_mem, sizeof(ma->psi_mem), "%s/memory", ma->paths.psi_dir);
	snprintf(ma->psi_io, sizeof(ma->psi_io), "%s/io", ma->paths.psi_dir);
	int r = read_psi_total(ma, &total);
	if (r < 0) {
		free(ma);
		return agent_error_setsys(err, -r, "mem-agent needs PSI (%s/memory and io)",
					  paths ? paths->psi_dir : MEMAGENT_PROC_PSI);
	}
	arm_round(ma); /* never reset: the first round at once */
	memcg_start(ma);
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
	memcg_stop(ma);
	free(ma->mr.seen);
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

/* --- memcg reclaim (MGLRU) ------------------------------------------------------------------ */

/* Why memcg reclaim cannot run here, into mr.off (NULL when it can); switches MGLRU on. */
static void memcg_prepare(struct memagent *ma)
{
	struct memcg_round *mr = &ma->mr;
	_cleanup_free_ char *t = NULL;
	char path[300];
	struct stat st;

	mr->off = NULL;
	if (!ma->paths.lru_gen || !ma->paths.cgroup_root) {
		mr->off = "no lru_gen file configured";
		return;
	}
	int r = read_text(ma->paths.lru_gen_enabled, &t);
	if (r < 0) {
		mr->off = r == -ENOENT ? "the kernel has no MGLRU (" MEMAGENT_LRU_GEN_ENABLED
					 " is missing, CONFIG_LRU_GEN off)"
				       : "cannot read " MEMAGENT_LRU_GEN_ENABLED;
		return;
	}
	char *end;
	unsigned long v = strtoul(t, &end, 16);
	if (end == t) {
		mr->off = "cannot parse " MEMAGENT_LRU_GEN_ENABLED;
		return;
	}
	/* Every MGLRU feature on, as upstream's mem-agent does (Debian's kernel boots with 0). */
	if (v != 7 && write_file(ma->paths.lru_gen_enabled, "7") < 0) {
		mr->off = "MGLRU is off and " MEMAGENT_LRU_GEN_ENABLED " cannot be switched on";
		return;
	}
	if (access(ma->paths.lru_gen, R_OK | W_OK) < 0 && errno == ENOENT && ma->paths.debugfs)
		mount("debugfs", ma->paths.debugfs, "debugfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		      NULL);
	if (access(ma->paths.lru_gen, R_OK | W_OK) < 0) {
		snprintf(mr->off_buf, sizeof(mr->off_buf), "no usable %s (debugfs): %s",
			 ma->paths.lru_gen, strerror(errno));
		mr->off = mr->off_buf;
		return;
	}
	/* Per-cgroup pressure: the v2 root, or a v1 hierarchy that has it (as upstream). */
	snprintf(path, sizeof(path), "%s/memory.pressure", ma->paths.cgroup_root);
	if (access(path, R_OK) == 0) {
		snprintf(mr->psi_root, sizeof(mr->psi_root), "%s", ma->paths.cgroup_root);
		return;
	}
	DIR *d = opendir(ma->paths.cgroup_root);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/memory.pressure", ma->paths.cgroup_root,
			 e->d_name);
		if (stat(path, &st) == 0) {
			snprintf(mr->psi_root, sizeof(mr->psi_root), "%s/%s", ma->paths.cgroup_root,
				 e->d_name);
			closedir(d);
			return;
		}
	}
	if (d)
		closedir(d);
	mr->off = "no per-cgroup pressure (PSI) files: cgroup v2 is needed "
		  "(agent.unified_cgroup_hierarchy=1)";
}

static void on_memcg_round(struct loop_timer *t, void *data);

static void memcg_arm(struct memagent *ma)
{
	struct memcg_round *mr = &ma->mr;

	if (mr->child)
		return; /* the timer is the child's watch; its end arms the next round */
	mr->timer = loop_timer_cancel(ma->loop, mr->timer);
	if (mr->off || ma->memcg.disabled)
		return;
	uint64_t period =
		ma->memcg.period_secs >= FAR_MS / 1000 ? FAR_MS : ma->memcg.period_secs * 1000;
	mr->timer = loop_timer_add(ma->loop,
				   mr->reset_once ? mr->last_reset_ms + period : loop_now_ms(),
				   on_memcg_round, ma);
	if (!mr->timer)
		emit_error(ma, "cannot arm the memcg timer");
}

static void memcg_round_over(struct memagent *ma)
{
	ma->mr.last_reset_ms = loop_now_ms();
	ma->mr.reset_once = true;
	memcg_arm(ma);
}

static void memcg_start(struct memagent *ma)
{
	memcg_prepare(ma);
	if (ma->mr.off) {
		struct memagent_event ev = {.kind = MEMAGENT_EV_MEMCG_OFF, .msg = ma->mr.off};
		emit(ma, &ev);
		return;
	}
	memcg_arm(ma); /* never reset: the first round at once */
}

static void memcg_stop(struct memagent *ma)
{
	struct memcg_round *mr = &ma->mr;

	mr->timer = loop_timer_cancel(ma->loop, mr->timer);
	if (mr->child) {
		reaper_kill(ma->reaper, mr->child, SIGKILL);
		reaper_unwatch(ma->reaper, mr->child);
		mr->child = 0;
	}
	if (mr->out >= 0)
		close(mr->out);
	mr->out = -1;
}

static void on_memcg_exit(pid_t pid, int status, void *data)
{
	struct memagent *ma = data;
	struct memcg_round *mr = &ma->mr;
	char buf[65536];
	ssize_t n = mr->out >= 0 ? read(mr->out, buf, sizeof(buf) - 1) : -1;

	mr->child = 0;
	mr->timer = loop_timer_cancel(ma->loop, mr->timer);
	buf[n > 0 ? n : 0] = '\0';
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct memagent_event ev = {.kind = MEMAGENT_EV_MEMCG, .pid = pid, .msg = line};
		emit(ma, &ev);
	}
	if (mr->out >= 0)
		close(mr->out);
	mr->out = -1;
	struct memagent_event ev = {
		.kind = MEMAGENT_EV_MEMCG,
		.pid = pid,
		.status = status,
		.duration_ms = loop_now_ms() - mr->child_start_ms,
		.msg = "round done",
	};
	emit(ma, &ev);
	memcg_round_over(ma);
}

static void on_memcg_watch(struct loop_timer *t, void *data)
{
	struct memagent *ma = data;

	ma->mr.timer = NULL;
	if (ma->mr.child)
		reaper_kill(ma->reaper, ma->mr.child, SIGKILL);
}

/* The follow-up of (path, node): found, or made afresh when new or when its id or inode changed. */
static struct memcg_seen *memcg_follow(struct memagent *ma, const struct memagent_lru_gen *g,
				       uint64_t ino)
{
	struct memcg_round *mr = &ma->mr;
	struct memcg_seen *s = NULL;

	for (size_t i = 0; i < mr->n_seen && !s; i++)
		if (mr->seen[i].node == g->node && !strcmp(mr->seen[i].path, g->path))
			s = &mr->seen[i];
	if (!s) {
		if (mr->n_seen >= MEMAGENT_MEMCG_MAX)
			return NULL;
		struct memcg_seen *n = realloc(mr->seen, (mr->n_seen + 1) * sizeof(*n));
		if (!n)
			return NULL;
		mr->seen = n;
		s = &mr->seen[mr->n_seen++];
		memset(s, 0, sizeof(*s));
	}
	if (s->id != g->memcg_id || s->ino != ino || !s->path[0]) {
		memset(s, 0, sizeof(*s));
		snprintf(s->path, sizeof(s->path), "%s", g->path);
		s->id = g->memcg_id;
		s->node = g->node;
		s->ino = ino;
	}
	s->seen = true;
	return s;
}

/* The jobs of this round, as upstream picks them; *ret_n of them. */
static struct memagent_memcg_job *
memcg_pick(struct memagent *ma, const struct memagent_lru_gen *all, size_t n, size_t *ret_n)
{
	struct memcg_round *mr = &ma->mr;
	struct memagent_memcg_job *jobs = calloc(n ? n : 1, sizeof(*jobs));
	size_t k = 0;

	if (!jobs)
		return NULL;
	for (size_t i = 0; i < mr->n_seen; i++)
		mr->seen[i].seen = false;
	for (size_t i = 0; i < n; i++) {
		const struct memagent_lru_gen *g = &all[i];
		char dir[MEMAGENT_MEMCG_PATH_MAX + 300];
		struct stat st;
		uint64_t total;
		if (g->memcg_id == 0)
			continue; /* offline: nothing to tell the kernel */
		snprintf(dir, sizeof(dir), "%s%s", mr->psi_root, g->path);
		if (stat(dir, &st) < 0)
			continue;
		struct memcg_seen *s = memcg_follow(ma, g, (uint64_t)st.st_ino);
		if (!s || memagent_memcg_psi_total(mr->psi_root, g->path, &total) < 0)
			continue;
		if (memagent_psi_percent(&s->psi, total, loop_now_ms()) >
		    ma->memcg.period_psi_percent_limit)
			continue;
		if (g->youngest_age_ms < MEMAGENT_IDLE_FRESH_IGNORE_MS)
			continue;
		s->aged++;
		jobs[k].g = *g;
		jobs[k++].evict = s->aged >= ma->memcg.eviction_run_aging_count_min;
	}
	/* Memcgs gone from the text are forgotten. */
	size_t w = 0;
	for (size_t i = 0; i < mr->n_seen; i++)
		if (mr->seen[i].seen)
			mr->seen[w++] = mr->seen[i];
	mr->n_seen = w;
	*ret_n = k;
	return jobs;
}

static int memcg_fork(struct memagent *ma, const struct memagent_memcg_job *jobs, size_t n,
		      agent_error_t **err)
{
	struct memcg_round *mr = &ma->mr;
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return agent_error_setsys(err, errno, "memcg round: pipe");
	pid_t pid = loop_fork(ma->reaper, &p[1], 1, 0, NULL, err);
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return agent_error_wrap(err, "starting a memcg round");
	}
	if (pid == 0) {
		struct memagent_memcg_child c = {
			.lru_gen = ma->paths.lru_gen,
			.psi_root = mr->psi_root,
			.meminfo = ma->paths.meminfo,
			.cfg = ma->memcg,
			.jobs = jobs,
			.n_jobs = n,
			.out_fd = p[1],
		};
		_exit(memagent_memcg_child_run(&c));
	}
	close(p[1]);
	mr->out = p[0];
	mr->child = pid;
	mr->child_start_ms = loop_now_ms();
	mr->rounds++;
	int r = reaper_watch(ma->reaper, pid, on_memcg_exit, ma);
	if (r < 0) {
		reaper_kill(ma->reaper, pid, SIGKILL);
		reaper_unwatch(ma->reaper, pid);
		mr->child = 0;
		close(mr->out);
		mr->out = -1;
		return agent_error_setsys(err, -r, "watching the memcg child");
	}
	if (r == 0 && mr->child)
		mr->timer =
			loop_timer_add(ma->loop, loop_now_ms() + MEMAGENT_MEMCG_SEC_MAX * 1000ull,
				       on_memcg_watch, ma);
	return 0;
}

static void on_memcg_round(struct loop_timer *t, void *data)
{
	struct memagent *ma = data;
	_cleanup_free_ char *text = NULL;
	_cleanup_error_ agent_error_t *err = NULL;
	struct memagent_lru_gen *all = NULL;
	size_t n = 0, n_jobs = 0;

	ma->mr.timer = NULL;
	if (ma->mr.off || ma->memcg.disabled || ma->mr.child)
		return;
	int r = read_file_all(ma->paths.lru_gen, MEMAGENT_LRU_GEN_MAX, &text);
	if (r < 0) {
		emit_error(ma, "memcg round: cannot read the lru_gen file");
		ma->mr.last_reset_ms = loop_now_ms() + MEMAGENT_ERROR_SLEEP_SECS * 1000ull;
		ma->mr.reset_once = true;
		memcg_arm(ma);
		return;
	}
	if (memagent_lru_gen_parse(text, MEMAGENT_MEMCG_MAX, &all, &n, &err) < 0) {
		emit_error(ma, err->msg);
		memcg_round_over(ma);
		return;
	}
	struct memagent_memcg_job *jobs = memcg_pick(ma, all, n, &n_jobs);
	free(all);
	if (!jobs || n_jobs == 0) {
		struct memagent_event ev = {.kind = MEMAGENT_EV_MEMCG, .msg = "nothing to age"};
		emit(ma, &ev);
		free(jobs);
		memcg_round_over(ma);
		return;
	}
	sched_yield();
	r = memcg_fork(ma, jobs, n_jobs, &err);
	free(jobs); /* the child has its own copy */
	if (r < 0) {
		emit_error(ma, err->msg);
		ma->mr.last_reset_ms = loop_now_ms() + MEMAGENT_ERROR_SLEEP_SECS * 1000ull;
		ma->mr.reset_once = true;
		memcg_arm(ma);
	}
}

int memagent_memcg_set(struct memagent *ma, const struct memagent_memcg_update *u,
		       agent_error_t **err)
{
	struct memagent_memcg_config *c = &ma->memcg;

	if (ma->mr.off)
		memcg_prepare(ma); /* debugfs or MGLRU may have come since */
	if (ma->mr.off)
		return agent_error_set_status(err, GRPC_UNIMPLEMENTED, EOPNOTSUPP,
					      "memcg reclaim needs MGLRU: %s", ma->mr.off);
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
	/* As upstream: a new period or a flip of disabled starts the timer again, expired. */
	bool reset = (u->has_period_secs && u->period_secs != c->period_secs) ||
		     (u->has_disabled && u->disabled != c->disabled);
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
	if (reset)
		ma->mr.reset_once = false;
	if (reset || !ma->mr.timer)
		memcg_arm(ma);
	return 0;
}

const struct memagent_memcg_config *memagent_memcg_config(const struct memagent *ma)
{
	return &ma->memcg;
}

uint64_t memagent_memcg_rounds(const struct memagent *ma)
{
	return ma->mr.rounds;
}
