/* SPDX-License-Identifier: Apache-2.0 */
/* /proc/self/mountinfo: read whole (bounded) and walked entry by entry, escapes decoded. */
#ifndef AGENT_BASE_MOUNTINFO_H
#define AGENT_BASE_MOUNTINFO_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

struct mountinfo_entry {
	const char *root;
	const char *mountpoint;
	const char *options;
	const char *fstype;
	const char *source;
	const char *superopts;
};

/* Reads /proc/self/mountinfo whole (bounded) into *ret_buf; returns the length. */
int mountinfo_read(char **ret_buf, agent_error_t **err);
/* The next entry (pointers into the buffer, which it edits); 1, or 0 at the end. */
int mountinfo_next(char **pos, struct mountinfo_entry *ret);
/* The fstype of the topmost mount exactly at path into type; false when none (or no /proc). */
bool mountinfo_fstype_at(const char *path, char *type, size_t size);

#endif
