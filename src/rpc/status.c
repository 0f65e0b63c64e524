/* SPDX-License-Identifier: Apache-2.0 */
#include "status.h"

#include <errno.h>

int rpc_status_from_error(const agent_error_t *err)
{
	if (!err)
		return GRPC_INTERNAL;
	if (err->status > 0)
		return err->status;
	switch (err->errnum) {
	case EINVAL:
	case E2BIG:
	case ENAMETOOLONG:
		return GRPC_INVALID_ARGUMENT;
	case ENOENT:
	case ESRCH:
		return GRPC_NOT_FOUND;
	case EEXIST:
		return GRPC_ALREADY_EXISTS;
	case ETIMEDOUT:
	case ETIME:
		return GRPC_DEADLINE_EXCEEDED;
	case EPERM:
	case EACCES:
		return GRPC_PERMISSION_DENIED;
	case ENOSYS:
	case EOPNOTSUPP:
		return GRPC_UNIMPLEMENTED;
	case ENOSPC:
	case EMFILE:
	case ENFILE:
	case ENOMEM:
		return GRPC_RESOURCE_EXHAUSTED;
	case EBUSY:
	case EALREADY:
		return GRPC_FAILED_PRECONDITION;
	default:
		return GRPC_INTERNAL;
	}
}

const char *rpc_status_name(int code)
{
	static const char *const names[] = {
		"OK",
		"CANCELLED",
		"UNKNOWN",
		"INVALID_ARGUMENT",
		"DEADLINE_EXCEEDED",
		"NOT_FOUND",
		"ALREADY_EXISTS",
		"PERMISSION_DENIED",
		"RESOURCE_EXHAUSTED",
		"FAILED_PRECONDITION",
		"ABORTED",
		"OUT_OF_RANGE",
		"UNIMPLEMENTED",
		"INTERNAL",
		"UNAVAILABLE",
		"DATA_LOSS",
		"UNAUTHENTICATED",
	};
	if (code < 0 || (unsigned)code >= sizeof(names) / sizeof(names[0]))
		return "UNKNOWN";
	return names[code];
}
