/* SPDX-License-Identifier: Apache-2.0 */
#include "oom.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void oom_queue_init(struct oom_queue *q)
{
	memset(q, 0, sizeof(*q));
}

void oom_queue_release(struct oom_queue *q)
{
	for (size_t i = 0; i < q->len; i++)
		free(q->events[(q->head + i) % OOM_QUEUE_MAX]);
	while (q->first)
		oom_queue_cancel(q, q->first);
	oom_queue_init(q);
}

int oom_queue_push(struct oom_queue *q, const char *container_id)
{
	struct oom_waiter *w = q->first;
	if (w) {
		oom_queue_cancel(q, w);
		w->fn(w, container_id);
		return 0;
	}
	char *id = strdup(container_id);
	if (!id)
		return -ENOMEM;
	if (q->len == OOM_QUEUE_MAX) {
		free(q->events[q->head]);
		q->head = (q->head + 1) % OOM_QUEUE_MAX;
		q->len--;
		q->dropped++;
	}
	q->events[(q->head + q->len) % OOM_QUEUE_MAX] = id;
	q->len++;
	return 0;
}

void oom_queue_close(struct oom_queue *q)
{
	struct oom_waiter *w;

	q->closed = true;
	while ((w = q->first)) {
		oom_queue_cancel(q, w);
		w->fn(w, NULL);
	}
}

int oom_queue_wait(struct oom_queue *q, struct oom_waiter *w)
{
	if (q->closed) {
		w->fn(w, NULL);
		return 1;
	}
	if (q->len > 0) {
		char *id = q->events[q->head];
		q->head = (q->head + 1) % OOM_QUEUE_MAX;
		q->len--;
		w->fn(w, id);
		free(id);
		return 1;
	}
	w->next = NULL;
	w->prev = q->last;
	if (q->last)
		q->last->next = w;
	else
		q->first = w;
	q->last = w;
	w->queued = true;
	return 0;
}

void oom_queue_cancel(struct oom_queue *q, struct oom_waiter *w)
{
	if (!w->queued)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else
		q->first = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		q->last = w->prev;
	w->prev = w->next = NULL;
	w->queued = false;
}
