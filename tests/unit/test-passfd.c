/* SPDX-License-Identifier: Apache-2.0 */
/*
 * passfd I/O on the host: the port map (claims, waits, caps, ages) driven with
 * socketpairs in place of accepted vsock connections, and the relays between a
 * process's pipes (or pty) and its streams. The real vsock path is proven in
 * the VM (tests/vm/steps-passfd.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "harness.h"
#include "loop/loop.h"
#include "sandbox/passfd.h"

struct got {
	int calls, r;
	int fds[3];
	uint64_t at_ms;
};

static void on_claim(int r, int fds[3], void *ctx)
{
	struct got *g = ctx;

	g->calls++;
	g->r = r;
	g->at_ms = loop_now_ms();
	for (int i = 0; i < 3; i++) {
		g->fds[i] = fds[i];
		fds[i] = -1;
	}
}

/* A connected pair: [0] is what the agent accepts, [1] the host's end. */
static void pair(int sp[2])
{
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
}

/* The two ends are connected: a byte written on one is read on the other. */
static void assert_connected(int agent_fd, int host_fd)
{
	char c = 0;

	ASSERT_EQ(write(host_fd, "x", 1), 1);
	ASSERT_EQ(read(agent_fd, &c, 1), 1);
	ASSERT_EQ(c, 'x');
}

/* The host's end sees EOF within ms: the agent closed its side. */
static bool host_sees_eof(int host_fd, int ms)
{
	struct pollfd p = {.fd = host_fd, .events = POLLIN};
	char buf[256];

	for (;;) {
		if (poll(&p, 1, ms) <= 0)
			return false;
		ssize_t n = read(host_fd, buf, sizeof(buf));
		if (n == 0)
			return true;
		if (n < 0)
			return errno == ECONNRESET;
	}
}

static void run_until(struct loop *l, const int *calls, int want, int ms)
{
	uint64_t end = loop_now_ms() + (uint64_t)ms * test_time_scale();

	while (*calls < want && loop_now_ms() < end)
		loop_run_once(l, 20);
}

static void run_for(struct loop *l, int ms)
{
	uint64_t end = loop_now_ms() + (uint64_t)ms;

	while (loop_now_ms() < end)
		loop_run_once(l, (int)(end - loop_now_ms()) + 1);
}

TEST(port_zero_names_no_stream_and_answers_at_once)
{
	struct loop *l;
	struct passfd *pf;
	struct passfd_claim *c;
	struct got g = {0};
	int sp[2];

	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(passfd_new(l, -1, &pf, NULL), 0);
	pair(sp);
	passfd_add(pf, 0, sp[0]); /* port 0 cannot be claimed: closed at once */
	ASSERT_EQ(passfd_waiting(pf), 0);
	ASSERT_TRUE(host_sees_eof(sp[1], 1000));
	const uint32_t ports[3] = {0, 0, 0};
	ASSERT_EQ(passfd_claim(pf, ports, on_claim, &g, &c), 1);
	ASSERT_EQ(g.calls, 1);
	ASSERT_EQ(g.fds[0], -1);
	ASSERT_EQ(g.fds[1], -1);
	ASSERT_EQ(g.fds[2], -1);
	passfd_free(pf);
	loop_free(l);
}

TEST(streams_that_arrived_are_claimed_by_their_peer_port)
{
	struct loop *l;
	struct passfd *pf;
	struct passfd_claim *c;
	struct got g = {0};
	int a[2], b[2], other[2];

	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(passfd_new(l, -1, &pf, NULL), 0);
	pair(a);
	pair(b);
	pair(other);
	passfd_add(pf, 1001, a[0]);
	passfd_add(pf, 1002, b[0]);
	passfd_add(pf, 1003, other[0]);
	ASSERT_EQ(passfd_waiting(pf), 3);
	const uint32_t ports[3] = {1002, 0, 1001}; /* stdin from 1002, no stdout, stderr 1001 */
	ASSERT_EQ(passfd_claim(pf, ports, on_claim, &g, &c), 1);
	ASSERT_EQ(g.calls, 1);
	ASSERT_EQ(g.r, 0);
	ASSERT_EQ(g.fds[1], -1);
	assert_connected(g.fds[0], b[1]);
	assert_connected(g.fds[2], a[1]);
	ASSERT_EQ(passfd_waiting(pf), 1); /* 1003 still waits for its call */
	close(g.fds[0]);
	close(g.fds[2]);
	passfd_free(pf);
	ASSERT_TRUE(host_sees_eof(other[1], 1000)); /* freed with the map */
	loop_free(l);
}

struct late_add {
	struct passfd *pf;
	uint32_t port;
	int fd;
};

static void on_late_add(struct loop_timer *t, void *data)
{
	struct late_add *la = data;

	passfd_add(la->pf, la->port, la->fd);
}

TEST(a_stream_arriving_within_the_wait_is_handed_over_at_once)
{
	struct loop *l;
	struct passfd *pf;
	struct passfd_claim *c;
	struct got g = {0};
	int a[2], b[2];

	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(passfd_new(l, -1, &pf, NULL), 0);
	pair(a);
	pair(b);
	passfd_add(pf, 2001, a[0]);
	const uint32_t ports[3] = {0, 2001, 2002};
	uint64_t t0 = loop_now_ms();
	ASSERT_EQ(passfd_claim(pf, ports, on_claim, &g, &c), 0);
	ASSERT_EQ(g.calls, 0);
	struct late_add la = {pf, 2002, b[0]};
	loop_timer_add(l, t0 + 50, on_late_add, &la);
	run_until(l, &g.calls, 1, 2000);
	ASSERT_EQ(g.calls, 1);
	ASSERT_EQ(g.r, 0);
	assert_connected(g.fds[1], a[1]);
	assert_connected(g.fds[2], b[1]);
	/* Handed over when it came, not at the end of the wait. */
	ASSERT_TRUE(g.at_ms - t0 < PASSFD_CLAIM_WAIT_MS);
	ASSERT_EQ(passfd_waiting(pf), 0);
	close(g.fds[1]);
	close(g.fds[2]);
	passfd_free(pf);
	loop_free(l);
}

TEST(a_stream_that_never_comes_leaves_none_after_the_wait)
{
	struct loop *l;
	struct passfd *pf;
	struct passfd_claim *c;
	struct got g = {0};
	int a[2], late[2];

	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(passfd_new(l, -1, &pf, NULL), 0);
	pair(a);
	passfd_add(pf, 3001, a[0]);
	const uint32_t ports[3] = {3001, 3002, 0};
	uint64_t t0 = loop_now_ms();
	ASSERT_EQ(passfd_claim(pf, ports, on_claim, &g, &c), 0);
	run_until(l, &g.calls, 1, 5000);
	ASSERT_EQ(g.calls, 1);
	ASSERT_EQ(g.r, 0);
	ASSERT_GE(g.at_ms - t0, PASSFD_CLAIM_WAIT_MS);
	assert_connected(g.fds[0], a[1]);
	ASSERT_EQ(g.fds[1], -1);
	/* Coming after the wait, it is an unclaimed stream like any other. */
	pair(late);
	passfd_add(pf, 3002, late[0]);
	ASSERT_EQ(passfd_waiting(pf), 1);
	close(g.fds[0]);
	passfd_free(pf);
	loop_free(l);
}

TEST(unclaimed_streams_are_closed_after_their_age)
{
	struct loop *l;
	struct passfd *pf;
	int a[2], b[2];

	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(passfd_new(l, -1, &pf, NULL), 0);
	passfd_set_limits(pf, PASSFD_WAITING_MAX, 200, PASSFD_CLAIM_WAIT_MS);
	pair(a);
	pair(b);
	passfd_add(pf, 4001, a[0]);
	run_for(l, 120);
	passfd_add(pf, 4002, b[0]);
	run_for(l, 120); /* 240 ms for the first, 120 for the second */
	ASSERT_EQ(passfd_waiting(pf), 1);
	ASSERT_TRUE(host_sees_eof(a[1], 0));
	ASSERT_FALSE(host_sees_eof(b[1], 0));
	run_for(l, 150);
	ASSERT_EQ(passfd_waiting(pf), 0);
	ASSERT_TRUE(host_sees_eof(b[1], 0));
	passfd_free(pf);
	loop_free(l);
}

TEST(past_the_cap_the_oldest_unclaimed_stream_is_closed)
{
	struct loop *l;
	struct passfd *pf;
	struct passfd_claim *c;
	struct got g = {0};
	int s[3][2];

	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(passfd_new(l, -1, &pf, NULL), 0);
	passfd_set_limits(pf, 2, PASSFD_UNCLAIMED_MS, PASSFD_CLAIM_WAIT_MS);
	for (int i = 0; i < 3; i++) {
		pair(s[i]);
		passfd_add(pf, 5001 + i, s[i][0]);
	}
	ASSERT_EQ(passfd_waiting(pf), 2);
	ASSERT_TRUE(host_sees_eof(s[0][1], 0));
	const uint32_t ports[3] = {5002, 5003, 0};
	ASSERT_EQ(passfd_claim(pf, ports, on_claim, &g, &c), 1);
	assert_connected(g.fds[0], s[1][1]);
	assert_connected(g.fds[1], s[2][1]);
	close(g.fds[0]);
	close(g.fds[1]);
	passfd_free(pf);
	loop_free(l);
}

TEST(a_second_stream_from_a_port_replaces_the_first)
{
	struct loop *l;
	struct passfd *pf;
	struct passfd_claim *c;
	struct got g = {0};
	int a[2], b[2];

	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(passfd_new(l, -1, &pf, NULL), 0);
	pair(a);
	pair(b);
	passfd_add(pf, 6001, a[0]);
	passfd_add(pf, 6001, b[0]);
	ASSERT_EQ(passfd_waiting(pf), 1);
	ASSERT_TRUE(host_sees_eof(a[1], 0));
	const uint32_t ports[3] = {6001, 0, 0};
	ASSERT_EQ(passfd_claim(pf, ports, on_claim, &g, &c), 1);
	assert_connected(g.fds[0], b[1]);
	close(g.fds[0]);
	passfd_free(pf);
	loop_free(l);
}

TEST(freeing_the_map_ends_waiting_claims_and_closes_their_streams)
{
	struct loop *l;
	struct passfd *pf;
	struct passfd_claim *c;
	struct got g = {0};
	int a[2];

	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(passfd_new(l, -1, &pf, NULL), 0);
	pair(a);
	passfd_add(pf, 7001, a[0]);
	const uint32_t ports[3] = {7001, 7002, 0};
	ASSERT_EQ(passfd_claim(pf, ports, on_claim, &g, &c), 0);
	passfd_free(pf);
	ASSERT_EQ(g.calls, 1);
	ASSERT_EQ(g.r, -ECANCELED);
	ASSERT_EQ(g.fds[0], -1);
	ASSERT_TRUE(host_sees_eof(a[1], 0));
	loop_free(l);
}

TEST(a_cancelled_claim_is_never_called_and_closes_what_it_got)
{
	struct loop *l;
	struct passfd *pf;
	struct passfd_claim *c;
	struct got g = {0};
	int a[2];

	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(passfd_new(l, -1, &pf, NULL), 0);
	pair(a);
	passfd_add(pf, 7101, a[0]);
	const uint32_t ports[3] = {7101, 7102, 0};
	ASSERT_EQ(passfd_claim(pf, ports, on_claim, &g, &c), 0);
	passfd_claim_cancel(pf, c);
	run_for(l, PASSFD_CLAIM_WAIT_MS + 100);
	ASSERT_EQ(g.calls, 0);
	ASSERT_TRUE(host_sees_eof(a[1], 0));
	passfd_free(pf);
	loop_free(l);
}

/* --- relays ---------------------------------------------------------------------------- */

static void on_io_done(void *ctx)
{
	(*(int *)ctx)++;
}

static unsigned char pattern(uint64_t i)
{
	return (unsigned char)(i * 131 + (i >> 12));
}

/* A child writing n pattern bytes to fd, then exiting. */
static pid_t writer(int fd, uint64_t n, int *others, int n_others)
{
	pid_t pid = fork();

	ASSERT_TRUE(pid >= 0);
	if (pid)
		return pid;
	for (int i = 0; i < n_others; i++)
		close(others[i]);
	static unsigned char buf[65536];
	for (uint64_t off = 0; off < n;) {
		size_t k = MIN(sizeof(buf), n - off);
		for (size_t i = 0; i < k; i++)
			buf[i] = pattern(off + i);
		size_t done = 0;
		while (done < k) {
			ssize_t w = write(fd, buf + done, k - done);
			if (w < 0 && errno == EAGAIN) {
				struct pollfd p = {.fd = fd, .events = POLLOUT};
				poll(&p, 1, -1);
				continue;
			}
			if (w <= 0)
				_exit(2);
			done += (size_t)w;
		}
		off += k;
	}
	_exit(0);
}

/* A child reading fd to EOF: exit 0 if it got exactly n pattern bytes. */
static pid_t reader(int fd, uint64_t n, int *others, int n_others)
{
	pid_t pid = fork();

	ASSERT_TRUE(pid >= 0);
	if (pid)
		return pid;
	for (int i = 0; i < n_others; i++)
		close(others[i]);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	static unsigned char buf[65536];
	uint64_t got = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0)
			_exit(3);
		if (r == 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != pattern(got + (uint64_t)i))
				_exit(4);
		got += (uint64_t)r;
	}
	_exit(got == n ? 0 : 5);
}

static int wait_exit(pid_t pid)
{
	int st;

	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

TEST_TIMEOUT(output_reaches_the_stream_byte_exact_and_then_eof, 120)
{
	const uint64_t n = 64ull << 20;
	struct loop *l;
	struct stdio_stream in, out, err;
	struct passfd_io *io;
	int pipe_out[2], sp[2], done = 0;

	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(pipe2(pipe_out, O_CLOEXEC), 0);
	pair(sp);
	stdio_stream_init(&in, l, -1, false, false);
	stdio_stream_init(&out, l, pipe_out[0], true, false);
	stdio_stream_init(&err, l, -1, true, false);
	int fds[3] = {-1, sp[0], -1};
	ASSERT_EQ(passfd_io_start(l, fds, false, &in, &out, &err, &io, NULL), 0);
	ASSERT_TRUE(io != NULL);
	ASSERT_EQ(fds[1], -1);
	/* The stdio stream is not read any more: ReadStdout would answer EOF. */
	ASSERT_EQ(out.fd, -1);
	ASSERT_TRUE(out.eof);
	int others[] = {sp[1], pipe_out[0]};
	pid_t w = writer(pipe_out[1], n, others, 2);
	int others2[] = {pipe_out[1]};
	pid_t rd = reader(sp[1], n, others2, 1);
	close(pipe_out[1]);
	close(sp[1]);
	int st = -1;
	while (waitpid(w, &st, WNOHANG) == 0)
		loop_run_once(l, 10);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* The process exited: the relay copies the rest, then reports. */
	if (passfd_io_exited(io, on_io_done, &done) == 1)
		done++;
	run_until(l, &done, 1, 30000);
	ASSERT_EQ(done, 1);
	ASSERT_EQ(wait_exit(rd), 0);
	passfd_io_free(io);
	loop_free(l);
}

TEST(stdin_from_the_stream_reaches_the_process_then_eof)
{
	struct loop *l;
	struct stdio_stream in, out, err;
	struct passfd_io *io;
	int pipe_in[2], sp[2];
	char buf[64];

	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(pipe2(pipe_in, O_CLOEXEC), 0);
	pair(sp);
	stdio_stream_init(&in, l, pipe_in[1], false, false);
	stdio_stream_init(&out, l, -1, true, false);
	stdio_stream_init(&err, l, -1, true, false);
	int fds[3] = {sp[0], -1, -1};
	ASSERT_EQ(passfd_io_start(l, fds, false, &in, &out, &err, &io, NULL), 0);
	ASSERT_EQ(in.fd, -1); /* WriteStdin has nothing to write to */
	ASSERT_EQ(write(sp[1], "hello", 5), 5);
	ASSERT_EQ(shutdown(sp[1], SHUT_WR), 0); /* the host's EOF */
	size_t got = 0;
	uint64_t end = loop_now_ms() + 5000;
	fcntl(pipe_in[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		loop_run_once(l, 10);
		ssize_t r = read(pipe_in[0], buf + got, sizeof(buf) - got);
		if (r == 0)
			break;
		if (r > 0)
			got += (size_t)r;
		ASSERT_TRUE(loop_now_ms() < end);
	}
	ASSERT_EQ(got, 5);
	ASSERT_EQ(memcmp(buf, "hello", 5), 0);
	close(pipe_in[0]);
	close(sp[1]);
	passfd_io_free(io);
	loop_free(l);
}

TEST(a_host_that_does_not_read_holds_the_process_back_and_the_exit_report)
{
	struct loop *l;
	struct stdio_stream in, out, err;
	struct passfd_io *io;
	int pipe_out[2], sp[2], done = 0;
	static unsigned char buf[1 << 20];

	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(pipe2(pipe_out, O_CLOEXEC | O_NONBLOCK), 0);
	pair(sp);
	stdio_stream_init(&in, l, -1, false, false);
	stdio_stream_init(&out, l, pipe_out[0], true, false);
	stdio_stream_init(&err, l, -1, true, false);
	int fds[3] = {-1, sp[0], -1};
	ASSERT_EQ(passfd_io_start(l, fds, false, &in, &out, &err, &io, NULL), 0);
	/* Write as much as goes in, with the loop relaying, while the host reads nothing. */
	size_t total = 0;
	for (int idle = 0; idle < 20 && total < (64u << 20);) {
		ssize_t w = write(pipe_out[1], buf, sizeof(buf));
		if (w > 0)
			total += (size_t)w, idle = 0;
		else
			idle++;
		loop_run_once(l, 5);
	}
	/* Bounded by the pipe, the socket buffers and one relay chunk: nothing piles up. */
	ASSERT_TRUE(total < (16u << 20));
	close(pipe_out[1]);
	ASSERT_EQ(passfd_io_exited(io, on_io_done, &done), 0);
	run_for(l, STDIO_DRAIN_MS + 200);
	ASSERT_EQ(done, 0); /* the output is not lost: the report waits for the host */
	/* The host reads it all now: the report follows, and every byte came. */
	size_t got = 0;
	fcntl(sp[1], F_SETFL, O_NONBLOCK);
	uint64_t end = loop_now_ms() + 10000 * test_time_scale();
	for (;;) {
		ssize_t r = read(sp[1], buf, sizeof(buf));
		if (r == 0)
			break;
		if (r > 0)
			got += (size_t)r;
		else
			loop_run_once(l, 5);
		ASSERT_TRUE(loop_now_ms() < end);
	}
	ASSERT_EQ(got, total);
	run_until(l, &done, 1, 1000);
	ASSERT_EQ(done, 1);
	close(sp[1]);
	passfd_io_free(io);
	loop_free(l);
}

TEST(a_grandchild_holding_the_pipe_ends_the_stream_after_the_drain_window)
{
	struct loop *l;
	struct stdio_stream in, out, err;
	struct passfd_io *io;
	int pipe_out[2], sp[2], done = 0;

	ASSERT_EQ(loop_new(&l), 0);
	ASSERT_EQ(pipe2(pipe_out, O_CLOEXEC), 0);
	pair(sp);
	stdio_stream_init(&in, l, -1, false, false);
	stdio_stream_init(&out, l, pipe_out[0], true, false);
	stdio_stream_init(&err, l, -1, true, false);
	int fds[3] = {-1, sp[0], -1};
	ASSERT_EQ(passfd_io_start(l, fds, false, &in, &out, &err, &io, NULL), 0);
	ASSERT_EQ(write(pipe_out[1], "last", 4), 4);
	/* pipe_out[1] stays open: the grandchild. The process itself exited. */
	uint64_t t0 = loop_now_ms();
	ASSERT_EQ(passfd_io_exited(io, on_io_done, &done), 0);
	run_until(l, &done, 1, 5000);
	ASSERT_EQ(done, 1);
	ASSERT_GE(loop_now_ms() - t0, STDIO_DRAIN_MS);
	char buf[16];
	ASSERT_EQ(read(sp[1], buf, sizeof(buf)), 4);
	ASSERT_TRUE(host_sees_eof(sp[1], 1000));
	/* The grandchild's later writes fail: the agent closed its end. */
	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(write(pipe_out[1], "x", 1), -1);
	ASSERT_EQ(errno, EPIPE);
	close(pipe_out[1]);
	close(sp[1]);
	passfd_io_free(io);
	loop_free(l);
}

TEST(with_a_pty_stdin_goes_to_the_master_and_its_output_to_stdout)
{
	struct loop *l;
	struct stdio_stream in, out, err;
	struct passfd_io *io;
	int m, s, sin[2], sout[2], serr[2], done = 0;
	char buf[64];

	ASSERT_EQ(loop_new(&l), 0);
	if (openpty(&m, &s, NULL, NULL, NULL) < 0)
		SKIP("no pty: %s", strerror(errno));
	struct termios t;
	ASSERT_EQ(tcgetattr(s, &t), 0);
	cfmakeraw(&t);
	ASSERT_EQ(tcsetattr(s, TCSANOW, &t), 0);
	pair(sin);
	pair(sout);
	pair(serr);
	stdio_stream_init(&in, l, fcntl(m, F_DUPFD_CLOEXEC, 3), false, true);
	stdio_stream_init(&out, l, m, true, true);
	stdio_stream_init(&err, l, -1, true, true);
	int fds[3] = {sin[0], sout[0], serr[0]};
	ASSERT_EQ(passfd_io_start(l, fds, true, &in, &out, &err, &io, NULL), 0);
	/* The master stays with the stream (TtyWinResize), but reads go to the relay. */
	ASSERT_EQ(out.fd, m);
	ASSERT_TRUE(out.eof);
	ASSERT_EQ(write(sin[1], "typed", 5), 5);
	size_t got = 0;
	fcntl(s, F_SETFL, O_NONBLOCK);
	uint64_t end = loop_now_ms() + 5000;
	while (got < 5) {
		loop_run_once(l, 10);
		ssize_t r = read(s, buf + got, sizeof(buf) - got);
		if (r > 0)
			got += (size_t)r;
		ASSERT_TRUE(loop_now_ms() < end);
	}
	ASSERT_EQ(memcmp(buf, "typed", 5), 0);
	ASSERT_EQ(write(s, "shown", 5), 5);
	got = 0;
	fcntl(sout[1], F_SETFL, O_NONBLOCK);
	while (got < 5) {
		loop_run_once(l, 10);
		ssize_t r = read(sout[1], buf + got, sizeof(buf) - got);
		if (r > 0)
			got += (size_t)r;
		ASSERT_TRUE(loop_now_ms() < end);
	}
	ASSERT_EQ(memcmp(buf, "shown", 5), 0);
	/* stderr gets nothing, and stays open until the exit. */
	ASSERT_FALSE(host_sees_eof(serr[1], 0));
	close(s); /* the last slave: the master reads EIO, its EOF */
	int r = passfd_io_exited(io, on_io_done, &done);
	if (r == 1)
		done++;
	run_until(l, &done, 1, 5000);
	ASSERT_EQ(done, 1);
	ASSERT_TRUE(host_sees_eof(sout[1], 1000));
	ASSERT_TRUE(host_sees_eof(serr[1], 1000));
	/* stdin's relay ended at the exit: the host's writes fail. */
	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(write(sin[1], "late", 4), -1);
	ASSERT_EQ(errno, EPIPE);
	stdio_stream_release(&in);
	stdio_stream_release(&out);
	passfd_io_free(io);
	close(sin[1]);
	close(sout[1]);
	close(serr[1]);
	loop_free(l);
}
