// SPDX-License-Identifier: Apache-2.0
#include "ctr.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static const char *payload_bin(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("PAYLOAD_BIN");

	if (env)
		return env;
	snprintf(path, sizeof(path), "%s", itest_agent_bin());
	char *slash = strrchr(path, '/');
	if (slash)
		snprintf(slash, sizeof(path) - (slash - path), "/tests/payload/payload");
	return path;
}

static void copy_file(const char *src, const char *dst, mode_t mode)
{
	char buf[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC), out;
	ssize_t n;

	if (in < 0)
		SKIP("test payload %s missing: %s", src, strerror(errno));
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ASSERT_TRUE(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ASSERT_EQ(write(out, buf, n), n);
	close(in);
	close(out);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	fputs(text, f);
	fclose(f);
}

void ctr_env_setup(struct ctr_env *e, bool v2)
{
	ctr_env_setup_cmdline(e, v2, "");
}

void ctr_env_setup_cmdline(struct ctr_env *e, bool v2, const char *extra)
{
	char path[256];

	memset(e, 0, sizeof(*e));
	e->v2 = v2;
	if (unshare(CLONE_NEWNS) < 0)
		SKIP("cannot make a mount namespace: %s", strerror(errno));
	ASSERT_EQ(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	mkdir("/run", 0755);
	ASSERT_EQ(mount("tmpfs", "/run", "tmpfs", 0, "mode=755"), 0);
	if (v2) {
		if (mount("tmpfs", "/sys/fs/cgroup", "tmpfs", 0, "mode=755") < 0 ||
		    mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0)
			SKIP("cannot mount a private cgroup2 hierarchy: %s", strerror(errno));
	}
	/*
	 * Where the runtime puts a shared rootfs (virtio-fs): under the private /run of this
	 * namespace, so nothing is left behind, and inside the agent's confinement.
	 */
	snprintf(e->rootfs, sizeof(e->rootfs), "%s", CTR_ROOTFS);
	static const char *const parents[] = {"/run/kata-containers", "/run/kata-containers/shared",
					      "/run/kata-containers/shared/containers",
					      CTR_SHARED_DIR};
	for (size_t i = 0; i < sizeof(parents) / sizeof(parents[0]); i++)
		ASSERT_TRUE(mkdir(parents[i], 0755) == 0 || errno == EEXIST);
	ASSERT_EQ(mkdir(e->rootfs, 0755), 0);
	ASSERT_EQ(mount("tmpfs", e->rootfs, "tmpfs", 0, "mode=755"), 0);
	static const char *const dirs[] = {"bin", "proc", "sys",    "dev", "tmp",
					   "etc", "home", "home/u", "data"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", e->rootfs, dirs[i]);
		ASSERT_EQ(mkdir(path, 0755), 0);
	}
	snprintf(path, sizeof(path), "%s/bin/payload", e->rootfs);
	copy_file(payload_bin(), path, 0755);
	snprintf(path, sizeof(path), "%s/etc/passwd", e->rootfs);
	write_text(path, "root:x:0:0:root:/root:/bin/sh\nu:x:1000:1000:u:/home/u:/bin/sh\n");
	snprintf(path, sizeof(path), "%s/etc/hostname", e->rootfs);
	write_text(path, "none\n");
	/* The pid alone may name a parent an earlier, crashed run left behind (pids recycle): a
	 * random suffix makes it this environment's own. */
	uint32_t salt = 0;
	ASSERT_EQ(getrandom(&salt, sizeof(salt), 0), (ssize_t)sizeof(salt));
	snprintf(e->cgparent, sizeof(e->cgparent), "/kata-itest-%d-%08x", (int)getpid(), salt);

	/* The kernel command line the agent reads (a file of this namespace's /run). */
	const char *args[] = {"--cmdline-file", "/run/agent-cmdline", NULL};
	char line[512];
	snprintf(line, sizeof(line), "%s %s\n", v2 ? "agent.unified_cgroup_hierarchy=1" : "",
		 extra);
	write_text(args[1], line);
	itest_agent_start(&e->agent, NULL, args);
	int fd = itest_connect(&e->agent);
	e->c = ttrpc_client_new(fd);
	ASSERT_NOT_NULL(e->c);
}

void ctr_env_teardown(struct ctr_env *e)
{
	e->c = ttrpc_client_free(e->c);
	itest_agent_stop(&e->agent);
	/* The agent removes each container's cgroup; the parent is ours. */
	static const char *const ctrls[] = {"cpu",     "cpuacct", "cpuset", "memory",  "devices",
					    "freezer", "blkio",	  "pids",   "unified", ""};
	for (size_t i = 0; i < sizeof(ctrls) / sizeof(ctrls[0]); i++) {
		char path[256];
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s%s%s", ctrls[i],
			 ctrls[i][0] ? "" : "", e->cgparent);
		rmdir(path);
	}
}

/* --- specs ------------------------------------------------------------------------------- */

#define MAX_ARGS 32
#define MAX_ENV 32

static const char *const default_caps[] = {
	"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",	   "CAP_FOWNER",
	"CAP_MKNOD",   "CAP_NET_RAW",	   "CAP_SETGID",	   "CAP_SETUID",
	"CAP_SETFCAP", "CAP_SETPCAP",	   "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
	"CAP_KILL",    "CAP_AUDIT_WRITE",
};

struct ctr_spec {
	Grpc__Spec spec;
	Grpc__Process process;
	Grpc__User user;
	Grpc__LinuxCapabilities caps;
	Grpc__Root root;
	Grpc__Linux linux_;
	Grpc__LinuxNamespace ns[4];
	Grpc__LinuxNamespace *nsp[4];
	Grpc__Mount mounts[2];
	Grpc__Mount *mountp[2];
	char *bind_opts[2];
	Grpc__LinuxResources res;
	Grpc__LinuxMemory mem;
	char *args[MAX_ARGS];
	char *env[MAX_ENV];
	char cgpath[128];
	char hostname[64];
};

Grpc__Process *ctr_process_new(const char *const *args)
{
	Grpc__Process *p = calloc(1, sizeof(*p));
	size_t n = 1;

	grpc__process__init(p);
	p->args = calloc(MAX_ARGS, sizeof(char *));
	p->args[0] = strdup("/bin/payload");
	for (size_t i = 0; args && args[i] && n < MAX_ARGS - 1; i++)
		p->args[n++] = strdup(args[i]);
	p->n_args = n;
	p->env = calloc(2, sizeof(char *));
	p->env[0] = strdup("PATH=/bin");
	p->n_env = 1;
	p->cwd = strdup("/");
	return p;
}

void ctr_process_free(Grpc__Process *p)
{
	grpc__process__free_unpacked(p, NULL);
}

struct ctr_spec *ctr_spec_new(const struct ctr_env *e, const char *cid, const char *const *args)
{
	struct ctr_spec *s = calloc(1, sizeof(*s));
	size_t n = 1;

	grpc__spec__init(&s->spec);
	grpc__process__init(&s->process);
	grpc__user__init(&s->user);
	grpc__linux_capabilities__init(&s->caps);
	grpc__root__init(&s->root);
	grpc__linux__init(&s->linux_);
	s->args[0] = "/bin/payload";
	for (size_t i = 0; args && args[i] && n < MAX_ARGS - 1; i++)
		s->args[n++] = (char *)args[i];
	s->process.args = s->args;
	s->process.n_args = n;
	s->env[0] = "PATH=/bin";
	s->env[1] = "CTR_TEST=yes";
	s->process.env = s->env;
	s->process.n_env = 2;
	s->process.cwd = "/";
	s->process.user = &s->user;
	s->caps.bounding = s->caps.effective = s->caps.permitted = (char **)default_caps;
	s->caps.n_bounding = s->caps.n_effective = s->caps.n_permitted =
		sizeof(default_caps) / sizeof(default_caps[0]);
	s->process.capabilities = &s->caps;
	s->spec.process = &s->process;
	s->root.path = (char *)e->rootfs;
	s->spec.root = &s->root;
	snprintf(s->hostname, sizeof(s->hostname), "h-%s", cid);
	s->spec.hostname = s->hostname;
	static const char *const types[] = {"pid", "mount", "ipc", "uts"};
	for (int i = 0; i < 4; i++) {
		grpc__linux_namespace__init(&s->ns[i]);
		s->ns[i].type = (char *)types[i];
		s->nsp[i] = &s->ns[i];
	}
	s->linux_.namespaces = s->nsp;
	s->linux_.n_namespaces = 4;
	grpc__mount__init(&s->mounts[0]);
	s->mounts[0].destination = "/proc";
	s->mounts[0].source = "proc";
	s->mounts[0].type = "proc";
	s->mountp[0] = &s->mounts[0];
	s->spec.mounts = s->mountp;
	s->spec.n_mounts = 1;
	snprintf(s->cgpath, sizeof(s->cgpath), "%s/%s", e->cgparent, cid);
	s->linux_.cgroupspath = s->cgpath;
	s->spec.linux = &s->linux_;
	return s;
}

Grpc__Spec *ctr_spec_get(struct ctr_spec *s)
{
	return &s->spec;
}

void ctr_spec_free(struct ctr_spec *s)
{
	free(s);
}

void ctr_spec_add_env(struct ctr_spec *s, const char *kv)
{
	ASSERT_TRUE(s->process.n_env < MAX_ENV);
	s->env[s->process.n_env++] = (char *)kv;
}

void ctr_spec_bind_data(struct ctr_spec *s, const char *src, bool ro)
{
	Grpc__Mount *m = &s->mounts[1];

	grpc__mount__init(m);
	m->destination = "/data";
	m->source = (char *)src;
	m->type = "bind";
	s->bind_opts[0] = "rbind";
	s->bind_opts[1] = "ro";
	m->options = s->bind_opts;
	m->n_options = ro ? 2 : 1;
	s->mountp[1] = m;
	s->spec.n_mounts = 2;
}

void ctr_spec_set_memory(struct ctr_spec *s, int64_t limit)
{
	grpc__linux_resources__init(&s->res);
	grpc__linux_memory__init(&s->mem);
	s->mem.limit = limit;
	s->mem.swap = limit;
	s->res.memory = &s->mem;
	s->linux_.resources = &s->res;
}

void ctr_spec_set_user(struct ctr_spec *s, uint32_t uid, uint32_t gid)
{
	s->user.uid = uid;
	s->user.gid = gid;
}

/* --- calls ------------------------------------------------------------------------------- */

int ctr_call(struct ctr_env *e, const char *method, const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp, char **msg)
{
	_cleanup_error_ agent_error_t *err = NULL;
	int32_t code = -1;
	char *m = NULL;

	if (ttrpc_client_call_msg(e->c, "grpc.AgentService", method, req, resp_desc, resp, &code,
				  &m, 0, &err) < 0)
		FAIL("%s: %s", method, err->msg);
	if (msg)
		*msg = m;
	else
		free(m);
	return code;
}

int ctr_create(struct ctr_env *e, const char *cid, Grpc__Spec *spec, char **msg)
{
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;

	req.container_id = (char *)cid;
	req.exec_id = (char *)cid;
	req.oci = spec;
	return ctr_call(e, "CreateContainer", &req.base, &google__protobuf__empty__descriptor, NULL,
			msg);
}

int ctr_create_storage(struct ctr_env *e, const char *cid, Grpc__Spec *spec, Grpc__Storage *st,
		       char **msg)
{
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	Grpc__Storage *sts[] = {st};

	req.container_id = req.exec_id = (char *)cid;
	req.oci = spec;
	req.storages = sts;
	req.n_storages = 1;
	return ctr_call(e, "CreateContainer", &req.base, &google__protobuf__empty__descriptor, NULL,
			msg);
}

int ctr_start(struct ctr_env *e, const char *cid, char **msg)
{
	Grpc__StartContainerRequest req = GRPC__START_CONTAINER_REQUEST__INIT;

	req.container_id = (char *)cid;
	return ctr_call(e, "StartContainer", &req.base, &google__protobuf__empty__descriptor, NULL,
			msg);
}

int ctr_remove(struct ctr_env *e, const char *cid)
{
	Grpc__RemoveContainerRequest req = GRPC__REMOVE_CONTAINER_REQUEST__INIT;

	req.container_id = (char *)cid;
	return ctr_call(e, "RemoveContainer", &req.base, &google__protobuf__empty__descriptor, NULL,
			NULL);
}

int ctr_exec(struct ctr_env *e, const char *cid, const char *eid, Grpc__Process *p, char **msg)
{
	Grpc__ExecProcessRequest req = GRPC__EXEC_PROCESS_REQUEST__INIT;

	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	req.process = p;
	return ctr_call(e, "ExecProcess", &req.base, &google__protobuf__empty__descriptor, NULL,
			msg);
}

int ctr_signal(struct ctr_env *e, const char *cid, const char *eid, int sig)
{
	Grpc__SignalProcessRequest req = GRPC__SIGNAL_PROCESS_REQUEST__INIT;

	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	req.signal = sig;
	char *msg = NULL;
	int code = ctr_call(e, "SignalProcess", &req.base, &google__protobuf__empty__descriptor,
			    NULL, &msg);
	if (code)
		fprintf(stderr, "SignalProcess %s/%s %d: code %d: %s\n", cid, eid, sig, code, msg);
	free(msg);
	return code;
}

int ctr_wait(struct ctr_env *e, const char *cid, const char *eid)
{
	Grpc__WaitProcessRequest req = GRPC__WAIT_PROCESS_REQUEST__INIT;
	Grpc__WaitProcessResponse *resp = NULL;
	int code, status;

	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	code = ctr_call(e, "WaitProcess", &req.base, &grpc__wait_process_response__descriptor,
			(ProtobufCMessage **)&resp, NULL);
	if (code != 0)
		return -code;
	status = resp->status;
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return status;
}

char *ctr_read_all(struct ctr_env *e, const char *cid, const char *eid, bool err_stream,
		   size_t *len)
{
	size_t cap = 4096, n = 0;
	char *out = malloc(cap);

	for (;;) {
		Grpc__ReadStreamRequest req = GRPC__READ_STREAM_REQUEST__INIT;
		Grpc__ReadStreamResponse *resp = NULL;
		char *msg = NULL;
		int code;

		req.container_id = (char *)cid;
		req.exec_id = (char *)eid;
		req.len = 65536;
		code = ctr_call(e, err_stream ? "ReadStderr" : "ReadStdout", &req.base,
				&grpc__read_stream_response__descriptor, (ProtobufCMessage **)&resp,
				&msg);
		if (code != 0)
			FAIL("read: code %d: %s", code, msg);
		free(msg);
		if (resp->data.len == 0) {
			protobuf_c_message_free_unpacked(&resp->base, NULL);
			break;
		}
		while (n + resp->data.len + 1 > cap)
			cap *= 2;
		out = realloc(out, cap);
		memcpy(out + n, resp->data.data, resp->data.len);
		n += resp->data.len;
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	}
	out[n] = '\0';
	if (len)
		*len = n;
	return out;
}

char *ctr_run(struct ctr_env *e, const char *cid, Grpc__Spec *spec, int *code)
{
	char *msg = NULL, *out;
	int c = ctr_create(e, cid, spec, &msg);

	if (c != 0)
		FAIL("CreateContainer %s: code %d: %s", cid, c, msg);
	free(msg);
	c = ctr_start(e, cid, &msg);
	if (c != 0)
		FAIL("StartContainer %s: code %d: %s", cid, c, msg);
	free(msg);
	out = ctr_read_all(e, cid, cid, false, NULL);
	*code = ctr_wait(e, cid, cid);
	return out;
}

char *ctr_report_value(const char *report, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = report; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t ll = nl ? (size_t)(nl - p) : strlen(p);
		if (ll > kl && strncmp(p, key, kl) == 0 && p[kl] == '=')
			return strndup(p + kl + 1, ll - kl - 1);
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

void ctr_assert_value(const char *report, const char *key, const char *want)
{
	char *v = ctr_report_value(report, key);
	if (!v)
		FAIL("no %s in the report:\n%s", key, report);
	if (strcmp(v, want) != 0)
		FAIL("%s: got \"%s\", want \"%s\"", key, v, want);
	free(v);
}

void ctr_create_start(struct ctr_env *e, const char *cid, Grpc__Spec *spec)
{
	char *msg = NULL;
	int code = ctr_create(e, cid, spec, &msg);
	if (code)
		FAIL("create %s: %d %s", cid, code, msg);
	free(msg);
	code = ctr_start(e, cid, &msg);
	if (code)
		FAIL("start %s: %d %s", cid, code, msg);
	free(msg);
}
