/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GetIPTables / SetIPTables through the distribution's iptables-save/-restore (IPv4) or
 * ip6tables-save/-restore (IPv6). The helper runs beside the loop: the call is answered
 * when it is done, killed at its deadline, and abandoned if the client goes away.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "loop/spawn.h"
#include "rpc/agent-handlers.h"
#include "sandbox/sandbox.h"

#define IPT_MAX_OUTPUT (3u << 20) /* the reply must fit a 4 MiB frame */
#define IPT_SAVE_TIMEOUT_MS 10000
#define IPT_RESTORE_TIMEOUT_MS 15000

struct ipt_call {
	struct rpc_call *call;
	struct spawn_job *job;
	bool set;
	char tool[64];
};

/* The tool's path, into path; false if the guest has none. */
static bool find_tool(bool v6, bool restore, char *path, size_t size)
{
	const char *name = v6 ? (restore ? "ip6tables-restore" : "ip6tables-save")
			      : (restore ? "iptables-restore" : "iptables-save");
	return spawn_find_tool(name, path, size);
}

static void ipt_done(const struct spawn_result *res, void *data)
{
	struct ipt_call *ic = data;
	int code = WIFEXITED(res->status) ? WEXITSTATUS(res->status) : 128 + WTERMSIG(res->status);

	if (res->timed_out) {
		rpc_reply_status(ic->call, GRPC_DEADLINE_EXCEEDED, "%s did not finish in time",
				 ic->tool);
	} else if (res->truncated) {
		rpc_reply_status(ic->call, GRPC_INTERNAL, "%s wrote more than %u bytes", ic->tool,
				 IPT_MAX_OUTPUT);
	} else if (code == 127 || code == 126) {
		rpc_reply_status(ic->call, GRPC_INTERNAL, "cannot run %s", ic->tool);
	} else if (ic->set && code != 0) {
		rpc_reply_status(ic->call, GRPC_INTERNAL, "%s failed (exit %d): %.2000s", ic->tool,
				 code, res->err);
	} else if (ic->set) {
		Grpc__SetIPTablesResponse resp = GRPC__SET_IPTABLES_RESPONSE__INIT;
		resp.data.data = (uint8_t *)res->out;
		resp.data.len = res->out_len;
		rpc_reply(ic->call, &resp.base);
	} else {
		/* As upstream, the save tool's exit status is not judged: its output is the answer.
		 */
		Grpc__GetIPTablesResponse resp = GRPC__GET_IPTABLES_RESPONSE__INIT;
		resp.data.data = (uint8_t *)res->out;
		resp.data.len = res->out_len;
		rpc_reply(ic->call, &resp.base);
	}
	free(ic);
}

static void ipt_cancelled(struct rpc_call *call, void *data)
{
	struct ipt_call *ic = data;
	spawn_abandon(ic->job);
	free(ic);
}

static void run_tool(struct rpc_call *call, struct sandbox *sb, bool v6, bool set,
		     const uint8_t *input, size_t in_len)
{
	char tool[64];
	if (!find_tool(v6, set, tool, sizeof(tool))) {
		rpc_reply_status(call, GRPC_INTERNAL,
				 "no %s found in /usr/sbin, /sbin, /usr/bin, /bin",
				 v6 ? (set ? "ip6tables-restore" : "ip6tables-save")
				    : (set ? "iptables-restore" : "iptables-save"));
		return;
	}
	struct ipt_call *ic = calloc(1, sizeof(*ic));
	if (!ic) {
		rpc_reply_status(call, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	ic->call = call;
	ic->set = set;
	memcpy(ic->tool, tool, sizeof(tool));
	char *argv_save[] = {tool, NULL};
	char *argv_restore[] = {tool, "--wait", "5", NULL};
	agent_error_t *err = NULL;
	if (spawn_run(sb->loop, sb->reaper, set ? argv_restore : argv_save, input, in_len,
		      set ? IPT_RESTORE_TIMEOUT_MS : IPT_SAVE_TIMEOUT_MS, IPT_MAX_OUTPUT, ipt_done,
		      ic, &ic->job, &err) < 0) {
		free(ic);
		rpc_reply_error(call, err);
		return;
	}
	rpc_call_set_cancel(call, ipt_cancelled, ic);
}

void rpc_get_iptables(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__GetIPTablesRequest *r = (const Grpc__GetIPTablesRequest *)req;
	run_tool(call, ctx, r->is_ipv6, false, NULL, 0);
}

void rpc_set_iptables(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__SetIPTablesRequest *r = (const Grpc__SetIPTablesRequest *)req;
	if (r->data.len == 0) {
		rpc_reply_status(call, GRPC_INVALID_ARGUMENT, "SetIPTables: no rules given");
		return;
	}
	run_tool(call, ctx, r->is_ipv6, true, r->data.data, r->data.len);
}
