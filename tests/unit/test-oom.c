/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "harness.h"
#include "sandbox/oom.h"

struct got {
	struct oom_waiter w;
	char id[64];
	int calls;
};

static void got_event(struct oom_waiter *w, const char *id)
{
	struct got *g = (struct got *)w;
	snprintf(g->id, sizeof(g->id), "%s", id);
	g->calls++;
}

TEST(oom_queued_event_goes_to_next_waiter)
{
	struct oom_queue q;
	oom_queue_init(&q);
	ASSERT_EQ(oom_queue_push(&q, "c1"), 0);
	ASSERT_EQ(oom_queue_push(&q, "c2"), 0);
	struct got a = {.w.fn = got_event}, b = {.w.fn = got_event};
	ASSERT_EQ(oom_queue_wait(&q, &a.w), 1);
	ASSERT_STREQ(a.id, "c1");
	ASSERT_EQ(oom_queue_wait(&q, &b.w), 1);
	ASSERT_STREQ(b.id, "c2");
	oom_queue_release(&q);
}

TEST(oom_waiters_served_in_order_one_event_each)
{
	struct oom_queue q;
	oom_queue_init(&q);
	struct got a = {.w.fn = got_event}, b = {.w.fn = got_event}, c = {.w.fn = got_event};
	ASSERT_EQ(oom_queue_wait(&q, &a.w), 0);
	ASSERT_EQ(oom_queue_wait(&q, &b.w), 0);
	ASSERT_EQ(oom_queue_wait(&q, &c.w), 0);
	oom_queue_cancel(&q, &b.w);
	ASSERT_EQ(oom_queue_push(&q, "x"), 0);
	ASSERT_EQ(oom_queue_push(&q, "y"), 0);
	ASSERT_EQ(a.calls, 1);
	ASSERT_STREQ(a.id, "x");
	ASSERT_EQ(b.calls, 0);
	ASSERT_EQ(c.calls, 1);
	ASSERT_STREQ(c.id, "y");
	ASSERT_EQ(q.len, 0);
	oom_queue_release(&q);
}

TEST(oom_queue_bounded_drops_oldest)
{
	struct oom_queue q;
	oom_queue_init(&q);
	char id[16];
	for (int i = 0; i < OOM_QUEUE_MAX + 5; i++) {
		snprintf(id, sizeof(id), "c%d", i);
		ASSERT_EQ(oom_queue_push(&q, id), 0);
	}
	ASSERT_EQ(q.len, OOM_QUEUE_MAX);
	ASSERT_EQ(q.dropped, 5);
	struct got a = {.w.fn = got_event};
	ASSERT_EQ(oom_queue_wait(&q, &a.w), 1);
	ASSERT_STREQ(a.id, "c5");
	oom_queue_release(&q);
}
