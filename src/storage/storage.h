/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storages: a table of mount points with reference counts, and
 * drivers keyed by Storage.driver. A mount point already in the table is
 * shared, not mounted twice; the last release unmounts it (unless `shared`).
 * Mount points must lie under /run/kata-containers: nothing from the host
 * is mounted anywhere else in the guest.
 */
#ifndef AGENT_STORAGE_STORAGE_H
#define AGENT_STORAGE_STORAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "agent.pb-c.h"
#include "base/error.h"

#define STORAGE_ROOT "/run/kata-containers"
#define STORAGES_MAX 4096

struct loop;
struct watchable_set;
struct watchable_watch;

struct storage_entry {
	struct storage_entry *next;
	char *mount_point;
	char *cleanup; /* what to unmount at the last release, or NULL */
	struct watchable_watch *watch; /* watchable-bind: released with the entry */
	unsigned refs;
	bool shared;
	bool kept; /* shared, and kept mounted once with no reference */
	bool ephemeral_tmpfs; /* an ephemeral tmpfs: UpdateEphemeralMounts may resize it */
};

struct storage_table {
	struct storage_entry *first;
	size_t n;
	struct loop *loop; /* the agent's loop (watchable-bind), set by the owner; may be NULL */
	struct watchable_set *watchable; /* NULL until a watchable-bind storage is added */
};

/*
 * Adds each storage (in order): a known mount point gets one more reference,
 * a new one is mounted by its driver. On failure the ones this call added are
 * released again. *ret_points (malloc'd array of malloc'd strings) lists the
 * mount points to release later.
 */
int storages_add(struct storage_table *t, Grpc__Storage **st, size_t n, char *const *devs,
		 const char *cid, char ***ret_points, size_t *ret_n, agent_error_t **err);
/*
 * devs: for each storage, the device node its driver found hot-plugged (see
 * storage_device_match), or NULL to use Storage.source. cid: the container, or
 * NULL for the sandbox's storages.
 */

/*
 * Storages whose source is a device that may still be on its way (blk by PCI
 * path, mmioblk, scsi, nvdimm): 1 and *ret filled with what to wait for (see
 * uevent_wait); 0 when the source is usable as it is; <0 on a bad source.
 */
struct dev_match;
int storage_device_match(const Grpc__Storage *s, struct dev_match *ret, agent_error_t **err);

/* The mount point's shape and a known driver; touches nothing. */
int storage_validate(const Grpc__Storage *s, agent_error_t **err);
/* Drops one reference on each (the last one unmounts, unless shared); frees the array. */
void storages_release(struct storage_table *t, char **points, size_t n);
/*
 * For a request that failed after storages_add succeeded (a CreateContainer
 * whose later step failed): as storages_release, and a shared storage this
 * request was the only holder of is unmounted too, as storages_add does for
 * its own failures.
 */
void storages_undo(struct storage_table *t, char **points, size_t n);
void storage_table_release(struct storage_table *t);

/*
 * UpdateEphemeralMounts: each storage names an ephemeral tmpfs of the table,
 * remounted with the size limits its options give (size=, nr_blocks=,
 * nr_inodes=; "remount" and "fsgid=" accepted and left, as upstream does),
 * its mount flags kept. The whole request is checked first; a kernel refusal
 * midway puts back the limits already changed. INVALID_ARGUMENT for bad
 * input, NOT_FOUND for a mount point no ephemeral tmpfs storage holds.
 */
int storages_update_ephemeral(struct storage_table *t, Grpc__Storage *const *st, size_t n,
			      agent_error_t **err);

#endif
