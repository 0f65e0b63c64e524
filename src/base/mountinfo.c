// SPDX-License-Identifier: Apache-2.0
#include "base/mountinfo.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/macro.h"

#define MOUNTINFO_MAX (8 << 20)

int mountinfo_read(char **ret_buf, agent_error_t **err)
{
	int r = read_file_all("/proc/self/mountinfo", MOUNTINFO_MAX, ret_buf);

	if (r == -EFBIG)
		return agent_error_set(err, EFBIG, "/proc/self/mountinfo too large");
	if (r < 0)
		return agent_error_setsys(err, -r, "reading /proc/self/mountinfo");
	return r;
}

/* Decodes the \ooo escapes mountinfo uses for spaces, tabs, newlines, backslashes. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

int mountinfo_next(char **pos, struct mountinfo_entry *ret)
{
	while (**pos) {
		char *line = *pos;
		char *nl = strchr(line, '\n');
		if (nl) {
			*nl = '\0';
			*pos = nl + 1;
		} else {
			*pos = line + strlen(line);
		}
		char *f[16];
		int n = 0;
		char *save = NULL;
		for (char *t = strtok_r(line, " ", &save); t && n < 16;
		     t = strtok_r(NULL, " ", &save))
			f[n++] = t;
		/* id parent dev root mountpoint options [optional...] - fstype source superopts */
		int dash = -1;
		for (int i = 6; i < n; i++)
			if (strcmp(f[i], "-") == 0) {
				dash = i;
				break;
			}
		if (n < 6 || dash < 0 || dash + 3 >= n + 1 || dash + 2 >= n)
			continue;
		unescape(f[3]);
		unescape(f[4]);
		ret->root = f[3];
		ret->mountpoint = f[4];
		ret->options = f[5];
		ret->fstype = f[dash + 1];
		ret->source = f[dash + 2];
		ret->superopts = dash + 3 < n ? f[dash + 3] : "";
		return 1;
	}
	return 0;
}

bool mountinfo_fstype_at(const char *path, char *type, size_t size)
{
	_cleanup_free_ char *buf = NULL;
	struct mountinfo_entry e;
	char *pos;
	bool found = false;

	if (mountinfo_read(&buf, NULL) < 0)
		return false;
	pos = buf;
	while (mountinfo_next(&pos, &e) == 1) {
		if (strcmp(e.mountpoint, path) != 0)
			continue;
		snprintf(type, size, "%s", e.fstype); /* the last one is on top */
		found = true;
	}
	return found;
}
