// SPDX-License-Identifier: Apache-2.0
/*
 * OCI hooks. The state JSON uses the base JSON string escaper (RFC 8259 rules;
 * bytes that are not valid UTF-8 become U+FFFD, so the output is always valid
 * JSON). A hook runs as a direct child through the loop's spawn (loop/spawn.h,
 * forked by loop_fork): stdin is a pipe carrying the state, stdout/stderr go to
 * /dev/null, the environment is the hook's env only, every other fd is closed.
 * The asynchronous runner chains the hooks on the loop (THE reaper gets their
 * exits); the blocking one (hook_run) waits for its own child only.
 */
#include "container/hooks.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "base/message.h"
#include "base/strbuf.h"
#include "loop/spawn.h"

#define HOOK_DEFAULT_TIMEOUT_S 10
#define HOOK_MAX_TIMEOUT_S (24 * 3600)

/* --- the state JSON ---------------------------------------------------------------------- */

#define STATE_JSON_MAX (8u << 20) /* annotations are bounded by the request size anyway */

char *oci_state_json(const char *id, const char *status, pid_t pid, const char *bundle,
		     const Grpc__Spec *spec)
{
	struct strbuf sb;

	strbuf_init(&sb, STATE_JSON_MAX);
	strbuf_adds(&sb, "{\"ociVersion\":\"1.0.2\",\"id\":");
	strbuf_add_json_string(&sb, id);
	strbuf_adds(&sb, ",\"status\":");
	strbuf_add_json_string(&sb, status);
	strbuf_addf(&sb, ",\"pid\":%d,\"bundle\":", (int)pid);
	strbuf_add_json_string(&sb, bundle);
	strbuf_adds(&sb, ",\"annotations\":{");
	for (size_t i = 0; spec && i < spec->n_annotations; i++) {
		if (i > 0)
			strbuf_add(&sb, ",", 1);
		strbuf_add_json_string(&sb, spec->annotations[i]->key);
		strbuf_add(&sb, ":", 1);
		strbuf_add_json_string(&sb, spec->annotations[i]->value);
	}
	strbuf_adds(&sb, "}}");
	if (sb.oom) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_steal(&sb);
}

/* --- one hook: its command and its verdict ------------------------------------------------ */

struct hook_cmd {
	struct spawn_cmd cmd;
	char **argv, **envp;
	int64_t timeout_s;
};

static void hook_cmd_release(struct hook_cmd *hc)
{
	free(hc->argv);
	free(hc->envp);
	hc->argv = hc->envp = NULL;
}

/* Everything the child needs, ready before the fork: it only dup2s and execs. */
static int hook_cmd_prepare(const Grpc__Hook *h, struct hook_cmd *hc, agent_error_t **err)
{
	memset(hc, 0, sizeof(*hc));
	if (!h || !h->path || !h->path[0])
		return agent_error_set(err, EINVAL, "hook: missing path");
	const char *path = h->path;
	if (path[0] != '/')
		return agent_error_set(err, EINVAL, "hook %s: path is not absolute", path);
	hc->argv = calloc(h->n_args + 2, sizeof(*hc->argv));
	hc->envp = calloc(h->n_env + 1, sizeof(*hc->envp));
	if (!hc->argv || !hc->envp) {
		hook_cmd_release(hc);
		return agent_error_set(err, ENOMEM, "hook %s: out of memory", path);
	}
	if (h->n_args > 0)
		memcpy(hc->argv, h->args, h->n_args * sizeof(*hc->argv));
	else
		hc->argv[0] = (char *)path;
	if (h->n_env > 0)
		memcpy(hc->envp, h->env, h->n_env * sizeof(*hc->envp));
	hc->timeout_s = h->timeout > 0 ? h->timeout : HOOK_DEFAULT_TIMEOUT_S;
	hc->timeout_s = MIN(hc->timeout_s, (int64_t)HOOK_MAX_TIMEOUT_S);
	hc->cmd = (struct spawn_cmd){
		.path = path, .argv = hc->argv, .envp = hc->envp, .discard_output = true};
	return 0;
}

static int hook_verdict(const struct hook_cmd *hc, const struct spawn_result *res,
			agent_error_t **err)
{
	const char *path = hc->cmd.path;

	if (res->timed_out)
		return agent_error_set(err, ETIMEDOUT, "hook %s: timed out after %llds, killed",
				       path, (long long)hc->timeout_s);
	if (res->exec_errno)
		return agent_error_setsys(err, res->exec_errno, "hook %s: exec", path);
	if (WIFSIGNALED(res->status))
		return agent_error_set(err, EIO, "hook %s: killed by signal %d", path,
				       WTERMSIG(res->status));
	if (WIFEXITED(res->status) && WEXITSTATUS(res->status) != 0)
		return agent_error_set(err, EIO, "hook %s: exited with status %d", path,
				       WEXITSTATUS(res->status));
	return 0;
}

/* --- blocking ------------------------------------------------------------------------------ */

int hook_run(const Grpc__Hook *h, const char *state_json, agent_error_t **err)
{
	struct hook_cmd hc;
	struct spawn_result res;
	const char *data = state_json ? state_json : "";

	int r = hook_cmd_prepare(h, &hc, err);
	if (r < 0)
		return r;
	r = spawn_exec_sync(&hc.cmd, data, strlen(data), (uint64_t)hc.timeout_s * 1000, &res, err);
	if (r >= 0)
		r = hook_verdict(&hc, &res, err);
	else
		agent_error_wrap(err, "hook %s", hc.cmd.path);
	hook_cmd_release(&hc);
	return r;
}

void hooks_run_each(Grpc__Hook *const *hooks, size_t n, const char *state_json, hook_fail_fn fail,
		    void *data)
{
	for (size_t i = 0; i < n; i++) {
		agent_error_t *err = NULL;

		if (hook_run(hooks[i], state_json, &err) < 0)
			fail(err, data);
		agent_error_free(err);
	}
}

/* --- on the loop --------------------------------------------------------------------------- */

struct hooks_job {
	struct loop *loop;
	struct reaper *reaper;
	Grpc__Hook **hooks; /* copies: the caller's spec may go before the job ends */
	size_t n, next;
	char *state;
	enum hooks_policy policy;
	hook_fail_fn fail;
	hooks_done_fn done;
	void *data;
	struct hook_cmd cur_cmd;
	struct spawn_job *cur;
	struct loop_timer *kick;
};

static void job_free(struct hooks_job *j)
{
	j->kick = loop_timer_cancel(j->loop, j->kick);
	hook_cmd_release(&j->cur_cmd);
	for (size_t i = 0; i < j->n; i++)
		if (j->hooks[i])
			grpc__hook__free_unpacked(j->hooks[i], NULL);
	free(j->hooks);
	free(j->state);
	free(j);
}

static void finish(struct hooks_job *j, int r, agent_error_t *err)
{
	j->done(r, err, j->data);
	agent_error_free(err);
	job_free(j);
}

static void step(struct hooks_job *j);

/* A hook failed: reported; the end of the job when the kind stops at the first failure. */
static bool failed(struct hooks_job *j, int r, agent_error_t *err)
{
	if (j->fail)
		j->fail(err, j->data);
	if (j->policy == HOOKS_STOP_AT_FIRST_FAILURE) {
		finish(j, r, err);
		return true;
	}
	agent_error_free(err);
	return false;
}

static void on_hook_done(const struct spawn_result *res, void *data)
{
	struct hooks_job *j = data;
	agent_error_t *err = NULL;

	j->cur = NULL;
	int r = hook_verdict(&j->cur_cmd, res, &err);
	hook_cmd_release(&j->cur_cmd);
	if (r < 0 && failed(j, r, err))
		return;
	step(j);
}

/* Starts the next hook, or ends the job. */
static void step(struct hooks_job *j)
{
	while (j->next < j->n) {
		agent_error_t *err = NULL;
		const Grpc__Hook *h = j->hooks[j->next++];
		int r = hook_cmd_prepare(h, &j->cur_cmd, &err);
		if (r >= 0) {
			r = spawn_exec(j->loop, j->reaper, &j->cur_cmd.cmd, j->state,
				       strlen(j->state), (uint64_t)j->cur_cmd.timeout_s * 1000, 0,
				       on_hook_done, j, &j->cur, &err);
			if (r >= 0)
				return;
			agent_error_wrap(&err, "hook %s", j->cur_cmd.cmd.path);
			hook_cmd_release(&j->cur_cmd);
		}
		if (failed(j, r, err))
			return;
	}
	finish(j, 0, NULL);
}

static void on_kick(struct loop_timer *t, void *data)
{
	struct hooks_job *j = data;

	j->kick = NULL;
	step(j);
}

int hooks_run_async(struct loop *l, struct reaper *r, Grpc__Hook *const *hooks, size_t n,
		    const char *state_json, enum hooks_policy policy, hook_fail_fn fail,
		    hooks_done_fn done, void *data, struct hooks_job **ret_job, agent_error_t **err)
{
	struct hooks_job *j = calloc(1, sizeof(*j));

	if (!j || !done)
		goto nomem;
	j->loop = l;
	j->reaper = r;
	j->policy = policy;
	j->fail = fail;
	j->done = done;
	j->data = data;
	j->state = strdup(state_json ? state_json : "");
	j->hooks = n ? calloc(n, sizeof(*j->hooks)) : NULL;
	if (!j->state || (n && !j->hooks))
		goto nomem;
	j->n = n;
	for (size_t i = 0; i < n; i++)
		if (hooks[i] && !(j->hooks[i] = message_dup(&hooks[i]->base)))
			goto nomem;
	/* done always runs from the loop, never before this returns. */
	j->kick = loop_timer_add(l, loop_now_ms(), on_kick, j);
	if (!j->kick)
		goto nomem;
	if (ret_job)
		*ret_job = j;
	return 0;
nomem:
	if (j && !done) {
		free(j);
		return agent_error_set(err, EINVAL, "hooks: no completion callback");
	}
	if (j)
		job_free(j);
	return agent_error_set(err, ENOMEM, "hooks: out of memory");
}

void hooks_abandon(struct hooks_job *j)
{
	if (!j)
		return;
	spawn_abandon(j->cur); /* killed; its done is never called */
	j->cur = NULL;
	job_free(j);
}
