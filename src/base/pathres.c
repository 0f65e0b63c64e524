// SPDX-License-Identifier: Apache-2.0
#include "base/pathres.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/macro.h"

bool pathres_below(const char *root, const char *path, const char **ret_rel)
{
	size_t rl = strlen(root);

	while (rl > 0 && root[rl - 1] == '/')
		rl--; /* "/" itself becomes "" and holds every absolute path */
	if (path[0] != '/' || strncmp(path, root, rl) != 0 || (path[rl] != '/' && path[rl] != '\0'))
		return false;
	if (ret_rel) {
		const char *rel = path + rl;
		while (*rel == '/')
			rel++;
		*ret_rel = rel;
	}
	return true;
}

const char *pathres_proc(int fd, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
	return buf;
}

/* An O_PATH open that landed on a symlink (O_NOFOLLOW lets it) is refused. */
static int refuse_link(int fd, int oflags)
{
	struct stat st;

	if (fd < 0 || !(oflags & O_PATH))
		return fd;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (S_ISLNK(st.st_mode)) {
		close(fd);
		return -ELOOP;
	}
	return fd;
}

static int try_openat2(int rootfd, const char *rel, int oflags)
{
#ifdef SYS_openat2
	struct open_how oh = {
		.flags = (unsigned long long)(oflags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, rootfd, rel, &oh, sizeof(oh));
	if (fd < 0)
		return errno == E2BIG ? -ENOSYS : -errno;
	return refuse_link((int)fd, oflags);
#else
	return -ENOSYS;
#endif
}

/* The next component of *p into comp; 0 at the end, 1 with one, -errno. */
static int next_comp(const char **p, char comp[NAME_MAX + 1], bool *ret_last)
{
	const char *s = *p;

	while (*s == '/')
		s++;
	if (!*s)
		return 0;
	size_t l = strcspn(s, "/");
	if (l > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(comp, s, l);
	comp[l] = '\0';
	s += l;
	*p = s;
	while (*s == '/')
		s++;
	*ret_last = !*s;
	if (!strcmp(comp, ".."))
		return -EXDEV; /* never above the root, never back down a swapped path */
	return 1;
}

static int walk(int rootfd, const char *rel, int oflags, bool mkdir, mode_t mode)
{
	char comp[NAME_MAX + 1];
	bool last = false;
	int r;
	_cleanup_close_ int cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (cur < 0)
		return -errno;
	if (strlen(rel) >= PATH_MAX)
		return -ENAMETOOLONG;
	while ((r = next_comp(&rel, comp, &last)) > 0) {
		if (!strcmp(comp, "."))
			continue;
		if (mkdir && mkdirat(cur, comp, mode) < 0 && errno != EEXIST)
			return -errno;
		if (last && !mkdir) {
			int fd = openat(cur, comp, oflags | O_NOFOLLOW | O_CLOEXEC);
			return fd < 0 ? -errno : refuse_link(fd, oflags);
		}
		int nfd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0)
			return -errno;
		safe_close(cur);
		cur = nfd;
	}
	if (r < 0)
		return r;
	if (mkdir)
		return TAKE_FD(cur);
	int fd = openat(cur, ".", oflags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Whether rel has a ".." component. */
static bool has_dotdot(const char *rel)
{
	for (const char *c = rel; (c = strstr(c, "..")); c += 2)
		if ((c == rel || c[-1] == '/') && (c[2] == '/' || c[2] == '\0'))
			return true;
	return false;
}

int pathres_open(int rootfd, const char *rel, int oflags, unsigned how)
{
	if (!*rel)
		rel = ".";
	if (rel[0] == '/' || has_dotdot(rel))
		return -EXDEV;
	if (!(how & PATHRES_FORCE_WALK)) {
		int fd = try_openat2(rootfd, rel, oflags);
		if (fd != -ENOSYS)
			return fd;
	}
	return walk(rootfd, rel, oflags, false, 0);
}

int pathres_mkdir_p(int rootfd, const char *rel, mode_t mode, unsigned how)
{
	if (rel[0] == '/' || has_dotdot(rel))
		return -EXDEV;
	int fd = pathres_open(rootfd, rel, O_PATH | O_DIRECTORY, how);
	if (fd != -ENOENT)
		return fd;
	return walk(rootfd, rel, 0, true, mode);
}

static int open_root(const char *root)
{
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int pathres_open_under(const char *root, const char *path, int oflags)
{
	const char *rel;

	if (!pathres_below(root, path, &rel))
		return -EXDEV;
	_cleanup_close_ int rfd = open_root(root);
	if (rfd < 0)
		return rfd;
	return pathres_open(rfd, rel, oflags, 0);
}

int pathres_mkdir_under(const char *root, const char *path, mode_t mode)
{
	const char *rel;

	if (!pathres_below(root, path, &rel))
		return -EXDEV;
	int r = mkdir_p(root, 0755);
	if (r < 0)
		return r;
	_cleanup_close_ int rfd = open_root(root);
	if (rfd < 0)
		return rfd;
	return pathres_mkdir_p(rfd, rel, mode, 0);
}

int pathres_parent_under(const char *root, const char *path, bool mkdir, mode_t mode,
			 const char **ret_base)
{
	const char *rel;
	char dir[PATH_MAX];

	if (!pathres_below(root, path, &rel))
		return -EXDEV;
	size_t len = strlen(rel);
	if (len == 0 || rel[len - 1] == '/')
		return -EINVAL;
	if (len >= sizeof(dir))
		return -ENAMETOOLONG;
	const char *slash = memrchr(rel, '/', len);
	const char *base = slash ? slash + 1 : rel;
	size_t dl = slash ? (size_t)(slash - rel) : 0;
	memcpy(dir, rel, dl);
	dir[dl] = '\0';
	if (!strcmp(base, "..") || !strcmp(base, "."))
		return -EINVAL;
	if (mkdir) {
		int r = mkdir_p(root, 0755);
		if (r < 0)
			return r;
	}
	_cleanup_close_ int rfd = open_root(root);
	if (rfd < 0)
		return rfd;
	int fd = mkdir ? pathres_mkdir_p(rfd, dir, mode, 0)
		       : pathres_open(rfd, dir, O_PATH | O_DIRECTORY, 0);
	if (fd >= 0)
		*ret_base = base;
	return fd;
}

bool path_clean_under(const char *p, const char *root)
{
	size_t rl = strlen(root);

	if (strncmp(p, root, rl) != 0 || (p[rl] != '/' && p[rl] != '\0'))
		return false;
	if (strlen(p) >= 4096 || strstr(p, "//"))
		return false;
	for (const char *c = p; (c = strstr(c, "/..")); c += 3)
		if (c[3] == '/' || c[3] == '\0')
			return false;
	for (const char *c = p; (c = strstr(c, "/.")); c += 2)
		if (c[2] == '/' || c[2] == '\0')
			return false;
	return true;
}
