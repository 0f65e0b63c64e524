// SPDX-License-Identifier: Apache-2.0
/*
 * The copy behind watchable-bind: scan a source (bounded), compare with the
 * last scan, and apply the differences to the mirror. Every path is walked
 * one component at a time with O_NOFOLLOW, on both sides: a symlink in the
 * source is copied as a symlink, and nothing is ever written outside dst.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/pathres.h"
#include "storage/watchable.h"

#define TMP_NAME ".watchable.tmp"
#define TREE_DEPTH_MAX 32

void watchable_snap_clear(struct watchable_snap *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->e[i].rel);
	memset(s, 0, sizeof(*s));
}

/* "dir/base" split: *ret_dir malloc'd ("/" for a top-level name), *ret_base points into path. */
static int split(const char *path, char **ret_dir, const char **ret_base)
{
	const char *slash = strrchr(path, '/');

	if (!slash || !slash[1] || path[0] != '/')
		return -EINVAL;
	*ret_dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
	if (!*ret_dir)
		return -ENOMEM;
	*ret_base = slash + 1;
	return 0;
}

/*
 * The directory holding `path` ('/'-separated, relative to root), reached
 * without following any symlink; *ret_leaf is its last component (in buf).
 */
static int walk_parent(int root, const char *path, char *buf, size_t size, const char **ret_leaf)
{
	char *comp, *next;
	int fd;

	if (snprintf(buf, size, "%s", path) >= (int)size)
		return -ENAMETOOLONG;
	fd = openat(root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (comp = buf; (next = strchr(comp, '/')); comp = next + 1) {
		*next = '\0';
		int sub = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(fd);
		if (sub < 0)
			return -e;
		fd = sub;
	}
	*ret_leaf = comp;
	return fd;
}

/* ---- scanning ---- */

static int scan_at(int pfd, const char *name, const char *rel, struct watchable_snap *s,
		   agent_error_t **err)
{
	struct watchable_entry *e;
	struct stat st;
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return agent_error_setsys(err, errno, "watchable: stat %s", rel[0] ? rel : name);
	/* Symlinks inside are copied as symlinks; the root of a mirror is never one. */
	if (!rel[0] && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return agent_error_set(err, ELOOP, "watchable: %s is not a file or directory",
				       name);
	if (s->n >= WATCHABLE_MAX_ENTRIES)
		return agent_error_set(err, E2BIG, "watchable: more than %d entries",
				       WATCHABLE_MAX_ENTRIES);
	if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
		s->bytes += (uint64_t)st.st_size;
	if (s->bytes > WATCHABLE_MAX_BYTES)
		return agent_error_set(err, EFBIG, "watchable: more than %d bytes",
				       WATCHABLE_MAX_BYTES);
	e = &s->e[s->n];
	e->rel = strdup(rel);
	if (!e->rel)
		return agent_error_set(err, ENOMEM, "out of memory");
	e->st = st;
	s->n++;
	if (!S_ISDIR(st.st_mode))
		return 0;
	int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return agent_error_setsys(err, errno, "watchable: open %s", rel[0] ? rel : name);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return agent_error_setsys(err, errno, "watchable: opendir %s", rel);
	}
	while (r >= 0 && (errno = 0, de = readdir(d))) {
		char sub[PATH_MAX];
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name) >=
		    (int)sizeof(sub)) {
			r = agent_error_set(err, ENAMETOOLONG, "watchable: path too long");
			break;
		}
		r = scan_at(dirfd(d), de->d_name, sub, s, err);
	}
	if (r >= 0 && errno)
		r = agent_error_setsys(err, errno, "watchable: readdir %s", rel);
	closedir(d);
	return r;
}

/* ---- applying ---- */

static const struct watchable_entry *find(const struct watchable_snap *s, const char *rel)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->e[i].rel, rel))
			return &s->e[i];
	return NULL;
}

static bool same_type(const struct stat *a, const struct stat *b)
{
	return (a->st_mode & S_IFMT) == (b->st_mode & S_IFMT);
}

static bool unchanged(const struct stat *a, const struct stat *b)
{
	if (a->st_mode != b->st_mode || a->st_uid != b->st_uid || a->st_gid != b->st_gid ||
	    a->st_ino != b->st_ino || a->st_dev != b->st_dev)
		return false;
	return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* mirror-relative path of an entry: "base" or "base/rel" */
static int entry_path(char *buf, size_t size, const char *base, const char *rel)
{
	if (snprintf(buf, size, "%s%s%s", base, rel[0] ? "/" : "", rel) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

static int remove_tree_at(int pfd, const char *name, int depth)
{
	struct stat st;
	int r = 0;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(pfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (depth > TREE_DEPTH_MAX)
		return -ELOOP;
	int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	for (struct dirent *de; (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int q = remove_tree_at(dirfd(d), de->d_name, depth + 1);
		if (q < 0 && r == 0)
			r = q;
	}
	closedir(d);
	if (unlinkat(pfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
		r = -errno;
	return r;
}

struct sides {
	int src_root, dst_root; /* the directories holding src and dst */
	const char *src_base, *dst_base;
};

static int remove_entry(const struct sides *sd, const char *rel)
{
	char path[PATH_MAX], buf[PATH_MAX];
	const char *leaf;
	int r = entry_path(path, sizeof(path), sd->dst_base, rel);

	if (r < 0)
		return r;
	int pfd = walk_parent(sd->dst_root, path, buf, sizeof(buf), &leaf);
	if (pfd < 0)
		return pfd == -ENOENT ? 0 : pfd;
	r = remove_tree_at(pfd, leaf, 0);
	close(pfd);
	return r;
}

static int copy_fd(int in, int out)
{
	char buf[65536];
	uint64_t total = 0;
	ssize_t n;

	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		total += (uint64_t)n;
		if (total > WATCHABLE_MAX_BYTES)
			return -EFBIG; /* grew since the scan: the next scan falls back */
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -errno;
			off += w;
		}
	}
	return 0;
}

/* A copy of the source file as TMP_NAME in pfd, owner, mode and times set. */
static int make_file(const struct sides *sd, const char *rel, const struct stat *st, int pfd)
{
	char path[PATH_MAX], buf[PATH_MAX];
	const char *leaf;
	struct stat now;
	int r = entry_path(path, sizeof(path), sd->src_base, rel);

	if (r < 0)
		return r;
	int spfd = walk_parent(sd->src_root, path, buf, sizeof(buf), &leaf);
	if (spfd < 0)
		return spfd;
	int in = openat(spfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	r = -errno;
	close(spfd);
	if (in < 0)
		return r;
	if (fstat(in, &now) < 0 || !S_ISREG(now.st_mode)) {
		close(in);
		return -ESTALE; /* replaced since the scan: the next one sees it */
	}
	int out = openat(pfd, TMP_NAME, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	struct timespec times[2] = {now.st_atim, now.st_mtim};
	r = copy_fd(in, out);
	if (r == 0 && fchown(out, st->st_uid, st->st_gid) < 0)
		r = -errno;
	if (r == 0 && fchmod(out, st->st_mode & 07777) < 0)
		r = -errno;
	if (r == 0)
		futimens(out, times);
	close(in);
	close(out);
	return r;
}

static int make_symlink(const struct sides *sd, const char *rel, const struct stat *st, int pfd)
{
	char path[PATH_MAX], buf[PATH_MAX], target[PATH_MAX];
	const char *leaf;
	int r = entry_path(path, sizeof(path), sd->src_base, rel);

	if (r < 0)
		return r;
	int spfd = walk_parent(sd->src_root, path, buf, sizeof(buf), &leaf);
	if (spfd < 0)
		return spfd;
	ssize_t n = readlinkat(spfd, leaf, target, sizeof(target) - 1);
	r = -errno;
	close(spfd);
	if (n < 0)
		return r;
	target[n] = '\0';
	if (symlinkat(target, pfd, TMP_NAME) < 0)
		return -errno;
	if (fchownat(pfd, TMP_NAME, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

/*
 * Directories are checked at every pass (a few syscalls): whatever took the
 * place of one (a symlink to elsewhere...) is removed, never followed.
 * 1 when something was fixed, 0 when it was right.
 */
static int make_dir(int pfd, const char *leaf, const struct stat *st)
{
	mode_t want = st->st_mode & 07777;
	bool made = mkdirat(pfd, leaf, 0700) == 0;
	struct stat have;
	int fd, r = 0;

	if (!made && errno != EEXIST)
		return -errno;
	fd = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && !made && (errno == ENOTDIR || errno == ELOOP)) {
		if (unlinkat(pfd, leaf, 0) < 0 || mkdirat(pfd, leaf, 0700) < 0)
			return -errno;
		made = true;
		fd = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &have) < 0) {
		r = -errno;
	} else if (made || (have.st_mode & 07777) != want || have.st_uid != st->st_uid ||
		   have.st_gid != st->st_gid) {
		if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, want) < 0)
			r = -errno;
		else
			r = 1;
	}
	close(fd);
	return r;
}

static int update_entry(const struct sides *sd, const struct watchable_entry *e)
{
	char path[PATH_MAX], buf[PATH_MAX];
	const char *leaf;
	int r = entry_path(path, sizeof(path), sd->dst_base, e->rel);

	if (r < 0)
		return r;
	int pfd = walk_parent(sd->dst_root, path, buf, sizeof(buf), &leaf);
	if (pfd < 0)
		return pfd;
	if (S_ISDIR(e->st.st_mode)) {
		r = make_dir(pfd, leaf, &e->st);
	} else {
		unlinkat(pfd, TMP_NAME, 0);
		r = S_ISREG(e->st.st_mode) ? make_file(sd, e->rel, &e->st, pfd)
					   : make_symlink(sd, e->rel, &e->st, pfd);
		/* The swap readers see: the old entry or the new one, never a partial file. */
		if (r == 0 && renameat(pfd, TMP_NAME, pfd, leaf) < 0)
			r = -errno;
		if (r < 0)
			unlinkat(pfd, TMP_NAME, 0);
		else
			r = 1;
	}
	close(pfd);
	return r;
}

static bool mirrored_type(mode_t m)
{
	return S_ISDIR(m) || S_ISREG(m) || S_ISLNK(m);
}

static int apply(const struct sides *sd, struct watchable_snap *old, struct watchable_snap *new)
{
	static const mode_t order[] = {S_IFDIR, S_IFREG, S_IFLNK};
	int changes = 0, first_err = 0;

	/* An entry that changed type goes first, so its replacement has the name. */
	for (size_t i = 0; i < new->n; i++) {
		const struct watchable_entry *o = find(old, new->e[i].rel);
		if (o && !same_type(&o->st, &new->e[i].st)) {
			remove_entry(sd, o->rel);
			changes++;
		}
	}
	for (size_t k = 0; k < ARRAY_SIZE(order); k++) {
		for (size_t i = 0; i < new->n; i++) {
			struct watchable_entry *e = &new->e[i];
			const struct watchable_entry *o = find(old, e->rel);
			if ((e->st.st_mode & S_IFMT) != order[k])
				continue;
			/* A directory is checked anyway: cheap, and it heals the mirror. */
			if (!S_ISDIR(e->st.st_mode) && o && unchanged(&o->st, &e->st))
				continue;
			int r = update_entry(sd, e);
			if (r < 0) {
				/* Retried at the next scan: nothing matches a zeroed entry. */
				memset(&e->st, 0, sizeof(e->st));
				if (!first_err)
					first_err = r;
				continue;
			}
			changes += r;
		}
	}
	/* Removals last, deepest first. */
	for (size_t i = old->n; i-- > 0;) {
		const struct watchable_entry *o = &old->e[i];
		const struct watchable_entry *e = find(new, o->rel);
		if (e || !mirrored_type(o->st.st_mode))
			continue;
		int r = remove_entry(sd, o->rel);
		if (r < 0 && !first_err)
			first_err = r;
		changes++;
	}
	return first_err ? first_err : changes;
}

int watchable_mirror(const char *src, const char *dst, struct watchable_snap *state,
		     agent_error_t **err)
{
	_cleanup_free_ char *src_dir = NULL, *dst_dir = NULL;
	_cleanup_close_ int sfd = -1, dfd = -1;
	struct watchable_snap now = {0};
	struct sides sd;
	int r;

	if (split(src, &src_dir, &sd.src_base) < 0 || split(dst, &dst_dir, &sd.dst_base) < 0)
		return agent_error_set(err, EINVAL, "watchable: bad paths %s, %s", src, dst);
	/* No symlink on the way to either side: the host cannot point a parent elsewhere. */
	sfd = pathres_open_under("/", src_dir, O_PATH | O_DIRECTORY);
	if (sfd < 0)
		return agent_error_setsys(err, -sfd, "watchable: %s (symlinks are not followed)",
					  src_dir);
	dfd = pathres_open_under("/", dst_dir, O_PATH | O_DIRECTORY);
	if (dfd < 0)
		return agent_error_setsys(err, -dfd, "watchable: %s (symlinks are not followed)",
					  dst_dir);
	sd.src_root = sfd;
	sd.dst_root = dfd;
	r = scan_at(sfd, sd.src_base, "", &now, err);
	if (r < 0) {
		watchable_snap_clear(&now);
		return r;
	}
	r = apply(&sd, state, &now);
	watchable_snap_clear(state);
	*state = now;
	if (r < 0)
		return agent_error_setsys(err, -r, "watchable: mirroring %s to %s", src, dst);
	return r;
}

int watchable_mirror_remove(const char *dst)
{
	_cleanup_free_ char *dir = NULL;
	const char *base;
	int r = split(dst, &dir, &base);

	if (r < 0)
		return r;
	int fd = pathres_open_under("/", dir, O_PATH | O_DIRECTORY);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	r = remove_tree_at(fd, base, 0);
	close(fd);
	return r;
}
