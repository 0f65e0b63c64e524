// SPDX-License-Identifier: Apache-2.0
#include "container/seccomp-names.h"

#include <errno.h>
#include <seccomp.h>
#include <string.h>

#include "base/macro.h"

/* The highest errno the kernel treats as an error return (include/linux/err.h). */
#define SECCOMP_MAX_ERRNO 4095
/* SECCOMP_RET_DATA: what a TRACE action hands to the tracer. */
#define SECCOMP_MAX_TRACE 0xffff

enum act_ret { RET_NONE, RET_ERRNO, RET_TRACE, RET_REFUSED };

static const struct {
	const char *name;
	uint32_t action;
	enum act_ret ret;
} actions[] = {
	/* As runc and the Rust agent do: the legacy KILL kills the thread. */
	{"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, RET_NONE},
	{"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, RET_NONE},
	{"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, RET_NONE},
	{"SCMP_ACT_TRAP", SCMP_ACT_TRAP, RET_NONE},
	{"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), RET_ERRNO},
	{"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), RET_TRACE},
	{"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, RET_NONE},
	{"SCMP_ACT_LOG", SCMP_ACT_LOG, RET_NONE},
	/* Needs a listener to hand the notify fd to; the agent has none. */
	{"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, RET_REFUSED},
};

int seccomp_action_from_name(const char *name, bool has_ret, uint32_t ret, uint32_t *ret_action)
{
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
		if (strcmp(name, actions[i].name) != 0)
			continue;
		uint32_t data = has_ret ? ret : SECCOMP_DEFAULT_ERRNO;
		switch (actions[i].ret) {
		case RET_REFUSED:
			return -EOPNOTSUPP;
		case RET_ERRNO:
			if (data > SECCOMP_MAX_ERRNO)
				return -ERANGE;
			*ret_action = SCMP_ACT_ERRNO(data);
			return 0;
		case RET_TRACE:
			if (data > SECCOMP_MAX_TRACE)
				return -ERANGE;
			*ret_action = SCMP_ACT_TRACE(data);
			return 0;
		case RET_NONE:
			*ret_action = actions[i].action;
			return 0;
		}
	}
	return -ENOENT;
}

static const struct {
	const char *name;
	enum scmp_compare op;
} ops[] = {
	{"SCMP_CMP_NE", SCMP_CMP_NE},
	{"SCMP_CMP_LT", SCMP_CMP_LT},
	{"SCMP_CMP_LE", SCMP_CMP_LE},
	{"SCMP_CMP_EQ", SCMP_CMP_EQ},
	{"SCMP_CMP_GE", SCMP_CMP_GE},
	{"SCMP_CMP_GT", SCMP_CMP_GT},
	{"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

int seccomp_op_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
		if (strcmp(name, ops[i].name) == 0)
			return (int)ops[i].op;
	return -1;
}

/* The OCI architecture names; the newer ones only when the libseccomp we build against has them. */
#define ARCH(a)                                \
	{                                      \
		"SCMP_ARCH_" #a, SCMP_ARCH_##a \
	}
static const struct {
	const char *name;
	uint32_t arch;
} arches[] = {
	ARCH(X86),	   ARCH(X86_64), ARCH(X32),	  ARCH(ARM),	 ARCH(AARCH64),
	ARCH(MIPS),	   ARCH(MIPS64), ARCH(MIPS64N32), ARCH(MIPSEL),	 ARCH(MIPSEL64),
	ARCH(MIPSEL64N32), ARCH(PPC),	 ARCH(PPC64),	  ARCH(PPC64LE), ARCH(S390),
	ARCH(S390X),	   ARCH(PARISC), ARCH(PARISC64),  ARCH(RISCV64),
#ifdef SCMP_ARCH_LOONGARCH64
	ARCH(LOONGARCH64),
#endif
#ifdef SCMP_ARCH_M68K
	ARCH(M68K),
#endif
#ifdef SCMP_ARCH_SH
	ARCH(SH),
#endif
#ifdef SCMP_ARCH_SHEB
	ARCH(SHEB),
#endif
};
#undef ARCH

int seccomp_arch_from_name(const char *name, uint32_t *ret_arch)
{
	for (size_t i = 0; i < ARRAY_SIZE(arches); i++) {
		if (strcmp(name, arches[i].name) == 0) {
			*ret_arch = arches[i].arch;
			return 0;
		}
	}
	return -ENOENT;
}

static const struct {
	const char *name;
	enum scmp_filter_attr attr;
} flags[] = {
	{"SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC},
	{"SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG},
	{"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB},
};

int seccomp_flag_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		if (strcmp(name, flags[i].name) == 0)
			return (int)flags[i].attr;
	return -1;
}
