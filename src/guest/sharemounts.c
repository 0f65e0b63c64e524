/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RemoveStaleVirtiofsShareMounts: stat() every mount below the
 * shared directory. A stat of a path whose backing file the host deleted makes
 * virtiofs drop the cached inode; the result itself does not matter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "guest/guest.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *w = s;
	for (const char *r = s; *r;) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

int guest_stat_share_mounts(const char *mountinfo, const char *prefix, unsigned *ret_n,
			    agent_error_t **err)
{
	FILE *f = fopen(mountinfo, "re");
	if (!f)
		return agent_error_setsys(err, errno, "open %s", mountinfo);
	size_t cap = 0, pl = strlen(prefix);
	char *line = NULL;
	unsigned n = 0;
	while (getline(&line, &cap, f) > 0) {
		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT ..." */
		char *save = NULL, *tok = strtok_r(line, " ", &save);
		for (int i = 0; tok && i < 4; i++)
			tok = strtok_r(NULL, " ", &save);
		if (!tok)
			continue;
		unescape(tok);
		if (strncmp(tok, prefix, pl) != 0 || (tok[pl] != '/' && tok[pl] != '\0'))
			continue;
		struct stat st;
		(void)stat(tok, &st);
		n++;
	}
	free(line);
	fclose(f);
	if (ret_n)
		*ret_n = n;
	return 0;
}
