/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCI hooks: run one hook with the container state JSON on stdin, a clean
 * environment (the hook's env), and its timeout (default 10 s, then SIGKILL).
 *
 * hooks_run_async() runs a list of hooks one after the other on the loop, each
 * with its own timeout, their exits routed by THE reaper: for the agent-side
 * hooks (prestart, poststart, poststop), so the loop never blocks on one.
 * hook_run()/hooks_run_each() block until the hook is done; they wait for
 * their own child only (loop/spawn.h spawn_exec_sync), for the hooks that run
 * in the container's set-up child (createContainer, startContainer), where
 * there is no loop.
 */
#ifndef AGENT_CONTAINER_HOOKS_H
#define AGENT_CONTAINER_HOOKS_H

#include <sys/types.h>

#include "base/error.h"
#include "loop/loop.h"
#include "loop/reaper.h"
#include "oci.pb-c.h"

/*
 * The OCI state: {"ociVersion":"1.0.2","id":...,"status":...,"pid":N,"bundle":...,
 * "annotations":{...}}, JSON-escaped. malloc'd, NULL on ENOMEM.
 */
char *oci_state_json(const char *id, const char *status, pid_t pid, const char *bundle,
		     const Grpc__Spec *spec);

/* Blocking: 0, or -errno with *err (-ETIMEDOUT when it was killed at its timeout). */
int hook_run(const Grpc__Hook *h, const char *state_json, agent_error_t **err);

/* Runs each hook in order, whatever the others did; fail(err, data) for each one that fails. */
typedef void (*hook_fail_fn)(const agent_error_t *err, void *data);
void hooks_run_each(Grpc__Hook *const *hooks, size_t n, const char *state_json, hook_fail_fn fail,
		    void *data);

/*
 * What a failing hook does to the ones after it. The OCI runtime spec: a failing
 * prestart, createRuntime, createContainer or startContainer hook stops the
 * lifecycle step (the later hooks do not run); a failing poststart or poststop
 * hook is a warning and the later ones still run.
 */
enum hooks_policy {
	HOOKS_STOP_AT_FIRST_FAILURE,
	HOOKS_RUN_ALL,
};

/* r: 0, or the failure that stopped a HOOKS_STOP_AT_FIRST_FAILURE run (err, owned by the job). */
typedef void (*hooks_done_fn)(int r, const agent_error_t *err, void *data);
struct hooks_job;

/*
 * Runs hooks[0..n) in order on the loop with state_json on each one's stdin. The
 * hooks and the state are copied. fail (optional) is told of every failing hook;
 * done runs once, from the loop (never before this returns), when the run ends.
 */
int hooks_run_async(struct loop *l, struct reaper *r, Grpc__Hook *const *hooks, size_t n,
		    const char *state_json, enum hooks_policy policy, hook_fail_fn fail,
		    hooks_done_fn done, void *data, struct hooks_job **ret_job,
		    agent_error_t **err);
/* The caller no longer wants the run: the running hook is killed, done is never called. */
void hooks_abandon(struct hooks_job *job);

#endif
