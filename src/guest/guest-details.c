/* SPDX-License-Identifier: Apache-2.0 */
/* GetGuestDetails and MemHotplugByProbe: the memory hotplug interface in sysfs. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest/guest.h"
#include "base/status.h"

int guest_mem_block_size(const char *memdir, uint64_t *ret, agent_error_t **err)
{
	char path[256], buf[64];

	snprintf(path, sizeof(path), "%s/block_size_bytes", memdir);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		*ret = 0;
		return 0;
	}
	if (fd < 0)
		return agent_error_setsys(err, errno, "open %s", path);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return agent_error_setsys(err, errno, "read %s", path);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	/* Hex without 0x, e.g. "8000000" for 128 MiB. */
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 16);
	if (!buf[0] || *end || errno || buf[0] == '-' || buf[0] == '+')
		return agent_error_set(err, EIO, "Invalid block size \"%s\" in %s", buf, path);
	*ret = v;
	return 0;
}

int guest_mem_probe_supported(const char *memdir, bool *ret, agent_error_t **err)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/probe", memdir);
	if (stat(path, &st) == 0) {
		*ret = true;
		return 0;
	}
	if (errno == ENOENT) {
		*ret = false;
		return 0;
	}
	return agent_error_setsys(err, errno, "stat %s", path);
}

int guest_mem_probe(const char *memdir, const uint64_t *addrs, size_t n, agent_error_t **err)
{
	char path[256];

	if (n > GUEST_MAX_PROBE_ADDRS)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "memHotplugProbeAddr: %zu addresses, at most %d", n,
					      GUEST_MAX_PROBE_ADDRS);
	snprintf(path, sizeof(path), "%s/probe", memdir);
	for (size_t i = 0; i < n; i++) {
		char text[32];
		int len = snprintf(text, sizeof(text), "0x%" PRIX64, addrs[i]);
		_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return agent_error_setsys(err, errno, "open %s", path);
		ssize_t w = write(fd, text, (size_t)len);
		if (w != len)
			return agent_error_setsys(err, w < 0 ? errno : EIO,
						  "write %s to %s (%zu of %zu probed before)", text,
						  path, i, n);
	}
	return 0;
}
