/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCI linux.seccomp through libseccomp. Validation runs in the agent before
 * anything is created; loading runs in the container child as its last step
 * before exec (or before dropping capabilities when noNewPrivileges is off).
 */
#ifndef AGENT_CONTAINER_SECCOMP_H
#define AGENT_CONTAINER_SECCOMP_H

#include <stdbool.h>

#include "base/error.h"
#include "oci.pb-c.h"

/*
 * Checks every string (default action, each rule's action, arg ops,
 * architectures, flags) and arg index (< 6). A bad value fails with -EINVAL and
 * status INVALID_ARGUMENT naming the field ("linux.seccomp.syscalls[3].action:
 * unknown action \"SCMP_ACT_FOO\""). Unknown syscall names are not errors.
 */
int seccomp_validate(const Grpc__LinuxSeccomp *s, agent_error_t **err);

/*
 * Builds and loads the filter into the calling process. Actions: SCMP_ACT_KILL,
 * KILL_PROCESS, KILL_THREAD, TRAP, ERRNO (errnoRet, default EPERM), TRACE
 * (errnoRet as the trace value), ALLOW, LOG, NOTIFY is refused. Rules whose action
 * equals the default are skipped; unknown syscall names are skipped; args with
 * every op of OCI incl. SCMP_CMP_MASKED_EQ. Flags: SECCOMP_FILTER_FLAG_TSYNC,
 * _LOG, _SPEC_ALLOW. The NNP bit is not forced: without no_new_privs the caller
 * still holds CAP_SYS_ADMIN. Runs seccomp_validate first. (Not seccomp_load:
 * libseccomp owns that name.)
 */
int seccomp_load_oci(const Grpc__LinuxSeccomp *s, agent_error_t **err);

#endif
