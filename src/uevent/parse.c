/* SPDX-License-Identifier: Apache-2.0 */
/* The kernel uevent datagram parser: untrusted-shaped bytes in, a bounded struct out. */
#include <errno.h>
#include <string.h>

#include "internal.h"

static const char *const action_names[] = {
	[UEVENT_ACTION_UNKNOWN] = "unknown", [UEVENT_ACTION_ADD] = "add",
	[UEVENT_ACTION_REMOVE] = "remove",   [UEVENT_ACTION_CHANGE] = "change",
	[UEVENT_ACTION_MOVE] = "move",	     [UEVENT_ACTION_ONLINE] = "online",
	[UEVENT_ACTION_OFFLINE] = "offline", [UEVENT_ACTION_BIND] = "bind",
	[UEVENT_ACTION_UNBIND] = "unbind",
};

const char *uevent_action_name(enum uevent_action a)
{
	if ((unsigned)a >= ARRAY_SIZE(action_names))
		return "unknown";
	return action_names[a];
}

enum uevent_action uevent_action_from_name(const char *s, size_t len)
{
	for (size_t i = 1; i < ARRAY_SIZE(action_names); i++)
		if (strlen(action_names[i]) == len && memcmp(action_names[i], s, len) == 0)
			return (enum uevent_action)i;
	return UEVENT_ACTION_UNKNOWN;
}

void uevent_init(struct uevent *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->major = -1;
	ev->minor = -1;
}

bool uevent_devpath_ok(const char *p, size_t len)
{
	if (len < 2 || p[0] != '/' || p[len - 1] == '/')
		return false;
	size_t i = 1;
	while (i < len) {
		size_t j = i;
		while (j < len && p[j] != '/')
			j++;
		size_t n = j - i;
		if (n == 0 || (n == 1 && p[i] == '.') || (n == 2 && p[i] == '.' && p[i + 1] == '.'))
			return false;
		i = j + 1;
	}
	for (size_t k = 0; k < len; k++)
		if ((unsigned char)p[k] < 0x20 || p[k] == 0x7f)
			return false;
	return true;
}

static int parse_u64(const char *s, size_t len, uint64_t max, uint64_t *ret)
{
	if (len == 0 || len > 20)
		return -EINVAL;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

static int copy_val(char *dst, size_t cap, const char *val, size_t vlen, const char *key,
		    agent_error_t **err)
{
	if (vlen >= cap)
		return agent_error_set(err, E2BIG, "uevent %s value too long (%zu bytes)", key,
				       vlen);
	if (memchr(val, '\0', vlen))
		return agent_error_set(err, EINVAL, "uevent %s value holds a NUL", key);
	memcpy(dst, val, vlen);
	dst[vlen] = '\0';
	return 0;
}

#define KEY_IS(lit) (klen == sizeof(lit) - 1 && memcmp(key, lit, klen) == 0)

int uevent_set_pair(struct uevent *ev, const char *key, size_t klen, const char *val, size_t vlen,
		    unsigned *seen, agent_error_t **err)
{
	unsigned bit;
	if (KEY_IS("ACTION"))
		bit = UEVENT_KEY_ACTION;
	else if (KEY_IS("DEVPATH"))
		bit = UEVENT_KEY_DEVPATH;
	else if (KEY_IS("SUBSYSTEM"))
		bit = UEVENT_KEY_SUBSYSTEM;
	else if (KEY_IS("DEVNAME"))
		bit = UEVENT_KEY_DEVNAME;
	else if (KEY_IS("DEVTYPE"))
		bit = UEVENT_KEY_DEVTYPE;
	else if (KEY_IS("INTERFACE"))
		bit = UEVENT_KEY_INTERFACE;
	else if (KEY_IS("DRIVER"))
		bit = UEVENT_KEY_DRIVER;
	else if (KEY_IS("SEQNUM"))
		bit = UEVENT_KEY_SEQNUM;
	else if (KEY_IS("MAJOR"))
		bit = UEVENT_KEY_MAJOR;
	else if (KEY_IS("MINOR"))
		bit = UEVENT_KEY_MINOR;
	else
		return 0;
	if (*seen & bit)
		return agent_error_set(err, EINVAL, "uevent key %.*s repeated", (int)klen, key);
	*seen |= bit;

	uint64_t v;
	switch (bit) {
	case UEVENT_KEY_ACTION:
		ev->action = uevent_action_from_name(val, vlen);
		if (ev->action == UEVENT_ACTION_UNKNOWN)
			return agent_error_set(err, EINVAL, "uevent has an unknown ACTION");
		return 0;
	case UEVENT_KEY_DEVPATH:
		if (vlen >= sizeof(ev->devpath))
			return agent_error_set(err, E2BIG, "uevent DEVPATH too long (%zu bytes)",
					       vlen);
		if (!uevent_devpath_ok(val, vlen))
			return agent_error_set(err, EINVAL, "uevent DEVPATH is not a clean path");
		return copy_val(ev->devpath, sizeof(ev->devpath), val, vlen, "DEVPATH", err);
	case UEVENT_KEY_SUBSYSTEM:
		if (vlen == 0 || memchr(val, '/', vlen))
			return agent_error_set(err, EINVAL, "uevent SUBSYSTEM is not a name");
		return copy_val(ev->subsystem, sizeof(ev->subsystem), val, vlen, "SUBSYSTEM", err);
	case UEVENT_KEY_DEVNAME:
		/* Relative to /dev; a leading '/' or a ".." would escape it. */
		if (vlen > 0 && (val[0] == '/' || memmem(val, vlen, "..", 2)))
			return agent_error_set(err, EINVAL, "uevent DEVNAME escapes /dev");
		return copy_val(ev->devname, sizeof(ev->devname), val, vlen, "DEVNAME", err);
	case UEVENT_KEY_DEVTYPE:
		return copy_val(ev->devtype, sizeof(ev->devtype), val, vlen, "DEVTYPE", err);
	case UEVENT_KEY_INTERFACE:
		if (memchr(val, '/', vlen))
			return agent_error_set(err, EINVAL, "uevent INTERFACE holds a '/'");
		return copy_val(ev->interface, sizeof(ev->interface), val, vlen, "INTERFACE", err);
	case UEVENT_KEY_DRIVER:
		return copy_val(ev->driver, sizeof(ev->driver), val, vlen, "DRIVER", err);
	case UEVENT_KEY_SEQNUM:
		if (parse_u64(val, vlen, UINT64_MAX, &v) < 0)
			return agent_error_set(err, EINVAL, "uevent SEQNUM is not a number");
		ev->seqnum = v;
		return 0;
	case UEVENT_KEY_MAJOR:
	case UEVENT_KEY_MINOR:
		if (parse_u64(val, vlen, 0x7fffffff, &v) < 0)
			return agent_error_set(err, EINVAL, "uevent %.*s is not a number",
					       (int)klen, key);
		if (bit == UEVENT_KEY_MAJOR)
			ev->major = (int)v;
		else
			ev->minor = (int)v;
		return 0;
	}
	return 0;
}

int uevent_parse(const void *buf, size_t len, struct uevent *ret, agent_error_t **err)
{
	const char *p = buf;
	if (!buf || len == 0)
		return agent_error_set(err, EINVAL, "empty uevent");
	if (len > UEVENT_MSG_MAX)
		return agent_error_set(err, E2BIG, "uevent of %zu bytes is too large", len);
	/* udev's re-broadcasts (group 2) start with "libudev\0"; not ours to read. */
	if (len >= 8 && memcmp(p, "libudev", 8) == 0)
		return agent_error_set(err, EINVAL, "udev message, not a kernel uevent");

	struct uevent ev;
	uevent_init(&ev);
	unsigned seen = 0;

	/* Header: "action@devpath". */
	const char *end = memchr(p, '\0', len);
	size_t hlen = end ? (size_t)(end - p) : len;
	const char *at = memchr(p, '@', hlen);
	if (!at)
		return agent_error_set(err, EINVAL, "uevent header has no '@'");
	size_t hact_len = (size_t)(at - p);
	const char *hpath = at + 1;
	size_t hpath_len = hlen - hact_len - 1;

	size_t off = hlen + 1;
	while (off < len) {
		const char *f = p + off;
		const char *fend = memchr(f, '\0', len - off);
		size_t flen = fend ? (size_t)(fend - f) : len - off;
		off += flen + 1;
		if (flen == 0)
			continue;
		const char *eq = memchr(f, '=', flen);
		if (!eq || eq == f)
			return agent_error_set(err, EINVAL, "uevent field is not KEY=VALUE");
		int r = uevent_set_pair(&ev, f, (size_t)(eq - f), eq + 1,
					flen - (size_t)(eq - f) - 1, &seen, err);
		if (r < 0)
			return r;
	}

	unsigned need = UEVENT_KEY_ACTION | UEVENT_KEY_DEVPATH | UEVENT_KEY_SUBSYSTEM;
	if ((seen & need) != need)
		return agent_error_set(err, EINVAL, "uevent lacks ACTION, DEVPATH or SUBSYSTEM");
	if (uevent_action_from_name(p, hact_len) != ev.action || hpath_len != strlen(ev.devpath) ||
	    memcmp(hpath, ev.devpath, hpath_len) != 0)
		return agent_error_set(err, EINVAL, "uevent header disagrees with ACTION/DEVPATH");
	*ret = ev;
	return 0;
}
