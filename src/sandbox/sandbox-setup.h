/* SPDX-License-Identifier: Apache-2.0 */
/* CreateSandbox and DestroySandbox. */
#ifndef AGENT_SANDBOX_SANDBOX_SETUP_H
#define AGENT_SANDBOX_SANDBOX_SETUP_H

#include "agent.pb-c.h"
#include "sandbox/sandbox.h"

#define SANDBOX_MODULES_MAX 64

typedef void (*sandbox_done_fn)(int r, agent_error_t *err, void *ctx);

/*
 * CreateSandbox: checks every input, waits for the storages' devices, then applies
 * it all. done(r, err, ctx) runs once (err is the callee's), from the loop or
 * before this returns; a negative return means done is not called. One at a
 * time: another while one waits gets FAILED_PRECONDITION.
 */
int sandbox_create(struct sandbox *sb, const Grpc__CreateSandboxRequest *req, sandbox_done_fn done,
		   void *ctx, agent_error_t **err);
/* Ends a waiting CreateSandbox with ABORTED (DestroySandbox, shutdown). */
void sandbox_create_abort(struct sandbox *sb);
/*
 * Removes every container (their poststop hooks run on the loop), then closes the
 * OOM channel (waiting GetOOMEvent calls fail); done runs then, maybe before this returns.
 */
int sandbox_destroy(struct sandbox *sb, sandbox_done_fn done, void *ctx, agent_error_t **err);

#endif
