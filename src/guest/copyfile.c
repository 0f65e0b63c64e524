/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CopyFile: the runtime copies files in when the guest has no shared
 * filesystem, in chunks. Everything happens below one root directory, walked
 * one component at a time with O_NOFOLLOW from an fd of the root: a symlink
 * anywhere on the way ("..", absolute or relative, a symlinked parent) is
 * refused, never followed, so nothing outside the root can be reached. The last
 * component is handled with *at() calls that do not follow it either.
 */
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
#include "base/status.h"

bool guest_path_below(const char *root, const char *path, const char **ret_rel)
{
	size_t rl = strlen(root);

	if (path[0] != '/' || strlen(path) >= PATH_MAX)
		return false;
	if (strncmp(path, root, rl) != 0 || path[rl] != '/' || path[rl + 1] == '\0')
		return false;
	const char *rel = path + rl + 1;
	for (const char *c = rel; *c;) {
		size_t n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false; /* "//", ".", ".." or a trailing '/' */
		if (n > NAME_MAX)
			return false;
		c += n;
		if (*c == '/') {
			c++;
			if (!*c)
				return false;
		}
	}
	if (ret_rel)
		*ret_rel = rel;
	return true;
}

static int bad_arg(agent_error_t **err, const char *what, const char *path)
{
	return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL, "%s: %s", path, what);
}

static int validate(const char *root, const struct guest_copy *c, const char **ret_rel,
		    agent_error_t **err)
{
	mode_t type = c->file_mode & S_IFMT;

	if (!guest_path_below(root, c->path, ret_rel))
		return agent_error_set_status(
			err, GRPC_INVALID_ARGUMENT, EINVAL,
			"path \"%.256s\": must be an absolute clean path below %s/", c->path, root);
	if (type != 0 && type != S_IFREG && type != S_IFDIR && type != S_IFLNK)
		return bad_arg(err, "file_mode: only regular files, directories and symlinks",
			       c->path);
	if (c->file_size < 0 || c->file_size > GUEST_COPY_MAX_FILE_SIZE)
		return bad_arg(err, "file_size out of range (at most 1 GiB)", c->path);
	if (c->len > GUEST_COPY_MAX_DATA)
		return bad_arg(err, "data larger than 4 MiB", c->path);
	if (c->offset < 0 || c->offset > c->file_size || (int64_t)c->len > c->file_size - c->offset)
		if (type != S_IFDIR && type != S_IFLNK)
			return bad_arg(err, "offset + data beyond file_size", c->path);
	if (c->uid < -1 || c->gid < -1)
		return bad_arg(err, "uid/gid below -1", c->path);
	if (type == S_IFLNK && (c->len == 0 || c->len >= PATH_MAX || memchr(c->data, '\0', c->len)))
		return bad_arg(err, "data: symlink target empty, too long or with a NUL byte",
			       c->path);
	return 0;
}

/*
 * Opens (creating with mode when missing) each directory of rel except the last
 * component, from rootfd, refusing symlinks. Returns the parent's fd and points
 * *ret_base at the last component. Directories this call creates get mode exactly.
 */
static int open_parent(int rootfd, const char *rel, mode_t mode, const char **ret_base,
		       agent_error_t **err)
{
	char comp[NAME_MAX + 1];
	int dfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);

	if (dfd < 0)
		return agent_error_setsys(err, errno, "dup");
	const char *c = rel;
	for (;;) {
		size_t n = strcspn(c, "/");
		if (c[n] == '\0')
			break;
		memcpy(comp, c, n);
		comp[n] = '\0';
		bool made = false;
		if (mkdirat(dfd, comp, mode) == 0)
			made = true;
		else if (errno != EEXIST) {
			int e = errno;
			close(dfd);
			return agent_error_setsys(err, e, "mkdir %.*s", (int)(c - rel + n), rel);
		}
		int next = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(dfd);
		if (next < 0) {
			if (e == ELOOP || e == ENOTDIR)
				return agent_error_set_status(
					err, GRPC_INVALID_ARGUMENT, e,
					"%.*s: not a directory (symlinks are not followed)",
					(int)(c - rel + n), rel);
			return agent_error_setsys(err, e, "open %.*s", (int)(c - rel + n), rel);
		}
		dfd = next;
		if (made && fchmod(dfd, mode) < 0) {
			e = errno;
			close(dfd);
			return agent_error_setsys(err, e, "chmod %.*s", (int)(c - rel + n), rel);
		}
		c += n + 1;
	}
	*ret_base = c;
	return dfd;
}

/* Removes whatever is at name (an empty directory too); missing is fine. */
static int remove_entry(int dfd, const char *name)
{
	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno == EISDIR && (unlinkat(dfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT))
		return 0;
	return -errno;
}

static int copy_dir(int pfd, const char *base, const struct guest_copy *c, agent_error_t **err)
{
	struct stat st;

	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
		int r = remove_entry(pfd, base);
		if (r < 0)
			return agent_error_setsys(err, -r, "remove %s", c->path);
	}
	if (mkdirat(pfd, base, c->file_mode & 07777) < 0 && errno != EEXIST)
		return agent_error_setsys(err, errno, "mkdir %s", c->path);
	_cleanup_close_ int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return agent_error_setsys(err, errno, "open %s", c->path);
	if (fchmod(fd, c->file_mode & 07777) < 0)
		return agent_error_setsys(err, errno, "chmod %s", c->path);
	if (fchown(fd, (uid_t)c->uid, (gid_t)c->gid) < 0)
		return agent_error_setsys(err, errno, "chown %s", c->path);
	return 0;
}

static int copy_symlink(int pfd, const char *base, const struct guest_copy *c, agent_error_t **err)
{
	char target[PATH_MAX];

	memcpy(target, c->data, c->len);
	target[c->len] = '\0';
	if (c->offset == 0) {
		int r = remove_entry(pfd, base);
		if (r < 0)
			return agent_error_setsys(err, -r, "remove %s", c->path);
	}
	if (symlinkat(target, pfd, base) < 0)
		return agent_error_setsys(err, errno, "symlink %s -> %s", c->path, target);
	if (fchownat(pfd, base, (uid_t)c->uid, (gid_t)c->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return agent_error_setsys(err, errno, "lchown %s", c->path);
	return 0;
}

/*
 * The temporary sibling: a name of its own per target (a hash of the target's
 * name), so interleaved chunked copies of a.txt and a.conf never share one,
 * and a fixed length whatever the target's name.
 */
void guest_copy_tmp_name(const char *base, char *buf, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (const unsigned char *c = (const unsigned char *)base; *c; c++)
		h = (h ^ *c) * 0x100000001b3ull;
	snprintf(buf, size, "%s%016llx%s", GUEST_COPY_TMP_PREFIX, (unsigned long long)h,
		 GUEST_COPY_TMP_SUFFIX);
}

static bool is_tmp_name(const char *name)
{
	size_t pl = strlen(GUEST_COPY_TMP_PREFIX), sl = strlen(GUEST_COPY_TMP_SUFFIX);
	size_t n = strlen(name);

	return n == pl + 16 + sl && !strncmp(name, GUEST_COPY_TMP_PREFIX, pl) &&
	       !strcmp(name + n - sl, GUEST_COPY_TMP_SUFFIX);
}

/*
 * Temporaries in one directory that no chunk touched for max_age seconds (all
 * of them when max_age < 0) are removed; subdirectories are visited below
 * depth levels when depth > 0. Nothing is followed, nothing left the
 * filesystem. The count of entries looked at is bounded.
 */
static void sweep_dir(int dfd, long max_age, int depth, dev_t dev, unsigned *budget)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct timespec now;
	DIR *d;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	for (struct dirent *e; *budget && (e = readdir(d)); (*budget)--) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode) && is_tmp_name(e->d_name)) {
			if (max_age < 0 || now.tv_sec - st.st_mtim.tv_sec > max_age)
				unlinkat(dirfd(d), e->d_name, 0);
			continue;
		}
		if (depth > 0 && S_ISDIR(st.st_mode) && st.st_dev == dev) {
			int sub = openat(dirfd(d), e->d_name,
					 O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				sweep_dir(sub, max_age, depth - 1, dev, budget);
				close(sub);
			}
		}
	}
	closedir(d);
}

int guest_copy_cleanup(const char *root, agent_error_t **err)
{
	unsigned budget = GUEST_COPY_SWEEP_MAX;
	struct stat st;
	_cleanup_close_ int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : agent_error_setsys(err, errno, "open %s", root);
	if (fstat(fd, &st) < 0)
		return agent_error_setsys(err, errno, "stat %s", root);
	sweep_dir(fd, -1, 32, st.st_dev, &budget);
	return 0;
}

static int copy_regular(int pfd, const char *base, const struct guest_copy *c, agent_error_t **err)
{
	char tmp[64];
	struct stat st;
	mode_t mode = c->file_mode & 07777;
	_cleanup_close_ int fd = -1;

	guest_copy_tmp_name(base, tmp, sizeof(tmp));
	if (c->offset == 0) {
		/* Abandoned copies of this directory go; this target's own is begun afresh. */
		unsigned budget = GUEST_COPY_SWEEP_MAX;
		if (fstat(pfd, &st) == 0)
			sweep_dir(pfd, GUEST_COPY_TMP_MAX_AGE_S, 0, st.st_dev, &budget);
		int r = strcmp(tmp, base) != 0 ? remove_entry(pfd, tmp) : 0;
		if (r < 0)
			return agent_error_setsys(err, -r, "remove the temporary of %s", c->path);
		/* A fresh temporary file: never write through a name someone left there. */
		fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	} else {
		fd = openat(pfd, tmp, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return agent_error_setsys(err, errno, "open %s (temporary %s)", c->path, tmp);
	if (fstat(fd, &st) < 0)
		return agent_error_setsys(err, errno, "stat %s", tmp);
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		return agent_error_set(err, EINVAL, "%s: temporary %s is not a plain file", c->path,
				       tmp);
	const char *p = c->data;
	size_t left = c->len;
	off_t off = (off_t)c->offset;
	while (left) {
		ssize_t w = pwrite(fd, p, left, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return agent_error_setsys(err, w < 0 ? errno : EIO, "write %s at %lld",
						  c->path, (long long)off);
		p += w;
		left -= (size_t)w;
		off += w;
	}
	if (fstat(fd, &st) < 0)
		return agent_error_setsys(err, errno, "stat %s", tmp);
	if (st.st_size < c->file_size)
		return 0; /* more chunks to come */
	if (st.st_size > c->file_size)
		return agent_error_set(err, EIO, "%s: %lld bytes written, file_size is %lld",
				       c->path, (long long)st.st_size, (long long)c->file_size);
	if (fchmod(fd, mode) < 0)
		return agent_error_setsys(err, errno, "chmod %s", c->path);
	if (fchown(fd, (uid_t)c->uid, (gid_t)c->gid) < 0)
		return agent_error_setsys(err, errno, "chown %s", c->path);
	/* The target stays as it was until now: replaced whole (an empty directory removed). */
	if (renameat(pfd, tmp, pfd, base) < 0) {
		int e = errno;
		if ((e != EISDIR && e != ENOTEMPTY && e != EEXIST) ||
		    unlinkat(pfd, base, AT_REMOVEDIR) < 0 || renameat(pfd, tmp, pfd, base) < 0)
			return agent_error_setsys(err, e, "rename %s into place", c->path);
	}
	return 0;
}

int guest_copy_file(const char *root, const struct guest_copy *c, agent_error_t **err)
{
	const char *rel = NULL, *base = NULL;
	int r = validate(root, c, &rel, err);
	if (r < 0)
		return r;

	r = mkdir_p(root, 0755);
	if (r < 0)
		return agent_error_setsys(err, -r, "mkdir %s", root);
	_cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return agent_error_setsys(err, errno, "open %s", root);
	_cleanup_close_ int pfd = open_parent(rootfd, rel, c->dir_mode & 0777, &base, err);
	if (pfd < 0)
		return pfd;
	/* As upstream: the immediate parent belongs to the file's owner. */
	if (fchown(pfd, (uid_t)c->uid, (gid_t)c->gid) < 0)
		return agent_error_setsys(err, errno, "chown the directory of %s", c->path);

	switch (c->file_mode & S_IFMT) {
	case S_IFDIR:
		return copy_dir(pfd, base, c, err);
	case S_IFLNK:
		return copy_symlink(pfd, base, c, err);
	default:
		return copy_regular(pfd, base, c, err);
	}
}
