// SPDX-License-Identifier: Apache-2.0
/*
 * CreateSandbox and DestroySandbox: shared IPC/UTS namespaces with the pod's
 * hostname, DNS, ephemeral and local storages, guest hooks, the sandbox pid
 * namespace, and the shutdown that follows DestroySandbox.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctr.h"
#include "harness.h"

static void write_script(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	ASSERT_EQ(chmod(path, 0755), 0);
}

static bool file_exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

static char *read_text(const char *p)
{
	static char buf[4096];
	FILE *f = fopen(p, "r");
	size_t n = 0;
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static int create_sandbox(struct ctr_env *e, const char *hooks_dir)
{
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	Grpc__Storage shm = GRPC__STORAGE__INIT, local = GRPC__STORAGE__INIT;
	Grpc__Storage *st[] = {&shm, &local};
	char *dns[] = {"nameserver 10.0.0.10", "  search pod.local  "};
	char *shm_opts[] = {"noexec", "nosuid", "nodev", "mode=1777", "size=1m"};
	char *local_opts[] = {"mode=0777", "fsgid=3000"};
	char *msg = NULL;

	shm.driver = "ephemeral";
	shm.source = "shm";
	shm.fstype = "tmpfs";
	shm.options = shm_opts;
	shm.n_options = 5;
	shm.mount_point = "/run/kata-containers/sandbox/shm";
	local.driver = "local";
	local.source = "local";
	local.options = local_opts;
	local.n_options = 2;
	local.mount_point = "/run/kata-containers/sandbox/local/vol1";
	req.hostname = "podhost";
	req.dns = dns;
	req.n_dns = 2;
	req.storages = st;
	req.n_storages = 2;
	req.sandbox_id = "sb1";
	req.guest_hook_path = (char *)hooks_dir;
	int code = ctr_call(e, "CreateSandbox", &req.base, &google__protobuf__empty__descriptor,
			    NULL, &msg);
	if (code)
		fprintf(stderr, "CreateSandbox: %d %s\n", code, msg);
	free(msg);
	return code;
}

static int create_in_pod(struct ctr_env *e, const char *cid, Grpc__Spec *spec, bool pidns)
{
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	char *msg = NULL;

	req.container_id = (char *)cid;
	req.exec_id = (char *)cid;
	req.oci = spec;
	req.sandbox_pidns = pidns;
	int code = ctr_call(e, "CreateContainer", &req.base, &google__protobuf__empty__descriptor,
			    NULL, &msg);
	if (code)
		fprintf(stderr, "CreateContainer %s: %d %s\n", cid, code, msg);
	free(msg);
	return code;
}

TEST_TIMEOUT(sandbox_pod_lifecycle, 90)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	/* A resolv.conf of our own namespace for the DNS bind to cover. */
	ASSERT_EQ(system("mkdir -p /run/etc && : > /run/etc/resolv.conf && "
			 "mount --bind /run/etc/resolv.conf /etc/resolv.conf"),
		  0);
	/* Guest hooks: each leaves a marker with the state it was given. */
	ASSERT_EQ(system("mkdir -p /run/hooks/prestart /run/hooks/poststart /run/hooks/poststop"),
		  0);
	write_script("/run/hooks/prestart/mark", "cat > /run/hook-prestart");
	write_script("/run/hooks/poststart/mark", "cat > /run/hook-poststart");
	write_script("/run/hooks/poststop/mark", "echo \"$0 $1\" > /run/hook-poststop");
	ASSERT_EQ(create_sandbox(&e, "/run/hooks"), 0);

	ASSERT_TRUE(strcmp(read_text("/etc/resolv.conf"),
			   "nameserver 10.0.0.10\nsearch pod.local\n") == 0);
	struct statvfs vfs;
	ASSERT_EQ(statvfs("/run/kata-containers/sandbox/shm", &vfs), 0);
	ASSERT_EQ(vfs.f_blocks * vfs.f_frsize, 1 << 20); /* size=1m honoured */
	struct stat st;
	ASSERT_EQ(stat("/run/kata-containers/sandbox/local/vol1", &st), 0);
	ASSERT_EQ(st.st_gid, 3000);
	ASSERT_EQ(st.st_mode & 07777, 02777);

	/* Two containers: shared IPC and UTS (the pod's hostname), one pid namespace. */
	const char *a1[] = {"report", "--", "sleep", "30", NULL};
	struct ctr_spec *s1 = ctr_spec_new(&e, "pa", a1);
	struct ctr_spec *s2 = ctr_spec_new(&e, "pb", a1);
	ASSERT_EQ(create_in_pod(&e, "pa", ctr_spec_get(s1), true), 0);
	ASSERT_TRUE(file_exists("/run/hook-prestart"));
	ASSERT_NOT_NULL(strstr(read_text("/run/hook-prestart"), "\"id\":\"pa\""));
	ASSERT_EQ(ctr_start(&e, "pa", NULL), 0);
	ASSERT_TRUE(file_exists("/run/hook-poststart"));
	ASSERT_EQ(create_in_pod(&e, "pb", ctr_spec_get(s2), true), 0);
	ASSERT_EQ(ctr_start(&e, "pb", NULL), 0);

	/* Read each report up to its end marker (the containers keep running). */
	char *ra = NULL, *rb = NULL;
	for (int i = 0; i < 2; i++) {
		const char *cid = i ? "pb" : "pa";
		Grpc__ReadStreamRequest req = GRPC__READ_STREAM_REQUEST__INIT;
		Grpc__ReadStreamResponse *resp = NULL;
		char *acc = calloc(1, 1);
		size_t n = 0;
		while (!strstr(acc, "stdin_is=")) {
			req.container_id = req.exec_id = (char *)cid;
			req.len = 65536;
			ASSERT_EQ(ctr_call(&e, "ReadStdout", &req.base,
					   &grpc__read_stream_response__descriptor,
					   (ProtobufCMessage **)&resp, NULL),
				  0);
			ASSERT_TRUE(resp->data.len > 0);
			acc = realloc(acc, n + resp->data.len + 1);
			memcpy(acc + n, resp->data.data, resp->data.len);
			n += resp->data.len;
			acc[n] = 0;
			protobuf_c_message_free_unpacked(&resp->base, NULL);
		}
		*(i ? &rb : &ra) = acc;
	}
	char *ha = ctr_report_value(ra, "hostname"), *ia = ctr_report_value(ra, "ns.ipc"),
	     *ib = ctr_report_value(rb, "ns.ipc"), *pa = ctr_report_value(ra, "ns.pid"),
	     *pb = ctr_report_value(rb, "ns.pid"), *pidb = ctr_report_value(rb, "pid");
	ASSERT_TRUE(strcmp(ha, "podhost") == 0);
	ASSERT_TRUE(strcmp(ia, ib) == 0);
	ASSERT_TRUE(strcmp(pa, pb) == 0);
	ASSERT_TRUE(atoi(pidb) > 1); /* pb's init is not pid 1: pa's init is */
	free(ha), free(ia), free(ib), free(pa), free(pb), free(pidb), free(ra), free(rb);

	/* A GetOOMEvent waiting across DestroySandbox is answered (INTERNAL). */
	Grpc__GetOOMEventRequest oreq = GRPC__GET_OOMEVENT_REQUEST__INIT;
	uint8_t buf[16];
	size_t len = protobuf_c_message_pack(&oreq.base, buf);
	uint32_t oom_stream;
	agent_error_t *err = NULL;
	ASSERT_EQ(ttrpc_client_send(e.c, "grpc.AgentService", "GetOOMEvent", buf, len, 0, NULL, 0,
				    &oom_stream, &err),
		  0);

	Grpc__DestroySandboxRequest dreq = GRPC__DESTROY_SANDBOX_REQUEST__INIT;
	ASSERT_EQ(ctr_call(&e, "DestroySandbox", &dreq.base, &google__protobuf__empty__descriptor,
			   NULL, NULL),
		  0);
	struct ttrpc_reply r = {0};
	ASSERT_EQ(ttrpc_client_recv(e.c, oom_stream, 5000, &r, &err), 0);
	ASSERT_EQ(r.code, 13);
	ttrpc_reply_clear(&r);
	ASSERT_NOT_NULL(strstr(read_text("/run/hook-poststop"), "mark poststop"));
	ASSERT_TRUE(!file_exists("/run/kata-containers/pa"));

	/* The agent shuts down by itself, cleanly. */
	int status = -1;
	for (int i = 0; i < 300 && waitpid(e.agent.pid, &status, WNOHANG) == 0; i++)
		usleep(10000);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	e.agent.pid = 0;
	ctr_spec_free(s1);
	ctr_spec_free(s2);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(storages_are_validated_and_refcounted, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	Grpc__Storage bad = GRPC__STORAGE__INIT, *st[] = {&bad};
	char *msg = NULL;

	bad.driver = "local";
	bad.mount_point = "/etc/evil";
	req.storages = st;
	req.n_storages = 1;
	ASSERT_EQ(ctr_call(&e, "CreateSandbox", &req.base, &google__protobuf__empty__descriptor,
			   NULL, &msg),
		  3);
	free(msg);
	bad.mount_point = "/run/kata-containers/../../etc/evil";
	ASSERT_EQ(ctr_call(&e, "CreateSandbox", &req.base, &google__protobuf__empty__descriptor,
			   NULL, NULL),
		  3);
	bad.mount_point = "/run/kata-containers/x";
	bad.driver = "nosuchdriver";
	ASSERT_EQ(ctr_call(&e, "CreateSandbox", &req.base, &google__protobuf__empty__descriptor,
			   NULL, &msg),
		  13);
	ASSERT_NOT_NULL(strstr(msg, "Failed to find the storage handler"));
	free(msg);
	ASSERT_TRUE(!file_exists("/etc/evil"));

	/* A container's ephemeral volume: mounted while it lives, gone after removal. */
	Grpc__CreateContainerRequest creq = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	Grpc__Storage vol = GRPC__STORAGE__INIT, *vols[] = {&vol};
	vol.driver = "ephemeral";
	vol.source = "tmpfs";
	vol.fstype = "tmpfs";
	vol.mount_point = "/run/kata-containers/sandbox/ephemeral/v";
	const char *args[] = {"sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "st1", args);
	creq.container_id = creq.exec_id = "st1";
	creq.oci = ctr_spec_get(s);
	creq.storages = vols;
	creq.n_storages = 1;
	ASSERT_EQ(ctr_call(&e, "CreateContainer", &creq.base, &google__protobuf__empty__descriptor,
			   NULL, NULL),
		  0);
	struct statvfs a, b;
	ASSERT_EQ(statvfs(vol.mount_point, &a), 0);
	ASSERT_EQ(statvfs("/run/kata-containers", &b), 0);
	ASSERT_NE(a.f_fsid, b.f_fsid);
	ASSERT_EQ(ctr_remove(&e, "st1"), 0);
	ASSERT_TRUE(!file_exists(vol.mount_point));
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

/*
 * A storage's disk that is not there yet: CreateSandbox waits (other calls are
 * served, a second CreateSandbox is refused), then fails within
 * agent.hotplug_timeout naming the device, having changed nothing.
 */
TEST_TIMEOUT(create_sandbox_waits_for_a_disk_then_times_out, 60)
{
	struct ctr_env e;
	ctr_env_setup_cmdline(&e, false, "agent.hotplug_timeout=700ms");
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	Grpc__Storage disk = GRPC__STORAGE__INIT, *st[] = {&disk};
	disk.driver = "mmioblk";
	disk.source = "/dev/vdzz";
	disk.fstype = "ext4";
	disk.mount_point = "/run/kata-containers/sandbox/storage/later";
	req.hostname = "waiting-pod";
	req.storages = st;
	req.n_storages = 1;
	double t0 = itest_now_s();
	uint32_t sid = itest_send(e.c, "CreateSandbox", &req.base);
	itest_check_serving(e.c);
	Grpc__CreateSandboxRequest other = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	char *msg = NULL;
	ASSERT_EQ(ctr_call(&e, "CreateSandbox", &other.base, &google__protobuf__empty__descriptor,
			   NULL, &msg),
		  9); /* FAILED_PRECONDITION */
	free(msg);
	ASSERT_TRUE(itest_now_s() - t0 < 0.5);

	struct ttrpc_reply r = {0};
	agent_error_t *err = NULL;
	ASSERT_EQ(ttrpc_client_recv(e.c, sid, 5000, &r, &err), 0);
	double took = itest_now_s() - t0;
	ASSERT_EQ(r.code, 4); /* DEADLINE_EXCEEDED */
	ASSERT_NOT_NULL(strstr(r.message, "vdzz"));
	ASSERT_TRUE(took > 0.6 && took < 3);
	ttrpc_reply_clear(&r);
	ASSERT_TRUE(!file_exists(disk.mount_point));

	/* Once it failed, another CreateSandbox is taken. */
	ASSERT_EQ(ctr_call(&e, "CreateSandbox", &other.base, &google__protobuf__empty__descriptor,
			   NULL, NULL),
		  0);
	ctr_env_teardown(&e);
}

/* DestroySandbox while CreateSandbox waits: the waiting call ends ABORTED at once. */
TEST_TIMEOUT(destroy_sandbox_ends_a_waiting_create, 60)
{
	struct ctr_env e;
	ctr_env_setup_cmdline(&e, false, "agent.hotplug_timeout=30s");
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	Grpc__Storage disk = GRPC__STORAGE__INIT, *st[] = {&disk};
	disk.driver = "mmioblk";
	disk.source = "/dev/vdzy";
	disk.fstype = "ext4";
	disk.mount_point = "/run/kata-containers/sandbox/storage/never";
	req.storages = st;
	req.n_storages = 1;
	double t0 = itest_now_s();
	uint32_t sid = itest_send(e.c, "CreateSandbox", &req.base);
	itest_check_serving(e.c);
	Grpc__DestroySandboxRequest d = GRPC__DESTROY_SANDBOX_REQUEST__INIT;
	ASSERT_EQ(ctr_call(&e, "DestroySandbox", &d.base, &google__protobuf__empty__descriptor,
			   NULL, NULL),
		  0);
	struct ttrpc_reply r = {0};
	agent_error_t *err = NULL;
	ASSERT_EQ(ttrpc_client_recv(e.c, sid, 5000, &r, &err), 0);
	ASSERT_EQ(r.code, 10); /* ABORTED */
	ASSERT_TRUE(itest_now_s() - t0 < 3);
	ttrpc_reply_clear(&r);
	ctr_env_teardown(&e);
}

/* kernel_modules: names and parameters are checked; a module that is not there is NOT_FOUND. */
TEST_TIMEOUT(kernel_modules_are_checked, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	Grpc__KernelModule m = GRPC__KERNEL_MODULE__INIT, *ms[] = {&m};
	char *params[] = {"a=1\nb=2"};
	char *msg = NULL;
	req.kernel_modules = ms;
	req.n_kernel_modules = 1;
	m.name = "../../tmp/evil";
	ASSERT_EQ(ctr_call(&e, "CreateSandbox", &req.base, &google__protobuf__empty__descriptor,
			   NULL, &msg),
		  3);
	ASSERT_NOT_NULL(strstr(msg, "kernel_modules[0]"));
	free(msg);
	m.name = "dummy";
	m.parameters = params;
	m.n_parameters = 1;
	ASSERT_EQ(ctr_call(&e, "CreateSandbox", &req.base, &google__protobuf__empty__descriptor,
			   NULL, &msg),
		  3);
	free(msg);
	m.name = "no_such_module_at_all";
	m.n_parameters = 0;
	ASSERT_EQ(ctr_call(&e, "CreateSandbox", &req.base, &google__protobuf__empty__descriptor,
			   NULL, &msg),
		  5);
	ASSERT_NOT_NULL(strstr(msg, "no_such_module_at_all"));
	free(msg);
	ctr_env_teardown(&e);
}
