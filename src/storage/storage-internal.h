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

bool storage_has_driver_option(const Grpc__Storage *s, const char *name);
bool storage_path_clean_under(const char *p, const char *root);
/* "fsgid=N" and (local only) "mode=NNN" taken out; the other words in *ret, which has
 * room for one more. */
int storage_split_options(const Grpc__Storage *s, long *fsgid, long *mode, char ***ret,
			  size_t *ret_n, agent_error_t **err);
int storage_apply_fsgid(const char *path, long fsgid, long mode, agent_error_t **err);

/*
 * The common mount (spec 5.1): option words to flags and data, the mount point
 * made (a file for a bind of a non-directory), skipped when already mounted
 * with fstype, propagation applied after. extra: data appended (or NULL).
 */
int storage_mount(const char *source, const char *target, const char *fstype, char *const *options,
		  size_t n_options, const char *extra, agent_error_t **err);

int storage_driver_block(const struct storage_req *rq, char **ret_cleanup, agent_error_t **err);
int storage_driver_virtiofs(const struct storage_req *rq, char **ret_cleanup, agent_error_t **err);
int storage_driver_9p(const struct storage_req *rq, char **ret_cleanup, agent_error_t **err);
int storage_driver_overlay(const struct storage_req *rq, char **ret_cleanup, agent_error_t **err);

#endif
