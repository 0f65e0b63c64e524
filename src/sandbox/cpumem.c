// SPDX-License-Identifier: Apache-2.0
#include "sandbox/cpumem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/guest.h"
#include "rpc/status.h"
#include "sandbox/container.h"

struct online_job {
	struct online_job *next;
	struct sandbox *sb;
	struct guest_cpu_online cpus;
	bool cpu_only;
	struct loop_timer *timer;
	sandbox_done_fn done;
	void *ctx;
};

/*
 * Containers pinned to CPUs (resources.cpu.cpus) get every online CPU after a
 * hot-plug, ancestors first (spec 4.17).
 */
static int widen_cpusets(struct sandbox *sb, agent_error_t **err)
{
	char cpus[4096] = "";
	FILE *f = fopen(GUEST_SYSFS_CPU "/online", "re");

	if (!f || !fgets(cpus, sizeof(cpus), f)) {
		if (f)
			fclose(f);
		return agent_error_setsys(err, errno ? errno : EIO, "reading the online CPUs");
	}
	fclose(f);
	cpus[strcspn(cpus, "\n")] = '\0';
	for (struct container *c = sb->containers; c; c = c->next) {
		const Grpc__Linux *lx = c->spec ? c->spec->linux : NULL;
		if (!c->cg || !lx || !lx->resources || !lx->resources->cpu ||
		    !lx->resources->cpu->cpus[0])
			continue;
		int r = cgroup_cpuset_widen(c->cg, cpus, err);
		if (r < 0)
			return agent_error_wrap(err, "cpuset of container %s", c->id);
	}
	return 0;
}

static void job_end(struct online_job *j, int r, agent_error_t *err)
{
	for (struct online_job **p = &j->sb->online_jobs; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	if (j->timer)
		loop_timer_cancel(j->sb->loop, j->timer);
	sandbox_done_fn done = j->done;
	void *ctx = j->ctx;
	free(j);
	done(r, err, ctx);
}

/* The rest once the CPUs are there. */
static int finish(struct online_job *j, agent_error_t **err)
{
	int r = 0;

	if (!j->cpu_only)
		r = guest_online_memory(GUEST_SYSFS_MEMORY, NULL, err);
	if (r >= 0 && j->cpus.want > 0)
		r = widen_cpusets(j->sb, err);
	return r;
}

static void on_round(struct loop_timer *t, void *data);

/* 1: the job ended; 0: another round is scheduled. */
static int step(struct online_job *j)
{
	agent_error_t *err = NULL;
	int r = guest_online_cpus_round(GUEST_SYSFS_CPU, &j->cpus, &err);

	if (r == 0) {
		j->timer = loop_timer_add(j->sb->loop, loop_now_ms() + GUEST_ONLINE_ROUND_MS,
					  on_round, j);
		if (j->timer)
			return 0;
		r = agent_error_set(&err, ENOMEM, "out of memory");
	}
	if (r > 0)
		r = finish(j, &err);
	job_end(j, r < 0 ? r : 0, err);
	return 1;
}

static void on_round(struct loop_timer *t, void *data)
{
	struct online_job *j = data;

	(void)t;
	j->timer = NULL; /* gone once it fired */
	step(j);
}

int sandbox_online_cpu_mem(struct sandbox *sb, uint32_t nb_cpus, bool cpu_only,
			   sandbox_done_fn done, void *ctx, agent_error_t **err)
{
	struct online_job *j;

	if (nb_cpus > GUEST_MAX_CPUS)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "nb_cpus %u: at most %d", nb_cpus, GUEST_MAX_CPUS);
	j = calloc(1, sizeof(*j));
	if (!j)
		return agent_error_set(err, ENOMEM, "out of memory");
	j->sb = sb;
	j->cpus.want = nb_cpus;
	j->cpu_only = cpu_only;
	j->done = done;
	j->ctx = ctx;
	j->next = sb->online_jobs;
	sb->online_jobs = j;
	step(j);
	return 0;
}

void sandbox_online_abort(struct sandbox *sb)
{
	while (sb->online_jobs) {
		agent_error_t *err = NULL;

		agent_error_set_status(&err, GRPC_ABORTED, ECANCELED,
				       "the agent stopped while CPUs were being onlined");
		job_end(sb->online_jobs, -ECANCELED, err);
	}
}
