/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OnlineCPUMem: after the host hot-plugs vCPUs or memory, bring
 * them online through sysfs. CPUs show up asynchronously, so onlining goes in
 * rounds (the caller spaces them, never sleeping) until the wanted total is online. The count is
 * taken from the cpuN directories themselves (the set cpu/online lists).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "guest/guest.h"
#include "base/status.h"

#define MAX_NB_CPUS GUEST_MAX_CPUS

/* A one-line attribute ("0", "offline"), its newline dropped. */
static int read_small(const char *path, char *buf, size_t size)
{
	int r = read_file_small(path, buf, size);
	if (r < 0)
		return r;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* O_TRUNC as a shell's ">" does: sysfs ignores it, a plain file (tests) needs it. */
static int write_small(const char *path, const char *text)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, strlen(text));
	if (n < 0)
		return -errno;
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

int guest_cpu_list_count(const char *list)
{
	int count = 0;
	const char *p = list;

	if (!*p)
		return 0;
	for (;;) {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b = a;
		if (end == p)
			return -EINVAL;
		if (*end == '-') {
			p = end + 1;
			b = strtoul(p, &end, 10);
			if (end == p || b < a)
				return -EINVAL;
		}
		if (b - a >= MAX_NB_CPUS || count + (int)(b - a + 1) > MAX_NB_CPUS)
			return -EINVAL;
		count += (int)(b - a + 1);
		if (*end == '\0')
			return count;
		if (*end != ',')
			return -EINVAL;
		p = end + 1;
	}
}

/* Entries "<prefix>N" of dir; calls fn on each; stops early when fn returns > 0. */
static int for_each_numbered(const char *dir, const char *prefix,
			     int (*fn)(const char *dir, const char *name, void *data), void *data)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	size_t pl = strlen(prefix);
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		const char *num = de->d_name + pl;
		if (strncmp(de->d_name, prefix, pl) != 0 || !*num ||
		    strspn(num, "0123456789") != strlen(num))
			continue;
		r = fn(dir, de->d_name, data);
		if (r != 0)
			break;
	}
	closedir(d);
	return r < 0 ? r : 0;
}

struct cpu_round {
	int need; /* still to online */
	int done;
	int last_err;
};

static int online_one_cpu(const char *dir, const char *name, void *data)
{
	struct cpu_round *cr = data;
	char path[512], v[16];
	snprintf(path, sizeof(path), "%s/%s/online", dir, name);
	if (read_small(path, v, sizeof(v)) < 0 || strcmp(v, "0") != 0)
		return 0;
	int r = write_small(path, "1");
	if (r < 0) {
		cr->last_err = r;
		return 0;
	}
	cr->done++;
	return --cr->need <= 0 ? 1 : 0;
}

static int count_one(const char *dir, const char *name, void *data)
{
	char path[512], v[16];
	snprintf(path, sizeof(path), "%s/%s/online", dir, name);
	/* No "online" file: a CPU that cannot go offline (often cpu0). */
	int r = read_small(path, v, sizeof(v));
	if (r == -ENOENT || (r == 0 && strcmp(v, "1") == 0))
		(*(int *)data)++;
	return 0;
}

/* CPUs online now: each cpuN directory (a present CPU) that is online, the same set as
 * cpudir/online lists. */
static int count_online(const char *cpudir, agent_error_t **err)
{
	int n = 0;
	int r = for_each_numbered(cpudir, "cpu", count_one, &n);
	if (r < 0)
		return agent_error_setsys(err, -r, "list %s", cpudir);
	return n;
}

int guest_online_cpus_round(const char *cpudir, struct guest_cpu_online *st, agent_error_t **err)
{
	if (st->want > MAX_NB_CPUS)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "nb_cpus %u: at most %d", st->want, MAX_NB_CPUS);
	if (st->want == 0)
		return 1;
	int online = count_online(cpudir, err);
	if (online < 0)
		return online;
	st->online = online;
	if ((uint32_t)online >= st->want)
		return 1;
	if (st->rounds >= GUEST_ONLINE_ROUNDS) {
		unsigned missing = st->want - (uint32_t)online;
		if (st->last_err)
			return agent_error_setsys(err, -st->last_err,
						  "failed to online %u CPU(s) after %d retries (%d "
						  "online)",
						  missing, GUEST_ONLINE_ROUNDS, online);
		return agent_error_set(err, EIO,
				       "failed to online %u CPU(s) after %d retries (%d online)",
				       missing, GUEST_ONLINE_ROUNDS, online);
	}
	st->rounds++;
	struct cpu_round cr = {.need = (int)st->want - online};
	int r = for_each_numbered(cpudir, "cpu", online_one_cpu, &cr);
	if (r < 0)
		return agent_error_setsys(err, -r, "list %s", cpudir);
	if (cr.last_err)
		st->last_err = cr.last_err;
	if (cr.need <= 0) {
		st->online += cr.done;
		return 1;
	}
	return 0;
}

struct mem_round {
	unsigned done;
	int err;
	char failed[64];
};

static int online_one_block(const char *dir, const char *name, void *data)
{
	struct mem_round *mr = data;
	char path[512], v[32];
	snprintf(path, sizeof(path), "%s/%s/state", dir, name);
	if (read_small(path, v, sizeof(v)) < 0 || strcmp(v, "offline") != 0)
		return 0;
	int r = write_small(path, "online");
	if (r < 0) {
		mr->err = r;
		snprintf(mr->failed, sizeof(mr->failed), "%s", name);
		return 1;
	}
	mr->done++;
	return 0;
}

int guest_online_memory(const char *memdir, unsigned *ret_n, agent_error_t **err)
{
	struct mem_round mr = {0};
	int r = for_each_numbered(memdir, "memory", online_one_block, &mr);
	if (r < 0 && r != -ENOENT)
		return agent_error_setsys(err, -r, "list %s", memdir);
	if (mr.err)
		return agent_error_setsys(err, -mr.err, "online %s/%s (%u onlined before)", memdir,
					  mr.failed, mr.done);
	if (ret_n)
		*ret_n = mr.done;
	return 0;
}
