/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the uevent parser, the sysfs reader and the listener. */
#ifndef AGENT_UEVENT_INTERNAL_H
#define AGENT_UEVENT_INTERNAL_H

#include "uevent.h"

/* Bits of the known keys, to refuse duplicates. */
enum {
	UEVENT_KEY_ACTION = 1u << 0,
	UEVENT_KEY_DEVPATH = 1u << 1,
	UEVENT_KEY_SUBSYSTEM = 1u << 2,
	UEVENT_KEY_DEVNAME = 1u << 3,
	UEVENT_KEY_DEVTYPE = 1u << 4,
	UEVENT_KEY_INTERFACE = 1u << 5,
	UEVENT_KEY_DRIVER = 1u << 6,
	UEVENT_KEY_SEQNUM = 1u << 7,
	UEVENT_KEY_MAJOR = 1u << 8,
	UEVENT_KEY_MINOR = 1u << 9,
};

void uevent_init(struct uevent *ev);
/*
 * Stores one KEY=VAL pair (not NUL-terminated, lengths given). Unknown keys
 * are ignored (returns 0). *seen collects UEVENT_KEY_* bits. 0 or -EINVAL/-E2BIG.
 */
int uevent_set_pair(struct uevent *ev, const char *key, size_t klen, const char *val, size_t vlen,
		    unsigned *seen, agent_error_t **err);
/* DEVPATH sanity: starts with '/', no empty, "." or ".." component, no trailing '/'. */
bool uevent_devpath_ok(const char *p, size_t len);

#endif
