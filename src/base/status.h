/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's error vocabulary: google.rpc status codes. Code below the RPC layer
 * says with them what a failure means (agent_error_set_status in base/error.h:
 * INVALID_ARGUMENT for bad input, NOT_FOUND for an unknown id, ...); only the RPC
 * layer turns an error into a reply (rpc/status.h).
 */
#ifndef AGENT_BASE_STATUS_H
#define AGENT_BASE_STATUS_H

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

#endif
