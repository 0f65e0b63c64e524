/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel uevents (NETLINK_KOBJECT_UEVENT): one parsed event, the parser of a
 * raw datagram, the reader of a device's sysfs `uevent` file (which gives the
 * same struct for a device that is already present), and match predicates.
 * Every field is bounded; a value that does not fit rejects the whole event
 * rather than truncating it (a cut DEVPATH would match the wrong device).
 */
#ifndef AGENT_UEVENT_UEVENT_H
#define AGENT_UEVENT_UEVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* The kernel's env buffer is 2 KiB (UEVENT_BUFFER_SIZE) plus the "action@devpath" header. */
#define UEVENT_MSG_MAX 8192
#define UEVENT_DEVPATH_MAX 512
#define UEVENT_NAME_MAX 256
#define UEVENT_WORD_MAX 64

enum uevent_action {
	UEVENT_ACTION_UNKNOWN = 0,
	UEVENT_ACTION_ADD,
	UEVENT_ACTION_REMOVE,
	UEVENT_ACTION_CHANGE,
	UEVENT_ACTION_MOVE,
	UEVENT_ACTION_ONLINE,
	UEVENT_ACTION_OFFLINE,
	UEVENT_ACTION_BIND,
	UEVENT_ACTION_UNBIND,
};
#define UEVENT_ACTION_BIT(a) (1u << (a))
/* What an action mask of 0 means: every action that says "the device is there". */
#define UEVENT_ACTIONS_PRESENT                                                             \
	(UEVENT_ACTION_BIT(UEVENT_ACTION_ADD) | UEVENT_ACTION_BIT(UEVENT_ACTION_CHANGE) |  \
	 UEVENT_ACTION_BIT(UEVENT_ACTION_MOVE) | UEVENT_ACTION_BIT(UEVENT_ACTION_ONLINE) | \
	 UEVENT_ACTION_BIT(UEVENT_ACTION_BIND))

struct uevent {
	enum uevent_action action;
	char devpath[UEVENT_DEVPATH_MAX]; /* "/devices/...", relative to the sysfs root */
	char subsystem[UEVENT_WORD_MAX];
	char devname[UEVENT_NAME_MAX]; /* relative to /dev: "vda", "vfio/3"; "" if none */
	char devtype[UEVENT_WORD_MAX];
	char interface[UEVENT_WORD_MAX]; /* network interface name, "" if none */
	char driver[UEVENT_WORD_MAX];
	uint64_t seqnum; /* 0 for an event read from sysfs */
	int major; /* -1 when absent */
	int minor; /* -1 when absent */
	bool synthesized; /* built from sysfs (device already present), not received */
};

const char *uevent_action_name(enum uevent_action a);
enum uevent_action uevent_action_from_name(const char *s, size_t len);

/*
 * Parses one kernel datagram "ACTION@DEVPATH\0KEY=VAL\0...". Requires ACTION,
 * DEVPATH and SUBSYSTEM, a header that agrees with them, a DEVPATH without
 * "." or ".." components, no duplicate known key. 0, or -EINVAL / -E2BIG.
 */
int uevent_parse(const void *buf, size_t len, struct uevent *ret, agent_error_t **err);

/*
 * Builds the event a present device would have sent: `<sysroot><devpath>/uevent`
 * (KEY=VAL lines) plus SUBSYSTEM from the `subsystem` link, action ADD,
 * synthesized = true. 0, -ENOENT when the device is not there, or -errno.
 */
int uevent_from_sysfs(const char *sysroot, const char *devpath, struct uevent *ret,
		      agent_error_t **err);

struct uevent_match;
typedef bool (*uevent_match_fn)(const struct uevent_match *m, const struct uevent *ev);

/*
 * A predicate over events. Every set (non-NULL, non-empty) field must hold.
 * Strings are copied when a wait is armed, so they may be temporaries.
 */
struct uevent_match {
	const char *what; /* names the device in errors ("virtio-blk disk at PCI path 02/01") */
	const char *subsystem; /* exact */
	const char *devpath; /* exact */
	const char *devpath_prefix; /* DEVPATH starts with */
	const char *devpath_suffix; /* DEVPATH ends with */
	const char *devpath_contains; /* DEVPATH contains */
	const char *devname; /* exact, relative to /dev */
	unsigned actions; /* UEVENT_ACTION_BIT() mask; 0 = UEVENT_ACTIONS_PRESENT */
	bool need_devname; /* DEVNAME must be non-empty */
	bool need_interface; /* INTERFACE must be non-empty */
	/* Extra test, run last; it sees the (copied) match, so it can read arg and the strings. */
	uevent_match_fn fn;
	const char *arg; /* free-form string for fn */
};

bool uevent_match_test(const struct uevent_match *m, const struct uevent *ev);
/* A readable description: m->what, or one built from the fields. Always NUL-terminated. */
void uevent_match_describe(const struct uevent_match *m, char *buf, size_t len);

/*
 * Looks for a present device that matches, under <sysroot>: m->devpath is read
 * directly; otherwise <sysroot>/class/<subsystem>/ and <sysroot>/bus/<subsystem>/devices/
 * (or, with no subsystem, /dev/block, /dev/char and /class/net) are walked.
 * Only meaningful for matches that accept ADD (a present device reads as "add").
 * 1 and *ret filled when found, 0 when not, or -errno.
 */
int uevent_scan_sysfs(const char *sysroot, const struct uevent_match *m, struct uevent *ret,
		      agent_error_t **err);

#endif
