/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "loop/loop.h"
#include "loop/reaper.h"

struct order {
	int seen[8];
	int n;
};

struct tctx {
	struct order *o;
	int id;
};

static void record_id(struct loop_timer *t, void *data)
{
	struct tctx *c = data;
	c->o->seen[c->o->n++] = c->id;
}

TEST(timers_fire_in_deadline_order_and_cancel_works)
{
	struct loop *l;
	ASSERT_EQ(loop_new(&l), 0);
	struct order o = {0};
	uint64_t now = loop_now_ms();
	struct tctx c1 = {&o, 1}, c2 = {&o, 2}, c3 = {&o, 3}, c4 = {&o, 4};
	loop_timer_add(l, now + 30, record_id, &c3);
	loop_timer_add(l, now + 10, record_id, &c1);
	struct loop_timer *t4 = loop_timer_add(l, now + 15, record_id, &c4);
	loop_timer_add(l, now + 20, record_id, &c2);
	loop_timer_cancel(l, t4);
	while (o.n < 3)
		ASSERT_TRUE(loop_run_once(l, 1000) >= 0);
	ASSERT_EQ(o.seen[0], 1);
	ASSERT_EQ(o.seen[1], 2);
	ASSERT_EQ(o.seen[2], 3);
	ASSERT_TRUE(loop_now_ms() >= now + 30);
	loop_free(l);
}

struct ioctx {
	struct loop *l;
	struct loop_io *other;
	int calls;
};

/* Deleting another handle from inside a callback in the same batch must be safe. */
static void io_cb(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct ioctx *c = data;
	char b[8];
	(void)!read(fd, b, sizeof(b));
	c->calls++;
	if (c->other)
		c->other = loop_io_del(c->l, c->other);
	loop_io_del(c->l, io);
}

TEST(io_delete_during_dispatch_is_safe)
{
	struct loop *l;
	ASSERT_EQ(loop_new(&l), 0);
	int a[2], b[2];
	ASSERT_EQ(pipe(a), 0);
	ASSERT_EQ(pipe(b), 0);
	struct ioctx ca = {l, NULL, 0}, cb = {l, NULL, 0};
	struct loop_io *ia = loop_io_add(l, a[0], EPOLLIN, io_cb, &ca);
	struct loop_io *ib = loop_io_add(l, b[0], EPOLLIN, io_cb, &cb);
	ASSERT_NOT_NULL(ia);
	ASSERT_NOT_NULL(ib);
	ca.other = ib;
	cb.other = ia;
	ASSERT_EQ(write(a[1], "x", 1), 1);
	ASSERT_EQ(write(b[1], "y", 1), 1);
	ASSERT_TRUE(loop_run_once(l, 1000) >= 1);
	/* Exactly one of the two ran: the first deleted the second before its turn. */
	ASSERT_EQ(ca.calls + cb.calls, 1);
	loop_free(l);
}

struct reapctx {
	pid_t pid;
	int status;
	int calls;
};

static void on_exit_cb(pid_t pid, int status, void *data)
{
	struct reapctx *c = data;
	c->pid = pid;
	c->status = status;
	c->calls++;
}

static void on_chld(const struct signalfd_siginfo *si, void *data)
{
	reaper_reap(data);
}

TEST(reaper_routes_exits_and_caches_early_ones)
{
	struct loop *l;
	struct reaper r;
	reaper_init(&r);
	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(loop_signal_add(l, SIGCHLD, on_chld, &r), 0);

	pid_t p1 = fork();
	if (p1 == 0)
		_exit(7);
	pid_t p2 = fork();
	if (p2 == 0) {
		raise(SIGKILL);
		_exit(0);
	}
	struct reapctx c1 = {0}, c2 = {0};
	ASSERT_EQ(reaper_watch(&r, p1, on_exit_cb, &c1), 0);
	while (c1.calls == 0)
		ASSERT_TRUE(loop_run_once(l, 5000) > 0);
	ASSERT_EQ(c1.pid, p1);
	ASSERT_EQ(reaper_exit_code(c1.status), 7);

	/* p2 exits unwatched; a late watcher still gets its status at once. */
	while (r.cache_len == 0)
		ASSERT_TRUE(loop_run_once(l, 5000) >= 0);
	ASSERT_EQ(reaper_watch(&r, p2, on_exit_cb, &c2), 1);
	ASSERT_EQ(c2.calls, 1);
	ASSERT_EQ(reaper_exit_code(c2.status), 128 + SIGKILL);
	ASSERT_EQ(r.cache_len, 0);
	ASSERT_EQ(reaper_watch(&r, 0, on_exit_cb, &c2), -EINVAL);
	reaper_release(&r);
	loop_free(l);
}

TEST(reaper_cache_is_bounded)
{
	struct reaper r;
	reaper_init(&r);
	for (int i = 0; i < REAPER_CACHE_MAX + 10; i++) {
		pid_t p = fork();
		if (p == 0)
			_exit(i & 0x7f);
		ASSERT_TRUE(waitid(P_PID, p, NULL, WEXITED | WNOWAIT) == 0);
		reaper_reap(&r);
	}
	ASSERT_EQ(r.cache_len, REAPER_CACHE_MAX);
	ASSERT_EQ(r.reaped_total, REAPER_CACHE_MAX + 10);
	reaper_release(&r);
}
