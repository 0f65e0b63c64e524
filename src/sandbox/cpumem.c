// SPDX-License-Identifier: Apache-2.0
#include "sandbox/cpumem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/guest.h"
#include "base/status.h"
#include "sandbox/container.h"
#include "sandbox/job.h"

struct online_job {
	struct sandbox_job job; /* first: freed through it */
	struct guest_cpu_online cpus;
	bool cpu_only;
	struct loop_timer *timer;
};

/* What the container asked for last: UpdateContainer's cpus, else its spec's ("" if none). */
static const char *requested_cpus(const struct container *c)
{
	const Grpc__Linux *lx = c->spec ? c->spec->linux : NULL;

	if (c->cpus)
		return c->cpus;
	if (!lx || !lx->resources || !lx->resources->cpu || !lx->resources->cpu->cpus)
		return "";
	return lx->resources->cpu->cpus;
}

/*
 * After CPUs came online, as upstream's agent does: each container whose spec asks for
 * cpus gets the online CPUs in its ancestors (top down), then its own request back.
 * Containers that asked for none are left alone.
 */
static int update_cpusets(struct sandbox *sb, agent_error_t **err)
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
		const char *want = requested_cpus(c);
		if (!c->cg || !want[0])
			continue;
		int r = cgroup_cpuset_update(c->cg, cpus, want, err);
		if (r < 0)
			return agent_error_wrap(err, "cpuset of container %s", c->id);
	}
	return 0;
}

static void job_stop(struct sandbox_job *job)
{
	struct online_job *j = (struct online_job *)job;

	if (j->timer)
		loop_timer_cancel(job->sb->loop, j->timer);
}

/* The rest once the CPUs are there. */
static int finish(struct online_job *j, agent_error_t **err)
{
	int r = 0;

	if (!j->cpu_only)
		r = guest_online_memory(GUEST_SYSFS_MEMORY, NULL, err);
	if (r >= 0 && j->cpus.want > 0)
		r = update_cpusets(j->job.sb, err);
	return r;
}

static void on_round(struct loop_timer *t, void *data);

/* 1: the job ended; 0: another round is scheduled. */
static int step(struct online_job *j)
{
	agent_error_t *err = NULL;
	int r = guest_online_cpus_round(GUEST_SYSFS_CPU, &j->cpus, &err);

	if (r == 0) {
		j->timer = loop_timer_add(j->job.sb->loop, loop_now_ms() + GUEST_ONLINE_ROUND_MS,
					  on_round, j);
		if (j->timer)
			return 0;
		r = agent_error_set(&err, ENOMEM, "out of memory");
	}
	if (r > 0)
		r = finish(j, &err);
	sandbox_job_end(&j->job, r < 0 ? r : 0, err);
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
	j->job.what = "CPUs were being onlined";
	j->job.stop = job_stop;
	j->job.done = done;
	j->job.ctx = ctx;
	j->cpus.want = nb_cpus;
	j->cpu_only = cpu_only;
	sandbox_job_add(sb, &j->job);
	step(j);
	return 0;
}
