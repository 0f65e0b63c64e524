// SPDX-License-Identifier: Apache-2.0
/*
 * The container child, from fork to exec. Every failure is reported to the
 * agent over the set-up channel (SYNC_ERROR with errno and text) and the
 * child exits. Order: wait until the agent placed us in the cgroup,
 * oom_score_adj and rlimits, join namespaces by fd (mount last), user namespace
 * (the agent writes the maps), the other new namespaces, hostname, rootfs,
 * cwd, stdio and session, credentials and capabilities, seccomp, environment,
 * program lookup, then (init) park until StartContainer, and exec.
 */
#include "container/launch-child.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "base/fsutil.h"
#include "container/caps.h"
#include "container/hooks.h"
#include "container/procenv.h"
#include "container/rlimits.h"
#include "container/rootfs.h"
#include "container/seccomp.h"
#include "container/sync.h"
#include "loop/fork.h"

/* Reports the error to the agent and exits: the child's only way out before exec. */
_noreturn_ static void child_fail(int sock, int errnum, const char *fmt, ...) _printf_(3, 4);
_noreturn_ static void child_fail(int sock, int errnum, const char *fmt, ...)
{
	char msg[SYNC_TEXT_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (errnum > 0 && n >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(errnum));
	sync_send(sock, SYNC_ERROR, errnum > 0 ? errnum : EIO, msg);
	_exit(127);
}

_noreturn_ static void child_fail_err(int sock, agent_error_t *err, const char *what)
{
	sync_send_status(sock, SYNC_ERROR, err && err->errnum ? err->errnum : EIO,
			 err ? err->status : 0, err && err->msg ? err->msg : what);
	_exit(127);
}

struct child_hook_report {
	int sock;
	struct sync_seq *seq;
	const char *kind;
};

static void child_hook_failed(const agent_error_t *err, void *data)
{
	const struct child_hook_report *rep = data;
	char line[SYNC_TEXT_MAX];

	snprintf(line, sizeof(line), "%s hook failed: %s", rep->kind, err->msg);
	/* More lines than hooks is out of the table: dropped, never sent. */
	(void)sync_send_seq(rep->sock, rep->seq, SYNC_LOG, 0, line);
}

/* Runs one kind of hook in the child; failures are only reported as log lines. */
static void run_child_hooks(int sock, struct sync_seq *seq, const struct launch_config *cfg,
			    Grpc__Hook **hooks, size_t n, const char *kind)
{
	struct child_hook_report rep = {.sock = sock, .seq = seq, .kind = kind};
	char *state;

	if (n == 0)
		return;
	state = oci_state_json(cfg->id, "created", getpid(), cfg->bundle, cfg->spec);
	hooks_run_each(hooks, n, state, child_hook_failed, &rep);
	free(state);
}

void launch_seq_init(struct sync_seq *s, enum sync_side side, const struct launch_child_args *a)
{
	const struct launch_config *cfg = a->cfg;
	const Grpc__Hooks *h = cfg->spec->hooks;
	unsigned shape = 0;

	if (cfg->init)
		shape |= SYNC_SHAPE_INIT;
	if (a->new_user)
		shape |= SYNC_SHAPE_USERNS;
	if (a->pid_after_user)
		shape |= SYNC_SHAPE_PID_AFTER_USER;
	sync_seq_init(s, side, shape, cfg->init && h ? h->n_createcontainer : 0,
		      cfg->init && h ? h->n_startcontainer : 0);
}

static void write_proc_self(int sock, const char *file, const char *text)
{
	_cleanup_close_ int fd = open(file, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		child_fail(sock, errno, "writing %s", file);
}

static const enum ns_type join_order[] = {NS_USER, NS_IPC, NS_UTS, NS_NET, NS_CGROUP, NS_MNT};

static void join_namespaces(int sock, const struct launch_child_args *a)
{
	for (size_t i = 0; i < ARRAY_SIZE(join_order); i++) {
		enum ns_type t = join_order[i];

		if (a->join_fds[t] < 0)
			continue;
		if (setns(a->join_fds[t], ns_clone_flag(t)) < 0) {
			/* Joining the user namespace we are already in is EINVAL: harmless. */
			if (t == NS_USER && errno == EINVAL)
				continue;
			child_fail(sock, errno, "joining the %s namespace", ns_oci_name(t));
		}
	}
}

/* Namespaces the spec asks for without a path and that nobody gave us to join. */
static int new_namespace_flags(const struct launch_child_args *a)
{
	const struct launch_config *cfg = a->cfg;
	const Grpc__Linux *lx = cfg->spec->linux;
	int flags = 0;
	bool cgroupns = false;

	if (!cfg->init || !lx)
		return 0;
	for (size_t i = 0; i < lx->n_namespaces; i++) {
		int t = ns_type_from_oci(lx->namespaces[i]->type);

		if (t < 0 || t == NS_PID || t == NS_USER || a->join_fds[t] >= 0)
			continue;
		flags |= ns_clone_flag(t);
		if (t == NS_CGROUP)
			cgroupns = true;
	}
	/* With cgroup v2 the container always sees its own cgroup as the root. */
	if (cfg->cgroup_v2 && !cgroupns && a->join_fds[NS_CGROUP] < 0)
		flags |= CLONE_NEWCGROUP;
	return flags;
}

static void become_userns_root(int sock, struct sync_seq *seq)
{
	struct sync_msg m;

	if (unshare(CLONE_NEWUSER) < 0)
		child_fail(sock, errno, "creating the user namespace");
	if (sync_send_seq(sock, seq, SYNC_USERNS, 0, NULL) < 0 ||
	    sync_recv_seq(sock, seq, &m) < 0 || m.step != SYNC_MAPS_DONE)
		child_fail(sock, EPROTO, "waiting for the id maps");
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		child_fail(sock, errno, "becoming root in the user namespace");
}

static void setup_stdio(int sock, const struct launch_config *cfg, uid_t uid, gid_t gid)
{
	int fds[3];

	/* Move the ends out of 0..2 first so that dup2 never clobbers one we still need. */
	for (int i = 0; i < 3; i++) {
		fds[i] = fcntl(cfg->stdio[i], F_DUPFD_CLOEXEC, 3);
		if (fds[i] < 0)
			child_fail(sock, errno, "duplicating stdio");
	}
	for (int i = 0; i < 3; i++) {
		if (dup2(fds[i], i) < 0)
			child_fail(sock, errno, "setting up stdio");
		if (uid != 0 && fchown(i, uid, gid) < 0 && errno != EPERM && errno != EINVAL)
			child_fail(sock, errno, "chown of stdio");
	}
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	if (setsid() < 0)
		child_fail(sock, errno, "setsid");
	if (cfg->tty && ioctl(0, TIOCSCTTY, 0) < 0)
		child_fail(sock, errno, "making the terminal the controlling one");
}

static void set_credentials(int sock, const Grpc__Process *p, bool in_userns)
{
	const Grpc__User *u = p->user;
	uid_t uid = u ? u->uid : 0;
	gid_t gid = u ? u->gid : 0;

	if (setgroups(u ? u->n_additionalgids : 0, u ? (gid_t *)u->additionalgids : NULL) < 0 &&
	    !(in_userns && errno == EPERM))
		child_fail(sock, errno, "setgroups");
	if (setresgid(gid, gid, gid) < 0)
		child_fail(sock, errno, "setresgid(%u)", (unsigned)gid);
	if (setresuid(uid, uid, uid) < 0)
		child_fail(sock, errno, "setresuid(%u)", (unsigned)uid);
}

/*
 * A new pid namespace owned by our new user namespace: unshare it and fork; the
 * grandchild is the container init. The child tells the agent the init's pid
 * and exits (the agent, a subreaper or PID 1, inherits the init); the init
 * goes on only once that message is out, so the agent hears it first.
 */
static void fork_pid_namespace_init(int sock, struct sync_seq *seq)
{
	agent_error_t *err = NULL;
	int gate[2];
	pid_t pid;
	char c;

	if (unshare(CLONE_NEWPID) < 0)
		child_fail(sock, errno, "creating the pid namespace");
	if (pipe2(gate, O_CLOEXEC) < 0)
		child_fail(sock, errno, "pipe");
	pid = loop_fork(NULL, NULL, 0, LOOP_FORK_KEEP_FDS | LOOP_FORK_KEEP_SIGNALS, NULL, &err);
	if (pid < 0)
		child_fail_err(sock, err, "forking the container init");
	if (pid > 0) {
		sync_send_seq(sock, seq, SYNC_PID, pid, NULL);
		_exit(0);
	}
	/* Our parent sent the step for both of us. */
	if (sync_seq_advance(seq, SYNC_PID, true) < 0)
		child_fail(sock, EPROTO, "the init's pid out of the step order");
	close(gate[1]);
	/* EOF once the parent is gone, and with it its message is out. */
	while (read(gate[0], &c, 1) < 0 && errno == EINTR)
		;
	close(gate[0]);
}

_noreturn_ void launch_child_main(const struct launch_child_args *a, int sock)
{
	const struct launch_config *cfg = a->cfg;
	const Grpc__Process *p = cfg->process;
	const Grpc__Linux *lx = cfg->spec->linux;
	const Grpc__LinuxSeccomp *sc = lx ? lx->seccomp : NULL;
	agent_error_t *err = NULL;
	struct cap_sets caps;
	struct sync_msg m;
	char **envp, *prog = NULL;
	uid_t uid = p->user ? p->user->uid : 0;
	gid_t gid = p->user ? p->user->gid : 0;
	bool in_userns = a->new_user || a->join_fds[NS_USER] >= 0;
	struct sync_seq seq;
	int flags;

	/* loop_fork closed every fd but ours and reset the signals. */
	launch_seq_init(&seq, SYNC_SIDE_CHILD, a);
	if (sync_recv_seq(sock, &seq, &m) < 0 || m.step != SYNC_GO)
		_exit(127);

	if (p->oomscoreadj != 0) {
		char v[32];
		snprintf(v, sizeof(v), "%lld", (long long)p->oomscoreadj);
		write_proc_self(sock, "/proc/self/oom_score_adj", v);
	}
	if (cfg->nofile.rlim_max)
		setrlimit(RLIMIT_NOFILE, &cfg->nofile);
	/*
	 * The agent's own soft core limit is 0 outside devmode: containers get the boot limit
	 * back (the agent never lowers its hard limit, so no privilege is needed), then the
	 * spec's rlimits.
	 */
	if (cfg->core.rlim_max && setrlimit(RLIMIT_CORE, &cfg->core) < 0)
		child_fail(sock, errno, "restoring the core limit %llu:%llu",
			   (unsigned long long)cfg->core.rlim_cur,
			   (unsigned long long)cfg->core.rlim_max);
	if (rlimits_apply(p, &err) < 0)
		child_fail_err(sock, err, "rlimits");
	/* Not dumpable while setting up: /proc/self stays root-owned and unreadable. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	join_namespaces(sock, a);
	if (a->new_user)
		become_userns_root(sock, &seq);
	if (a->pid_after_user)
		fork_pid_namespace_init(sock, &seq);
	flags = new_namespace_flags(a);
	if (flags && unshare(flags) < 0)
		child_fail(sock, errno, "creating namespaces (flags 0x%x)", flags);
	if ((flags & CLONE_NEWUTS) && cfg->spec->hostname[0] &&
	    sethostname(cfg->spec->hostname, strlen(cfg->spec->hostname)) < 0)
		child_fail(sock, errno, "sethostname");

	if (cfg->init) {
		struct rootfs_ctx rc = {
			.spec = cfg->spec,
			.rootfs = cfg->spec->root->path,
			.userns = in_userns,
			.cgroup_v2 = cfg->cgroup_v2,
		};
		if (flags & CLONE_NEWNS) {
			if (rootfs_prepare(&rc, &err) < 0)
				child_fail_err(sock, err, "rootfs");
			if (cfg->spec->hooks)
				run_child_hooks(sock, &seq, cfg, cfg->spec->hooks->createcontainer,
						cfg->spec->hooks->n_createcontainer,
						"createContainer");
			if (rootfs_pivot(&rc, &err) < 0 || rootfs_finish(&rc, &err) < 0)
				child_fail_err(sock, err, "rootfs");
		} else if (chroot(rc.rootfs) < 0) {
			child_fail(sock, errno, "chroot %s", rc.rootfs);
		}
		/* A missing cwd is made; a failure shows in the chdir below. */
		if (p->cwd[0])
			(void)mkdir_p(p->cwd, 0755);
	} else if (fchdir(cfg->root_fd) < 0 || chroot(".") < 0) {
		/* Joining the mount namespace put us at its root, which is the agent's
		 * own when the container has none: the container's root is the pinned one. */
		child_fail(sock, errno, "entering the container's root");
	}
	if (chdir(p->cwd[0] ? p->cwd : "/") < 0)
		child_fail(sock, errno, "chdir to %s", p->cwd);

	setup_stdio(sock, cfg, uid, gid);
	/* From here on only stdio and the set-up channel (close-on-exec) stay open. */
	if (loop_close_fds_except(&sock, 1) < 0)
		child_fail(sock, errno, "closing descriptors");

	cap_sets_from_oci(p->capabilities, &caps);
	if (cap_apply_bounding(&caps, &err) < 0)
		child_fail_err(sock, err, "capabilities");
	/* Without no_new_privs, seccomp needs CAP_SYS_ADMIN: load it while we have it. */
	if (sc && !p->nonewprivileges && seccomp_load_oci(sc, &err) < 0)
		child_fail_err(sock, err, "seccomp");
	set_credentials(sock, p, in_userns);
	if (cap_apply_sets(&caps, &err) < 0)
		child_fail_err(sock, err, "capabilities");
	if (p->nonewprivileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(sock, errno, "no_new_privs");

	if (procenv_build(p, uid, "/etc/passwd", &envp, &err) < 0)
		child_fail_err(sock, err, "environment");
	if (p->n_args == 0)
		child_fail(sock, EINVAL, "process.args is empty");
	if (procenv_find_program(p->args[0], envp, &prog, &err) < 0)
		child_fail_err(sock, err, "program");
	umask(0022);

	if (cfg->init) {
		if (sync_send_seq(sock, &seq, SYNC_READY, 0, NULL) < 0)
			_exit(127);
		if (sync_recv_seq(sock, &seq, &m) < 0 || m.step != SYNC_START)
			_exit(127);
		if (cfg->spec->hooks)
			run_child_hooks(sock, &seq, cfg, cfg->spec->hooks->startcontainer,
					cfg->spec->hooks->n_startcontainer, "startContainer");
	}
	if (sc && p->nonewprivileges && seccomp_load_oci(sc, &err) < 0)
		child_fail_err(sock, err, "seccomp");
	char **argv = calloc(p->n_args + 1, sizeof(char *));
	if (!argv)
		child_fail(sock, ENOMEM, "arguments");
	memcpy(argv, p->args, p->n_args * sizeof(char *));
	execve(prog, argv, envp);
	child_fail(sock, errno, "exec %s", prog);
}
