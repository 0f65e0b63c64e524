// SPDX-License-Identifier: Apache-2.0
#include "container/rlimits.h"

#include <string.h>
#include <sys/resource.h>

static const struct {
	const char *name;
	int res;
} rlimit_names[] = {
	{"RLIMIT_AS", RLIMIT_AS},
	{"RLIMIT_CORE", RLIMIT_CORE},
	{"RLIMIT_CPU", RLIMIT_CPU},
	{"RLIMIT_DATA", RLIMIT_DATA},
	{"RLIMIT_FSIZE", RLIMIT_FSIZE},
	{"RLIMIT_LOCKS", RLIMIT_LOCKS},
	{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
	{"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
	{"RLIMIT_NICE", RLIMIT_NICE},
	{"RLIMIT_NOFILE", RLIMIT_NOFILE},
	{"RLIMIT_NPROC", RLIMIT_NPROC},
	{"RLIMIT_RSS", RLIMIT_RSS},
	{"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
	{"RLIMIT_RTTIME", RLIMIT_RTTIME},
	{"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
	{"RLIMIT_STACK", RLIMIT_STACK},
};

int rlimit_from_name(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(rlimit_names); i++)
		if (strcmp(name, rlimit_names[i].name) == 0)
			return rlimit_names[i].res;
	return -1;
}

int rlimits_apply(const Grpc__Process *p, agent_error_t **err)
{
	for (size_t i = 0; p && i < p->n_rlimits; i++) {
		const Grpc__POSIXRlimit *rl = p->rlimits[i];
		int res = rlimit_from_name(rl->type);
		struct rlimit lim = {.rlim_cur = rl->soft, .rlim_max = rl->hard};

		if (res < 0)
			return agent_error_set(err, EINVAL, "unknown rlimit \"%s\"", rl->type);
		if (setrlimit(res, &lim) < 0)
			return agent_error_setsys(err, errno, "setrlimit %s soft %llu hard %llu",
						  rl->type, (unsigned long long)rl->soft,
						  (unsigned long long)rl->hard);
	}
	return 0;
}
