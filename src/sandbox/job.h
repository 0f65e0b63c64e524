/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A guest call the sandbox finishes later from the loop (AddSwap waiting for its
 * disk, OnlineCPUMem in rounds): kept on one list so shutdown can end each one
 * with ABORTED instead of leaving its caller without an answer.
 */
#ifndef AGENT_SANDBOX_JOB_H
#define AGENT_SANDBOX_JOB_H

#include "sandbox/sandbox-setup.h"

struct sandbox_job {
	struct sandbox_job *next;
	struct sandbox *sb;
	const char *what; /* "AddSwap waited for its disk": for the ABORTED message */
	void (*stop)(struct sandbox_job *job); /* drops its waits and timers */
	sandbox_done_fn done;
	void *ctx;
};

/* Links job (its fields set) into the sandbox's list. */
void sandbox_job_add(struct sandbox *sb, struct sandbox_job *job);
/* Unlinks it, stops it, calls done(r, err, ctx), then free(job) (the job is its first member). */
void sandbox_job_end(struct sandbox_job *job, int r, agent_error_t *err);
/* Ends every job with ABORTED (shutdown). */
void sandbox_jobs_abort(struct sandbox *sb);

#endif
