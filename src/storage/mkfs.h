/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Block volumes that ask for a filesystem (driver option "create_filesystem", the
 * runtime's block emptyDir): mkfs.ext4 runs beside the loop, one disk at a
 * time, before the storages are mounted. A mount point already in the table is in
 * use and never formatted again.
 */
#ifndef AGENT_STORAGE_MKFS_H
#define AGENT_STORAGE_MKFS_H

#include "agent.pb-c.h"
#include "base/error.h"
#include "loop/loop.h"
#include "loop/reaper.h"
#include "storage/storage.h"

#define STORAGE_MKFS_TIMEOUT_MS 120000

/* devs as storages_add takes them (NULL entries: the storage's source). */
typedef void (*storage_mkfs_fn)(int r, agent_error_t *err, char *const *devs, void *ctx);

struct storage_mkfs;

/* Whether the storage asks for a filesystem (and which is checked by storage_validate). */
bool storage_wants_mkfs(const Grpc__Storage *s);

/*
 * Formats what asks for it. devs (n_devs >= n entries, or NULL) is what devwait
 * found. *ret = NULL when nothing asks (fn is not called); otherwise fn runs
 * once, from the loop, with a copy of devs valid during the call.
 */
int storage_mkfs_start(const struct storage_table *t, struct loop *l, struct reaper *rp,
		       Grpc__Storage **st, size_t n, char *const *devs, size_t n_devs,
		       storage_mkfs_fn fn, void *ctx, struct storage_mkfs **ret,
		       agent_error_t **err);
/* Stops (the running mkfs is killed); fn is not called. Accepts NULL. */
void storage_mkfs_cancel(struct storage_mkfs *m);

#endif
