/* SPDX-License-Identifier: Apache-2.0 */
/* The one place where an error becomes a reply status (the codes: base/status.h). */
#ifndef AGENT_RPC_STATUS_H
#define AGENT_RPC_STATUS_H

#include "base/error.h"
#include "base/status.h"

/* The explicit status of the error if it has one, else one derived from its errno. */
int rpc_status_from_error(const agent_error_t *err);
const char *rpc_status_name(int code);

#endif
