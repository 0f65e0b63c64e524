/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading a kernel module by name, as CreateSandbox's kernel_modules ask:
 * the module and what it needs, found through modules.dep of the running kernel,
 * loaded with finit_module. No modprobe binary is needed in the guest.
 */
#ifndef AGENT_INIT_KMOD_H
#define AGENT_INIT_KMOD_H

#include <stddef.h>

#include "base/error.h"

#define KMOD_NAME_MAX 55 /* MODULE_NAME_LEN - 1 */
#define KMOD_PARAMS_MAX 32
#define KMOD_PARAM_LEN_MAX 1024

/* The name and parameters' shape (INVALID_ARGUMENT naming the culprit); touches nothing. */
int kmod_validate(const char *name, char *const *params, size_t n, agent_error_t **err);

/*
 * The files to load for `name`, dependencies first, as paths under
 * <root>/{,usr/}lib/modules/<release>. *ret_n = 0 with 0 returned: built into the
 * kernel. -ENOENT (NOT_FOUND): no such module. Free with kmod_paths_free.
 */
int kmod_resolve(const char *root, const char *release, const char *name, char ***ret,
		 size_t *ret_n, agent_error_t **err);
void kmod_paths_free(char **paths, size_t n);

/* Resolves and loads `name` (params for it alone); one already loaded is fine. */
int kmod_load(const char *root, const char *name, char *const *params, size_t n,
	      agent_error_t **err);

#endif
