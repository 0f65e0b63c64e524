// SPDX-License-Identifier: Apache-2.0
/*
 * base/pathres: paths below a root with no symlink on the way, through openat2
 * and through the component walk (PATHRES_FORCE_WALK) alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/pathres.h"
#include "harness.h"

static void check_both(int rootfd, unsigned how)
{
	struct stat st;
	int fd;

	fd = pathres_open(rootfd, "a/b", O_PATH | O_DIRECTORY, how);
	ASSERT_GE(fd, 0);
	close(fd);
	fd = pathres_open(rootfd, "a/b/f", O_RDONLY, how);
	ASSERT_GE(fd, 0);
	close(fd);
	fd = pathres_open(rootfd, "", O_PATH, how);
	ASSERT_GE(fd, 0);
	close(fd);
	/* A symlink anywhere: refused, whether it points in or out. */
	ASSERT_EQ(pathres_open(rootfd, "out/x", O_PATH, how) < 0, true);
	ASSERT_EQ(pathres_open(rootfd, "in/f", O_PATH, how) < 0, true);
	ASSERT_EQ(pathres_open(rootfd, "in", O_PATH, how), -ELOOP);
	ASSERT_EQ(pathres_open(rootfd, "a/../a/b", O_PATH, how) < 0, true);
	ASSERT_EQ(pathres_open(rootfd, "/etc", O_PATH, how), -EXDEV);
	ASSERT_EQ(pathres_open(rootfd, "a/missing", O_PATH, how), -ENOENT);
	/* mkdir -p stops at a symlink and makes nothing beyond it. */
	ASSERT_TRUE(pathres_mkdir_p(rootfd, "out/made", 0755, how) < 0);
	fd = pathres_mkdir_p(rootfd, "a/new/deeper", 0700, how);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(fstat(fd, &st), 0);
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	close(fd);
}

TEST(no_symlink_on_the_way)
{
	char top[] = "/tmp/test-pathres-XXXXXX", p[256], outside[128];
	ASSERT_NOT_NULL(mkdtemp(top));
	snprintf(outside, sizeof(outside), "%s/outside", top);
	ASSERT_EQ(mkdir(outside, 0755), 0);
	snprintf(p, sizeof(p), "%s/root/a/b", top);
	ASSERT_EQ(mkdir_p(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/root/a/b/f", top);
	int wf = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_GE(wf, 0);
	close(wf);
	snprintf(p, sizeof(p), "%s/root/out", top);
	ASSERT_EQ(symlink(outside, p), 0);
	snprintf(p, sizeof(p), "%s/root/in", top);
	ASSERT_EQ(symlink("a/b", p), 0);
	snprintf(p, sizeof(p), "%s/root", top);
	int rootfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ASSERT_GE(rootfd, 0);
	check_both(rootfd, 0);
	check_both(rootfd, PATHRES_FORCE_WALK);
	snprintf(p, sizeof(p), "%s/made", outside);
	ASSERT_TRUE(access(p, F_OK) < 0);

	/* The *_under forms: an absolute path below the root only. */
	char root[128], path[256];
	snprintf(root, sizeof(root), "%s/root", top);
	snprintf(path, sizeof(path), "%s/a/b", root);
	int fd = pathres_open_under(root, path, O_PATH);
	ASSERT_GE(fd, 0);
	close(fd);
	ASSERT_EQ(pathres_open_under(root, outside, O_PATH), -EXDEV);
	snprintf(path, sizeof(path), "%sx/a", root); /* a sibling sharing the prefix */
	ASSERT_EQ(pathres_open_under(root, path, O_PATH), -EXDEV);
	snprintf(path, sizeof(path), "%s/out/x", root);
	ASSERT_TRUE(pathres_mkdir_under(root, path, 0755) < 0);
	const char *base = NULL;
	snprintf(path, sizeof(path), "%s/a/b/f", root);
	fd = pathres_parent_under(root, path, false, 0, &base);
	ASSERT_GE(fd, 0);
	ASSERT_STREQ(base, "f");
	close(fd);
	ASSERT_EQ(pathres_parent_under(root, root, false, 0, &base), -EINVAL);
	ASSERT_TRUE(pathres_below("/", "/run/x", NULL));
	ASSERT_FALSE(pathres_below("/run", "/running", NULL));
	close(rootfd);
	rm_rf(top);
}

/* The one lexical rule for host paths below a root, used by storages and by devices. */
TEST(path_clean_under_rule)
{
	static const struct {
		const char *path;
		bool ok;
	} cases[] = {
		{"/run/kata-containers", true},
		{"/run/kata-containers/", true},
		{"/run/kata-containers/shared/containers/", true},
		{"/run/kata-containers/a/b", true},
		{"/run/kata-containers/a/.b", true},
		{"/run/kata-containersX", false},
		{"/run/kata", false},
		{"/run/kata-containers/../etc", false},
		{"/run/kata-containers/a/..", false},
		{"/run/kata-containers/./a", false},
		{"/run/kata-containers/a/.", false},
		{"/run/kata-containers//a", false},
		{"/etc/passwd", false},
		{"", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (path_clean_under(cases[i].path, "/run/kata-containers") != cases[i].ok)
			FAIL("path_clean_under(\"%s\") is not %d", cases[i].path, cases[i].ok);
}
