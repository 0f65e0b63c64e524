// SPDX-License-Identifier: Apache-2.0
#include "container/pathsafe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/macro.h"

#define PATHSAFE_MAXLINKS 40
#define PATHSAFE_BUF (2 * PATH_MAX)

static int try_openat2(int rootfd, const char *path, int oflags, unsigned how)
{
#ifdef SYS_openat2
	struct open_how oh = {
		.flags = (unsigned long long)(oflags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	if (how & PATHSAFE_NOFOLLOW)
		oh.flags |= O_NOFOLLOW;
	/* RESOLVE_IN_ROOT answers EAGAIN when a rename raced with "..". */
	for (int i = 0; i < 16; i++) {
		long fd = syscall(SYS_openat2, rootfd, path, &oh, sizeof(oh));
		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
#else
	return -ENOSYS;
#endif
}

/* Reopens the directory named by the resolved components (each a real directory). */
static int open_stack(int rootfd, const char *stack)
{
	int fd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	const char *p = stack;
	while (*p) {
		char comp[NAME_MAX + 1];
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l > NAME_MAX) {
			safe_close(fd);
			return -ENAMETOOLONG;
		}
		memcpy(comp, p, l);
		comp[l] = '\0';
		int nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e2 = errno;
		safe_close(fd);
		if (nfd < 0)
			return -e2;
		fd = nfd;
		p += l;
		if (*p == '/')
			p++;
	}
	return fd;
}

static int walk(int rootfd, const char *path, int oflags, unsigned how)
{
	_cleanup_free_ char *rest = malloc(PATHSAFE_BUF);
	_cleanup_free_ char *tmp = malloc(PATHSAFE_BUF);
	_cleanup_free_ char *stack = malloc(PATHSAFE_BUF);
	_cleanup_close_ int cur = -1;
	int links = 0;

	if (!rest || !tmp || !stack)
		return -ENOMEM;
	if (!path[0])
		return -ENOENT; /* names nothing, as for openat2 (not the root) */
	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	snprintf(rest, PATHSAFE_BUF, "%s", path);
	stack[0] = '\0';
	cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return -errno;

	char *p = rest;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char comp[NAME_MAX + 1];
		char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, p, l);
		comp[l] = '\0';
		p += l;
		const char *q = p;
		while (*q == '/')
			q++;
		bool last = !*q;
		/* "name/" at the end wants a directory: the kernel follows a final link there
		 * even with O_NOFOLLOW, and so does the walk (found by fuzz-oci-spec). */
		bool dir_wanted = last && *p == '/';

		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			/* ".." of the root is the root. */
			char *slash = strrchr(stack, '/');
			if (slash)
				*slash = '\0';
			else
				stack[0] = '\0';
			int nfd = open_stack(rootfd, stack);
			if (nfd < 0)
				return nfd;
			safe_close(cur);
			cur = nfd;
			continue;
		}
		struct stat st;
		if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (S_ISLNK(st.st_mode) && !(last && !dir_wanted && (how & PATHSAFE_NOFOLLOW))) {
			if (++links > PATHSAFE_MAXLINKS)
				return -ELOOP;
			ssize_t n = readlinkat(cur, comp, tmp, PATH_MAX);
			if (n < 0)
				return -errno;
			if (n >= PATH_MAX)
				return -ENAMETOOLONG;
			tmp[n] = '\0';
			if (strlen(tmp) + 1 + strlen(p) + 1 > PATHSAFE_BUF)
				return -ENAMETOOLONG;
			strcat(tmp, "/");
			strcat(tmp, p);
			memcpy(rest, tmp, strlen(tmp) + 1);
			p = rest;
			if (tmp[0] == '/') {
				int nfd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
				if (nfd < 0)
					return -errno;
				safe_close(cur);
				cur = nfd;
				stack[0] = '\0';
			}
			continue;
		}
		if (!last) {
			int nfd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (nfd < 0)
				return -errno;
			safe_close(cur);
			cur = nfd;
			size_t sl = strlen(stack);
			if (sl + 1 + l + 1 > PATHSAFE_BUF)
				return -ENAMETOOLONG;
			if (sl)
				stack[sl++] = '/';
			memcpy(stack + sl, comp, l + 1);
			continue;
		}
		int fd = openat(cur, comp, oflags | O_NOFOLLOW | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	int fd = openat(cur, ".", oflags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int pathsafe_open(int rootfd, const char *path, int oflags, unsigned how)
{
	if (!(how & PATHSAFE_FORCE_WALK)) {
		int fd = try_openat2(rootfd, path, oflags, how);
		if (fd != -ENOSYS)
			return fd;
	}
	return walk(rootfd, path, oflags, how);
}

/* Splits off the next component of *p into comp; false at the end. */
static bool next_comp(const char **p, char comp[NAME_MAX + 1], int *ret_err)
{
	const char *s = *p;
	while (*s == '/')
		s++;
	if (!*s)
		return false;
	const char *e = strchr(s, '/');
	size_t l = e ? (size_t)(e - s) : strlen(s);
	if (l > NAME_MAX) {
		*ret_err = -ENAMETOOLONG;
		return false;
	}
	memcpy(comp, s, l);
	comp[l] = '\0';
	*p = s + l;
	return true;
}

static int mkdir_p(int rootfd, const char *path, mode_t mode, unsigned how, int *links)
{
	int fd = pathsafe_open(rootfd, path, O_PATH | O_DIRECTORY, how);
	if (fd != -ENOENT)
		return fd;
	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;

	_cleanup_free_ char *prefix = malloc(PATH_MAX + 1);
	if (!prefix)
		return -ENOMEM;
	_cleanup_close_ int parent = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0)
		return -errno;
	size_t plen = 0;
	const char *p = path;
	char comp[NAME_MAX + 1];
	int r = 0;
	prefix[0] = '\0';
	while (next_comp(&p, comp, &r)) {
		size_t cl = strlen(comp);
		size_t before = plen;
		prefix[plen++] = '/';
		memcpy(prefix + plen, comp, cl + 1);
		plen += cl;
		int nfd = pathsafe_open(rootfd, prefix, O_PATH | O_DIRECTORY, how);
		if (nfd == -ENOENT && strcmp(comp, ".") != 0 && strcmp(comp, "..") != 0) {
			/* parent is resolved inside the root and comp is one plain name. */
			if (mkdirat(parent, comp, mode) == 0) {
				nfd = pathsafe_open(rootfd, prefix, O_PATH | O_DIRECTORY, how);
			} else if (errno == EEXIST) {
				/* A dangling symlink: create what it points to, in the root. */
				char target[PATH_MAX];
				ssize_t n = readlinkat(parent, comp, target, sizeof(target) - 1);
				if (n < 0)
					return -ENOENT;
				target[n] = '\0';
				if (++*links > PATHSAFE_MAXLINKS)
					return -ELOOP;
				prefix[before] = '\0';
				_cleanup_free_ char *np = malloc(PATHSAFE_BUF);
				if (!np)
					return -ENOMEM;
				if (snprintf(np, PATHSAFE_BUF, "%s/%s/%s",
					     target[0] == '/' ? "" : prefix, target,
					     p) >= PATHSAFE_BUF)
					return -ENAMETOOLONG;
				if (strlen(np) >= PATH_MAX)
					return -ENAMETOOLONG;
				return mkdir_p(rootfd, np, mode, how, links);
			} else {
				return -errno;
			}
		}
		if (nfd < 0)
			return nfd;
		safe_close(parent);
		parent = nfd;
	}
	if (r < 0)
		return r;
	return TAKE_FD(parent);
}

int pathsafe_mkdir_p(int rootfd, const char *path, mode_t mode, unsigned how)
{
	int links = 0;
	return mkdir_p(rootfd, path, mode, how, &links);
}

int pathsafe_create(int rootfd, const char *path, bool dir, unsigned how)
{
	if (dir)
		return pathsafe_mkdir_p(rootfd, path, 0755, how);

	int fd = pathsafe_open(rootfd, path, O_PATH, how);
	if (fd != -ENOENT)
		return fd;

	size_t len = strlen(path);
	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	char buf[PATH_MAX];
	memcpy(buf, path, len + 1);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	char *slash = strrchr(buf, '/');
	const char *base = slash ? slash + 1 : buf;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return -EINVAL;
	_cleanup_close_ int parent = -1;
	if (slash) {
		*slash = '\0';
		parent = pathsafe_mkdir_p(rootfd, buf[0] ? buf : "/", 0755, how);
	} else {
		parent = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (parent < 0)
			parent = -errno;
	}
	if (parent < 0)
		return TAKE_FD(parent);
	int nfd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (nfd < 0 && errno != EEXIST)
		return -errno;
	safe_close(nfd);
	return pathsafe_open(rootfd, path, O_PATH, how);
}

bool pathsafe_components_clean(const char *c)
{
	while (*c) {
		/* c points at a '/': the component after it must be a plain name. */
		const char *s = c + 1;
		const char *e = strchrnul(s, '/');
		size_t n = (size_t)(e - s);
		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		c = e;
	}
	return true;
}

bool pathsafe_lexically_below(const char *path, const char *dir)
{
	size_t dl = strlen(dir);
	if (dl < 2 || dir[0] != '/' || strncmp(path, dir, dl) != 0 || path[dl] != '/')
		return false;
	return path[dl + 1] && pathsafe_components_clean(path + dl);
}

int pathsafe_open_below(const char *dir, const char *path, int oflags, unsigned how)
{
	if (!pathsafe_lexically_below(path, dir))
		return -EXDEV;
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	return pathsafe_open(dfd, path + strlen(dir), oflags, how);
}

const char *pathsafe_proc_fd(int fd, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
	return buf;
}

int pathsafe_fd_path(int fd, char *buf, size_t size)
{
	char p[32];
	if (size == 0)
		return -EINVAL;
	ssize_t n = readlink(pathsafe_proc_fd(fd, p, sizeof(p)), buf, size - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n >= size - 1)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return 0;
}
