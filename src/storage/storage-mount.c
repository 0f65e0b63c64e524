// SPDX-License-Identifier: Apache-2.0
/* The mounting drivers: block devices, virtio-fs, 9p, overlay. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "base/fsutil.h"
#include "base/pathres.h"
#include "base/strbuf.h"
#include "base/mountinfo.h"
#include "container/mountopt.h"
#include "device/devmatch.h"
#include "device/pcipath.h"
#include "base/status.h"
#include "storage/storage-internal.h"

int storage_mount(const struct storage_req *rq, const char *fstype, char *const *options,
		  size_t n_options, const char *extra, agent_error_t **err)
{
	const char *target = rq->s->mount_point;
	struct mount_opts mo = {0};
	_cleanup_free_ char *data = NULL;
	_cleanup_close_ int srcfd = -1, tfd = -1, top = -1;
	char have[64], sproc[32], tproc[32];
	const char *source = rq->source;
	struct stat st;
	int r;

	r = mount_opts_parse(options, n_options, &mo, err);
	if (r < 0)
		return r;
	if (extra && *extra) {
		if (asprintf(&data, "%s%s%s", mo.data ? mo.data : "", mo.data ? "," : "", extra) <
		    0) {
			data = NULL;
			r = agent_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
	} else if (mo.data) {
		data = strdup(mo.data);
	}
	bool bind = (mo.flags & MS_BIND) || !strcmp(fstype, "bind");
	bool dir = true;
	if (bind) {
		/* A bind source is a host-given path: kept in the share, bound through its fd. */
		srcfd = storage_source(source, rq->cid, err);
		if (srcfd < 0) {
			r = srcfd;
			goto out;
		}
		if (fstat(srcfd, &st) < 0) {
			r = agent_error_setsys(err, errno, "stat %s", source);
			goto out;
		}
		dir = S_ISDIR(st.st_mode);
		source = pathres_proc(srcfd, sproc, sizeof(sproc));
	}
	tfd = storage_target(target, dir, err);
	if (tfd < 0) {
		r = tfd;
		goto out;
	}
	if (!bind && mountinfo_fstype_at(target, have, sizeof(have)) && !strcmp(have, fstype) &&
	    !(mo.flags & MS_REMOUNT)) {
		r = 0; /* already there */
		goto out;
	}
	unsigned long flags = mo.flags | (bind ? MS_BIND : 0);
	if (mount(source, pathres_proc(tfd, tproc, sizeof(tproc)), bind ? NULL : fstype, flags,
		  data) < 0) {
		r = agent_error_setsys(err, errno, "mounting %s (%s) on %s", rq->source, fstype,
				       target);
		goto out;
	}
	/* The fd holds what was under the mount: the mount itself is reached afresh. */
	top = storage_target(target, dir, err);
	if (top < 0) {
		umount2(tproc, MNT_DETACH);
		r = top;
		goto out;
	}
	pathres_proc(top, tproc, sizeof(tproc));
	/* A bind takes ro/nosuid/... only through a remount. */
	if (bind && (flags & ~(unsigned long)(MS_BIND | MS_REC)) &&
	    mount(NULL, tproc, NULL, flags | MS_REMOUNT, NULL) < 0) {
		r = agent_error_setsys(err, errno, "remounting %s", target);
		umount2(tproc, MNT_DETACH);
		goto out;
	}
	if (mo.propagation && mount(NULL, tproc, NULL, mo.propagation, NULL) < 0) {
		r = agent_error_setsys(err, errno, "propagation of %s", target);
		umount2(tproc, MNT_DETACH);
		goto out;
	}
	r = 0;
out:
	mount_opts_release(&mo);
	return r;
}

/*
 * Group and mode bits of one entry (fsGroup); symlinks are left alone. Changed
 * through an O_PATH fd of the very inode checked: a name swapped for a symlink
 * after the check changes nothing outside the volume. *ret_fd: the fd, kept
 * for a directory to descend into (else -1).
 */
static int fs_group_one(int dirfd, const char *name, gid_t gid, bool ro, struct stat *ret_st,
			int *ret_fd, agent_error_t **err)
{
	_cleanup_close_ int fd =
		openat(dirfd, name[0] ? name : ".", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	char proc[32];
	struct stat st;

	*ret_fd = -1;
	if (fd < 0 || fstat(fd, &st) < 0)
		return agent_error_setsys(err, errno, "fsGroup: %s", name);
	*ret_st = st;
	if (S_ISLNK(st.st_mode))
		return 0;
	if (fchownat(fd, "", (uid_t)-1, gid, AT_EMPTY_PATH) < 0)
		return agent_error_setsys(err, errno, "fsGroup: chgrp %s", name);
	mode_t m = st.st_mode & 07777;
	m |= ro ? 0440 : 0660;
	if (S_ISDIR(st.st_mode))
		m |= 0110 | S_ISGID;
	if (chmod(pathres_proc(fd, proc, sizeof(proc)), m) < 0)
		return agent_error_setsys(err, errno, "fsGroup: chmod %s", name);
	if (S_ISDIR(st.st_mode))
		*ret_fd = TAKE_FD(fd);
	return 0;
}

/* Walks the tree below fd (not following symlinks, not leaving the filesystem). */
static int fs_group_tree(int pathfd, dev_t dev, gid_t gid, bool ro, int depth, agent_error_t **err)
{
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (depth > 64)
		return agent_error_set(err, ELOOP, "fsGroup: directories nested too deep");
	/* Read through the same inode that was changed: "." of its O_PATH fd. */
	int fd = openat(pathfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return agent_error_setsys(err, errno, "fsGroup: open");
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return agent_error_setsys(err, errno, "fsGroup: opendir");
	}
	while (r >= 0 && (e = readdir(d))) {
		struct stat st;
		int sub = -1;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		r = fs_group_one(dirfd(d), e->d_name, gid, ro, &st, &sub, err);
		if (r >= 0 && sub >= 0 && st.st_dev == dev)
			r = fs_group_tree(sub, dev, gid, ro, depth + 1, err);
		safe_close(sub);
	}
	closedir(d);
	return r;
}

/* fsGroup: the volume's files become the pod's group, unless the root already is. */
static int apply_fs_group(const Grpc__Storage *s, agent_error_t **err)
{
	const Grpc__FSGroup *g = s->fs_group;
	bool ro = false;
	struct stat st;

	if (!g)
		return 0;
	for (size_t i = 0; i < s->n_options; i++)
		ro |= !strcmp(s->options[i], "ro");
	_cleanup_close_ int root = pathres_open_under(STORAGE_ROOT, s->mount_point, O_PATH);
	if (root < 0)
		return storage_path_error(root, "fsGroup: mount point", s->mount_point, err);
	if (fstat(root, &st) < 0)
		return agent_error_setsys(err, errno, "fsGroup: %s", s->mount_point);
	mode_t want = (ro ? 0550 : 0770) | S_ISGID;
	if (g->group_change_policy == TYPES__FSGROUP_CHANGE_POLICY__OnRootMismatch &&
	    st.st_gid == g->group_id && (st.st_mode & want) == want)
		return 0;
	int sub = -1;
	int r = fs_group_one(root, "", g->group_id, ro, &st, &sub, err);
	if (r >= 0 && sub >= 0)
		r = fs_group_tree(sub, st.st_dev, g->group_id, ro, 0, err);
	safe_close(sub);
	return r;
}

/* Kata's own markers (io.katacontainers.*) are for the agent, not the kernel. */
static bool kata_marker(const char *o)
{
	return strncmp(o, "io.katacontainers.", 18) == 0;
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
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!kata_marker(words[i]))
			words[k++] = words[i];
	n = k;
	r = storage_mount(rq, fstype, words, n, extra, err);
	free(words);
	if (r < 0)
		return r;
	*ret_cleanup = strdup(s->mount_point);
	if (!*ret_cleanup)
		return agent_error_set(err, ENOMEM, "out of memory");
	r = apply_fs_group(s, err);
	if (r < 0 || fsgid < 0)
		return r;
	_cleanup_close_ int fd = pathres_open_under(STORAGE_ROOT, s->mount_point, O_PATH);
	if (fd < 0)
		return storage_path_error(fd, "mount point", s->mount_point, err);
	return storage_apply_fsgid(fd, fsgid, -1, err);
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

/*
 * What virtio-fs and 9p storages may carry: the words the runtimes send (the Go
 * runtime's "trans=virtio,version=9p2000.L,cache=mmap", "nodev", "msize=N" for
 * 9p and "dax" for virtio-fs; runtime-rs's "nodev"), the mount flags that only
 * restrict, a bind (its source confined by storage_source), fsgid= and Kata's
 * markers. Anything else could reach the kernel's filesystem options: 9p over
 * the agent's own descriptors (trans=fd), a remount, a propagation change.
 */
static const char *const sharedfs_flags[] = {
	"ro",	      "rw",	  "nodev",	 "nosuid",   "noexec", "noatime",
	"nodiratime", "relatime", "strictatime", "lazytime", "bind",   "rbind",
};
static const char *const virtiofs_words[] = {"dax", "dax=always", "dax=never", "dax=inode"};
static const char *const p9_words[] = {"trans=virtio", "version=9p2000.L", "cache=none",
				       "cache=loose",  "cache=fscache",	   "cache=mmap"};

static bool word_in(const char *w, size_t n, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(list[i]) == n && !strncmp(w, list[i], n))
			return true;
	return false;
}

/* "msize=N": N decimal, 1..2^31-1 (the kernel takes an int). */
static bool p9_msize_ok(const char *w, size_t n)
{
	if (n <= 6 || n > 6 + 10 || strncmp(w, "msize=", 6) != 0)
		return false;
	unsigned long long v = 0;
	for (size_t i = 6; i < n; i++) {
		if (w[i] < '0' || w[i] > '9')
			return false;
		v = v * 10 + (unsigned)(w[i] - '0');
	}
	return v > 0 && v <= 0x7fffffff;
}

int storage_sharedfs_validate(const Grpc__Storage *s, agent_error_t **err)
{
	bool p9 = !strcmp(s->driver, "9p");

	for (size_t i = 0; i < s->n_options; i++) {
		const char *o = s->options[i];
		if (kata_marker(o) || !strncmp(o, "fsgid=", 6))
			continue; /* taken out before mounting (fsgid= checked there) */
		for (const char *w = o;;) {
			size_t n = strcspn(w, ",");
			bool ok = word_in(w, n, sharedfs_flags, ARRAY_SIZE(sharedfs_flags)) ||
				  (p9 ? word_in(w, n, p9_words, ARRAY_SIZE(p9_words)) ||
						   p9_msize_ok(w, n)
				      : word_in(w, n, virtiofs_words, ARRAY_SIZE(virtiofs_words)));
			if (!ok)
				return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
							      "%s storage: option \"%.*s\" is not "
							      "one it takes",
							      s->driver, (int)(n < 256 ? n : 256),
							      w);
			if (!w[n])
				break;
			w += n + 1;
		}
	}
	return 0;
}

int storage_driver_virtiofs(const struct storage_req *rq, char **ret_cleanup, agent_error_t **err)
{
	char have[64];

	/* The shared directory mounted by the guest's own init: leave it. */
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
#define OVERLAY_MAX_LAYERS 128

/* overlayfs data options that name no path: passed on as given. */
static const char *const overlay_plain[] = {"index=",	"xino=",     "redirect_dir=", "metacopy=",
					    "volatile", "userxattr", "nfs_export=",   "uuid="};

struct overlay_opts {
	char **words; /* rewritten options (malloc'd strings) */
	size_t n;
	int fds[OVERLAY_MAX_LAYERS + 2]; /* the layers, held until the mount is made */
	size_t n_fds;
};

static void overlay_opts_release(struct overlay_opts *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->words[i]);
	free(o->words);
	for (size_t i = 0; i < o->n_fds; i++)
		safe_close(o->fds[i]);
}

/*
 * "key=dir[:dir...]": each directory under the share or the container's own
 * directory, resolved with no symlink, and named by its /proc/self/fd link in
 * what goes to the kernel, so no rename after the check can redirect a layer.
 */
static int overlay_layers(const struct storage_req *rq, const char *word, size_t keylen, bool many,
			  struct overlay_opts *o, char **ret, agent_error_t **err)
{
	_cleanup_free_ char *copy = strdup(word + keylen);
	struct strbuf out;
	char *save = NULL;
	size_t count = 0;

	strbuf_init(&out, 4096);
	if (!copy)
		return agent_error_set(err, ENOMEM, "out of memory");
	if (!copy[0] || strchr(copy, '\\') || strstr(copy, "::") || copy[strlen(copy) - 1] == ':')
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "overlayfs storage: bad option \"%.256s\"", word);
	strbuf_addf(&out, "%.*s", (int)keylen, word);
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char proc[32];
		if ((count++ && !many) || o->n_fds >= ARRAY_SIZE(o->fds)) {
			strbuf_release(&out);
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, E2BIG,
						      "overlayfs storage: too many layers in "
						      "\"%.64s...\"",
						      word);
		}
		int fd = storage_source(dir, rq->cid, err);
		if (fd < 0) {
			strbuf_release(&out);
			return agent_error_wrap(err, "overlayfs storage");
		}
		o->fds[o->n_fds++] = fd;
		strbuf_addf(&out, "%s%s", count > 1 ? ":" : "",
			    pathres_proc(fd, proc, sizeof(proc)));
	}
	if (out.oom) {
		strbuf_release(&out);
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, E2BIG,
					      "overlayfs storage: option too long");
	}
	*ret = strbuf_steal(&out);
	if (!*ret)
		return agent_error_set(err, ENOMEM, "out of memory");
	return 0;
}

/*
 * The options an overlayfs storage may carry: mount flags, Kata's markers,
 * lowerdir/upperdir/workdir confined as overlay_layers does, and the
 * overlay options that name no path. Anything else is refused.
 */
static int overlay_rewrite(const struct storage_req *rq, struct overlay_opts *o,
			   agent_error_t **err)
{
	const Grpc__Storage *s = rq->s;
	static const struct {
		const char *key;
		bool many;
	} layers[] = {{"lowerdir=", true}, {"upperdir=", false}, {"workdir=", false}};

	o->words = calloc(s->n_options + 1, sizeof(char *));
	if (!o->words)
		return agent_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < s->n_options; i++) {
		const char *w = s->options[i];
		char *out = NULL;
		bool done = false;
		int r;

		for (size_t k = 0; k < ARRAY_SIZE(layers) && !done; k++) {
			size_t kl = strlen(layers[k].key);
			if (strncmp(w, layers[k].key, kl) != 0)
				continue;
			r = overlay_layers(rq, w, kl, layers[k].many, o, &out, err);
			if (r < 0)
				return r;
			done = true;
		}
		for (size_t k = 0; k < ARRAY_SIZE(overlay_plain) && !done; k++) {
			size_t kl = strlen(overlay_plain[k]);
			done = !strncmp(w, overlay_plain[k], kl) &&
			       (overlay_plain[k][kl - 1] == '=' || !w[kl]);
		}
		if (!done && !kata_marker(w) && !strchr(w, '=') && !strchr(w, '/')) {
			/* A flag word (ro, nosuid, ...): mount_opts_parse knows it or refuses. */
			struct mount_opts mo = {0};
			char *one[] = {(char *)w};
			done = mount_opts_parse(one, 1, &mo, NULL) == 0 && !mo.data;
			mount_opts_release(&mo);
		}
		done |= kata_marker(w) || !strncmp(w, "fsgid=", 6);
		if (!done)
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "overlayfs storage: option \"%.256s\" is not "
						      "one it takes",
						      w);
		o->words[o->n] = out ? out : strdup(w);
		if (!o->words[o->n++])
			return agent_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

int storage_driver_overlay(const struct storage_req *rq, char **ret_cleanup, agent_error_t **err)
{
	const Grpc__Storage *s = rq->s;
	_cleanup_free_ char *extra = NULL;
	struct overlay_opts o = {0};
	bool rw = false;
	int r;

	for (size_t i = 0; i < s->n_options; i++)
		if (!strcmp(s->options[i], OVERLAY_RW))
			rw = true;
	for (size_t i = 0; i < s->n_driver_options; i++) {
		const char *dopt = s->driver_options[i];
		if (strncmp(dopt, OVERLAY_MKDIR, strlen(OVERLAY_MKDIR)) != 0)
			continue;
		const char *dir = dopt + strlen(OVERLAY_MKDIR);
		if (!path_clean_under(dir, STORAGE_ROOT))
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "overlayfs storage: directory \"%s\" must be "
						      "a clean path under %s",
						      dir, STORAGE_ROOT);
		r = pathres_mkdir_under(STORAGE_ROOT, dir, 0755);
		if (r < 0)
			return storage_path_error(r, "overlayfs storage: directory", dir, err);
		close(r);
	}
	if (rw) {
		char upper[4096], work[4096];
		if (!rq->cid)
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "overlayfs storage: overlay-rw needs a "
						      "container");
		snprintf(upper, sizeof(upper), "%s/%s/upper", STORAGE_ROOT, rq->cid);
		snprintf(work, sizeof(work), "%s/%s/work", STORAGE_ROOT, rq->cid);
		int u = pathres_mkdir_under(STORAGE_ROOT, upper, 0755);
		int w = u < 0 ? u : pathres_mkdir_under(STORAGE_ROOT, work, 0755);
		if (u >= 0)
			close(u);
		if (w < 0)
			return storage_path_error(w, "overlayfs storage: upper/work", upper, err);
		close(w);
		if (asprintf(&extra, "upperdir=%s,workdir=%s", upper, work) < 0) {
			extra = NULL;
			return agent_error_set(err, ENOMEM, "out of memory");
		}
	}
	r = overlay_rewrite(rq, &o, err);
	if (r >= 0) {
		Grpc__Storage copy = *s;
		struct storage_req crq = *rq;
		copy.options = o.words;
		copy.n_options = o.n;
		crq.s = &copy;
		r = mount_with_fsgid(&crq, "overlay", extra, ret_cleanup, err);
	}
	overlay_opts_release(&o);
	return r;
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
