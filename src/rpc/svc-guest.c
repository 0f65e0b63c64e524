/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest-wide methods: decode, refuse in an inert sandbox what would change the
 * guest, call src/guest/, map the error. Input errors keep INVALID_ARGUMENT;
 * any other failure is INTERNAL, as upstream answers them.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "base/scan.h"
#include "csi.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "guest/guest.h"
#include "loop/spawn.h"
#include "rpc/agent-handlers.h"
#include "rpc/pending.h"
#include "rpc/status.h"
#include "sandbox/container.h"
#include "sandbox/sandbox.h"
#include "sandbox/swap.h"
#include "sandbox/cpumem.h"
#include "sandbox/memagent.h"

static void reply_err(struct rpc_call *call, agent_error_t *err)
{
	if (err && err->status == 0)
		err->status = GRPC_INTERNAL;
	rpc_reply_error(call, err);
}

static void reply_empty(struct rpc_call *call)
{
	Google__Protobuf__Empty empty = GOOGLE__PROTOBUF__EMPTY__INIT;
	rpc_reply(call, &empty.base);
}

/* Methods that change the guest are refused in an inert (fuzzing) sandbox. */
static bool refuse_inert(struct rpc_call *call, const struct sandbox *sb)
{
	if (!sb->opts.inert)
		return false;
	rpc_reply_status(call, GRPC_PERMISSION_DENIED, "this sandbox is inert");
	return true;
}

void rpc_set_guest_date_time(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__SetGuestDateTimeRequest *r = (const Grpc__SetGuestDateTimeRequest *)req;
	agent_error_t *err = NULL;

	if (refuse_inert(call, ctx))
		return;
	if (guest_set_time(r->sec, r->usec, &err) < 0) {
		reply_err(call, err);
		return;
	}
	reply_empty(call);
}

void rpc_reseed_random_dev(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__ReseedRandomDevRequest *r = (const Grpc__ReseedRandomDevRequest *)req;
	agent_error_t *err = NULL;

	if (refuse_inert(call, ctx))
		return;
	if (guest_reseed_random("/dev/random", r->data.data, r->data.len, &err) < 0) {
		reply_err(call, err);
		return;
	}
	reply_empty(call);
}

void rpc_get_guest_details(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__GuestDetailsRequest *r = (const Grpc__GuestDetailsRequest *)req;
	Grpc__GuestDetailsResponse resp = GRPC__GUEST_DETAILS_RESPONSE__INIT;
	Grpc__AgentDetails details = GRPC__AGENT_DETAILS__INIT;
	static char *const storage_handlers[] = {
		"blk", "mmioblk",   "scsi",  "nvdimm",	  "virtio-fs",
		"9p",  "ephemeral", "local", "overlayfs", "watchable-bind"};
	static char *const device_handlers[] = {"blk",	  "mmioblk",  "scsi",
						"nvdimm", "vfio-pci", "vfio-pci-gk"};
	agent_error_t *err = NULL;

	if (r->mem_block_size &&
	    guest_mem_block_size(GUEST_SYSFS_MEMORY, &resp.mem_block_size_bytes, &err) < 0) {
		reply_err(call, err);
		return;
	}
	bool probe = false;
	if (r->mem_hotplug_probe &&
	    guest_mem_probe_supported(GUEST_SYSFS_MEMORY, &probe, &err) < 0) {
		reply_err(call, err);
		return;
	}
	resp.support_mem_hotplug_probe = probe;
	details.version = (char *)AGENT_VERSION;
	details.init_daemon = getpid() == 1;
	details.n_storage_handlers = sizeof(storage_handlers) / sizeof(storage_handlers[0]);
	details.storage_handlers = (char **)storage_handlers;
	details.n_device_handlers = sizeof(device_handlers) / sizeof(device_handlers[0]);
	details.device_handlers = (char **)device_handlers;
	/* Seccomp filters are built and loaded by src/container/seccomp.c. */
	details.supports_seccomp = true;
	resp.agent_details = &details;
	rpc_reply(call, &resp.base);
}

void rpc_mem_hotplug_by_probe(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__MemHotplugByProbeRequest *r = (const Grpc__MemHotplugByProbeRequest *)req;
	agent_error_t *err = NULL;

	if (refuse_inert(call, ctx))
		return;
	if (guest_mem_probe(GUEST_SYSFS_MEMORY, r->memhotplugprobeaddr, r->n_memhotplugprobeaddr,
			    &err) < 0) {
		reply_err(call, err);
		return;
	}
	reply_empty(call);
}

void rpc_copy_file(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__CopyFileRequest *r = (const Grpc__CopyFileRequest *)req;
	agent_error_t *err = NULL;

	if (refuse_inert(call, ctx))
		return;
	struct guest_copy c = {.path = r->path,
			       .file_size = r->file_size,
			       .file_mode = r->file_mode,
			       .dir_mode = r->dir_mode,
			       .uid = r->uid,
			       .gid = r->gid,
			       .offset = r->offset,
			       .data = r->data.data,
			       .len = r->data.len};
	if (guest_copy_file(GUEST_COPY_ROOT, &c, &err) < 0) {
		reply_err(call, err);
		return;
	}
	reply_empty(call);
}

void rpc_get_metrics(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	Grpc__Metrics resp = GRPC__METRICS__INIT;
	agent_error_t *err = NULL;
	char *text = NULL;

	if (guest_metrics("/proc", &text, &err) < 0) {
		reply_err(call, err);
		return;
	}
	resp.metrics = text;
	rpc_reply(call, &resp.base);
	free(text);
}

void rpc_add_swap_path(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__AddSwapPathRequest *r = (const Grpc__AddSwapPathRequest *)req;
	agent_error_t *err = NULL;

	if (refuse_inert(call, ctx))
		return;
	if (guest_swapon(r->path, &err) < 0) {
		reply_err(call, err);
		return;
	}
	reply_empty(call);
}

/* A deferred reply: the disk may still be on its way (agent.hotplug_timeout). */
void rpc_add_swap(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__AddSwapRequest *r = (const Grpc__AddSwapRequest *)req;
	agent_error_t *err = NULL;
	struct rpc_pending *pd;

	if (refuse_inert(call, ctx))
		return;
	pd = rpc_pending_new(call);
	if (pd && sandbox_add_swap(ctx, r->pcipath, r->n_pcipath, rpc_pending_done, pd, &err) < 0)
		rpc_pending_fail(pd, err);
}

void rpc_get_volume_stats(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__VolumeStatsRequest *r = (const Grpc__VolumeStatsRequest *)req;
	Grpc__VolumeStatsResponse resp = GRPC__VOLUME_STATS_RESPONSE__INIT;
	Grpc__VolumeUsage bytes = GRPC__VOLUME_USAGE__INIT, inodes = GRPC__VOLUME_USAGE__INIT;
	Grpc__VolumeCondition cond = GRPC__VOLUME_CONDITION__INIT;
	Grpc__VolumeUsage *usage[] = {&bytes, &inodes};
	struct guest_volume_usage u;
	agent_error_t *err = NULL;

	if (guest_volume_stats(GUEST_VOLUME_ROOT, r->volume_guest_path, &u, &err) < 0) {
		reply_err(call, err);
		return;
	}
	bytes.unit = GRPC__VOLUME_USAGE__UNIT__BYTES;
	bytes.total = u.bytes_total;
	bytes.available = u.bytes_available;
	bytes.used = u.bytes_used;
	inodes.unit = GRPC__VOLUME_USAGE__UNIT__INODES;
	inodes.total = u.inodes_total;
	inodes.available = u.inodes_available;
	inodes.used = u.inodes_used;
	cond.abnormal = false;
	cond.message = (char *)"OK";
	resp.usage = usage;
	resp.n_usage = 2;
	resp.volume_condition = &cond;
	rpc_reply(call, &resp.base);
}

#define RESIZE_TIMEOUT_MS 120000

struct resize_call {
	struct rpc_pending *pd;
	struct guest_resize rz;
};

/* In the child: the resize, and on failure "<status> <message>" on stderr. */
static int grow_in_child(void *arg)
{
	struct resize_call *rc = arg;
	agent_error_t *err = NULL;

	if (guest_volume_grow(&rc->rz, &err) == 0)
		return 0;
	dprintf(2, "%d %s", rpc_status_from_error(err), err->msg);
	return 1;
}

static void grown(const struct spawn_result *res, void *data)
{
	struct resize_call *rc = data;
	agent_error_t *err = NULL;
	int code = GRPC_INTERNAL, off = 0;
	unsigned long long c;
	const char *p;

	if (res->timed_out)
		agent_error_set(&err, ETIMEDOUT, "resizing %s: no end after %d s", rc->rz.path,
				RESIZE_TIMEOUT_MS / 1000);
	else if (res->status != 0) {
		/* "<status> <message>" from grow_in_child; anything else is INTERNAL. */
		if ((p = scan_ull(res->err, &c)) && c > 0 && c <= 16)
			code = (int)c, off = (int)(scan_space(p) - res->err);
		agent_error_set_status(&err, code, EIO, "%s",
				       res->err[off] ? res->err + off : "resize failed");
	}
	rpc_pending_done(err ? -EIO : 0, err, rc->pd);
	free(rc);
}

/*
 * Online growth of an ext4 volume after the host grew its disk (upstream: always
 * UNIMPLEMENTED). Checked at once; the resize runs in a child, off the loop.
 */
void rpc_resize_volume(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__ResizeVolumeRequest *r = (const Grpc__ResizeVolumeRequest *)req;
	struct sandbox *sb = ctx;
	agent_error_t *err = NULL;
	struct resize_call *rc;

	if (refuse_inert(call, ctx))
		return;
	rc = calloc(1, sizeof(*rc));
	if (!rc) {
		rpc_reply_status(call, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	if (guest_volume_resize_check(GUEST_VOLUME_ROOT, r->volume_guest_path, r->size, &rc->rz,
				      &err) < 0) {
		free(rc);
		reply_err(call, err);
		return;
	}
	rc->pd = rpc_pending_new(call);
	if (!rc->pd) {
		free(rc);
		return;
	}
	if (spawn_call(sb->loop, sb->reaper, "resize", grow_in_child, rc, RESIZE_TIMEOUT_MS, 4096,
		       grown, rc, NULL, &err) < 0) {
		rpc_pending_fail(rc->pd, err);
		free(rc);
	}
}

/* A deferred reply: CPU rounds are spaced on the loop (wait(1) is moot). */
void rpc_online_cpu_mem(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__OnlineCPUMemRequest *r = (const Grpc__OnlineCPUMemRequest *)req;
	agent_error_t *err = NULL;
	struct rpc_pending *pd;

	if (refuse_inert(call, ctx))
		return;
	pd = rpc_pending_new(call);
	if (pd &&
	    sandbox_online_cpu_mem(ctx, r->nb_cpus, r->cpu_only, rpc_pending_done, pd, &err) < 0)
		rpc_pending_fail(pd, err);
}

void rpc_remove_stale_virtiofs_share_mounts(struct rpc_call *call, const ProtobufCMessage *req,
					    void *ctx)
{
	agent_error_t *err = NULL;

	if (guest_stat_share_mounts("/proc/self/mountinfo", GUEST_COPY_ROOT, NULL, &err) < 0) {
		reply_err(call, err);
		return;
	}
	reply_empty(call);
}

void rpc_get_diagnostic_data(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	const Grpc__GetDiagnosticDataRequest *r = (const Grpc__GetDiagnosticDataRequest *)req;
	Grpc__GetDiagnosticDataResponse resp = GRPC__GET_DIAGNOSTIC_DATA_RESPONSE__INIT;
	agent_error_t *err = NULL;
	char *data = NULL;

	if (strcmp(r->log_type, "termination_log") != 0) {
		rpc_reply_status(call, GRPC_INVALID_ARGUMENT,
				 "unsupported diagnostic log_type: %.64s", r->log_type);
		return;
	}
	struct container *c = container_find(ctx, r->container_id);
	if (!c) {
		rpc_reply_status(call, GRPC_INTERNAL, "container %.128s not found",
				 r->container_id);
		return;
	}
	if (guest_termination_log(c->spec, &data, &err) < 0) {
		agent_error_wrap(&err, "termination log of %s", r->container_id);
		reply_err(call, err);
		return;
	}
	resp.data = data;
	rpc_reply(call, &resp.base);
	free(data);
}

static void compact_update_from(const Grpc__MemAgentCompactConfig *m,
				struct memagent_compact_update *u)
{
	*u = (struct memagent_compact_update){0};
#define TAKE(name, NAME)                                                                     \
	do {                                                                                 \
		if (m->_##name##_case == GRPC__MEM_AGENT_COMPACT_CONFIG___##NAME##_##NAME) { \
			u->has_##name = true;                                                \
			u->name = m->name;                                                   \
		}                                                                            \
	} while (0)
	TAKE(disabled, DISABLED);
	TAKE(period_secs, PERIOD_SECS);
	TAKE(period_psi_percent_limit, PERIOD_PSI_PERCENT_LIMIT);
	TAKE(compact_psi_percent_limit, COMPACT_PSI_PERCENT_LIMIT);
	TAKE(compact_sec_max, COMPACT_SEC_MAX);
	TAKE(compact_order, COMPACT_ORDER);
	TAKE(compact_threshold, COMPACT_THRESHOLD);
	TAKE(compact_force_times, COMPACT_FORCE_TIMES);
#undef TAKE
}

static void memcg_update_from(const Grpc__MemAgentMemcgConfig *m, struct memagent_memcg_update *u)
{
	*u = (struct memagent_memcg_update){0};
#define TAKE(name, NAME)                                                                   \
	do {                                                                               \
		if (m->_##name##_case == GRPC__MEM_AGENT_MEMCG_CONFIG___##NAME##_##NAME) { \
			u->has_##name = true;                                              \
			u->name = m->name;                                                 \
		}                                                                          \
	} while (0)
	TAKE(disabled, DISABLED);
	TAKE(swap, SWAP);
	TAKE(swappiness_max, SWAPPINESS_MAX);
	TAKE(period_secs, PERIOD_SECS);
	TAKE(period_psi_percent_limit, PERIOD_PSI_PERCENT_LIMIT);
	TAKE(eviction_psi_percent_limit, EVICTION_PSI_PERCENT_LIMIT);
	TAKE(eviction_run_aging_count_min, EVICTION_RUN_AGING_COUNT_MIN);
#undef TAKE
}

/*
 * MemAgentMemcgSet and MemAgentCompactSet (told apart by the request type). Without
 * agent.mem_agent_enable: INTERNAL "mem-agent is disabled", as upstream.
 */
void rpc_mem_agent_set(struct rpc_call *call, const ProtobufCMessage *req, void *ctx)
{
	struct sandbox *sb = ctx;
	agent_error_t *err = NULL;
	int r;

	if (!sb->memagent) {
		rpc_reply_status(call, GRPC_INTERNAL, "mem-agent is disabled");
		return;
	}
	if (refuse_inert(call, sb))
		return;
	if (req->descriptor == &grpc__mem_agent_compact_config__descriptor) {
		struct memagent_compact_update u;
		compact_update_from((const Grpc__MemAgentCompactConfig *)req, &u);
		r = memagent_compact_set(sb->memagent, &u, &err);
	} else {
		struct memagent_memcg_update u;
		memcg_update_from((const Grpc__MemAgentMemcgConfig *)req, &u);
		r = memagent_memcg_set(sb->memagent, &u, &err);
	}
	if (r < 0) {
		reply_err(call, err);
		return;
	}
	reply_empty(call);
}
