/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OOM events: containers whose memory cgroup hit its limit, queued in order
 * and handed to GetOOMEvent waiters one event per waiter (first come, first
 * served). The queue is bounded; when full the oldest event is dropped.
 */
#ifndef AGENT_SANDBOX_OOM_H
#define AGENT_SANDBOX_OOM_H

#include <stdbool.h>
#include <stddef.h>

#define OOM_QUEUE_MAX 128

struct oom_waiter {
	struct oom_waiter *prev, *next;
	void (*fn)(struct oom_waiter *w, const char *container_id);
	bool queued;
};

struct oom_queue {
	char *events[OOM_QUEUE_MAX]; /* ring of container ids */
	size_t head, len;
	unsigned long dropped;
	struct oom_waiter *first, *last;
	bool closed;
};

void oom_queue_init(struct oom_queue *q);
void oom_queue_release(struct oom_queue *q); /* waiters are not called */
/* Records an event: the oldest waiter gets it now, else it is queued. */
int oom_queue_push(struct oom_queue *q, const char *container_id);
/* Gives w the next event: now (returns 1, w->fn already called) or later (returns 0). */
int oom_queue_wait(struct oom_queue *q, struct oom_waiter *w);
/* DestroySandbox: every waiter, now and later, gets a NULL id (the channel is closed). */
void oom_queue_close(struct oom_queue *q);
void oom_queue_cancel(struct oom_queue *q, struct oom_waiter *w);

#endif
