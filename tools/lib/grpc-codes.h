/* SPDX-License-Identifier: Apache-2.0 */
/*
 * google.rpc status codes as seen by a client (the numbers are fixed by
 * google/rpc/code.proto), shared with the server through src/rpc/status.h.
 */
#ifndef AGENT_CLIENT_GRPC_CODES_H
#define AGENT_CLIENT_GRPC_CODES_H

#include "rpc/status.h" /* the numbers: one enum for server and client */

/* "OK", "INVALID_ARGUMENT", ...; a code outside 0..16 gives "UNKNOWN_CODE". Never NULL. */
const char *grpc_code_name(int code);

/* The code for a name as printed by grpc_code_name() (case-insensitive), or -1. */
int grpc_code_from_name(const char *name);

#endif
