/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AddSwap / AddSwapPath: swapon(2) of a path (sandbox/swap.c finds AddSwap's disk),
 * and the swap header writer the tests (and a future "format the disk" option) use.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <unistd.h>

#include "base/pathres.h"
#include "guest/guest.h"
#include "base/status.h"

#define SWAP_MIN_PAGES 10

int guest_mkswap(int fd, uint64_t size, agent_error_t **err)
{
	long ps = sysconf(_SC_PAGESIZE);
	if (ps < 4096 || ps > (1 << 20))
		return agent_error_set(err, EINVAL, "page size %ld", ps);
	uint64_t pages = size / (uint64_t)ps;
	if (pages < SWAP_MIN_PAGES || pages - 1 > UINT32_MAX)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "swap area of %llu pages: from %d to 2^32",
					      (unsigned long long)pages, SWAP_MIN_PAGES);
	_cleanup_free_ unsigned char *page = calloc(1, (size_t)ps);
	if (!page)
		return agent_error_set(err, ENOMEM, "out of memory");
	/* The version-1 header sits after 1024 boot bytes: version, last_page, nr_badpages,
	 * uuid[16], label[16]; the signature ends the first page. Host byte order. */
	uint32_t v[3] = {1, (uint32_t)(pages - 1), 0};
	memcpy(page + 1024, v, sizeof(v));
	unsigned char *uuid = page + 1024 + sizeof(v);
	if (getrandom(uuid, 16, 0) != 16)
		return agent_error_setsys(err, errno, "getrandom");
	uuid[6] = (uuid[6] & 0x0f) | 0x40; /* a random (version 4) UUID */
	uuid[8] = (uuid[8] & 0x3f) | 0x80;
	memcpy(page + ps - 10, "SWAPSPACE2", 10);
	ssize_t w = pwrite(fd, page, (size_t)ps, 0);
	if (w != ps)
		return agent_error_setsys(err, w < 0 ? errno : EIO, "write swap header");
	if (fsync(fd) < 0)
		return agent_error_setsys(err, errno, "fsync swap header");
	return 0;
}

int guest_swapon(const char *path, agent_error_t **err)
{
	struct stat st;
	char proc[32];
	bool dev = pathres_below("/dev", path, NULL);

	if (path[0] != '/' || strlen(path) >= PATH_MAX || strstr(path, "/../") ||
	    (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0) ||
	    (!dev && !guest_path_below(GUEST_VOLUME_ROOT, path, NULL)))
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "path \"%.256s\": must be a block device under /dev "
					      "or a file under %s, without ..",
					      path, GUEST_VOLUME_ROOT);
	_cleanup_close_ int fd =
		guest_open_below(dev ? "/dev" : GUEST_VOLUME_ROOT, path, O_PATH, err);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return agent_error_setsys(err, errno, "stat %s", path);
	if (dev ? !S_ISBLK(st.st_mode) : !S_ISREG(st.st_mode))
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "swapon %s: not a %s", path,
					      dev ? "block device" : "regular file");
	if (swapon(pathres_proc(fd, proc, sizeof(proc)), 0) < 0)
		return agent_error_setsys(err, errno, "swapon %s", path);
	return 0;
}
