/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCI seccomp strings to libseccomp values. Internal to src/container/seccomp*.c;
 * uses libseccomp's header for its constants only, so validation needs no library.
 */
#ifndef AGENT_CONTAINER_SECCOMP_NAMES_H
#define AGENT_CONTAINER_SECCOMP_NAMES_H

#include <stdbool.h>
#include <errno.h>
#include <stdint.h>

/* Errno an ERRNO/TRACE action returns when errnoRet is absent. */
#define SECCOMP_DEFAULT_ERRNO EPERM

/*
 * The libseccomp action for an OCI action name and optional errnoRet.
 * Returns 0, -ENOENT for an unknown name, -EOPNOTSUPP for SCMP_ACT_NOTIFY,
 * -ERANGE for an errnoRet the action cannot carry.
 */
int seccomp_action_from_name(const char *name, bool has_ret, uint32_t ret, uint32_t *ret_action);
/* enum scmp_compare for "SCMP_CMP_EQ" etc., or -1. */
int seccomp_op_from_name(const char *name);
/* SCMP_ARCH_* for "SCMP_ARCH_X86_64" etc.; -ENOENT when this libseccomp does not know it. */
int seccomp_arch_from_name(const char *name, uint32_t *ret_arch);
/* enum scmp_filter_attr that a filter flag ("SECCOMP_FILTER_FLAG_LOG") turns on, or -1. */
int seccomp_flag_from_name(const char *name);

#endif
