/* SPDX-License-Identifier: Apache-2.0 */
/* StatsContainer on cgroup v2: cpu.stat, memory.*, pids.*, io.stat, hugetlb.*. */
#include <stdio.h>
#include <string.h>

#include "base/scan.h"
#include "internal.h"

static bool has_ctrl(const char *controllers, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = controllers; (p = strstr(p, name)); p += nl) {
		bool start = p == controllers || p[-1] == ' ';
		bool end = p[nl] == ' ' || p[nl] == '\n' || p[nl] == '\0';
		if (start && end)
			return true;
	}
	return false;
}

/* Reads a u64; "max" (no limit) reads as 0 as in the v1 pids stats; missing as 0. */
static uint64_t u64_or0(const char *dir, const char *file)
{
	uint64_t v = 0;
	if (cg_read_u64(dir, file, &v) < 0 || v == UINT64_MAX)
		return 0;
	return v;
}

static uint64_t kv_or0(const char *text, const char *key)
{
	uint64_t v = 0;
	if (!text || cg_kv_u64(text, key, &v) < 0)
		return 0;
	return v;
}

/* cpu.stat is a core file: present with or without the cpu controller. */
static int cpu_stats(const char *d, Grpc__CgroupStats *out)
{
	_cleanup_free_ char *s = NULL;
	int r = cg_read(d, "cpu.stat", &s);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	Grpc__CpuStats *cs = cg_cpu_stats_new(out);
	if (!cs)
		return -ENOMEM;
	cs->cpu_usage->total_usage = kv_or0(s, "usage_usec") * 1000;
	cs->cpu_usage->usage_in_usermode = kv_or0(s, "user_usec") * 1000;
	cs->cpu_usage->usage_in_kernelmode = kv_or0(s, "system_usec") * 1000;
	cs->throttling_data->periods = kv_or0(s, "nr_periods");
	cs->throttling_data->throttled_periods = kv_or0(s, "nr_throttled");
	/* Upstream reports 0 here; the kernel's value is more useful. */
	cs->throttling_data->throttled_time = kv_or0(s, "throttled_usec") * 1000;
	return 0;
}

static int memory_stats(const char *d, Grpc__CgroupStats *out)
{
	_cleanup_free_ char *stat = NULL, *events = NULL, *swevents = NULL;
	int r = cg_read(d, "memory.stat", &stat);
	if (r < 0)
		return r;
	cg_read(d, "memory.events", &events);
	Grpc__MemoryStats *ms = cg_stats_memory_new();
	if (!ms)
		return -ENOMEM;
	out->memory_stats = ms;
	r = cg_stats_memory_map(ms, stat);
	if (r < 0)
		return r;
	ms->cache = kv_or0(stat, "file");
	ms->use_hierarchy = true;
	ms->usage = cg_stats_memdata_new(u64_or0(d, "memory.current"), u64_or0(d, "memory.peak"),
					 kv_or0(events, "max"), u64_or0(d, "memory.max"));
	if (!ms->usage)
		return -ENOMEM;
	if (cg_file_exists(d, "memory.swap.current")) {
		cg_read(d, "memory.swap.events", &swevents);
		ms->swap_usage = cg_stats_memdata_new(
			u64_or0(d, "memory.swap.current"), u64_or0(d, "memory.swap.peak"),
			kv_or0(swevents, "max"), u64_or0(d, "memory.swap.max"));
		if (!ms->swap_usage)
			return -ENOMEM;
	}
	ms->kernel_usage = cg_stats_memdata_new(kv_or0(stat, "kernel"), 0, 0, 0);
	return ms->kernel_usage ? 0 : -ENOMEM;
}

static int pids_stats(const char *d, Grpc__CgroupStats *out)
{
	Grpc__PidsStats *ps = malloc(sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	grpc__pids_stats__init(ps);
	out->pids_stats = ps;
	int r = cg_read_u64(d, "pids.current", &ps->current);
	if (r < 0)
		return r;
	ps->limit = u64_or0(d, "pids.max");
	return 0;
}

/* io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6" per device. */
static int io_stats(const char *d, Grpc__CgroupStats *out)
{
	static const char *const keys[] = {"rbytes", "wbytes", "rios", "wios", "dbytes", "dios"};
	static const char *const ops[] = {"read", "write", "rios", "wios", "dbytes", "dios"};
	_cleanup_free_ char *s = NULL;
	Grpc__BlkioStats *b = malloc(sizeof(*b));
	if (!b)
		return -ENOMEM;
	grpc__blkio_stats__init(b);
	out->blkio_stats = b;
	if (cg_read(d, "io.stat", &s) < 0)
		return 0;
	for (char *l = s, *next; l && *l; l = next) {
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		unsigned long long maj, min;
		const char *c = scan_ull(l, &maj);
		if (!c || *c != ':' || !scan_ull(c + 1, &min))
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
			char key[16];
			uint64_t v = 0;
			const char *p = l;
			snprintf(key, sizeof(key), " %s=", keys[i]);
			p = strstr(l, key);
			if (p)
				v = strtoull(p + strlen(key), NULL, 10);
			int r = cg_blkio_add(&b->io_service_bytes_recursive,
					     &b->n_io_service_bytes_recursive, maj, min, ops[i], v);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int hugetlb_stats(const char *d, Grpc__CgroupStats *out)
{
	char **sizes = NULL;
	int r = cg_hugepage_sizes(&sizes);
	for (size_t i = 0; r == 0 && sizes[i]; i++) {
		char cur[64], ev[64];
		_cleanup_free_ char *events = NULL;
		snprintf(cur, sizeof(cur), "hugetlb.%s.current", sizes[i]);
		snprintf(ev, sizeof(ev), "hugetlb.%s.events", sizes[i]);
		if (!cg_file_exists(d, cur))
			continue;
		cg_read(d, ev, &events);
		r = cg_stats_hugetlb_add(out, sizes[i], u64_or0(d, cur), 0, kv_or0(events, "max"));
	}
	cg_strv_free(sizes);
	return r;
}

int cg_stats_v2(struct cgroup *cg, Grpc__CgroupStats *out, agent_error_t **err)
{
	const char *d = cg->v2_dir;
	_cleanup_free_ char *ctrls = NULL;
	int r = cg_read(d, "cgroup.controllers", &ctrls);
	if (r == 0)
		r = cpu_stats(d, out);
	if (r == 0 && has_ctrl(ctrls, "memory"))
		r = memory_stats(d, out);
	if (r == 0 && has_ctrl(ctrls, "pids"))
		r = pids_stats(d, out);
	if (r == 0 && has_ctrl(ctrls, "io"))
		r = io_stats(d, out);
	if (r == 0 && has_ctrl(ctrls, "hugetlb"))
		r = hugetlb_stats(d, out);
	if (r < 0)
		return agent_error_setsys(err, -r, "reading the statistics of cgroup %s", cg->path);
	return 0;
}
