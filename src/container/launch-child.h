/* SPDX-License-Identifier: Apache-2.0 */
/* The container child's side of a launch (runs after fork, never returns). */
#ifndef AGENT_CONTAINER_LAUNCH_CHILD_H
#define AGENT_CONTAINER_LAUNCH_CHILD_H

#include "container/launch.h"
#include "container/sync.h"

struct launch_child_args {
	const struct launch_config *cfg;
	int join_fds[NS_COUNT]; /* every namespace to join, -1 = none */
	bool new_user; /* unshare a user namespace, the agent writes the maps */
	bool pid_after_user; /* new pid namespace owned by the new user namespace: fork again */
};

/* The step-table cursor (container/sync.h) for this launch's shape, on either side. */
void launch_seq_init(struct sync_seq *s, enum sync_side side, const struct launch_child_args *a);

_noreturn_ void launch_child_main(const struct launch_child_args *a, int sock);

#endif
