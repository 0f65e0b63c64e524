// SPDX-License-Identifier: Apache-2.0
#include "container/namespace.h"

#include <sched.h>
#include <string.h>

static const struct {
	const char *oci;
	const char *proc;
	int flag;
} ns_table[NS_COUNT] = {
	[NS_USER] = {"user", "user", CLONE_NEWUSER},
	[NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
	[NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
	[NS_NET] = {"network", "net", CLONE_NEWNET},
	[NS_PID] = {"pid", "pid", CLONE_NEWPID},
	[NS_MNT] = {"mount", "mnt", CLONE_NEWNS},
	[NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
};

int ns_type_from_oci(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < NS_COUNT; i++)
		if (strcmp(name, ns_table[i].oci) == 0)
			return i;
	return -1;
}

const char *ns_oci_name(enum ns_type t)
{
	return (unsigned)t < NS_COUNT ? ns_table[t].oci : NULL;
}

const char *ns_proc_name(enum ns_type t)
{
	return (unsigned)t < NS_COUNT ? ns_table[t].proc : NULL;
}

int ns_clone_flag(enum ns_type t)
{
	return (unsigned)t < NS_COUNT ? ns_table[t].flag : 0;
}
