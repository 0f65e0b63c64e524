/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CopyFile requests against a scratch share holding symlinks out of it
 * (fuzz-scratch.h): whatever the path, type, offsets and chunk, nothing
 * outside the root is created or changed, and every refusal says why. Input:
 * type byte, uid/gid byte, offset and file_size (2 bytes each, little
 * endian), then "path\0data".
 */
#include <stdint.h>

#include "fuzz-scratch.h"
#include "guest/guest.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	scratch_setup();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t types[] = {S_IFREG, 0, S_IFDIR, S_IFLNK, S_IFIFO};
	static unsigned runs;
	agent_error_t *err = NULL;
	char path[4200];

	if (size < 6)
		return 0;
	const char *rest = (const char *)data + 6;
	size_t left = size - 6;
	const char *nul = memchr(rest, '\0', left);
	if (!nul || (size_t)(nul - rest) >= sizeof(path) - 64)
		return 0;
	/* Paths mostly below the root, so the walk is exercised past the prefix. */
	int pl = snprintf(path, sizeof(path), "%s%.*s", (data[0] & 0x80) ? "" : GUEST_COPY_ROOT,
			  (int)(nul - rest), rest);
	if (pl < 0)
		return 0;
	struct guest_copy c = {
		.path = path,
		.file_mode = types[(data[0] & 0x7f) % 5] | ((uint32_t)data[1] << 1 & 0777),
		.dir_mode = 0755,
		.uid = (data[1] & 1) ? 1000 : -1,
		.gid = (data[1] & 2) ? 1000 : -1,
		.offset = data[2] | data[3] << 8,
		.file_size = data[4] | data[5] << 8,
		.data = nul + 1,
		.len = left - (size_t)(nul - rest) - 1,
	};
	if (++runs % 256 == 0)
		scratch_reset();
	int r = guest_copy_file(GUEST_COPY_ROOT, &c, &err);
	if ((r < 0) != (err != NULL) || (err && !err->msg))
		abort();
	err = agent_error_free(err);
	if (runs % 64 == 0 && guest_copy_cleanup(GUEST_COPY_ROOT, &err) < 0)
		err = agent_error_free(err);
	scratch_check_outside();
	return 0;
}
