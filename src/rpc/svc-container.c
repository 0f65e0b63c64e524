// SPDX-License-Identifier: Apache-2.0
/*
 * Container life-cycle methods: decode, call the sandbox, map the result.
 * Create, Start and Exec are deferred replies: they answer when the
 * container process reached its step (and, for Create and Start, when the
 * prestart or poststart hooks ran); Remove answers after the poststop hooks.
 * None of them blocks other calls meanwhile.
 */
#include <stdlib.h>

#include "agent.pb-c.h"
#include "base/message.h"
#include "google/protobuf/empty.pb-c.h"
#include "rpc/agent-handlers.h"
#include "rpc/pending.h"
#include "rpc/status.h"
#include "sandbox/container.h"
#include "sandbox/passfd.h"
#include "sandbox/sandbox.h"

static void reply_empty(struct rpc_call *call)
{
	Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;

	rpc_reply(call, &e.base);
}

/* Starts an asynchronous step; the pending record is the step's until it finishes. */
static void run_deferred(struct rpc_call *call, struct sandbox *sb,
			 int (*step)(struct sandbox *, const void *, container_done_fn, void *,
				     agent_error_t **),
			 const void *arg)
{
	agent_error_t *err = NULL;
	struct rpc_pending *pd = rpc_pending_new(call);

	if (pd && step(sb, arg, rpc_pending_done, pd, &err) < 0)
		rpc_pending_fail(pd, err);
}

static int step_create(struct sandbox *sb, const void *arg, container_done_fn done, void *ctx,
		       agent_error_t **err)
{
	return container_create(sb, arg, NULL, done, ctx, err);
}

static int step_start(struct sandbox *sb, const void *arg, container_done_fn done, void *ctx,
		      agent_error_t **err)
{
	return container_start(sb, arg, done, ctx, err);
}

static int step_exec(struct sandbox *sb, const void *arg, container_done_fn done, void *ctx,
		     agent_error_t **err)
{
	return container_exec(sb, arg, NULL, done, ctx, err);
}

static int step_remove(struct sandbox *sb, const void *arg, container_done_fn done, void *ctx,
		       agent_error_t **err)
{
	return container_remove(sb, arg, done, ctx, err);
}

/*
 * passfd (agent.passfd_listener_port): the streams the request names are
 * claimed first, as upstream takes them before anything else; the create or
 * exec then runs with them. Without passfd the ports are ignored.
 */
struct passfd_step {
	struct rpc_pending *pd;
	struct sandbox *sb;
	ProtobufCMessage *req; /* our copy: the call may end while the streams are waited for */
	bool exec;
};

static void on_passfd_claimed(int r, int fds[3], void *ctx)
{
	struct passfd_step *ps = ctx;
	agent_error_t *err = NULL;

	if (r < 0)
		agent_error_set(&err, -r, "the agent is stopping");
	else if (ps->exec)
		r = container_exec(ps->sb, (const void *)ps->req, fds, rpc_pending_done, ps->pd,
				   &err);
	else
		r = container_create(ps->sb, (const void *)ps->req, fds, rpc_pending_done, ps->pd,
				     &err);
	if (r < 0)
		rpc_pending_fail(ps->pd, err);
	for (int i = 0; i < 3; i++)
		safe_close(fds[i]);
	protobuf_c_message_free_unpacked(ps->req, NULL);
	free(ps);
}

static bool run_passfd(struct rpc_call *call, struct sandbox *sb, const ProtobufCMessage *req,
		       bool exec, const uint32_t ports[3])
{
	struct passfd_claim *claim;
	struct passfd_step *ps;

	if (!sb->passfd || !(ports[0] | ports[1] | ports[2]))
		return false;
	ps = calloc(1, sizeof(*ps));
	if (!ps || !(ps->req = message_dup(req))) {
		free(ps);
		rpc_reply_status(call, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return true;
	}
	ps->pd = rpc_pending_new(call);
	if (!ps->pd) {
		protobuf_c_message_free_unpacked(ps->req, NULL);
		free(ps);
		return true;
	}
	ps->sb = sb;
	ps->exec = exec;
	passfd_claim(sb->passfd, ports, on_passfd_claimed, ps, &claim);
	return true;
}

void rpc_create_container(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__CreateContainerRequest *r = (const void *)req;
	const uint32_t ports[3] = {r->stdin_port, r->stdout_port, r->stderr_port};

	if (!run_passfd(call, ctx, req, false, ports))
		run_deferred(call, ctx, step_create, req);
}

void rpc_start_container(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__StartContainerRequest *r = (const void *)req;

	run_deferred(call, ctx, step_start, r->container_id);
}

void rpc_exec_process(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__ExecProcessRequest *r = (const void *)req;
	const uint32_t ports[3] = {r->stdin_port, r->stdout_port, r->stderr_port};

	if (!run_passfd(call, ctx, req, true, ports))
		run_deferred(call, ctx, step_exec, req);
}

/* Takes err by address: the call that fills it must run before it is read. */
static void reply_result(struct rpc_call *call, int r, agent_error_t **err)
{
	if (r < 0)
		rpc_reply_error(call, *err);
	else
		reply_empty(call);
}

void rpc_remove_container(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__RemoveContainerRequest *r = (const void *)req;

	run_deferred(call, ctx, step_remove, r->container_id);
}

void rpc_signal_process(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__SignalProcessRequest *r = (const void *)req;
	agent_error_t *err = NULL;

	reply_result(call,
		     container_signal(ctx, r->container_id, r->exec_id,
				      r->signal > 1024 ? -1 : (int)r->signal, &err),
		     &err);
}

void rpc_pause_container(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__PauseContainerRequest *r = (const void *)req;
	agent_error_t *err = NULL;

	reply_result(call, container_pause(ctx, r->container_id, true, &err), &err);
}

void rpc_resume_container(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__ResumeContainerRequest *r = (const void *)req;
	agent_error_t *err = NULL;

	reply_result(call, container_pause(ctx, r->container_id, false, &err), &err);
}

void rpc_update_container(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__UpdateContainerRequest *r = (const void *)req;
	agent_error_t *err = NULL;

	reply_result(call, container_update(ctx, r->container_id, r->resources, &err), &err);
}

void rpc_stats_container(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__StatsContainerRequest *r = (const void *)req;
	Grpc__StatsContainerResponse resp = GRPC__STATS_CONTAINER_RESPONSE__INIT;
	Grpc__CgroupStats stats = GRPC__CGROUP_STATS__INIT;
	struct container *c = container_find(ctx, r->container_id);
	agent_error_t *err = NULL;

	if (!c) {
		rpc_reply_status(call, GRPC_INVALID_ARGUMENT, "invalid container id %s",
				 r->container_id);
		return;
	}
	if (container_may(c, CONTAINER_OP_STATS, &err) < 0) {
		rpc_reply_error(call, err);
		return;
	}
	if (c->cg && cgroup_stats(c->cg, &stats, &err) < 0) {
		cgroup_stats_clear(&stats);
		rpc_reply_error(call, err);
		return;
	}
	resp.cgroup_stats = &stats;
	rpc_reply(call, &resp.base);
	cgroup_stats_clear(&stats);
}

/* --- WaitProcess ------------------------------------------------------------------------ */

struct wait_call {
	struct rpc_call *call;
	struct process *p;
	struct process_waiter *w;
};

static void wait_done(int exit_code, void *ctx)
{
	struct wait_call *wc = ctx;
	Grpc__WaitProcessResponse resp = GRPC__WAIT_PROCESS_RESPONSE__INIT;

	resp.status = exit_code;
	rpc_call_set_cancel(wc->call, NULL, NULL);
	rpc_reply(wc->call, &resp.base);
	free(wc);
}

static void wait_cancelled(struct rpc_call *call, void *data)
{
	struct wait_call *wc = data;

	process_wait_cancel(wc->p, wc->w);
	free(wc);
}

void rpc_wait_process(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__WaitProcessRequest *r = (const void *)req;
	agent_error_t *err = NULL;
	struct wait_call *wc;
	struct process *p;

	if (process_lookup(ctx, r->container_id, r->exec_id, false, &p, &err) < 0 ||
	    container_may(p->c, CONTAINER_OP_WAIT, &err) < 0) {
		rpc_reply_error(call, err);
		return;
	}
	wc = calloc(1, sizeof(*wc));
	if (!wc) {
		rpc_reply_status(call, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	wc->call = call;
	wc->p = p;
	int w = process_wait(p, wait_done, wc, &wc->w, &err);
	if (w < 0) {
		free(wc);
		rpc_reply_error(call, err);
		return;
	}
	if (w == 0) /* answered already when 1 */
		rpc_call_set_cancel(call, wait_cancelled, wc);
}
