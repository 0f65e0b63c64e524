// SPDX-License-Identifier: Apache-2.0
#include "sandbox/swap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/devmatch.h"
#include "device/pcipath.h"
#include "guest/guest.h"
#include "base/status.h"
#include "sandbox/devwait.h"
#include "sandbox/job.h"

struct swap_wait {
	struct sandbox_job job; /* first: freed through it */
	struct devwait *wait;
};

static void swap_wait_stop(struct sandbox_job *job)
{
	devwait_cancel(((struct swap_wait *)job)->wait);
}

static void on_disk(int r, agent_error_t *err, char *const *devs, void *data)
{
	struct swap_wait *sw = data;

	sw->wait = NULL; /* gone once this returns */
	if (r >= 0)
		r = guest_swapon(devs[0], &err);
	sandbox_job_end(&sw->job, r, err);
}

/* "SS/SS/..." from the slot numbers, for the PCI path parser. */
static int path_text(const uint32_t *slots, size_t n, char *buf, size_t size, agent_error_t **err)
{
	size_t len = 0;

	if (n == 0 || n > GUEST_MAX_PCI_DEPTH)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "PCIPath: %zu slots, from 1 to %d", n,
					      GUEST_MAX_PCI_DEPTH);
	for (size_t i = 0; i < n; i++) {
		if (slots[i] > 0x1f)
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "PCIPath: slot %u is above 0x1f", slots[i]);
		len += (size_t)snprintf(buf + len, size - len, "%s%02x", i ? "/" : "", slots[i]);
		if (len >= size)
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, E2BIG,
						      "PCIPath too long");
	}
	return 0;
}

int sandbox_add_swap(struct sandbox *sb, const uint32_t *slots, size_t n, sandbox_done_fn done,
		     void *ctx, agent_error_t **err)
{
	char text[3 * GUEST_MAX_PCI_DEPTH + 1];
	struct pci_path pp;
	struct pci_sysfs_path sp;
	struct dev_match m, *mp = &m;
	struct swap_wait *sw;
	int r;

	r = path_text(slots, n, text, sizeof(text), err);
	if (r < 0)
		return r;
	if (pci_path_parse(text, &pp, err) < 0 || pci_path_resolve(NULL, &pp, &sp, err) < 0 ||
	    dev_match_virtio_blk_pci(&m, &sp, text, err) < 0)
		return agent_error_wrap(err, "PCIPath %s", text);
	sw = calloc(1, sizeof(*sw));
	if (!sw)
		return agent_error_set(err, ENOMEM, "out of memory");
	sw->job.what = "AddSwap waited for its disk";
	sw->job.stop = swap_wait_stop;
	sw->job.done = done;
	sw->job.ctx = ctx;
	r = devwait_start(sb, &mp, 1, on_disk, sw, &sw->wait, err);
	if (r < 0) {
		free(sw);
		return r;
	}
	sandbox_job_add(sb, &sw->job);
	return 0;
}
