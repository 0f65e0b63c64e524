/* SPDX-License-Identifier: Apache-2.0 */
/* Building blocks for StatsContainer: every sub-message is malloc'd (freed by protobuf-c). */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "base/scan.h"
#include "internal.h"

#define STAT_KEYS_MAX 512
#define BLKIO_ENTRIES_MAX 4096

Grpc__MemoryStats *cg_stats_memory_new(void)
{
	Grpc__MemoryStats *ms = malloc(sizeof(*ms));
	if (ms)
		grpc__memory_stats__init(ms);
	return ms;
}

Grpc__MemoryData *cg_stats_memdata_new(uint64_t usage, uint64_t max, uint64_t failcnt,
				       uint64_t limit)
{
	Grpc__MemoryData *md = malloc(sizeof(*md));
	if (!md)
		return NULL;
	grpc__memory_data__init(md);
	md->usage = usage;
	md->max_usage = max;
	md->failcnt = failcnt;
	md->limit = limit;
	return md;
}

int cg_stats_memory_map(Grpc__MemoryStats *ms, const char *text)
{
	for (const char *l = text; *l && ms->n_stats < STAT_KEYS_MAX;) {
		const char *sp = strchr(l, ' ');
		const char *nl = strchrnul(l, '\n');
		if (sp && sp < nl) {
			char *end;
			unsigned long long v = strtoull(sp + 1, &end, 10);
			Grpc__MemoryStats__StatsEntry *e = malloc(sizeof(*e));
			if (!e)
				return -ENOMEM;
			grpc__memory_stats__stats_entry__init(e);
			e->key = strndup(l, (size_t)(sp - l));
			e->value = v;
			Grpc__MemoryStats__StatsEntry **nv =
				realloc(ms->stats, (ms->n_stats + 1) * sizeof(*nv));
			if (!e->key || !nv) {
				free(e->key);
				free(e);
				if (nv)
					ms->stats = nv;
				return -ENOMEM;
			}
			ms->stats = nv;
			ms->stats[ms->n_stats++] = e;
		}
		l = *nl ? nl + 1 : nl;
	}
	return 0;
}

int cg_stats_hugetlb_add(Grpc__CgroupStats *out, const char *size, uint64_t usage, uint64_t max,
			 uint64_t failcnt)
{
	Grpc__CgroupStats__HugetlbStatsEntry *e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	grpc__cgroup_stats__hugetlb_stats_entry__init(e);
	e->key = strdup(size);
	e->value = malloc(sizeof(*e->value));
	Grpc__CgroupStats__HugetlbStatsEntry **nv =
		realloc(out->hugetlb_stats, (out->n_hugetlb_stats + 1) * sizeof(*nv));
	if (nv)
		out->hugetlb_stats = nv;
	if (!e->key || !e->value || !nv) {
		free(e->key);
		free(e->value);
		free(e);
		return -ENOMEM;
	}
	grpc__hugetlb_stats__init(e->value);
	e->value->usage = usage;
	e->value->max_usage = max;
	e->value->failcnt = failcnt;
	out->hugetlb_stats[out->n_hugetlb_stats++] = e;
	return 0;
}

void cg_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

int cg_hugepage_sizes(char ***ret)
{
	char **v = calloc(1, sizeof(char *));
	size_t n = 0;
	if (!v)
		return -ENOMEM;
	DIR *d = opendir("/sys/kernel/mm/hugepages");
	if (!d) {
		*ret = v; /* no hugepage support: no sizes */
		return 0;
	}
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d)) && n < 16) {
		unsigned long long kb;
		char unit[8];
		const char *p = strncmp(de->d_name, "hugepages-", 10) ? NULL : de->d_name + 10;
		/* "hugepages-2048kB" */
		if (!p || !(p = scan_ull(p, &kb)) || !scan_word(p, unit, sizeof(unit)) ||
		    strcmp(unit, "kB"))
			continue;
		char *s = NULL;
		if (kb % (1024 * 1024) == 0)
			r = asprintf(&s, "%lluGB", kb / (1024 * 1024));
		else if (kb % 1024 == 0)
			r = asprintf(&s, "%lluMB", kb / 1024);
		else
			r = asprintf(&s, "%lluKB", kb);
		char **nv = r < 0 ? NULL : realloc(v, (n + 2) * sizeof(char *));
		if (!nv) {
			if (r >= 0)
				free(s);
			r = -ENOMEM;
			break;
		}
		r = 0;
		v = nv;
		v[n++] = s;
		v[n] = NULL;
	}
	closedir(d);
	if (r < 0) {
		cg_strv_free(v);
		return r;
	}
	*ret = v;
	return 0;
}

int cg_blkio_add(Grpc__BlkioStatsEntry ***v, size_t *n, uint64_t major, uint64_t minor,
		 const char *op, uint64_t value)
{
	if (*n >= BLKIO_ENTRIES_MAX)
		return 0;
	Grpc__BlkioStatsEntry *e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	grpc__blkio_stats_entry__init(e);
	e->major = major;
	e->minor = minor;
	e->value = value;
	e->op = strdup(op);
	Grpc__BlkioStatsEntry **nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (nv)
		*v = nv;
	if (!e->op || !nv) {
		free(e->op);
		free(e);
		return -ENOMEM;
	}
	(*v)[(*n)++] = e;
	return 0;
}

Grpc__CpuStats *cg_cpu_stats_new(Grpc__CgroupStats *out)
{
	Grpc__CpuStats *cs = malloc(sizeof(*cs));

	if (!cs)
		return NULL;
	grpc__cpu_stats__init(cs);
	/* Owned by out from here: cgroup_stats_clear frees what was made, also on failure. */
	out->cpu_stats = cs;
	cs->cpu_usage = malloc(sizeof(*cs->cpu_usage));
	cs->throttling_data = malloc(sizeof(*cs->throttling_data));
	if (!cs->cpu_usage || !cs->throttling_data)
		return NULL;
	grpc__cpu_usage__init(cs->cpu_usage);
	grpc__throttling_data__init(cs->throttling_data);
	return cs;
}
