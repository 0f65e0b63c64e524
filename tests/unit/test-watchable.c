// SPDX-License-Identifier: Apache-2.0
/*
 * The watchable-bind mirror against temp directories: what the first copy
 * makes, what a rescan (the path taken on filesystems that raise no inotify
 * events) notices and what it leaves alone, the atomic writer's `..data`
 * swap, limits, and writes that never leave the mirror.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "harness.h"
#include "storage/watchable.h"

struct dirs {
	char top[64], src[96], dst[96];
};

static void dirs_make(struct dirs *d)
{
	snprintf(d->top, sizeof(d->top), "/tmp/watchable-XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(d->top));
	snprintf(d->src, sizeof(d->src), "%s/src", d->top);
	snprintf(d->dst, sizeof(d->dst), "%s/dst", d->top);
	ASSERT_EQ(mkdir(d->src, 0755), 0);
}

static void put(const char *dir, const char *name, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	ASSERT_NOT_NULL(f);
	fputs(text, f);
	ASSERT_EQ(fclose(f), 0);
}

/* The file's text, "" when missing. */
static const char *get(const char *dir, const char *name)
{
	static char buf[256];
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	buf[0] = 0;
	FILE *f = fopen(p, "r");
	if (f) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = 0;
		fclose(f);
	}
	return buf;
}

static int mirror(struct dirs *d, struct watchable_snap *snap)
{
	agent_error_t *err = NULL;
	int r = watchable_mirror(d->src, d->dst, snap, &err);
	if (r < 0 && r != -E2BIG && r != -EFBIG)
		ASSERT_NOT_NULL(err);
	agent_error_free(err);
	return r;
}

static bool exists(const char *dir, const char *name)
{
	char p[256];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return lstat(p, &st) == 0;
}

TEST(first_copy_keeps_mode_owner_and_symlinks)
{
	struct dirs d;
	struct watchable_snap snap = {0};
	char p[256], link[256];
	struct stat st;

	dirs_make(&d);
	put(d.src, "a", "alpha");
	snprintf(p, sizeof(p), "%s/a", d.src);
	ASSERT_EQ(chown(p, 1234, 5678), 0);
	ASSERT_EQ(chmod(p, 0640), 0);
	snprintf(p, sizeof(p), "%s/sub", d.src);
	ASSERT_EQ(mkdir(p, 0750), 0);
	ASSERT_EQ(chown(p, 42, 43), 0);
	put(p, "b", "beta");
	snprintf(p, sizeof(p), "%s/out", d.src);
	ASSERT_EQ(symlink("/etc/passwd", p), 0);
	snprintf(p, sizeof(p), "%s/rel", d.src);
	ASSERT_EQ(symlink("sub/b", p), 0);

	ASSERT_EQ(mirror(&d, &snap), 6); /* the root, a, sub, sub/b, out, rel */
	ASSERT_STREQ(get(d.dst, "a"), "alpha");
	ASSERT_STREQ(get(d.dst, "rel"), "beta");
	snprintf(p, sizeof(p), "%s/a", d.dst);
	ASSERT_EQ(stat(p, &st), 0);
	ASSERT_EQ(st.st_mode & 07777, 0640);
	ASSERT_EQ(st.st_uid, 1234);
	ASSERT_EQ(st.st_gid, 5678);
	snprintf(p, sizeof(p), "%s/sub", d.dst);
	ASSERT_EQ(stat(p, &st), 0);
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	ASSERT_EQ(st.st_mode & 07777, 0750);
	ASSERT_EQ(st.st_uid, 42);
	/* The symlink is a symlink, not the file it points at. */
	snprintf(p, sizeof(p), "%s/out", d.dst);
	ASSERT_EQ(lstat(p, &st), 0);
	ASSERT_TRUE(S_ISLNK(st.st_mode));
	ssize_t n = readlink(p, link, sizeof(link) - 1);
	ASSERT_GE(n, 0);
	link[n] = 0;
	ASSERT_STREQ(link, "/etc/passwd");
	ASSERT_FALSE(exists(d.dst, ".watchable.tmp"));
	watchable_snap_clear(&snap);
	ASSERT_EQ(watchable_mirror_remove(d.dst), 0);
	ASSERT_FALSE(exists(d.top, "dst"));
	rm_rf(d.top);
}

TEST(rescan_sees_changes_and_only_changes)
{
	struct dirs d;
	struct watchable_snap snap = {0};
	char p[256], q[256];
	struct stat st;

	dirs_make(&d);
	put(d.src, "a", "v1");
	put(d.src, "b", "keep");
	ASSERT_EQ(mirror(&d, &snap), 3);
	ASSERT_EQ(mirror(&d, &snap), 0); /* nothing changed, nothing copied */

	/* Same size, in place. */
	put(d.src, "a", "v2");
	ASSERT_EQ(mirror(&d, &snap), 1);
	ASSERT_STREQ(get(d.dst, "a"), "v2");

	/* Replaced by rename with the same size and mtime: the inode tells. */
	snprintf(p, sizeof(p), "%s/a", d.src);
	ASSERT_EQ(stat(p, &st), 0);
	put(d.src, "a.new", "v3");
	snprintf(q, sizeof(q), "%s/a.new", d.src);
	struct timespec ts[2] = {st.st_atim, st.st_mtim};
	ASSERT_EQ(utimensat(AT_FDCWD, q, ts, 0), 0);
	ASSERT_EQ(rename(q, p), 0);
	ASSERT_EQ(mirror(&d, &snap), 1);
	ASSERT_STREQ(get(d.dst, "a"), "v3");

	/* Mode and owner. */
	ASSERT_EQ(chmod(p, 0600), 0);
	ASSERT_EQ(mirror(&d, &snap), 1);
	snprintf(q, sizeof(q), "%s/a", d.dst);
	ASSERT_EQ(stat(q, &st), 0);
	ASSERT_EQ(st.st_mode & 07777, 0600);

	/* Deletion and addition. */
	snprintf(p, sizeof(p), "%s/b", d.src);
	ASSERT_EQ(unlink(p), 0);
	put(d.src, "c", "new");
	ASSERT_EQ(mirror(&d, &snap), 2);
	ASSERT_FALSE(exists(d.dst, "b"));
	ASSERT_STREQ(get(d.dst, "c"), "new");
	ASSERT_EQ(snap.n, 3u);
	watchable_snap_clear(&snap);
	rm_rf(d.top);
}

TEST(atomic_writer_data_swap)
{
	struct dirs d;
	struct watchable_snap snap = {0};
	char p[256], q[256], link[64];

	dirs_make(&d);
	snprintf(p, sizeof(p), "%s/..2024_01", d.src);
	ASSERT_EQ(mkdir(p, 0755), 0);
	put(p, "key", "one");
	snprintf(p, sizeof(p), "%s/..data", d.src);
	ASSERT_EQ(symlink("..2024_01", p), 0);
	snprintf(p, sizeof(p), "%s/key", d.src);
	ASSERT_EQ(symlink("..data/key", p), 0);
	ASSERT_EQ(mirror(&d, &snap), 5);
	ASSERT_STREQ(get(d.dst, "key"), "one");

	/* What the kubelet does: a new timestamped dir, ..data swapped by rename, old dir gone. */
	snprintf(p, sizeof(p), "%s/..2024_02", d.src);
	ASSERT_EQ(mkdir(p, 0755), 0);
	put(p, "key", "two");
	snprintf(p, sizeof(p), "%s/..data_tmp", d.src);
	ASSERT_EQ(symlink("..2024_02", p), 0);
	snprintf(q, sizeof(q), "%s/..data", d.src);
	ASSERT_EQ(rename(p, q), 0);
	snprintf(p, sizeof(p), "%s/..2024_01", d.src);
	ASSERT_EQ(rm_rf(p), 0);

	ASSERT_GE(mirror(&d, &snap), 3);
	ASSERT_STREQ(get(d.dst, "key"), "two");
	ASSERT_FALSE(exists(d.dst, "..2024_01"));
	snprintf(p, sizeof(p), "%s/..data", d.dst);
	ssize_t n = readlink(p, link, sizeof(link) - 1);
	ASSERT_GE(n, 0);
	link[n] = 0;
	ASSERT_STREQ(link, "..2024_02");
	watchable_snap_clear(&snap);
	rm_rf(d.top);
}

TEST(limits_leave_the_mirror_untouched)
{
	struct dirs d;
	struct watchable_snap snap = {0};
	char name[32], p[256];

	dirs_make(&d);
	for (int i = 1; i < WATCHABLE_MAX_ENTRIES; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		put(d.src, name, "x");
	}
	ASSERT_EQ(mirror(&d, &snap), WATCHABLE_MAX_ENTRIES); /* 15 files + the root */
	put(d.src, "one-too-many", "x");
	ASSERT_EQ(mirror(&d, &snap), -E2BIG);
	ASSERT_FALSE(exists(d.dst, "one-too-many"));
	ASSERT_TRUE(exists(d.dst, "f1"));
	snprintf(p, sizeof(p), "%s/one-too-many", d.src);
	ASSERT_EQ(unlink(p), 0);

	/* Exactly 1 MiB is fine, a byte more is not. */
	snprintf(p, sizeof(p), "%s/f1", d.src);
	ASSERT_EQ(truncate(p, WATCHABLE_MAX_BYTES - 14), 0);
	ASSERT_EQ(mirror(&d, &snap), 1);
	ASSERT_EQ(truncate(p, WATCHABLE_MAX_BYTES - 13), 0);
	ASSERT_EQ(mirror(&d, &snap), -EFBIG);
	snprintf(p, sizeof(p), "%s/f1", d.dst);
	struct stat st;
	ASSERT_EQ(stat(p, &st), 0);
	ASSERT_EQ(st.st_size, WATCHABLE_MAX_BYTES - 14);
	watchable_snap_clear(&snap);
	rm_rf(d.top);
}

TEST(single_file_and_type_changes)
{
	struct watchable_snap snap = {0};
	char top[] = "/tmp/watchable-XXXXXX", src[64], dst[64], p[128];
	agent_error_t *err = NULL;

	ASSERT_NOT_NULL(mkdtemp(top));
	snprintf(src, sizeof(src), "%s/cfg", top);
	snprintf(dst, sizeof(dst), "%s/mirror", top);
	put(top, "cfg", "file-1");
	ASSERT_EQ(watchable_mirror(src, dst, &snap, &err), 1);
	ASSERT_STREQ(get(top, "mirror"), "file-1");
	put(top, "cfg", "file-two");
	ASSERT_EQ(watchable_mirror(src, dst, &snap, &err), 1);
	ASSERT_STREQ(get(top, "mirror"), "file-two");

	/* The source becomes a directory: the mirror follows. */
	ASSERT_EQ(unlink(src), 0);
	ASSERT_EQ(mkdir(src, 0755), 0);
	put(src, "inner", "in");
	ASSERT_GE(watchable_mirror(src, dst, &snap, &err), 2);
	snprintf(p, sizeof(p), "%s/inner", dst);
	ASSERT_STREQ(get(dst, "inner"), "in");
	ASSERT_NULL(err);
	watchable_snap_clear(&snap);
	rm_rf(top);
}

TEST(writes_never_leave_the_mirror)
{
	struct dirs d;
	struct watchable_snap snap = {0};
	char p[256], out[128];

	dirs_make(&d);
	snprintf(p, sizeof(p), "%s/sub", d.src);
	ASSERT_EQ(mkdir(p, 0755), 0);
	put(p, "b", "one");
	ASSERT_EQ(mirror(&d, &snap), 3);

	/* Someone swaps the mirror's directory for a symlink to elsewhere. */
	snprintf(out, sizeof(out), "%s/elsewhere", d.top);
	ASSERT_EQ(mkdir(out, 0755), 0);
	snprintf(p, sizeof(p), "%s/sub", d.dst);
	ASSERT_EQ(rm_rf(p), 0);
	ASSERT_EQ(symlink(out, p), 0);
	snprintf(p, sizeof(p), "%s/sub", d.src);
	put(p, "b", "two");
	ASSERT_EQ(mirror(&d, &snap), 2); /* sub made again, then b */
	ASSERT_FALSE(exists(out, "b"));
	ASSERT_FALSE(exists(out, ".watchable.tmp"));
	snprintf(p, sizeof(p), "%s/sub", d.dst);
	ASSERT_STREQ(get(p, "b"), "two");

	/* A file in the mirror swapped for a symlink is replaced, not written through. */
	put(out, "victim", "safe");
	snprintf(p, sizeof(p), "%s/sub/b", d.dst);
	ASSERT_EQ(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/victim", out);
	char q[256];
	snprintf(q, sizeof(q), "%s/sub/b", d.dst);
	ASSERT_EQ(symlink(p, q), 0);
	snprintf(p, sizeof(p), "%s/sub", d.src);
	put(p, "b", "three");
	ASSERT_EQ(mirror(&d, &snap), 1);
	ASSERT_STREQ(get(out, "victim"), "safe");
	snprintf(p, sizeof(p), "%s/sub", d.dst);
	ASSERT_STREQ(get(p, "b"), "three");

	/* Removal does not follow it either. */
	put(out, "precious", "x");
	ASSERT_EQ(watchable_mirror_remove(d.dst), 0);
	ASSERT_TRUE(exists(out, "precious"));
	watchable_snap_clear(&snap);
	rm_rf(d.top);
}

/*
 * The source swapped for a symlink (to a directory outside), or reached through
 * a symlinked parent: the mirror is left as it was, never becomes a symlink,
 * and nothing outside is copied.
 */
TEST(symlinked_source_or_parent_is_not_followed)
{
	struct dirs d;
	struct watchable_snap snap = {0};
	char outside[128], p[256], lnk[128];
	struct stat st;

	dirs_make(&d);
	snprintf(outside, sizeof(outside), "%s/outside", d.top);
	ASSERT_EQ(mkdir(outside, 0755), 0);
	put(outside, "secret", "guest");
	put(d.src, "key", "v1");
	ASSERT_GE(mirror(&d, &snap), 1);
	ASSERT_STREQ(get(d.dst, "key"), "v1");

	ASSERT_EQ(rm_rf(d.src), 0);
	ASSERT_EQ(symlink(outside, d.src), 0);
	ASSERT_TRUE(mirror(&d, &snap) < 0);
	ASSERT_EQ(lstat(d.dst, &st), 0);
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	ASSERT_STREQ(get(d.dst, "key"), "v1");
	ASSERT_FALSE(exists(d.dst, "secret"));

	/* top/lnk -> top/outside: "top/lnk/secret" as a source is refused. */
	snprintf(lnk, sizeof(lnk), "%s/lnk", d.top);
	ASSERT_EQ(symlink(outside, lnk), 0);
	snprintf(p, sizeof(p), "%s/secret", lnk);
	struct watchable_snap s2 = {0};
	agent_error_t *err = NULL;
	char dst2[128];
	snprintf(dst2, sizeof(dst2), "%s/dst2", d.top);
	ASSERT_TRUE(watchable_mirror(p, dst2, &s2, &err) < 0);
	agent_error_free(err);
	ASSERT_TRUE(lstat(dst2, &st) < 0);
	watchable_snap_clear(&snap);
	watchable_snap_clear(&s2);
	rm_rf(d.top);
}
