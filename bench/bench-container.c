/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container figures against crun and runc, under the same conditions:
 *  - create-to-exit of a container running `payload exit 0`: the agent's Create + Start + Wait +
 *    Remove against `crun run` and `runc run` of the same rootfs with an equivalent config.json,
 *  - exec of `payload exit 0` into a running container: the agent's ExecProcess + ReadStdout to
 *    EOF + WaitProcess against `crun exec` and `runc exec`.
 * Before timing, `payload report` runs once in each runtime's container and the bench prints
 * what it sees from inside (mounts, masked paths, namespaces, capabilities, ...) and every
 * difference between the agent's container and each peer's (NOTE lines in the report).
 * Each round runs the agent, crun and runc in turn (the order rotates every round); every
 * figure is printed with min/median/max (FIGURE lines, bench/bench.h) and the load average.
 * Runs as root, in a private mount namespace with a tmpfs /run holding all its files.
 * A missing peer is skipped with a reason; the agent's figures are still printed.
 * (Stdout throughput is bench/bench-stdout.c.)
 * Usage: bench-container AGENT_BIN PAYLOAD_BIN [ROUNDS]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "bench.h"
#include "ttrpc-client.h"

#define CG_AGENT "/kata-bench"

static const char *const caps[] = {
	"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",	   "CAP_FOWNER",
	"CAP_MKNOD",   "CAP_NET_RAW",	   "CAP_SETGID",	   "CAP_SETUID",
	"CAP_SETFCAP", "CAP_SETPCAP",	   "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
	"CAP_KILL",    "CAP_AUDIT_WRITE",
};
#define N_CAPS (sizeof(caps) / sizeof(caps[0]))

struct bench {
	const char *agent_bin;
	const char *payload_bin;
	char dir[64]; /* scratch: agent socket, log, the peers' bundle */
	char rootfs[64];
	char bundle[128];
	char log[128];
	pid_t agent_pid;
	int unified_fd; /* the agent's cgroup2 mount, hidden from the peers (cleanup), or -1 */
	struct ttrpc_client *c;
	char *payload_exit[4]; /* /bin/payload exit 0 */
};

/* Setup failed: the message (printf-style), then exit 1. */
__attribute__((format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench-container: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int copy_file(const char *src, const char *dst)
{
	char buf[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC);
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	ssize_t n = -1;

	if (in >= 0 && out >= 0)
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, n) != n) {
				n = -1;
				break;
			}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return n == 0 ? 0 : -1;
}

/* --- processes ----------------------------------------------------------------------------- */

/* fork + execvp with stdin an empty pipe (as the agent gives its containers), stdout on outpath and
 * stderr on errpath (each NULL: /dev/null). */
static pid_t spawn(char *const argv[], const char *outpath, const char *errpath)
{
	int in[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		int n = open("/dev/null", O_RDWR);
		int o = outpath ? open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0644) : n;
		int e = errpath ? open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644) : n;
		dup2(in[0], 0);
		dup2(o < 0 ? n : o, 1);
		dup2(e < 0 ? n : e, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(in[1]);
	return pid;
}

/* Runs argv to completion; returns its exit status (or -1). */
static int run(char *const argv[], const char *outpath, const char *errpath)
{
	int st;
	pid_t pid = spawn(argv, outpath, errpath);
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void print_file_to(const char *path, FILE *to)
{
	fflush(stdout);
	char line[4096];
	FILE *f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		fprintf(to, "  | %s", line);
	if (f)
		fclose(f);
}

static void print_file(const char *path)
{
	print_file_to(path, stderr);
}

/* --- setup --------------------------------------------------------------------------------- */

static void setup_namespace(struct bench *b)
{
	char path[256];

	if (unshare(CLONE_NEWNS) < 0)
		die("unshare(CLONE_NEWNS): %s (run as root)", strerror(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("making / private: %s", strerror(errno));
	mkdir("/run", 0755);
	if (mount("tmpfs", "/run", "tmpfs", 0, "mode=755") < 0)
		die("tmpfs on /run: %s", strerror(errno));
	/*
	 * Everything lives on the tmpfs /run of this namespace, gone with it. The agent confines
	 * container roots to the pod's shared directory.
	 */
	snprintf(b->dir, sizeof(b->dir), "/run/kata-bench");
	snprintf(b->rootfs, sizeof(b->rootfs), "/run/kata-containers/shared/containers/bench");
	mkdir("/run/kata-containers", 0755);
	mkdir("/run/kata-containers/shared", 0755);
	mkdir("/run/kata-containers/shared/containers", 0755);
	if (mkdir(b->dir, 0700) < 0 || mkdir(b->rootfs, 0755) < 0)
		die("scratch directories: %s", strerror(errno));
	static const char *const dirs[] = {"bin", "proc", "sys", "dev", "tmp", "etc"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", b->rootfs, dirs[i]);
		mkdir(path, 0755);
	}
	snprintf(path, sizeof(path), "%s/bin/payload", b->rootfs);
	if (copy_file(b->payload_bin, path) < 0)
		die("cannot copy the payload %s into the rootfs", b->payload_bin);
	snprintf(b->bundle, sizeof(b->bundle), "%s/bundle", b->dir);
	mkdir(b->bundle, 0700);
	snprintf(b->log, sizeof(b->log), "%s/agent.log", b->dir);
}

/* fork + exec the agent with its log on b->log, then connect. */
static void launch_agent(struct bench *b)
{
	_cleanup_error_ agent_error_t *err = NULL;
	char cmdline[128], addr[160];

	snprintf(cmdline, sizeof(cmdline), "%s/cmdline", b->dir);
	snprintf(addr, sizeof(addr), "unix://%s/agent.sock", b->dir);
	if (write_file(cmdline, "console=ttyS0 quiet\n") < 0)
		die("cannot write %s", cmdline);
	setenv("KATA_AGENT_SERVER_ADDR", addr, 1);
	char *argv[] = {(char *)b->agent_bin, "--cmdline-file", cmdline, NULL};
	b->agent_pid = spawn(argv, NULL, b->log);
	unsetenv("KATA_AGENT_SERVER_ADDR");
	if (b->agent_pid < 0)
		die("fork: %s", strerror(errno));
	int fd = ttrpc_dial(addr, 5000, &err);
	if (fd < 0) {
		print_file(b->log);
		die("the agent did not accept: %s", err ? err->msg : "?");
	}
	b->c = ttrpc_client_new(fd);
	if (!b->c)
		die("%s", "out of memory");
}

static void stop_agent(struct bench *b)
{
	b->c = ttrpc_client_free(b->c);
	kill(b->agent_pid, SIGTERM);
	for (int i = 0; i < 500; i++) {
		if (waitpid(b->agent_pid, NULL, WNOHANG) == b->agent_pid) {
			b->agent_pid = 0;
			return;
		}
		usleep(10000);
	}
	kill(b->agent_pid, SIGKILL);
	waitpid(b->agent_pid, NULL, 0);
	b->agent_pid = 0;
}

/*
 * The hybrid-cgroup wrapper. crun 1.x refuses hybrid cgroups when the cgroup2 mount has any
 * controller (here: hugetlb). So, once the agent runs, this process moves to a second private
 * mount namespace without /sys/fs/cgroup/unified: the peers (our children) see plain v1 (both
 * crun and runc, so they run alike), the agent keeps the machine's hybrid view. Done once,
 * before any timed call, so no peer figure includes it; its own cost goes to *cost_us.
 * Returns false if that fails.
 */
static bool hide_unified_from_peer(struct bench *b, double *cost_us)
{
	struct statfs sf;

	*cost_us = -1;
	if (statfs("/sys/fs/cgroup/unified", &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC)
		return true;
	double t0 = bench_now_s();
	if (unshare(CLONE_NEWNS) < 0)
		return false;
	b->unified_fd = open("/sys/fs/cgroup/unified", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->unified_fd < 0 || umount2("/sys/fs/cgroup/unified", MNT_DETACH) < 0)
		return false;
	*cost_us = (bench_now_s() - t0) * 1e6;
	return true;
}

/*
 * Removes the cgroup NAME under the directory dirfd with everything below it: processes still
 * in it (a run that stopped half-way) are killed first.
 */
static void remove_cgroup_tree(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	int dup_fd = dup(fd);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (de->d_type == DT_DIR && strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			remove_cgroup_tree(fd, de->d_name);
	if (d)
		closedir(d);
	int pfd = openat(fd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	FILE *f = pfd >= 0 ? fdopen(pfd, "r") : NULL;
	int pid;
	while (f && fscanf(f, "%d", &pid) == 1)
		if (pid > 0)
			kill(pid, SIGKILL);
	if (f)
		fclose(f);
	close(fd);
	for (int i = 0; i < 200 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno == EBUSY; i++)
		usleep(10000);
}

/* Removes PARENT (a cgroupsPath parent) from the top (v2), every v1 controller and unified. */
static void remove_cgroup_parent(const char *parent, int unified_fd)
{
	int top = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top < 0)
		return;
	remove_cgroup_tree(top, parent + 1);
	int dup_fd = dup(top);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		int c = openat(top, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (c >= 0) {
			remove_cgroup_tree(c, parent + 1);
			close(c);
		}
	}
	if (d)
		closedir(d);
	close(top);
	if (unified_fd >= 0)
		remove_cgroup_tree(unified_fd, parent + 1);
}

/* --- agent calls --------------------------------------------------------------------------- */

/* One call; any transport failure or non-OK status is fatal (the figures would be wrong). */
static void call(struct bench *b, const char *method, const ProtobufCMessage *req,
		 const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp)
{
	_cleanup_error_ agent_error_t *err = NULL;
	int32_t code = -1;
	char *msg = NULL;

	if (ttrpc_client_call_msg(b->c, "grpc.AgentService", method, req, resp_desc, resp, &code,
				  &msg, 0, &err) < 0)
		die("agent call failed: %s", err ? err->msg : method);
	if (code != 0) {
		fprintf(stderr, "%s: status %d: %s\n", method, code, msg);
		print_file(b->log);
		exit(1);
	}
	free(msg);
}

/*
 * What both the agent's spec and the peers' config.json hold, so all containers run under the
 * same conditions (compare_conditions() checks that from inside): the usual /proc and /dev
 * mounts, the masked and read-only /proc paths container engines set, namespaces, capabilities,
 * and RLIMIT_CORE 0 (the agent's own, which its containers inherit).
 */
struct bench_mount {
	const char *dest, *type, *source;
	const char *opts[6];
};
static const struct bench_mount mounts[] = {
	{"/proc", "proc", "proc", {NULL}},
	{"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k", NULL}},
	{"/dev/pts",
	 "devpts",
	 "devpts",
	 {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", NULL}},
	{"/dev/shm",
	 "tmpfs",
	 "shm",
	 {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL}},
};
#define N_MOUNTS (sizeof(mounts) / sizeof(mounts[0]))
static const char *const masked[] = {"/proc/acpi",	    "/proc/kcore",	"/proc/keys",
				     "/proc/latency_stats", "/proc/timer_list", "/proc/sched_debug",
				     "/proc/scsi"};
static const char *const readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
				       "/proc/sysrq-trigger"};
static const char *const ns_types[] = {"pid", "mount", "ipc", "uts"};

/* The agent's spec; storage owned by the struct. */
struct spec {
	Grpc__Spec spec;
	Grpc__Process process;
	Grpc__User user;
	Grpc__LinuxCapabilities caps;
	Grpc__POSIXRlimit core;
	Grpc__POSIXRlimit *rlimitp[1];
	Grpc__Root root;
	Grpc__Linux linux_;
	Grpc__LinuxNamespace ns[4];
	Grpc__LinuxNamespace *nsp[4];
	Grpc__Mount mount[N_MOUNTS];
	Grpc__Mount *mountp[N_MOUNTS];
	char *env[1];
	char cgpath[128];
	char hostname[64];
};

static size_t n_opts(const char *const *o)
{
	size_t n = 0;
	while (o[n])
		n++;
	return n;
}

static void spec_init(struct spec *s, const char *rootfs, const char *cid, char **args, size_t n)
{
	memset(s, 0, sizeof(*s));
	grpc__spec__init(&s->spec);
	grpc__process__init(&s->process);
	grpc__user__init(&s->user);
	grpc__linux_capabilities__init(&s->caps);
	grpc__posixrlimit__init(&s->core);
	grpc__root__init(&s->root);
	grpc__linux__init(&s->linux_);
	s->process.args = args;
	s->process.n_args = n;
	s->env[0] = "PATH=/bin";
	s->process.env = s->env;
	s->process.n_env = 1;
	s->process.cwd = "/";
	s->process.user = &s->user;
	s->caps.bounding = s->caps.effective = s->caps.permitted = (char **)caps;
	s->caps.n_bounding = s->caps.n_effective = s->caps.n_permitted = N_CAPS;
	s->process.capabilities = &s->caps;
	s->core.type = "RLIMIT_CORE";
	s->rlimitp[0] = &s->core;
	s->process.rlimits = s->rlimitp;
	s->process.n_rlimits = 1;
	s->spec.process = &s->process;
	s->root.path = (char *)rootfs;
	s->spec.root = &s->root;
	snprintf(s->hostname, sizeof(s->hostname), "h-%s", cid);
	s->spec.hostname = s->hostname;
	for (int i = 0; i < 4; i++) {
		grpc__linux_namespace__init(&s->ns[i]);
		s->ns[i].type = (char *)ns_types[i];
		s->nsp[i] = &s->ns[i];
	}
	s->linux_.namespaces = s->nsp;
	s->linux_.n_namespaces = 4;
	for (size_t i = 0; i < N_MOUNTS; i++) {
		grpc__mount__init(&s->mount[i]);
		s->mount[i].destination = (char *)mounts[i].dest;
		s->mount[i].source = (char *)mounts[i].source;
		s->mount[i].type = (char *)mounts[i].type;
		s->mount[i].options = (char **)mounts[i].opts;
		s->mount[i].n_options = n_opts(mounts[i].opts);
		s->mountp[i] = &s->mount[i];
	}
	s->spec.mounts = s->mountp;
	s->spec.n_mounts = N_MOUNTS;
	s->linux_.maskedpaths = (char **)masked;
	s->linux_.n_maskedpaths = sizeof(masked) / sizeof(masked[0]);
	s->linux_.readonlypaths = (char **)readonly;
	s->linux_.n_readonlypaths = sizeof(readonly) / sizeof(readonly[0]);
	snprintf(s->cgpath, sizeof(s->cgpath), CG_AGENT "/%s", cid);
	s->linux_.cgroupspath = s->cgpath;
	s->spec.linux = &s->linux_;
}

static void agent_create_start(struct bench *b, const char *cid, char **args, size_t n)
{
	Grpc__CreateContainerRequest creq = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	Grpc__StartContainerRequest sreq = GRPC__START_CONTAINER_REQUEST__INIT;
	struct spec s;

	spec_init(&s, b->rootfs, cid, args, n);
	creq.container_id = creq.exec_id = (char *)cid;
	creq.oci = &s.spec;
	call(b, "CreateContainer", &creq.base, &google__protobuf__empty__descriptor, NULL);
	sreq.container_id = (char *)cid;
	call(b, "StartContainer", &sreq.base, &google__protobuf__empty__descriptor, NULL);
}

static int agent_wait(struct bench *b, const char *cid, const char *eid)
{
	Grpc__WaitProcessRequest req = GRPC__WAIT_PROCESS_REQUEST__INIT;
	Grpc__WaitProcessResponse *resp = NULL;

	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	call(b, "WaitProcess", &req.base, &grpc__wait_process_response__descriptor,
	     (ProtobufCMessage **)&resp);
	int status = resp->status;
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return status;
}

static void agent_remove(struct bench *b, const char *cid)
{
	Grpc__RemoveContainerRequest req = GRPC__REMOVE_CONTAINER_REQUEST__INIT;

	req.container_id = (char *)cid;
	call(b, "RemoveContainer", &req.base, &google__protobuf__empty__descriptor, NULL);
}

/* ReadStdout with len per call until EOF; returns the byte count. The data goes to out if set. */
static long long agent_read_all(struct bench *b, const char *cid, const char *eid, uint32_t len,
				FILE *out)
{
	long long total = 0;

	for (;;) {
		Grpc__ReadStreamRequest req = GRPC__READ_STREAM_REQUEST__INIT;
		Grpc__ReadStreamResponse *resp = NULL;

		req.container_id = (char *)cid;
		req.exec_id = (char *)eid;
		req.len = len;
		call(b, "ReadStdout", &req.base, &grpc__read_stream_response__descriptor,
		     (ProtobufCMessage **)&resp);
		size_t n = resp->data.len;
		if (out && n > 0)
			fwrite(resp->data.data, 1, n, out);
		protobuf_c_message_free_unpacked(&resp->base, NULL);
		if (n == 0)
			return total;
		total += n;
	}
}

static void check_exit(const char *what, int status)
{
	if (status != 0) {
		fprintf(stderr, "bench-container: %s exited with status %d\n", what, status);
		exit(1);
	}
}

/* --- the peers: crun and runc -------------------------------------------------------------- */

struct peer {
	const char *name; /* "crun", "runc" */
	const char *cgparent; /* its cgroupsPath parent, removed at the end */
	char *const *global; /* its command and global options, NULL-terminated */
	size_t n_global;
	bool ok;
	double *create_ms, *exec_ms;
	int n_create, n_exec;
};

static char *const crun_global[] = {"crun", "--cgroup-manager=cgroupfs", NULL};
static char *const runc_global[] = {"runc", NULL};

/* argv = the peer's global options, then the given words. Returns a static array. */
static char **peer_argv(const struct peer *p, char **words)
{
	static char *argv[32];
	size_t k = 0;

	for (size_t i = 0; i < p->n_global && k < 31; i++)
		argv[k++] = p->global[i];
	for (size_t i = 0; words[i] && k < 31; i++)
		argv[k++] = words[i];
	argv[k] = NULL;
	return argv;
}

/* Appends a JSON array of strings to buf at *off. */
static void json_strings(char *buf, size_t size, size_t *off, const char *const *v, size_t n)
{
	*off += snprintf(buf + *off, size - *off, "[");
	for (size_t i = 0; i < n && *off < size; i++)
		*off += snprintf(buf + *off, size - *off, "%s\"%s\"", i ? ", " : "", v[i]);
	if (*off < size)
		*off += snprintf(buf + *off, size - *off, "]");
}

/* Writes BUNDLE/config.json equivalent to spec_init()'s spec. */
static void peer_config(struct bench *b, const struct peer *p, const char *cid,
			const char *args_json)
{
	char path[256], capsj[1024], mountsj[1536], maskedj[512], roj[512], nsj[256], json[8192];
	size_t off = 0, moff = 0, noff = 0, k = 0;

	json_strings(capsj, sizeof(capsj), &off, caps, N_CAPS);
	off = 0;
	json_strings(maskedj, sizeof(maskedj), &off, masked, sizeof(masked) / sizeof(masked[0]));
	off = 0;
	json_strings(roj, sizeof(roj), &off, readonly, sizeof(readonly) / sizeof(readonly[0]));
	moff += snprintf(mountsj, sizeof(mountsj), "[");
	for (size_t i = 0; i < N_MOUNTS && moff < sizeof(mountsj); i++) {
		moff += snprintf(mountsj + moff, sizeof(mountsj) - moff,
				 "%s{\"destination\": \"%s\", \"type\": \"%s\", \"source\": "
				 "\"%s\", \"options\": ",
				 i ? ", " : "", mounts[i].dest, mounts[i].type, mounts[i].source);
		json_strings(mountsj, sizeof(mountsj), &moff, mounts[i].opts,
			     n_opts(mounts[i].opts));
		if (moff < sizeof(mountsj))
			moff += snprintf(mountsj + moff, sizeof(mountsj) - moff, "}");
	}
	if (moff < sizeof(mountsj))
		snprintf(mountsj + moff, sizeof(mountsj) - moff, "]");
	noff += snprintf(nsj, sizeof(nsj), "[");
	for (k = 0; k < 4 && noff < sizeof(nsj); k++)
		noff += snprintf(nsj + noff, sizeof(nsj) - noff, "%s{\"type\": \"%s\"}",
				 k ? ", " : "", ns_types[k]);
	if (noff < sizeof(nsj))
		snprintf(nsj + noff, sizeof(nsj) - noff, "]");
	int w = snprintf(json, sizeof(json),
			 "{\n"
			 " \"ociVersion\": \"1.0.2\",\n"
			 " \"process\": {\n"
			 "  \"terminal\": false,\n"
			 "  \"user\": {\"uid\": 0, \"gid\": 0},\n"
			 "  \"args\": [%s],\n"
			 "  \"env\": [\"PATH=/bin\"],\n"
			 "  \"cwd\": \"/\",\n"
			 "  \"capabilities\": {\"bounding\": %s, \"effective\": %s,"
			 " \"permitted\": %s},\n"
			 "  \"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"hard\": 0, \"soft\": 0}]\n"
			 " },\n"
			 " \"root\": {\"path\": \"%s\"},\n"
			 " \"hostname\": \"h-%s\",\n"
			 " \"mounts\": %s,\n"
			 " \"linux\": {\n"
			 "  \"namespaces\": %s,\n"
			 "  \"maskedPaths\": %s,\n"
			 "  \"readonlyPaths\": %s,\n"
			 "  \"cgroupsPath\": \"%s/%s\"\n"
			 " }\n"
			 "}\n",
			 args_json, capsj, capsj, capsj, b->rootfs, cid, mountsj, nsj, maskedj, roj,
			 p->cgparent, cid);
	if (w < 0 || (size_t)w >= sizeof(json))
		die("%s", "config.json does not fit");
	snprintf(path, sizeof(path), "%s/config.json", b->bundle);
	if (write_file(path, json) < 0)
		die("cannot write %s", path);
}

static int peer_run(struct bench *b, const struct peer *p, const char *cid, bool detach,
		    const char *outpath, const char *errpath)
{
	char *fg[] = {"run", "-b", b->bundle, (char *)cid, NULL};
	char *bg[] = {"run", "-d", "-b", b->bundle, (char *)cid, NULL};
	return run(peer_argv(p, detach ? bg : fg), outpath, errpath);
}

static void peer_stop(const struct peer *p, const char *cid)
{
	char *kill_w[] = {"kill", (char *)cid, "KILL", NULL};
	char *del_w[] = {"delete", "-f", (char *)cid, NULL};
	run(peer_argv(p, kill_w), NULL, NULL);
	run(peer_argv(p, del_w), NULL, NULL);
}

#define EXIT0_JSON "\"/bin/payload\", \"exit\", \"0\""
#define REPORT_JSON "\"/bin/payload\", \"report\""

/* The peer is installed and runs a container here; prints why not otherwise. */
static bool peer_works(struct bench *b, struct peer *p)
{
	char errpath[160];
	char *version[] = {"--version", NULL};

	if (run(peer_argv(p, version), NULL, NULL) != 0) {
		printf("peer missing: %s is not installed (make bench-deps installs it); its "
		       "comparisons are skipped\n",
		       p->name);
		printf("NOTE\t%s is not installed: its comparisons are skipped\n", p->name);
		return false;
	}
	snprintf(errpath, sizeof(errpath), "%s/%s.err", b->dir, p->name);
	peer_config(b, p, "probe", EXIT0_JSON);
	int st = peer_run(b, p, "probe", false, NULL, errpath);
	if (st != 0) {
		printf("peer failed: %s run exited with %d; its comparisons are skipped\n", p->name,
		       st);
		printf("NOTE\t%s run failed here (status %d): its comparisons are skipped\n",
		       p->name, st);
		print_file(errpath);
		return false;
	}
	return true;
}

/* --- same conditions: what each container sees from inside -------------------------------- */

#define MAX_VIEW 256

struct view {
	char *line[MAX_VIEW];
	int n;
};

/*
 * Keeps the lines of `payload report` that describe the conditions (mounts and so masked and
 * read-only paths, namespaces, credentials, capabilities, seccomp, rlimits, environment, cwd),
 * not the ones that differ by nature (pids, hostname, cgroup paths). A namespace becomes "new"
 * or "shared" (with this bench process) instead of its inode, and a masked path "masked".
 */
static void view_load(struct view *v, const char *path)
{
	char line[1024], own[128], nsp[64];
	FILE *f = fopen(path, "re");

	v->n = 0;
	while (f && fgets(line, sizeof(line), f) && v->n < MAX_VIEW) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "pid=", 4) || !strncmp(line, "ppid=", 5) ||
		    !strncmp(line, "hostname=", 9) || !strncmp(line, "cgroup=", 7) ||
		    !strncmp(line, "domainname=", 11))
			continue;
		if (!strncmp(line, "ns.", 3)) {
			char *eq = strchr(line, '=');
			if (!eq)
				continue;
			*eq = 0;
			snprintf(nsp, sizeof(nsp), "/proc/self/ns/%.32s", line + 3);
			ssize_t l = readlink(nsp, own, sizeof(own) - 1);
			own[l > 0 ? l : 0] = 0;
			char buf[160];
			snprintf(buf, sizeof(buf), "%.64s=%s", line,
				 strcmp(own, eq + 1) ? "new" : "shared");
			v->line[v->n++] = strdup(buf);
			continue;
		}
		/* A masked path: how it is masked (which null device, ro or not) is detail. */
		char mp[512];
		if (sscanf(line, "mount=%511s", mp) == 1)
			for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++)
				if (!strcmp(mp, masked[i]))
					snprintf(line, sizeof(line), "mount=%s masked", mp);
		v->line[v->n++] = strdup(line);
	}
	if (f)
		fclose(f);
}

static bool view_has(const struct view *v, const char *line)
{
	for (int i = 0; i < v->n; i++)
		if (!strcmp(v->line[i], line))
			return true;
	return false;
}

static void view_free(struct view *v)
{
	for (int i = 0; i < v->n; i++)
		free(v->line[i]);
	v->n = 0;
}

/* Prints every line only one of the two has; returns how many. */
static int view_diff(const struct view *a, const struct view *p, const char *peer)
{
	int d = 0;
	for (int i = 0; i < a->n; i++)
		if (!view_has(p, a->line[i])) {
			printf("NOTE\tconditions differ: agent has, %s has not: %s\n", peer,
			       a->line[i]);
			d++;
		}
	for (int i = 0; i < p->n; i++)
		if (!view_has(a, p->line[i])) {
			printf("NOTE\tconditions differ: %s has, agent has not: %s\n", peer,
			       p->line[i]);
			d++;
		}
	return d;
}

static void agent_report(struct bench *b, const char *outpath)
{
	char *args[] = {"/bin/payload", "report", NULL};
	FILE *out = fopen(outpath, "we");
	if (!out)
		die("cannot write %s", outpath);
	agent_create_start(b, "cond", args, 2);
	agent_read_all(b, "cond", "cond", 65536, out);
	fclose(out);
	check_exit("agent report", agent_wait(b, "cond", "cond"));
	agent_remove(b, "cond");
}

static void compare_conditions(struct bench *b, struct peer *peers, int n_peers)
{
	char apath[160], ppath[160];
	struct view av, pv;

	snprintf(apath, sizeof(apath), "%s/report.agent", b->dir);
	agent_report(b, apath);
	view_load(&av, apath);
	printf("the agent's container as seen from inside (payload report; namespaces: new or "
	       "shared with the bench):\n");
	for (int i = 0; i < av.n; i++)
		if (strncmp(av.line[i], "env.", 4))
			printf("  %s\n", av.line[i]);
	for (int k = 0; k < n_peers; k++) {
		struct peer *p = &peers[k];
		if (!p->ok)
			continue;
		snprintf(ppath, sizeof(ppath), "%s/report.%s", b->dir, p->name);
		peer_config(b, p, "cond", REPORT_JSON);
		if (k == 0) {
			char cfg[160];
			snprintf(cfg, sizeof(cfg), "%s/config.json", b->bundle);
			printf("the peers' config.json (the agent gets the same as its Spec, "
			       "cgroupsPath aside):\n");
			print_file_to(cfg, stdout);
		}
		if (peer_run(b, p, "cond", false, ppath, NULL) != 0)
			die("%s run of payload report failed", p->name);
		view_load(&pv, ppath);
		int d = view_diff(&av, &pv, p->name);
		if (d == 0) {
			printf("same conditions: %s's container sees the same mounts, masked "
			       "paths, "
			       "namespaces, credentials, capabilities, seccomp, rlimits (%d lines "
			       "compared)\n",
			       p->name, av.n);
			printf("NOTE\tsame conditions: the agent's and %s's containers see the "
			       "same "
			       "mounts, masked paths, namespaces, capabilities, seccomp and "
			       "rlimits "
			       "(%d lines of payload report compared)\n",
			       p->name, av.n);
		} else {
			printf("conditions differ between the agent and %s in %d lines (NOTE lines "
			       "above)\n",
			       p->name, d);
		}
		view_free(&pv);
	}
	view_free(&av);
}

/* --- the figures --------------------------------------------------------------------------- */

static double agent_create_once(struct bench *b, int i)
{
	char cid[32];

	snprintf(cid, sizeof(cid), "a%d", i);
	double t0 = bench_now_s();
	agent_create_start(b, cid, b->payload_exit, 3);
	check_exit("agent container", agent_wait(b, cid, cid));
	agent_remove(b, cid);
	return (bench_now_s() - t0) * 1000;
}

static double peer_create_once(struct bench *b, struct peer *p, int i)
{
	char cid[32];

	snprintf(cid, sizeof(cid), "%c%d", p->name[0], i);
	peer_config(b, p, cid, EXIT0_JSON);
	double t0 = bench_now_s();
	char what[32];
	snprintf(what, sizeof(what), "%s run", p->name);
	check_exit(what, peer_run(b, p, cid, false, NULL, NULL));
	return (bench_now_s() - t0) * 1000;
}

static double agent_exec_once(struct bench *b, int i)
{
	Grpc__ExecProcessRequest req = GRPC__EXEC_PROCESS_REQUEST__INIT;
	Grpc__Process p = GRPC__PROCESS__INIT;
	char *env[] = {"PATH=/bin"};
	char eid[32];

	p.args = b->payload_exit;
	p.n_args = 3;
	p.env = env;
	p.n_env = 1;
	p.cwd = "/";
	snprintf(eid, sizeof(eid), "e%d", i);
	req.container_id = "ax";
	req.exec_id = eid;
	req.process = &p;
	double t0 = bench_now_s();
	call(b, "ExecProcess", &req.base, &google__protobuf__empty__descriptor, NULL);
	agent_read_all(b, "ax", eid, 65536, NULL);
	check_exit("agent exec", agent_wait(b, "ax", eid));
	return (bench_now_s() - t0) * 1000;
}

static double peer_exec_once(struct peer *p)
{
	char cid[8], what[32];
	char *w[] = {"exec", cid, "/bin/payload", "exit", "0", NULL};

	snprintf(cid, sizeof(cid), "%cx", p->name[0]);
	snprintf(what, sizeof(what), "%s exec", p->name);
	double t0 = bench_now_s();
	check_exit(what, run(peer_argv(p, w), NULL, NULL));
	return (bench_now_s() - t0) * 1000;
}

/* Round i runs the agent and each peer once, the order rotating so drift hits all alike. */
static void bench_create(struct bench *b, int rounds, struct peer *peers, int n_peers, double *ta)
{
	for (int i = 0; i < rounds; i++)
		for (int k = 0; k <= n_peers; k++) {
			int who = (i + k) % (n_peers + 1);
			if (who == n_peers)
				ta[i] = agent_create_once(b, i);
			else if (peers[who].ok)
				peers[who].create_ms[peers[who].n_create++] =
					peer_create_once(b, &peers[who], i);
		}
}

static void bench_exec(struct bench *b, int rounds, struct peer *peers, int n_peers, double *ta)
{
	char *sleep_args[] = {"/bin/payload", "sleep", "3600", NULL};
	char cid[8];

	agent_create_start(b, "ax", sleep_args, 3);
	for (int k = 0; k < n_peers; k++) {
		if (!peers[k].ok)
			continue;
		snprintf(cid, sizeof(cid), "%cx", peers[k].name[0]);
		peer_config(b, &peers[k], cid, "\"/bin/payload\", \"sleep\", \"3600\"");
		check_exit("peer run -d", peer_run(b, &peers[k], cid, true, NULL, NULL));
	}
	for (int i = 0; i < rounds; i++)
		for (int k = 0; k <= n_peers; k++) {
			int who = (i + k) % (n_peers + 1);
			if (who == n_peers)
				ta[i] = agent_exec_once(b, i);
			else if (peers[who].ok)
				peers[who].exec_ms[peers[who].n_exec++] =
					peer_exec_once(&peers[who]);
		}
	Grpc__SignalProcessRequest sig = GRPC__SIGNAL_PROCESS_REQUEST__INIT;
	sig.container_id = "ax";
	sig.exec_id = "";
	sig.signal = SIGKILL;
	call(b, "SignalProcess", &sig.base, &google__protobuf__empty__descriptor, NULL);
	agent_wait(b, "ax", "ax");
	agent_remove(b, "ax");
	for (int k = 0; k < n_peers; k++)
		if (peers[k].ok) {
			snprintf(cid, sizeof(cid), "%cx", peers[k].name[0]);
			peer_stop(&peers[k], cid);
		}
}

static void print_figures(const char *name, double *ta, int rounds, struct peer *peers, int n_peers,
			  bool create)
{
	struct bench_stats a = bench_stats(ta, rounds);
	bool any = false;

	for (int k = 0; k < n_peers; k++) {
		struct peer *p = &peers[k];
		if (!p->ok)
			continue;
		char fname[96];
		snprintf(fname, sizeof(fname), "%s (vs %s)", name, p->name);
		struct bench_stats ps = create ? bench_stats(p->create_ms, p->n_create)
					       : bench_stats(p->exec_ms, p->n_exec);
		bench_figure(fname, "ms", true, p->name, a, &ps);
		any = true;
	}
	if (!any)
		bench_figure(name, "ms", true, NULL, a, NULL);
}

/* What the exit handler cleans up: set once in main, so a run that dies half-way leaves nothing. */
static struct {
	struct bench *b;
	struct peer *peers;
	int n_peers;
} at_exit;

/* Stops the agent and the peers' containers and removes every cgroup the run made. */
static void cleanup(void)
{
	struct bench *b = at_exit.b;
	char cid[8];

	if (!b)
		return;
	for (int k = 0; k < at_exit.n_peers; k++)
		if (at_exit.peers[k].ok) {
			snprintf(cid, sizeof(cid), "%cx", at_exit.peers[k].name[0]);
			peer_stop(&at_exit.peers[k], cid);
		}
	if (b->agent_pid > 0)
		stop_agent(b);
	remove_cgroup_parent(CG_AGENT, b->unified_fd);
	for (int k = 0; k < at_exit.n_peers; k++)
		remove_cgroup_parent(at_exit.peers[k].cgparent, b->unified_fd);
	if (b->unified_fd >= 0)
		close(b->unified_fd);
	at_exit.b = NULL;
}

int main(int argc, char **argv)
{
	struct bench b = {.unified_fd = -1};
	struct peer peers[] = {
		{.name = "crun",
		 .cgparent = "/kata-bench-crun",
		 .global = crun_global,
		 .n_global = 2},
		{.name = "runc",
		 .cgparent = "/kata-bench-runc",
		 .global = runc_global,
		 .n_global = 1},
	};
	int n_peers = sizeof(peers) / sizeof(peers[0]);

	if (argc < 3) {
		fprintf(stderr, "usage: %s AGENT_BIN PAYLOAD_BIN [ROUNDS]\n", argv[0]);
		return 2;
	}
	int rounds = argc > 3 ? atoi(argv[3]) : 31;
	if (rounds < 1)
		rounds = 1;
	if (geteuid() != 0)
		die("%s", "must run as root");
	b.agent_bin = argv[1];
	b.payload_bin = argv[2];
	b.payload_exit[0] = "/bin/payload";
	b.payload_exit[1] = "exit";
	b.payload_exit[2] = "0";
	if (access(b.agent_bin, X_OK) < 0)
		die("agent binary %s not found", b.agent_bin);
	for (int k = 0; k < n_peers; k++) {
		peers[k].create_ms = calloc(rounds, sizeof(double));
		peers[k].exec_ms = calloc(rounds, sizeof(double));
	}
	double *ta_create = calloc(rounds, sizeof(double)),
	       *ta_exec = calloc(rounds, sizeof(double));
	if (!ta_create || !ta_exec || !peers[0].exec_ms || !peers[1].exec_ms)
		die("%s", "out of memory");
	setup_namespace(&b);
	at_exit.b = &b;
	at_exit.peers = peers;
	at_exit.n_peers = n_peers;
	atexit(cleanup);
	launch_agent(&b);
	double wrapper_us;
	if (!hide_unified_from_peer(&b, &wrapper_us)) {
		printf("peers skipped: cannot hide the cgroup2 mount from them: %s\n",
		       strerror(errno));
		printf("NOTE\tcrun and runc skipped: the hybrid-cgroup wrapper failed (%s)\n",
		       strerror(errno));
	} else {
		for (int k = 0; k < n_peers; k++)
			peers[k].ok = peer_works(&b, &peers[k]);
	}
	if (wrapper_us >= 0) {
		printf("hybrid-cgroup wrapper for the peers: one unshare(CLONE_NEWNS) + umount of "
		       "/sys/fs/cgroup/unified, %.0f us, once before any timed call (in no "
		       "figure)\n",
		       wrapper_us);
		printf("NOTE\thybrid cgroups on this host: crun refuses a cgroup2 mount with "
		       "controllers, so the bench hides /sys/fs/cgroup/unified from both peers "
		       "(one unshare + umount, %.0f us, paid once, outside every figure); the "
		       "agent keeps the hybrid view\n",
		       wrapper_us);
	}
	compare_conditions(&b, peers, n_peers);

	bench_print_load("bench-container", "before");
	bench_create(&b, rounds, peers, n_peers, ta_create);
	bench_exec(&b, rounds, peers, n_peers, ta_exec);
	bench_print_load("bench-container", "after");
	print_figures("create-to-exit", ta_create, rounds, peers, n_peers, true);
	print_figures("exec", ta_exec, rounds, peers, n_peers, false);

	cleanup();
	return 0;
}
