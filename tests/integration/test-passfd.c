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
	struct sockaddr_vm sa = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 1) == 0;

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
	char *msg = NULL;
	size_t len;

	setup(&e, true);
	struct ctr_spec *s = ctr_spec_new(&e, "pf1", args);
	double t0 = itest_now_s();
	ASSERT_EQ(create_with_ports(&e, "pf1", ctr_spec_get(s), ports, &msg), 0);
	/* The agent waited for the streams before going on (upstream: 3 tries 100 ms apart). */
	ASSERT_TRUE(itest_now_s() - t0 >= PASSFD_CLAIM_WAIT_MS / 1000.0);
	ASSERT_EQ(ctr_start(&e, "pf1", &msg), 0);
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
	ASSERT_EQ(exec_with_ports(&e, "pf2", "e1", p, eports, &msg), 0);
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
	char *msg = NULL;
	size_t len;

	setup(&e, false);
	struct ctr_spec *s = ctr_spec_new(&e, "pf3", args);
	ASSERT_EQ(create_with_ports(&e, "pf3", ctr_spec_get(s), ports, &msg), 0);
	ASSERT_EQ(ctr_start(&e, "pf3", &msg), 0);
	char *out = ctr_read_all(&e, "pf3", "pf3", false, &len);
	ASSERT_TRUE(strstr(out, "no-passfd") != NULL);
	ASSERT_EQ(ctr_wait(&e, "pf3", "pf3"), 0);
	ASSERT_FALSE(itest_log_contains(&e.agent, "no stream from port"));
	free(out);
	ctr_remove(&e, "pf3");
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}
