// SPDX-License-Identifier: Apache-2.0
/*
 * The launch protocol's step table (container/sync.c), fed through a real
 * socketpair in and out of order, and the agent side's return to its own pid
 * namespace after a fork (container/launch.c), with real pid namespaces.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container/launch.h"
#include "container/sync.h"
#include "harness.h"

/* --- the step table ---------------------------------------------------------------------- */

struct pair {
	int agent, child; /* the two ends */
	struct sync_seq a, c; /* each side's cursor */
};

static void pair_open(struct pair *p, unsigned shape, unsigned create_logs, unsigned start_logs)
{
	int sv[2];

	ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
	p->agent = sv[0];
	p->child = sv[1];
	sync_seq_init(&p->a, SYNC_SIDE_AGENT, shape, create_logs, start_logs);
	sync_seq_init(&p->c, SYNC_SIDE_CHILD, shape, create_logs, start_logs);
}

static void pair_close(struct pair *p)
{
	close(p->agent);
	close(p->child);
}

/* Agent -> child through both cursors. */
static void to_child(struct pair *p, enum sync_step step)
{
	struct sync_msg m;

	ASSERT_EQ(sync_send_seq(p->agent, &p->a, step, 0, NULL), 0);
	ASSERT_EQ(sync_recv_seq(p->child, &p->c, &m), 0);
	ASSERT_EQ(m.step, step);
}

/* Child -> agent through both cursors. */
static void to_agent(struct pair *p, enum sync_step step)
{
	struct sync_msg m;

	ASSERT_EQ(sync_send_seq(p->child, &p->c, step, 0, NULL), 0);
	ASSERT_EQ(sync_recv_seq(p->agent, &p->a, &m), 0);
	ASSERT_EQ(m.step, step);
}

/* A child that ignores the table: sent raw, the agent's cursor must refuse it. */
static void raw_to_agent_refused(struct pair *p, enum sync_step step)
{
	struct sync_msg m;
	struct sync_seq before = p->a;

	ASSERT_EQ(sync_send(p->child, step, 0, NULL), 0);
	ASSERT_EQ(sync_recv_seq(p->agent, &p->a, &m), -EPROTO);
	ASSERT_EQ(m.step, step);
	/* The cursor did not move. */
	ASSERT_EQ(p->a.pos, before.pos);
	ASSERT_EQ(p->a.logs_used, before.logs_used);
}

/* The same for an agent that ignores the table, seen by the child. */
static void raw_to_child_refused(struct pair *p, enum sync_step step)
{
	struct sync_msg m;

	ASSERT_EQ(sync_send(p->agent, step, 0, NULL), 0);
	ASSERT_EQ(sync_recv_seq(p->child, &p->c, &m), -EPROTO);
}

static void nothing_pending(int fd)
{
	struct sync_msg m;

	ASSERT_EQ(sync_recv(fd, &m), -EAGAIN);
}

TEST(table_full_init_conversation)
{
	struct pair p;

	pair_open(&p, SYNC_SHAPE_INIT | SYNC_SHAPE_USERNS | SYNC_SHAPE_PID_AFTER_USER, 2, 1);
	to_child(&p, SYNC_GO);
	to_agent(&p, SYNC_USERNS);
	to_child(&p, SYNC_MAPS_DONE);
	to_agent(&p, SYNC_PID);
	to_agent(&p, SYNC_LOG);
	to_agent(&p, SYNC_LOG);
	to_agent(&p, SYNC_READY);
	to_child(&p, SYNC_START);
	to_agent(&p, SYNC_LOG);
	to_agent(&p, SYNC_ERROR); /* exec failed: allowed at the very end too */
	raw_to_agent_refused(&p, SYNC_LOG);
	pair_close(&p);
}

TEST(table_exec_and_plain_init)
{
	struct pair p;

	/* An exec: GO, then only an error (or EOF at exec). */
	pair_open(&p, 0, 0, 0);
	to_child(&p, SYNC_GO);
	raw_to_agent_refused(&p, SYNC_READY);
	raw_to_agent_refused(&p, SYNC_LOG);
	raw_to_agent_refused(&p, SYNC_USERNS);
	raw_to_agent_refused(&p, SYNC_PID);
	to_agent(&p, SYNC_ERROR);
	pair_close(&p);

	/* An init without user namespace nor hooks: GO, READY, START. */
	pair_open(&p, SYNC_SHAPE_INIT, 0, 0);
	to_child(&p, SYNC_GO);
	raw_to_agent_refused(&p, SYNC_USERNS);
	raw_to_agent_refused(&p, SYNC_PID);
	raw_to_agent_refused(&p, SYNC_LOG);
	to_agent(&p, SYNC_READY);
	raw_to_agent_refused(&p, SYNC_READY);
	to_child(&p, SYNC_START);
	pair_close(&p);
}

TEST(table_refuses_out_of_order_and_repeats)
{
	struct pair p;

	pair_open(&p, SYNC_SHAPE_INIT | SYNC_SHAPE_USERNS | SYNC_SHAPE_PID_AFTER_USER, 1, 0);
	/* Nothing from the child before GO. */
	raw_to_agent_refused(&p, SYNC_USERNS);
	to_child(&p, SYNC_GO);
	/* The pid before the user namespace, READY before either, a step of the agent's. */
	raw_to_agent_refused(&p, SYNC_PID);
	raw_to_agent_refused(&p, SYNC_READY);
	raw_to_agent_refused(&p, SYNC_GO);
	raw_to_agent_refused(&p, SYNC_MAPS_DONE);
	raw_to_agent_refused(&p, 99);
	to_agent(&p, SYNC_USERNS);
	/* Repeated. */
	raw_to_agent_refused(&p, SYNC_USERNS);
	/* The agent cannot skip ahead either: nothing is sent. */
	ASSERT_EQ(sync_send_seq(p.agent, &p.a, SYNC_START, 0, NULL), -EPROTO);
	nothing_pending(p.child);
	to_child(&p, SYNC_MAPS_DONE);
	raw_to_child_refused(&p, SYNC_MAPS_DONE); /* the child checks too */
	to_agent(&p, SYNC_PID);
	raw_to_agent_refused(&p, SYNC_PID);
	/* One LOG per createContainer hook, no more. */
	to_agent(&p, SYNC_LOG);
	raw_to_agent_refused(&p, SYNC_LOG);
	to_agent(&p, SYNC_READY);
	/* No startContainer hooks: no LOG after START. */
	to_child(&p, SYNC_START);
	raw_to_agent_refused(&p, SYNC_LOG);
	raw_to_agent_refused(&p, SYNC_READY);
	pair_close(&p);
}

TEST(table_error_ends_the_conversation)
{
	struct pair p;

	pair_open(&p, SYNC_SHAPE_INIT, 0, 0);
	/* The agent never sends an error step. */
	ASSERT_EQ(sync_send_seq(p.agent, &p.a, SYNC_ERROR, 0, NULL), -EPROTO);
	to_child(&p, SYNC_GO);
	to_agent(&p, SYNC_ERROR);
	raw_to_agent_refused(&p, SYNC_READY);
	raw_to_agent_refused(&p, SYNC_ERROR);
	pair_close(&p);
}

/* --- the pid namespace around a launch ----------------------------------------------------- */

struct launch_env {
	struct loop *loop;
	Grpc__Spec spec;
	Grpc__Process proc;
	char *args[2];
	struct launch_config cfg;
	int calls, r;
	pid_t holder; /* init of the pid namespace the launch joins */
	int holder_gate; /* its stdin: closed, it exits */
};

static void on_done(struct launch *l, int r, agent_error_t *err, void *data)
{
	struct launch_env *e = data;

	e->calls++;
	e->r = r;
	agent_error_free(err);
}

static bool children_pidns_is_own(void)
{
	struct stat a, b;

	ASSERT_EQ(stat("/proc/self/ns/pid", &a), 0);
	if (stat("/proc/self/ns/pid_for_children", &b) < 0)
		return false;
	return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

/* A pid namespace with an init that waits on a pipe; our children's one is ours again after. */
static int pidns_holder(struct launch_env *e)
{
	int gate[2], own, fd;
	char path[64];

	ASSERT_EQ(pipe2(gate, O_CLOEXEC), 0);
	if (unshare(CLONE_NEWPID) < 0)
		SKIP("cannot make a pid namespace: %s", strerror(errno));
	e->holder = fork();
	ASSERT_TRUE(e->holder >= 0);
	if (e->holder == 0) {
		char c;
		close(gate[1]);
		while (read(gate[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(gate[0]);
	e->holder_gate = gate[1];
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)e->holder);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	ASSERT_EQ(setns(own, CLONE_NEWPID), 0);
	close(own);
	ASSERT_TRUE(children_pidns_is_own());
	return fd;
}

static void env_setup(struct launch_env *e)
{
	int devnull;

	memset(e, 0, sizeof(*e));
	ASSERT_EQ(loop_new(&e->loop), 0);
	grpc__spec__init(&e->spec);
	grpc__process__init(&e->proc);
	e->args[0] = "/bin/true";
	e->proc.args = e->args;
	e->proc.n_args = 1;
	e->proc.cwd = "/";
	e->spec.process = &e->proc;
	e->cfg.id = "x";
	e->cfg.bundle = "/";
	e->cfg.spec = &e->spec;
	e->cfg.process = &e->proc;
	for (int t = 0; t < NS_COUNT; t++)
		e->cfg.join_fds[t] = -1;
	e->cfg.root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_TRUE(e->cfg.root_fd >= 0 && devnull >= 0);
	for (int i = 0; i < 3; i++)
		e->cfg.stdio[i] = devnull;
	e->holder = -1;
}

static void env_teardown(struct launch_env *e)
{
	if (e->holder > 0) {
		close(e->holder_gate);
		ASSERT_EQ(waitpid(e->holder, NULL, 0), e->holder);
	}
	loop_free(e->loop);
}

/* No child of ours is waiting to be reaped, apart from the holder. */
static void no_new_child(void)
{
	int st;
	pid_t r = waitpid(-1, &st, WNOHANG);

	ASSERT_TRUE(r == 0 || (r < 0 && errno == ECHILD));
}

TEST(pidns_return_failure_fails_the_launch_then_is_repaired)
{
	struct launch_env e;
	struct launch *l = NULL;
	agent_error_t *err = NULL;
	int st;

	env_setup(&e);
	int ns = pidns_holder(&e);
	int bogus = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);

	/* Into the holder's namespace for the fork, and no way back (not a namespace fd). */
	e.cfg.join_fds[NS_PID] = ns;
	e.cfg.self_pidns_fd = bogus;
	ASSERT_TRUE(launch_new(e.loop, &e.cfg, on_done, &e, &l, &err) < 0);
	ASSERT_NOT_NULL(strstr(err->msg, "cannot return to the agent's pid namespace"));
	agent_error_free(err);
	err = NULL;
	ASSERT_EQ(e.calls, 0);
	/* The child forked into the namespace was killed, never left to run. */
	pid_t pid = waitpid(-1, &st, 0);
	ASSERT_TRUE(pid > 0 && pid != e.holder);
	ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	ASSERT_FALSE(children_pidns_is_own());

	/* The next launch tries to repair it; with no way back it is refused, unforked. */
	e.cfg.join_fds[NS_PID] = -1;
	ASSERT_TRUE(launch_new(e.loop, &e.cfg, on_done, &e, &l, &err) < 0);
	ASSERT_NOT_NULL(strstr(err->msg, "refusing to launch"));
	agent_error_free(err);
	err = NULL;
	no_new_child();
	ASSERT_FALSE(children_pidns_is_own());

	/* With the agent's own namespace fd it is restored before the fork, and the launch runs. */
	e.cfg.self_pidns_fd = own;
	ASSERT_EQ(launch_new(e.loop, &e.cfg, on_done, &e, &l, &err), 0);
	ASSERT_TRUE(children_pidns_is_own());
	for (int i = 0; i < 1000 && !e.calls; i++)
		loop_run_once(e.loop, 10);
	ASSERT_EQ(e.calls, 1);
	ASSERT_EQ(e.r, 0);
	ASSERT_EQ(waitpid(launch_pid(l), &st, 0), launch_pid(l));
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	launch_free(l, false);
	close(ns);
	close(bogus);
	close(own);
	env_teardown(&e);
}

TEST(exec_launch_needs_a_root)
{
	struct launch_env e;
	struct launch *l = NULL;
	agent_error_t *err = NULL;

	env_setup(&e);
	close(e.cfg.root_fd);
	e.cfg.root_fd = -1;
	e.cfg.self_pidns_fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	ASSERT_EQ(launch_new(e.loop, &e.cfg, on_done, &e, &l, &err), -EINVAL);
	agent_error_free(err);
	no_new_child();
	env_teardown(&e);
}
