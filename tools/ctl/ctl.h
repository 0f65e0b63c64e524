/* SPDX-License-Identifier: Apache-2.0 */
/* kata-agent-ctl: shared state and helpers of the command implementations. */
#ifndef AGENT_CTL_CTL_H
#define AGENT_CTL_CTL_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "ttrpc-client.h"

/* gnu11 predefines "linux" as 1, which breaks the generated grpc.Spec's Linux member. */
#undef linux
#include "agent.pb-c.h"

#define CTL_NAME "kata-agent-ctl"
#define CTL_DEFAULT_ADDR "vsock://3:1024"
#define CTL_DEFAULT_TIMEOUT_S 30

/* Exit statuses. */
enum {
	CTL_OK = 0,
	CTL_FAILED = 1, /* a call failed, or the connection did */
	CTL_USAGE = 2,
};

struct ctl {
	const char *addr;
	int timeout_s; /* 0 = no deadline */
	bool timeout_set; /* given on the command line: applies to blocking calls too */
	struct ttrpc_kv trace_md; /* {"traceparent", VALUE} from --traceparent; key NULL if not */
	struct ttrpc_client *client;
};

struct ctl_command {
	const char *name;
	const char *synopsis;
	const char *help;
	int (*run)(struct ctl *ctl, int argc, char **argv);
};

/* The command tables of cmd-basic.c, cmd-container.c and cmd-trace.c (NULL-name terminated). */
extern const struct ctl_command ctl_basic_commands[];
extern const struct ctl_command ctl_container_commands[];
extern const struct ctl_command ctl_trace_commands[];

/* Prints "kata-agent-ctl: <cmd>: <message>" and a hint; returns CTL_USAGE. */
int ctl_usage_error(const char *cmd, const char *fmt, ...) _printf_(2, 3);

/* Prints "kata-agent-ctl: <message>"; returns CTL_FAILED. */
int ctl_fail(const char *fmt, ...) _printf_(1, 2);

/* The connection, dialed on first use. NULL after printing the error. */
struct ttrpc_client *ctl_client(struct ctl *ctl);

/* Deadline of a call to method, in nanoseconds (0 = none). */
int64_t ctl_call_timeout(const struct ctl *ctl, const char *method);

/*
 * Calls method ("CreateContainer", "grpc.Health.Check", ...) with req; on success stores the
 * reply in *ret_resp (when not NULL; free with protobuf_c_message_free_unpacked). Failures are
 * printed as "kata-agent-ctl: METHOD: CODE_NAME (code): message". Returns CTL_OK or
 * CTL_FAILED.
 */
int ctl_call(struct ctl *ctl, const char *method, const ProtobufCMessage *req,
	     ProtobufCMessage **ret_resp);

/* Prints msg as indented JSON on stdout. */
int ctl_print_json(const ProtobufCMessage *msg);

/* Reads all of path ("-" = stdin), at most max bytes, NUL-terminated. */
int ctl_read_file(const char *path, size_t max, char **ret, size_t *ret_len, agent_error_t **err);

/* A command-line JSON/data argument: literal text, "-" for stdin or "@FILE". */
int ctl_read_arg(const char *arg, size_t max, char **ret, size_t *ret_len, agent_error_t **err);

/* Parses text as message type desc (strict: unknown fields are errors). */
int ctl_parse_message(const char *what, const char *text, size_t len,
		      const ProtobufCMessageDescriptor *desc, ProtobufCMessage **ret);

/* Strict decimal parse of an unsigned value up to max. */
int ctl_parse_uint(const char *s, uint64_t max, uint64_t *ret);

/*
 * spec.c: a runtime-spec config.json into grpc.Spec. A relative root.path is made absolute
 * against bundle_dir. Unless raw, the spec is constrained as the Kata runtime does before
 * CreateContainer: hooks dropped; pid, network, cgroup and time namespaces removed (the agent
 * adds the pid namespace itself) and all namespace paths cleared.
 */
int ctl_spec_from_file(const char *config_path, const char *bundle_dir, bool raw, Grpc__Spec **ret,
		       agent_error_t **err);

/*
 * cmd-passfd.c: passfd I/O (agent.passfd_listener_port). fds[i] are the
 * connections for stdin, stdout, stderr (-1: none) and ports[i] the source
 * port each is named by in the request (0: none).
 */
struct ctl_passfd {
	int fds[3];
	uint32_t ports[3];
};
#define CTL_PASSFD_INIT         \
	{                       \
		{-1, -1, -1},   \
		{               \
			0, 0, 0 \
		}               \
	}
/* --passfd PORT | vsock://CID:PORT | unix:///PATH:PORT (hybrid vsock): opens the connections. */
int ctl_passfd_open(const struct ctl *ctl, const char *arg, bool with_stderr,
		    struct ctl_passfd *pf);
/* --passfd-ports IN:OUT:ERR: names streams someone else opened (nothing is copied). */
int ctl_passfd_ports(const char *arg, struct ctl_passfd *pf);
/* Copies stdin to the stdin stream and the output streams to stdout/stderr until they end. */
int ctl_passfd_copy(struct ctl_passfd *pf);
void ctl_passfd_release(struct ctl_passfd *pf);

#endif
