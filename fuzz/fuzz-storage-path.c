/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storage mount points and sources as the host gives them, against a scratch
 * /run/kata-containers holding symlinks out of it (fuzz-scratch.h): every fd
 * the resolvers hand back names an object below its root that is not a
 * symlink, every refusal says why, and the guest directory outside never
 * changes. The input: one byte of flags, then the path (not NUL-terminated).
 */
#include <fcntl.h>
#include <stdint.h>

#include "base/pathres.h"
#include "fuzz-scratch.h"
#include "storage/storage-internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	scratch_setup();
	return 0;
}

/* fd names something below root (or root itself), and not a symlink. */
static void check_fd(int fd, const char *root)
{
	char p[32], where[4096];
	struct stat st;
	ssize_t n = readlink(pathres_proc(fd, p, sizeof(p)), where, sizeof(where) - 1);

	if (n < 0 || fstat(fd, &st) < 0 || S_ISLNK(st.st_mode))
		abort();
	where[n] = '\0';
	if (!pathres_below(root, where, NULL))
		abort();
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned runs;
	agent_error_t *err = NULL;
	char path[4096];

	if (size < 1 || size - 1 >= sizeof(path))
		return 0;
	uint8_t flags = data[0];
	memcpy(path, data + 1, size - 1);
	path[size - 1] = '\0';
	if (strlen(path) != size - 1)
		return 0;
	if (++runs % 256 == 0)
		scratch_reset(); /* bounded: what the inputs made goes now and then */

	/* The resolver itself, both ways. */
	int rootfd = open(STORAGE_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		abort();
	const char *rel = path[0] == '/' ? path + 1 : path;
	for (unsigned how = 0; how <= PATHRES_FORCE_WALK; how += PATHRES_FORCE_WALK) {
		int fd = pathres_open(rootfd, rel, O_PATH, how);
		if (fd >= 0)
			check_fd(fd, STORAGE_ROOT);
	}
	close(rootfd);

	/* A bind or overlay source. */
	int fd = storage_source(path, (flags & 1) ? "c1" : NULL, &err);
	if (fd >= 0)
		check_fd(fd, STORAGE_ROOT);
	else if (!err || !err->msg)
		abort();
	err = agent_error_free(err);

	/* A mount point, made, when it passes the lexical check as storage_validate does. */
	if (path_clean_under(path, STORAGE_ROOT)) {
		fd = storage_target(path, flags & 2, &err);
		if (fd >= 0)
			check_fd(fd, STORAGE_ROOT);
		else if (!err || !err->msg)
			abort();
		err = agent_error_free(err);
	}
	scratch_check_outside();
	return 0;
}
