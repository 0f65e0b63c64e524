/* SPDX-License-Identifier: Apache-2.0 */
/* CopyFile below a root (src/guest/copyfile.c): chunks, entries, and every escape refused. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "guest/guest.h"
#include "harness.h"
#include "rpc/status.h"

struct env {
	char top[64]; /* holds root and "outside" */
	char root[96];
	char outside[96];
};

static void env_setup(struct env *e)
{
	snprintf(e->top, sizeof(e->top), "/tmp/test-copyfile-XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(e->top));
	snprintf(e->root, sizeof(e->root), "%s/root", e->top);
	snprintf(e->outside, sizeof(e->outside), "%s/outside", e->top);
	ASSERT_EQ(mkdir(e->outside, 0755), 0);
}

static struct guest_copy reg(const char *path, const char *data)
{
	struct guest_copy c = {.path = path,
			       .file_size = (int64_t)strlen(data),
			       .file_mode = S_IFREG | 0640,
			       .dir_mode = 0750,
			       .uid = -1,
			       .gid = -1,
			       .data = data,
			       .len = strlen(data)};
	return c;
}

static void read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		FAIL("open %s: %s", path, strerror(errno));
	ssize_t n = read(fd, buf, size - 1);
	ASSERT_GE(n, 0);
	buf[n] = '\0';
	close(fd);
}

static void copy_ok(const char *root, const struct guest_copy *c)
{
	agent_error_t *err = NULL;
	if (guest_copy_file(root, c, &err) < 0)
		FAIL("copy %s: %s", c->path, err->msg);
}

/* Asserts the copy is refused and nothing appeared in outside. */
static void copy_refused(const struct env *e, const struct guest_copy *c, int status)
{
	agent_error_t *err = NULL;
	ASSERT_TRUE(guest_copy_file(e->root, c, &err) < 0);
	if (status)
		ASSERT_EQ(rpc_status_from_error(err), status);
	agent_error_free(err);
	char p[256];
	snprintf(p, sizeof(p), "%s/f", e->outside);
	ASSERT_TRUE(access(p, F_OK) < 0);
	snprintf(p, sizeof(p), "%s/sub", e->outside);
	ASSERT_TRUE(access(p, F_OK) < 0);
}

TEST(path_below_is_lexical_and_strict)
{
	const char *rel = NULL;
	ASSERT_TRUE(guest_path_below("/r/s", "/r/s/a/b.conf", &rel));
	ASSERT_STREQ(rel, "a/b.conf");
	static const char *const bad[] = {
		"/r/s",	    "/r/s/",	"/r/sx/a",   "r/s/a",	  "/r/s//a",
		"/r/s/a/",  "/r/s/./a", "/r/s/../a", "/r/s/a/..", "/r/s/a/../../x",
		"/r/s/a/.", "/r/t/a",	"/r/s/a//b", "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (guest_path_below("/r/s", bad[i], NULL))
			FAIL("\"%s\" accepted", bad[i]);
}

TEST(regular_file_in_one_chunk_creates_root_and_parents)
{
	struct env e;
	char path[256], got[64];
	struct stat st;
	env_setup(&e);
	snprintf(path, sizeof(path), "%s/ctr/etc/resolv.conf", e.root);
	struct guest_copy c = reg(path, "nameserver 10.0.0.1\n");
	c.uid = 1000;
	c.gid = 1001;
	copy_ok(e.root, &c);
	read_text(path, got, sizeof(got));
	ASSERT_STREQ(got, "nameserver 10.0.0.1\n");
	ASSERT_EQ(stat(path, &st), 0);
	ASSERT_EQ(st.st_mode, S_IFREG | 0640);
	ASSERT_EQ(st.st_uid, 1000);
	ASSERT_EQ(st.st_gid, 1001);
	/* Missing parents get dir_mode; the immediate parent the file's owner. */
	snprintf(path, sizeof(path), "%s/ctr/etc", e.root);
	ASSERT_EQ(stat(path, &st), 0);
	ASSERT_EQ(st.st_mode, S_IFDIR | 0750);
	ASSERT_EQ(st.st_uid, 1000);
	snprintf(path, sizeof(path), "%s/ctr", e.root);
	ASSERT_EQ(stat(path, &st), 0);
	ASSERT_EQ(st.st_mode, S_IFDIR | 0750);
	ASSERT_EQ(st.st_uid, 0);
	snprintf(path, sizeof(path), "%s/ctr/etc/resolv.tmp", e.root);
	ASSERT_TRUE(access(path, F_OK) < 0);
	rm_rf(e.top);
}

/* Entries of dir other than the ones named (NULL-terminated); the first extra in ret. */
static int extra_entries(const char *dir, const char *const *known, char *ret, size_t size)
{
	DIR *d = opendir(dir);
	int n = 0;
	ASSERT_NOT_NULL(d);
	for (struct dirent *de; (de = readdir(d));) {
		bool k = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
		for (size_t i = 0; known[i]; i++)
			k |= !strcmp(de->d_name, known[i]);
		if (!k && n++ == 0 && ret)
			snprintf(ret, size, "%s/%s", dir, de->d_name);
	}
	closedir(d);
	return n;
}

TEST(chunked_write_renames_at_the_end)
{
	struct env e;
	char path[256], dir[256], got[64];
	env_setup(&e);
	snprintf(dir, sizeof(dir), "%s/a", e.root);
	snprintf(path, sizeof(path), "%s/a/data.json", e.root);
	const char *all = "0123456789abcdefghij";
	const char *known[] = {"data.json", NULL};
	/* An old version is there: it stays, whole, until the last chunk replaces it. */
	struct guest_copy c = reg(path, "old");
	copy_ok(e.root, &c);
	c = reg(path, all);
	c.len = 8;
	copy_ok(e.root, &c);
	read_text(path, got, sizeof(got));
	ASSERT_STREQ(got, "old");
	ASSERT_EQ(extra_entries(dir, known, NULL, 0), 1); /* the temporary */
	c.offset = 8;
	c.data = all + 8;
	c.len = 8;
	copy_ok(e.root, &c);
	read_text(path, got, sizeof(got));
	ASSERT_STREQ(got, "old");
	c.offset = 16;
	c.data = all + 16;
	c.len = 4;
	copy_ok(e.root, &c);
	read_text(path, got, sizeof(got));
	ASSERT_STREQ(got, all);
	ASSERT_EQ(extra_entries(dir, known, NULL, 0), 0);
	/* A later chunk without a first one has nothing to continue. */
	agent_error_t *err = NULL;
	snprintf(path, sizeof(path), "%s/a/lost.conf", e.root);
	c.path = path;
	ASSERT_TRUE(guest_copy_file(e.root, &c, &err) < 0);
	agent_error_free(err);
	rm_rf(e.top);
}

/* Chunked copies of a.txt and a.conf interleaved: each file gets its own bytes. */
TEST(interleaved_copies_do_not_share_a_temporary)
{
	struct env e;
	char txt[256], conf[256], got[64];
	env_setup(&e);
	snprintf(txt, sizeof(txt), "%s/a.txt", e.root);
	snprintf(conf, sizeof(conf), "%s/a.conf", e.root);
	struct guest_copy t = reg(txt, "aaaaaaaa"), k = reg(conf, "CCCCCCCC");
	t.len = k.len = 4;
	copy_ok(e.root, &t);
	copy_ok(e.root, &k);
	t.offset = k.offset = 4;
	t.data = "aaaa";
	k.data = "CCCC";
	copy_ok(e.root, &t);
	copy_ok(e.root, &k);
	read_text(txt, got, sizeof(got));
	ASSERT_STREQ(got, "aaaaaaaa");
	read_text(conf, got, sizeof(got));
	ASSERT_STREQ(got, "CCCCCCCC");
	rm_rf(e.top);
}

/*
 * A copy the host abandoned leaves a temporary: it goes once it is older than
 * GUEST_COPY_TMP_MAX_AGE_S (at the next copy into that directory), and at
 * guest_copy_cleanup (DestroySandbox) whatever its age.
 */
TEST(abandoned_temporaries_are_removed)
{
	struct env e;
	char path[256], other[256], tmp[512];
	const char *known[] = {"other", NULL};
	env_setup(&e);
	snprintf(path, sizeof(path), "%s/d/big.bin", e.root);
	snprintf(other, sizeof(other), "%s/d/other", e.root);
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/d", e.root);
	struct guest_copy c = reg(path, "0123456789");
	c.len = 4;
	copy_ok(e.root, &c);
	ASSERT_EQ(extra_entries(dir, known, tmp, sizeof(tmp)), 1);
	/* A fresh one survives another copy; an old one does not. */
	struct guest_copy o = reg(other, "x");
	copy_ok(e.root, &o);
	ASSERT_EQ(access(tmp, F_OK), 0);
	struct timespec old[2] = {{.tv_sec = time(NULL) - GUEST_COPY_TMP_MAX_AGE_S - 60},
				  {.tv_sec = time(NULL) - GUEST_COPY_TMP_MAX_AGE_S - 60}};
	ASSERT_EQ(utimensat(AT_FDCWD, tmp, old, AT_SYMLINK_NOFOLLOW), 0);
	copy_ok(e.root, &o);
	ASSERT_TRUE(access(tmp, F_OK) < 0);
	/* DestroySandbox: every temporary below the root, however young. */
	copy_ok(e.root, &c);
	snprintf(path, sizeof(path), "%s/d/deep/er/x.bin", e.root);
	c.path = path;
	copy_ok(e.root, &c);
	agent_error_t *err = NULL;
	ASSERT_EQ(guest_copy_cleanup(e.root, &err), 0);
	ASSERT_EQ(extra_entries(dir, (const char *[]){"other", "deep", NULL}, NULL, 0), 0);
	snprintf(dir, sizeof(dir), "%s/d/deep/er", e.root);
	ASSERT_EQ(extra_entries(dir, known, NULL, 0), 0);
	/* A missing root is nothing to clean. */
	rm_rf(e.root);
	ASSERT_EQ(guest_copy_cleanup(e.root, &err), 0);
	rm_rf(e.top);
}

TEST(empty_file_hidden_file_and_tmp_names)
{
	struct env e;
	char path[256], got[16];
	struct stat st;
	env_setup(&e);
	snprintf(path, sizeof(path), "%s/empty", e.root);
	struct guest_copy c = reg(path, "");
	copy_ok(e.root, &c);
	ASSERT_EQ(stat(path, &st), 0);
	ASSERT_EQ(st.st_size, 0);
	snprintf(path, sizeof(path), "%s/.bashrc", e.root);
	c = reg(path, "x");
	copy_ok(e.root, &c);
	read_text(path, got, sizeof(got));
	ASSERT_STREQ(got, "x");
	snprintf(path, sizeof(path), "%s/already.tmp", e.root);
	c = reg(path, "y");
	copy_ok(e.root, &c);
	read_text(path, got, sizeof(got));
	ASSERT_STREQ(got, "y");
	rm_rf(e.top);
}

TEST(directory_and_symlink_entries)
{
	struct env e;
	char path[256], link[300], target[256];
	struct stat st;
	env_setup(&e);
	snprintf(path, sizeof(path), "%s/d/sub", e.root);
	struct guest_copy c = {.path = path,
			       .file_size = 4096,
			       .file_mode = S_IFDIR | 02770,
			       .dir_mode = 0755,
			       .uid = 5,
			       .gid = 6};
	copy_ok(e.root, &c);
	ASSERT_EQ(lstat(path, &st), 0);
	ASSERT_EQ(st.st_mode, S_IFDIR | 02770);
	ASSERT_EQ(st.st_uid, 5);
	ASSERT_EQ(st.st_gid, 6);
	/* Again: the directory is kept (with what is in it). */
	snprintf(link, sizeof(link), "%s/keep", path);
	struct guest_copy f = reg(link, "k");
	copy_ok(e.root, &f);
	copy_ok(e.root, &c);
	ASSERT_EQ(access(link, F_OK), 0);
	/* A file where a directory is wanted is replaced. */
	snprintf(path, sizeof(path), "%s/d/wasfile", e.root);
	f = reg(path, "z");
	copy_ok(e.root, &f);
	c.path = path;
	copy_ok(e.root, &c);
	ASSERT_EQ(lstat(path, &st), 0);
	ASSERT_TRUE(S_ISDIR(st.st_mode));

	/* Symlinks are made as given (even pointing out: they are never followed here). */
	snprintf(link, sizeof(link), "%s/d/..data", e.root);
	const char *t = "..2024_01_01";
	struct guest_copy l = {.path = link,
			       .file_size = (int64_t)strlen(t),
			       .file_mode = S_IFLNK | 0777,
			       .uid = 7,
			       .gid = 8,
			       .data = t,
			       .len = strlen(t)};
	copy_ok(e.root, &l);
	ASSERT_EQ(lstat(link, &st), 0);
	ASSERT_TRUE(S_ISLNK(st.st_mode));
	ASSERT_EQ(st.st_uid, 7);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	ASSERT_EQ(n, (ssize_t)strlen(t));
	target[n] = '\0';
	ASSERT_STREQ(target, t);
	/* Re-sent with offset 0, it replaces the old link. */
	l.data = "/etc/passwd";
	l.len = strlen("/etc/passwd");
	copy_ok(e.root, &l);
	n = readlink(link, target, sizeof(target) - 1);
	target[n] = '\0';
	ASSERT_STREQ(target, "/etc/passwd");
	rm_rf(e.top);
}

TEST(escapes_are_refused)
{
	struct env e;
	char path[256], p[256];
	env_setup(&e);
	ASSERT_EQ(mkdir(e.root, 0755), 0);
	/* "..": lexically. */
	snprintf(path, sizeof(path), "%s/../outside/f", e.root);
	struct guest_copy c = reg(path, "bad");
	copy_refused(&e, &c, GRPC_INVALID_ARGUMENT);
	snprintf(path, sizeof(path), "%s/a/../../outside/f", e.root);
	copy_refused(&e, &c, GRPC_INVALID_ARGUMENT);
	/* Outside the root altogether, and the root itself. */
	snprintf(path, sizeof(path), "%s/f", e.outside);
	copy_refused(&e, &c, GRPC_INVALID_ARGUMENT);
	c.path = e.root;
	copy_refused(&e, &c, GRPC_INVALID_ARGUMENT);
	c.path = path;
	/* An absolute symlink as an intermediate directory. */
	snprintf(p, sizeof(p), "%s/abs", e.root);
	ASSERT_EQ(symlink(e.outside, p), 0);
	snprintf(path, sizeof(path), "%s/abs/f", e.root);
	copy_refused(&e, &c, GRPC_INVALID_ARGUMENT);
	snprintf(path, sizeof(path), "%s/abs/sub/f", e.root);
	copy_refused(&e, &c, GRPC_INVALID_ARGUMENT);
	/* A relative symlink to a parent outside. */
	snprintf(p, sizeof(p), "%s/up", e.root);
	ASSERT_EQ(symlink("../outside", p), 0);
	snprintf(path, sizeof(path), "%s/up/f", e.root);
	copy_refused(&e, &c, GRPC_INVALID_ARGUMENT);
	/* A symlinked directory deeper down (its target inside the root, still refused). */
	snprintf(p, sizeof(p), "%s/real", e.root);
	ASSERT_EQ(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/real/inner", e.root);
	ASSERT_EQ(symlink("../../outside", p), 0);
	snprintf(path, sizeof(path), "%s/real/inner/sub/f", e.root);
	copy_refused(&e, &c, GRPC_INVALID_ARGUMENT);
	/* Directory entries through a symlink are refused too. */
	struct guest_copy d = {.path = path, .file_mode = S_IFDIR | 0755, .uid = -1, .gid = -1};
	snprintf(path, sizeof(path), "%s/abs/sub", e.root);
	copy_refused(&e, &d, GRPC_INVALID_ARGUMENT);
	/* The last component a symlink to outside: replaced, never written through. */
	snprintf(p, sizeof(p), "%s/f", e.outside);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_GE(fd, 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/last", e.root);
	ASSERT_EQ(symlink(p, path), 0);
	copy_ok(e.root, &c);
	struct stat st;
	ASSERT_EQ(stat(p, &st), 0);
	ASSERT_EQ(st.st_size, 0);
	ASSERT_EQ(lstat(path, &st), 0);
	ASSERT_TRUE(S_ISREG(st.st_mode));
	/* A symlink planted at the temporary name is not written through either. */
	char tmpname[64];
	guest_copy_tmp_name("victim.conf", tmpname, sizeof(tmpname));
	snprintf(path, sizeof(path), "%s/%s", e.root, tmpname);
	ASSERT_EQ(symlink(p, path), 0);
	snprintf(path, sizeof(path), "%s/victim.conf", e.root);
	c = reg(path, "data");
	c.file_size = 100; /* leaves the temporary file in place after this chunk */
	copy_ok(e.root, &c);
	ASSERT_EQ(stat(p, &st), 0);
	ASSERT_EQ(st.st_size, 0);
	/* ... and a later chunk does not follow one planted between chunks. */
	snprintf(path, sizeof(path), "%s/%s", e.root, tmpname);
	ASSERT_EQ(unlink(path), 0);
	ASSERT_EQ(symlink(p, path), 0);
	snprintf(path, sizeof(path), "%s/victim.conf", e.root);
	c.offset = 4;
	agent_error_t *err = NULL;
	ASSERT_TRUE(guest_copy_file(e.root, &c, &err) < 0);
	agent_error_free(err);
	ASSERT_EQ(stat(p, &st), 0);
	ASSERT_EQ(st.st_size, 0);
	unlink(p);
	rm_rf(e.top);
}

TEST(input_is_bounded)
{
	struct env e;
	char path[256];
	env_setup(&e);
	snprintf(path, sizeof(path), "%s/f", e.root);
	struct guest_copy c = reg(path, "abc");
	c.file_size = GUEST_COPY_MAX_FILE_SIZE + 1;
	copy_refused(&e, &c, GRPC_INVALID_ARGUMENT);
	c = reg(path, "abc");
	c.offset = 2; /* 2 + 3 > 3 */
	copy_refused(&e, &c, GRPC_INVALID_ARGUMENT);
	c = reg(path, "abc");
	c.offset = -1;
	copy_refused(&e, &c, GRPC_INVALID_ARGUMENT);
	c = reg(path, "abc");
	c.len = GUEST_COPY_MAX_DATA + 1;
	copy_refused(&e, &c, GRPC_INVALID_ARGUMENT);
	c = reg(path, "abc");
	c.file_mode = S_IFIFO | 0644;
	copy_refused(&e, &c, GRPC_INVALID_ARGUMENT);
	c = reg(path, "abc");
	c.uid = -2;
	copy_refused(&e, &c, GRPC_INVALID_ARGUMENT);
	c = reg(path, "a\0c");
	c.len = 3;
	c.file_mode = S_IFLNK | 0777;
	copy_refused(&e, &c, GRPC_INVALID_ARGUMENT);
	char longp[PATH_MAX + 16];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	memcpy(longp, e.root, strlen(e.root));
	longp[strlen(e.root)] = '/';
	c = reg(longp, "abc");
	copy_refused(&e, &c, GRPC_INVALID_ARGUMENT);
	rm_rf(e.top);
}
