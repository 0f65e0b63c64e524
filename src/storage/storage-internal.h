/* SPDX-License-Identifier: Apache-2.0 */
/* What the storage drivers share. */
#ifndef AGENT_STORAGE_STORAGE_INTERNAL_H
#define AGENT_STORAGE_STORAGE_INTERNAL_H

#include <stdbool.h>

#include "storage/storage.h"

struct storage_req {
	const Grpc__Storage *s;
	const char *source; /* the device found for it, or s->source */
	const char *cid; /* NULL for the sandbox's storages */
	struct storage_table *table;
	struct storage_entry *entry; /* being added */
};

typedef int (*storage_driver_fn)(const struct storage_req *rq, char **ret_cleanup,
				 agent_error_t **err);

#define STORAGE_SHARED_ROOT STORAGE_ROOT "/shared"

bool storage_has_driver_option(const Grpc__Storage *s, const char *name);
/*
 * A resolution result r (fd or -errno from base/pathres.h) as the caller's
 * return: an escape or a symlink on the way is INVALID_ARGUMENT.
 */
int storage_path_error(int r, const char *what, const char *path, agent_error_t **err);
/*
 * The mount point below STORAGE_ROOT, made when missing (a directory, or an
 * empty file when !dir), reached with no symlink on the way: an O_PATH fd to
 * mount on (through /proc/self/fd/N) and to change, never the name again.
 */
int storage_target(const char *mp, bool dir, agent_error_t **err);
/*
 * A host-given source path (a bind source, an overlay layer): under the shared
 * directory or the container's own directory (STORAGE_ROOT/cid), resolved
 * with no symlink on the way. An O_PATH fd.
 */
int storage_source(const char *path, const char *cid, agent_error_t **err);
/* Detaches what is mounted on mp (resolved as storage_target does) and removes the
 * directory when empty. */
void storage_unmount(const char *mp);
/* "fsgid=N" and (local only) "mode=NNN" taken out; the other words in *ret, which has
 * room for one more. */
int storage_split_options(const Grpc__Storage *s, long *fsgid, long *mode, char ***ret,
			  size_t *ret_n, agent_error_t **err);
/* Group fsgid (and mode) of the object fd (O_PATH, not a symlink) names. */
int storage_apply_fsgid(int fd, long fsgid, long mode, agent_error_t **err);

/*
 * The common mount: option words to flags and data, the mount point made (a
 * file for a bind of a non-directory) and resolved by storage_target, skipped
 * when already mounted with fstype, propagation applied after. A bind's
 * source goes through storage_source. rq->source is mounted on
 * rq->s->mount_point. extra: data appended (or NULL).
 */
int storage_mount(const struct storage_req *rq, const char *fstype, char *const *options,
		  size_t n_options, const char *extra, agent_error_t **err);

/* virtio-fs and 9p: only the option words the runtimes send (INVALID_ARGUMENT naming another). */
int storage_sharedfs_validate(const Grpc__Storage *s, agent_error_t **err);

int storage_driver_block(const struct storage_req *rq, char **ret_cleanup, agent_error_t **err);
int storage_driver_virtiofs(const struct storage_req *rq, char **ret_cleanup, agent_error_t **err);
int storage_driver_9p(const struct storage_req *rq, char **ret_cleanup, agent_error_t **err);
int storage_driver_overlay(const struct storage_req *rq, char **ret_cleanup, agent_error_t **err);

#endif
