/* SPDX-License-Identifier: Apache-2.0 */
/* The mem-agent: parsers and decisions on /proc texts, and rounds on a real loop. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <glob.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "base/fsutil.h"
#include "guest/memagent-compact.h"
#include "guest/memagent-memcg.h"
#include "harness.h"
#include "loop/loop.h"
#include "loop/reaper.h"
#include "rpc/status.h"
#include "sandbox/memagent.h"

/* Taken from this machine (Debian 12, kernel 6.18). */
static const char pagetypeinfo[] =
	"Page block order: 9\n"
	"Pages per block:  512\n"
	"\n"
	"Free pages count per migrate type at order       0      1      2      3      4      5     "
	" "
	"6      7      8      9     10 \n"
	"Node    0, zone      DMA, type    Unmovable      0      0      0      0      0      0     "
	" "
	"0      0      1      0      0 \n"
	"Node    0, zone      DMA, type      Movable      0      0      0      0      0      0     "
	" "
	"0      0      0      1      3 \n"
	"Node    0, zone      DMA, type  Reclaimable      0      0      0      0      0      0     "
	" "
	"0      0      0      0      0 \n"
	"Node    0, zone    DMA32, type      Movable      1      1      4      2      5      4     "
	" "
	"3      3      4      2    752 \n"
	"Node    0, zone   Normal, type    Unmovable    750   1293    896    843    551    321    "
	"214     76     27      0      0 \n"
	"Node    0, zone   Normal, type      Movable   1163    359    115     45     14      8     "
	" "
	"6      3      2    163    529 \n"
	"Node    0, zone   Normal, type      Isolate      0      0      0      0      0      0     "
	" "
	"0      0      0      0      0 \n"
	"\n"
	"Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate \n"
	"Node 0, zone      DMA            1            7            0            0            0 \n"
	"Node 0, zone    DMA32            0         1528            0            0            0 \n"
	"Node 0, zone   Normal          156         1432          140            0            0 \n";

static const char meminfo[] = "MemTotal:       24684084 kB\n"
			      "MemFree:        23941796 kB\n"
			      "MemAvailable:   24000000 kB\n";

static const char psi_memory[] = "some avg10=0.00 avg60=0.00 avg300=0.00 total=83057\n"
				 "full avg10=0.00 avg60=0.00 avg300=0.00 total=53351\n";

TEST(free_movable_pages_of_a_real_pagetypeinfo)
{
	uint64_t n = 0;
	/* orders 0..8: DMA32 1843 + Normal 4461 pages; the header line adds nothing */
	ASSERT_EQ(memagent_free_movable_pages(pagetypeinfo, 9, &n), 0);
	ASSERT_EQ(n, 6304);
	ASSERT_EQ(memagent_free_movable_pages(pagetypeinfo, 11, &n), 0);
	ASSERT_EQ(n, 1406112);
	ASSERT_EQ(memagent_free_movable_pages(pagetypeinfo, 0, &n), 0);
	ASSERT_EQ(n, 0);
	/* capped counts print as ">100000" */
	ASSERT_EQ(
		memagent_free_movable_pages("Node 0, zone Normal, type Movable >100000 3\n", 9, &n),
		0);
	ASSERT_EQ(n, 100006);
	ASSERT_EQ(memagent_free_movable_pages("", 9, &n), 0);
	ASSERT_EQ(n, 0);
	ASSERT_EQ(memagent_free_movable_pages("type Movable 18446744073709551615 9\n", 9, &n),
		  -EOVERFLOW);
}

TEST(meminfo_and_psi_parsers)
{
	uint64_t v = 0;
	ASSERT_EQ(memagent_meminfo_kb(meminfo, "MemFree", &v), 0);
	ASSERT_EQ(v, 23941796);
	ASSERT_EQ(memagent_meminfo_kb(meminfo, "MemTotal", &v), 0);
	ASSERT_EQ(v, 24684084);
	ASSERT_EQ(memagent_meminfo_kb(meminfo, "Mem", &v), -ENOENT);
	ASSERT_EQ(memagent_meminfo_kb(meminfo, "SwapFree", &v), -ENOENT);
	ASSERT_EQ(memagent_psi_some_total(psi_memory, &v), 0);
	ASSERT_EQ(v, 83057);
	/* only the "some" line counts */
	ASSERT_TRUE(memagent_psi_some_total("full avg10=0.00 total=5\n", &v) < 0);
	ASSERT_TRUE(memagent_psi_some_total("some avg10=0.00 avg60=0.00\ntotal=5\n", &v) < 0);
	ASSERT_TRUE(memagent_psi_some_total("some total=x\n", &v) < 0);
	ASSERT_TRUE(memagent_psi_some_total("", &v) < 0);
}

TEST(the_real_proc_texts_parse)
{
	char buf[1 << 16];
	uint64_t v;
	FILE *f = fopen("/proc/pressure/memory", "re");
	if (!f)
		SKIP("no /proc/pressure/memory (kernel without PSI)");
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	ASSERT_EQ(memagent_psi_some_total(buf, &v), 0);
	f = fopen("/proc/pagetypeinfo", "re");
	if (!f)
		SKIP("no /proc/pagetypeinfo");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	ASSERT_EQ(memagent_free_movable_pages(buf, 11, &v), 0);
	ASSERT_TRUE(v > 0);
}

TEST(psi_percent_over_a_period)
{
	struct memagent_psi_period p = {0};
	ASSERT_EQ(memagent_psi_percent(&p, 1000000, 10000), 0); /* first sample */
	/* 50 ms stalled in 1 s: 5 % */
	ASSERT_EQ(memagent_psi_percent(&p, 1050000, 11000), 5);
	ASSERT_EQ(memagent_psi_percent(&p, 1050000, 12000), 0); /* no growth */
	ASSERT_EQ(memagent_psi_percent(&p, 1060000, 12000), 0); /* no time */
	ASSERT_EQ(memagent_psi_percent(&p, 1560000, 13000), 50);
}

TEST(decisions_as_upstream)
{
	struct memagent_compact_config c;
	struct memagent_compact_state st = {0};
	memagent_compact_config_default(&c);
	ASSERT_EQ(c.period_secs, 600);
	ASSERT_EQ(c.compact_order, 9);
	ASSERT_EQ(c.compact_threshold, 1024);
	ASSERT_EQ(c.compact_sec_max, 300);

	struct memagent_sample s = {.psi_ok = false};
	ASSERT_EQ(memagent_compact_decide(&c, &st, &s), MEMAGENT_SKIP_PSI);
	ASSERT_EQ(st.force_counter, 1);
	/* nothing compacted yet: 1025 free movable pages pass the threshold of 1024 */
	s = (struct memagent_sample){
		.psi_ok = true, .have_mem = true, .memfree_kb = 1000000, .free_movable = 1024};
	ASSERT_EQ(memagent_compact_decide(&c, &st, &s), MEMAGENT_SKIP_THRESHOLD);
	s.free_movable = 1025;
	ASSERT_EQ(memagent_compact_decide(&c, &st, &s), MEMAGENT_COMPACT_THRESHOLD);
	memagent_compact_done(&st, 1000000, 500);
	ASSERT_EQ(st.force_counter, 0);
	s.free_movable = 1524; /* 1024 more than after the last compaction: not more */
	ASSERT_EQ(memagent_compact_decide(&c, &st, &s), MEMAGENT_SKIP_THRESHOLD);
	/* MemFree fell by more than threshold pages of 4 kB */
	s.memfree_kb = 1000000 - 4096;
	ASSERT_EQ(memagent_compact_decide(&c, &st, &s), MEMAGENT_SKIP_THRESHOLD);
	s.memfree_kb = 1000000 - 4097;
	ASSERT_EQ(memagent_compact_decide(&c, &st, &s), MEMAGENT_COMPACT_THRESHOLD);
	s.have_mem = false;
	ASSERT_EQ(memagent_compact_decide(&c, &st, &s), MEMAGENT_SKIP_UNKNOWN);

	/* force after compact_force_times rounds; 0 forces every round, PSI still gates */
	st = (struct memagent_compact_state){0};
	c.compact_force_times = 2;
	ASSERT_EQ(memagent_compact_decide(&c, &st, &s), MEMAGENT_SKIP_UNKNOWN);
	ASSERT_EQ(memagent_compact_decide(&c, &st, &s), MEMAGENT_SKIP_UNKNOWN);
	ASSERT_EQ(memagent_compact_decide(&c, &st, &s), MEMAGENT_COMPACT_FORCED);
	c.compact_force_times = 0;
	ASSERT_EQ(memagent_compact_decide(&c, &st, &s), MEMAGENT_COMPACT_FORCED);
	s.psi_ok = false;
	ASSERT_EQ(memagent_compact_decide(&c, &st, &s), MEMAGENT_SKIP_PSI);
	c.compact_force_times = MEMAGENT_FORCE_NEVER;
	st.force_counter = UINT64_MAX - 5;
	s.psi_ok = true;
	ASSERT_EQ(memagent_compact_decide(&c, &st, &s), MEMAGENT_SKIP_UNKNOWN);
}

TEST(config_updates_check_every_field_first)
{
	struct memagent_compact_config c, before;
	struct memagent_compact_update u = {0};
	bool rearm = true;
	agent_error_t *err = NULL;

	memagent_compact_config_default(&c);
	before = c;
	ASSERT_EQ(memagent_compact_config_apply(&c, &u, &rearm, &err), 0);
	ASSERT_FALSE(rearm);
	ASSERT_TRUE(memcmp(&c, &before, sizeof(c)) == 0);

	u = (struct memagent_compact_update){.has_compact_threshold = true,
					     .compact_threshold = 7,
					     .has_period_psi_percent_limit = true,
					     .period_psi_percent_limit = 101};
	ASSERT_EQ(memagent_compact_config_apply(&c, &u, &rearm, &err), -EINVAL);
	ASSERT_EQ(err->status, GRPC_INVALID_ARGUMENT);
	ASSERT_TRUE(strstr(err->msg, "period_psi_percent_limit") != NULL);
	err = agent_error_free(err);
	ASSERT_EQ(c.compact_threshold, 1024); /* nothing applied */

	struct memagent_compact_update bads[] = {
		{.has_period_secs = true, .period_secs = 0},
		{.has_compact_psi_percent_limit = true, .compact_psi_percent_limit = 200},
		{.has_compact_sec_max = true, .compact_sec_max = -1},
		{.has_compact_order = true, .compact_order = 64},
	};
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		ASSERT_EQ(memagent_compact_config_apply(&c, &bads[i], &rearm, &err), -EINVAL);
		err = agent_error_free(err);
	}

	u = (struct memagent_compact_update){.has_period_secs = true, .period_secs = 1};
	ASSERT_EQ(memagent_compact_config_apply(&c, &u, &rearm, &err), 0);
	ASSERT_TRUE(rearm);
	ASSERT_EQ(c.period_secs, 1);
	u = (struct memagent_compact_update){.has_disabled = true, .disabled = true};
	ASSERT_EQ(memagent_compact_config_apply(&c, &u, &rearm, &err), 0);
	ASSERT_TRUE(rearm && c.disabled);
	ASSERT_EQ(memagent_compact_config_apply(&c, &u, &rearm, &err), 0);
	ASSERT_FALSE(rearm); /* no flip */
	u = (struct memagent_compact_update){.has_period_secs = true, .period_secs = 5};
	ASSERT_EQ(memagent_compact_config_apply(&c, &u, &rearm, &err), 0);
	ASSERT_FALSE(rearm); /* disabled: nothing to re-arm */
}

/* ---- rounds on a real loop, with the kernel files redirected into a directory ---- */

struct env {
	struct loop *l;
	struct reaper r;
	char dir[64];
	char psi[96], compact[96], mi[96], pti[96], lru[96];
	struct memagent_paths paths;
	char lru_gen[96], cg[96];
	int started, done, skipped, errors, memcg, memcg_off;
	char memcg_lines[2048];
	const char *stop_reason;
};

static void on_chld(const struct signalfd_siginfo *si, void *data)
{
	reaper_reap(data);
}

static void on_event(const struct memagent_event *ev, void *data)
{
	struct env *e = data;
	switch (ev->kind) {
	case MEMAGENT_EV_STARTED:
		e->started++;
		break;
	case MEMAGENT_EV_DONE:
		e->done++;
		e->stop_reason = ev->stop_reason;
		break;
	case MEMAGENT_EV_SKIPPED:
		e->skipped++;
		break;
	case MEMAGENT_EV_ERROR:
		e->errors++;
		break;
	case MEMAGENT_EV_MEMCG:
		e->memcg++;
		strncat(e->memcg_lines, ev->msg,
			sizeof(e->memcg_lines) - strlen(e->memcg_lines) - 2);
		strcat(e->memcg_lines, "\n");
		break;
	case MEMAGENT_EV_MEMCG_OFF:
		e->memcg_off++;
		break;
	}
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	ASSERT_NOT_NULL(f);
	ASSERT_TRUE(fputs(text, f) >= 0);
	ASSERT_EQ(fclose(f), 0);
}

static void setup(struct env *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/memagent-test.%d.XXXXXX", (int)getpid());
	ASSERT_NOT_NULL(mkdtemp(e->dir));
	snprintf(e->psi, sizeof(e->psi), "%s/pressure", e->dir);
	ASSERT_EQ(mkdir(e->psi, 0755), 0);
	snprintf(e->compact, sizeof(e->compact), "%s/compact_memory", e->dir);
	snprintf(e->mi, sizeof(e->mi), "%s/meminfo", e->dir);
	snprintf(e->pti, sizeof(e->pti), "%s/pagetypeinfo", e->dir);
	snprintf(e->lru, sizeof(e->lru), "%s/lru_gen_enabled", e->dir);
	char p[128];
	snprintf(p, sizeof(p), "%s/memory", e->psi);
	put(p, psi_memory);
	snprintf(p, sizeof(p), "%s/io", e->psi);
	put(p, psi_memory);
	put(e->mi, meminfo);
	put(e->pti, pagetypeinfo);
	snprintf(e->lru_gen, sizeof(e->lru_gen), "%s/lru_gen", e->dir);
	snprintf(e->cg, sizeof(e->cg), "%s/cgroup", e->dir);
	ASSERT_EQ(mkdir(e->cg, 0755), 0);
	e->paths = (struct memagent_paths){e->psi, e->compact, e->mi, e->pti,
					   e->lru, e->lru_gen, NULL,  e->cg};
	reaper_init(&e->r);
	ASSERT_EQ(loop_new(&e->l), 0);
	ASSERT_EQ(loop_signal_add(e->l, SIGCHLD, on_chld, &e->r), 0);
}

static void teardown(struct env *e)
{
	e->l = loop_free(e->l);
	reaper_release(&e->r);
	rm_rf(e->dir);
}

static void run_until(struct env *e, int *counter, int want, unsigned ms)
{
	uint64_t end = loop_now_ms() + ms;
	while (*counter < want && loop_now_ms() < end)
		loop_run_once(e->l, 50);
}

static void young_clock_check(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ts.tv_sec > 10)
		FAIL("not on a young clock: %lld s", (long long)ts.tv_sec);
}

static void rounds_compact_at_once_then_every_period(void)
{
	struct env e;
	struct memagent *ma = NULL;
	agent_error_t *err = NULL;
	struct memagent_compact_config c;

	setup(&e);
	memagent_compact_config_default(&c);
	put(e.compact, "");
	ASSERT_EQ(memagent_new(e.l, &e.r, &c, &e.paths, on_event, &e, &ma, &err), 0);
	/* the first round runs at once: 6304 free movable pages are over 1024 */
	run_until(&e, &e.done, 1, 3000);
	ASSERT_EQ(e.started, 1);
	ASSERT_EQ(e.done, 1);
	ASSERT_NULL(e.stop_reason);
	char buf[8] = "";
	FILE *f = fopen(e.compact, "re");
	ASSERT_NOT_NULL(f);
	ASSERT_NOT_NULL(fgets(buf, sizeof(buf), f));
	fclose(f);
	ASSERT_STREQ(buf, "1");

	/* every second, forced */
	struct memagent_compact_update u = {.has_period_secs = true,
					    .period_secs = 1,
					    .has_compact_force_times = true,
					    .compact_force_times = 0};
	ASSERT_EQ(memagent_compact_set(ma, &u, &err), 0);
	run_until(&e, &e.done, 3, 5000);
	ASSERT_EQ(e.done, 3);
	ASSERT_EQ(memagent_compactions(ma), 3);

	/* disabled: no more rounds */
	u = (struct memagent_compact_update){.has_disabled = true, .disabled = true};
	ASSERT_EQ(memagent_compact_set(ma, &u, &err), 0);
	run_until(&e, &e.done, 4, 2500);
	ASSERT_EQ(e.done, 3);
	ma = memagent_free(ma);
	teardown(&e);
}

static void a_compaction_that_hangs_is_killed_at_compact_sec_max(void)
{
	struct env e;
	struct memagent *ma = NULL;
	agent_error_t *err = NULL;
	struct memagent_compact_config c;

	setup(&e);
	memagent_compact_config_default(&c);
	c.compact_sec_max = 1;
	/* a FIFO nobody reads: the child blocks in open() like in a long compaction */
	ASSERT_EQ(mkfifo(e.compact, 0600), 0);
	ASSERT_EQ(memagent_new(e.l, &e.r, &c, &e.paths, on_event, &e, &ma, &err), 0);
	uint64_t t0 = loop_now_ms();
	run_until(&e, &e.done, 1, 5000);
	ASSERT_EQ(e.done, 1);
	ASSERT_NOT_NULL(e.stop_reason);
	ASSERT_STREQ(e.stop_reason, "timeout");
	ASSERT_TRUE(loop_now_ms() - t0 >= 900);
	ma = memagent_free(ma);
	teardown(&e);
}

/* MemAgentCompactSet while a compaction hangs: its watch goes on, it is still killed. */
static void a_new_setting_keeps_a_hanging_compaction_watched(void)
{
	struct env e;
	struct memagent *ma = NULL;
	agent_error_t *err = NULL;
	struct memagent_compact_config c;

	setup(&e);
	memagent_compact_config_default(&c);
	c.compact_sec_max = 1;
	c.compact_force_times = 0;
	ASSERT_EQ(mkfifo(e.compact, 0600), 0);
	ASSERT_EQ(memagent_new(e.l, &e.r, &c, &e.paths, on_event, &e, &ma, &err), 0);
	run_until(&e, &e.started, 1, 5000);
	ASSERT_EQ(e.started, 1);
	struct memagent_compact_update u = {.has_period_secs = true, .period_secs = 7};
	ASSERT_EQ(memagent_compact_set(ma, &u, &err), 0);
	run_until(&e, &e.done, 1, 5000);
	ASSERT_EQ(e.done, 1);
	ASSERT_NOT_NULL(e.stop_reason);
	ASSERT_STREQ(e.stop_reason, "timeout");
	ma = memagent_free(ma);
	teardown(&e);
}

/* Runs fn in a child; its scratch directory goes also when it fails. */
static void in_child(void (*fn)(void))
{
	char pattern[64];
	glob_t g;

	pid_t p = fork();
	ASSERT_TRUE(p >= 0);
	if (p == 0) {
		fn();
		exit(0);
	}
	int st;
	ASSERT_EQ(waitpid(p, &st, 0), p);
	snprintf(pattern, sizeof(pattern), "/tmp/memagent-test.%d.*", (int)p);
	if (glob(pattern, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			rm_rf(g.gl_pathv[i]);
		globfree(&g);
	}
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

TEST_TIMEOUT(a_new_setting_during_a_hanging_compaction, 20)
{
	in_child(a_new_setting_keeps_a_hanging_compaction_watched);
}

TEST_TIMEOUT(rounds_compact_at_once_then_every_period, 20)
{
	in_child(rounds_compact_at_once_then_every_period);
}

TEST_TIMEOUT(a_compaction_that_hangs_is_killed_at_compact_sec_max, 20)
{
	in_child(a_compaction_that_hangs_is_killed_at_compact_sec_max);
}

/*
 * Runs fn in a child whose CLOCK_MONOTONIC reads about 5 s, as in a guest
 * booted a moment ago (the agent starts there): a new time namespace.
 */
static void on_a_young_clock(void (*fn)(void))
{
	struct timespec ts;
	char offs[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ts.tv_sec <= 10)
		SKIP("the clock is young already");
	/* Offsets count from the machine's clock, not from this namespace's: when this test
	 * already runs in a time namespace (a young clock made for the whole suite), ours is
	 * added back. */
	long long ours = 0, ours_ns;
	FILE *f = fopen("/proc/self/timens_offsets", "re");
	char line[128];
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "monotonic %lld %lld", &ours, &ours_ns) == 2)
			break;
	if (f)
		fclose(f);
	if (unshare(CLONE_NEWTIME) < 0)
		SKIP("no time namespace: %s", strerror(errno));
	int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	int n = snprintf(offs, sizeof(offs), "monotonic %lld 0\n",
			 ours - (long long)(ts.tv_sec - 5));
	ASSERT_EQ(write(fd, offs, n), n);
	close(fd);
	/* The children of this process are in the new time namespace. */
	in_child(fn);
}

static void young_rounds(void)
{
	young_clock_check();
	rounds_compact_at_once_then_every_period();
}

static void young_hang(void)
{
	young_clock_check();
	a_compaction_that_hangs_is_killed_at_compact_sec_max();
}

TEST_TIMEOUT(rounds_compact_at_once_on_a_young_clock, 20)
{
	on_a_young_clock(young_rounds);
}

TEST_TIMEOUT(a_hanging_compaction_is_killed_on_a_young_clock, 20)
{
	on_a_young_clock(young_hang);
}

TEST(no_psi_no_mem_agent)
{
	struct env e;
	struct memagent *ma = NULL;
	agent_error_t *err = NULL;
	struct memagent_compact_config c;

	setup(&e);
	memagent_compact_config_default(&c);
	char p[128];
	snprintf(p, sizeof(p), "%s/io", e.psi);
	ASSERT_EQ(unlink(p), 0);
	ASSERT_EQ(memagent_new(e.l, &e.r, &c, &e.paths, on_event, &e, &ma, &err), -ENOENT);
	ASSERT_TRUE(strstr(err->msg, "PSI") != NULL);
	agent_error_free(err);
	teardown(&e);
}

/* The text of /sys/kernel/debug/lru_gen in the VM guest (Debian's 6.1 kernel, cgroup v2). */
static const char lru_gen_vm[] = "memcg     1 /\n"
				 " node     0\n"
				 "          0      44416          0           0 \n"
				 "          1      44416          0           0 \n"
				 "          2      44416       1047           0 \n"
				 "          3      44416       2308           0 \n"
				 "memcg     2 /vm-test\n"
				 " node     0\n"
				 "          0      38180          0           0 \n"
				 "          1      38180          0           0 \n"
				 "          2      38180          0           0 \n"
				 "          3      38180          0           0 \n"
				 "memcg     7 /vm-test/c 1\n"
				 " node     0\n"
				 "          5      90000         11          -2 \n"
				 "          6      70000         12          20 \n"
				 "          7      65000          0           0 \n"
				 "          8       1500         30          40 \n"
				 " node     1\n"
				 "          2      80000          1           2 \n"
				 "memcg     8 /../../etc\n"
				 " node     0\n"
				 "          5      90000         11          -2 \n"
				 "memcg     0 /offline\n"
				 "memcg     9 /empty\n";

TEST(lru_gen_parser)
{
	struct memagent_lru_gen *g = NULL;
	size_t n = 0;
	agent_error_t *err = NULL;

	ASSERT_EQ(memagent_lru_gen_parse(lru_gen_vm, 100, &g, &n, &err), 0);
	ASSERT_EQ(n, 4);
	ASSERT_EQ(g[0].memcg_id, 1);
	ASSERT_STREQ(g[0].path, "/");
	ASSERT_EQ(g[0].min_seq, 0);
	ASSERT_EQ(g[0].max_seq, 3);
	ASSERT_EQ(g[0].youngest_age_ms, 44416);
	ASSERT_STREQ(g[1].path, "/vm-test");
	ASSERT_EQ(g[2].memcg_id, 7);
	ASSERT_STREQ(g[2].path, "/vm-test/c 1");
	ASSERT_EQ(g[2].node, 0);
	ASSERT_EQ(g[2].min_seq, 5);
	ASSERT_EQ(g[2].max_seq, 8);
	ASSERT_EQ(g[2].min_anon, 11);
	ASSERT_EQ(g[2].min_file, 0); /* a negative count is 0 */
	ASSERT_EQ(g[2].youngest_age_ms, 1500);
	ASSERT_EQ(g[3].node, 1);
	ASSERT_EQ(g[3].min_seq, 2);
	ASSERT_EQ(g[3].max_seq, 2);
	free(g);
	ASSERT_EQ(memagent_lru_gen_parse(lru_gen_vm, 3, &g, &n, &err), -E2BIG);
	err = agent_error_free(err);
	ASSERT_EQ(memagent_lru_gen_parse("memcg 1 /\n node 0\n 0 1 x 3\n", 100, &g, &n, &err),
		  -EBADMSG);
	err = agent_error_free(err);
	ASSERT_EQ(memagent_lru_gen_parse("", 100, &g, &n, &err), 0);
	ASSERT_EQ(n, 0);
	free(g);
}

TEST(eviction_steps_as_upstream)
{
	struct memagent_memcg_config c;
	struct memagent_lru_gen g = {.memcg_id = 3, .min_seq = 4, .max_seq = 7};
	struct memagent_evict ev = {0};
	uint8_t sw = 99;

	memagent_memcg_config_default(&c);
	/* Not four generations: nothing. */
	g.max_seq = 6;
	ASSERT_EQ(memagent_evict_step(&c, &ev, &g, false, false, 0, &sw), MEMAGENT_EVICT_STOP_GENS);
	g.max_seq = 7;
	/* Nothing in the oldest generation and no swap. */
	ASSERT_EQ(memagent_evict_step(&c, &ev, &g, false, false, 0, &sw),
		  MEMAGENT_EVICT_STOP_NO_MIN_LRU);
	/* File pages: evicted without swap (swappiness 0), batch after batch. */
	g.min_file = 100;
	g.min_anon = 50;
	ASSERT_EQ(memagent_evict_step(&c, &ev, &g, false, false, 0, &sw), MEMAGENT_EVICT_GO);
	ASSERT_EQ(sw, 0);
	g.min_file = 40;
	ASSERT_EQ(memagent_evict_step(&c, &ev, &g, false, false, 0, &sw), MEMAGENT_EVICT_GO);
	ASSERT_EQ(ev.file_pages, 60);
	/* It stopped shrinking. */
	ASSERT_EQ(memagent_evict_step(&c, &ev, &g, false, false, 0, &sw),
		  MEMAGENT_EVICT_STOP_MIN_LRU_INC);
	/* Pressure over eviction_psi_percent_limit stops it. */
	ev = (struct memagent_evict){0};
	ASSERT_EQ(memagent_evict_step(&c, &ev, &g, false, false, 50, &sw), MEMAGENT_EVICT_GO);
	g.min_file = 30;
	ASSERT_EQ(memagent_evict_step(&c, &ev, &g, false, false, 2, &sw), MEMAGENT_EVICT_STOP_PSI);
	/* The oldest generation's file pages all gone. */
	ev = (struct memagent_evict){0};
	ASSERT_EQ(memagent_evict_step(&c, &ev, &g, false, false, 0, &sw), MEMAGENT_EVICT_GO);
	g.min_file = 0;
	ASSERT_EQ(memagent_evict_step(&c, &ev, &g, false, false, 0, &sw),
		  MEMAGENT_EVICT_STOP_NO_MIN_LRU);
	ASSERT_EQ(ev.file_pages, 30);
	/* With swap: 200 * anon / (anon + file), rounded, capped at swappiness_max. */
	ev = (struct memagent_evict){0};
	g.min_file = 50;
	g.min_anon = 100;
	c.swappiness_max = 200;
	ASSERT_EQ(memagent_evict_step(&c, &ev, &g, true, true, 0, &sw), MEMAGENT_EVICT_GO);
	ASSERT_EQ(sw, 133);
	c.swappiness_max = 50;
	ev = (struct memagent_evict){0};
	ASSERT_EQ(memagent_evict_step(&c, &ev, &g, true, true, 0, &sw), MEMAGENT_EVICT_GO);
	ASSERT_EQ(sw, 50);
	/* Only anonymous pages: swap only (200), and it stops when swap runs out. */
	ev = (struct memagent_evict){0};
	g.min_file = 0;
	ASSERT_EQ(memagent_evict_step(&c, &ev, &g, true, true, 0, &sw), MEMAGENT_EVICT_GO);
	ASSERT_EQ(sw, 200);
	g.min_anon = 60;
	ASSERT_EQ(memagent_evict_step(&c, &ev, &g, true, false, 0, &sw),
		  MEMAGENT_EVICT_STOP_NO_MIN_LRU);
	ASSERT_EQ(ev.anon_pages, 40);
}

/*
 * MemAgentMemcgSet and a memcg round with the kernel's files redirected: without
 * MGLRU it is UNIMPLEMENTED; MGLRU off is switched on (as upstream); without the
 * lru_gen file or per-cgroup PSI it is UNIMPLEMENTED saying so; then the settings
 * are checked, a new period starts a round at once, and its child ages the memcg
 * the lru_gen text shows (its command written to that file) and reports.
 */
static void memcg_rounds(void)
{
	struct env e;
	struct memagent *ma = NULL;
	agent_error_t *err = NULL;
	struct memagent_compact_config c;
	char p[160], *t = NULL;

	setup(&e);
	memagent_compact_config_default(&c);
	c.disabled = true;
	ASSERT_EQ(memagent_new(e.l, &e.r, &c, &e.paths, on_event, &e, &ma, &err), 0);
	ASSERT_EQ(e.memcg_off, 1);
	struct memagent_memcg_update u = {.has_period_secs = true, .period_secs = 60};
	ASSERT_EQ(memagent_memcg_set(ma, &u, &err), -EOPNOTSUPP);
	ASSERT_EQ(err->status, GRPC_UNIMPLEMENTED);
	ASSERT_TRUE(strstr(err->msg, "no MGLRU") != NULL);
	err = agent_error_free(err);
	put(e.lru, "0x0000\n");
	ASSERT_EQ(memagent_memcg_set(ma, &u, &err), -EOPNOTSUPP);
	ASSERT_TRUE(strstr(err->msg, "lru_gen") != NULL);
	err = agent_error_free(err);
	ASSERT_TRUE(read_file_all(e.lru, 64, &t) > 0);
	ASSERT_EQ(t[0], '7'); /* switched on (a sysfs file takes the whole write) */
	free(t);
	put(e.lru_gen, "memcg     1 /\n node     0\n 0 90000 0 5\n 1 90000 0 0\n"
		       " 2 90000 0 0\n 3 80000 0 0\n");
	ASSERT_EQ(memagent_memcg_set(ma, &u, &err), -EOPNOTSUPP);
	ASSERT_TRUE(strstr(err->msg, "PSI") != NULL);
	err = agent_error_free(err);
	snprintf(p, sizeof(p), "%s/memory.pressure", e.cg);
	put(p, psi_memory);
	snprintf(p, sizeof(p), "%s/io.pressure", e.cg);
	put(p, psi_memory);
	u.swappiness_max = 201;
	u.has_swappiness_max = true;
	ASSERT_EQ(memagent_memcg_set(ma, &u, &err), -EINVAL);
	ASSERT_EQ(err->status, GRPC_INVALID_ARGUMENT);
	err = agent_error_free(err);
	u.swappiness_max = 100;
	u.has_eviction_run_aging_count_min = true;
	u.eviction_run_aging_count_min = 1;
	ASSERT_EQ(memagent_memcg_set(ma, &u, &err), 0);
	ASSERT_EQ(memagent_memcg_config(ma)->period_secs, 60);
	/* The new period: a round at once, its child ages "/" (id 1, node 0, max_seq 3). */
	run_until(&e, &e.memcg, 4, 5000);
	ASSERT_EQ(memagent_memcg_rounds(ma), 1);
	ASSERT_TRUE(read_file_all(e.lru_gen, 4096, &t) > 0);
	if (strncmp(t, "+ 1 0 3 0 1", 11) != 0)
		FAIL("lru_gen got: %.40s", t);
	free(t);
	if (!strstr(e.memcg_lines, "aged 0 0 0 ok|/\n") || !strstr(e.memcg_lines, "evicted 0 ") ||
	    !strstr(e.memcg_lines, "round done"))
		FAIL("memcg events: %s", e.memcg_lines);
	/* Asking for it off is honoured: nothing more runs. */
	u = (struct memagent_memcg_update){.has_disabled = true, .disabled = true};
	ASSERT_EQ(memagent_memcg_set(ma, &u, &err), 0);
	ma = memagent_free(ma);
	teardown(&e);
}

TEST_TIMEOUT(memcg_needs_mglru_then_ages_and_evicts, 20)
{
	in_child(memcg_rounds);
}
