// SPDX-License-Identifier: Apache-2.0
/*
 * UpdateEphemeralMounts: the runtime resizes the tmpfs behind an emptyDir
 * volume after a memory hot-plug (kata_agent.go sends ["remount",
 * "size=<MiB>M", optional "fsgid=<gid>"] for each). Each storage must name a
 * tmpfs that an `ephemeral` storage of the table mounted; the remount goes
 * through an fd of that tmpfs's root resolved with no symlink on the way. Only
 * the tmpfs's size limits change: the mount's own flags (noexec, nosuid, ...,
 * as the storage asked for them) are kept, and a flag word may only add a
 * restriction. The whole request is checked before the first remount; a
 * kernel refusal midway puts back the sizes already changed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/pathres.h"
#include "base/status.h"
#include "storage/storage-internal.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

#define EPH_VALUE_MAX 32 /* a number with a suffix: longer is not a size */
#define EPH_DATA_MAX 128 /* size=,nr_blocks=,nr_inodes= with their values */

/* What one storage asks for, checked: the tmpfs data and the flags to add. */
struct eph_update {
	char data[EPH_DATA_MAX];
	unsigned long add_flags;
	bool noop; /* no options: nothing to change (as upstream) */
};

/* The mount flags statvfs reports, as mount(2) takes them back on a remount. */
static const struct {
	unsigned long st, ms;
} kept_flags[] = {
	{ST_RDONLY, MS_RDONLY},	    {ST_NOSUID, MS_NOSUID},
	{ST_NODEV, MS_NODEV},	    {ST_NOEXEC, MS_NOEXEC},
	{ST_NOATIME, MS_NOATIME},   {ST_NODIRATIME, MS_NODIRATIME},
	{ST_RELATIME, MS_RELATIME}, {ST_SYNCHRONOUS, MS_SYNCHRONOUS},
};

/* Flag words that only restrict. */
static const struct {
	const char *word;
	unsigned long ms;
} restricting[] = {
	{"ro", MS_RDONLY},     {"nosuid", MS_NOSUID},	{"nodev", MS_NODEV},
	{"noexec", MS_NOEXEC}, {"noatime", MS_NOATIME}, {"nodiratime", MS_NODIRATIME},
};

static int bad_option(const Grpc__Storage *s, const char *w, size_t n, agent_error_t **err)
{
	return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
				      "ephemeral storage %.256s: option \"%.*s\" is not one "
				      "UpdateEphemeralMounts takes (remount, size=, nr_blocks=, "
				      "nr_inodes=, fsgid=, and ro/nosuid/nodev/noexec/noatime/"
				      "nodiratime)",
				      s->mount_point, (int)(n < 64 ? n : 64), w);
}

/* "N[kKmMgGtTpPeE]" (and "N%" for size=), N decimal, as tmpfs reads them. */
static bool tmpfs_number(const char *v, size_t n, bool percent)
{
	size_t digits = strspn(v, "0123456789");

	if (digits == 0 || n > EPH_VALUE_MAX || digits + 1 < n)
		return false;
	if (digits == n)
		return true;
	return strchr("kKmMgGtTpPeE", v[digits]) || (percent && v[digits] == '%');
}

/* One word of the options (a storage's option may hold several, comma-separated). */
static int parse_word(const Grpc__Storage *s, const char *w, size_t n, struct eph_update *u,
		      agent_error_t **err)
{
	static const struct {
		const char *key;
		bool percent;
	} sizes[] = {{"size=", true}, {"nr_blocks=", false}, {"nr_inodes=", false}};

	if (n == 7 && !strncmp(w, "remount", 7))
		return 0; /* what this call does anyway */
	if (n > 6 && !strncmp(w, "fsgid=", 6)) {
		/* The group was set when the storage was made; upstream leaves it too. */
		if (strspn(w + 6, "0123456789") != n - 6 || n - 6 > 10)
			return bad_option(s, w, n, err);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(restricting); i++) {
		if (strlen(restricting[i].word) == n && !strncmp(w, restricting[i].word, n)) {
			u->add_flags |= restricting[i].ms;
			return 0;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t kl = strlen(sizes[i].key);
		if (n <= kl || strncmp(w, sizes[i].key, kl) != 0)
			continue;
		if (!tmpfs_number(w + kl, n - kl, sizes[i].percent))
			return bad_option(s, w, n, err);
		size_t used = strlen(u->data);
		if (used + n + 2 > sizeof(u->data))
			return bad_option(s, w, n, err);
		snprintf(u->data + used, sizeof(u->data) - used, "%s%.*s", used ? "," : "", (int)n,
			 w);
		return 0;
	}
	return bad_option(s, w, n, err);
}

static bool same_point(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	while (na > 1 && a[na - 1] == '/')
		na--;
	while (nb > 1 && b[nb - 1] == '/')
		nb--;
	return na == nb && !strncmp(a, b, na);
}

/* The input alone: driver, fstype, options, and a mount point an ephemeral tmpfs holds. */
static int check_one(const struct storage_table *t, const Grpc__Storage *s, struct eph_update *u,
		     agent_error_t **err)
{
	const struct storage_entry *e;

	*u = (struct eph_update){0};
	if (strcmp(s->driver, "ephemeral") != 0)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "Unsupported storage type for syncing mounts "
					      "\"%.64s\": only ephemeral storages are updated",
					      s->driver);
	if (strcmp(s->fstype, "tmpfs") != 0)
		return agent_error_set_status(
			err, GRPC_INVALID_ARGUMENT, EINVAL,
			"ephemeral storage %.256s: fstype \"%.32s\" cannot be "
			"updated (tmpfs only)",
			s->mount_point, s->fstype);
	if (!path_clean_under(s->mount_point, STORAGE_ROOT))
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "storage mount_point \"%.256s\" must be a clean path "
					      "under %s",
					      s->mount_point, STORAGE_ROOT);
	for (e = t->first; e; e = e->next)
		if (e->ephemeral_tmpfs && same_point(e->mount_point, s->mount_point))
			break;
	if (!e)
		return agent_error_set_status(err, GRPC_NOT_FOUND, ENOENT,
					      "no ephemeral tmpfs storage is mounted at %.256s",
					      s->mount_point);
	u->noop = s->n_options == 0;
	for (size_t i = 0; i < s->n_options; i++) {
		for (const char *w = s->options[i];;) {
			size_t n = strcspn(w, ",");
			int r = parse_word(s, w, n, u, err);
			if (r < 0)
				return r;
			if (!w[n])
				break;
			w += n + 1;
		}
	}
	return 0;
}

/*
 * The root of the tmpfs at mp, resolved with no symlink: an O_PATH fd, its
 * flags as mount(2) takes them and its current limits as tmpfs options.
 */
static int open_tmpfs_root(const char *mp, unsigned long *ret_flags, char *ret_limits,
			   size_t limits_size, agent_error_t **err)
{
	struct statfs sfs;
	struct statvfs sv;
	struct stat st, pst;
	const char *base;

	_cleanup_close_ int fd = pathres_open_under(STORAGE_ROOT, mp, O_PATH | O_DIRECTORY);
	if (fd < 0)
		return storage_path_error(fd, "ephemeral storage", mp, err);
	_cleanup_close_ int pfd = pathres_parent_under(STORAGE_ROOT, mp, false, 0, &base);
	if (pfd < 0)
		return storage_path_error(pfd, "ephemeral storage", mp, err);
	if (fstatfs(fd, &sfs) < 0 || fstatvfs(fd, &sv) < 0 || fstat(fd, &st) < 0 ||
	    fstat(pfd, &pst) < 0)
		return agent_error_setsys(err, errno, "ephemeral storage %.256s", mp);
	/* Another filesystem than its parent's: the root of a mount, not a directory in one. */
	if ((unsigned long)sfs.f_type != TMPFS_MAGIC || st.st_dev == pst.st_dev)
		return agent_error_set_status(err, GRPC_FAILED_PRECONDITION, EINVAL,
					      "ephemeral storage %.256s is no longer a tmpfs mount",
					      mp);
	*ret_flags = 0;
	for (size_t i = 0; i < ARRAY_SIZE(kept_flags); i++)
		if (sv.f_flag & kept_flags[i].st)
			*ret_flags |= kept_flags[i].ms;
	/* tmpfs reports its limits in pages (0: none), which is what size= and nr_inodes= set. */
	snprintf(ret_limits, limits_size, "size=%llu,nr_inodes=%llu",
		 (unsigned long long)sfs.f_blocks * (unsigned long long)sfs.f_bsize,
		 (unsigned long long)sfs.f_files);
	return TAKE_FD(fd);
}

static int remount_fd(int fd, unsigned long flags, const char *data)
{
	char proc[32];

	return mount(NULL, pathres_proc(fd, proc, sizeof(proc)), "tmpfs", MS_REMOUNT | flags,
		     data) < 0
		       ? -errno
		       : 0;
}

/* Puts back what the first n storages had (their limits), newest first. */
static void undo(const Grpc__Storage *const *st, const struct eph_update *u, char (*limits)[96],
		 const unsigned long *flags, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		agent_error_t *e = NULL;
		if (u[i].noop)
			continue;
		unsigned long f;
		char now[96];
		int fd = open_tmpfs_root(st[i]->mount_point, &f, now, sizeof(now), &e);
		int r = fd < 0 ? fd : remount_fd(fd, flags[i], limits[i]);
		safe_close(fd);
		if (r < 0)
			log_warn("storage",
				 "ephemeral storage %s: its size could not be put back: %s",
				 st[i]->mount_point, e ? e->msg : strerror(-r));
		agent_error_free(e);
	}
}

int storages_update_ephemeral(struct storage_table *t, Grpc__Storage *const *st, size_t n,
			      agent_error_t **err)
{
	int r = 0;

	if (n > STORAGES_MAX)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, E2BIG,
					      "%zu storages: at most %d per request", n,
					      STORAGES_MAX);
	struct eph_update *u = calloc(n ? n : 1, sizeof(*u));
	char(*limits)[96] = calloc(n ? n : 1, sizeof(*limits));
	unsigned long *flags = calloc(n ? n : 1, sizeof(*flags));
	if (!u || !limits || !flags) {
		r = agent_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	/* Everything checked before the first remount: the input, then each mount as it is. */
	for (size_t i = 0; i < n && r >= 0; i++)
		r = check_one(t, st[i], &u[i], err);
	for (size_t i = 0; i < n && r >= 0; i++) {
		int fd = open_tmpfs_root(st[i]->mount_point, &flags[i], limits[i],
					 sizeof(limits[i]), err);
		r = fd < 0 ? fd : 0;
		safe_close(fd);
	}
	size_t done = 0;
	for (; done < n && r >= 0; done++) {
		if (u[done].noop)
			continue;
		int fd = open_tmpfs_root(st[done]->mount_point, &flags[done], limits[done],
					 sizeof(limits[done]), err);
		if (fd < 0) {
			r = fd;
			break;
		}
		r = remount_fd(fd, flags[done] | u[done].add_flags, u[done].data);
		close(fd);
		if (r < 0) {
			r = agent_error_setsys(err, -r,
					       "remounting ephemeral storage %.256s with %s",
					       st[done]->mount_point, u[done].data);
			break;
		}
		log_info("storage", "ephemeral storage %s remounted with %s", st[done]->mount_point,
			 u[done].data);
	}
	if (r < 0 && done > 0)
		undo((const Grpc__Storage *const *)st, u, limits, flags, done);
out:
	free(u);
	free(limits);
	free(flags);
	return r;
}
