/* SPDX-License-Identifier: Apache-2.0 */
/*
 * passfd I/O with the real agent on the host. The host has no vsock transport
 * to connect with (tests load no modules), so the streams never come: what is
 * checked here is upstream's answer to that (the agent waits for the named
 * streams, then the process keeps its pipes, served by ReadStdout) and that
 * ports are ignored when passfd is off. The streams themselves are proven by
 * tests/unit/test-passfd.c (socketpairs) and in the VM (tests/vm/steps-passfd.sh).
 */
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctr.h"
#include "google/protobuf/empty.pb-c.h"
#include "harness.h"
#include "sandbox/passfd.h"

/* A port of its own per test run: agents of other tests may listen meanwhile. */
static unsigned passfd_port(void)
{
	return 20000 + (unsigned)getpid() % 20000;
}

/* Whether this host can listen on vsock at all (the agent's passfd listener needs it). */
static bool vsock_listens(unsigned port)
{
	struct sockaddr_vm sa = {
		.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok =
		fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 1) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

static void setup(struct ctr_env *e, bool on)
{
	char cmdline[128];

	if (on && !vsock_listens(passfd_port()))
		SKIP("no vsock on this host: the agent cannot listen for passfd streams");
	snprintf(cmdline, sizeof(cmdline), "agent.passfd_listener_port=%u", on ? passfd_port() : 0);
	ctr_env_setup_cmdline(e, false, cmdline);
}

static int create_with_ports(struct ctr_env *e, const char *cid, Grpc__Spec *spec,
			     const uint32_t ports[3], char **msg)
{
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;

	req.container_id = req.exec_id = (char *)cid;
	req.oci = spec;
	req.stdin_port = ports[0];
	req.stdout_port = ports[1];
	req.stderr_port = ports[2];
	return ctr_call(e, "CreateContainer", &req.base, &google__protobuf__empty__descriptor, NULL,
			msg);
}

static int exec_with_ports(struct ctr_env *e, const char *cid, const char *eid, Grpc__Process *p,
			   const uint32_t ports[3], char **msg)
{
	Grpc__ExecProcessRequest req = GRPC__EXEC_PROCESS_REQUEST__INIT;

	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	req.process = p;
	req.stdin_port = ports[0];
	req.stdout_port = ports[1];
	req.stderr_port = ports[2];
	return ctr_call(e, "ExecProcess", &req.base, &google__protobuf__empty__descriptor, NULL,
			msg);
}

TEST_TIMEOUT(named_streams_that_never_come_leave_the_pipes_after_the_wait, 60)
{
	struct ctr_env e;
	const char *args[] = {"echo", "via-the-pipe", "--", "echo-err", "err-via-the-pipe", NULL};
	const uint32_t ports[3] = {0, 40001, 40002};
	size_t len;

	setup(&e, true);
	struct ctr_spec *s = ctr_spec_new(&e, "pf1", args);
	double t0 = itest_now_s();
	ASSERT_EQ(create_with_ports(&e, "pf1", ctr_spec_get(s), ports, NULL), 0);
	/* The agent waited for the streams before going on (upstream: 3 tries 100 ms apart). */
	ASSERT_TRUE(itest_now_s() - t0 >= PASSFD_CLAIM_WAIT_MS / 1000.0);
	ASSERT_EQ(ctr_start(&e, "pf1", NULL), 0);
	char *out = ctr_read_all(&e, "pf1", "pf1", false, &len);
	char *err = ctr_read_all(&e, "pf1", "pf1", true, &len);
	ASSERT_TRUE(strstr(out, "via-the-pipe") != NULL);
	ASSERT_TRUE(strstr(err, "err-via-the-pipe") != NULL);
	ASSERT_EQ(ctr_wait(&e, "pf1", "pf1"), 0);
	ASSERT_TRUE(itest_log_contains(&e.agent, "no stream from port 40001 (stdout)"));
	ASSERT_TRUE(itest_log_contains(&e.agent, "no stream from port 40002 (stderr)"));
	free(out);
	free(err);

	/* The same for an exec into it: its stdout stays a pipe too. */
	const char *sleeper[] = {"sleep", "30", NULL};
	struct ctr_spec *s2 = ctr_spec_new(&e, "pf2", sleeper);
	ctr_create_start(&e, "pf2", ctr_spec_get(s2));
	const char *eargs[] = {"echo", "exec-via-the-pipe", NULL};
	Grpc__Process *p = ctr_process_new(eargs);
	const uint32_t eports[3] = {40003, 40004, 0};
	ASSERT_EQ(exec_with_ports(&e, "pf2", "e1", p, eports, NULL), 0);
	out = ctr_read_all(&e, "pf2", "e1", false, &len);
	ASSERT_TRUE(strstr(out, "exec-via-the-pipe") != NULL);
	ASSERT_EQ(ctr_wait(&e, "pf2", "e1"), 0);
	ASSERT_TRUE(itest_log_contains(&e.agent, "no stream from port 40004 (stdout)"));
	free(out);
	ctr_process_free(p);
	ctr_remove(&e, "pf2");
	ctr_remove(&e, "pf1");
	ctr_spec_free(s);
	ctr_spec_free(s2);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(ports_are_ignored_when_passfd_is_off, 60)
{
	struct ctr_env e;
	const char *args[] = {"echo", "no-passfd", NULL};
	const uint32_t ports[3] = {40011, 40012, 40013};
	size_t len;

	setup(&e, false);
	struct ctr_spec *s = ctr_spec_new(&e, "pf3", args);
	ASSERT_EQ(create_with_ports(&e, "pf3", ctr_spec_get(s), ports, NULL), 0);
	ASSERT_EQ(ctr_start(&e, "pf3", NULL), 0);
	char *out = ctr_read_all(&e, "pf3", "pf3", false, &len);
	ASSERT_TRUE(strstr(out, "no-passfd") != NULL);
	ASSERT_EQ(ctr_wait(&e, "pf3", "pf3"), 0);
	ASSERT_FALSE(itest_log_contains(&e.agent, "no stream from port"));
	free(out);
	ctr_remove(&e, "pf3");
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

/*
 * A hybrid vsock endpoint standing in for the VMM: three connections, each
 * "CONNECT port\n" answered "OK 5001+i\n"; then the stdout and stderr streams
 * carry a line each, and stdin is read to its EOF. Exits 0 if all went so.
 */
static pid_t fake_hybrid(const char *path, unsigned port)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ASSERT_TRUE(l >= 0);
	ASSERT_TRUE(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ASSERT_EQ(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ASSERT_EQ(listen(l, 4), 0);
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid) {
		close(l);
		return pid;
	}
	int c[3];
	char want[32], line[32], buf[64];
	snprintf(want, sizeof(want), "CONNECT %u\n", port);
	for (int i = 0; i < 3; i++) {
		size_t n = 0;
		c[i] = accept(l, NULL, NULL);
		while (c[i] >= 0 && n < sizeof(line) - 1 && read(c[i], line + n, 1) == 1)
			if (line[n++] == '\n')
				break;
		line[n] = '\0';
		if (c[i] < 0 || strcmp(line, want) != 0)
			_exit(10 + i);
		n = (size_t)snprintf(buf, sizeof(buf), "OK %d\n", 5001 + i);
		if (write(c[i], buf, n) != (ssize_t)n)
			_exit(20 + i);
	}
	if (write(c[1], "from-the-stream\n", 16) != 16 || write(c[2], "err-from-it\n", 12) != 12)
		_exit(30);
	close(c[1]);
	close(c[2]);
	while (read(c[0], buf, sizeof(buf)) > 0) /* ctl's stdin is /dev/null: EOF at once */
		;
	_exit(0);
}

TEST_TIMEOUT(ctl_passfd_over_hybrid_vsock_names_its_streams_and_copies_them, 60)
{
	struct ctr_env e;
	const char *sleeper[] = {"sleep", "30", NULL};
	const char *ctl =
		getenv("KATA_AGENT_CTL") ? getenv("KATA_AGENT_CTL") : "build/kata-agent-ctl";
	char hv[128], cmd[1024], out[256] = "";
	size_t len;

	if (access(ctl, X_OK) != 0)
		SKIP("no %s", ctl);
	setup(&e, true);
	struct ctr_spec *s = ctr_spec_new(&e, "pf4", sleeper);
	ctr_create_start(&e, "pf4", ctr_spec_get(s));
	snprintf(hv, sizeof(hv), "%s/hv.sock", e.agent.dir);
	pid_t fake = fake_hybrid(hv, 1234);
	snprintf(
		cmd, sizeof(cmd),
		"%s --addr %s exec pf4 e1 --passfd unix://%s:1234 -- /bin/payload echo to-the-pipe "
		"</dev/null 2>&1",
		ctl, e.agent.addr, hv);
	FILE *f = popen(cmd, "r");
	ASSERT_TRUE(f != NULL);
	len = fread(out, 1, sizeof(out) - 1, f);
	out[len] = '\0';
	int rc = pclose(f);
	if (rc != 0)
		FAIL("ctl exited %d: %s", rc, out);
	int st;
	ASSERT_EQ(waitpid(fake, &st, 0), fake);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* ctl copied its stdout stream to its stdout... */
	ASSERT_TRUE(strstr(out, "from-the-stream") != NULL);
	/* ... and named the streams by the ports the handshake gave. */
	ASSERT_TRUE(itest_log_contains(&e.agent, "no stream from port 5001 (stdin)"));
	ASSERT_TRUE(itest_log_contains(&e.agent, "no stream from port 5002 (stdout)"));
	ASSERT_TRUE(itest_log_contains(&e.agent, "no stream from port 5003 (stderr)"));
	char *pipe_out = ctr_read_all(&e, "pf4", "e1", false, &len);
	ASSERT_TRUE(strstr(pipe_out, "to-the-pipe") != NULL);
	free(pipe_out);
	ASSERT_EQ(ctr_wait(&e, "pf4", "e1"), 0);
	ctr_remove(&e, "pf4");
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}
