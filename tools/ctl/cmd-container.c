/* SPDX-License-Identifier: Apache-2.0 */
/* kata-agent-ctl: sandbox, container and process commands. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ctl.h"
#include "jsonpb.h"

#define MAX_ARGS 4096
#define MAX_STDIN_DATA (1u << 20)
#define DEFAULT_READ_LEN 65536
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Repeated string options, and repeated --storage/--device JSON turned into messages. */
struct strv {
	char **v;
	size_t n;
};

static int strv_add(struct strv *sv, char *s)
{
	if (sv->n >= MAX_ARGS)
		return ctl_fail("too many values (limit %d)", MAX_ARGS);
	char **p = realloc(sv->v, (sv->n + 1) * sizeof(*p));
	if (!p)
		return ctl_fail("out of memory");
	sv->v = p;
	sv->v[sv->n++] = s;
	return CTL_OK;
}

static void strv_release(struct strv *sv)
{
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

struct msgv {
	ProtobufCMessage **v;
	size_t n;
};

static int msgv_add(struct msgv *mv, const char *opt, const ProtobufCMessageDescriptor *desc,
		    const char *arg)
{
	_cleanup_error_ agent_error_t *err = NULL;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if (ctl_read_arg(arg, JSONPB_MAX_TEXT, &text, &len, &err) < 0)
		return ctl_usage_error(opt, "%s", err->msg);
	ProtobufCMessage *m = NULL;
	int r = ctl_parse_message(opt, text, len, desc, &m);
	if (r != CTL_OK)
		return r;
	ProtobufCMessage **p = mv->n < MAX_ARGS ? realloc(mv->v, (mv->n + 1) * sizeof(*p)) : NULL;
	if (!p) {
		protobuf_c_message_free_unpacked(m, NULL);
		return ctl_fail("too many %s or out of memory", opt);
	}
	mv->v = p;
	mv->v[mv->n++] = m;
	return CTL_OK;
}

static int storages_add(struct msgv *mv, const char *arg)
{
	return msgv_add(mv, "--storage", &grpc__storage__descriptor, arg);
}

static void msgv_release(struct msgv *mv)
{
	for (size_t i = 0; i < mv->n; i++)
		protobuf_c_message_free_unpacked(mv->v[i], NULL);
	free(mv->v);
	mv->v = NULL;
	mv->n = 0;
}

/* Positional arguments after options: between min and max of them. */
static int positionals(int argc, char **argv, int min, int max)
{
	int n = argc - optind;
	if (n < min)
		return ctl_usage_error(argv[0], "missing argument(s)");
	if (n > max)
		return ctl_usage_error(argv[0], "unexpected argument '%s'", argv[optind + max]);
	return CTL_OK;
}

static int unknown_option(char **argv, int opt)
{
	if (opt == ':')
		return ctl_usage_error(argv[0], "option '%s' needs a value", argv[optind - 1]);
	return ctl_usage_error(argv[0], "unknown option '%s'", argv[optind - 1]);
}

static int only_positionals(int argc, char **argv, int min, int max)
{
	static const struct option none[] = {{NULL, 0, NULL, 0}};
	int opt;
	opterr = 0;
	if ((opt = getopt_long(argc, argv, ":", none, NULL)) != -1)
		return unknown_option(argv, opt);
	return positionals(argc, argv, min, max);
}

/* ---- sandbox ------------------------------------------------------------------------------ */

static int cmd_create_sandbox(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"hostname", required_argument, NULL, 'H'},
		{"dns", required_argument, NULL, 'd'},
		{"sandbox-id", required_argument, NULL, 'i'},
		{"storage", required_argument, NULL, 's'},
		{"guest-hook-path", required_argument, NULL, 'g'},
		{"kernel-module", required_argument, NULL, 'k'},
		{NULL, 0, NULL, 0},
	};
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	_cleanup_(strv_release) struct strv dns = {0};
	_cleanup_(msgv_release) struct msgv st = {0};
	_cleanup_(msgv_release) struct msgv km = {0};
	int opt, r;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":H:d:i:s:g:k:", opts, NULL)) != -1) {
		switch (opt) {
		case 'H':
			req.hostname = optarg;
			break;
		case 'd':
			if ((r = strv_add(&dns, optarg)) != CTL_OK)
				return r;
			break;
		case 'i':
			req.sandbox_id = optarg;
			break;
		case 's':
			if ((r = storages_add(&st, optarg)) != CTL_OK)
				return r;
			break;
		case 'g':
			req.guest_hook_path = optarg;
			break;
		case 'k':
			r = msgv_add(&km, "--kernel-module", &grpc__kernel_module__descriptor,
				     optarg);
			if (r != CTL_OK)
				return r;
			break;
		default:
			return unknown_option(argv, opt);
		}
	}
	if ((r = positionals(argc, argv, 0, 0)) != CTL_OK)
		return r;
	req.n_kernel_modules = km.n;
	req.kernel_modules = (Grpc__KernelModule **)km.v;
	req.n_dns = dns.n;
	req.dns = dns.v;
	req.n_storages = st.n;
	req.storages = (Grpc__Storage **)st.v;
	return ctl_call(ctl, "CreateSandbox", &req.base, NULL);
}

static int cmd_destroy_sandbox(struct ctl *ctl, int argc, char **argv)
{
	int r = only_positionals(argc, argv, 0, 0);
	if (r != CTL_OK)
		return r;
	Grpc__DestroySandboxRequest req = GRPC__DESTROY_SANDBOX_REQUEST__INIT;
	return ctl_call(ctl, "DestroySandbox", &req.base, NULL);
}

/* ---- containers --------------------------------------------------------------------------- */

static int cmd_create_container(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"id", required_argument, NULL, 'i'},
		{"bundle", required_argument, NULL, 'b'},
		{"spec", required_argument, NULL, 's'},
		{"rootfs", required_argument, NULL, 'r'},
		{"storage", required_argument, NULL, 'S'},
		{"device", required_argument, NULL, 'D'},
		{"sandbox-pidns", no_argument, NULL, 'p'},
		{"raw-spec", no_argument, NULL, 'R'},
		{"passfd", required_argument, NULL, 'P'},
		{"passfd-ports", required_argument, NULL, 'Q'},
		{NULL, 0, NULL, 0},
	};
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	_cleanup_(msgv_release) struct msgv st = {0}, dv = {0};
	_cleanup_(ctl_passfd_release) struct ctl_passfd pf = CTL_PASSFD_INIT;
	const char *id = NULL, *bundle = NULL, *spec = NULL, *rootfs = NULL, *passfd = NULL;
	bool raw = false;
	int opt, r;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":i:b:s:r:S:D:pRP:Q:", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			id = optarg;
			break;
		case 'b':
			bundle = optarg;
			break;
		case 's':
			spec = optarg;
			break;
		case 'r':
			rootfs = optarg;
			break;
		case 'S':
			if ((r = storages_add(&st, optarg)) != CTL_OK)
				return r;
			break;
		case 'D':
			if ((r = msgv_add(&dv, "--device", &grpc__device__descriptor, optarg)) !=
			    CTL_OK)
				return r;
			break;
		case 'p':
			req.sandbox_pidns = true;
			break;
		case 'R':
			raw = true;
			break;
		case 'P':
			passfd = optarg;
			break;
		case 'Q':
			if ((r = ctl_passfd_ports(optarg, &pf)) != CTL_OK)
				return r;
			break;
		default:
			return unknown_option(argv, opt);
		}
	}
	if ((r = positionals(argc, argv, 0, 0)) != CTL_OK)
		return r;
	if (!id)
		return ctl_usage_error(argv[0], "--id is required");
	if (!bundle == !spec)
		return ctl_usage_error(argv[0], "give exactly one of --bundle DIR and --spec FILE");

	/* The runtime-spec convention: config.json lives in the bundle, root.path is relative
	 * to it. */
	char config[PATH_MAX], dir[PATH_MAX];
	if (bundle) {
		snprintf(config, sizeof(config), "%s/config.json", bundle);
		snprintf(dir, sizeof(dir), "%s", bundle);
	} else {
		snprintf(config, sizeof(config), "%s", spec);
		snprintf(dir, sizeof(dir), "%s", spec);
		char *slash = strrchr(dir, '/');
		if (!slash)
			snprintf(dir, sizeof(dir), ".");
		else
			slash[slash == dir ? 1 : 0] = '\0';
	}

	_cleanup_error_ agent_error_t *err = NULL;
	Grpc__Spec *oci = NULL;
	if (ctl_spec_from_file(config, dir, raw, &oci, &err) < 0)
		return ctl_usage_error(argv[0], "%s", err->msg);
	if (rootfs) {
		if (!oci->root) {
			oci->root = calloc(1, sizeof(*oci->root));
			if (oci->root)
				grpc__root__init(oci->root);
		}
		char *p = strdup(rootfs);
		if (!oci->root || !p) {
			free(p);
			protobuf_c_message_free_unpacked(&oci->base, NULL);
			return ctl_fail("out of memory");
		}
		if (oci->root->path != (char *)protobuf_c_empty_string)
			free(oci->root->path);
		oci->root->path = p;
	}

	req.container_id = (char *)id;
	req.exec_id = (char *)id; /* the init process's exec id is the container id */
	req.oci = oci;
	req.n_storages = st.n;
	req.storages = (Grpc__Storage **)st.v;
	req.n_devices = dv.n;
	req.devices = (Grpc__Device **)dv.v;
	/* A terminal has no stderr of its own: no stream for it. */
	if (passfd && (r = ctl_passfd_open(ctl, passfd, !(oci->process && oci->process->terminal),
					   &pf)) != CTL_OK) {
		protobuf_c_message_free_unpacked(&oci->base, NULL);
		return r;
	}
	req.stdin_port = pf.ports[0];
	req.stdout_port = pf.ports[1];
	req.stderr_port = pf.ports[2];
	r = ctl_call(ctl, "CreateContainer", &req.base, NULL);
	protobuf_c_message_free_unpacked(&oci->base, NULL);
	/* The process runs once started (start-container, from elsewhere): copy until it ends. */
	if (r == CTL_OK && passfd)
		r = ctl_passfd_copy(&pf);
	return r;
}

static int cmd_start_container(struct ctl *ctl, int argc, char **argv)
{
	int r = only_positionals(argc, argv, 1, 1);
	if (r != CTL_OK)
		return r;
	Grpc__StartContainerRequest req = GRPC__START_CONTAINER_REQUEST__INIT;
	req.container_id = argv[optind];
	return ctl_call(ctl, "StartContainer", &req.base, NULL);
}

static int cmd_remove_container(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	Grpc__RemoveContainerRequest req = GRPC__REMOVE_CONTAINER_REQUEST__INIT;
	int opt, r;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":t:", opts, NULL)) != -1) {
		uint64_t v;
		if (opt != 't')
			return unknown_option(argv, opt);
		if (ctl_parse_uint(optarg, UINT32_MAX, &v) < 0)
			return ctl_usage_error(argv[0], "invalid --timeout '%s'", optarg);
		req.timeout = (uint32_t)v;
	}
	if ((r = positionals(argc, argv, 1, 1)) != CTL_OK)
		return r;
	req.container_id = argv[optind];
	return ctl_call(ctl, "RemoveContainer", &req.base, NULL);
}

/* ---- processes ---------------------------------------------------------------------------- */

static int parse_user(const char *s, Grpc__User *u)
{
	uint64_t uid, gid = 0;
	const char *colon = strchr(s, ':');
	char buf[32];
	snprintf(buf, sizeof(buf), "%.*s", colon ? (int)(colon - s) : (int)strlen(s), s);
	if (ctl_parse_uint(buf, UINT32_MAX, &uid) < 0)
		return -1;
	if (colon && ctl_parse_uint(colon + 1, UINT32_MAX, &gid) < 0)
		return -1;
	u->uid = (uint32_t)uid;
	u->gid = (uint32_t)gid;
	return 0;
}

static int cmd_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"tty", no_argument, NULL, 't'},
		{"env", required_argument, NULL, 'e'},
		{"cwd", required_argument, NULL, 'w'},
		{"user", required_argument, NULL, 'u'},
		{"passfd", required_argument, NULL, 'P'},
		{"passfd-ports", required_argument, NULL, 'Q'},
		{NULL, 0, NULL, 0},
	};
	_cleanup_(ctl_passfd_release) struct ctl_passfd pf = CTL_PASSFD_INIT;
	const char *passfd = NULL;
	Grpc__ExecProcessRequest req = GRPC__EXEC_PROCESS_REQUEST__INIT;
	Grpc__Process proc = GRPC__PROCESS__INIT;
	Grpc__User user = GRPC__USER__INIT;
	_cleanup_(strv_release) struct strv env = {0};
	int opt, r;

	proc.cwd = "/";
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":te:w:u:P:Q:", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			proc.terminal = true;
			break;
		case 'e':
			if (!strchr(optarg, '='))
				return ctl_usage_error(argv[0], "--env wants NAME=VALUE, got '%s'",
						       optarg);
			if ((r = strv_add(&env, optarg)) != CTL_OK)
				return r;
			break;
		case 'w':
			proc.cwd = optarg;
			break;
		case 'u':
			if (parse_user(optarg, &user) < 0)
				return ctl_usage_error(argv[0], "--user wants UID[:GID], got '%s'",
						       optarg);
			break;
		case 'P':
			passfd = optarg;
			break;
		case 'Q':
			if ((r = ctl_passfd_ports(optarg, &pf)) != CTL_OK)
				return r;
			break;
		default:
			return unknown_option(argv, opt);
		}
	}
	if ((r = positionals(argc, argv, 3, MAX_ARGS)) != CTL_OK)
		return r;
	if (env.n == 0 && (r = strv_add(&env, DEFAULT_PATH)) != CTL_OK)
		return r;

	req.container_id = argv[optind];
	req.exec_id = argv[optind + 1];
	proc.n_args = (size_t)(argc - optind - 2);
	proc.args = argv + optind + 2;
	proc.n_env = env.n;
	proc.env = env.v;
	proc.user = &user;
	req.process = &proc;
	if (passfd && (r = ctl_passfd_open(ctl, passfd, !proc.terminal, &pf)) != CTL_OK)
		return r;
	req.stdin_port = pf.ports[0];
	req.stdout_port = pf.ports[1];
	req.stderr_port = pf.ports[2];
	r = ctl_call(ctl, "ExecProcess", &req.base, NULL);
	if (r == CTL_OK && passfd)
		r = ctl_passfd_copy(&pf);
	return r;
}

static int cmd_wait(struct ctl *ctl, int argc, char **argv)
{
	int r = only_positionals(argc, argv, 1, 2);
	if (r != CTL_OK)
		return r;
	Grpc__WaitProcessRequest req = GRPC__WAIT_PROCESS_REQUEST__INIT;
	req.container_id = argv[optind];
	/* The init process's exec id is the container id. */
	req.exec_id = argc - optind == 2 ? argv[optind + 1] : argv[optind];
	ProtobufCMessage *resp = NULL;
	r = ctl_call(ctl, "WaitProcess", &req.base, &resp);
	if (r == CTL_OK)
		printf("%d\n", ((Grpc__WaitProcessResponse *)resp)->status);
	protobuf_c_message_free_unpacked(resp, NULL);
	return r;
}

static const struct {
	const char *name;
	int num;
} signal_names[] = {
	{"HUP", SIGHUP},       {"INT", SIGINT},	  {"QUIT", SIGQUIT},	 {"ILL", SIGILL},
	{"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},	 {"BUS", SIGBUS},
	{"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},	 {"SEGV", SIGSEGV},
	{"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},	 {"TERM", SIGTERM},
	{"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},	 {"STOP", SIGSTOP},
	{"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},	 {"URG", SIGURG},
	{"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
	{"WINCH", SIGWINCH},   {"IO", SIGIO},	  {"POLL", SIGPOLL},	 {"PWR", SIGPWR},
	{"SYS", SIGSYS},
};

/* A signal number, or a name with or without SIG (any case). */
static int parse_signal(const char *s)
{
	uint64_t v;
	if (ctl_parse_uint(s, 64, &v) == 0)
		return (int)v;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < ARRAY_SIZE(signal_names); i++)
		if (strcasecmp(s, signal_names[i].name) == 0)
			return signal_names[i].num;
	return -1;
}

static int cmd_signal(struct ctl *ctl, int argc, char **argv)
{
	int r = only_positionals(argc, argv, 2, 3);
	if (r != CTL_OK)
		return r;
	bool with_exec = argc - optind == 3;
	const char *sig = argv[argc - 1];
	int num = parse_signal(sig);
	if (num < 0)
		return ctl_usage_error(argv[0], "unknown signal '%s'", sig);
	Grpc__SignalProcessRequest req = GRPC__SIGNAL_PROCESS_REQUEST__INIT;
	req.container_id = argv[optind];
	/* Empty exec id: the init process, or with SIGKILL every process of the container. */
	req.exec_id = with_exec ? argv[optind + 1] : "";
	req.signal = (uint32_t)num;
	return ctl_call(ctl, "SignalProcess", &req.base, NULL);
}

static int write_all_stdout(const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return ctl_fail("writing to stdout: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return CTL_OK;
}

static int read_stream(struct ctl *ctl, int argc, char **argv, const char *method)
{
	static const struct option opts[] = {
		{"all", no_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	bool all = false;
	int opt, r;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":a", opts, NULL)) != -1) {
		if (opt != 'a')
			return unknown_option(argv, opt);
		all = true;
	}
	if ((r = positionals(argc, argv, 2, 3)) != CTL_OK)
		return r;
	uint64_t len = DEFAULT_READ_LEN;
	if (argc - optind == 3 && ctl_parse_uint(argv[optind + 2], UINT32_MAX, &len) < 0)
		return ctl_usage_error(argv[0], "invalid length '%s'", argv[optind + 2]);

	Grpc__ReadStreamRequest req = GRPC__READ_STREAM_REQUEST__INIT;
	req.container_id = argv[optind];
	req.exec_id = argv[optind + 1];
	req.len = (uint32_t)len;
	do {
		ProtobufCMessage *resp = NULL;
		r = ctl_call(ctl, method, &req.base, &resp);
		if (r != CTL_OK)
			return r;
		ProtobufCBinaryData d = ((Grpc__ReadStreamResponse *)resp)->data;
		r = write_all_stdout(d.data, d.len);
		protobuf_c_message_free_unpacked(resp, NULL);
		/* Empty data is end of stream. */
		if (r != CTL_OK || d.len == 0)
			break;
	} while (all);
	return r;
}

static int cmd_read_stdout(struct ctl *ctl, int argc, char **argv)
{
	return read_stream(ctl, argc, argv, "ReadStdout");
}

static int cmd_read_stderr(struct ctl *ctl, int argc, char **argv)
{
	return read_stream(ctl, argc, argv, "ReadStderr");
}

static int cmd_write_stdin(struct ctl *ctl, int argc, char **argv)
{
	int r = only_positionals(argc, argv, 3, 3);
	if (r != CTL_OK)
		return r;
	_cleanup_error_ agent_error_t *err = NULL;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (ctl_read_arg(argv[optind + 2], MAX_STDIN_DATA, &data, &len, &err) < 0)
		return ctl_usage_error(argv[0], "%s", err->msg);
	Grpc__WriteStreamRequest req = GRPC__WRITE_STREAM_REQUEST__INIT;
	req.container_id = argv[optind];
	req.exec_id = argv[optind + 1];
	req.data.data = (uint8_t *)data;
	req.data.len = len;
	ProtobufCMessage *resp = NULL;
	r = ctl_call(ctl, "WriteStdin", &req.base, &resp);
	if (r == CTL_OK)
		r = ctl_print_json(resp);
	protobuf_c_message_free_unpacked(resp, NULL);
	return r;
}

static int cmd_close_stdin(struct ctl *ctl, int argc, char **argv)
{
	int r = only_positionals(argc, argv, 2, 2);
	if (r != CTL_OK)
		return r;
	Grpc__CloseStdinRequest req = GRPC__CLOSE_STDIN_REQUEST__INIT;
	req.container_id = argv[optind];
	req.exec_id = argv[optind + 1];
	return ctl_call(ctl, "CloseStdin", &req.base, NULL);
}

const struct ctl_command ctl_container_commands[] = {
	{"create-sandbox",
	 "[--hostname H] [--dns LINE]... [--sandbox-id ID] [--storage JSON]... "
	 "[--guest-hook-path DIR] [--kernel-module JSON]...",
	 "CreateSandbox; --dns takes whole resolv.conf lines, --storage a grpc.Storage, "
	 "--kernel-module a grpc.KernelModule ({\"name\":..., \"parameters\":[...]})",
	 cmd_create_sandbox},
	{"destroy-sandbox", "", "DestroySandbox", cmd_destroy_sandbox},
	{"create-container",
	 "--id ID (--bundle DIR | --spec FILE) [--rootfs PATH] [--storage JSON]... "
	 "[--device JSON]... [--sandbox-pidns] [--raw-spec] [--passfd PORT|ADDR] "
	 "[--passfd-ports IN:OUT:ERR]",
	 "CreateContainer from a runtime-spec config.json (relative root.path is against the "
	 "bundle); unless --raw-spec, hooks and the pid/network/cgroup/time namespaces are "
	 "dropped and namespace paths cleared, as the Kata runtime does. --passfd opens the "
	 "process's stdio as streams to the agent's passfd port (PORT on the --addr's vsock CID "
	 "or hvsock socket, vsock://CID:PORT, or unix:///PATH:PORT with the hybrid vsock "
	 "CONNECT handshake) and copies them to ctl's own stdio until the output ends (start "
	 "the container from another ctl); --passfd-ports names streams opened elsewhere",
	 cmd_create_container},
	{"start-container", "ID", "StartContainer", cmd_start_container},
	{"remove-container", "ID [--timeout S]", "RemoveContainer (timeout 0 = wait forever)",
	 cmd_remove_container},
	{"exec",
	 "ID EXEC_ID [--tty] [--env K=V]... [--cwd DIR] [--user UID[:GID]] [--passfd PORT|ADDR] "
	 "[--passfd-ports IN:OUT:ERR] -- ARGS...",
	 "ExecProcess (env defaults to a standard PATH, cwd to /); --passfd and --passfd-ports "
	 "as for create-container",
	 cmd_exec},
	{"wait", "ID [EXEC_ID]",
	 "WaitProcess (EXEC_ID defaults to ID, the init process); prints the exit status",
	 cmd_wait},
	{"signal", "ID [EXEC_ID] SIGNAL",
	 "SignalProcess; SIGNAL is a number or a name (TERM, SIGKILL, ...). Without EXEC_ID: the "
	 "init process, or for KILL every process in the container",
	 cmd_signal},
	{"read-stdout", "ID EXEC_ID [LEN] [--all]",
	 "ReadStdout: one read of up to LEN bytes (default 65536) to stdout; --all repeats until "
	 "end of stream",
	 cmd_read_stdout},
	{"read-stderr", "ID EXEC_ID [LEN] [--all]", "ReadStderr, as read-stdout", cmd_read_stderr},
	{"write-stdin", "ID EXEC_ID DATA", "WriteStdin; DATA is text, - (stdin) or @FILE",
	 cmd_write_stdin},
	{"close-stdin", "ID EXEC_ID", "CloseStdin", cmd_close_stdin},
	{NULL, NULL, NULL, NULL},
};
