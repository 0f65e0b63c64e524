// SPDX-License-Identifier: Apache-2.0
/*
 * The container launch path, hostile cases: what a container child carries
 * over from the agent (inherited descriptors, other containers' pipes), where
 * an exec'd process lands when the container has no mount namespace, and a
 * rootfs whose /etc/passwd is not a regular file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctr.h"
#include "harness.h"

static void must(int code, const char *what)
{
	if (code != 0)
		FAIL("%s: status %d", what, code);
}

/* A descriptor the agent inherits without close-on-exec never reaches a container. */
TEST_TIMEOUT(inherited_fd_not_in_container, 60)
{
	struct ctr_env e;
	char path[64];
	/* fd 9, as a launching shell's `9<file` would leave it. */
	int fd = open("/proc/self/status", O_RDONLY);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(dup2(fd, 9), 9);
	if (fd != 9)
		close(fd);
	ctr_env_setup(&e, false);
	close(9);
	/* The agent has it: otherwise this test proves nothing. */
	snprintf(path, sizeof(path), "/proc/%d/fd/9", (int)e.agent.pid);
	struct stat st;
	ASSERT_EQ(stat(path, &st), 0);

	const char *args[] = {"ls", "/proc/self/fd", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "fd1", args);
	int code;
	char *out = ctr_run(&e, "fd1", ctr_spec_get(s), &code);
	ASSERT_EQ(code, 0);
	/* Its stdio, and the directory ls itself reads: nothing else. */
	ASSERT_NOT_NULL(strstr(out, "ls=0\n"));
	if (strstr(out, "ls=9\n"))
		FAIL("the container sees the agent's inherited fd 9:\n%s", out);
	for (char *l = out; (l = strstr(l, "ls=")); l += 3) {
		int n = atoi(l + 3);
		if (n > 3)
			FAIL("the container has an fd %d it was not given:\n%s", n, out);
	}
	must(ctr_remove(&e, "fd1"), "remove");
	free(out);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

/*
 * A created container (its child parked until StartContainer) holds no end of
 * another container's pipes: CloseStdin on a running `cat` gives it EOF at once,
 * and WaitProcess on it returns without waiting for the parked one to go.
 */
TEST_TIMEOUT(parked_child_holds_no_other_pipes, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *cat[] = {"cat", NULL};
	const char *idle[] = {"sleep", "30", NULL};
	struct ctr_spec *a = ctr_spec_new(&e, "pa", cat);
	struct ctr_spec *b = ctr_spec_new(&e, "pb", idle);
	ctr_create_start(&e, "pa", ctr_spec_get(a));
	char *msg = NULL;
	int code = ctr_create(&e, "pb", ctr_spec_get(b), &msg);
	if (code != 0)
		FAIL("create pb: %d %s", code, msg);
	free(msg);

	Grpc__CloseStdinRequest cr = GRPC__CLOSE_STDIN_REQUEST__INIT;
	cr.container_id = cr.exec_id = "pa";
	must(ctr_call(&e, "CloseStdin", &cr.base, &google__protobuf__empty__descriptor, NULL, NULL),
	     "CloseStdin");
	Grpc__WaitProcessRequest wr = GRPC__WAIT_PROCESS_REQUEST__INIT;
	wr.container_id = wr.exec_id = "pa";
	double t0 = itest_now_s();
	unsigned sid = itest_send(e.c, "WaitProcess", &wr.base);
	struct ttrpc_reply r = {0};
	agent_error_t *err = NULL;
	int rr = ttrpc_client_recv(e.c, sid, 5000, &r, &err);
	if (rr == -ETIMEDOUT)
		FAIL("WaitProcess on pa still waits after CloseStdin: the parked pb holds its "
		     "stdin");
	ASSERT_EQ(rr, 0);
	ASSERT_EQ(r.code, 0);
	ASSERT_TRUE(itest_now_s() - t0 < 5);
	ttrpc_reply_clear(&r);

	must(ctr_remove(&e, "pb"), "remove pb");
	must(ctr_remove(&e, "pa"), "remove pa");
	ctr_spec_free(a);
	ctr_spec_free(b);
	ctr_env_teardown(&e);
}

/*
 * A container without a mount namespace would have its exec'd processes join the agent's
 * own mount namespace (issue 18: one read the agent's files). The agent refuses such a spec
 * (src/container/validate.c) with INVALID_ARGUMENT, creates nothing, and the same id then
 * works with a mount namespace. Exec also enters the init's pinned root (launch-child.c),
 * so a process never lands in the guest's / even if a spec got through.
 */
static int create_bounded(struct ctr_env *e, const char *cid, Grpc__Spec *spec, int timeout_ms,
			  char **msg);
TEST_TIMEOUT(a_spec_without_mount_ns_is_refused_and_leaves_nothing, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *idle[] = {"sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "nm", idle);
	Grpc__Spec *spec = ctr_spec_get(s);
	/* ipc, uts and pid only; no mounts. */
	Grpc__LinuxNamespace *mnt = spec->linux->namespaces[1];
	spec->linux->namespaces[1] = spec->linux->namespaces[3];
	spec->linux->n_namespaces = 3;
	size_t n_mounts = spec->n_mounts;
	spec->n_mounts = 0;
	char *msg = NULL;
	int code = create_bounded(&e, "nm", spec, 10000, &msg);
	if (code != 3 || !strstr(msg, "mount namespace"))
		FAIL("CreateContainer without a mount namespace: %d \"%s\"", code, msg);
	free(msg);
	/* Nothing was made: the id is free and the same spec with its mount namespace runs. */
	spec->linux->namespaces[3] = spec->linux->namespaces[1];
	spec->linux->namespaces[1] = mnt;
	spec->linux->n_namespaces = 4;
	spec->n_mounts = n_mounts;
	ctr_create_start(&e, "nm", spec);
	must(ctr_remove(&e, "nm"), "remove");
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

/* CreateContainer, bounded: the status and message, or a FAIL after timeout_ms. */
static int create_bounded(struct ctr_env *e, const char *cid, Grpc__Spec *spec, int timeout_ms,
			  char **msg)
{
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	struct ttrpc_reply r = {0};
	agent_error_t *err = NULL;

	req.container_id = req.exec_id = (char *)cid;
	req.oci = spec;
	unsigned sid = itest_send(e->c, "CreateContainer", &req.base);
	int rr = ttrpc_client_recv(e->c, sid, timeout_ms, &r, &err);
	if (rr == -ETIMEDOUT)
		FAIL("CreateContainer %s still runs after %d ms", cid, timeout_ms);
	ASSERT_EQ(rr, 0);
	*msg = strdup(r.message);
	int code = r.code;
	ttrpc_reply_clear(&r);
	return code;
}

/* /etc/passwd (read for HOME) as a FIFO or a link to /dev/zero: create fails, quickly. */
static void passwd_hostile(bool fifo)
{
	struct ctr_env e;
	char path[256];
	ctr_env_setup(&e, false);
	snprintf(path, sizeof(path), "%s/etc/passwd", e.rootfs);
	ASSERT_EQ(unlink(path), 0);
	if (fifo)
		ASSERT_EQ(mkfifo(path, 0644), 0);
	else
		ASSERT_EQ(symlink("/dev/zero", path), 0);
	const char *args[] = {"report", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "pw", args);
	char *msg = NULL;
	double t0 = itest_now_s();
	int code = create_bounded(&e, "pw", ctr_spec_get(s), 10000, &msg);
	ASSERT_TRUE(code != 0);
	ASSERT_TRUE(itest_now_s() - t0 < 5);
	if (!strstr(msg, "/etc/passwd") || !strstr(msg, "not a regular file"))
		FAIL("unclear error: \"%s\"", msg);
	free(msg);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(passwd_fifo_fails_create, 60)
{
	passwd_hostile(true);
}

TEST_TIMEOUT(passwd_dev_zero_fails_create, 60)
{
	passwd_hostile(false);
}
