/* SPDX-License-Identifier: Apache-2.0 */
#include "grpc-codes.h"

#include <strings.h>

#include "base/macro.h"

const char *grpc_code_name(int code)
{
	if (code < GRPC_OK || code > GRPC_UNAUTHENTICATED)
		return "UNKNOWN_CODE";
	return rpc_status_name(code);
}

int grpc_code_from_name(const char *name)
{
	if (!name)
		return -1;
	for (int i = GRPC_OK; i <= GRPC_UNAUTHENTICATED; i++)
		if (strcasecmp(name, rpc_status_name(i)) == 0)
			return i;
	return -1;
}
