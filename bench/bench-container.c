/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container figures, each beside a peer measured in the same run:
 *  - create-to-exit of a container running `payload exit 0`: the agent's Create + Start + Wait +
 *    Remove against `crun run` of the same rootfs with an equivalent config.json,
 *  - exec of `payload exit 0` into a running container: the agent's ExecProcess + ReadStdout to
 *    EOF + WaitProcess against `crun exec`,
 *  - stdout throughput of `payload write-stdout N` read with ReadStdout against a plain copy of
 *    the same output from a pipe to a unix stream socket by a helper process.
 * Runs as root, in a private mount namespace (a tmpfs /run, a tmpfs rootfs under /tmp).
 * Without crun the agent figures are still printed. Goals are reported, never enforced.
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
#include "ttrpc-client.h"

/* Output of one throughput run; reduce if a run takes too long on a slow machine. */
#define THROUGHPUT_BYTES (256LL * 1024 * 1024)
/* Each throughput figure is the median of this many runs (each moves THROUGHPUT_BYTES). */
#define THROUGHPUT_ROUNDS 3
#define COPY_BUF (1024 * 1024)
#define CG_AGENT "/kata-bench"
#define CG_CRUN "/kata-bench-crun"

#define GOAL_CREATE 0.6 /* agent / crun, at most */
#define GOAL_EXEC 0.5 /* agent / crun, at most */
#define GOAL_THROUGHPUT 0.5 /* agent / peer, at least */

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
	char dir[64]; /* scratch: agent socket, log, crun bundles */
	char rootfs[64];
	char bundle[128];
	char log[128];
	pid_t agent_pid;
	int unified_fd; /* the agent's cgroup2 mount, hidden from crun (cleanup), or -1 */
	struct ttrpc_client *c;
	char *payload_exit[4]; /* /bin/payload exit 0 */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return v[n / 2];
}

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

/* fork + execvp with stdin/stdout on /dev/null and stderr on errpath (or /dev/null). */
static pid_t spawn(char *const argv[], const char *errpath)
{
	pid_t pid = fork();
	if (pid == 0) {
		int n = open("/dev/null", O_RDWR);
		int e = errpath ? open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644) : n;
		dup2(n, 0);
		dup2(n, 1);
		dup2(e < 0 ? n : e, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Runs argv to completion; returns its exit status (or -1). */
static int run(char *const argv[], const char *errpath)
{
	int st;
	pid_t pid = spawn(argv, errpath);
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void print_file(const char *path)
{
	fflush(stdout);
	char line[512];
	FILE *f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		fprintf(stderr, "  | %s", line);
	if (f)
		fclose(f);
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
	snprintf(b->dir, sizeof(b->dir), "/tmp/kata-bench-ctr.XXXXXX");
	snprintf(b->rootfs, sizeof(b->rootfs), "/tmp/kata-bench-rootfs.XXXXXX");
	if (!mkdtemp(b->dir) || !mkdtemp(b->rootfs))
		die("mkdtemp: %s", strerror(errno));
	/* Both live on tmpfs mounts of this namespace: gone with it. */
	if (mount("tmpfs", b->dir, "tmpfs", 0, "mode=700") < 0 ||
	    mount("tmpfs", b->rootfs, "tmpfs", 0, "mode=755") < 0)
		die("tmpfs under /tmp: %s", strerror(errno));
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
	b->agent_pid = spawn(argv, b->log);
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
		if (waitpid(b->agent_pid, NULL, WNOHANG) == b->agent_pid)
			return;
		usleep(10000);
	}
	kill(b->agent_pid, SIGKILL);
	waitpid(b->agent_pid, NULL, 0);
}

/*
 * crun 1.x refuses hybrid cgroups when the cgroup2 mount has any controller (here: hugetlb).
 * So, once the agent runs, this process moves to a second private mount namespace without
 * /sys/fs/cgroup/unified: crun (our child) sees plain v1, the agent keeps the machine's
 * hybrid view. Done once, so no crun call pays for it. Returns false if that fails.
 */
static bool hide_unified_from_peer(struct bench *b)
{
	struct statfs sf;

	if (statfs("/sys/fs/cgroup/unified", &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC)
		return true;
	if (unshare(CLONE_NEWNS) < 0)
		return false;
	b->unified_fd = open("/sys/fs/cgroup/unified", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->unified_fd < 0 || umount2("/sys/fs/cgroup/unified", MNT_DETACH) < 0)
		return false;
	return true;
}

/* rmdir PARENT in every controller directory (v1) and at the top (v2). */
static void remove_cgroup_parent(const char *parent, int unified_fd)
{
	char path[512];
	DIR *d = opendir("/sys/fs/cgroup");
	struct dirent *de;

	snprintf(path, sizeof(path), "/sys/fs/cgroup%s", parent);
	rmdir(path);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s%s", de->d_name, parent);
		rmdir(path);
	}
	if (d)
		closedir(d);
	if (unified_fd >= 0)
		unlinkat(unified_fd, parent + 1, AT_REMOVEDIR);
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

/* A spec equivalent to the crun config below; storage owned by the struct. */
struct spec {
	Grpc__Spec spec;
	Grpc__Process process;
	Grpc__User user;
	Grpc__LinuxCapabilities caps;
	Grpc__Root root;
	Grpc__Linux linux_;
	Grpc__LinuxNamespace ns[4];
	Grpc__LinuxNamespace *nsp[4];
	Grpc__Mount mount;
	Grpc__Mount *mountp[1];
	char *env[1];
	char cgpath[128];
	char hostname[64];
};

static void spec_init(struct spec *s, const char *rootfs, const char *cid, char **args, size_t n)
{
	static const char *const types[] = {"pid", "mount", "ipc", "uts"};

	memset(s, 0, sizeof(*s));
	grpc__spec__init(&s->spec);
	grpc__process__init(&s->process);
	grpc__user__init(&s->user);
	grpc__linux_capabilities__init(&s->caps);
	grpc__root__init(&s->root);
	grpc__linux__init(&s->linux_);
	grpc__mount__init(&s->mount);
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
	s->spec.process = &s->process;
	s->root.path = (char *)rootfs;
	s->spec.root = &s->root;
	snprintf(s->hostname, sizeof(s->hostname), "h-%s", cid);
	s->spec.hostname = s->hostname;
	for (int i = 0; i < 4; i++) {
		grpc__linux_namespace__init(&s->ns[i]);
		s->ns[i].type = (char *)types[i];
		s->nsp[i] = &s->ns[i];
	}
	s->linux_.namespaces = s->nsp;
	s->linux_.n_namespaces = 4;
	s->mount.destination = "/proc";
	s->mount.source = "proc";
	s->mount.type = "proc";
	s->mountp[0] = &s->mount;
	s->spec.mounts = s->mountp;
	s->spec.n_mounts = 1;
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

/* ReadStdout with len per call until EOF; returns the byte count, *calls the replies read. */
static long long agent_read_all(struct bench *b, const char *cid, const char *eid, uint32_t len,
				long *calls)
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
		protobuf_c_message_free_unpacked(&resp->base, NULL);
		if (calls)
			(*calls)++;
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

/* --- crun ---------------------------------------------------------------------------------- */

/* Writes BUNDLE/config.json equivalent to spec_init()'s spec. */
static void crun_config(struct bench *b, const char *cid, const char *args_json)
{
	char path[256], capsj[1024] = "", json[4096];
	size_t off = 0;

	for (size_t i = 0; i < N_CAPS; i++)
		off += snprintf(capsj + off, sizeof(capsj) - off, "%s\"%s\"", i ? ", " : "",
				caps[i]);
	snprintf(json, sizeof(json),
		 "{\n"
		 " \"ociVersion\": \"1.0.2\",\n"
		 " \"process\": {\n"
		 "  \"terminal\": false,\n"
		 "  \"user\": {\"uid\": 0, \"gid\": 0},\n"
		 "  \"args\": [%s],\n"
		 "  \"env\": [\"PATH=/bin\"],\n"
		 "  \"cwd\": \"/\",\n"
		 "  \"capabilities\": {\"bounding\": [%s], \"effective\": [%s],"
		 " \"permitted\": [%s]}\n"
		 " },\n"
		 " \"root\": {\"path\": \"%s\"},\n"
		 " \"hostname\": \"h-%s\",\n"
		 " \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\","
		 " \"source\": \"proc\"}],\n"
		 " \"linux\": {\n"
		 "  \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"},"
		 " {\"type\": \"ipc\"}, {\"type\": \"uts\"}],\n"
		 "  \"cgroupsPath\": \"" CG_CRUN "/%s\"\n"
		 " }\n"
		 "}\n",
		 args_json, capsj, capsj, capsj, b->rootfs, cid, cid);
	snprintf(path, sizeof(path), "%s/config.json", b->bundle);
	if (write_file(path, json) < 0)
		die("cannot write %s", path);
}

static int crun_run(struct bench *b, const char *cid, bool detach, const char *errpath)
{
	char *fg[] = {"crun", "--cgroup-manager=cgroupfs", "run", "-b", b->bundle, (char *)cid,
		      NULL};
	char *bg[] = {
		"crun", "--cgroup-manager=cgroupfs", "run", "-d", "-b", b->bundle, (char *)cid,
		NULL};
	return run(detach ? bg : fg, errpath);
}

static bool crun_available(void)
{
	char *argv[] = {"crun", "--version", NULL};
	return run(argv, NULL) == 0;
}

static void crun_stop(const char *cid)
{
	char *kill_argv[] = {"crun", "kill", (char *)cid, "KILL", NULL};
	char *del_argv[] = {"crun", "delete", "-f", (char *)cid, NULL};
	run(kill_argv, NULL);
	run(del_argv, NULL);
}

/* --- the figures --------------------------------------------------------------------------- */

#define EXIT0_JSON "\"/bin/payload\", \"exit\", \"0\""

static bool peer_works(struct bench *b)
{
	char errpath[160];

	if (!crun_available()) {
		printf("peer missing: crun is not installed (`crun --version` failed); crun "
		       "comparisons skipped\n");
		return false;
	}
	snprintf(errpath, sizeof(errpath), "%s/crun.err", b->dir);
	crun_config(b, "probe", EXIT0_JSON);
	int st = crun_run(b, "probe", false, errpath);
	if (st != 0) {
		printf("peer failed: crun run exited with %d; crun comparisons skipped\n", st);
		print_file(errpath);
		return false;
	}
	return true;
}

static void print_ratio(const char *name, int rounds, double a, double p, bool peer, double goal)
{
	if (peer)
		printf("%s (median of %d): agent %.2f ms, crun %.2f ms, ratio %.2fx (goal <= "
		       "%.1fx)\n",
		       name, rounds, a, p, a / p, goal);
	else
		printf("%s (median of %d): agent %.2f ms, crun skipped (goal <= %.1fx)\n", name,
		       rounds, a, goal);
}

static void bench_create(struct bench *b, int rounds, bool peer)
{
	double *ta = calloc(rounds, sizeof(double)), *tp = calloc(rounds, sizeof(double));
	char cid[32];

	/* Alternate the two so drift on the machine hits both alike. */
	for (int i = 0; i < rounds; i++) {
		snprintf(cid, sizeof(cid), "a%d", i);
		double t0 = now_s();
		agent_create_start(b, cid, b->payload_exit, 3);
		check_exit("agent container", agent_wait(b, cid, cid));
		agent_remove(b, cid);
		ta[i] = (now_s() - t0) * 1000;
		if (!peer)
			continue;
		snprintf(cid, sizeof(cid), "c%d", i);
		crun_config(b, cid, EXIT0_JSON);
		t0 = now_s();
		check_exit("crun run", crun_run(b, cid, false, NULL));
		tp[i] = (now_s() - t0) * 1000;
	}
	print_ratio("create-to-exit", rounds, median(ta, rounds), peer ? median(tp, rounds) : 0,
		    peer, GOAL_CREATE);
	free(ta);
	free(tp);
}

static void bench_exec(struct bench *b, int rounds, bool peer)
{
	double *ta = calloc(rounds, sizeof(double)), *tp = calloc(rounds, sizeof(double));
	char *sleep_args[] = {"/bin/payload", "sleep", "3600", NULL};
	char *exec_argv[] = {"crun", "exec", "cx", "/bin/payload", "exit", "0", NULL};
	char *env[] = {"PATH=/bin"};
	char eid[32];

	agent_create_start(b, "ax", sleep_args, 3);
	if (peer) {
		crun_config(b, "cx", "\"/bin/payload\", \"sleep\", \"3600\"");
		check_exit("crun run -d", crun_run(b, "cx", true, NULL));
	}
	for (int i = 0; i < rounds; i++) {
		Grpc__ExecProcessRequest req = GRPC__EXEC_PROCESS_REQUEST__INIT;
		Grpc__Process p = GRPC__PROCESS__INIT;

		p.args = b->payload_exit;
		p.n_args = 3;
		p.env = env;
		p.n_env = 1;
		p.cwd = "/";
		snprintf(eid, sizeof(eid), "e%d", i);
		req.container_id = "ax";
		req.exec_id = eid;
		req.process = &p;
		double t0 = now_s();
		call(b, "ExecProcess", &req.base, &google__protobuf__empty__descriptor, NULL);
		agent_read_all(b, "ax", eid, 65536, NULL);
		check_exit("agent exec", agent_wait(b, "ax", eid));
		ta[i] = (now_s() - t0) * 1000;
		if (!peer)
			continue;
		t0 = now_s();
		check_exit("crun exec", run(exec_argv, NULL));
		tp[i] = (now_s() - t0) * 1000;
	}
	Grpc__SignalProcessRequest sig = GRPC__SIGNAL_PROCESS_REQUEST__INIT;
	sig.container_id = "ax";
	sig.exec_id = "";
	sig.signal = SIGKILL;
	call(b, "SignalProcess", &sig.base, &google__protobuf__empty__descriptor, NULL);
	agent_wait(b, "ax", "ax");
	agent_remove(b, "ax");
	if (peer)
		crun_stop("cx");
	print_ratio("exec", rounds, median(ta, rounds), peer ? median(tp, rounds) : 0, peer,
		    GOAL_EXEC);
	free(ta);
	free(tp);
}

/* MB/s of the agent's ReadStdout with len bytes per call; *avg_kib the mean reply size. */
static double agent_throughput(struct bench *b, uint32_t len, double *avg_kib)
{
	long calls = 0;
	double t[THROUGHPUT_ROUNDS];
	char size[32], cid[32];
	char *args[] = {"/bin/payload", "write-stdout", size, NULL};

	snprintf(size, sizeof(size), "%lld", THROUGHPUT_BYTES);
	for (int i = 0; i < THROUGHPUT_ROUNDS; i++) {
		snprintf(cid, sizeof(cid), "t%u-%d", len, i);
		agent_create_start(b, cid, args, 3);
		double t0 = now_s();
		long long n = agent_read_all(b, cid, cid, len, &calls);
		t[i] = now_s() - t0;
		check_exit("agent writer", agent_wait(b, cid, cid));
		agent_remove(b, cid);
		if (n != THROUGHPUT_BYTES)
			die("agent stdout: short read (%s)", cid);
	}
	*avg_kib = THROUGHPUT_BYTES * (double)THROUGHPUT_ROUNDS / calls / 1024;
	return THROUGHPUT_BYTES / 1e6 / median(t, THROUGHPUT_ROUNDS);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

/* payload -> pipe -> copier (read 1 MiB, write) -> unix stream socket -> us. Seconds, or < 0. */
static double peer_copy_once(struct bench *b)
{
	char size[32];
	int p[2], sv[2];
	char *buf = malloc(COPY_BUF);

	snprintf(size, sizeof(size), "%lld", THROUGHPUT_BYTES);
	if (!buf || pipe2(p, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		die("%s", "pipe/socketpair failed");
	double t0 = now_s();
	pid_t writer = fork();
	if (writer == 0) {
		dup2(p[1], 1);
		execl(b->payload_bin, b->payload_bin, "write-stdout", size, (char *)NULL);
		_exit(127);
	}
	pid_t copier = fork();
	if (copier == 0) {
		ssize_t n;
		close(p[1]);
		close(sv[0]);
		while ((n = read(p[0], buf, COPY_BUF)) > 0)
			if (write_all(sv[1], buf, n) < 0)
				_exit(1);
		_exit(n < 0);
	}
	close(p[0]);
	close(p[1]);
	close(sv[1]);
	long long total = 0;
	ssize_t n;
	while ((n = read(sv[0], buf, COPY_BUF)) > 0)
		total += n;
	double dt = now_s() - t0;
	close(sv[0]);
	free(buf);
	int s1 = 0, s2 = 0;
	waitpid(writer, &s1, 0);
	waitpid(copier, &s2, 0);
	if (total != THROUGHPUT_BYTES || s1 != 0 || s2 != 0)
		return -1;
	return dt;
}

static void bench_throughput(struct bench *b)
{
	static const uint32_t lens[] = {1024 * 1024, 65536, 32768};
	double t[THROUGHPUT_ROUNDS], a[3], kib[3];

	for (int i = 0; i < THROUGHPUT_ROUNDS; i++)
		if ((t[i] = peer_copy_once(b)) < 0)
			die("%s", "the pipe-to-socket peer did not copy everything");
	double peer = THROUGHPUT_BYTES / 1e6 / median(t, THROUGHPUT_ROUNDS);
	for (int i = 0; i < 3; i++)
		a[i] = agent_throughput(b, lens[i], &kib[i]);
	printf("stdout throughput (%lld MiB, median of %d): agent %.0f MB/s (len 1 MiB), "
	       "pipe-to-socket peer %.0f MB/s, ratio %.2fx (goal >= %.1fx)\n",
	       THROUGHPUT_BYTES >> 20, THROUGHPUT_ROUNDS, a[0], peer, a[0] / peer, GOAL_THROUGHPUT);
	/* 32 KiB: the buffer the Kata shim copies container output with. */
	printf("stdout throughput, other read sizes: agent %.0f MB/s (len 64 KiB, ratio %.2fx), "
	       "%.0f MB/s (len 32 KiB, ratio %.2fx); mean reply %.0f / %.0f / %.0f KiB "
	       "(len 1 MiB / 64 KiB / 32 KiB)\n",
	       a[1], a[1] / peer, a[2], a[2] / peer, kib[0], kib[1], kib[2]);
}

int main(int argc, char **argv)
{
	struct bench b = {.unified_fd = -1};

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
	setup_namespace(&b);
	launch_agent(&b);
	bool peer = hide_unified_from_peer(&b);
	if (!peer)
		printf("peer skipped: cannot hide the cgroup2 mount from crun: %s\n",
		       strerror(errno));
	else
		peer = peer_works(&b);

	bench_create(&b, rounds, peer);
	bench_exec(&b, rounds, peer);
	bench_throughput(&b);

	stop_agent(&b);
	remove_cgroup_parent(CG_AGENT, b.unified_fd);
	remove_cgroup_parent(CG_CRUN, b.unified_fd);
	if (b.unified_fd >= 0)
		close(b.unified_fd);
	return 0;
}
