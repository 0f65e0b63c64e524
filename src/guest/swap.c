/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AddSwap / AddSwapPath: swapon(2) of a file or of a virtio-blk disk found by
 * its PCI path, and the swap header writer the tests (and a future "format the
 * disk" option) use.
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

#include "guest/guest.h"
#include "rpc/status.h"

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
	if (path[0] != '/' || strlen(path) >= PATH_MAX || strstr(path, "/../") ||
	    (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0))
		return agent_error_set_status(
			err, GRPC_INVALID_ARGUMENT, EINVAL,
			"path \"%.256s\": must be an absolute path without ..", path);
	if (swapon(path, 0) < 0)
		return agent_error_setsys(err, errno, "swapon %s", path);
	return 0;
}

/* The child entry of dir that is PCI device SS.0 (any domain and bus); 0 or -ENOENT. */
static int pci_child(const char *dir, uint32_t slot, char *buf, size_t size)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	struct dirent *de;
	int r = -ENOENT;
	while ((de = readdir(d))) {
		unsigned dom, bus, s, fn;
		char tail;
		if (sscanf(de->d_name, "%4x:%2x:%2x.%1x%c", &dom, &bus, &s, &fn, &tail) == 4 &&
		    strlen(de->d_name) == 12 && s == slot && fn == 0) {
			if ((size_t)snprintf(buf, size, "%s/%s", dir, de->d_name) < size)
				r = 0;
			break;
		}
	}
	closedir(d);
	return r;
}

int guest_pci_block_dev(const char *sysfs_devices, const uint32_t *slots, size_t n, char *buf,
			size_t size, agent_error_t **err)
{
	char dir[PATH_MAX], next[PATH_MAX];

	if (n == 0 || n > GUEST_MAX_PCI_DEPTH)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "PCIPath: %zu slots, from 1 to %d", n,
					      GUEST_MAX_PCI_DEPTH);
	for (size_t i = 0; i < n; i++)
		if (slots[i] > 0x1f)
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "PCIPath: slot %u is above 0x1f", slots[i]);
	snprintf(dir, sizeof(dir), "%s/pci0000:00", sysfs_devices);
	for (size_t i = 0; i < n; i++) {
		if (pci_child(dir, slots[i], next, sizeof(next)) < 0)
			return agent_error_set(err, ENOENT,
					       "PCIPath: no device at slot %02x below %s", slots[i],
					       dir);
		memcpy(dir, next, sizeof(dir));
	}
	/* The disk: DEV/virtioN/block/NAME. */
	DIR *d = opendir(dir);
	if (!d)
		return agent_error_setsys(err, errno, "open %s", dir);
	struct dirent *de;
	bool found = false;
	while (!found && (de = readdir(d))) {
		if (strncmp(de->d_name, "virtio", 6) != 0)
			continue;
		snprintf(next, sizeof(next), "%s/%s/block", dir, de->d_name);
		DIR *b = opendir(next);
		if (!b)
			continue;
		struct dirent *be;
		while ((be = readdir(b)))
			if (be->d_name[0] != '.')
				break;
		found = be && (size_t)snprintf(buf, size, "/dev/%s", be->d_name) < size;
		closedir(b);
	}
	closedir(d);
	if (!found)
		return agent_error_set(err, ENOENT, "no virtio block device in %s", dir);
	return 0;
}
