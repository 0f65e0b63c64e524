/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mount(8)-style option words to mount flags, propagation flags and a data
 * string. Shared by container mounts and storages.
 */
#ifndef AGENT_CONTAINER_MOUNTOPT_H
#define AGENT_CONTAINER_MOUNTOPT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

struct mount_opts {
	unsigned long flags; /* MS_RDONLY, MS_NOSUID, MS_BIND, MS_REC, ... */
	unsigned long clear_flags; /* flags a word turned off ("rw", "suid", "dev", ...) */
	unsigned long propagation; /* MS_PRIVATE/MS_SHARED/MS_SLAVE/MS_UNBINDABLE [| MS_REC] or 0 */
	char *data; /* comma-joined other words, or NULL; malloc'd */
};

/* "loop" is refused; data over one page is refused. -EINVAL, INVALID_ARGUMENT. */
int mount_opts_parse(char *const *words, size_t n, struct mount_opts *ret, agent_error_t **err);
void mount_opts_release(struct mount_opts *o);

#endif
