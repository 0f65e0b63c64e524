/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel uevent datagrams: the parser, and matching the result against the
 * device matchers the agent waits with. Bytes come with their length only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "device/devmatch.h"
#include "uevent/uevent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uevent ev;
	agent_error_t *err = NULL;
	int r = uevent_parse(data, size, &ev, &err);

	if (r < 0 && (!err || !err->msg))
		abort(); /* every refusal says why */
	if (r == 0) {
		struct dev_match d;
		agent_error_t *e2 = NULL;
		if (dev_match_virtio_blk_mmio(&d, "/dev/vdb", &e2) == 0)
			(void)uevent_match_test(&d.m, &ev);
		agent_error_free(e2);
		e2 = NULL;
		if (dev_match_scsi(&d, "0:1", &e2) == 0)
			(void)uevent_match_test(&d.m, &ev);
		agent_error_free(e2);
		if (strlen(ev.devpath) >= sizeof(ev.devpath) || strstr(ev.devpath, "/../"))
			abort(); /* bounded, and never a path that climbs */
	}
	agent_error_free(err);
	return 0;
}
