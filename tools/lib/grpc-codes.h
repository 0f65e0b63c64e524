/* SPDX-License-Identifier: Apache-2.0 */
/*
 * google.rpc status codes as seen by a client (the numbers are fixed by
 * google/rpc/code.proto). The server has its own copy in src/rpc/status.h;
 * the client library keeps this one so it depends on nothing server-side.
 */
#ifndef AGENT_CLIENT_GRPC_CODES_H
#define AGENT_CLIENT_GRPC_CODES_H

enum grpc_status_code {
	GRPC_STATUS_OK = 0,
	GRPC_STATUS_CANCELLED = 1,
	GRPC_STATUS_UNKNOWN = 2,
	GRPC_STATUS_INVALID_ARGUMENT = 3,
	GRPC_STATUS_DEADLINE_EXCEEDED = 4,
	GRPC_STATUS_NOT_FOUND = 5,
	GRPC_STATUS_ALREADY_EXISTS = 6,
	GRPC_STATUS_PERMISSION_DENIED = 7,
	GRPC_STATUS_RESOURCE_EXHAUSTED = 8,
	GRPC_STATUS_FAILED_PRECONDITION = 9,
	GRPC_STATUS_ABORTED = 10,
	GRPC_STATUS_OUT_OF_RANGE = 11,
	GRPC_STATUS_UNIMPLEMENTED = 12,
	GRPC_STATUS_INTERNAL = 13,
	GRPC_STATUS_UNAVAILABLE = 14,
	GRPC_STATUS_DATA_LOSS = 15,
	GRPC_STATUS_UNAUTHENTICATED = 16,
};

/* "OK", "INVALID_ARGUMENT", ...; a code outside 0..16 gives "UNKNOWN_CODE". Never NULL. */
const char *grpc_code_name(int code);

/* The code for a name as printed by grpc_code_name() (case-insensitive), or -1. */
int grpc_code_from_name(const char *name);

#endif
