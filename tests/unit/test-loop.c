/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "loop/fork.h"
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

/* --- pid recycling, the cache's age, loop_fork ------------------------------------------ */

/*
 * Runs fn as PID 1 of a new pid namespace, where the next pid can be chosen
 * through /proc/sys/kernel/ns_last_pid: a recycled pid on demand.
 */
static void in_new_pidns(void (*fn)(void))
{
	int own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(own >= 0);
	if (unshare(CLONE_NEWPID) < 0)
		SKIP("no pid namespace: %s", strerror(errno));
	pid_t p = fork();
	ASSERT_TRUE(p >= 0);
	if (p == 0) {
		fn();
		_exit(0);
	}
	/* Our next children are born here again: once that namespace's init is gone no fork
	 * could land there (LeakSanitizer's own at exit included). */
	ASSERT_EQ(setns(own, CLONE_NEWPID), 0);
	close(own);
	int st;
	ASSERT_EQ(waitpid(p, &st, 0), p);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
		SKIP("skipped inside the pid namespace");
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The next fork in this pid namespace gets pid. */
static void next_pid_is(pid_t pid)
{
	char buf[32];
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		SKIP("cannot open ns_last_pid: %s", strerror(errno));
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid - 1);
	ASSERT_EQ(write(fd, buf, n), n);
	close(fd);
}

static void reap_until_cached(struct loop *l, struct reaper *r, size_t n)
{
	while (r->cache_len < n)
		ASSERT_TRUE(loop_run_once(l, 5000) > 0);
}

/* A fork that gets the pid of an exit still cached must not be handed that exit. */
static void recycled_pid_plain_fork(void)
{
	struct loop *l;
	struct reaper r;
	reaper_init(&r);
	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(loop_signal_add(l, SIGCHLD, on_chld, &r), 0);

	pid_t old = fork();
	if (old == 0)
		_exit(3);
	reap_until_cached(l, &r, 1); /* exited unwatched: cached, pid free again */
	next_pid_is(old);
	int gate[2];
	ASSERT_EQ(pipe(gate), 0);
	pid_t young = fork();
	if (young == 0) {
		char c;
		close(gate[1]);
		(void)!read(gate[0], &c, 1);
		_exit(9);
	}
	close(gate[0]);
	ASSERT_EQ(young, old);
	struct reapctx c = {0};
	/* Alive: the cached exit (status 3) is not its own. */
	ASSERT_EQ(reaper_watch(&r, young, on_exit_cb, &c), 0);
	ASSERT_EQ(c.calls, 0);
	close(gate[1]);
	while (c.calls == 0)
		ASSERT_TRUE(loop_run_once(l, 5000) > 0);
	ASSERT_EQ(reaper_exit_code(c.status), 9);
	reaper_release(&r);
	loop_free(l);
}

TEST(reaper_watch_on_a_recycled_pid_never_gets_the_stale_exit)
{
	in_new_pidns(recycled_pid_plain_fork);
}

TEST(reaper_cached_exits_age_out)
{
	struct loop *l;
	struct reaper r;
	reaper_init(&r);
	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(loop_signal_add(l, SIGCHLD, on_chld, &r), 0);
	r.cache_ttl_ms = 50;
	pid_t p = fork();
	if (p == 0)
		_exit(4);
	reap_until_cached(l, &r, 1);
	usleep(120 * 1000);
	struct reapctx c = {0};
	/* Too old to be trusted: the pid may belong to anyone by now. */
	ASSERT_EQ(reaper_watch(&r, p, on_exit_cb, &c), 0);
	ASSERT_EQ(c.calls, 0);
	ASSERT_EQ(r.cache_len, 0);
	reaper_unwatch(&r, p);
	reaper_release(&r);
	loop_free(l);
}

/*
 * A grandchild (not our child when watched) that got the pid of a cached exit:
 * reaper_watch_since with a generation taken before it existed skips the stale one.
 */
static void recycled_pid_grandchild(void)
{
	struct loop *l;
	struct reaper r;
	reaper_init(&r);
	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(loop_signal_add(l, SIGCHLD, on_chld, &r), 0);
	pid_t old = fork();
	if (old == 0)
		_exit(3);
	reap_until_cached(l, &r, 1);
	uint64_t gen = reaper_generation(&r);
	int info[2], gate[2];
	ASSERT_EQ(pipe(info), 0);
	ASSERT_EQ(pipe(gate), 0);
	pid_t mid = fork();
	if (mid == 0) {
		next_pid_is(old);
		pid_t g = fork();
		if (g == 0) {
			char c;
			close(gate[1]);
			(void)!read(gate[0], &c, 1);
			_exit(8);
		}
		(void)!write(info[1], &g, sizeof(g));
		_exit(0); /* the grandchild is re-parented to us, PID 1 */
	}
	close(gate[0]);
	pid_t g = 0;
	ASSERT_EQ(read(info[0], &g, sizeof(g)), (ssize_t)sizeof(g));
	ASSERT_EQ(g, old);
	struct reapctx c = {0};
	ASSERT_EQ(reaper_watch_since(&r, g, gen, on_exit_cb, &c), 0);
	ASSERT_EQ(c.calls, 0);
	close(gate[1]);
	while (c.calls == 0)
		ASSERT_TRUE(loop_run_once(l, 5000) > 0);
	ASSERT_EQ(reaper_exit_code(c.status), 8);
	reaper_release(&r);
	loop_free(l);
}

TEST(reaper_watch_since_skips_exits_older_than_the_generation)
{
	in_new_pidns(recycled_pid_grandchild);
}

/* In the child: 0 when fd is open. */
static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* Forks with keep = {a}: the child exits 0 only if a is open, b closed, signals reset. */
static void check_keep_list(void)
{
	struct loop *l;
	struct reaper r;
	reaper_init(&r);
	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(loop_signal_add(l, SIGCHLD, on_chld, &r), 0);
	signal(SIGPIPE, SIG_IGN);
	int a[2], b[2], pidfd = -1;
	ASSERT_EQ(pipe(a), 0);
	ASSERT_EQ(pipe(b), 0); /* not CLOEXEC: only loop_fork can close them */
	int keep[] = {a[1], 1, -1};
	_cleanup_error_ agent_error_t *err = NULL;
	pid_t p = loop_fork(&r, keep, 3, 0, &pidfd, &err);
	ASSERT_TRUE(p >= 0);
	if (p == 0) {
		sigset_t mask;
		sigprocmask(SIG_SETMASK, NULL, &mask);
		struct sigaction sa;
		sigaction(SIGPIPE, NULL, &sa);
		int bad = (!fd_open(a[1]) ? 1 : 0) | (fd_open(a[0]) ? 2 : 0) |
			  (fd_open(b[0]) || fd_open(b[1]) ? 4 : 0) |
			  (sigismember(&mask, SIGCHLD) ? 8 : 0) |
			  (sa.sa_handler != SIG_DFL ? 16 : 0);
		_exit(bad);
	}
	close(a[1]);
	close(b[0]);
	close(b[1]);
	ASSERT_TRUE(pidfd >= 0);
	struct reapctx c = {0};
	ASSERT_TRUE(reaper_watch(&r, p, on_exit_cb, &c) >= 0);
	while (c.calls == 0)
		ASSERT_TRUE(loop_run_once(l, 5000) > 0);
	ASSERT_EQ(c.pid, p);
	ASSERT_EQ(reaper_exit_code(c.status), 0);
	/* The caller's pidfd is of that child, now gone: readable, and ESRCH for signals. */
	struct pollfd pf = {.fd = pidfd, .events = POLLIN};
	ASSERT_EQ(poll(&pf, 1, 0), 1);
	ASSERT_EQ(pidfd_signal(pidfd, 0), -ESRCH);
	close(pidfd);
	close(a[0]);
	reaper_release(&r);
	loop_free(l);
}

TEST(loop_fork_closes_all_but_the_kept_fds_and_resets_signals)
{
	check_keep_list();
}

/* Makes close_range fail with ENOSYS in this process, as on kernels before 5.9. */
static void disable_close_range(void)
{
#if defined(__x86_64__)
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 436 /* close_range */, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
	ASSERT_EQ(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	ASSERT_EQ(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
	ASSERT_EQ(syscall(436, 100, 100, 0), -1);
	ASSERT_EQ(errno, ENOSYS);
#else
	SKIP("seccomp filter for this test written for x86_64 only");
#endif
}

TEST(loop_fork_closes_fds_without_close_range)
{
	disable_close_range();
	check_keep_list();
}

TEST(loop_fork_holds_an_early_exit_for_its_watcher_not_the_cache)
{
	struct loop *l;
	struct reaper r;
	reaper_init(&r);
	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(loop_signal_add(l, SIGCHLD, on_chld, &r), 0);
	pid_t p = loop_fork(&r, NULL, 0, 0, NULL, NULL);
	ASSERT_TRUE(p >= 0);
	if (p == 0)
		_exit(6);
	while (r.reaped_total == 0)
		ASSERT_TRUE(loop_run_once(l, 5000) > 0);
	ASSERT_EQ(r.cache_len, 0);
	ASSERT_EQ(reaper_kill(&r, p, SIGKILL), -ESRCH); /* exited: never a recycled pid */
	struct reapctx c = {0};
	ASSERT_EQ(reaper_watch(&r, p, on_exit_cb, &c), 1);
	ASSERT_EQ(reaper_exit_code(c.status), 6);
	ASSERT_EQ(r.n_watches, 0);
	reaper_release(&r);
	loop_free(l);
}

TEST(reaper_kill_signals_a_live_child_then_says_esrch)
{
	struct loop *l;
	struct reaper r;
	reaper_init(&r);
	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(loop_signal_add(l, SIGCHLD, on_chld, &r), 0);
	pid_t p = loop_fork(&r, NULL, 0, 0, NULL, NULL);
	ASSERT_TRUE(p >= 0);
	if (p == 0) {
		pause();
		_exit(0);
	}
	struct reapctx c = {0};
	ASSERT_EQ(reaper_watch(&r, p, on_exit_cb, &c), 0);
	ASSERT_EQ(reaper_kill(&r, p, SIGTERM), 0);
	while (c.calls == 0)
		ASSERT_TRUE(loop_run_once(l, 5000) > 0);
	ASSERT_EQ(reaper_exit_code(c.status), 128 + SIGTERM);
	ASSERT_EQ(reaper_kill(&r, p, SIGKILL), -ESRCH);
	ASSERT_EQ(reaper_kill(&r, getpid(), 0), -ESRCH); /* not ours to signal */
	reaper_release(&r);
	loop_free(l);
}

/* A loop_fork child on a pid whose old exit is cached: the stale exit is dropped at fork. */
static void recycled_pid_loop_fork(void)
{
	struct loop *l;
	struct reaper r;
	reaper_init(&r);
	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(loop_signal_add(l, SIGCHLD, on_chld, &r), 0);
	pid_t old = fork();
	if (old == 0)
		_exit(3);
	reap_until_cached(l, &r, 1);
	next_pid_is(old);
	pid_t p = loop_fork(&r, NULL, 0, 0, NULL, NULL);
	ASSERT_TRUE(p >= 0);
	if (p == 0)
		_exit(5);
	ASSERT_EQ(p, old);
	ASSERT_EQ(r.cache_len, 0);
	struct reapctx c = {0};
	ASSERT_TRUE(reaper_watch(&r, p, on_exit_cb, &c) >= 0);
	while (c.calls == 0)
		ASSERT_TRUE(loop_run_once(l, 5000) > 0);
	ASSERT_EQ(reaper_exit_code(c.status), 5);
	reaper_release(&r);
	loop_free(l);
}

TEST(loop_fork_on_a_recycled_pid_drops_the_stale_exit)
{
	in_new_pidns(recycled_pid_loop_fork);
}
