/* SPDX-License-Identifier: Apache-2.0 */
/* Match predicates over uevents, and their descriptions for error messages. */
#include <stdio.h>
#include <string.h>

#include "uevent.h"

static bool set(const char *s)
{
	return s && *s;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

bool uevent_match_test(const struct uevent_match *m, const struct uevent *ev)
{
	unsigned actions = m->actions ? m->actions : UEVENT_ACTIONS_PRESENT;
	if ((unsigned)ev->action >= 32 || !(actions & UEVENT_ACTION_BIT(ev->action)))
		return false;
	if (set(m->subsystem) && strcmp(ev->subsystem, m->subsystem) != 0)
		return false;
	if (set(m->devpath) && strcmp(ev->devpath, m->devpath) != 0)
		return false;
	if (set(m->devpath_prefix) &&
	    strncmp(ev->devpath, m->devpath_prefix, strlen(m->devpath_prefix)) != 0)
		return false;
	if (set(m->devpath_suffix) && !ends_with(ev->devpath, m->devpath_suffix))
		return false;
	if (set(m->devpath_contains) && !strstr(ev->devpath, m->devpath_contains))
		return false;
	if (set(m->devname) && strcmp(ev->devname, m->devname) != 0)
		return false;
	if (m->need_devname && !ev->devname[0])
		return false;
	if (m->need_interface && !ev->interface[0])
		return false;
	if (m->fn && !m->fn(m, ev))
		return false;
	return true;
}

static void add(char *buf, size_t len, size_t *off, const char *label, const char *v)
{
	if (!set(v) || *off >= len)
		return;
	int n = snprintf(buf + *off, len - *off, "%s%s%s", *off ? " " : "", label, v);
	if (n > 0)
		*off = MIN(len - 1, *off + (size_t)n);
}

void uevent_match_describe(const struct uevent_match *m, char *buf, size_t len)
{
	if (!len)
		return;
	buf[0] = '\0';
	if (set(m->what)) {
		snprintf(buf, len, "%s", m->what);
		return;
	}
	size_t off = 0;
	add(buf, len, &off, "SUBSYSTEM=", m->subsystem);
	add(buf, len, &off, "DEVPATH=", m->devpath);
	add(buf, len, &off, "DEVPATH^=", m->devpath_prefix);
	add(buf, len, &off, "DEVPATH$=", m->devpath_suffix);
	add(buf, len, &off, "DEVPATH*=", m->devpath_contains);
	add(buf, len, &off, "DEVNAME=", m->devname);
	if (!off)
		snprintf(buf, len, "any device");
}
