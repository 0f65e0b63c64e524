// SPDX-License-Identifier: Apache-2.0
#include "storage/storage.h"

#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "base/fsutil.h"
#include "base/pathres.h"
#include "container/mountopt.h"
#include "base/status.h"
#include "storage/hugepages.h"
#include "storage/mkfs.h"
#include "storage/storage-internal.h"
#include "storage/watchable.h"

/* "fsgid=N" and "mode=NNN" are ours; the rest goes to mount(2). */
int storage_split_options(const Grpc__Storage *s, long *fsgid, long *mode, char ***ret,
			  size_t *ret_n, agent_error_t **err)
{
	/* Room for one word more than given (a driver may add one), and a NULL. */
	char **words = calloc(s->n_options + 2, sizeof(char *));
	size_t n = 0;

	if (!words)
		return agent_error_set(err, ENOMEM, "out of memory");
	*fsgid = *mode = -1;
	for (size_t i = 0; i < s->n_options; i++) {
		const char *o = s->options[i];
		char *end;

		if (strncmp(o, "fsgid=", 6) == 0) {
			*fsgid = strtol(o + 6, &end, 10);
			if (*end || *fsgid < 0 || o[6] == '\0')
				goto bad;
			continue;
		}
		if (mode && strncmp(o, "mode=", 5) == 0 && !strcmp(s->driver, "local")) {
			*mode = strtol(o + 5, &end, 8);
			if (*end || *mode < 0 || *mode > 07777 || o[5] == '\0')
				goto bad;
			continue;
		}
		words[n++] = s->options[i];
		continue;
	bad:
		free(words);
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "storage %s: bad option \"%s\"", s->mount_point, o);
	}
	*ret = words;
	*ret_n = n;
	return 0;
}

int storage_path_error(int r, const char *what, const char *path, agent_error_t **err)
{
	if (r >= 0)
		return r;
	if (r == -ELOOP || r == -EXDEV || r == -ENOTDIR || r == -EINVAL)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, -r,
					      "%s \"%.256s\" must lie below %s with no symlink on "
					      "the way (symlinks are not followed)",
					      what, path, STORAGE_ROOT);
	return agent_error_setsys(err, -r, "%s %.256s", what, path);
}

int storage_target(const char *mp, bool dir, agent_error_t **err)
{
	const char *base;
	int fd;

	if (dir)
		return storage_path_error(pathres_mkdir_under(STORAGE_ROOT, mp, 0755),
					  "mount point", mp, err);
	_cleanup_close_ int pfd = pathres_parent_under(STORAGE_ROOT, mp, true, 0755, &base);
	if (pfd < 0)
		return storage_path_error(pfd, "mount point", mp, err);
	/* O_NONBLOCK: whatever is there already (a fifo...) is not waited on. */
	fd = openat(pfd, base, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	safe_close(fd);
	return storage_path_error(pathres_open(pfd, base, O_PATH, 0), "mount point", mp, err);
}

int storage_source(const char *path, const char *cid, agent_error_t **err)
{
	char own[4096] = "";

	if (cid)
		snprintf(own, sizeof(own), "%s/%s", STORAGE_ROOT, cid);
	if (path_clean_under(path, STORAGE_SHARED_ROOT))
		return storage_path_error(pathres_open_under(STORAGE_SHARED_ROOT, path, O_PATH),
					  "source", path, err);
	if (cid && path_clean_under(path, own))
		return storage_path_error(pathres_open_under(own, path, O_PATH), "source", path,
					  err);
	return agent_error_set_status(
		err, GRPC_INVALID_ARGUMENT, EINVAL,
		"source \"%.256s\" must be a clean path under %s or %s/<container>", path,
		STORAGE_SHARED_ROOT, STORAGE_ROOT);
}

void storage_unmount(const char *mp)
{
	char proc[32];
	const char *base;
	int fd = pathres_open_under(STORAGE_ROOT, mp, O_PATH);

	if (fd < 0)
		return;
	/* Detached through the fd: a name swapped since cannot redirect it. The fd pins the
	 * mount, so a plain umount would only answer EBUSY. */
	umount2(pathres_proc(fd, proc, sizeof(proc)), MNT_DETACH);
	close(fd);
	fd = pathres_parent_under(STORAGE_ROOT, mp, false, 0, &base);
	if (fd < 0)
		return;
	unlinkat(fd, base, AT_REMOVEDIR);
	close(fd);
}

int storage_apply_fsgid(int fd, long fsgid, long mode, agent_error_t **err)
{
	struct stat st;
	char proc[32];

	if (fsgid >= 0 && fchownat(fd, "", (uid_t)-1, (gid_t)fsgid, AT_EMPTY_PATH) < 0)
		return agent_error_setsys(err, errno, "chgrp %ld", fsgid);
	if (mode < 0 && fsgid < 0)
		return 0;
	if (fstat(fd, &st) < 0)
		return agent_error_setsys(err, errno, "stat");
	if (S_ISLNK(st.st_mode))
		return agent_error_set(err, ELOOP, "a symlink: mode left alone");
	mode_t m = mode >= 0 ? (mode_t)mode : (st.st_mode & 07777);
	if (fsgid >= 0)
		m |= S_ISGID;
	/* The inode the fd holds: chmod through its /proc/self/fd link. */
	if (chmod(pathres_proc(fd, proc, sizeof(proc)), m) < 0)
		return agent_error_setsys(err, errno, "chmod");
	return 0;
}

static int driver_local(const struct storage_req *rq, char **ret_cleanup, agent_error_t **err)
{
	const Grpc__Storage *s = rq->s;
	char **words = NULL;
	size_t n = 0;
	long fsgid, mode;
	int r = storage_split_options(s, &fsgid, &mode, &words, &n, err);

	free(words);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = storage_target(s->mount_point, true, err);
	if (fd < 0)
		return fd;
	*ret_cleanup = NULL; /* local volumes are never removed (as upstream) */
	return storage_apply_fsgid(fd, fsgid, mode, err);
}

static int driver_ephemeral(const struct storage_req *rq, char **ret_cleanup, agent_error_t **err)
{
	const Grpc__Storage *s = rq->s;
	struct mount_opts mo = {0};
	char **words = NULL;
	size_t n = 0;
	long fsgid, mode;
	char proc[32];
	int r;

	bool huge = !strcmp(s->fstype, "hugetlbfs");
	uint64_t pagesize, size;

	if (strcmp(s->fstype, "tmpfs") != 0 && !huge)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "ephemeral storage of type \"%.32s\": tmpfs or "
					      "hugetlbfs only",
					      s->fstype);
	r = storage_split_options(s, &fsgid, &mode, &words, &n, err);
	if (r < 0)
		return r;
	/*
	 * hugetlbfs: its pages first (pagesize= and size= are its mount options too), and
	 * min_size= so the mount reserves them: the next storage counts them as taken.
	 */
	char min_size[48];
	if (huge) {
		r = hugepages_parse(words, n, &pagesize, &size, err);
		if (r >= 0)
			r = hugepages_make_available(HUGEPAGES_SYSFS, pagesize, size, err);
		if (r < 0) {
			free(words);
			return r;
		}
		snprintf(min_size, sizeof(min_size), "min_size=%llu", (unsigned long long)size);
		words[n++] = min_size; /* storage_split_options left room for one more */
	}
	/* Unlike upstream, the options (size=, noexec, mode=, ...) are honoured. */
	r = mount_opts_parse(words, n, &mo, err);
	free(words);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = storage_target(s->mount_point, true, err);
	if (fd < 0) {
		mount_opts_release(&mo);
		return fd;
	}
	if (mount(s->source[0] ? s->source : s->fstype, pathres_proc(fd, proc, sizeof(proc)),
		  s->fstype, mo.flags & ~(unsigned long)(MS_BIND | MS_REC), mo.data) < 0) {
		r = agent_error_setsys(err, errno, "mounting %s on %s", s->fstype, s->mount_point);
		mount_opts_release(&mo);
		return r;
	}
	mount_opts_release(&mo);
	*ret_cleanup = strdup(s->mount_point);
	if (!*ret_cleanup) {
		umount2(proc, MNT_DETACH);
		return agent_error_set(err, ENOMEM, "out of memory");
	}
	if (fsgid < 0)
		return 0;
	/* The new tmpfs's root, not the directory under it. */
	_cleanup_close_ int root = storage_target(s->mount_point, true, err);
	if (root < 0)
		return root;
	return storage_apply_fsgid(root, fsgid, -1, err);
}

static const struct {
	const char *name;
	storage_driver_fn fn;
} drivers[] = {
	{"local", driver_local},
	{"ephemeral", driver_ephemeral},
	{"blk", storage_driver_block},
	{"mmioblk", storage_driver_block},
	{"scsi", storage_driver_block},
	{"nvdimm", storage_driver_block},
	{"virtio-fs", storage_driver_virtiofs},
	{"9p", storage_driver_9p},
	{"overlayfs", storage_driver_overlay},
	{"watchable-bind", storage_driver_watchable},
};

/* Upstream's drivers that later work brings (issue: storage and devices). */
static const char *const later_drivers[] = {"image_guest_pull", "blk-ccw", "erofs.multi-layer"};

static struct storage_entry *find(struct storage_table *t, const char *mp)
{
	for (struct storage_entry *e = t->first; e; e = e->next)
		if (strcmp(e->mount_point, mp) == 0)
			return e;
	return NULL;
}

static void entry_free(struct storage_table *t, struct storage_entry *e)
{
	for (struct storage_entry **pp = &t->first; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			t->n--;
			break;
		}
	}
	watchable_release(t, e->watch);
	free(e->mount_point);
	free(e->cleanup);
	free(e);
}

static storage_driver_fn driver_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(drivers); i++)
		if (strcmp(drivers[i].name, name) == 0)
			return drivers[i].fn;
	return NULL;
}

bool storage_has_driver_option(const Grpc__Storage *s, const char *name)
{
	for (size_t i = 0; i < s->n_driver_options; i++)
		if (!strcmp(s->driver_options[i], name))
			return true;
	return false;
}

/* Block volumes' driver options: create_filesystem for ext4 only; encryption needs CDH.
 */
static int block_options_validate(const Grpc__Storage *s, agent_error_t **err)
{
	static const char *const block[] = {"blk", "mmioblk", "scsi"};
	bool is_block = false;

	for (size_t i = 0; i < ARRAY_SIZE(block); i++)
		is_block |= !strcmp(s->driver, block[i]);
	if (!is_block)
		return 0;
	bool mkfs = storage_wants_mkfs(s);
	if (storage_has_driver_option(s, "encryption_key=ephemeral")) {
		if (!mkfs)
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "encryption_key=ephemeral requires "
						      "create_filesystem for block storage");
		return agent_error_set_status(err, GRPC_UNIMPLEMENTED, EOPNOTSUPP,
					      "encrypted block storage needs the confidential "
					      "data hub, which this agent does not run");
	}
	if (mkfs && strcmp(s->fstype, "ext4") != 0)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "creating filesystem %.32s for block storage is "
					      "unsupported (ext4 only)",
					      s->fstype);
	return 0;
}

int storage_validate(const Grpc__Storage *s, agent_error_t **err)
{
	if (!path_clean_under(s->mount_point, STORAGE_ROOT))
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "storage mount_point \"%s\" must be a clean path "
					      "under %s",
					      s->mount_point, STORAGE_ROOT);
	if (!strcmp(s->driver, "watchable-bind"))
		return watchable_validate(s, err);
	if (!strcmp(s->driver, "virtio-fs") || !strcmp(s->driver, "9p"))
		return storage_sharedfs_validate(s, err);
	if (driver_find(s->driver))
		return block_options_validate(s, err);
	for (size_t i = 0; i < ARRAY_SIZE(later_drivers); i++)
		if (strcmp(later_drivers[i], s->driver) == 0)
			return agent_error_set_status(err, GRPC_UNIMPLEMENTED, EOPNOTSUPP,
						      "storage driver %s is not supported yet",
						      s->driver);
	return agent_error_set_status(err, GRPC_INTERNAL, ENOENT,
				      "Failed to find the storage handler %s", s->driver);
}

/* 1 when this call mounted it (a new entry), 0 when it took one more reference. */
static int storage_add_one(struct storage_table *t, const struct storage_req *rq,
			   agent_error_t **err)
{
	const Grpc__Storage *s = rq->s;
	storage_driver_fn fn = driver_find(s->driver);
	struct storage_entry *e;
	int r;

	r = storage_validate(s, err);
	if (r < 0)
		return r;
	e = find(t, s->mount_point);
	if (e) {
		e->refs++;
		return 0;
	}
	if (t->n >= STORAGES_MAX)
		return agent_error_set_status(err, GRPC_RESOURCE_EXHAUSTED, ENOSPC,
					      "too many storages");
	e = calloc(1, sizeof(*e));
	if (!e || !(e->mount_point = strdup(s->mount_point))) {
		free(e);
		return agent_error_set(err, ENOMEM, "out of memory");
	}
	struct storage_req full = *rq;
	full.table = t;
	full.entry = e;
	r = fn(&full, &e->cleanup, err);
	if (r < 0) {
		watchable_release(t, e->watch);
		if (e->cleanup)
			storage_unmount(e->cleanup);
		free(e->cleanup);
		free(e->mount_point);
		free(e);
		return agent_error_wrap(err, "storage %s (%s)", s->mount_point, s->driver);
	}
	e->refs = 1;
	e->shared = s->shared;
	e->ephemeral_tmpfs = !strcmp(s->driver, "ephemeral") && !strcmp(s->fstype, "tmpfs");
	e->next = t->first;
	t->first = e;
	t->n++;
	return 1;
}

/* force: a shared entry that reaches no reference goes too, unless it was kept before. */
static void release_one(struct storage_table *t, const char *mp, bool force)
{
	struct storage_entry *e = find(t, mp);

	if (!e || --e->refs > 0)
		return;
	if (e->shared && (!force || e->kept)) {
		e->kept = true;
		return;
	}
	if (e->cleanup)
		storage_unmount(e->cleanup);
	entry_free(t, e);
}

static void release_all(struct storage_table *t, char **points, size_t n, bool force)
{
	for (size_t i = 0; i < n; i++) {
		if (!points[i])
			continue;
		release_one(t, points[i], force);
		free(points[i]);
	}
	free(points);
}

void storages_release(struct storage_table *t, char **points, size_t n)
{
	release_all(t, points, n, false);
}

void storages_undo(struct storage_table *t, char **points, size_t n)
{
	release_all(t, points, n, true);
}

int storages_add(struct storage_table *t, Grpc__Storage **st, size_t n, char *const *devs,
		 const char *cid, char ***ret_points, size_t *ret_n, agent_error_t **err)
{
	char **points = calloc(n + 1, sizeof(char *));
	size_t done = 0;
	int r;

	if (!points)
		return agent_error_set(err, ENOMEM, "out of memory");
	for (; done < n; done++) {
		struct storage_req rq = {
			.s = st[done],
			.source = devs && devs[done] ? devs[done] : st[done]->source,
			.cid = cid,
		};
		/* The name first: a reference is never taken without the name to drop it by. */
		points[done] = strdup(st[done]->mount_point);
		if (!points[done]) {
			r = agent_error_set(err, ENOMEM, "out of memory");
			goto fail;
		}
		r = storage_add_one(t, &rq, err);
		if (r < 0) {
			free(points[done]);
			goto fail;
		}
	}
	*ret_points = points;
	*ret_n = n;
	return 0;
fail:
	/* What this request mounted goes again, shared or not (release in reverse order). */
	for (size_t i = done; i-- > 0;) {
		release_one(t, points[i], true);
		free(points[i]);
	}
	free(points);
	return r;
}

void storage_table_release(struct storage_table *t)
{
	while (t->first)
		entry_free(t, t->first);
}
