/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup v2: one directory in the unified hierarchy; device rules through eBPF. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Controllers a container cgroup needs from its ancestors. */
static const char *const wanted[] = {"cpu", "cpuset", "io", "memory", "pids", "hugetlb"};

static bool has_word(const char *text, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = text; (p = strstr(p, word)); p += wl) {
		bool start = p == text || p[-1] == ' ' || p[-1] == '\n';
		bool end = p[wl] == ' ' || p[wl] == '\n' || p[wl] == '\0';
		if (start && end)
			return true;
	}
	return false;
}

static bool available(const struct cgroup *cg, const char *ctrl)
{
	_cleanup_free_ char *s = NULL;
	if (cg_read(cg->v2_dir, "cgroup.controllers", &s) < 0)
		return false;
	return has_word(s, ctrl);
}

static int need(const struct cgroup *cg, const char *ctrl, agent_error_t **err)
{
	if (available(cg, ctrl))
		return 0;
	return agent_error_set(err, EOPNOTSUPP, "cgroup controller %s is not available in %s", ctrl,
			       cg->v2_dir);
}

static int enable_in(const char *dir, agent_error_t **err)
{
	_cleanup_free_ char *avail = NULL, *on = NULL;
	int r = cg_read(dir, "cgroup.controllers", &avail);
	if (r < 0)
		return agent_error_setsys(err, -r, "read %s/cgroup.controllers", dir);
	r = cg_read(dir, "cgroup.subtree_control", &on);
	if (r < 0)
		return agent_error_setsys(err, -r, "read %s/cgroup.subtree_control", dir);
	for (size_t i = 0; i < ARRAY_SIZE(wanted); i++) {
		if (!has_word(avail, wanted[i]) || has_word(on, wanted[i]))
			continue;
		r = cg_writef(dir, "cgroup.subtree_control", err, "+%s", wanted[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int v2_create(struct cgroup *cg, agent_error_t **err)
{
	char **created = NULL;
	size_t n_created = 0;
	const char *mnt = cg->m->unified;

	int r = cg_mkdir_p(mnt, cg->path, &created, &n_created, err);
	if (r == 0) {
		/* Every ancestor from the mount root down to the parent of the leaf. */
		_cleanup_free_ char *dir = strdup(cg->v2_dir);
		if (!dir)
			r = agent_error_set(err, ENOMEM, "out of memory");
		size_t base = strlen(mnt);
		char *last = dir ? strrchr(dir, '/') : NULL;
		for (char *p = dir ? dir + base : NULL; r == 0 && p && p <= last; p++) {
			if (*p != '/' || (p > dir + base && p[-1] == '/'))
				continue;
			char c = *p;
			*p = '\0';
			r = enable_in(p == dir + base ? mnt : dir, err);
			*p = c;
		}
	}
	if (r < 0) {
		cg_rollback(created, n_created);
		return r;
	}
	for (size_t i = 0; i < n_created; i++)
		free(created[i]);
	free(created);
	return 0;
}

static int apply_memory(struct cgroup *cg, const Grpc__LinuxMemory *mem, agent_error_t **err)
{
	const char *d = cg->v2_dir;
	int r;

	/* swappiness, kernel, kernelTCP and disableOOMKiller have no v2 file: ignored. */
	if (!mem || (mem->limit <= 0 && mem->swap <= 0 && mem->reservation <= 0))
		return 0;
	r = need(cg, "memory", err);
	if (r < 0)
		return r;
	if (mem->limit > 0) {
		r = cg_writef(d, "memory.max", err, "%" PRId64, mem->limit);
		if (r < 0)
			return r;
	}
	if (mem->swap > 0) {
		/* OCI swap is memory+swap; v2 limits swap alone. */
		uint64_t limit = (uint64_t)mem->limit;
		if (mem->limit <= 0) {
			r = cg_read_u64(d, "memory.max", &limit);
			if (r < 0)
				return agent_error_setsys(err, -r, "read %s/memory.max", d);
		}
		if (limit == UINT64_MAX)
			r = cg_write(d, "memory.swap.max", "max", err);
		else if ((uint64_t)mem->swap < limit)
			r = agent_error_set(err, EINVAL,
					    "memory+swap limit %" PRId64
					    " is below the memory limit "
					    "%" PRIu64,
					    mem->swap, limit);
		else
			r = cg_writef(d, "memory.swap.max", err, "%" PRIu64,
				      (uint64_t)mem->swap - limit);
		if (r < 0)
			return r;
	}
	if (mem->reservation > 0) {
		r = cg_writef(d, "memory.low", err, "%" PRId64, mem->reservation);
		if (r < 0)
			return r;
	}
	return 0;
}

static int apply_cpu(struct cgroup *cg, const Grpc__LinuxCPU *cpu, agent_error_t **err)
{
	const char *d = cg->v2_dir;
	int r;

	if (!cpu)
		return 0;
	if (*cpu->cpus || *cpu->mems) {
		r = need(cg, "cpuset", err);
		if (r < 0)
			return r;
		if (*cpu->mems) {
			r = cg_write(d, "cpuset.mems", cpu->mems, err);
			if (r < 0)
				return r;
		}
		/* Spec 6.3: a cpus failure is not fatal (hot-plugged CPUs may not be online yet).
		 */
		if (*cpu->cpus)
			cg_write(d, "cpuset.cpus", cpu->cpus, NULL);
	}
	/* Realtime values have no v2 file: ignored. */
	if (!cpu->shares && !cpu->quota && !cpu->period)
		return 0;
	r = need(cg, "cpu", err);
	if (r < 0)
		return r;
	if (cpu->shares) {
		r = cg_writef(d, "cpu.weight", err, "%" PRIu64, cg_shares_to_weight(cpu->shares));
		if (r < 0)
			return r;
	}
	if (cpu->quota && cpu->period) {
		if (cpu->quota > 0)
			r = cg_writef(d, "cpu.max", err, "%" PRId64 " %" PRIu64, cpu->quota,
				      cpu->period);
		else
			r = cg_writef(d, "cpu.max", err, "max %" PRIu64, cpu->period);
	} else if (cpu->quota) {
		if (cpu->quota > 0)
			r = cg_writef(d, "cpu.max", err, "%" PRId64, cpu->quota);
		else
			r = cg_write(d, "cpu.max", "max", err);
	} else if (cpu->period) {
		/* Period alone: keep the current quota. */
		_cleanup_free_ char *cur = NULL;
		r = cg_read(d, "cpu.max", &cur);
		if (r < 0)
			return agent_error_setsys(err, -r, "read %s/cpu.max", d);
		cur[strcspn(cur, " \n")] = '\0';
		r = cg_writef(d, "cpu.max", err, "%s %" PRIu64, cur, cpu->period);
	}
	return r;
}

static int apply_pids(struct cgroup *cg, const Grpc__LinuxPids *pids, bool update,
		      agent_error_t **err)
{
	if (!pids) {
		/* At create an absent limit means "max"; skipped without the controller.
		 */
		if (update || !available(cg, "pids"))
			return 0;
		return cg_write(cg->v2_dir, "pids.max", "max", err);
	}
	int r = need(cg, "pids", err);
	if (r < 0)
		return r;
	if (pids->limit <= 0)
		return cg_write(cg->v2_dir, "pids.max", "max", err);
	return cg_writef(cg->v2_dir, "pids.max", err, "%" PRId64, pids->limit);
}

/* blkio weight (10-1000) to io.weight (1-10000). */
static uint32_t io_weight(uint32_t w)
{
	if (w < 10)
		w = 10;
	if (w > 1000)
		w = 1000;
	return 1 + (w - 10) * 9999 / 990;
}

static int write_iomax(const char *d, const char *key, Grpc__LinuxThrottleDevice **v, size_t n,
		       agent_error_t **err)
{
	for (size_t i = 0; i < n; i++) {
		int r = cg_writef(d, "io.max", err, "%" PRId64 ":%" PRId64 " %s=%" PRIu64,
				  v[i]->major, v[i]->minor, key, v[i]->rate);
		if (r < 0)
			return r;
	}
	return 0;
}

static int apply_io(struct cgroup *cg, const Grpc__LinuxBlockIO *b, agent_error_t **err)
{
	const char *d = cg->v2_dir;
	int r;

	if (!b || (!b->weight && !b->n_weightdevice && !b->n_throttlereadbpsdevice &&
		   !b->n_throttlewritebpsdevice && !b->n_throttlereadiopsdevice &&
		   !b->n_throttlewriteiopsdevice))
		return 0;
	r = need(cg, "io", err);
	if (r < 0)
		return r;
	bool bfq = !cg_file_exists(d, "io.weight") && cg_file_exists(d, "io.bfq.weight");
	const char *wfile = bfq ? "io.bfq.weight" : "io.weight";
	if (b->weight) {
		r = cg_writef(d, wfile, err, "default %u", bfq ? b->weight : io_weight(b->weight));
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < b->n_weightdevice; i++) {
		const Grpc__LinuxWeightDevice *w = b->weightdevice[i];
		if (!w->weight)
			continue;
		r = cg_writef(d, wfile, err, "%" PRId64 ":%" PRId64 " %u", w->major, w->minor,
			      bfq ? w->weight : io_weight(w->weight));
		if (r < 0)
			return r;
	}
	r = write_iomax(d, "rbps", b->throttlereadbpsdevice, b->n_throttlereadbpsdevice, err);
	if (r == 0)
		r = write_iomax(d, "wbps", b->throttlewritebpsdevice, b->n_throttlewritebpsdevice,
				err);
	if (r == 0)
		r = write_iomax(d, "riops", b->throttlereadiopsdevice, b->n_throttlereadiopsdevice,
				err);
	if (r == 0)
		r = write_iomax(d, "wiops", b->throttlewriteiopsdevice,
				b->n_throttlewriteiopsdevice, err);
	return r;
}

static int apply_hugetlb(struct cgroup *cg, const Grpc__LinuxResources *res, agent_error_t **err)
{
	if (!res->n_hugepagelimits)
		return 0;
	int r = need(cg, "hugetlb", err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < res->n_hugepagelimits; i++) {
		const Grpc__LinuxHugepageLimit *h = res->hugepagelimits[i];
		char file[64];
		snprintf(file, sizeof(file), "hugetlb.%s.max", h->pagesize);
		r = cg_writef(cg->v2_dir, file, err, "%" PRIu64, h->limit);
		if (r < 0)
			return r;
	}
	return 0;
}

static int apply_devices(struct cgroup *cg, const Grpc__LinuxResources *res, bool update,
			 agent_error_t **err)
{
	_cleanup_free_ struct cg_dev_rule *rules = NULL;
	size_t n = 0;

	if (update && (!res || !res->n_devices))
		return 0;
	int r = cg_dev_rules_build(res, &rules, &n, err);
	if (r < 0)
		return r;
	return cg_bpf_devices_apply(cg->v2_dir, rules, n, &cg->bpf_prog_fd, err);
}

static int v2_apply(struct cgroup *cg, const Grpc__LinuxResources *res, bool update,
		    agent_error_t **err)
{
	int r = 0;
	if (res) {
		r = apply_memory(cg, res->memory, err);
		if (r == 0)
			r = apply_cpu(cg, res->cpu, err);
		if (r == 0)
			r = apply_io(cg, res->blockio, err);
		if (r == 0)
			r = apply_hugetlb(cg, res, err);
		if (r == 0 && res->network && (res->network->classid || res->network->n_priorities))
			r = agent_error_set(err, EOPNOTSUPP,
					    "cgroup controllers net_cls/net_prio do not exist on "
					    "cgroup v2");
	}
	if (r == 0)
		r = apply_pids(cg, res ? res->pids : NULL, update, err);
	if (r == 0)
		r = apply_devices(cg, res, update, err);
	return r;
}

static int v2_add_pid(struct cgroup *cg, pid_t pid, agent_error_t **err)
{
	return cg_writef(cg->v2_dir, "cgroup.procs", err, "%d", (int)pid);
}

static int v2_freeze(struct cgroup *cg, bool frozen, agent_error_t **err)
{
	const char *d = cg->v2_dir;
	int r = cg_write(d, "cgroup.freeze", frozen ? "1" : "0", err);
	if (r < 0)
		return r;
	/* Bounded: 2000 rounds of 1 ms. */
	for (int i = 0; i < 2000; i++) {
		_cleanup_free_ char *s = NULL;
		uint64_t v;
		r = cg_read(d, "cgroup.events", &s);
		if (r < 0)
			return agent_error_setsys(err, -r, "read %s/cgroup.events", d);
		if (cg_kv_u64(s, "frozen", &v) == 0 && v == (frozen ? 1 : 0))
			return 0;
		cg_sleep_ms(1);
	}
	return agent_error_set(err, ETIMEDOUT, "%s did not become %s", d,
			       frozen ? "frozen" : "thawed");
}

static const char *v2_procs_dir(struct cgroup *cg)
{
	return cg->v2_dir;
}

static int v2_destroy(struct cgroup *cg, agent_error_t **err)
{
	int r = 0;
	/* Bounded: 100 rounds of 5 ms while killed tasks leave. */
	for (int i = 0; i < 100; i++) {
		r = cg_rmdir_tree(cg->v2_dir, 0);
		if (r != -EBUSY)
			break;
		if (cg_write(cg->v2_dir, "cgroup.kill", "1", NULL) < 0) {
			pid_t *pids = NULL;
			size_t n = 0, cap = 0;
			cg_collect_pids(cg->v2_dir, &pids, &n, &cap, 0);
			for (size_t k = 0; k < n; k++)
				kill(pids[k], SIGKILL);
			free(pids);
		}
		cg_sleep_ms(5);
	}
	if (r < 0)
		return agent_error_setsys(err, -r, "removing %s", cg->v2_dir);
	return 0;
}

static int v2_oom_open(struct cgroup *cg, struct cgroup_oom **ret, agent_error_t **err)
{
	int r = need(cg, "memory", err);
	if (r < 0)
		return r;
	return cg_oom_open_v2(cg->v2_dir, ret, err);
}

const struct cgroup_ops cg_v2_ops = {
	.create = v2_create,
	.apply = v2_apply,
	.add_pid = v2_add_pid,
	.freeze = v2_freeze,
	.procs_dir = v2_procs_dir,
	.destroy = v2_destroy,
	.stats = cg_stats_v2,
	.oom_open = v2_oom_open,
};
