/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scratch tree the path fuzzers work in: a size-bounded tmpfs on /run of a
 * private mount namespace (tests/run-fuzz.sh starts fuzzers in their own user,
 * mount and network namespaces), holding /run/kata-containers with symlinks
 * that lead out of it and a guest directory /run/outside that must never
 * change. Without a private namespace the fuzzer refuses to start: it never
 * touches the machine's own /run.
 */
#ifndef AGENT_FUZZ_SCRATCH_H
#define AGENT_FUZZ_SCRATCH_H

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"

#define SCRATCH_SHARED "/run/kata-containers/shared/containers"
#define SCRATCH_OUTSIDE "/run/outside"

static void scratch_die(const char *what)
{
	fprintf(stderr, "fuzz scratch: %s: %s (run through tests/run-fuzz.sh, as root)\n", what,
		strerror(errno));
	exit(1);
}

static void scratch_put(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	if (!f)
		scratch_die(path);
	fputs(text, f);
	fclose(f);
}

/* The tree every input starts from (the share emptied first). */
static void scratch_reset(void)
{
	rm_rf("/run/kata-containers");
	if (mkdir_p(SCRATCH_SHARED "/dir/sub", 0755) < 0 || mkdir_p(SCRATCH_OUTSIDE, 0755) < 0)
		scratch_die("mkdir");
	scratch_put(SCRATCH_SHARED "/dir/f", "shared");
	if (symlink(SCRATCH_OUTSIDE, SCRATCH_SHARED "/lnk") < 0 ||
	    symlink("../../..", SCRATCH_SHARED "/up") < 0 ||
	    symlink("/", SCRATCH_SHARED "/rootlink") < 0 ||
	    symlink("dir", SCRATCH_SHARED "/inlink") < 0 ||
	    symlink("loop", SCRATCH_SHARED "/loop") < 0)
		scratch_die("symlink");
}

static void scratch_setup(void)
{
	if (unshare(CLONE_NEWNS) < 0)
		scratch_die("unshare(CLONE_NEWNS)");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		scratch_die("making / private");
	if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,nr_inodes=8192") < 0)
		scratch_die("a tmpfs on /run");
	if (mkdir_p(SCRATCH_OUTSIDE, 0755) < 0)
		scratch_die("mkdir " SCRATCH_OUTSIDE);
	scratch_put(SCRATCH_OUTSIDE "/secret", "guest");
	if (chmod(SCRATCH_OUTSIDE "/secret", 0600) < 0)
		scratch_die("chmod");
	scratch_reset();
}

/* The guest directory is exactly as made: one file, its text and mode unchanged. */
static void scratch_check_outside(void)
{
	struct stat st;
	char buf[16] = "";
	int n = 0;
	DIR *d = opendir(SCRATCH_OUTSIDE);

	if (!d)
		abort();
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	FILE *f = fopen(SCRATCH_OUTSIDE "/secret", "re");
	if (!f)
		abort();
	size_t got = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[got] = '\0';
	if (n != 1 || strcmp(buf, "guest") || stat(SCRATCH_OUTSIDE "/secret", &st) < 0 ||
	    (st.st_mode & 07777) != 0600 || st.st_gid != 0)
		abort();
}

#endif
