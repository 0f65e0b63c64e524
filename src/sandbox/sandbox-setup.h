/* SPDX-License-Identifier: Apache-2.0 */
/* CreateSandbox and DestroySandbox (spec 4.1, 4.16). */
#ifndef AGENT_SANDBOX_SANDBOX_SETUP_H
#define AGENT_SANDBOX_SANDBOX_SETUP_H

#include "agent.pb-c.h"
#include "sandbox/sandbox.h"

int sandbox_create(struct sandbox *sb, const Grpc__CreateSandboxRequest *req, agent_error_t **err);
/* Destroys every container and closes the OOM channel (waiting GetOOMEvent calls fail). */
int sandbox_destroy(struct sandbox *sb, agent_error_t **err);

#endif
