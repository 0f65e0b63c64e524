/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /proc/self/mountinfo text as the kernel might write it (or garbage): walked entry by entry
 * with escapes decoded. Every non-empty field of an entry must lie inside the buffer and be
 * a string that ends there; the walk must end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mountinfo.h"

static void check_field(const char *f, const char *buf, size_t len)
{
	if (!f || !*f)
		return; /* an absent field may be a constant "" */
	if (f < buf || f > buf + len || strnlen(f, (size_t)(buf + len + 1 - f)) > len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	char *pos = buf;
	struct mountinfo_entry e;
	size_t n = 0;
	while (mountinfo_next(&pos, &e) == 1) {
		check_field(e.root, buf, size);
		check_field(e.mountpoint, buf, size);
		check_field(e.options, buf, size);
		check_field(e.fstype, buf, size);
		check_field(e.source, buf, size);
		check_field(e.superopts, buf, size);
		if (++n > size + 1)
			abort(); /* more entries than bytes: the walk does not advance */
	}
	free(buf);
	return 0;
}
