/* SPDX-License-Identifier: Apache-2.0 */
/* google.rpc status codes, and the one place where an error becomes a status. */
#ifndef AGENT_RPC_STATUS_H
#define AGENT_RPC_STATUS_H

#include "base/error.h"

enum grpc_code {
	GRPC_OK = 0,
	GRPC_CANCELLED = 1,
	GRPC_UNKNOWN = 2,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_NOT_FOUND = 5,
	GRPC_ALREADY_EXISTS = 6,
	GRPC_PERMISSION_DENIED = 7,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_FAILED_PRECONDITION = 9,
	GRPC_ABORTED = 10,
	GRPC_OUT_OF_RANGE = 11,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
	GRPC_DATA_LOSS = 15,
	GRPC_UNAUTHENTICATED = 16,
};

/* The explicit status of the error if it has one, else one derived from its errno. */
int rpc_status_from_error(const agent_error_t *err);
const char *rpc_status_name(int code);

#endif
