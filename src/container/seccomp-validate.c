// SPDX-License-Identifier: Apache-2.0
#include "container/seccomp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "container/seccomp-names.h"
#include "base/status.h"

/* Linux system calls take at most six arguments. */
#define SECCOMP_MAX_ARGS 6

#define invalid(err, ...) agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL, __VA_ARGS__)

static int check_action(const char *field, const char *name, bool has_ret, uint32_t ret,
			agent_error_t **err)
{
	uint32_t action;

	if (name[0] == '\0')
		return invalid(err, "%s: missing action", field);
	switch (seccomp_action_from_name(name, has_ret, ret, &action)) {
	case 0:
		return 0;
	case -EOPNOTSUPP:
		return invalid(err,
			       "%s: \"%s\" is not supported: the agent has no seccomp notify "
			       "listener",
			       field, name);
	case -ERANGE:
		return invalid(err, "%s: errnoRet %" PRIu32 " out of range for \"%s\"", field, ret,
			       name);
	default:
		return invalid(err, "%s: unknown action \"%s\"", field, name);
	}
}

static int check_syscall(size_t i, const Grpc__LinuxSyscall *sc, agent_error_t **err)
{
	char field[64];

	snprintf(field, sizeof(field), "linux.seccomp.syscalls[%zu].action", i);
	if (!sc)
		return invalid(err, "linux.seccomp.syscalls[%zu]: missing", i);
	bool has_ret = sc->errno_ret_case == GRPC__LINUX_SYSCALL__ERRNO_RET_ERRNORET;
	int r = check_action(field, sc->action, has_ret, has_ret ? sc->errnoret : 0, err);
	if (r < 0)
		return r;
	for (size_t j = 0; j < sc->n_args; j++) {
		const Grpc__LinuxSeccompArg *a = sc->args[j];
		if (!a)
			return invalid(err, "linux.seccomp.syscalls[%zu].args[%zu]: missing", i, j);
		if (a->index >= SECCOMP_MAX_ARGS)
			return invalid(err,
				       "linux.seccomp.syscalls[%zu].args[%zu].index: %" PRIu64
				       " is not below %d",
				       i, j, a->index, SECCOMP_MAX_ARGS);
		if (seccomp_op_from_name(a->op) < 0)
			return invalid(err,
				       "linux.seccomp.syscalls[%zu].args[%zu].op: unknown "
				       "operator \"%s\"",
				       i, j, a->op);
	}
	return 0;
}

int seccomp_validate(const Grpc__LinuxSeccomp *s, agent_error_t **err)
{
	if (!s)
		return 0;
	int r = check_action("linux.seccomp.defaultAction", s->defaultaction, false, 0, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n_architectures; i++) {
		uint32_t arch;
		if (seccomp_arch_from_name(s->architectures[i], &arch) < 0)
			return invalid(err,
				       "linux.seccomp.architectures[%zu]: unknown architecture "
				       "\"%s\"",
				       i, s->architectures[i]);
	}
	for (size_t i = 0; i < s->n_flags; i++)
		if (seccomp_flag_from_name(s->flags[i]) < 0)
			return invalid(err, "linux.seccomp.flags[%zu]: unknown flag \"%s\"", i,
				       s->flags[i]);
	for (size_t i = 0; i < s->n_syscalls; i++) {
		r = check_syscall(i, s->syscalls[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}
