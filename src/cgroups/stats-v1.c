/* SPDX-License-Identifier: Apache-2.0 */
/* StatsContainer on cgroup v1: cpuacct, cpu, memory, pids, blkio, hugetlb. */
#include <stdio.h>
#include <string.h>

#include "base/scan.h"
#include "internal.h"

static uint64_t u64_or0(const char *dir, const char *file)
{
	uint64_t v = 0;
	if (cg_read_u64(dir, file, &v) < 0)
		return 0;
	return v;
}

static int cpu_stats(struct cgroup *cg, Grpc__CgroupStats *out)
{
	const char *acct = cg->v1_dir[CG_CPUACCT], *cpu = cg->v1_dir[CG_CPU];
	if (!acct && !cpu)
		return 0;
	Grpc__CpuStats *cs = cg_cpu_stats_new(out);
	if (!cs)
		return -ENOMEM;

	if (acct) {
		Grpc__CpuUsage *u = cs->cpu_usage;
		_cleanup_free_ char *percpu = NULL, *stat = NULL;
		cg_read_u64(acct, "cpuacct.usage", &u->total_usage);
		if (cg_read(acct, "cpuacct.usage_percpu", &percpu) == 0) {
			size_t n = 0;
			for (const char *p = percpu; *p; p++)
				n += *p == ' ';
			u->percpu_usage = calloc(n + 1, sizeof(uint64_t));
			if (!u->percpu_usage)
				return -ENOMEM;
			char *end;
			for (const char *p = percpu; u->n_percpu_usage <= n; p = end) {
				unsigned long long v = strtoull(p, &end, 10);
				if (end == p)
					break;
				u->percpu_usage[u->n_percpu_usage++] = v;
			}
		}
		if (cg_read(acct, "cpuacct.stat", &stat) == 0) {
			long tck = sysconf(_SC_CLK_TCK);
			uint64_t user = 0, sys = 0,
				 ns = tck > 0 ? 1000000000ull / (uint64_t)tck : 0;
			cg_kv_u64(stat, "user", &user);
			cg_kv_u64(stat, "system", &sys);
			u->usage_in_usermode = user * ns;
			u->usage_in_kernelmode = sys * ns;
		}
	}
	_cleanup_free_ char *cstat = NULL;
	if (cpu && cg_read(cpu, "cpu.stat", &cstat) == 0) {
		Grpc__ThrottlingData *t = cs->throttling_data;
		cg_kv_u64(cstat, "nr_periods", &t->periods);
		cg_kv_u64(cstat, "nr_throttled", &t->throttled_periods);
		cg_kv_u64(cstat, "throttled_time", &t->throttled_time);
	}
	return 0;
}

static Grpc__MemoryData *memdata(const char *d, const char *prefix)
{
	char f[4][96];
	snprintf(f[0], sizeof(f[0]), "%susage_in_bytes", prefix);
	snprintf(f[1], sizeof(f[1]), "%smax_usage_in_bytes", prefix);
	snprintf(f[2], sizeof(f[2]), "%sfailcnt", prefix);
	snprintf(f[3], sizeof(f[3]), "%slimit_in_bytes", prefix);
	return cg_stats_memdata_new(u64_or0(d, f[0]), u64_or0(d, f[1]), u64_or0(d, f[2]),
				    u64_or0(d, f[3]));
}

static int memory_stats(struct cgroup *cg, Grpc__CgroupStats *out)
{
	const char *d = cg->v1_dir[CG_MEMORY];
	if (!d)
		return 0;
	_cleanup_free_ char *stat = NULL;
	int r = cg_read(d, "memory.stat", &stat);
	if (r < 0)
		return r;
	Grpc__MemoryStats *ms = cg_stats_memory_new();
	if (!ms)
		return -ENOMEM;
	out->memory_stats = ms;
	r = cg_stats_memory_map(ms, stat);
	if (r < 0)
		return r;
	cg_kv_u64(stat, "cache", &ms->cache);
	ms->use_hierarchy = u64_or0(d, "memory.use_hierarchy") != 0;
	ms->usage = memdata(d, "memory.");
	if (!ms->usage)
		return -ENOMEM;
	if (cg_file_exists(d, "memory.memsw.usage_in_bytes")) {
		ms->swap_usage = memdata(d, "memory.memsw.");
		if (!ms->swap_usage)
			return -ENOMEM;
	}
	if (cg_file_exists(d, "memory.kmem.usage_in_bytes")) {
		ms->kernel_usage = memdata(d, "memory.kmem.");
		if (!ms->kernel_usage)
			return -ENOMEM;
	}
	return 0;
}

static int pids_stats(const char *d, Grpc__CgroupStats *out)
{
	if (!d)
		return 0;
	Grpc__PidsStats *ps = malloc(sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	grpc__pids_stats__init(ps);
	out->pids_stats = ps;
	int r = cg_read_u64(d, "pids.current", &ps->current);
	if (r < 0)
		return r;
	ps->limit = u64_or0(d, "pids.max");
	if (ps->limit == UINT64_MAX)
		ps->limit = 0;
	return 0;
}

/* "8:0 Read 123" lines (or "8:0 123" for time/sectors); "Total" lines skipped. */
static int blkio_file(const char *d, const char *file, Grpc__BlkioStatsEntry ***v, size_t *n)
{
	_cleanup_free_ char *s = NULL;
	if (cg_read(d, file, &s) < 0)
		return 0;
	for (char *l = s, *next; l && *l; l = next) {
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		unsigned long long maj, min, val;
		char op[32];
		int r = 0;
		const char *p = scan_ull(l, &maj), *q;
		if (!p || *p != ':' || !(p = scan_ull(p + 1, &min)))
			continue;
		if ((q = scan_word(p, op, sizeof(op))) && scan_ull(q, &val))
			r = cg_blkio_add(v, n, maj, min, op, val);
		else if (scan_ull(p, &val))
			r = cg_blkio_add(v, n, maj, min, "", val);
		if (r < 0)
			return r;
	}
	return 0;
}

static int blkio_stats(const char *d, Grpc__CgroupStats *out)
{
	if (!d)
		return 0;
	Grpc__BlkioStats *b = malloc(sizeof(*b));
	if (!b)
		return -ENOMEM;
	grpc__blkio_stats__init(b);
	out->blkio_stats = b;
	int r = blkio_file(d, "blkio.io_serviced_recursive", &b->io_serviced_recursive,
			   &b->n_io_serviced_recursive);
	if (r < 0)
		return r;
	if (b->n_io_serviced_recursive == 0) {
		/* No CFQ statistics: the throttle files are what there is. */
		r = blkio_file(d, "blkio.throttle.io_service_bytes", &b->io_service_bytes_recursive,
			       &b->n_io_service_bytes_recursive);
		if (r == 0)
			r = blkio_file(d, "blkio.throttle.io_serviced", &b->io_serviced_recursive,
				       &b->n_io_serviced_recursive);
		return r;
	}
	struct {
		const char *file;
		Grpc__BlkioStatsEntry ***v;
		size_t *n;
	} files[] = {
		{"blkio.io_service_bytes_recursive", &b->io_service_bytes_recursive,
		 &b->n_io_service_bytes_recursive},
		{"blkio.io_queued_recursive", &b->io_queued_recursive, &b->n_io_queued_recursive},
		{"blkio.io_service_time_recursive", &b->io_service_time_recursive,
		 &b->n_io_service_time_recursive},
		{"blkio.io_wait_time_recursive", &b->io_wait_time_recursive,
		 &b->n_io_wait_time_recursive},
		{"blkio.io_merged_recursive", &b->io_merged_recursive, &b->n_io_merged_recursive},
		{"blkio.time_recursive", &b->io_time_recursive, &b->n_io_time_recursive},
		{"blkio.sectors_recursive", &b->sectors_recursive, &b->n_sectors_recursive},
	};
	for (size_t i = 0; i < ARRAY_SIZE(files) && r == 0; i++)
		r = blkio_file(d, files[i].file, files[i].v, files[i].n);
	return r;
}

static int hugetlb_stats(const char *d, Grpc__CgroupStats *out)
{
	char **sizes = NULL;
	if (!d)
		return 0;
	int r = cg_hugepage_sizes(&sizes);
	for (size_t i = 0; r == 0 && sizes[i]; i++) {
		char f[3][64];
		snprintf(f[0], sizeof(f[0]), "hugetlb.%s.usage_in_bytes", sizes[i]);
		snprintf(f[1], sizeof(f[1]), "hugetlb.%s.max_usage_in_bytes", sizes[i]);
		snprintf(f[2], sizeof(f[2]), "hugetlb.%s.failcnt", sizes[i]);
		if (!cg_file_exists(d, f[0]))
			continue;
		r = cg_stats_hugetlb_add(out, sizes[i], u64_or0(d, f[0]), u64_or0(d, f[1]),
					 u64_or0(d, f[2]));
	}
	cg_strv_free(sizes);
	return r;
}

int cg_stats_v1(struct cgroup *cg, Grpc__CgroupStats *out, agent_error_t **err)
{
	int r = cpu_stats(cg, out);
	if (r == 0)
		r = memory_stats(cg, out);
	if (r == 0)
		r = pids_stats(cg->v1_dir[CG_PIDS], out);
	if (r == 0)
		r = blkio_stats(cg->v1_dir[CG_BLKIO], out);
	if (r == 0)
		r = hugetlb_stats(cg->v1_dir[CG_HUGETLB], out);
	if (r < 0)
		return agent_error_setsys(err, -r, "reading the statistics of cgroup %s", cg->path);
	return 0;
}
