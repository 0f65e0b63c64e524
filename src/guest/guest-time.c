/* SPDX-License-Identifier: Apache-2.0 */
/* SetGuestDateTime: the guest clock, set from the host's after a VM template is cloned. */
#include <errno.h>
#include <sys/time.h>

#include "guest/guest.h"
#include "base/status.h"

/* 9999-12-31T23:59:59Z: anything later is a bad request, not a clock. */
#define GUEST_TIME_MAX_SEC 253402300799ll

int guest_set_time(int64_t sec, int64_t usec, agent_error_t **err)
{
	if (sec < 0 || sec > GUEST_TIME_MAX_SEC)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "Sec %lld out of range [0, %lld]", (long long)sec,
					      GUEST_TIME_MAX_SEC);
	if (usec < 0 || usec >= 1000000)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "Usec %lld out of range [0, 999999]",
					      (long long)usec);
	struct timeval tv = {.tv_sec = (time_t)sec, .tv_usec = (suseconds_t)usec};
	if (settimeofday(&tv, NULL) < 0)
		return agent_error_setsys(err, errno, "settimeofday(%lld.%06lld)", (long long)sec,
					  (long long)usec);
	return 0;
}
