/* SPDX-License-Identifier: Apache-2.0 */
/* The namespace kinds of the OCI spec: their names, /proc names and clone flags. */
#ifndef AGENT_CONTAINER_NAMESPACE_H
#define AGENT_CONTAINER_NAMESPACE_H

enum ns_type { NS_USER, NS_IPC, NS_UTS, NS_NET, NS_PID, NS_MNT, NS_CGROUP, NS_COUNT };

/* OCI type string ("pid", "network", "mount", "ipc", "uts", "user", "cgroup") to NS_*, or -1. */
int ns_type_from_oci(const char *name);
const char *ns_oci_name(enum ns_type t);
/* The name under /proc/<pid>/ns/ ("mnt", "net", ...). */
const char *ns_proc_name(enum ns_type t);
int ns_clone_flag(enum ns_type t);

#endif
