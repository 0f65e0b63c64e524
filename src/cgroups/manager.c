/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cgroup manager: finds the hierarchies in /proc/self/mountinfo and hands
 * each call to the v1 or v2 operation table. Everything that is the same for
 * both versions (path checks, pid listing, signalling) lives here.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/mountinfo.h"
#include "internal.h"
#include "base/status.h"

const char *const cg_v1_names[CG_V1_MAX] = {
	[CG_CPU] = "cpu",	  [CG_CPUACCT] = "cpuacct",   [CG_CPUSET] = "cpuset",
	[CG_MEMORY] = "memory",	  [CG_DEVICES] = "devices",   [CG_FREEZER] = "freezer",
	[CG_BLKIO] = "blkio",	  [CG_PIDS] = "pids",	      [CG_HUGETLB] = "hugetlb",
	[CG_NET_CLS] = "net_cls", [CG_NET_PRIO] = "net_prio", [CG_PERF_EVENT] = "perf_event",
};

static int v2_mount_rank(const char *mnt)
{
	if (strcmp(mnt, "/sys/fs/cgroup") == 0)
		return 0;
	if (strcmp(mnt, "/sys/fs/cgroup/unified") == 0)
		return 1;
	return 2;
}

/* One mountinfo entry: records a cgroup or cgroup2 mount in m. */
static int add_mount(struct cgroup_manager *m, const struct mountinfo_entry *e, int *v2_rank)
{
	const char *fstype = e->fstype, *mnt = e->mountpoint;
	char opts[1024];

	if (strcmp(fstype, "cgroup2") == 0) {
		int rank = v2_mount_rank(mnt);
		if (m->unified && rank >= *v2_rank)
			return 0;
		char *dup = strdup(mnt);
		if (!dup)
			return -ENOMEM;
		free(m->unified);
		m->unified = dup;
		*v2_rank = rank;
		return 0;
	}
	if (strcmp(fstype, "cgroup") != 0 || strlen(e->superopts) >= sizeof(opts))
		return 0;
	snprintf(opts, sizeof(opts), "%s", e->superopts);
	char *osave = NULL;
	for (char *o = strtok_r(opts, ",", &osave); o; o = strtok_r(NULL, ",", &osave)) {
		for (int c = 0; c < CG_V1_MAX; c++) {
			if (strcmp(o, cg_v1_names[c]) != 0 || m->v1_mnt[c])
				continue;
			m->v1_mnt[c] = strdup(mnt);
			if (!m->v1_mnt[c])
				return -ENOMEM;
		}
	}
	return 0;
}

int cgroup_manager_new(bool unified, struct cgroup_manager **ret, agent_error_t **err)
{
	_cleanup_free_ char *text = NULL;
	int r = mountinfo_read(&text, err);
	if (r < 0)
		return r;
	return cg_manager_from_mountinfo(text, unified, ret, err);
}

int cg_manager_from_mountinfo(char *text, bool unified, struct cgroup_manager **ret,
			      agent_error_t **err)
{
	int r;
	struct cgroup_manager *m = calloc(1, sizeof(*m));
	if (!m)
		return agent_error_set(err, ENOMEM, "out of memory");
	m->v2 = unified;
	int v2_rank = 99;
	struct mountinfo_entry e;
	for (char *pos = text; mountinfo_next(&pos, &e) > 0;) {
		r = add_mount(m, &e, &v2_rank);
		if (r < 0) {
			cgroup_manager_free(m);
			return agent_error_set(err, -r, "out of memory");
		}
	}
	bool any = unified && m->unified;
	for (int c = 0; !unified && c < CG_V1_MAX; c++)
		any |= m->v1_mnt[c] != NULL;
	if (!any) {
		cgroup_manager_free(m);
		return agent_error_set(err, ENOENT, "no cgroup %s hierarchy is mounted",
				       unified ? "v2" : "v1");
	}
	*ret = m;
	return 0;
}

struct cgroup_manager *cgroup_manager_free(struct cgroup_manager *m)
{
	if (!m)
		return NULL;
	free(m->unified);
	for (int c = 0; c < CG_V1_MAX; c++)
		free(m->v1_mnt[c]);
	free(m);
	return NULL;
}

bool cgroup_manager_is_v2(const struct cgroup_manager *m)
{
	return m->v2;
}

/*
 * A cgroup that already holds a process (in it or below) belongs to someone else: the
 * agent's own cgroup or an ancestor of it, another container's, a guest service's. Taking
 * it would let SignalProcess and RemoveContainer kill what the agent never started.
 */
static int refuse_busy(const struct cgroup *cg, agent_error_t **err)
{
	for (int c = -1; c < CG_V1_MAX; c++) {
		const char *dir = c < 0 ? cg->v2_dir : cg->v1_dir[c];
		if (!dir)
			continue;
		_cleanup_free_ pid_t *pids = NULL;
		size_t n = 0, cap = 0;
		int r = cg_collect_pids(dir, &pids, &n, &cap, 0);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return agent_error_setsys(err, -r, "listing the pids of %s", dir);
		if (n > 0)
			return agent_error_set_status(err, GRPC_FAILED_PRECONDITION, EBUSY,
						      "cgroup %s already holds processes (pid "
						      "%d%s): not this container's",
						      cg->path, (int)pids[0], n > 1 ? ", ..." : "");
	}
	return 0;
}

int cgroup_create(struct cgroup_manager *m, const char *path, struct cgroup **ret,
		  agent_error_t **err)
{
	int r = cg_path_validate(path, err);
	if (r < 0)
		return r;
	struct cgroup *cg = calloc(1, sizeof(*cg));
	if (!cg)
		return agent_error_set(err, ENOMEM, "out of memory");
	cg->m = m;
	cg->bpf_prog_fd = -1;
	cg->ops = m->v2 ? &cg_v2_ops : &cg_v1_ops;
	cg->path = strdup(path);
	if (!cg->path)
		goto oom;
	if (m->v2) {
		cg->v2_dir = cg_join(m->unified, path);
		if (!cg->v2_dir)
			goto oom;
	} else {
		for (int c = 0; c < CG_V1_MAX; c++) {
			if (!m->v1_mnt[c])
				continue;
			cg->v1_dir[c] = cg_join(m->v1_mnt[c], path);
			if (!cg->v1_dir[c])
				goto oom;
		}
	}
	r = refuse_busy(cg, err);
	if (r == 0)
		r = cg->ops->create(cg, err);
	if (r < 0) {
		cgroup_free(cg);
		return agent_error_wrap(err, "creating cgroup %s", path);
	}
	*ret = cg;
	return 0;
oom:
	cgroup_free(cg);
	return agent_error_set(err, ENOMEM, "out of memory");
}

struct cgroup *cgroup_free(struct cgroup *cg)
{
	if (!cg)
		return NULL;
	safe_close(cg->bpf_prog_fd);
	free(cg->path);
	free(cg->v2_dir);
	for (int c = 0; c < CG_V1_MAX; c++)
		free(cg->v1_dir[c]);
	free(cg);
	return NULL;
}

const char *cgroup_path(const struct cgroup *cg)
{
	return cg->path;
}

bool cg_hugepage_size_valid(const char *s)
{
	size_t i = 0;
	while (s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == 0 || i > 10)
		return false;
	return strcmp(s + i, "KB") == 0 || strcmp(s + i, "MB") == 0 || strcmp(s + i, "GB") == 0 ||
	       strcmp(s + i, "TB") == 0 || strcmp(s + i, "PB") == 0;
}

int cgroup_resources_validate(const Grpc__LinuxResources *res, agent_error_t **err)
{
	if (!res)
		return 0;
	int r = cg_dev_rules_validate(res, err);
	if (r < 0)
		return r;
	if (res->memory && res->memory->swappiness > 100)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "invalid memory swappiness %llu (0-100)",
					      (unsigned long long)res->memory->swappiness);
	for (size_t i = 0; i < res->n_hugepagelimits; i++) {
		const Grpc__LinuxHugepageLimit *h = res->hugepagelimits[i];
		if (h && !cg_hugepage_size_valid(h->pagesize))
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "invalid hugepage size \"%s\"", h->pagesize);
	}
	if (res->network) {
		for (size_t i = 0; i < res->network->n_priorities; i++) {
			const char *n = res->network->priorities[i]->name;
			if (!*n || strlen(n) >= 16 || strpbrk(n, " \n/"))
				return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
							      "invalid interface name \"%s\"", n);
		}
	}
	return 0;
}

int cgroup_apply(struct cgroup *cg, const Grpc__LinuxResources *res, bool update,
		 agent_error_t **err)
{
	int r = cgroup_resources_validate(res, err);
	if (r < 0)
		return r;
	if (update && !res)
		return 0;
	r = cg->ops->apply(cg, res, update, err);
	if (r < 0)
		return agent_error_wrap(err, "cgroup %s", cg->path);
	return 0;
}

int cgroup_add_pid(struct cgroup *cg, pid_t pid, agent_error_t **err)
{
	if (pid <= 0)
		return agent_error_set(err, EINVAL, "invalid pid %d", (int)pid);
	return cg->ops->add_pid(cg, pid, err);
}

int cgroup_freeze(struct cgroup *cg, bool frozen, agent_error_t **err)
{
	return cg->ops->freeze(cg, frozen, err);
}

int cgroup_pids(struct cgroup *cg, pid_t **ret_pids, size_t *ret_n, agent_error_t **err)
{
	const char *dir = cg->ops->procs_dir(cg);
	if (!dir)
		return agent_error_set(err, ENOENT, "cgroup %s has no hierarchy to list", cg->path);
	pid_t *pids = NULL;
	size_t n = 0, cap = 0;
	int r = cg_collect_pids(dir, &pids, &n, &cap, 0);
	if (r < 0) {
		free(pids);
		return agent_error_setsys(err, -r, "listing the pids of %s", dir);
	}
	*ret_pids = pids;
	*ret_n = n;
	return 0;
}

int cgroup_signal_all(struct cgroup *cg, int sig, agent_error_t **err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int first = 0;

	/* A failed freeze only makes the kill racier: go on. */
	bool frozen = cgroup_freeze(cg, true, NULL) == 0;
	int r = cgroup_pids(cg, &pids, &n, err);
	if (r == 0) {
		for (size_t i = 0; i < n; i++) {
			if (kill(pids[i], sig) < 0 && errno != ESRCH && !first)
				first = agent_error_setsys(err, errno, "kill %d", (int)pids[i]);
		}
	}
	if (frozen) {
		int t = cgroup_freeze(cg, false, r < 0 || first < 0 ? NULL : err);
		if (r == 0 && first == 0)
			r = t;
	}
	return r < 0 ? r : first;
}

int cgroup_destroy(struct cgroup *cg, agent_error_t **err)
{
	return cg->ops->destroy(cg, err);
}

int cgroup_stats(struct cgroup *cg, Grpc__CgroupStats *out, agent_error_t **err)
{
	int r = cg->ops->stats(cg, out, err);
	if (r < 0)
		cgroup_stats_clear(out);
	return r;
}

void cgroup_stats_clear(Grpc__CgroupStats *s)
{
	if (s->cpu_stats)
		protobuf_c_message_free_unpacked(&s->cpu_stats->base, NULL);
	if (s->memory_stats)
		protobuf_c_message_free_unpacked(&s->memory_stats->base, NULL);
	if (s->pids_stats)
		protobuf_c_message_free_unpacked(&s->pids_stats->base, NULL);
	if (s->blkio_stats)
		protobuf_c_message_free_unpacked(&s->blkio_stats->base, NULL);
	for (size_t i = 0; i < s->n_hugetlb_stats; i++)
		protobuf_c_message_free_unpacked(&s->hugetlb_stats[i]->base, NULL);
	free(s->hugetlb_stats);
	s->cpu_stats = NULL;
	s->memory_stats = NULL;
	s->pids_stats = NULL;
	s->blkio_stats = NULL;
	s->hugetlb_stats = NULL;
	s->n_hugetlb_stats = 0;
}

int cgroup_oom_open(struct cgroup *cg, struct cgroup_oom **ret, agent_error_t **err)
{
	return cg->ops->oom_open(cg, ret, err);
}

uint64_t cg_shares_to_weight(uint64_t shares)
{
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}
