// SPDX-License-Identifier: Apache-2.0
#include "sandbox/devwait.h"

#include <stdio.h>
#include <string.h>

#include "device/devmatch.h"
#include "base/status.h"
#include "sandbox/sandbox.h"
#include "uevent/listener.h"

struct devwait_one {
	struct devwait *w;
	size_t index;
	struct uevent_waiter *waiter;
};

struct devwait {
	struct sandbox *sb;
	devwait_fn fn;
	void *ctx;
	size_t n, pending;
	char **devs;
	struct devwait_one *ones;
};

static void devwait_free(struct devwait *w)
{
	for (size_t i = 0; i < w->n; i++) {
		if (w->ones[i].waiter)
			uevent_wait_cancel(w->sb->uevents, w->ones[i].waiter);
		free(w->devs[i]);
	}
	free(w->ones);
	free(w->devs);
	free(w);
}

void devwait_cancel(struct devwait *w)
{
	if (w)
		devwait_free(w);
}

static void on_device(const struct uevent *ev, agent_error_t *err, void *data)
{
	struct devwait_one *one = data;
	struct devwait *w = one->w;

	one->waiter = NULL; /* gone once this returns */
	if (!ev) {
		if (err && !err->status && err->errnum == ETIMEDOUT)
			err->status = GRPC_DEADLINE_EXCEEDED;
		devwait_fn fn = w->fn;
		void *ctx = w->ctx;
		devwait_free(w);
		fn(-(err ? err->errnum : ETIMEDOUT), err, NULL, ctx);
		return;
	}
	if (asprintf(&w->devs[one->index], "/dev/%s", ev->devname) < 0)
		w->devs[one->index] = NULL;
	if (--w->pending > 0)
		return;
	w->fn(0, NULL, w->devs, w->ctx);
	devwait_free(w);
}

int devwait_start(struct sandbox *sb, struct dev_match *const *matches, size_t n, devwait_fn fn,
		  void *ctx, struct devwait **ret, agent_error_t **err)
{
	struct devwait *w = NULL;
	int r;

	*ret = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!matches[i])
			continue;
		if (!sb->uevents) {
			r = agent_error_set_status(err, GRPC_UNAVAILABLE, ENODEV,
						   "no uevent listener to wait for %s",
						   matches[i]->m.what);
			goto fail;
		}
		if (!w) {
			w = calloc(1, sizeof(*w));
			if (w) {
				w->devs = calloc(n, sizeof(char *));
				w->ones = calloc(n, sizeof(*w->ones));
			}
			if (!w || !w->devs || !w->ones) {
				if (w) {
					free(w->devs);
					free(w->ones);
					free(w);
				}
				return agent_error_set(err, ENOMEM, "out of memory");
			}
			w->sb = sb;
			w->fn = fn;
			w->ctx = ctx;
			w->n = n;
		}
		w->ones[i].w = w;
		w->ones[i].index = i;
		r = uevent_wait(sb->uevents, &matches[i]->m, sb->opts.hotplug_timeout_ms, on_device,
				&w->ones[i], &w->ones[i].waiter, err);
		if (r < 0)
			goto fail;
		w->pending++;
	}
	*ret = w;
	return 0;
fail:
	if (w)
		devwait_free(w);
	return r;
}
