/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device rule list shared by the v1 whitelist and the v2 eBPF filter:
 * deny everything, then the spec's rules in order, then the default devices
 * every container gets (as runc and upstream's agent append them), the last
 * matching rule winning. A spec that starts with "deny all" (containerd's
 * default) so still leaves /dev/null, /dev/zero, ... usable.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "base/status.h"

static const struct cg_dev_rule default_rules[] = {
	{false, 'a', -1, -1, CG_DEV_RWM}, /* deny all */
	{true, 'c', -1, -1, CG_DEV_M}, /* mknod any char device */
	{true, 'b', -1, -1, CG_DEV_M}, /* mknod any block device */
	{true, 'c', 1, 3, CG_DEV_RWM}, /* /dev/null */
	{true, 'c', 1, 5, CG_DEV_RWM}, /* /dev/zero */
	{true, 'c', 1, 7, CG_DEV_RWM}, /* /dev/full */
	{true, 'c', 5, 0, CG_DEV_RWM}, /* /dev/tty */
	{true, 'c', 1, 9, CG_DEV_RWM}, /* /dev/urandom */
	{true, 'c', 1, 8, CG_DEV_RWM}, /* /dev/random */
	{true, 'c', 5, 1, CG_DEV_RWM}, /* /dev/console */
	{true, 'c', 136, -1, CG_DEV_RWM}, /* /dev/pts/N */
	{true, 'c', 5, 2, CG_DEV_RWM}, /* /dev/ptmx */
	{true, 'c', 10, 200, CG_DEV_RWM}, /* /dev/net/tun */
};

static int parse_access(const char *s, unsigned *ret)
{
	unsigned a = 0;
	if (!s || !*s) {
		*ret = CG_DEV_RWM;
		return 0;
	}
	for (; *s; s++) {
		switch (*s) {
		case 'r':
			a |= CG_DEV_R;
			break;
		case 'w':
			a |= CG_DEV_W;
			break;
		case 'm':
			a |= CG_DEV_M;
			break;
		default:
			return -EINVAL;
		}
	}
	*ret = a;
	return 0;
}

/* Maps an OCI type to 'a', 'b', 'c', or 'p' (a fifo: nothing for the device cgroup). */
static int parse_type(const char *s, char *ret)
{
	if (!s || !*s) {
		*ret = 'a';
		return 0;
	}
	if (s[1] != '\0')
		return -EINVAL;
	switch (s[0]) {
	case 'a':
	case 'b':
	case 'c':
	case 'p':
		*ret = s[0];
		return 0;
	case 'u':
		*ret = 'c';
		return 0;
	default:
		return -EINVAL;
	}
}

int cg_dev_rules_validate(const Grpc__LinuxResources *res, agent_error_t **err)
{
	if (!res)
		return 0;
	for (size_t i = 0; i < res->n_devices; i++) {
		const Grpc__LinuxDeviceCgroup *d = res->devices[i];
		char t;
		unsigned a;
		if (!d)
			continue;
		if (parse_type(d->type, &t) < 0)
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "invalid device cgroup type \"%s\"", d->type);
		if (parse_access(d->access, &a) < 0)
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "invalid device cgroup access \"%s\"",
						      d->access);
		if (d->major > UINT32_MAX || d->minor > UINT32_MAX)
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "device number out of range");
	}
	return 0;
}

int cg_dev_rules_build(const Grpc__LinuxResources *res, struct cg_dev_rule **ret, size_t *ret_n,
		       agent_error_t **err)
{
	int r = cg_dev_rules_validate(res, err);
	if (r < 0)
		return r;
	size_t nspec = res ? res->n_devices : 0;
	size_t n = 0;
	struct cg_dev_rule *v = calloc(ARRAY_SIZE(default_rules) + nspec, sizeof(*v));
	if (!v)
		return agent_error_set(err, ENOMEM, "out of memory");
	v[n++] = default_rules[0]; /* deny all */
	for (size_t i = 0; i < nspec; i++) {
		const Grpc__LinuxDeviceCgroup *d = res->devices[i];
		struct cg_dev_rule rule = {0};
		if (!d)
			continue;
		parse_type(d->type, &rule.type);
		if (rule.type == 'p')
			continue;
		parse_access(d->access, &rule.access);
		rule.allow = d->allow;
		rule.major = d->major <= 0 ? -1 : d->major;
		rule.minor = d->minor <= 0 ? -1 : d->minor;
		v[n++] = rule;
	}
	for (size_t i = 1; i < ARRAY_SIZE(default_rules); i++)
		v[n++] = default_rules[i];
	*ret = v;
	*ret_n = n;
	return 0;
}

void cg_dev_rule_format(const struct cg_dev_rule *r, char *buf, size_t size)
{
	char maj[24], min[24], acc[4];
	size_t k = 0;

	if (r->type == 'a' && r->major < 0 && r->minor < 0) {
		/* The kernel reads any rule starting with 'a' as "all devices". */
		snprintf(buf, size, "a");
		return;
	}
	if (r->major < 0)
		snprintf(maj, sizeof(maj), "*");
	else
		snprintf(maj, sizeof(maj), "%lld", (long long)r->major);
	if (r->minor < 0)
		snprintf(min, sizeof(min), "*");
	else
		snprintf(min, sizeof(min), "%lld", (long long)r->minor);
	if (r->access & CG_DEV_R)
		acc[k++] = 'r';
	if (r->access & CG_DEV_W)
		acc[k++] = 'w';
	if (r->access & CG_DEV_M)
		acc[k++] = 'm';
	acc[k] = '\0';
	snprintf(buf, size, "%c %s:%s %s", r->type, maj, min, acc);
}
