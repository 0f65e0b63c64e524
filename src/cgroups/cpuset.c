/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cpuset.cpus after a CPU hot-add (OnlineCPUMem), on v1 and v2: CPU lists as
 * bitmaps, the ancestors widened by the online CPUs, the container's own request
 * written back so that a pin survives.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int cg_cpulist_parse(const char *s, struct cg_cpumask *m)
{
	memset(m, 0, sizeof(*m));
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\n' || *s == '\0')
		return 0;
	for (;;) {
		char *end;
		unsigned long a, b;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		errno = 0;
		a = b = strtoul(s, &end, 10);
		if (*end == '-') {
			s = end + 1;
			if (*s < '0' || *s > '9')
				return -EINVAL;
			b = strtoul(s, &end, 10);
		}
		if (errno || b < a || b >= CG_CPUS_MAX)
			return -EINVAL;
		for (unsigned long c = a; c <= b; c++)
			m->w[c / 64] |= 1ull << (c % 64);
		s = end;
		if (*s == ',') {
			s++;
			continue;
		}
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		return *s ? -EINVAL : 0;
	}
}

static bool cpumask_has(const struct cg_cpumask *m, unsigned c)
{
	return c < CG_CPUS_MAX && (m->w[c / 64] >> (c % 64)) & 1;
}

char *cg_cpulist_format(const struct cg_cpumask *m)
{
	/* At most CG_CPUS_MAX / 2 runs of "NNNN," (a single CPU each). */
	size_t size = (CG_CPUS_MAX / 2) * 6 + 1, n = 0;
	char *s = malloc(size);

	if (!s)
		return NULL;
	s[0] = '\0';
	for (unsigned c = 0; c < CG_CPUS_MAX; c++) {
		if (!cpumask_has(m, c))
			continue;
		unsigned last = c;
		while (cpumask_has(m, last + 1))
			last++;
		if (last == c)
			n += (size_t)snprintf(s + n, size - n, "%s%u", n ? "," : "", c);
		else
			n += (size_t)snprintf(s + n, size - n, "%s%u-%u", n ? "," : "", c, last);
		c = last;
	}
	return s;
}

static bool cpumask_empty(const struct cg_cpumask *m)
{
	for (size_t i = 0; i < CG_CPUS_WORDS; i++)
		if (m->w[i])
			return false;
	return true;
}

static bool cpumask_equal(const struct cg_cpumask *a, const struct cg_cpumask *b)
{
	return memcmp(a->w, b->w, sizeof(a->w)) == 0;
}

/* cpuset.cpus of dir, parsed; -ENOENT when dir has no such file (no cpuset there). */
static int read_cpus(const char *dir, struct cg_cpumask *m, agent_error_t **err)
{
	_cleanup_free_ char *text = NULL;
	int r = cg_read(dir, "cpuset.cpus", &text);

	if (r == -ENOENT)
		return r;
	if (r < 0)
		return agent_error_setsys(err, -r, "read %s/cpuset.cpus", dir);
	if (cg_cpulist_parse(text, m) < 0)
		return agent_error_set(err, EINVAL, "%s/cpuset.cpus: \"%s\" is not a CPU list", dir,
				       text);
	return 0;
}

static int write_cpus(const char *dir, const struct cg_cpumask *m, agent_error_t **err)
{
	_cleanup_free_ char *list = cg_cpulist_format(m);

	if (!list)
		return agent_error_set(err, ENOMEM, "out of memory");
	return cg_write(dir, "cpuset.cpus", list, err);
}

/*
 * An ancestor gets the online CPUs added to what it has. v2: an empty cpuset.cpus
 * means "the parent's", already the widest: it stays empty.
 */
static int widen_ancestor(const char *dir, bool v2, const struct cg_cpumask *online,
			  agent_error_t **err)
{
	struct cg_cpumask cur, want;
	int r = read_cpus(dir, &cur, err);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (v2 && cpumask_empty(&cur))
		return 0;
	for (size_t i = 0; i < CG_CPUS_WORDS; i++)
		want.w[i] = cur.w[i] | online->w[i];
	if (cpumask_equal(&want, &cur))
		return 0;
	return write_cpus(dir, &want, err);
}

/*
 * The cgroup itself gets its request back. v2 takes CPUs that are not online (they
 * count once they are); v1 refuses them, and both refuse CPUs past the possible ones: then the
 * requested CPUs that are online. A request that is not a CPU list, or has none online, leaves the
 * set as it is (its write failed at create for the same reason). Nothing is written when the set is
 * already the one wanted, so tasks that narrowed their own affinity keep it.
 */
static int restore_request(const char *dir, const struct cg_cpumask *online, const char *requested,
			   agent_error_t **err)
{
	struct cg_cpumask cur, req, both;
	int r = read_cpus(dir, &cur, err);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (cg_cpulist_parse(requested, &req) < 0 || cpumask_empty(&req))
		return 0;
	if (cpumask_equal(&req, &cur))
		return 0;
	r = write_cpus(dir, &req, err);
	if (r != -EINVAL && r != -ERANGE) /* ERANGE: a CPU the kernel cannot have */
		return r;
	agent_error_clear(err);
	for (size_t i = 0; i < CG_CPUS_WORDS; i++)
		both.w[i] = req.w[i] & online->w[i];
	if (cpumask_empty(&both) || cpumask_equal(&both, &cur))
		return 0;
	return write_cpus(dir, &both, err);
}

int cgroup_cpuset_update(struct cgroup *cg, const char *online, const char *requested,
			 agent_error_t **err)
{
	const struct cgroup_manager *m = cg->m;
	const char *mnt = m->v2 ? m->unified : m->v1_mnt[CG_CPUSET];
	struct cg_cpumask on;
	char dir[CG_PATH_MAX + 4096];
	size_t ml;
	int r;

	if (!mnt)
		return 0;
	if (cg_cpulist_parse(online, &on) < 0 || cpumask_empty(&on))
		return agent_error_set(err, EINVAL, "online CPUs \"%s\": not a CPU list", online);
	ml = strlen(mnt);
	if (ml + strlen(cg->path) >= sizeof(dir))
		return agent_error_set(err, ENAMETOOLONG, "cgroup path too long");
	memcpy(dir, mnt, ml + 1);
	/* Each ancestor below the hierarchy's root, from the top down (a v1 child must fit). */
	for (const char *p = cg->path;;) {
		while (*p == '/')
			p++;
		const char *e = strchrnul(p, '/');
		const char *next = e;
		while (*next == '/')
			next++;
		if (*next == '\0') {
			snprintf(dir + ml, sizeof(dir) - ml, "%s", cg->path);
			break;
		}
		snprintf(dir + ml, sizeof(dir) - ml, "%.*s", (int)(e - cg->path), cg->path);
		r = widen_ancestor(dir, m->v2, &on, err);
		if (r < 0)
			return r;
		p = e;
	}
	return restore_request(dir, &on, requested, err);
}
