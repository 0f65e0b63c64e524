// SPDX-License-Identifier: Apache-2.0
#include "storage/mkfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "loop/spawn.h"
#include "base/status.h"
#include "storage/storage-internal.h"

#define MKFS_MAX_OUTPUT 8192

struct storage_mkfs {
	struct loop *loop;
	struct reaper *reaper;
	char **devs; /* the caller's devs, copied */
	char **todo; /* device nodes still to format */
	size_t n, n_todo, next;
	struct spawn_job *job;
	storage_mkfs_fn fn;
	void *ctx;
};

bool storage_wants_mkfs(const Grpc__Storage *s)
{
	return storage_has_driver_option(s, "create_filesystem");
}

static bool in_table(const struct storage_table *t, const char *mount_point)
{
	for (const struct storage_entry *e = t->first; e; e = e->next)
		if (!strcmp(e->mount_point, mount_point))
			return true;
	return false;
}

static void mkfs_free(struct storage_mkfs *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->devs[i]);
	for (size_t i = 0; i < m->n_todo; i++)
		free(m->todo[i]);
	free(m->devs);
	free(m->todo);
	free(m);
}

void storage_mkfs_cancel(struct storage_mkfs *m)
{
	if (!m)
		return;
	if (m->job)
		spawn_abandon(m->job);
	mkfs_free(m);
}

static void finish(struct storage_mkfs *m, int r, agent_error_t *err)
{
	storage_mkfs_fn fn = m->fn;
	void *ctx = m->ctx;
	char **devs = m->devs;
	size_t n = m->n;

	/* The copy outlives the record, for the call. */
	m->devs = NULL;
	m->n = 0;
	mkfs_free(m);
	fn(r, err, devs, ctx);
	for (size_t i = 0; i < n; i++)
		free(devs[i]);
	free(devs);
}

static int run_next(struct storage_mkfs *m, agent_error_t **err);

static void on_exit_status(const struct spawn_result *res, void *data)
{
	struct storage_mkfs *m = data;
	const char *dev = m->todo[m->next];
	agent_error_t *err = NULL;
	int r = 0;

	m->job = NULL;
	if (res->timed_out)
		r = agent_error_set(&err, ETIMEDOUT, "mkfs.ext4 %s: no end after %d s", dev,
				    STORAGE_MKFS_TIMEOUT_MS / 1000);
	else if (!WIFEXITED(res->status) || WEXITSTATUS(res->status) != 0)
		r = agent_error_set(&err, EIO, "mkfs.ext4 failed for %s: status %d: %.1024s", dev,
				    WIFEXITED(res->status) ? WEXITSTATUS(res->status)
							   : 128 + WTERMSIG(res->status),
				    res->err && res->err[0] ? res->err
							    : (res->out ? res->out : ""));
	if (r >= 0) {
		m->next++;
		r = run_next(m, &err);
		if (r > 0)
			return; /* the next one runs */
	}
	finish(m, r < 0 ? r : 0, err);
}

/* 1: a mkfs was started; 0: all done; <0: error. */
static int run_next(struct storage_mkfs *m, agent_error_t **err)
{
	char tool[64];

	if (m->next >= m->n_todo)
		return 0;
	if (!spawn_find_tool("mkfs.ext4", tool, sizeof(tool)))
		return agent_error_set_status(err, GRPC_FAILED_PRECONDITION, ENOENT,
					      "create_filesystem: the guest has no mkfs.ext4");
	/* Ephemeral disks made for the pod: no journal, no reserve, few inodes. */
	char *argv[] = {tool, "-F",	"-q", "-O",  "^has_journal",   "-m", "0",
			"-i", "163840", "-I", "128", m->todo[m->next], NULL};
	int r = spawn_run(m->loop, m->reaper, argv, NULL, 0, STORAGE_MKFS_TIMEOUT_MS,
			  MKFS_MAX_OUTPUT, on_exit_status, m, &m->job, err);
	return r < 0 ? r : 1;
}

int storage_mkfs_start(const struct storage_table *t, struct loop *l, struct reaper *rp,
		       Grpc__Storage **st, size_t n, char *const *devs, size_t n_devs,
		       storage_mkfs_fn fn, void *ctx, struct storage_mkfs **ret,
		       agent_error_t **err)
{
	struct storage_mkfs *m;
	int r;

	*ret = NULL;
	size_t want = 0;
	for (size_t i = 0; i < n; i++)
		want += storage_wants_mkfs(st[i]) && !in_table(t, st[i]->mount_point);
	if (want == 0)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m)
		return agent_error_set(err, ENOMEM, "out of memory");
	m->loop = l;
	m->reaper = rp;
	m->fn = fn;
	m->ctx = ctx;
	if (!devs)
		n_devs = 0;
	m->devs = calloc(n_devs + 1, sizeof(char *));
	m->todo = calloc(want, sizeof(char *));
	if (!m->devs || !m->todo)
		goto oom;
	m->n = n_devs;
	for (size_t i = 0; i < n_devs; i++)
		if (devs[i] && !(m->devs[i] = strdup(devs[i])))
			goto oom;
	for (size_t i = 0; i < n; i++) {
		if (!storage_wants_mkfs(st[i]) || in_table(t, st[i]->mount_point))
			continue;
		const char *node = i < n_devs && devs[i] ? devs[i] : st[i]->source;
		if (strncmp(node, "/dev/", 5) != 0 || strstr(node, "/..")) {
			mkfs_free(m);
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "storages[%zu]: create_filesystem on \"%s\", "
						      "not a device node",
						      i, node);
		}
		if (!(m->todo[m->n_todo] = strdup(node)))
			goto oom;
		m->n_todo++;
	}
	r = run_next(m, err);
	if (r < 0) {
		mkfs_free(m);
		return r;
	}
	*ret = m;
	return 0;
oom:
	mkfs_free(m);
	return agent_error_set(err, ENOMEM, "out of memory");
}
