/* SPDX-License-Identifier: Apache-2.0 */
#include "sandbox.h"

#include <string.h>

void sandbox_init(struct sandbox *sb, struct loop *loop, struct reaper *reaper)
{
	memset(sb, 0, sizeof(*sb));
	sb->loop = loop;
	sb->reaper = reaper;
	oom_queue_init(&sb->oom);
}

void sandbox_release(struct sandbox *sb)
{
	oom_queue_release(&sb->oom);
}
