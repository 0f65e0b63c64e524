// SPDX-License-Identifier: Apache-2.0
#include "init/console.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>

#include "base/log.h"
#include "loop/fork.h"

#define RELAY_BUF 4096
#define RESTART_DELAY_MS 1000

struct relay {
	char buf[RELAY_BUF];
	size_t len;
};

struct debug_console {
	struct loop *loop;
	struct reaper *reaper;
	char *tty_path; /* tty mode */
	int listen_fd; /* listener mode, -1 otherwise */
	struct loop_io *listen_io;
	struct loop_timer *restart;
	pid_t shell;
	/* the session (listener mode) */
	int sock, master;
	struct loop_io *sock_io, *master_io;
	struct relay to_shell, to_client;
};

static const char *const shells[] = {"/run/kata-extensions/devkit/bin/devkit-sh", "/bin/bash",
				     "/bin/sh"};

const char *debug_console_shell(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(shells); i++)
		if (access(shells[i], X_OK) == 0)
			return shells[i];
	return NULL;
}

/*
 * The shell on `tty_fd` as its controlling terminal, claimed by THE reaper
 * (loop_fork: it keeps only that fd, default signals); returns its pid or -errno.
 */
static pid_t spawn_shell(struct debug_console *c, int tty_fd)
{
	const char *sh = debug_console_shell();
	pid_t pid;

	if (!sh)
		return -ENOENT;
	pid = loop_fork(c->reaper, &tty_fd, 1, 0, NULL, NULL);
	if (pid != 0)
		return pid;
	setsid();
	if (dup2(tty_fd, 0) < 0 || dup2(tty_fd, 1) < 0 || dup2(tty_fd, 2) < 0)
		_exit(126);
	ioctl(0, TIOCSCTTY, 1);
	const char *base = strrchr(sh, '/') ? strrchr(sh, '/') + 1 : sh;
	execl(sh, base, "-i", (char *)NULL);
	_exit(127);
}

/* --- /dev/console ----------------------------------------------------------------------- */

static void tty_start(struct debug_console *c);

static void on_restart(struct loop_timer *t, void *data)
{
	struct debug_console *c = data;

	c->restart = NULL;
	tty_start(c);
}

static void on_tty_shell_exit(pid_t pid, int status, void *data)
{
	struct debug_console *c = data;

	c->shell = 0;
	log_info("console", "debug console shell exited (status %d): restarting it",
		 reaper_exit_code(status));
	c->restart = loop_timer_add(c->loop, loop_now_ms() + RESTART_DELAY_MS, on_restart, c);
}

static void tty_start(struct debug_console *c)
{
	int fd = open(c->tty_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	pid_t pid;

	if (fd < 0) {
		log_error("console", "debug console: cannot open %s: %s", c->tty_path,
			  strerror(errno));
		return;
	}
	pid = spawn_shell(c, fd);
	close(fd);
	if (pid == -ENOENT) {
		log_error("console", "debug console: no shell (looked for devkit-sh, bash, sh)");
		return;
	}
	if (pid < 0) {
		log_error("console", "debug console: fork: %s", strerror((int)-pid));
		return;
	}
	c->shell = pid;
	reaper_watch(c->reaper, pid, on_tty_shell_exit, c);
}

static struct debug_console *console_new(struct loop *l, struct reaper *r)
{
	struct debug_console *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->loop = l;
	c->reaper = r;
	c->listen_fd = c->sock = c->master = -1;
	return c;
}

int debug_console_start_tty(struct loop *l, struct reaper *r, const char *tty_path,
			    struct debug_console **ret, agent_error_t **err)
{
	struct debug_console *c = console_new(l, r);

	if (!c || !(c->tty_path = strdup(tty_path))) {
		free(c);
		return agent_error_set(err, ENOMEM, "out of memory");
	}
	tty_start(c);
	*ret = c;
	return 0;
}

/* --- sessions on a listener ------------------------------------------------------------- */

static void session_end(struct debug_console *c)
{
	if (c->shell > 0) {
		reaper_kill(c->reaper, c->shell, SIGKILL);
		reaper_unwatch(c->reaper, c->shell);
		c->shell = 0;
	}
	c->sock_io = loop_io_del(c->loop, c->sock_io);
	c->master_io = loop_io_del(c->loop, c->master_io);
	c->sock = safe_close(c->sock);
	c->master = safe_close(c->master);
	c->to_shell.len = c->to_client.len = 0;
	/* Ready for the next connection. */
	if (c->listen_io)
		loop_io_set_events(c->loop, c->listen_io, EPOLLIN);
}

static void session_update(struct debug_console *c)
{
	uint32_t se = 0, me = 0;

	if (c->to_shell.len < RELAY_BUF)
		se |= EPOLLIN;
	if (c->to_client.len)
		se |= EPOLLOUT;
	if (c->to_client.len < RELAY_BUF)
		me |= EPOLLIN;
	if (c->to_shell.len)
		me |= EPOLLOUT;
	loop_io_set_events(c->loop, c->sock_io, se);
	loop_io_set_events(c->loop, c->master_io, me);
}

/* Moves bytes from fd into r; false when the fd is finished (EOF or error). */
static bool fill(int fd, struct relay *r)
{
	ssize_t n = read(fd, r->buf + r->len, RELAY_BUF - r->len);

	if (n > 0) {
		r->len += n;
		return true;
	}
	return n < 0 && (errno == EAGAIN || errno == EINTR);
}

static bool drain(int fd, struct relay *r)
{
	ssize_t n = send(fd, r->buf, r->len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0 && errno == ENOTSOCK)
		n = write(fd, r->buf, r->len);
	if (n > 0) {
		memmove(r->buf, r->buf + n, r->len - n);
		r->len -= n;
		return true;
	}
	return n < 0 && (errno == EAGAIN || errno == EINTR);
}

static void on_session_io(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct debug_console *c = data;
	bool ok = true;

	if (fd == c->sock) {
		if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->to_shell.len < RELAY_BUF)
			ok = fill(c->sock, &c->to_shell);
		if (ok && (events & EPOLLOUT) && c->to_client.len)
			ok = drain(c->sock, &c->to_client);
	} else {
		if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->to_client.len < RELAY_BUF)
			ok = fill(c->master, &c->to_client);
		if (ok && (events & EPOLLOUT) && c->to_shell.len)
			ok = drain(c->master, &c->to_shell);
		/* The shell is gone: deliver what it wrote, then end. */
		if (!ok && c->to_client.len)
			while (c->to_client.len && drain(c->sock, &c->to_client))
				;
	}
	if (!ok) {
		session_end(c);
		return;
	}
	session_update(c);
}

static void on_session_shell_exit(pid_t pid, int status, void *data)
{
	struct debug_console *c = data;

	/* The master reads EIO once the output is drained: the session ends there. */
	c->shell = 0;
}

static void on_accept(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct debug_console *c = data;
	int s = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), m = -1, slave = -1;
	char name[64];
	pid_t pid;

	if (s < 0)
		return;
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, name, sizeof(name)) != 0 ||
	    (slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		log_error("console", "debug console: no pty: %s", strerror(errno));
		goto fail;
	}
	pid = spawn_shell(c, slave);
	close(slave);
	if (pid < 0) {
		log_error("console", "debug console: cannot start a shell: %s",
			  pid == -ENOENT ? "none of devkit-sh, bash, sh exists"
					 : strerror((int)-pid));
		goto fail;
	}
	c->shell = pid;
	reaper_watch(c->reaper, pid, on_session_shell_exit, c);
	c->sock = s;
	c->master = m;
	c->sock_io = loop_io_add(c->loop, s, EPOLLIN, on_session_io, c);
	c->master_io = loop_io_add(c->loop, m, EPOLLIN, on_session_io, c);
	if (!c->sock_io || !c->master_io) {
		session_end(c);
		return;
	}
	/* One session at a time: the next client waits in the backlog. */
	loop_io_set_events(c->loop, c->listen_io, 0);
	log_info("console", "debug console session started");
	return;
fail:
	safe_close(m);
	close(s);
}

int debug_console_start_listener(struct loop *l, struct reaper *r, int listen_fd,
				 struct debug_console **ret, agent_error_t **err)
{
	struct debug_console *c = console_new(l, r);

	if (!c) {
		close(listen_fd);
		return agent_error_set(err, ENOMEM, "out of memory");
	}
	c->listen_fd = listen_fd;
	c->listen_io = loop_io_add(l, listen_fd, EPOLLIN, on_accept, c);
	if (!c->listen_io) {
		int r2 = agent_error_setsys(err, errno, "watching the debug console listener");
		debug_console_stop(c);
		return r2;
	}
	*ret = c;
	return 0;
}

struct debug_console *debug_console_stop(struct debug_console *c)
{
	if (!c)
		return NULL;
	c->restart = loop_timer_cancel(c->loop, c->restart);
	if (c->tty_path && c->shell > 0) {
		reaper_kill(c->reaper, c->shell, SIGKILL);
		reaper_unwatch(c->reaper, c->shell);
		c->shell = 0;
	}
	session_end(c);
	c->listen_io = loop_io_del(c->loop, c->listen_io);
	safe_close(c->listen_fd);
	free(c->tty_path);
	free(c);
	return NULL;
}
