/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The debug console served on a listening socket: a real shell on a pty per
 * connection, one session at a time, and the next connection after it ends.
 * (The agent serves it on vsock; a unix socket is the same code path here.)
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"
#include "init/console.h"

static void on_chld(const struct signalfd_siginfo *si, void *data)
{
	reaper_reap(data);
}

struct env {
	struct loop *l;
	struct reaper r;
	struct debug_console *dc;
	struct sockaddr_un sa;
};

static void setup(struct env *e)
{
	memset(e, 0, sizeof(*e));
	if (!debug_console_shell())
		SKIP("no shell on this machine");
	reaper_init(&e->r);
	ASSERT_EQ(loop_new(&e->l), 0);
	ASSERT_EQ(loop_signal_add(e->l, SIGCHLD, on_chld, &e->r), 0);
	e->sa.sun_family = AF_UNIX;
	snprintf(e->sa.sun_path, sizeof(e->sa.sun_path), "/tmp/dbgcons-%d.sock", (int)getpid());
	unlink(e->sa.sun_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ASSERT_EQ(bind(fd, (struct sockaddr *)&e->sa, sizeof(e->sa)), 0);
	ASSERT_EQ(listen(fd, 4), 0);
	agent_error_t *err = NULL;
	ASSERT_EQ(debug_console_start_listener(e->l, &e->r, fd, &e->dc, &err), 0);
}

static int client(struct env *e)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(connect(fd, (struct sockaddr *)&e->sa, sizeof(e->sa)), 0);
	return fd;
}

/* Runs the loop until fd has text containing want (or 10 s). */
static bool expect(struct env *e, int fd, const char *want)
{
	char buf[8192] = "";
	size_t n = 0;

	for (int i = 0; i < 1000; i++) {
		loop_run_once(e->l, 10);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 0) == 1) {
			ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
			if (r <= 0)
				return false;
			n += r;
			buf[n] = 0;
			if (strstr(buf, want))
				return true;
		}
	}
	return false;
}

TEST(console_session_runs_a_shell_on_a_pty)
{
	struct env e;
	setup(&e);
	int c = client(&e);
	/* The marker is computed by the shell, so the echo of the typed line cannot match. */
	dprintf(c, "tty >/dev/null && echo TTY-$((40+2))\n");
	ASSERT_TRUE(expect(&e, c, "TTY-42"));
	/* A second client waits while the first session lives. */
	int c2 = client(&e);
	dprintf(c2, "echo SECOND-$((1+1))\n");
	for (int i = 0; i < 50; i++)
		loop_run_once(e.l, 10);
	struct pollfd p = {.fd = c2, .events = POLLIN};
	ASSERT_EQ(poll(&p, 1, 0), 0);
	/* The first leaves: its shell ends, the second session starts and runs its input. */
	dprintf(c, "exit\n");
	close(c);
	ASSERT_TRUE(expect(&e, c2, "SECOND-2"));
	close(c2);
	for (int i = 0; i < 50; i++)
		loop_run_once(e.l, 10);
	e.dc = debug_console_stop(e.dc);
	unlink(e.sa.sun_path);
	loop_free(e.l);
	reaper_release(&e.r);
}
