// SPDX-License-Identifier: Apache-2.0
#include "container/caps.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Indexed by the kernel's numbers (linux/capability.h), up to CAP_CHECKPOINT_RESTORE. */
#define CAP_NAME(c) [c] = #c
static const char *const cap_names[] = {
	CAP_NAME(CAP_CHOWN),
	CAP_NAME(CAP_DAC_OVERRIDE),
	CAP_NAME(CAP_DAC_READ_SEARCH),
	CAP_NAME(CAP_FOWNER),
	CAP_NAME(CAP_FSETID),
	CAP_NAME(CAP_KILL),
	CAP_NAME(CAP_SETGID),
	CAP_NAME(CAP_SETUID),
	CAP_NAME(CAP_SETPCAP),
	CAP_NAME(CAP_LINUX_IMMUTABLE),
	CAP_NAME(CAP_NET_BIND_SERVICE),
	CAP_NAME(CAP_NET_BROADCAST),
	CAP_NAME(CAP_NET_ADMIN),
	CAP_NAME(CAP_NET_RAW),
	CAP_NAME(CAP_IPC_LOCK),
	CAP_NAME(CAP_IPC_OWNER),
	CAP_NAME(CAP_SYS_MODULE),
	CAP_NAME(CAP_SYS_RAWIO),
	CAP_NAME(CAP_SYS_CHROOT),
	CAP_NAME(CAP_SYS_PTRACE),
	CAP_NAME(CAP_SYS_PACCT),
	CAP_NAME(CAP_SYS_ADMIN),
	CAP_NAME(CAP_SYS_BOOT),
	CAP_NAME(CAP_SYS_NICE),
	CAP_NAME(CAP_SYS_RESOURCE),
	CAP_NAME(CAP_SYS_TIME),
	CAP_NAME(CAP_SYS_TTY_CONFIG),
	CAP_NAME(CAP_MKNOD),
	CAP_NAME(CAP_LEASE),
	CAP_NAME(CAP_AUDIT_WRITE),
	CAP_NAME(CAP_AUDIT_CONTROL),
	CAP_NAME(CAP_SETFCAP),
	CAP_NAME(CAP_MAC_OVERRIDE),
	CAP_NAME(CAP_MAC_ADMIN),
	CAP_NAME(CAP_SYSLOG),
	CAP_NAME(CAP_WAKE_ALARM),
	CAP_NAME(CAP_BLOCK_SUSPEND),
	CAP_NAME(CAP_AUDIT_READ),
	CAP_NAME(CAP_PERFMON),
	CAP_NAME(CAP_BPF),
	CAP_NAME(CAP_CHECKPOINT_RESTORE),
};
#undef CAP_NAME

/* Capabilities live in 64-bit masks here (capset v3 carries two 32-bit words). */
#define CAP_MASK_BITS 64

int cap_from_name(const char *name)
{
	if (!name || strncasecmp(name, "CAP_", 4) != 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
		if (strcasecmp(name, cap_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *cap_to_name(int cap)
{
	if (cap < 0 || (size_t)cap >= ARRAY_SIZE(cap_names))
		return NULL;
	return cap_names[cap];
}

static int cap_last_cap_from_proc(void)
{
	char buf[16];
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	safe_close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *end;
	errno = 0;
	long v = strtol(buf, &end, 10);
	if (errno || end == buf || (*end != '\n' && *end != '\0') || v < 0 || v >= CAP_MASK_BITS)
		return -1;
	return (int)v;
}

int cap_last_cap(void)
{
	int last = cap_last_cap_from_proc();
	if (last >= 0)
		return last;
	/* No /proc (e.g. after pivot): the bounding set answers EINVAL past the last one. */
	for (last = CAP_MASK_BITS - 1; last > 0; last--)
		if (prctl(PR_CAPBSET_READ, (unsigned long)last, 0, 0, 0) >= 0)
			break;
	return last;
}

static uint64_t names_to_mask(char **names, size_t n, int last)
{
	uint64_t mask = 0;
	for (size_t i = 0; i < n; i++) {
		int c = cap_from_name(names[i]);
		if (c >= 0 && c <= last)
			mask |= UINT64_C(1) << c;
	}
	return mask;
}

void cap_sets_from_oci(const Grpc__LinuxCapabilities *c, struct cap_sets *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!c)
		return;
	int last = cap_last_cap();
	ret->bounding = names_to_mask(c->bounding, c->n_bounding, last);
	ret->effective = names_to_mask(c->effective, c->n_effective, last);
	ret->permitted = names_to_mask(c->permitted, c->n_permitted, last);
	ret->inheritable = names_to_mask(c->inheritable, c->n_inheritable, last);
	ret->ambient = names_to_mask(c->ambient, c->n_ambient, last);
}

static const char *cap_label(int cap)
{
	const char *n = cap_to_name(cap);
	return n ? n : "unknown capability";
}

int cap_apply_bounding(const struct cap_sets *s, agent_error_t **err)
{
	int last = cap_last_cap();

	for (int c = 0; c <= last; c++) {
		if (s->bounding & (UINT64_C(1) << c))
			continue;
		int r = prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0);
		if (r < 0)
			return agent_error_setsys(err, errno, "reading bounding capability %d (%s)",
						  c, cap_label(c));
		if (r == 0)
			continue;
		if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) < 0)
			return agent_error_setsys(err, errno, "dropping %s from the bounding set",
						  cap_label(c));
	}
	for (int c = 0; c <= last; c++) {
		if (s->bounding & (UINT64_C(1) << c))
			continue;
		if (prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0) != 0)
			return agent_error_set(err, EPERM, "%s is still in the bounding set",
					       cap_label(c));
	}
	if (prctl(PR_SET_KEEPCAPS, 1UL, 0, 0, 0) < 0)
		return agent_error_setsys(err, errno, "PR_SET_KEEPCAPS");
	return 0;
}

static int apply_ambient(uint64_t ambient, int last)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0UL, 0UL, 0UL) < 0)
		return errno == EINVAL ? 0 : -errno; /* kernel without ambient capabilities */
	for (int c = 0; c <= last; c++) {
		if (!(ambient & (UINT64_C(1) << c)))
			continue;
		/* Best effort: a cap missing from permitted or inheritable is refused. */
		(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)c, 0UL, 0UL);
	}
	return 0;
}

int cap_apply_sets(const struct cap_sets *s, agent_error_t **err)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	memset(data, 0, sizeof(data));
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		data[i].effective = (uint32_t)(s->effective >> (32 * i));
		data[i].permitted = (uint32_t)(s->permitted >> (32 * i));
		data[i].inheritable = (uint32_t)(s->inheritable >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return agent_error_setsys(err, errno, "capset");
	if (prctl(PR_SET_KEEPCAPS, 0UL, 0, 0, 0) < 0)
		return agent_error_setsys(err, errno, "clearing PR_SET_KEEPCAPS");
	int r = apply_ambient(s->ambient, cap_last_cap());
	if (r < 0)
		return agent_error_setsys(err, -r, "clearing the ambient set");
	return 0;
}
