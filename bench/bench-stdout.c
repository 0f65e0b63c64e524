/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stdout at pipe speed: the agent's ReadStdout against a plain pipe, the same producer for both.
 *  - stdout-1m: `payload write-stdout-1m N` (1 MiB per write) exec'd in a container, read with
 *    ReadStdout asking for 1 MiB each time; peer: the same program writing into a plain pipe
 *    read 1 MiB at a time by this process,
 *  - stdout-32k: the same with 32 KiB per ReadStdout (the buffer the Kata shim copies with),
 *    peer the same plain pipe read 32 KiB at a time,
 *  - echo: a 5-byte line written to `payload cat` and read back (WriteStdin + ReadStdout
 *    against a write and a read on two plain pipes): what interactive output waits.
 * Every run checks every byte of the output against the pattern. Agent and peer runs
 * alternate. Runs as root in a private mount namespace (a tmpfs /run holds the rootfs).
 * Usage: bench-stdout AGENT_BIN PAYLOAD_BIN [ROUNDS]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "rpc/frame.h"
#include "ttrpc-client.h"

#define BYTES (256LL * 1024 * 1024) /* per throughput run */
#define MIB (1024 * 1024)
#define ECHO_ROUNDS 200 /* lines per echo run; the run's figure is their median */
#define GOAL 0.5 /* stdout-1m: agent / pipe, at least */
#define SHARED "/run/kata-containers/shared/containers/bench-stdout"
#define ROOTFS SHARED "/rootfs"
#define CG_PARENT "/kata-bench-stdout"
#define CID "bs"

static const char pattern[] = "0123456789abcdef";
static char *caps[] = {"CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FOWNER",
		       "CAP_SETGID", "CAP_SETUID",	 "CAP_KILL"};
static Grpc__LinuxCapabilities capset = GRPC__LINUX_CAPABILITIES__INIT;
static unsigned char ref[MIB + 16]; /* the pattern, for the byte check */

struct bench {
	const char *agent_bin, *payload_bin;
	pid_t agent_pid;
	struct ttrpc_client *c;
	int raw_fd; /* a second connection: ReadStdout without the client library's copies */
	uint32_t raw_stream;
	uint8_t *raw_buf; /* the last reply frame read on raw_fd */
	int n_exec;
};

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench-stdout: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

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

/* Sorts v; *min, *med, *max of it. */
static void stats(double *v, int n, double *min, double *med, double *max)
{
	qsort(v, n, sizeof(double), cmp_double);
	*min = v[0];
	*med = v[n / 2];
	*max = v[n - 1];
}

/* The byte check: data at stream offset off must be the pattern. */
static void check_bytes(const void *data, size_t n, long long off, const char *who)
{
	while (n > 0) {
		size_t k = n > MIB ? MIB : n;
		if (memcmp(data, ref + off % 16, k) != 0)
			die("%s: wrong bytes near offset %lld", who, off);
		data = (const char *)data + k;
		off += k;
		n -= k;
	}
}

/* --- setup --------------------------------------------------------------------------------- */

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

static void mkdirs(const char *path)
{
	char p[256];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
}

/* A private mount namespace with a tmpfs /run: the rootfs, socket and log are gone with it. */
static void setup_namespace(struct bench *b)
{
	static const char *const dirs[] = {"bin", "proc", "sys", "dev", "tmp", "etc"};
	char path[256];

	if (unshare(CLONE_NEWNS) < 0)
		die("unshare(CLONE_NEWNS): %s (run as root)", strerror(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("making / private: %s", strerror(errno));
	if (mount("tmpfs", "/run", "tmpfs", 0, "mode=755") < 0)
		die("tmpfs on /run: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), ROOTFS "/%s", dirs[i]);
		mkdirs(path);
	}
	if (copy_file(b->payload_bin, ROOTFS "/bin/payload") < 0)
		die("cannot copy the payload %s into the rootfs", b->payload_bin);
}

static void launch_agent(struct bench *b)
{
	_cleanup_error_ agent_error_t *err = NULL;
	const char *addr = "unix:///run/bench-stdout.sock";
	FILE *f = fopen("/run/bench-stdout.cmdline", "we");

	/* BENCH_STDOUT_CMDLINE: more agent options, e.g. agent.container_pipe_size=N. */
	const char *extra = getenv("BENCH_STDOUT_CMDLINE");

	if (!f || fprintf(f, "console=ttyS0 quiet %s\n", extra ? extra : "") < 0 || fclose(f) != 0)
		die("%s", "cannot write the agent's cmdline file");
	b->agent_pid = fork();
	if (b->agent_pid == 0) {
		int n = open("/dev/null", O_RDWR);
		int l = open("/run/bench-stdout.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(n, 0);
		dup2(n, 1);
		dup2(l < 0 ? n : l, 2);
		setenv("KATA_AGENT_SERVER_ADDR", addr, 1);
		execl(b->agent_bin, b->agent_bin, "--cmdline-file", "/run/bench-stdout.cmdline",
		      (char *)NULL);
		_exit(127);
	}
	if (b->agent_pid < 0)
		die("fork: %s", strerror(errno));
	int fd = ttrpc_dial(addr, 5000, &err);
	if (fd < 0)
		die("the agent did not accept: %s", err ? err->msg : "?");
	b->c = ttrpc_client_new(fd);
	b->raw_fd = ttrpc_dial(addr, 5000, &err);
	b->raw_stream = 1;
	b->raw_buf = malloc(TTRPC_MAX_PAYLOAD);
	if (!b->c || b->raw_fd < 0 || !b->raw_buf)
		die("%s", "a second connection to the agent failed");
}

static void stop_agent(struct bench *b)
{
	b->c = ttrpc_client_free(b->c);
	if (b->raw_fd >= 0)
		close(b->raw_fd);
	b->raw_fd = -1;
	free(b->raw_buf);
	b->raw_buf = NULL;
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

/* rmdir the parent cgroup in every controller (v1) and at the top (v2, hybrid). */
/* Kills what is left in one cgroup directory (a run that stopped half-way), then removes it. */
static void empty_cgroup(const char *dir)
{
	char path[600];
	int pid;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	for (int round = 0; round < 50 && rmdir(dir) < 0 && errno == EBUSY; round++) {
		FILE *f = fopen(path, "re");
		while (f && fscanf(f, "%d", &pid) == 1)
			kill(pid, SIGKILL);
		if (f)
			fclose(f);
		usleep(20000);
	}
}

/* The container's cgroup and its parent in every controller (v1) and at the top (v2, hybrid). */
static void remove_cgroups(void)
{
	char path[512];
	DIR *d = opendir("/sys/fs/cgroup");
	struct dirent *de;

	empty_cgroup("/sys/fs/cgroup" CG_PARENT "/" CID);
	rmdir("/sys/fs/cgroup" CG_PARENT);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s" CG_PARENT "/" CID, de->d_name);
		empty_cgroup(path);
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s" CG_PARENT, de->d_name);
		rmdir(path);
	}
	if (d)
		closedir(d);
}

/* At exit, also after die(): the container removed, the agent stopped, the cgroups gone. */
static struct bench *cleanup_bench;

static void cleanup(void)
{
	struct bench *b = cleanup_bench;

	cleanup_bench = NULL;
	if (!b)
		return;
	if (b->c) {
		Grpc__RemoveContainerRequest req = GRPC__REMOVE_CONTAINER_REQUEST__INIT;
		req.container_id = CID;
		(void)ttrpc_client_call_msg(b->c, "grpc.AgentService", "RemoveContainer", &req.base,
					    &google__protobuf__empty__descriptor, NULL, NULL, NULL,
					    10000000000LL, NULL);
	}
	if (b->agent_pid > 0)
		stop_agent(b);
	remove_cgroups();
}

/* --- agent calls --------------------------------------------------------------------------- */

static void call(struct bench *b, const char *method, const ProtobufCMessage *req,
		 const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp)
{
	_cleanup_error_ agent_error_t *err = NULL;
	int32_t code = -1;
	char *msg = NULL;

	if (ttrpc_client_call_msg(b->c, "grpc.AgentService", method, req, resp_desc, resp, &code,
				  &msg, 0, &err) < 0)
		die("%s: %s", method, err ? err->msg : "call failed");
	if (code != 0)
		die("%s: status %d: %s", method, code, msg);
	free(msg);
}

static void create_start(struct bench *b)
{
	static const char *const types[] = {"pid", "mount", "ipc", "uts"};
	Grpc__CreateContainerRequest creq = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	Grpc__StartContainerRequest sreq = GRPC__START_CONTAINER_REQUEST__INIT;
	Grpc__Spec spec = GRPC__SPEC__INIT;
	Grpc__Process proc = GRPC__PROCESS__INIT;
	Grpc__User user = GRPC__USER__INIT;
	Grpc__Root root = GRPC__ROOT__INIT;
	Grpc__Linux lin = GRPC__LINUX__INIT;
	Grpc__LinuxNamespace ns[4], *nsp[4];
	Grpc__Mount mnt = GRPC__MOUNT__INIT, *mntp[1] = {&mnt};
	char *args[] = {"/bin/payload", "sleep", "3600"}, *env[] = {"PATH=/bin"};

	proc.args = args;
	proc.n_args = 3;
	proc.env = env;
	proc.n_env = 1;
	proc.cwd = "/";
	proc.user = &user;
	proc.capabilities = &capset;
	spec.process = &proc;
	root.path = ROOTFS;
	spec.root = &root;
	spec.hostname = "bench-stdout";
	for (int i = 0; i < 4; i++) {
		grpc__linux_namespace__init(&ns[i]);
		ns[i].type = (char *)types[i];
		nsp[i] = &ns[i];
	}
	lin.namespaces = nsp;
	lin.n_namespaces = 4;
	lin.cgroupspath = CG_PARENT "/" CID;
	spec.linux = &lin;
	mnt.destination = "/proc";
	mnt.source = "proc";
	mnt.type = "proc";
	spec.mounts = mntp;
	spec.n_mounts = 1;
	creq.container_id = creq.exec_id = CID;
	creq.oci = &spec;
	call(b, "CreateContainer", &creq.base, &google__protobuf__empty__descriptor, NULL);
	sreq.container_id = CID;
	call(b, "StartContainer", &sreq.base, &google__protobuf__empty__descriptor, NULL);
}

/* Execs `payload ARGS...` in the container; its exec id is written to eid. */
static void agent_exec(struct bench *b, char **args, size_t n, char *eid, size_t eid_len)
{
	Grpc__ExecProcessRequest req = GRPC__EXEC_PROCESS_REQUEST__INIT;
	Grpc__Process proc = GRPC__PROCESS__INIT;
	Grpc__User user = GRPC__USER__INIT;
	char *env[] = {"PATH=/bin"};

	snprintf(eid, eid_len, "x%d", b->n_exec++);
	proc.args = args;
	proc.n_args = n;
	proc.env = env;
	proc.n_env = 1;
	proc.cwd = "/";
	proc.user = &user;
	proc.capabilities = &capset;
	req.container_id = CID;
	req.exec_id = eid;
	req.process = &proc;
	call(b, "ExecProcess", &req.base, &google__protobuf__empty__descriptor, NULL);
}

static void agent_wait(struct bench *b, const char *eid)
{
	Grpc__WaitProcessRequest req = GRPC__WAIT_PROCESS_REQUEST__INIT;
	Grpc__WaitProcessResponse *resp = NULL;

	req.container_id = CID;
	req.exec_id = (char *)eid;
	call(b, "WaitProcess", &req.base, &grpc__wait_process_response__descriptor,
	     (ProtobufCMessage **)&resp);
	if (resp->status != 0)
		die("exec %s exited with %d", eid, resp->status);
	protobuf_c_message_free_unpacked(&resp->base, NULL);
}

/* --- a lean ReadStdout -------------------------------------------------------------------- */

static void read_exact(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("reading a reply: %s", r < 0 ? strerror(errno) : "connection closed");
		p += r;
		n -= r;
	}
}

/* A protobuf varint at *p (below end); advances *p. */
static uint64_t varint(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;

	for (int shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	die("%s", "a bad varint in a reply");
}

/* The first length-delimited field `field` of the message [p, end), or NULL. */
static const uint8_t *field_bytes(const uint8_t *p, const uint8_t *end, uint32_t field, size_t *len)
{
	while (p < end) {
		uint64_t tag = varint(&p, end);
		uint64_t n = 0;
		switch (tag & 7) {
		case 0:
			varint(&p, end);
			continue;
		case 2:
			n = varint(&p, end);
			break;
		case 1:
			n = 8;
			break;
		case 5:
			n = 4;
			break;
		default:
			die("%s", "a bad wire type in a reply");
		}
		if (n > (uint64_t)(end - p))
			die("%s", "a truncated reply");
		if ((tag >> 3) == field && (tag & 7) == 2) {
			*len = n;
			return p;
		}
		p += n;
	}
	*len = 0;
	return NULL;
}

/*
 * ReadStdout on the raw connection, as a lean client does it: the reply frame is read into
 * one buffer and the data used where it lies (the protobuf library would copy it twice).
 */
static const uint8_t *raw_read_stdout(struct bench *b, const char *eid, uint32_t len, size_t *n)
{
	_cleanup_error_ agent_error_t *err = NULL;
	Grpc__ReadStreamRequest req = GRPC__READ_STREAM_REQUEST__INIT;
	uint8_t msg[256], *frame = NULL, hdr[TTRPC_HEADER_SIZE];
	size_t frame_len = 0, slen = 0;
	struct ttrpc_header h;

	req.container_id = CID;
	req.exec_id = (char *)eid;
	req.len = len;
	size_t mlen = protobuf_c_message_pack(&req.base, msg);
	if (ttrpc_encode_request("grpc.AgentService", "ReadStdout", msg, mlen, 0, NULL, 0, &frame,
				 &frame_len, &err) < 0 ||
	    ttrpc_write_frame(b->raw_fd, b->raw_stream, TTRPC_TYPE_REQUEST, 0, frame, frame_len,
			      &err) < 0)
		die("ReadStdout: %s", err ? err->msg : "?");
	free(frame);
	read_exact(b->raw_fd, hdr, sizeof(hdr));
	ttrpc_header_decode(hdr, &h);
	if (h.stream_id != b->raw_stream || h.type != TTRPC_TYPE_RESPONSE ||
	    h.length > TTRPC_MAX_PAYLOAD)
		die("ReadStdout: an unexpected frame (stream %u type %u)", h.stream_id, h.type);
	b->raw_stream += 2;
	read_exact(b->raw_fd, b->raw_buf, h.length);
	const uint8_t *end = b->raw_buf + h.length;
	const uint8_t *st = field_bytes(b->raw_buf, end, 1, &slen); /* Response.status */
	if (st && slen) {
		const uint8_t *q = st;
		if (varint(&q, st + slen) == 0x08 && varint(&q, st + slen) != 0)
			die("%s", "ReadStdout: an error status");
	}
	const uint8_t *pl = field_bytes(b->raw_buf, end, 2, &slen); /* Response.payload */
	return pl ? field_bytes(pl, pl + slen, 1, n) : (*n = 0, NULL); /* .data */
}

/* --- throughput ---------------------------------------------------------------------------- */

/* MB/s of ReadStdout with len per call; *replies the number of replies with data. */
static double agent_throughput(struct bench *b, uint32_t len, long *replies)
{
	char size[32], eid[32];
	char *args[] = {"/bin/payload", "write-stdout-1m", size};
	long long total = 0;

	snprintf(size, sizeof(size), "%lld", BYTES);
	agent_exec(b, args, 3, eid, sizeof(eid));
	double t0 = now_s();
	for (;;) {
		size_t n = 0;
		const uint8_t *data = raw_read_stdout(b, eid, len, &n);
		if (n > len)
			die("a reply of %zu bytes to a ReadStdout of %u", n, len);
		check_bytes(data, n, total, "agent");
		if (n == 0)
			break;
		total += n;
		(*replies)++;
	}
	double dt = now_s() - t0;
	agent_wait(b, eid);
	if (total != BYTES)
		die("agent: %lld bytes instead of %lld", total, BYTES);
	return BYTES / 1e6 / dt;
}

/* The same producer into a plain pipe, read len bytes at a time. MB/s. */
static double pipe_throughput(struct bench *b, size_t len, unsigned char *buf)
{
	char size[32];
	int p[2];
	long long total = 0;
	ssize_t n;

	snprintf(size, sizeof(size), "%lld", BYTES);
	if (pipe2(p, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	double t0 = now_s();
	pid_t w = fork();
	if (w == 0) {
		dup2(p[1], 1);
		execl(b->payload_bin, b->payload_bin, "write-stdout-1m", size, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], buf, len)) > 0) {
		check_bytes(buf, n, total, "pipe");
		total += n;
	}
	double dt = now_s() - t0;
	close(p[0]);
	int st = 0;
	waitpid(w, &st, 0);
	if (total != BYTES || st != 0)
		die("pipe: %lld bytes, status %d", total, st);
	return BYTES / 1e6 / dt;
}

/* --- echo latency -------------------------------------------------------------------------- */

static int dcmp(const void *a, const void *b)
{
	return cmp_double(a, b);
}

static void send_msg(struct bench *b, const char *method, const ProtobufCMessage *m,
		     uint32_t *stream)
{
	_cleanup_error_ agent_error_t *err = NULL;
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n ? n : 1);

	protobuf_c_message_pack(m, buf);
	if (ttrpc_client_send(b->c, "grpc.AgentService", method, buf, n, 0, NULL, 0, stream, &err) <
	    0)
		die("%s: %s", method, err ? err->msg : "send failed");
	free(buf);
}

/* Waits for a stream's reply: OK, and (read) the line back. */
static void recv_ok(struct bench *b, uint32_t stream, const char *want)
{
	_cleanup_error_ agent_error_t *err = NULL;
	struct ttrpc_reply r = {0};

	if (ttrpc_client_recv(b->c, stream, 10000, &r, &err) < 0 || r.code != 0)
		die("echo: %s", err ? err->msg : r.message ? r.message : "no reply");
	if (want) {
		Grpc__ReadStreamResponse *resp =
			grpc__read_stream_response__unpack(NULL, r.len, r.payload);
		if (!resp || resp->data.len != strlen(want) ||
		    memcmp(resp->data.data, want, resp->data.len) != 0)
			die("%s", "echo: the line did not come back whole at once");
		grpc__read_stream_response__free_unpacked(resp, NULL);
	}
	ttrpc_reply_clear(&r);
}

/* Median microseconds for a line through `payload cat` in the container. */
static double agent_echo(struct bench *b)
{
	char *args[] = {"/bin/payload", "cat"}, eid[32];
	double t[ECHO_ROUNDS];

	agent_exec(b, args, 2, eid, sizeof(eid));
	for (int i = 0; i < ECHO_ROUNDS; i++) {
		Grpc__ReadStreamRequest rr = GRPC__READ_STREAM_REQUEST__INIT;
		Grpc__WriteStreamRequest wr = GRPC__WRITE_STREAM_REQUEST__INIT;
		uint32_t rs, ws;

		rr.container_id = wr.container_id = CID;
		rr.exec_id = wr.exec_id = eid;
		rr.len = MIB; /* a large request must not wait to be filled */
		wr.data.data = (uint8_t *)"ping\n";
		wr.data.len = 5;
		double t0 = now_s();
		send_msg(b, "ReadStdout", &rr.base, &rs);
		send_msg(b, "WriteStdin", &wr.base, &ws);
		recv_ok(b, ws, NULL);
		recv_ok(b, rs, "ping\n");
		t[i] = (now_s() - t0) * 1e6;
	}
	Grpc__CloseStdinRequest cr = GRPC__CLOSE_STDIN_REQUEST__INIT;
	cr.container_id = CID;
	cr.exec_id = eid;
	call(b, "CloseStdin", &cr.base, &google__protobuf__empty__descriptor, NULL);
	agent_wait(b, eid);
	qsort(t, ECHO_ROUNDS, sizeof(double), dcmp);
	return t[ECHO_ROUNDS / 2];
}

/* The same through plain pipes. */
static double pipe_echo(struct bench *b)
{
	int in[2], out[2];
	double t[ECHO_ROUNDS];
	char line[64];

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	pid_t w = fork();
	if (w == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(b->payload_bin, b->payload_bin, "cat", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	for (int i = 0; i < ECHO_ROUNDS; i++) {
		double t0 = now_s();
		if (write(in[1], "ping\n", 5) != 5 || read(out[0], line, sizeof(line)) != 5 ||
		    memcmp(line, "ping\n", 5) != 0)
			die("%s", "pipe echo failed");
		t[i] = (now_s() - t0) * 1e6;
	}
	close(in[1]);
	close(out[0]);
	waitpid(w, NULL, 0);
	qsort(t, ECHO_ROUNDS, sizeof(double), dcmp);
	return t[ECHO_ROUNDS / 2];
}

/* --- report -------------------------------------------------------------------------------- */

static void figure(const char *name, const char *unit, const char *better, const char *peer,
		   double *a, double *p, int n)
{
	double amin, amed, amax, pmin, pmed, pmax;

	stats(a, n, &amin, &amed, &amax);
	stats(p, n, &pmin, &pmed, &pmax);
	printf("%s: agent %.0f %s (min %.0f, max %.0f), %s %.0f %s (min %.0f, max %.0f), "
	       "ratio %.2fx\n",
	       name, amed, unit, amin, amax, peer, pmed, unit, pmin, pmax, amed / pmed);
	printf("FIGURE\t%s\t%s\t%s\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\n", name, unit, better,
	       peer, amin, amed, amax, pmin, pmed, pmax);
}

/* The load average as a DETAIL line, which bench/run.sh's report lists per program. */
static void print_load(const char *when)
{
	double l[3];

	if (getloadavg(l, 3) == 3)
		printf("DETAIL\tload average (1/5/15 min) around each program\tbench-stdout, %s "
		       "its figures: %.2f %.2f %.2f\n",
		       when, l[0], l[1], l[2]);
}

int main(int argc, char **argv)
{
	struct bench b = {.raw_fd = -1};
	double load[3] = {0};

	if (argc < 3) {
		fprintf(stderr, "usage: %s AGENT_BIN PAYLOAD_BIN [ROUNDS]\n", argv[0]);
		return 2;
	}
	int rounds = argc > 3 ? atoi(argv[3]) : 5;
	if (rounds < 1)
		rounds = 1;
	if (geteuid() != 0)
		die("%s", "must run as root");
	b.agent_bin = argv[1];
	b.payload_bin = argv[2];
	capset.bounding = capset.effective = capset.permitted = caps;
	capset.n_bounding = capset.n_effective = capset.n_permitted =
		sizeof(caps) / sizeof(caps[0]);
	for (size_t i = 0; i < sizeof(ref); i++)
		ref[i] = pattern[i % 16];
	setup_namespace(&b);
	cleanup_bench = &b;
	atexit(cleanup);
	launch_agent(&b);
	create_start(&b);
	print_load("before");

	unsigned char *buf = malloc(MIB);
	double *a1 = calloc(rounds, sizeof(double)), *p1 = calloc(rounds, sizeof(double));
	double *a2 = calloc(rounds, sizeof(double)), *p2 = calloc(rounds, sizeof(double));
	double *a3 = calloc(rounds, sizeof(double)), *p3 = calloc(rounds, sizeof(double));
	long replies1 = 0, replies2 = 0;
	if (!buf || !a1 || !p1 || !a2 || !p2 || !a3 || !p3)
		die("%s", "out of memory");
	/* Alternating, so that a change in the machine's load hits both sides alike. */
	for (int i = 0; i < rounds; i++) {
		a1[i] = agent_throughput(&b, MIB, &replies1);
		p1[i] = pipe_throughput(&b, MIB, buf);
		a2[i] = agent_throughput(&b, 32768, &replies2);
		p2[i] = pipe_throughput(&b, 32768, buf);
		a3[i] = agent_echo(&b);
		p3[i] = pipe_echo(&b);
	}
	print_load("after");
	if (getloadavg(load, 3) < 0)
		load[0] = load[1] = load[2] = -1;
	printf("stdout: %lld MiB per run, %d runs each, agent and pipe alternating, every byte "
	       "checked; load average %.2f %.2f %.2f\n",
	       BYTES >> 20, rounds, load[0], load[1], load[2]);
	printf("mean ReadStdout reply: %.0f KiB (len 1 MiB), %.0f KiB (len 32 KiB)\n",
	       BYTES * (double)rounds / replies1 / 1024, BYTES * (double)rounds / replies2 / 1024);
	figure("stdout-1m", "MB/s", "higher", "pipe", a1, p1, rounds);
	printf("stdout-1m goal: agent/pipe >= %.1fx\n", GOAL);
	figure("stdout-32k", "MB/s", "higher", "pipe", a2, p2, rounds);
	figure("stdout-echo", "us", "lower", "pipe", a3, p3, rounds);

	Grpc__RemoveContainerRequest rreq = GRPC__REMOVE_CONTAINER_REQUEST__INIT;
	rreq.container_id = CID;
	call(&b, "RemoveContainer", &rreq.base, &google__protobuf__empty__descriptor, NULL);
	cleanup();
	free(buf);
	free(a1);
	free(p1);
	free(a2);
	free(p2);
	free(a3);
	free(p3);
	return 0;
}
