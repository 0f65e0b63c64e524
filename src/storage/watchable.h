/* SPDX-License-Identifier: Apache-2.0 */
/*
 * watchable-bind storages: a host-shared file or directory (a
 * configmap, a secret) mirrored by copy into a tmpfs on the watchable
 * directory, kept up to date from inotify events on the source and from a
 * rescan every 2 s (virtio-fs raises no events for changes made on the host).
 * A source over 16 entries or 1 MiB falls back to a plain bind mount and is
 * no longer watched.
 */
#ifndef AGENT_STORAGE_WATCHABLE_H
#define AGENT_STORAGE_WATCHABLE_H

#include <stdint.h>
#include <sys/stat.h>

#include "base/error.h"
#include "storage/storage-internal.h"

#define WATCHABLE_MAX_ENTRIES 16 /* the root included */
#define WATCHABLE_MAX_BYTES (1024 * 1024)
#define WATCHABLE_RESCAN_MS 2000

/* What a source looked like at the last mirror: "" is the root, then "a", "a/b", ... */
struct watchable_entry {
	char *rel;
	struct stat st;
};

struct watchable_snap {
	struct watchable_entry e[WATCHABLE_MAX_ENTRIES];
	size_t n;
	uint64_t bytes;
};

/*
 * Brings dst (a file or directory, its parent must exist) in line with src,
 * comparing src with *state (the last mirror; zeroed the first time) and
 * updating *state. Symlinks are copied as symlinks, never followed; files are
 * replaced by rename of a copy in the same directory (readers see the old or
 * the new file, whole); directories, then files, then symlinks are updated
 * before anything is removed (the Kubernetes atomic writer's `..data` swap).
 * Returns the number of entries changed, -E2BIG (too many entries) or -EFBIG
 * (too large) with nothing changed, or another -errno.
 */
int watchable_mirror(const char *src, const char *dst, struct watchable_snap *state,
		     agent_error_t **err);
void watchable_snap_clear(struct watchable_snap *s);
/* rm -rf of a mirror (a file or a directory tree), no symlink followed. 0 or -errno. */
int watchable_mirror_remove(const char *dst);

/* The mount point and source rules (INVALID_ARGUMENT); touches nothing. */
int watchable_validate(const Grpc__Storage *s, agent_error_t **err);
int storage_driver_watchable(const struct storage_req *rq, char **ret_cleanup, agent_error_t **err);
/* Stops watching, unmounts a fallback bind, removes the mirror; the last one the tmpfs. */
struct watchable_watch;
void watchable_release(struct storage_table *t, struct watchable_watch *w);

#endif
