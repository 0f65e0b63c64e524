// SPDX-License-Identifier: Apache-2.0
#include "sandbox/job.h"

#include <stdlib.h>

#include "base/status.h"

void sandbox_job_add(struct sandbox *sb, struct sandbox_job *job)
{
	job->sb = sb;
	job->next = sb->jobs;
	sb->jobs = job;
}

void sandbox_job_end(struct sandbox_job *job, int r, agent_error_t *err)
{
	for (struct sandbox_job **p = &job->sb->jobs; *p; p = &(*p)->next)
		if (*p == job) {
			*p = job->next;
			break;
		}
	job->stop(job);
	sandbox_done_fn done = job->done;
	void *ctx = job->ctx;
	free(job);
	done(r, err, ctx);
}

void sandbox_jobs_abort(struct sandbox *sb)
{
	while (sb->jobs) {
		agent_error_t *err = NULL;

		agent_error_set_status(&err, GRPC_ABORTED, ECANCELED, "the agent stopped while %s",
				       sb->jobs->what);
		sandbox_job_end(sb->jobs, -ECANCELED, err);
	}
}
