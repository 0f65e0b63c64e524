/* SPDX-License-Identifier: Apache-2.0 */
/* The environment and the program path of a container process. */
#ifndef AGENT_CONTAINER_PROCENV_H
#define AGENT_CONTAINER_PROCENV_H

#include <sys/types.h>

#include "base/error.h"
#include "oci.pb-c.h"

/*
 * The process's environment: each KEY=VALUE split at the first '=', key and
 * value trimmed of surrounding whitespace, entries with an empty key dropped,
 * a later duplicate key wins; HOME added when missing, from `passwd` (a file
 * in /etc/passwd format resolved inside "/", may be NULL) for uid, else "/".
 * A passwd that is not a regular file or is over 4 MiB fails (a FIFO or a link
 * to /dev/zero in a rootfs must not hang the launch). *ret is NULL-terminated
 * and malloc'd as one block: free() the array only.
 */
int procenv_build(const Grpc__Process *p, uid_t uid, const char *passwd, char ***ret,
		  agent_error_t **err);

/* Value of key in a NULL-terminated environment, or NULL. */
const char *procenv_get(char *const *envp, const char *key);

/*
 * The program to exec for argv0: a name with '/' must be an executable file;
 * otherwise the first executable match in the environment's PATH (or the
 * default /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin).
 * *ret_path is malloc'd.
 */
int procenv_find_program(const char *argv0, char *const *envp, char **ret_path,
			 agent_error_t **err);

#endif
