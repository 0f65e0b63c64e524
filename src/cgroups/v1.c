/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup v1: one directory per controller hierarchy (combined mounts share one). */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* True when controller c's directory was not already handled by an earlier controller. */
static bool first_of_dir(const struct cgroup *cg, int c)
{
	if (!cg->v1_dir[c])
		return false;
	for (int k = 0; k < c; k++)
		if (cg->v1_dir[k] && strcmp(cg->v1_dir[k], cg->v1_dir[c]) == 0)
			return false;
	return true;
}

static int need(const struct cgroup *cg, int c, agent_error_t **err)
{
	if (cg->v1_dir[c])
		return 0;
	return agent_error_set(err, EOPNOTSUPP, "cgroup controller %s is not available",
			       cg_v1_names[c]);
}

/* A new cpuset cgroup starts with empty cpus/mems; copy them down from the parent. */
static int cpuset_fill(const struct cgroup *cg, agent_error_t **err)
{
	const char *mnt = cg->m->v1_mnt[CG_CPUSET];
	_cleanup_free_ char *dir = strdup(cg->v1_dir[CG_CPUSET]);
	if (!dir)
		return agent_error_set(err, ENOMEM, "out of memory");
	size_t base = strlen(mnt);
	for (char *p = dir + base + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
		for (size_t i = 0; i < ARRAY_SIZE(files) && p[-1] != '/'; i++) {
			_cleanup_free_ char *cur = NULL, *parent = NULL, *pdir = NULL;
			if (cg_read(dir, files[i], &cur) < 0 || (cur[0] != '\n' && cur[0]))
				continue;
			pdir = strdup(dir);
			if (!pdir)
				return agent_error_set(err, ENOMEM, "out of memory");
			*strrchr(pdir, '/') = '\0';
			int r = cg_read(pdir, files[i], &parent);
			if (r < 0)
				return agent_error_setsys(err, -r, "read %s/%s", pdir, files[i]);
			r = cg_write(dir, files[i], parent, err);
			if (r < 0)
				return r;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

static int v1_create(struct cgroup *cg, agent_error_t **err)
{
	char **created = NULL;
	size_t n_created = 0;
	int r = 0;

	for (int c = 0; c < CG_V1_MAX && r == 0; c++) {
		if (first_of_dir(cg, c))
			r = cg_mkdir_p(cg->m->v1_mnt[c], cg->path, &created, &n_created, err);
	}
	if (r == 0 && cg->v1_dir[CG_CPUSET])
		r = cpuset_fill(cg, err);
	if (r < 0) {
		cg_rollback(created, n_created);
		return r;
	}
	for (size_t i = 0; i < n_created; i++)
		free(created[i]);
	free(created);
	return 0;
}

static int apply_memory(struct cgroup *cg, const Grpc__LinuxMemory *mem, bool update,
			agent_error_t **err)
{
	const char *d = cg->v1_dir[CG_MEMORY];
	int r;

	if (!update && d && cg_file_exists(d, "memory.kmem.limit_in_bytes")) {
		/* Turns kernel memory accounting on (older kernels); newer ones refuse or ignore.
		 */
		if (cg_write(d, "memory.kmem.limit_in_bytes", "1", NULL) == 0)
			cg_write(d, "memory.kmem.limit_in_bytes", "-1", NULL);
	}
	if (!mem)
		return 0;
	bool any = mem->limit > 0 || mem->swap > 0 || mem->reservation > 0 || mem->kernel > 0 ||
		   mem->kerneltcp > 0 || mem->swappiness > 0 || mem->disableoomkiller;
	if (!any)
		return 0;
	r = need(cg, CG_MEMORY, err);
	if (r < 0)
		return r;

	/* Without swap accounting there is no memsw file: only the memory limit applies. */
	if (mem->swap > 0 && cg_file_exists(d, "memory.memsw.limit_in_bytes")) {
		/* memsw >= limit at every step: raise memsw first, lower limit first. */
		uint64_t cur = 0;
		r = cg_read_u64(d, "memory.memsw.limit_in_bytes", &cur);
		if (r < 0)
			return agent_error_setsys(err, -r, "read %s/memory.memsw.limit_in_bytes",
						  d);
		bool swap_first = (uint64_t)mem->swap > cur;
		if (swap_first) {
			r = cg_writef(d, "memory.memsw.limit_in_bytes", err, "%" PRId64, mem->swap);
			if (r < 0)
				return r;
		}
		if (mem->limit > 0) {
			r = cg_writef(d, "memory.limit_in_bytes", err, "%" PRId64, mem->limit);
			if (r < 0)
				return r;
		}
		if (!swap_first) {
			r = cg_writef(d, "memory.memsw.limit_in_bytes", err, "%" PRId64, mem->swap);
			if (r < 0)
				return r;
		}
	} else if (mem->limit > 0) {
		r = cg_writef(d, "memory.limit_in_bytes", err, "%" PRId64, mem->limit);
		if (r < 0)
			return r;
	}
	if (mem->reservation > 0) {
		r = cg_writef(d, "memory.soft_limit_in_bytes", err, "%" PRId64, mem->reservation);
		if (r < 0)
			return r;
	}
	/* Kernel limits are gone from newer kernels (memory is accounted anyway): skip then. */
	if (mem->kernel > 0 && cg_file_exists(d, "memory.kmem.limit_in_bytes")) {
		r = cg_writef(d, "memory.kmem.limit_in_bytes", err, "%" PRId64, mem->kernel);
		if (r < 0)
			return r;
	}
	if (mem->kerneltcp > 0 && cg_file_exists(d, "memory.kmem.tcp.limit_in_bytes")) {
		r = cg_writef(d, "memory.kmem.tcp.limit_in_bytes", err, "%" PRId64, mem->kerneltcp);
		if (r < 0)
			return r;
	}
	if (mem->swappiness > 0) {
		r = cg_writef(d, "memory.swappiness", err, "%" PRIu64, mem->swappiness);
		if (r < 0)
			return r;
	}
	if (mem->disableoomkiller) {
		r = cg_write(d, "memory.oom_control", "1", err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int apply_cpu(struct cgroup *cg, const Grpc__LinuxCPU *cpu, agent_error_t **err)
{
	const char *d = cg->v1_dir[CG_CPU];
	int r;

	if (!cpu)
		return 0;
	if (*cpu->cpus || *cpu->mems) {
		r = need(cg, CG_CPUSET, err);
		if (r < 0)
			return r;
		if (*cpu->mems) {
			r = cg_write(cg->v1_dir[CG_CPUSET], "cpuset.mems", cpu->mems, err);
			if (r < 0)
				return r;
		}
		/* Spec 6.3: a cpus failure is not fatal (hot-plugged CPUs may not be online yet).
		 */
		if (*cpu->cpus)
			cg_write(cg->v1_dir[CG_CPUSET], "cpuset.cpus", cpu->cpus, NULL);
	}
	if (!cpu->shares && !cpu->quota && !cpu->period && !cpu->realtimeruntime &&
	    !cpu->realtimeperiod)
		return 0;
	r = need(cg, CG_CPU, err);
	if (r < 0)
		return r;
	if (cpu->shares) {
		r = cg_writef(d, "cpu.shares", err, "%" PRIu64, cpu->shares);
		if (r < 0)
			return r;
	}
	if (cpu->period) {
		r = cg_writef(d, "cpu.cfs_period_us", err, "%" PRIu64, cpu->period);
		if (r < 0)
			return r;
	}
	if (cpu->quota) {
		r = cg_writef(d, "cpu.cfs_quota_us", err, "%" PRId64,
			      cpu->quota > 0 ? cpu->quota : -1);
		if (r < 0)
			return r;
	}
	if (cpu->realtimeperiod) {
		r = cg_writef(d, "cpu.rt_period_us", err, "%" PRIu64, cpu->realtimeperiod);
		if (r < 0)
			return r;
	}
	if (cpu->realtimeruntime) {
		r = cg_writef(d, "cpu.rt_runtime_us", err, "%" PRId64, cpu->realtimeruntime);
		if (r < 0)
			return r;
	}
	return 0;
}

static int apply_pids(struct cgroup *cg, const Grpc__LinuxPids *pids, bool update,
		      agent_error_t **err)
{
	if (!pids) {
		/* At create an absent limit means "max"; skipped without the controller.
		 */
		if (update || !cg->v1_dir[CG_PIDS])
			return 0;
		return cg_write(cg->v1_dir[CG_PIDS], "pids.max", "max", err);
	}
	int r = need(cg, CG_PIDS, err);
	if (r < 0)
		return r;
	if (pids->limit <= 0)
		return cg_write(cg->v1_dir[CG_PIDS], "pids.max", "max", err);
	return cg_writef(cg->v1_dir[CG_PIDS], "pids.max", err, "%" PRId64, pids->limit);
}

static int write_throttle(const char *d, const char *file, Grpc__LinuxThrottleDevice **v, size_t n,
			  agent_error_t **err)
{
	for (size_t i = 0; i < n; i++) {
		int r = cg_writef(d, file, err, "%" PRId64 ":%" PRId64 " %" PRIu64, v[i]->major,
				  v[i]->minor, v[i]->rate);
		if (r < 0)
			return r;
	}
	return 0;
}

static int apply_blkio(struct cgroup *cg, const Grpc__LinuxBlockIO *b, agent_error_t **err)
{
	const char *d = cg->v1_dir[CG_BLKIO];
	int r;

	if (!b || (!b->weight && !b->leafweight && !b->n_weightdevice &&
		   !b->n_throttlereadbpsdevice && !b->n_throttlewritebpsdevice &&
		   !b->n_throttlereadiopsdevice && !b->n_throttlewriteiopsdevice))
		return 0;
	r = need(cg, CG_BLKIO, err);
	if (r < 0)
		return r;
	/* CFQ's blkio.weight is gone with CFQ; BFQ exposes blkio.bfq.weight. */
	const char *wfile = cg_file_exists(d, "blkio.weight") ? "blkio.weight" : "blkio.bfq.weight";
	if (b->weight) {
		r = cg_writef(d, wfile, err, "%u", b->weight);
		if (r < 0)
			return r;
	}
	if (b->leafweight) {
		r = cg_writef(d, "blkio.leaf_weight", err, "%u", b->leafweight);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < b->n_weightdevice; i++) {
		const Grpc__LinuxWeightDevice *w = b->weightdevice[i];
		const char *f = cg_file_exists(d, "blkio.weight_device")
					? "blkio.weight_device"
					: "blkio.bfq.weight_device";
		if (w->weight) {
			r = cg_writef(d, f, err, "%" PRId64 ":%" PRId64 " %u", w->major, w->minor,
				      w->weight);
			if (r < 0)
				return r;
		}
		if (w->leafweight) {
			r = cg_writef(d, "blkio.leaf_weight_device", err,
				      "%" PRId64 ":%" PRId64 " %u", w->major, w->minor,
				      w->leafweight);
			if (r < 0)
				return r;
		}
	}
	r = write_throttle(d, "blkio.throttle.read_bps_device", b->throttlereadbpsdevice,
			   b->n_throttlereadbpsdevice, err);
	if (r == 0)
		r = write_throttle(d, "blkio.throttle.write_bps_device", b->throttlewritebpsdevice,
				   b->n_throttlewritebpsdevice, err);
	if (r == 0)
		r = write_throttle(d, "blkio.throttle.read_iops_device", b->throttlereadiopsdevice,
				   b->n_throttlereadiopsdevice, err);
	if (r == 0)
		r = write_throttle(d, "blkio.throttle.write_iops_device",
				   b->throttlewriteiopsdevice, b->n_throttlewriteiopsdevice, err);
	return r;
}

static int apply_hugetlb(struct cgroup *cg, const Grpc__LinuxResources *res, agent_error_t **err)
{
	if (!res->n_hugepagelimits)
		return 0;
	int r = need(cg, CG_HUGETLB, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < res->n_hugepagelimits; i++) {
		const Grpc__LinuxHugepageLimit *h = res->hugepagelimits[i];
		char file[64];
		snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes", h->pagesize);
		r = cg_writef(cg->v1_dir[CG_HUGETLB], file, err, "%" PRIu64, h->limit);
		if (r < 0)
			return r;
	}
	return 0;
}

static int apply_network(struct cgroup *cg, const Grpc__LinuxNetwork *net, agent_error_t **err)
{
	int r;
	if (!net)
		return 0;
	if (net->classid) {
		r = need(cg, CG_NET_CLS, err);
		if (r == 0)
			r = cg_writef(cg->v1_dir[CG_NET_CLS], "net_cls.classid", err, "%u",
				      net->classid);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < net->n_priorities; i++) {
		r = need(cg, CG_NET_PRIO, err);
		if (r == 0)
			r = cg_writef(cg->v1_dir[CG_NET_PRIO], "net_prio.ifpriomap", err, "%s %u",
				      net->priorities[i]->name, net->priorities[i]->priority);
		if (r < 0)
			return r;
	}
	return 0;
}

static int write_dev_rule(const char *d, const struct cg_dev_rule *rule, agent_error_t **err)
{
	char buf[64];
	const char *file = rule->allow ? "devices.allow" : "devices.deny";
	struct cg_dev_rule one = *rule;

	/* The kernel reads any rule starting with 'a' as all devices: split partial ones. */
	if (rule->type == 'a' &&
	    (rule->major >= 0 || rule->minor >= 0 || rule->access != CG_DEV_RWM)) {
		one.type = 'c';
		cg_dev_rule_format(&one, buf, sizeof(buf));
		int r = cg_write(d, file, buf, err);
		if (r < 0)
			return r;
		one.type = 'b';
	}
	cg_dev_rule_format(&one, buf, sizeof(buf));
	return cg_write(d, file, buf, err);
}

static int apply_devices(struct cgroup *cg, const Grpc__LinuxResources *res, bool update,
			 agent_error_t **err)
{
	_cleanup_free_ struct cg_dev_rule *rules = NULL;
	size_t n = 0;

	if (update && (!res || !res->n_devices))
		return 0;
	if (!cg->v1_dir[CG_DEVICES]) {
		if (res && res->n_devices)
			return need(cg, CG_DEVICES, err);
		return 0;
	}
	int r = cg_dev_rules_build(res, &rules, &n, err);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = write_dev_rule(cg->v1_dir[CG_DEVICES], &rules[i], err);
	return r;
}

static int v1_apply(struct cgroup *cg, const Grpc__LinuxResources *res, bool update,
		    agent_error_t **err)
{
	int r = apply_memory(cg, res ? res->memory : NULL, update, err);
	if (r == 0)
		r = apply_cpu(cg, res ? res->cpu : NULL, err);
	if (r == 0)
		r = apply_pids(cg, res ? res->pids : NULL, update, err);
	if (r == 0 && res)
		r = apply_blkio(cg, res->blockio, err);
	if (r == 0 && res)
		r = apply_hugetlb(cg, res, err);
	if (r == 0 && res)
		r = apply_network(cg, res->network, err);
	if (r == 0)
		r = apply_devices(cg, res, update, err);
	return r;
}

static int v1_add_pid(struct cgroup *cg, pid_t pid, agent_error_t **err)
{
	for (int c = 0; c < CG_V1_MAX; c++) {
		if (!first_of_dir(cg, c))
			continue;
		int r = cg_writef(cg->v1_dir[c], "cgroup.procs", err, "%d", (int)pid);
		if (r < 0)
			return r;
	}
	return 0;
}

static int v1_freeze(struct cgroup *cg, bool frozen, agent_error_t **err)
{
	const char *d = cg->v1_dir[CG_FREEZER];
	const char *want = frozen ? "FROZEN" : "THAWED";
	int r = need(cg, CG_FREEZER, err);
	if (r < 0)
		return r;
	/* Bounded: 1000 rounds of 1 ms, writing again now and then (freezing can stall). */
	for (int i = 0; i < 1000; i++) {
		if (i % 50 == 0) {
			r = cg_write(d, "freezer.state", want, err);
			if (r < 0)
				return r;
		}
		_cleanup_free_ char *s = NULL;
		r = cg_read(d, "freezer.state", &s);
		if (r < 0)
			return agent_error_setsys(err, -r, "read %s/freezer.state", d);
		if (strncmp(s, want, strlen(want)) == 0)
			return 0;
		cg_sleep_ms(1);
	}
	return agent_error_set(err, ETIMEDOUT, "%s did not become %s", d, want);
}

static const char *v1_procs_dir(struct cgroup *cg)
{
	static const int order[] = {CG_FREEZER, CG_PIDS, CG_MEMORY, CG_DEVICES, CG_CPU};
	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		if (cg->v1_dir[order[i]])
			return cg->v1_dir[order[i]];
	for (int c = 0; c < CG_V1_MAX; c++)
		if (cg->v1_dir[c])
			return cg->v1_dir[c];
	return NULL;
}

static void kill_tree(const char *dir)
{
	pid_t *pids = NULL;
	size_t n = 0, cap = 0;
	cg_collect_pids(dir, &pids, &n, &cap, 0);
	for (size_t i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	free(pids);
}

static int v1_destroy(struct cgroup *cg, agent_error_t **err)
{
	int first = 0;
	bool thawed = false;

	for (int c = 0; c < CG_V1_MAX; c++) {
		if (!first_of_dir(cg, c))
			continue;
		int r = 0;
		/* Bounded: 100 rounds of 5 ms while killed tasks leave. */
		for (int i = 0; i < 100; i++) {
			r = cg_rmdir_tree(cg->v1_dir[c], 0);
			if (r != -EBUSY)
				break;
			if (!thawed && cg->v1_dir[CG_FREEZER]) {
				/* Frozen tasks cannot die. */
				cg_write(cg->v1_dir[CG_FREEZER], "freezer.state", "THAWED", NULL);
				thawed = true;
			}
			kill_tree(cg->v1_dir[c]);
			cg_sleep_ms(5);
		}
		if (r < 0 && !first)
			first = agent_error_setsys(err, -r, "removing %s", cg->v1_dir[c]);
	}
	return first;
}

static int v1_oom_open(struct cgroup *cg, struct cgroup_oom **ret, agent_error_t **err)
{
	int r = need(cg, CG_MEMORY, err);
	if (r < 0)
		return r;
	return cg_oom_open_v1(cg->v1_dir[CG_MEMORY], ret, err);
}

const struct cgroup_ops cg_v1_ops = {
	.create = v1_create,
	.apply = v1_apply,
	.add_pid = v1_add_pid,
	.freeze = v1_freeze,
	.procs_dir = v1_procs_dir,
	.destroy = v1_destroy,
	.stats = cg_stats_v1,
	.oom_open = v1_oom_open,
};
