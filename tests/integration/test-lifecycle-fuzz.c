// SPDX-License-Identifier: Apache-2.0
/*
 * A stateful lifecycle fuzzer: seeded random sequences of container operations (see
 * lifecycle-ops.h) against the real agent, each in a fresh private mount namespace with a
 * throwaway rootfs and its own cgroup parent (ctr.c), followed by invariants:
 *   - every reply carries a known google.rpc code and arrives before its deadline (calls that
 *     may block by design, WaitProcess, reads, writes, GetOOMEvent, get a short deadline and
 *     may answer DEADLINE_EXCEEDED; any other call that does not answer in time is a hang);
 *   - the agent is alive after every operation and answers Health.Check at the end;
 *   - every container whose create succeeded can be removed, and a failed create left none;
 *   - after the removals no process of the agent's tree, no cgroup under the test's parent, no
 *     bundle directory, no mount and no fd beyond those of the sandbox itself remain, and the
 *     agent stops cleanly (exit 0) on SIGTERM or after DestroySandbox.
 *
 * Each sequence runs in a child process; the test process is a child subreaper, so whatever
 * survives a sequence (even after a crash of the agent) comes back to it and is killed, and its
 * cgroups are thawed and removed: a failing run leaves nothing behind either.
 *
 * Environment:
 *   SEED=N              first sequence seed (decimal or 0x...); printed at the start
 *   LIFECYCLE_SECONDS=N time budget of random_sequences (default 45)
 *   LIFECYCLE_COUNT=N   at most N sequences (default 100000; 1 with SEED to replay one)
 *   LIFECYCLE_OPS=TEXT  run this one sequence (text form of lifecycle-ops.h) instead
 *   LIFECYCLE_VERBOSE=1 print every sequence before running it
 *   LIFECYCLE_KEEP_GOING=1 go on after a failing sequence (up to 16), to see several
 *   LIFECYCLE_MINIMIZE=N shrink a failing sequence for up to N s (dropping operations)
 *   LIFECYCLE_V2=1       run LIFECYCLE_OPS with the agent in cgroup v2 mode
 * On a failure the seed, the replay command and the whole sequence are printed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctr.h"
#include "harness.h"
#include "health.pb-c.h"
#include "lifecycle-ops.h"

#define MAX_OPS 64
#define SHORT_MS 300 /* deadline of calls that may block by design */
#define LONG_MS 20000 /* deadline of every other call (scaled) */

/*
 * Known-defect sequences, replayed on every run before the random ones.
 * created_container_killed: issue 11 defect 1, the agent used freed memory (and crashed) when
 * the parked init of a created but never started container died; here it dies of the
 * kill-all SignalProcess the runtime sends before RemoveContainer, or of a kill from outside.
 * exec_into_paused_container: found by this fuzzer (SEED=0x8d), ExecProcess into a paused
 * container never answered (the new process freezes on joining the cgroup).
 * hostile_specs: issue 11 and 18 shapes, each refused or survived with nothing left: a root
 * of "/", a bind of the guest's "/", a spec hook, a container without a mount namespace that
 * then gets an exec, /etc/passwd a FIFO while the create runs (the create never answered).
 */
static const struct {
	const char *name;
	const char *ops;
} regressions[] = {
	{"created_container_killed",
	 "sandbox '' '' 0 0x0 0; create c1 = 0 0x0 0; signal c1 '' 9 0x0 0"},
	{"created_container_killed_outside", "sandbox '' '' 0 0x0 0; create c1 = 0 0x0 0;"
					     "kill c1 '' 9 0x0 0; check c1 '' 0 0x0 0"},
	{"exec_into_paused_container", "sandbox '' '' 0 0x0 0; create c1 = 0 0x0 0;"
				       "pause c1 '' 0 0x0 0; exec c1 e1 0 0x0 2"},
	{"hostile_specs", "sandbox '' '' 0 0x0 0; create c1 = 0 0x20000 0; create c1 = 0 0x40000 0;"
			  "create c1 = 0 0x80000 0; create c2 = 0 0x10000 0; start c2 '' 0 0x0 0;"
			  "exec c2 e1 0 0x0 2; create c3 = 0 0x100000 0; remove c2 '' 0 0x0 0;"
			  "remove c3 '' 0 0x0 0; create c1 = 0 0x0 0; start c1 '' 0 0x0 0"},
};

/* What a sequence child tells its parent (a shared page). */
struct shared {
	pid_t agent;
	int at; /* operation being run */
	char cgparent[64];
	char rootfs[64];
	char log[128];
};

struct seq {
	struct ctr_env e;
	struct shared *sh;
	bool created[LC_N_CIDS];
	bool destroyed;
	unsigned scale;
};

static struct seq *cur;

/* ---- failing ------------------------------------------------------------------------------- */

static void print_log_tail(const char *log, int lines)
{
	FILE *f = fopen(log, "r");
	char *ring[64] = {0}, *line = NULL;
	size_t cap = 0;
	int n = 0;

	if (!f)
		return;
	if (lines > 64)
		lines = 64;
	while (getline(&line, &cap, f) > 0) {
		free(ring[n % lines]);
		ring[n % lines] = strdup(line);
		n++;
	}
	free(line);
	fclose(f);
	fprintf(stderr, "  last lines of the agent's log %s:\n", log);
	for (int i = n > lines ? n - lines : 0; i < n; i++)
		fprintf(stderr, "    %s", ring[i % lines]);
	for (int i = 0; i < 64; i++)
		free(ring[i]);
}

/* An invariant does not hold: say which and where, and end the sequence child. */
__attribute__((format(printf, 1, 2), noreturn)) static void violated(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "  INVARIANT (at operation %d): ", cur ? cur->sh->at : -1);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cur)
		print_log_tail(cur->sh->log, 25);
	fflush(stderr);
	_exit(1);
}

/* ---- processes ----------------------------------------------------------------------------- */

struct proc {
	pid_t pid, ppid;
	char state;
};

static size_t list_procs(struct proc *out, size_t cap)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < cap) {
		char p[300], buf[512];
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/stat", de->d_name);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		char *q = strrchr(buf, ')');
		int ppid;
		char st;
		if (!q || sscanf(q + 2, "%c %d", &st, &ppid) != 2)
			continue;
		out[n++] = (struct proc){atoi(de->d_name), ppid, st};
	}
	closedir(d);
	return n;
}

/* The descendants of root (not root itself), in ascending pid order; returns the count. */
static size_t descendants(pid_t root, pid_t *out, size_t cap)
{
	static struct proc all[8192];
	size_t n = list_procs(all, 8192), k = 0;
	bool in[8192] = {0};

	for (bool grew = true; grew;) {
		grew = false;
		for (size_t i = 0; i < n; i++) {
			if (in[i])
				continue;
			bool child = all[i].ppid == root;
			for (size_t j = 0; !child && j < n; j++)
				child = in[j] && all[j].pid == all[i].ppid;
			if (child)
				in[i] = grew = true;
		}
	}
	for (size_t i = 0; i < n && k < cap; i++)
		if (in[i])
			out[k++] = all[i].pid;
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && out[j - 1] > out[j]; j--) {
			pid_t t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return k;
}

static void describe_pid(pid_t pid, char *buf, size_t size)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/cmdline", pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		snprintf(buf, size, "(zombie or gone)");
		return;
	}
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
}

/* ---- cgroups ------------------------------------------------------------------------------- */

static const char *const hierarchies[] = {
	"/sys/fs/cgroup/cpu",	  "/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/cpuset",
	"/sys/fs/cgroup/memory",  "/sys/fs/cgroup/devices", "/sys/fs/cgroup/freezer",
	"/sys/fs/cgroup/blkio",	  "/sys/fs/cgroup/pids",    "/sys/fs/cgroup/unified",
	"/sys/fs/cgroup/systemd", "/sys/fs/cgroup",
};

typedef void (*cg_visit_fn)(const char *dir, void *ctx);

/* Calls fn for every directory below dir (children before their parent). */
static void cg_walk(const char *dir, cg_visit_fn fn, void *ctx)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char sub[512];
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		cg_walk(sub, fn, ctx);
		fn(sub, ctx);
	}
	closedir(d);
}

static void cg_count(const char *dir, void *ctx)
{
	char **first = ctx;
	size_t l = strlen(dir);
	/*
	 * The intermediate cgroup of a nested cgroupsPath ("<parent>/n/<cid>") is made by the
	 * agent on the way, like a pod's cgroup above its containers; only the container's own
	 * cgroup is the container's to remove.
	 */
	if (l >= 2 && !strcmp(dir + l - 2, "/n"))
		return;
	if (!*first)
		*first = strdup(dir);
}

/* The first cgroup left below the parent in any hierarchy (malloc'd), or NULL. */
static char *cg_leftover(const char *cgparent)
{
	char *first = NULL;
	for (size_t i = 0; i < sizeof(hierarchies) / sizeof(hierarchies[0]) && !first; i++) {
		char p[256];
		snprintf(p, sizeof(p), "%s%s", hierarchies[i], cgparent);
		cg_walk(p, cg_count, &first);
	}
	return first;
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0) {
			/* best effort: the file may be gone or refuse the value */
		}
		close(fd);
	}
}

static void cg_thaw_kill(const char *dir, void *ctx)
{
	char p[600], line[32];
	(void)ctx;
	snprintf(p, sizeof(p), "%s/freezer.state", dir);
	write_file(p, "THAWED");
	snprintf(p, sizeof(p), "%s/cgroup.freeze", dir);
	write_file(p, "0");
	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	FILE *f = fopen(p, "r");
	while (f && fgets(line, sizeof(line), f))
		kill(atoi(line), SIGKILL);
	if (f)
		fclose(f);
}

static void cg_rmdir(const char *dir, void *ctx)
{
	(void)ctx;
	rmdir(dir);
}

/* Thaws, empties and removes every cgroup at and below the parent, in every hierarchy. */
static void cg_scrub(const char *cgparent)
{
	for (size_t i = 0; i < sizeof(hierarchies) / sizeof(hierarchies[0]); i++) {
		char p[256];
		snprintf(p, sizeof(p), "%s%s", hierarchies[i], cgparent);
		if (access(p, F_OK) < 0)
			continue;
		cg_walk(p, cg_thaw_kill, NULL);
		cg_thaw_kill(p, NULL);
	}
	for (int tries = 0; tries < 50; tries++) {
		bool left = false;
		for (size_t i = 0; i < sizeof(hierarchies) / sizeof(hierarchies[0]); i++) {
			char p[256];
			snprintf(p, sizeof(p), "%s%s", hierarchies[i], cgparent);
			if (access(p, F_OK) < 0)
				continue;
			cg_walk(p, cg_rmdir, NULL);
			if (rmdir(p) < 0 && errno != ENOENT)
				left = true;
		}
		if (!left)
			return;
		usleep(20000);
	}
	fprintf(stderr, "  cleanup: cgroups under %s could not all be removed\n", cgparent);
}

/* ---- calls --------------------------------------------------------------------------------- */

static bool agent_died(struct seq *s, int *status)
{
	if (s->e.agent.pid <= 0)
		return false;
	if (waitpid(s->e.agent.pid, status, WNOHANG) == s->e.agent.pid) {
		s->e.agent.pid = 0;
		return true;
	}
	return false;
}

static void check_alive(struct seq *s, const char *after)
{
	int st = 0;
	if (agent_died(s, &st)) {
		if (WIFSIGNALED(st))
			violated("the agent died of signal %d (%s) after %s", WTERMSIG(st),
				 strsignal(WTERMSIG(st)), after);
		violated("the agent exited (status %d) after %s", WEXITSTATUS(st), after);
	}
}

/*
 * One call with a deadline. may_block: the call can wait by design, so DEADLINE_EXCEEDED is a
 * fine answer. Returns the status code; a missing reply or an unknown code is a violation.
 */
static int call(struct seq *s, const char *service, const char *method, const ProtobufCMessage *req,
		const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
		bool may_block)
{
	_cleanup_error_ agent_error_t *err = NULL;
	int64_t ms = may_block ? SHORT_MS : (int64_t)LONG_MS * s->scale;
	int32_t code = -1;
	char *msg = NULL;
	ProtobufCMessage *r = NULL;

	double t0 = itest_now_s();
	int rc = ttrpc_client_call_msg(s->e.c, service, method, req, resp_desc, &r, &code, &msg,
				       ms * 1000000, &err);
	double took_ms = (itest_now_s() - t0) * 1000;
	if (rc < 0) {
		/* A connection reset is most likely the agent dying: give it time to be seen. */
		for (int i = 0; i < 100 && itest_alive(s->e.agent.pid); i++) {
			check_alive(s, method);
			usleep(10000);
		}
		check_alive(s, method);
		violated("%s: no valid reply within %" PRId64 " ms (+1 s): %s", method, ms,
			 err ? err->msg : strerror(-rc));
	}
	if (code < 0 || code > 16)
		violated("%s answered an unknown status code %d: %s", method, code, msg);
	/*
	 * The agent may bound a step itself (agent.launch_process_timeout) and say so with
	 * DEADLINE_EXCEEDED; reaching the caller's deadline instead is a hang.
	 */
	if (code == GRPC_DEADLINE_EXCEEDED && !may_block && took_ms >= 0.9 * (double)ms)
		violated("%s hit its %" PRId64 " ms deadline: a hang (%s)", method, ms, msg);
	if (getenv("LIFECYCLE_VERBOSE"))
		fprintf(stderr, "    -> %s %s%s%s\n", method, grpc_code_name(code),
			*msg ? ": " : "", msg);
	free(msg);
	if (resp)
		*resp = r;
	else if (r)
		protobuf_c_message_free_unpacked(r, NULL);
	return code;
}

static int agent_call(struct seq *s, const char *method, const ProtobufCMessage *req,
		      bool may_block)
{
	return call(s, "grpc.AgentService", method, req, &google__protobuf__empty__descriptor, NULL,
		    may_block);
}

static void check_serving(struct seq *s)
{
	Grpc__CheckRequest req = GRPC__CHECK_REQUEST__INIT;
	Grpc__HealthCheckResponse *resp = NULL;
	int code =
		call(s, "grpc.Health", "Check", &req.base, &grpc__health_check_response__descriptor,
		     (ProtobufCMessage **)&resp, false);
	if (code != 0 || !resp ||
	    resp->status != GRPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING)
		violated("Health.Check: code %d, not SERVING", code);
	protobuf_c_message_free_unpacked(&resp->base, NULL);
}

/* ---- operations ---------------------------------------------------------------------------- */

static const char *eid_of(const struct lc_op *op)
{
	return op->eid == 1 ? lc_cids[op->cid] : lc_eids[op->eid];
}

/* Storage for the parts of a mutated spec that ctr.c's spec does not hold. */
struct spec_extra {
	Grpc__LinuxNamespace net;
	Grpc__LinuxNamespace *ns[8];
	Grpc__LinuxResources res;
	Grpc__LinuxPids pids;
	uint32_t gids[2];
	char cgpath[160];
	Grpc__Mount bind, *mounts[16];
	char *bind_opts[1];
	Grpc__Hooks hooks;
	Grpc__Hook hook, *hookp[1];
	char *hook_args[3];
	char *env[32];
};

static void mutate_spec(struct seq *s, Grpc__Spec *sp, uint32_t m, const char *cid,
			struct spec_extra *x)
{
	struct ctr_env *e = &s->e;
	Grpc__Linux *l = sp->linux;

	if (m & LC_M_TTY)
		sp->process->terminal = true;
	if (m & LC_M_USER) {
		sp->process->user->uid = 1000;
		sp->process->user->gid = 1000;
	}
	if (m & LC_M_NOBODY) {
		sp->process->user->uid = 65534;
		sp->process->user->gid = 65534;
		x->gids[0] = 1000;
		x->gids[1] = 4294967295u;
		sp->process->user->additionalgids = x->gids;
		sp->process->user->n_additionalgids = 2;
	}
	size_t n = 0;
	for (size_t i = 0; i < l->n_namespaces && n < 7; i++) {
		const char *t = l->namespaces[i]->type;
		if ((m & LC_M_NO_PIDNS) && strcmp(t, "pid") == 0)
			continue;
		if ((m & LC_M_NO_MNTNS) && strcmp(t, "mount") == 0)
			continue;
		x->ns[n++] = l->namespaces[i];
	}
	if (m & LC_M_NETNS) {
		grpc__linux_namespace__init(&x->net);
		x->net.type = "network";
		x->ns[n++] = &x->net;
	}
	l->namespaces = x->ns;
	l->n_namespaces = (m & LC_M_NO_NS) ? 0 : n;
	if (m & (LC_M_MEMLIMIT | LC_M_PIDS)) {
		grpc__linux_resources__init(&x->res);
		l->resources = &x->res;
	}
	if (m & LC_M_MEMLIMIT) {
		static Grpc__LinuxMemory mem;
		grpc__linux_memory__init(&mem);
		mem.limit = mem.swap = 16 << 20;
		x->res.memory = &mem;
	}
	if (m & LC_M_PIDS) {
		grpc__linux_pids__init(&x->pids);
		x->pids.limit = 4;
		x->res.pids = &x->pids;
	}
	if (m & LC_M_CG_SHARED) {
		snprintf(x->cgpath, sizeof(x->cgpath), "%s/shared", e->cgparent);
		l->cgroupspath = x->cgpath;
	} else if (m & LC_M_CG_NESTED) {
		snprintf(x->cgpath, sizeof(x->cgpath), "%s/n/%s", e->cgparent, cid);
		l->cgroupspath = x->cgpath;
	}
	if (m & LC_M_NO_ARGS)
		sp->process->n_args = 0;
	if (m & LC_M_BAD_CWD)
		sp->process->cwd = "/nonexistent";
	if (m & LC_M_BAD_BIN)
		sp->process->args[0] = "/bin/nonexistent";
	if (m & LC_M_RO_ROOT)
		sp->root->readonly = true;
	if (m & LC_M_ROOT_OUT)
		sp->root->path = "/";
	if ((m & LC_M_BIND_OUT) && sp->n_mounts < 15) {
		grpc__mount__init(&x->bind);
		x->bind.destination = "/mnt";
		x->bind.type = "bind";
		x->bind.source = "/";
		x->bind_opts[0] = "rbind";
		x->bind.options = x->bind_opts;
		x->bind.n_options = 1;
		memcpy(x->mounts, sp->mounts, sp->n_mounts * sizeof(*x->mounts));
		x->mounts[sp->n_mounts] = &x->bind;
		sp->mounts = x->mounts;
		sp->n_mounts++;
	}
	if (m & LC_M_SPEC_HOOK) {
		grpc__hooks__init(&x->hooks);
		grpc__hook__init(&x->hook);
		x->hook.path = "/bin/sh";
		x->hook_args[0] = "sh";
		x->hook_args[1] = "-c";
		x->hook_args[2] = "true";
		x->hook.args = x->hook_args;
		x->hook.n_args = 3;
		x->hookp[0] = &x->hook;
		x->hooks.prestart = x->hookp;
		x->hooks.n_prestart = 1;
		sp->hooks = &x->hooks;
	}
	if ((m & LC_M_PASSWD_FIFO) && sp->process) {
		/* The agent must look the user up in the rootfs: no HOME given. */
		size_t k = 0;
		for (size_t i = 0; i < sp->process->n_env && k < 32; i++)
			if (strncmp(sp->process->env[i], "HOME=", 5) != 0)
				x->env[k++] = sp->process->env[i];
		sp->process->env = x->env;
		sp->process->n_env = k;
	}
	if (m & LC_M_NO_LINUX)
		sp->linux = NULL;
	if (m & LC_M_NO_PROCESS)
		sp->process = NULL;
}

static void op_create(struct seq *s, const struct lc_op *op)
{
	const char *cid = lc_cids[op->cid];
	/* The cgroup path is built from the id: only ids that cannot leave the parent go in it. */
	const char *safe = op->cid < LC_GOOD_CIDS + 1 ? cid : "bad";
	struct ctr_spec *cs = ctr_spec_new(&s->e, safe, lc_program(op->arg));
	struct spec_extra x;
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;

	memset(&x, 0, sizeof(x));
	mutate_spec(s, ctr_spec_get(cs), op->mut, safe, &x);
	req.container_id = req.exec_id = (char *)cid;
	req.oci = ctr_spec_get(cs);
	char passwd[300], saved[320];
	bool fifo = false;
	if (op->mut & LC_M_PASSWD_FIFO) {
		/* The rootfs's /etc/passwd is a FIFO nobody writes for as long as the create runs.
		 */
		snprintf(passwd, sizeof(passwd), "%s/etc/passwd", s->e.rootfs);
		snprintf(saved, sizeof(saved), "%s.lc-saved", passwd);
		fifo = rename(passwd, saved) == 0 && mkfifo(passwd, 0644) == 0;
	}
	if (agent_call(s, "CreateContainer", &req.base, false) == 0)
		s->created[op->cid] = true;
	if (fifo) {
		unlink(passwd);
		if (rename(saved, passwd) < 0)
			FAIL("cannot put %s back: %s", passwd, strerror(errno));
	}
	ctr_spec_free(cs);
}

static void op_exec(struct seq *s, const struct lc_op *op)
{
	Grpc__ExecProcessRequest req = GRPC__EXEC_PROCESS_REQUEST__INIT;
	Grpc__Process *p = ctr_process_new(lc_program(op->arg));

	if (op->mut & LC_M_TTY)
		p->terminal = true;
	if (op->mut & (LC_M_USER | LC_M_NOBODY)) {
		p->user = calloc(1, sizeof(*p->user));
		grpc__user__init(p->user);
		p->user->uid = p->user->gid = (op->mut & LC_M_USER) ? 1000 : 65534;
	}
	if (op->mut & LC_M_BAD_CWD) {
		free(p->cwd);
		p->cwd = strdup("/nonexistent");
	}
	if (op->mut & LC_M_BAD_BIN) {
		free(p->args[0]);
		p->args[0] = strdup("/bin/nonexistent");
	}
	if (op->mut & LC_M_NO_ARGS) {
		for (size_t i = 0; i < p->n_args; i++)
			free(p->args[i]);
		p->n_args = 0;
	}
	req.container_id = (char *)lc_cids[op->cid];
	req.exec_id = (char *)eid_of(op);
	req.process = (op->mut & LC_M_NO_PROCESS) ? NULL : p;
	agent_call(s, "ExecProcess", &req.base, false);
	ctr_process_free(p);
}

/* Whether pid is in a cgroup below the test's parent: a container's process, parked or not. */
static bool in_container(pid_t pid, const char *cgparent)
{
	char p[64], *buf = NULL;
	size_t cap = 0;
	bool yes = false;

	snprintf(p, sizeof(p), "/proc/%d/cgroup", pid);
	FILE *f = fopen(p, "r");
	while (f && !yes && getline(&buf, &cap, f) > 0)
		yes = strstr(buf, cgparent) != NULL;
	free(buf);
	if (f)
		fclose(f);
	return yes;
}

/*
 * kill(2) from outside, as the OOM killer would, of one container process (the arg-th, by
 * pid); the agent's own helpers are not a target.
 */
static void op_kill(struct seq *s, const struct lc_op *op)
{
	pid_t pids[256], targets[256];
	size_t n = descendants(s->e.agent.pid, pids, 256), k = 0;
	for (size_t i = 0; i < n; i++)
		if (in_container(pids[i], s->e.cgparent))
			targets[k++] = pids[i];
	if (k > 0)
		kill(targets[op->arg % k], op->sig);
	usleep(20000);
}

static void op_update(struct seq *s, const struct lc_op *op)
{
	Grpc__UpdateContainerRequest req = GRPC__UPDATE_CONTAINER_REQUEST__INIT;
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	Grpc__LinuxMemory mem = GRPC__LINUX_MEMORY__INIT;
	Grpc__LinuxCPU cpu = GRPC__LINUX_CPU__INIT;
	Grpc__LinuxPids pids = GRPC__LINUX_PIDS__INIT;

	req.container_id = (char *)lc_cids[op->cid];
	switch (op->mut % 8) {
	case 0:
		break;
	case 1:
		mem.limit = 8 << 20;
		res.memory = &mem;
		break;
	case 2:
		mem.limit = 256 << 20;
		res.memory = &mem;
		break;
	case 3:
		cpu.shares = 512;
		res.cpu = &cpu;
		break;
	case 4:
		pids.limit = 16;
		res.pids = &pids;
		break;
	case 5:
		mem.limit = -1;
		res.memory = &mem;
		break;
	case 6:
		cpu.quota = 50000;
		cpu.period = 100000;
		res.cpu = &cpu;
		break;
	default:
		cpu.cpus = "0";
		res.cpu = &cpu;
		break;
	}
	if (op->mut % 8)
		req.resources = &res;
	agent_call(s, "UpdateContainer", &req.base, false);
}

static void run_op(struct seq *s, const struct lc_op *op)
{
	char *cid = (char *)lc_cids[op->cid], *eid = (char *)eid_of(op);

	switch (op->kind) {
	case LC_SANDBOX: {
		Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
		req.hostname = "fuzz";
		req.sandbox_id = "fuzz-sandbox";
		agent_call(s, "CreateSandbox", &req.base, false);
		break;
	}
	case LC_CREATE:
		op_create(s, op);
		break;
	case LC_START: {
		Grpc__StartContainerRequest req = GRPC__START_CONTAINER_REQUEST__INIT;
		req.container_id = cid;
		agent_call(s, "StartContainer", &req.base, false);
		break;
	}
	case LC_EXEC:
		op_exec(s, op);
		break;
	case LC_SIGNAL: {
		Grpc__SignalProcessRequest req = GRPC__SIGNAL_PROCESS_REQUEST__INIT;
		req.container_id = cid;
		req.exec_id = eid;
		req.signal = (uint32_t)op->sig;
		agent_call(s, "SignalProcess", &req.base, false);
		break;
	}
	case LC_KILL:
		op_kill(s, op);
		break;
	case LC_PAUSE:
	case LC_RESUME: {
		Grpc__PauseContainerRequest req = GRPC__PAUSE_CONTAINER_REQUEST__INIT;
		req.container_id = cid;
		agent_call(s, op->kind == LC_PAUSE ? "PauseContainer" : "ResumeContainer",
			   &req.base, false);
		break;
	}
	case LC_UPDATE:
		op_update(s, op);
		break;
	case LC_WAIT: {
		Grpc__WaitProcessRequest req = GRPC__WAIT_PROCESS_REQUEST__INIT;
		req.container_id = cid;
		req.exec_id = eid;
		call(s, "grpc.AgentService", "WaitProcess", &req.base,
		     &grpc__wait_process_response__descriptor, NULL, true);
		break;
	}
	case LC_READ: {
		static const uint32_t lens[] = {65536, 1, 0, 1u << 30};
		Grpc__ReadStreamRequest req = GRPC__READ_STREAM_REQUEST__INIT;
		req.container_id = cid;
		req.exec_id = eid;
		req.len = lens[(op->arg >> 1) % 4];
		call(s, "grpc.AgentService", (op->arg & 1) ? "ReadStderr" : "ReadStdout", &req.base,
		     &grpc__read_stream_response__descriptor, NULL, true);
		break;
	}
	case LC_WRITE: {
		static uint8_t big[256 << 10];
		Grpc__WriteStreamRequest req = GRPC__WRITE_STREAM_REQUEST__INIT;
		req.container_id = cid;
		req.exec_id = eid;
		switch (op->arg % 3) {
		case 0:
			req.data.data = (uint8_t *)"hello\n";
			req.data.len = 6;
			break;
		case 1:
			break; /* empty: close stdin */
		default:
			memset(big, 'x', sizeof(big));
			req.data.data = big;
			req.data.len = sizeof(big);
			break;
		}
		call(s, "grpc.AgentService", "WriteStdin", &req.base,
		     &grpc__write_stream_response__descriptor, NULL, true);
		break;
	}
	case LC_CLOSE_STDIN: {
		Grpc__CloseStdinRequest req = GRPC__CLOSE_STDIN_REQUEST__INIT;
		req.container_id = cid;
		req.exec_id = eid;
		agent_call(s, "CloseStdin", &req.base, false);
		break;
	}
	case LC_RESIZE: {
		Grpc__TtyWinResizeRequest req = GRPC__TTY_WIN_RESIZE_REQUEST__INIT;
		req.container_id = cid;
		req.exec_id = eid;
		req.row = op->arg * 1000;
		req.column = op->arg ? 80 : 0;
		agent_call(s, "TtyWinResize", &req.base, false);
		break;
	}
	case LC_STATS: {
		Grpc__StatsContainerRequest req = GRPC__STATS_CONTAINER_REQUEST__INIT;
		req.container_id = cid;
		call(s, "grpc.AgentService", "StatsContainer", &req.base,
		     &grpc__stats_container_response__descriptor, NULL, false);
		break;
	}
	case LC_OOM: {
		Grpc__GetOOMEventRequest req = GRPC__GET_OOMEVENT_REQUEST__INIT;
		call(s, "grpc.AgentService", "GetOOMEvent", &req.base, &grpc__oomevent__descriptor,
		     NULL, true);
		break;
	}
	case LC_REMOVE: {
		Grpc__RemoveContainerRequest req = GRPC__REMOVE_CONTAINER_REQUEST__INIT;
		req.container_id = cid;
		if (agent_call(s, "RemoveContainer", &req.base, false) == 0)
			s->created[op->cid] = false;
		break;
	}
	case LC_CHECK:
		check_serving(s);
		break;
	case LC_DESTROY: {
		Grpc__DestroySandboxRequest req = GRPC__DESTROY_SANDBOX_REQUEST__INIT;
		if (agent_call(s, "DestroySandbox", &req.base, false) == 0) {
			memset(s->created, 0, sizeof(s->created));
			s->destroyed = true;
		}
		break;
	}
	default:
		break;
	}
}

/* ---- invariants ---------------------------------------------------------------------------- */

/* Mount points of the agent's mount namespace (one string, a line each). */
static char *mount_points(pid_t pid)
{
	char p[64], *line = NULL, *out = NULL;
	size_t cap = 0, len = 0;
	FILE *f, *m = open_memstream(&out, &len);

	snprintf(p, sizeof(p), "/proc/%d/mountinfo", pid);
	f = fopen(p, "r");
	while (f && getline(&line, &cap, f) > 0) {
		char mp[512];
		if (sscanf(line, "%*d %*d %*s %*s %511s", mp) == 1)
			fprintf(m, "%s\n", mp);
	}
	if (f)
		fclose(f);
	free(line);
	fclose(m);
	return out;
}

/*
 * The first line of now that has no equal line left in before (each line of before matches one
 * line of now: a multiset difference) and is not allowed by allow(); NULL when there is none.
 */
static char *new_line(const char *before, const char *now, bool (*allow)(const char *))
{
	size_t nb = 0;
	for (const char *q = before; *q; q++)
		nb += *q == '\n';
	bool *used = calloc(nb + 1, sizeof(bool));
	char *found = NULL;

	for (const char *p = now; *p && !found;) {
		size_t l = strcspn(p, "\n"), k = 0;
		bool known = false;
		for (const char *q = before; !known && *q; k++) {
			size_t ql = strcspn(q, "\n");
			if (!used[k] && ql == l && !strncmp(p, q, l))
				known = used[k] = true;
			q += ql + (q[ql] == '\n');
		}
		if (!known) {
			char *item = strndup(p, l);
			if (!allow(item))
				found = item;
			else
				free(item);
		}
		p += l + (p[l] == '\n');
	}
	free(used);
	return found;
}

/* What CreateSandbox keeps for the sandbox's life: its shared IPC and UTS namespaces. */
static bool sandbox_mount(const char *mp)
{
	return strstr(mp, "/sandbox-ns/") != NULL;
}

/* fd targets of the agent, a line each. */
static char *fd_targets(pid_t pid)
{
	char p[64], *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	DIR *d;
	struct dirent *de;

	snprintf(p, sizeof(p), "/proc/%d/fd", pid);
	d = opendir(p);
	while (d && (de = readdir(d))) {
		char link[600], target[256];
		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", p, de->d_name);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		/* Sockets and pipes differ by inode from run to run: only their kind counts. */
		char *br = strchr(target, '[');
		if (br)
			br[1] = '\0';
		fprintf(m, "%s\n", target);
	}
	if (d)
		closedir(d);
	fclose(m);
	return out;
}

/*
 * What the sandbox holds for its life: its shared IPC and UTS namespaces, and the PID namespace
 * of its first container (the sandbox PID namespace), one of each.
 */
static unsigned sandbox_fds_seen;

static bool sandbox_fd(const char *line)
{
	static const char *const kinds[] = {"ipc:[", "uts:[", "pid:["};
	for (unsigned i = 0; i < 3; i++)
		if (!strncmp(line, kinds[i], 5) && !(sandbox_fds_seen & (1u << i))) {
			sandbox_fds_seen |= 1u << i;
			return true;
		}
	return strstr(line, "/sandbox-ns/") != NULL;
}

/* Waits (bounded) until check() returns NULL; returns its last answer. */
static char *settle(struct seq *s, char *(*check)(struct seq *))
{
	char *r = NULL;
	for (unsigned i = 0; i < 250 * s->scale; i++) {
		free(r);
		r = check(s);
		if (!r)
			return NULL;
		usleep(20000);
	}
	return r;
}

static char *left_procs(struct seq *s)
{
	pid_t pids[64];
	pid_t root = s->e.agent.pid > 0 ? s->e.agent.pid : getpid();
	size_t n = descendants(root, pids, 64);
	char desc[160], *r = NULL;
	if (n == 0)
		return NULL;
	describe_pid(pids[0], desc, sizeof(desc));
	if (asprintf(&r, "%zu process(es) left, e.g. pid %d: %s", n, pids[0], desc) < 0)
		r = NULL;
	return r;
}

static char *left_cgroups(struct seq *s)
{
	return cg_leftover(s->e.cgparent);
}

static char *left_bundles(struct seq *s)
{
	char *r = NULL;
	for (int i = 0; i < LC_N_CIDS; i++) {
		char p[128];
		if (!*lc_cids[i] || strchr(lc_cids[i], '/'))
			continue;
		snprintf(p, sizeof(p), "/run/kata-containers/%s", lc_cids[i]);
		if (access(p, F_OK) == 0) {
			r = strdup(p);
			break;
		}
	}
	return r;
}

static void final_checks(struct seq *s, const char *mounts0, const char *fds0)
{
	char *r;

	if (!s->destroyed) {
		check_serving(s);
		for (int i = 0; i < LC_N_CIDS; i++) {
			Grpc__RemoveContainerRequest req = GRPC__REMOVE_CONTAINER_REQUEST__INIT;
			req.container_id = (char *)lc_cids[i];
			s->sh->at = -1;
			int code = agent_call(s, "RemoveContainer", &req.base, false);
			if (s->created[i] && code != 0)
				violated("container \"%s\" cannot be removed: code %d", lc_cids[i],
					 code);
			if (!s->created[i] && code == 0)
				violated(
					"RemoveContainer \"%s\" succeeded, but no create of it did",
					lc_cids[i]);
		}
		check_serving(s);
	}
	if ((r = settle(s, left_procs)))
		violated("after removing every container: %s", r);
	if ((r = settle(s, left_cgroups)))
		violated("after removing every container: cgroup %s is left", r);
	if ((r = settle(s, left_bundles)))
		violated("after removing every container: bundle %s is left", r);
	if (s->destroyed)
		return;
	char *mounts = mount_points(s->e.agent.pid);
	if ((r = new_line(mounts0, mounts, sandbox_mount)))
		violated("after removing every container: mount %s is left", r);
	free(mounts);
	char *fds = NULL;
	r = NULL;
	for (unsigned i = 0; i < 50 * s->scale; i++) {
		free(fds);
		free(r);
		fds = fd_targets(s->e.agent.pid);
		sandbox_fds_seen = 0;
		if (!(r = new_line(fds0, fds, sandbox_fd)))
			break;
		usleep(20000);
	}
	if (r)
		violated("after removing every container: the agent holds fd %s (had:\n%s)", r,
			 fds0);
	free(fds);
}

/* ---- one sequence -------------------------------------------------------------------------- */

static void sequence_child(const struct lc_op *ops, size_t n, bool v2, struct shared *sh)
{
	static struct seq s;

	memset(&s, 0, sizeof(s));
	s.sh = sh;
	s.scale = test_time_scale();
	signal(SIGPIPE, SIG_IGN);
	/* Orphans of the agent's tree come here, so that "nothing is left" can be checked. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* A launch step the agent bounds itself (a blocked exec) costs 2 s, not the default 6. */
	ctr_env_setup_cmdline(&s.e, v2, "agent.launch_process_timeout=2s");
	cur = &s;
	sh->agent = s.e.agent.pid;
	snprintf(sh->cgparent, sizeof(sh->cgparent), "%s", s.e.cgparent);
	snprintf(sh->log, sizeof(sh->log), "%s", s.e.agent.log);
	snprintf(sh->rootfs, sizeof(sh->rootfs), "%s", s.e.rootfs);

	/* The baseline: the agent idle, with this test's one connection accepted. */
	check_serving(&s);
	itest_fd_count_settled(s.e.agent.pid);
	char *mounts0 = mount_points(s.e.agent.pid);
	char *fds0 = fd_targets(s.e.agent.pid);
	for (size_t i = 0; i < n && !s.destroyed; i++) {
		sh->at = (int)i;
		if (getenv("LIFECYCLE_VERBOSE")) {
			fprintf(stderr, "  %zu: ", i);
			lc_op_print(stderr, &ops[i]);
		}
		run_op(&s, &ops[i]);
		check_alive(&s, lc_kind_name(ops[i].kind));
	}
	if (s.destroyed) {
		/* The agent stops after DestroySandbox; cleanly. */
		int st = 0;
		pid_t pid = s.e.agent.pid;
		for (unsigned i = 0; i < 500 * s.scale && s.e.agent.pid > 0; i++) {
			if (waitpid(pid, &st, WNOHANG) == pid)
				s.e.agent.pid = 0;
			else
				usleep(10000);
		}
		if (s.e.agent.pid > 0)
			violated("the agent did not stop after DestroySandbox");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			violated("the agent ended with status 0x%x after DestroySandbox", st);
	}
	sh->at = -1;
	final_checks(&s, mounts0, fds0);
	free(mounts0);
	free(fds0);
	/* Stops the agent with SIGTERM: FAILs unless it exits 0. */
	ctr_env_teardown(&s.e);
	char *r = settle(&s, left_procs);
	if (r)
		violated("after the agent stopped: %s", r);
	exit(0);
}

static void print_sequence(const char *what, const struct lc_op *ops, size_t n)
{
	fprintf(stderr, "  %s (%zu operations; replay with LIFECYCLE_OPS=\"...\", one per line):\n",
		what, n);
	lc_ops_print(stderr, ops, n);
}

enum outcome { HELD, BROKEN, NOT_RUN };

/*
 * Runs one sequence in a child; the caller is a subreaper, and after the child ends kills and
 * reaps whatever of its tree is left, and removes its cgroups. NOT_RUN: the environment could
 * not be set up (the child skipped).
 */
static enum outcome run_sequence(const struct lc_op *ops, size_t n, bool v2, bool quiet)
{
	struct shared *sh =
		mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned scale = test_time_scale();
	bool ok = true, skipped = false;

	ASSERT_TRUE(sh != MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	sh->at = -1;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	fflush(stdout);
	fflush(stderr);
	pid_t child = fork();
	ASSERT_TRUE(child >= 0);
	if (child == 0) {
		if (quiet) {
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
			dup2(null, 2);
		}
		sequence_child(ops, n, v2, sh);
	}

	int st = 0;
	double limit = itest_now_s() + 120.0 * scale;
	while (waitpid(child, &st, WNOHANG) != child) {
		if (itest_now_s() > limit) {
			fprintf(stderr,
				"  INVARIANT: the sequence did not end within %u s (at op %d)\n",
				120 * scale, sh->at);
			kill(child, SIGKILL);
			waitpid(child, &st, 0);
			ok = false;
			break;
		}
		usleep(10000);
	}
	if (ok && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
			skipped = true;
		else if (WIFSIGNALED(st) && !quiet)
			fprintf(stderr, "  the sequence child died of signal %d\n", WTERMSIG(st));
		ok = false;
	}
	/* Whatever is left came back to us: kill it all, thaw and remove the cgroups. */
	char *left = sh->cgparent[0] ? cg_leftover(sh->cgparent) : NULL;
	for (int round = 0; round < 100; round++) {
		pid_t pids[256];
		size_t k = descendants(getpid(), pids, 256);
		if (sh->cgparent[0])
			cg_scrub(sh->cgparent);
		if (k == 0)
			break;
		if (ok && round == 0 && !quiet) {
			char d[160];
			describe_pid(pids[0], d, sizeof(d));
			fprintf(stderr,
				"  INVARIANT: %zu process(es) outlived the sequence: %d %s\n", k,
				pids[0], d);
		}
		ok = ok && round > 0;
		for (size_t i = 0; i < k; i++)
			kill(pids[i], SIGKILL);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		usleep(20000);
	}
	if (left && ok) {
		if (!quiet)
			fprintf(stderr, "  INVARIANT: cgroup %s outlived the sequence\n", left);
		ok = false;
	}
	free(left);
	/*
	 * A rootfs in /tmp was a mount point in the child's namespace only: here it is an empty
	 * directory, to remove (rmdir: never anything with content).
	 */
	if (!strncmp(sh->rootfs, "/tmp/", 5))
		rmdir(sh->rootfs);
	munmap(sh, sizeof(*sh));
	return skipped && ok ? NOT_RUN : ok ? HELD : BROKEN;
}

/* ---- tests --------------------------------------------------------------------------------- */

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtoull(v, NULL, 0) : dflt;
}

TEST_TIMEOUT(regression_sequences, 300)
{
	struct lc_op ops[MAX_OPS];
	unsigned failed = 0;

	for (size_t i = 0; i < sizeof(regressions) / sizeof(regressions[0]); i++) {
		long n = lc_ops_parse(regressions[i].ops, ops, MAX_OPS);
		ASSERT_TRUE(n > 0);
		enum outcome o =
			run_sequence(ops, (size_t)n, getenv("LIFECYCLE_V2") != NULL, false);
		if (o == NOT_RUN)
			SKIP("no container environment here (see ctr.c)");
		if (o == BROKEN) {
			fprintf(stderr, "  regression sequence %s failed\n", regressions[i].name);
			print_sequence(regressions[i].name, ops, (size_t)n);
			failed++;
		}
	}
	if (failed)
		FAIL("%u regression sequence(s) failed", failed);
}

/*
 * Greedy shrinking of a failing sequence: drops one operation at a time while the rest still
 * breaks an invariant (any), for at most secs seconds. Returns the new length.
 */
static size_t minimize(struct lc_op *ops, size_t n, bool v2, double secs)
{
	double end = itest_now_s() + secs;
	bool shrunk = true;

	while (shrunk && itest_now_s() < end) {
		shrunk = false;
		for (size_t i = n; i-- > 0 && itest_now_s() < end;) {
			struct lc_op trial[MAX_OPS];
			memcpy(trial, ops, i * sizeof(*ops));
			memcpy(trial + i, ops + i + 1, (n - i - 1) * sizeof(*ops));
			if (n > 1 && run_sequence(trial, n - 1, v2, true) == BROKEN) {
				memcpy(ops, trial, (n - 1) * sizeof(*ops));
				n--;
				shrunk = true;
			}
		}
	}
	return n;
}

TEST_TIMEOUT(random_sequences, 600)
{
	struct lc_op ops[MAX_OPS];
	const char *text = getenv("LIFECYCLE_OPS");
	uint64_t secs = env_u64("LIFECYCLE_SECONDS", 45);
	bool seeded = getenv("SEED") != NULL;
	bool keep_going = getenv("LIFECYCLE_KEEP_GOING") != NULL;
	uint64_t min_secs = env_u64("LIFECYCLE_MINIMIZE", 0);
	uint64_t seed = env_u64("SEED", (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
	uint64_t count = env_u64("LIFECYCLE_COUNT", seeded ? 1 : 100000);
	uint64_t broken = 0;

	test_set_timeout((unsigned)(secs + (keep_going ? 16 : 1) * (min_secs + 180)));
	if (text) {
		long n = lc_ops_parse(text, ops, MAX_OPS);
		bool v2 = getenv("LIFECYCLE_V2") != NULL;
		if (n <= 0)
			FAIL("LIFECYCLE_OPS does not parse");
		enum outcome o = run_sequence(ops, (size_t)n, v2, false);
		if (o == NOT_RUN)
			SKIP("no container environment here (see ctr.c)");
		if (o == BROKEN) {
			print_sequence("LIFECYCLE_OPS", ops, (size_t)n);
			if (min_secs) {
				n = (long)minimize(ops, (size_t)n, v2, (double)min_secs);
				print_sequence("shrunk to", ops, (size_t)n);
			}
			FAIL("the given sequence broke an invariant");
		}
		return;
	}
	printf("  lifecycle fuzz: SEED=0x%" PRIx64 ", up to %" PRIu64 " s, %" PRIu64
	       " sequence(s)\n",
	       seed, secs, count);
	double end = itest_now_s() + (double)secs;
	uint64_t done = 0, nops = 0;
	for (; done < count && (done == 0 || itest_now_s() < end) && broken < 16; done++) {
		uint64_t sd = seed + done;
		size_t n = lc_generate(sd, ops, MAX_OPS);
		/* A fifth of the sequences run the agent with cgroup v2 (when it can be mounted).
		 */
		bool v2 = (sd % 5) == 4;
		if (getenv("LIFECYCLE_VERBOSE"))
			print_sequence("running", ops, n);
		nops += n;
		enum outcome o = run_sequence(ops, n, v2, false);
		if (o == NOT_RUN && v2)
			o = run_sequence(ops, n, v2 = false, false); /* no cgroup2 here: v1 then */
		if (o == NOT_RUN)
			SKIP("no container environment here (see ctr.c)");
		if (o != BROKEN)
			continue;
		broken++;
		fprintf(stderr,
			"  lifecycle fuzz: sequence SEED=0x%" PRIx64
			" (cgroup %s) broke an invariant; "
			"replay: SEED=0x%" PRIx64 " %s random_sequences\n",
			sd, v2 ? "v2" : "v1", sd, "build/tests/integration/test-lifecycle-fuzz");
		print_sequence("the sequence", ops, n);
		if (min_secs) {
			n = minimize(ops, n, v2, (double)min_secs);
			fprintf(stderr, "  replay the shrunk one with%s LIFECYCLE_OPS=\"...\":\n",
				v2 ? " LIFECYCLE_V2=1" : "");
			print_sequence("shrunk to", ops, n);
		}
		if (!keep_going) {
			done++;
			break;
		}
	}
	if (broken)
		FAIL("%" PRIu64 " of %" PRIu64 " sequence(s) broke an invariant", broken, done);
	printf("  lifecycle fuzz: %" PRIu64 " sequences, %" PRIu64 " operations, all invariants "
	       "held\n",
	       done, nops);
}
