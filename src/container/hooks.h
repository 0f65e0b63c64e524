/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCI hooks: run one hook with the container state JSON on stdin, a clean
 * environment (the hook's env), and its timeout (default 10 s, then SIGKILL).
 * Blocking: used in the container child (createContainer, startContainer) and
 * for the few agent-side hooks. It forks and waits for its own child only
 * (waitpid on that pid), so it must not be called where THE reaper could
 * steal the exit: the caller in the agent registers nothing for that pid and
 * the reaper ignores unknown pids until asked. Failures are reported, and the
 * callers only log them (spec 6.2).
 */
#ifndef AGENT_CONTAINER_HOOKS_H
#define AGENT_CONTAINER_HOOKS_H

#include <sys/types.h>

#include "base/error.h"
#include "oci.pb-c.h"

/*
 * The OCI state: {"ociVersion":"1.0.2","id":...,"status":...,"pid":N,"bundle":...,
 * "annotations":{...}}, JSON-escaped. malloc'd, NULL on ENOMEM.
 */
char *oci_state_json(const char *id, const char *status, pid_t pid, const char *bundle,
		     const Grpc__Spec *spec);

int hook_run(const Grpc__Hook *h, const char *state_json, agent_error_t **err);

/* Runs each hook in order, whatever the others did; fail(err, data) for each one that fails. */
typedef void (*hook_fail_fn)(const agent_error_t *err, void *data);
void hooks_run_each(Grpc__Hook *const *hooks, size_t n, const char *state_json, hook_fail_fn fail,
		    void *data);

#endif
