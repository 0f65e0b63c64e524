/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ReseedRandomDev: after a VM is cloned from a template every clone starts with
 * the same pool; the host sends fresh bytes, which go into the pool, are
 * credited, and the CRNG is reseeded from it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "guest/guest.h"
#include "base/status.h"

int guest_reseed_random(const char *dev, const void *data, size_t len, agent_error_t **err)
{
	if (len == 0)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "data: missing entropy data");
	if (len > GUEST_RANDOM_MAX_DATA)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "data: %zu bytes, at most %u", len,
					      GUEST_RANDOM_MAX_DATA);

	_cleanup_close_ int fd = open(dev, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return agent_error_setsys(err, errno, "open %s", dev);
	const char *p = data;
	size_t left = len;
	while (left) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return agent_error_setsys(err, w < 0 ? errno : EIO, "write %s", dev);
		p += w;
		left -= (size_t)w;
	}
	/* Writing mixes the bytes in without crediting them; the count is in bits. */
	int bits = (int)(len * 8);
	if (ioctl(fd, RNDADDTOENTCNT, &bits) < 0)
		return agent_error_setsys(err, errno, "RNDADDTOENTCNT on %s", dev);
	if (ioctl(fd, RNDRESEEDCRNG) < 0)
		return agent_error_setsys(err, errno, "RNDRESEEDCRNG on %s", dev);
	return 0;
}
