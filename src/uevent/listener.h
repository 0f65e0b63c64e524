/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The uevent listener: a NETLINK_KOBJECT_UEVENT socket in the agent's loop,
 * a bounded cache of devices seen (keyed by DEVPATH, "remove" drops the
 * entry) and a bounded table of waiters, each with a deadline.
 *
 * A wait first looks at the cache and then at sysfs, so a device that
 * appeared before the wait (or before the agent) is found at once; only then
 * is it armed. The agent is single-threaded, so nothing can slip between the
 * look and the arming: an event sent meanwhile sits in the socket until the
 * loop reads it. The callback always runs from the loop, never from inside
 * uevent_wait(), exactly once, unless the wait is cancelled first.
 */
#ifndef AGENT_UEVENT_LISTENER_H
#define AGENT_UEVENT_LISTENER_H

#include <stdint.h>

#include "base/error.h"
#include "loop/loop.h"
#include "uevent.h"

#define UEVENT_MAX_WAITERS 256
#define UEVENT_CACHE_SIZE 256
#define UEVENT_DEFAULT_SYSROOT "/sys"

struct uevent_listener;
struct uevent_waiter;

enum {
	/* On "add" of a memory block, write 1 to <sysroot><DEVPATH>/online if it reads 0. */
	UEVENT_LISTENER_ONLINE_MEMORY = 1u << 0,
};

struct uevent_stats {
	uint64_t received; /* datagrams read */
	uint64_t accepted; /* parsed kernel events */
	uint64_t dropped_sender; /* not from the kernel (sender port != 0) */
	uint64_t dropped_parse; /* malformed or truncated */
	uint64_t overflows; /* ENOBUFS: events lost, waiters re-checked against sysfs */
	uint64_t waits_fired;
	uint64_t waits_timed_out;
	uint64_t memory_onlined;
};

/*
 * Opens the socket (SOCK_CLOEXEC|SOCK_NONBLOCK, group 1, large SO_RCVBUF) and
 * registers it in the loop. sysroot NULL means "/sys". flags: UEVENT_LISTENER_*.
 */
int uevent_listener_new(struct loop *loop, const char *sysroot, unsigned flags,
			struct uevent_listener **ret, agent_error_t **err);
/* Closes the socket and drops every waiter without calling it. Returns NULL. */
struct uevent_listener *uevent_listener_free(struct uevent_listener *l);

/*
 * Synchronous lookup (cache, then sysfs), no waiting: 1 and *ret_ev filled
 * when a present device matches, 0 when none does, or -errno.
 */
int uevent_find(struct uevent_listener *l, const struct uevent_match *m, struct uevent *ret_ev,
		agent_error_t **err);

/*
 * Called once: with the matching event (ev != NULL, err == NULL; ev is only
 * valid during the call), or on timeout with ev == NULL and err set (errnum
 * ETIMEDOUT, which the RPC layer maps to DEADLINE_EXCEEDED; the message is
 * "Timeout after <N> ms waiting for uevent: <what>"). The callback owns err
 * and must free it. After it returns the waiter handle is gone. It may call
 * uevent_wait() and uevent_wait_cancel() (for other waiters).
 */
typedef void (*uevent_wait_fn)(const struct uevent *ev, agent_error_t *err, void *userdata);

/*
 * Waits up to timeout_ms for a device matching m (strings copied). A device
 * already present completes the wait on the next loop turn. *ret_waiter (may
 * be NULL) is the handle for uevent_wait_cancel(). 0, or -ENOSPC when
 * UEVENT_MAX_WAITERS are pending, -EINVAL for a match whose strings are too
 * long, -errno when the sysfs scan fails.
 */
int uevent_wait(struct uevent_listener *l, const struct uevent_match *m, uint64_t timeout_ms,
		uevent_wait_fn fn, void *userdata, struct uevent_waiter **ret_waiter,
		agent_error_t **err);

/* Drops a pending wait (its client went away); the callback will not run. NULL-safe. Returns NULL.
 */
struct uevent_waiter *uevent_wait_cancel(struct uevent_listener *l, struct uevent_waiter *w);

unsigned uevent_listener_pending(const struct uevent_listener *l);
void uevent_listener_stats(const struct uevent_listener *l, struct uevent_stats *ret);
/* The socket's netlink port id (tests send to it to check non-kernel senders are dropped). */
uint32_t uevent_listener_portid(const struct uevent_listener *l);

/*
 * Handles one datagram as if the kernel had sent it: parse, cache, complete
 * waiters. What the socket reader calls after its sender check; exposed for
 * tests and fuzzers. 0, or -EINVAL/-E2BIG for a rejected datagram.
 */
int uevent_listener_process(struct uevent_listener *l, const void *buf, size_t len);

#endif
