// SPDX-License-Identifier: Apache-2.0
/* The mounting drivers: block devices, virtio-fs, 9p, overlay (spec 5.1). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "base/fsutil.h"
#include "base/mountinfo.h"
#include "container/mountopt.h"
#include "device/devmatch.h"
#include "device/pcipath.h"
#include "rpc/status.h"
#include "storage/storage-internal.h"

int storage_mount(const char *source, const char *target, const char *fstype, char *const *options,
		  size_t n_options, const char *extra, agent_error_t **err)
{
	struct mount_opts mo = {0};
	_cleanup_free_ char *data = NULL;
	char have[64];
	struct stat st;
	int r;

	r = mount_opts_parse(options, n_options, &mo, err);
	if (r < 0)
		return r;
	if (extra && *extra) {
		if (asprintf(&data, "%s%s%s", mo.data ? mo.data : "", mo.data ? "," : "", extra) <
		    0) {
			data = NULL;
			mount_opts_release(&mo);
			return agent_error_set(err, ENOMEM, "out of memory");
		}
	} else if (mo.data) {
		data = strdup(mo.data);
	}
	bool bind = (mo.flags & MS_BIND) || !strcmp(fstype, "bind");
	if (bind && stat(source, &st) == 0 && !S_ISDIR(st.st_mode)) {
		char parent[4096];
		snprintf(parent, sizeof(parent), "%s", target);
		char *slash = strrchr(parent, '/');
		if (slash && slash != parent)
			*slash = '\0';
		mkdir_p(parent, 0755);
		int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
	} else {
		r = mkdir_p(target, 0755);
		if (r < 0) {
			mount_opts_release(&mo);
			return agent_error_setsys(err, -r, "creating %s", target);
		}
	}
	if (!bind && mountinfo_fstype_at(target, have, sizeof(have)) && !strcmp(have, fstype) &&
	    !(mo.flags & MS_REMOUNT)) {
		mount_opts_release(&mo);
		return 0; /* already there */
	}
	unsigned long flags = mo.flags | (bind ? MS_BIND : 0);
	if (mount(source, target, bind ? NULL : fstype, flags, data) < 0) {
		r = agent_error_setsys(err, errno, "mounting %s (%s) on %s", source, fstype,
				       target);
		mount_opts_release(&mo);
		return r;
	}
	/* A bind takes ro/nosuid/... only through a remount. */
	if (bind && (flags & ~(unsigned long)(MS_BIND | MS_REC)) &&
	    mount(NULL, target, NULL, flags | MS_REMOUNT, NULL) < 0) {
		r = agent_error_setsys(err, errno, "remounting %s", target);
		umount2(target, MNT_DETACH);
		mount_opts_release(&mo);
		return r;
	}
	if (mo.propagation && mount(NULL, target, NULL, mo.propagation, NULL) < 0) {
		r = agent_error_setsys(err, errno, "propagation of %s", target);
		umount2(target, MNT_DETACH);
		mount_opts_release(&mo);
		return r;
	}
	mount_opts_release(&mo);
	return 0;
}

/* Group and mode bits of one entry (spec 5.1 fsGroup); symlinks are left alone. */
static int fs_group_one(int dirfd, const char *name, gid_t gid, bool ro, agent_error_t **err)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return agent_error_setsys(err, errno, "fsGroup: stat %s", name);
	if (S_ISLNK(st.st_mode))
		return 0;
	if (fchownat(dirfd, name, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return agent_error_setsys(err, errno, "fsGroup: chgrp %s", name);
	mode_t m = st.st_mode & 07777;
	m |= ro ? 0440 : 0660;
	if (S_ISDIR(st.st_mode))
		m |= 0110 | S_ISGID;
	if (fchmodat(dirfd, name, m, 0) < 0)
		return agent_error_setsys(err, errno, "fsGroup: chmod %s", name);
	return 0;
}

/* Walks the tree below dirfd (not following symlinks, not leaving the filesystem). */
static int fs_group_tree(int fd, dev_t dev, gid_t gid, bool ro, int depth, agent_error_t **err)
{
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (depth > 64)
		return agent_error_set(err, ELOOP, "fsGroup: directories nested too deep");
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return agent_error_setsys(err, errno, "fsGroup: opendir");
	}
	while (r >= 0 && (e = readdir(d))) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		r = fs_group_one(dirfd(d), e->d_name, gid, ro, err);
		if (r < 0 || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode) || st.st_dev != dev)
			continue;
		int sub = openat(dirfd(d), e->d_name,
				 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0)
			r = fs_group_tree(sub, dev, gid, ro, depth + 1, err);
	}
	closedir(d);
	return r;
}

/* fsGroup (spec 5.1): the volume's files become the pod's group, unless the root already is. */
static int apply_fs_group(const Grpc__Storage *s, agent_error_t **err)
{
	const Grpc__FSGroup *g = s->fs_group;
	bool ro = false;
	struct stat st;

	if (!g)
		return 0;
	for (size_t i = 0; i < s->n_options; i++)
		ro |= !strcmp(s->options[i], "ro");
	if (stat(s->mount_point, &st) < 0)
		return agent_error_setsys(err, errno, "fsGroup: %s", s->mount_point);
	mode_t want = (ro ? 0550 : 0770) | S_ISGID;
	if (g->group_change_policy == TYPES__FSGROUP_CHANGE_POLICY__OnRootMismatch &&
	    st.st_gid == g->group_id && (st.st_mode & want) == want)
		return 0;
	int r = fs_group_one(AT_FDCWD, s->mount_point, g->group_id, ro, err);
	if (r < 0)
		return r;
	int fd = open(s->mount_point, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return agent_error_setsys(err, errno, "fsGroup: %s", s->mount_point);
	return fs_group_tree(fd, st.st_dev, g->group_id, ro, 0, err);
}

static int mount_with_fsgid(const struct storage_req *rq, const char *fstype, const char *extra,
			    char **ret_cleanup, agent_error_t **err)
{
	const Grpc__Storage *s = rq->s;
	char **words = NULL;
	size_t n = 0;
	long fsgid, mode;
	int r = storage_split_options(s, &fsgid, &mode, &words, &n, err);

	if (r < 0)
		return r;
	/* Kata's own markers (io.katacontainers.*) are for the agent, not the kernel. */
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(words[i], "io.katacontainers.", 18) != 0)
			words[k++] = words[i];
	n = k;
	r = storage_mount(rq->source, s->mount_point, fstype, words, n, extra, err);
	free(words);
	if (r < 0)
		return r;
	*ret_cleanup = strdup(s->mount_point);
	r = apply_fs_group(s, err);
	if (r < 0)
		return r;
	return storage_apply_fsgid(s->mount_point, fsgid, -1, err);
}

int storage_driver_block(const struct storage_req *rq, char **ret_cleanup, agent_error_t **err)
{
	const Grpc__Storage *s = rq->s;
	struct stat st;

	if (strncmp(rq->source, "/dev/", 5) != 0 || strstr(rq->source, "/.."))
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "%s storage: source \"%s\" is not a device node",
					      s->driver, rq->source);
	if (stat(rq->source, &st) < 0)
		return agent_error_setsys(err, errno, "%s storage: %s", s->driver, rq->source);
	if (!S_ISBLK(st.st_mode))
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, ENOTBLK,
					      "%s storage: %s is not a block device", s->driver,
					      rq->source);
	/* create_filesystem: storage/mkfs.c formatted it before; the options were checked. */
	if (!s->fstype[0])
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "%s storage: fstype missing", s->driver);
	return mount_with_fsgid(rq, s->fstype, NULL, ret_cleanup, err);
}

int storage_driver_virtiofs(const struct storage_req *rq, char **ret_cleanup, agent_error_t **err)
{
	char have[64];

	/* The shared directory mounted by the guest's own init: leave it (spec 5.1). */
	if (!strcmp(rq->s->source, "kataShared") &&
	    mountinfo_fstype_at(rq->s->mount_point, have, sizeof(have))) {
		*ret_cleanup = NULL;
		return 0;
	}
	return mount_with_fsgid(rq, "virtiofs", NULL, ret_cleanup, err);
}

int storage_driver_9p(const struct storage_req *rq, char **ret_cleanup, agent_error_t **err)
{
	return mount_with_fsgid(rq, "9p", NULL, ret_cleanup, err);
}

#define OVERLAY_RW "io.katacontainers.fs-opt.overlay-rw"
#define OVERLAY_MKDIR "io.katacontainers.volume.overlayfs.create_directory="

int storage_driver_overlay(const struct storage_req *rq, char **ret_cleanup, agent_error_t **err)
{
	const Grpc__Storage *s = rq->s;
	_cleanup_free_ char *extra = NULL;
	bool rw = false;
	int r;

	for (size_t i = 0; i < s->n_options; i++)
		if (!strcmp(s->options[i], OVERLAY_RW))
			rw = true;
	for (size_t i = 0; i < s->n_driver_options; i++) {
		const char *o = s->driver_options[i];
		if (strncmp(o, OVERLAY_MKDIR, strlen(OVERLAY_MKDIR)) != 0)
			continue;
		const char *dir = o + strlen(OVERLAY_MKDIR);
		if (!storage_path_clean_under(dir, STORAGE_ROOT))
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "overlayfs storage: directory \"%s\" must be "
						      "a clean path under %s",
						      dir, STORAGE_ROOT);
		r = mkdir_p(dir, 0755);
		if (r < 0)
			return agent_error_setsys(err, -r, "creating %s", dir);
	}
	if (rw) {
		char upper[4096], work[4096];
		if (!rq->cid)
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "overlayfs storage: overlay-rw needs a "
						      "container");
		snprintf(upper, sizeof(upper), "%s/%s/upper", STORAGE_ROOT, rq->cid);
		snprintf(work, sizeof(work), "%s/%s/work", STORAGE_ROOT, rq->cid);
		if ((r = mkdir_p(upper, 0755)) < 0 || (r = mkdir_p(work, 0755)) < 0)
			return agent_error_setsys(err, -r, "creating the overlay's upper/work");
		if (asprintf(&extra, "upperdir=%s,workdir=%s", upper, work) < 0) {
			extra = NULL;
			return agent_error_set(err, ENOMEM, "out of memory");
		}
	}
	return mount_with_fsgid(rq, "overlay", extra, ret_cleanup, err);
}

int storage_device_match(const Grpc__Storage *s, struct dev_match *ret, agent_error_t **err)
{
	struct stat st;

	if (!strcmp(s->driver, "blk")) {
		struct pci_path pp;
		struct pci_sysfs_path sp;
		if (!strncmp(s->source, "/dev/", 5))
			return 0;
		if (pci_path_parse(s->source, &pp, err) < 0 ||
		    pci_path_resolve(NULL, &pp, &sp, err) < 0 ||
		    dev_match_virtio_blk_pci(ret, &sp, s->source, err) < 0)
			return -EINVAL;
		return 1;
	}
	if (!strcmp(s->driver, "mmioblk") || !strcmp(s->driver, "nvdimm")) {
		if (stat(s->source, &st) == 0)
			return 0;
		return (!strcmp(s->driver, "mmioblk")
				? dev_match_virtio_blk_mmio(ret, s->source, err)
				: dev_match_pmem(ret, s->source, err)) < 0
			       ? -EINVAL
			       : 1;
	}
	if (!strcmp(s->driver, "scsi")) {
		if (dev_match_scsi(ret, s->source, err) < 0)
			return -EINVAL;
		/* Ask every SCSI host to look for it; the kernel says when it is there. */
		agent_error_t *scan_err = NULL;
		scsi_scan_hosts(NULL, s->source, &scan_err);
		agent_error_free(scan_err);
		return 1;
	}
	return 0;
}
