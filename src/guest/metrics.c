/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GetMetrics: Prometheus text exposition of the agent process (kata_agent_*)
 * and the guest (kata_guest_*), read from procfs at each scrape. Best effort:
 * a file that cannot be read leaves its metrics out; only running out of room
 * is an error.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/scan.h"
#include "base/strbuf.h"
#include "guest/guest.h"

#define PROC_FILE_MAX (256u << 10)

/* Reads a whole (small) procfs file, NUL-terminated; NULL when it cannot. */
static char *read_proc(const char *procdir, const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", procdir, name);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (len + 1 == cap) {
			char *nb = cap < PROC_FILE_MAX ? realloc(buf, cap * 2) : NULL;
			if (!nb)
				break; /* bounded: what fits */
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

static void header(struct strbuf *sb, const char *name, const char *type, const char *help)
{
	strbuf_addf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void agent_metrics(struct strbuf *sb, const char *procdir)
{
	long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	_cleanup_free_ char *stat = read_proc(procdir, "self/stat");
	const char *p = stat ? strrchr(stat, ')') : NULL;
	if (p && hz > 0) {
		/* Fields after "pid (comm)", from 3 (state) on. */
		unsigned long long f[64] = {0};
		int n = 3;
		p++;
		while (*p && n < 64) {
			while (*p == ' ')
				p++;
			if (n > 3)
				f[n] = strtoull(p, NULL, 10);
			p += strcspn(p, " ");
			n++;
		}
		if (n > 24) {
			header(sb, "kata_agent_cpu_seconds_total", "counter",
			       "CPU time of the agent process");
			strbuf_addf(sb, "kata_agent_cpu_seconds_total{mode=\"user\"} %.2f\n",
				    (double)f[14] / (double)hz);
			strbuf_addf(sb, "kata_agent_cpu_seconds_total{mode=\"system\"} %.2f\n",
				    (double)f[15] / (double)hz);
			header(sb, "kata_agent_threads", "gauge", "Threads of the agent process");
			strbuf_addf(sb, "kata_agent_threads %llu\n", f[20]);
			header(sb, "kata_agent_virtual_memory_bytes", "gauge",
			       "Virtual memory size of the agent process");
			strbuf_addf(sb, "kata_agent_virtual_memory_bytes %llu\n", f[23]);
			header(sb, "kata_agent_resident_memory_bytes", "gauge",
			       "Resident set size of the agent process");
			strbuf_addf(sb, "kata_agent_resident_memory_bytes %llu\n",
				    f[24] * (unsigned long long)page);
		}
	}
	char path[256];
	snprintf(path, sizeof(path), "%s/self/fd", procdir);
	DIR *d = opendir(path);
	if (d) {
		long fds = -1; /* the directory's own fd is listed */
		struct dirent *de;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				fds++;
		closedir(d);
		header(sb, "kata_agent_open_fds", "gauge", "Open file descriptors of the agent");
		strbuf_addf(sb, "kata_agent_open_fds %ld\n", fds);
	}
}

static void guest_load(struct strbuf *sb, const char *procdir)
{
	_cleanup_free_ char *load = read_proc(procdir, "loadavg");
	double l1, l5, l15;
	unsigned long long running, total;
	const char *p = load;
	/* "0.52 0.58 0.59 2/345 12345" */
	if (p && (p = scan_decimal(p, &l1)) && (p = scan_decimal(p, &l5)) &&
	    (p = scan_decimal(p, &l15)) && (p = scan_ull(p, &running)) && *p == '/' &&
	    scan_ull(p + 1, &total)) {
		header(sb, "kata_guest_load", "gauge", "Guest load averages");
		strbuf_addf(sb, "kata_guest_load{item=\"load1\"} %.2f\n", l1);
		strbuf_addf(sb, "kata_guest_load{item=\"load5\"} %.2f\n", l5);
		strbuf_addf(sb, "kata_guest_load{item=\"load15\"} %.2f\n", l15);
		header(sb, "kata_guest_tasks", "gauge", "Guest tasks (from loadavg)");
		strbuf_addf(sb, "kata_guest_tasks{item=\"running\"} %llu\n", running);
		strbuf_addf(sb, "kata_guest_tasks{item=\"total\"} %llu\n", total);
	}
	_cleanup_free_ char *up = read_proc(procdir, "uptime");
	double uptime;
	if (up && scan_decimal(up, &uptime)) {
		header(sb, "kata_guest_uptime_seconds", "gauge", "Seconds since the guest booted");
		strbuf_addf(sb, "kata_guest_uptime_seconds %.2f\n", uptime);
	}
}

/* Every "Name: N kB" line of meminfo, in bytes; names keep only [A-Za-z0-9_]. */
static void guest_meminfo(struct strbuf *sb, const char *procdir)
{
	_cleanup_free_ char *mi = read_proc(procdir, "meminfo");
	if (!mi)
		return;
	header(sb, "kata_guest_meminfo_bytes", "gauge", "Guest memory statistics (meminfo)");
	for (char *line = mi; *line;) {
		size_t len = strcspn(line, "\n");
		char *next = line + len + (line[len] ? 1 : 0);
		line[len] = '\0';
		char name[64];
		unsigned long long kb;
		size_t n = strcspn(line, ":");
		if (n > 0 && n < sizeof(name) && line[n] == ':' && scan_ull(line + n + 1, &kb) &&
		    strstr(line, " kB")) {
			memcpy(name, line, n);
			name[n] = '\0';
			for (char *c = name; *c; c++)
				if (!isalnum((unsigned char)*c) && *c != '_')
					*c = '_';
			strbuf_addf(sb, "kata_guest_meminfo_bytes{item=\"%s\"} %llu\n", name,
				    kb * 1024);
		}
		line = next;
	}
}

/* Per-CPU time from /proc/stat ("cpuN user nice system idle iowait irq softirq steal"). */
static void guest_cpu(struct strbuf *sb, const char *procdir)
{
	static const char *const modes[] = {"user",   "nice", "system",	 "idle",
					    "iowait", "irq",  "softirq", "steal"};
	long hz = sysconf(_SC_CLK_TCK);
	_cleanup_free_ char *st = read_proc(procdir, "stat");
	if (!st || hz <= 0)
		return;
	header(sb, "kata_guest_cpu_time_seconds_total", "counter", "Guest CPU time per CPU");
	for (char *line = st; *line;) {
		size_t len = strcspn(line, "\n");
		char *next = line + len + (line[len] ? 1 : 0);
		line[len] = '\0';
		unsigned long long cpu;
		const char *p;
		/* "cpuN" only: the first line, "cpu  ...", is the sum of them all. */
		if (strncmp(line, "cpu", 3) == 0 && line[3] >= '0' && line[3] <= '9' &&
		    (p = scan_ull(line + 3, &cpu)) && cpu <= UINT_MAX) {
			p = scan_space(p);
			for (size_t m = 0; m < ARRAY_SIZE(modes) && *p; m++) {
				char *end;
				unsigned long long v = strtoull(p, &end, 10);
				if (end == p)
					break;
				strbuf_addf(
					sb,
					"kata_guest_cpu_time_seconds_total{cpu=\"%u\",mode=\"%s\"} "
					"%.2f\n",
					(unsigned)cpu, modes[m], (double)v / (double)hz);
				p = end;
			}
		}
		line = next;
	}
}

int guest_metrics(const char *procdir, char **ret, agent_error_t **err)
{
	struct strbuf sb;

	strbuf_init(&sb, GUEST_METRICS_MAX);
	agent_metrics(&sb, procdir);
	guest_load(&sb, procdir);
	guest_meminfo(&sb, procdir);
	guest_cpu(&sb, procdir);
	if (sb.oom) {
		strbuf_release(&sb);
		return agent_error_set(err, ENOMEM, "metrics larger than %u bytes",
				       GUEST_METRICS_MAX);
	}
	char *s = strbuf_steal(&sb);
	if (!s)
		return agent_error_set(err, ENOMEM, "out of memory");
	*ret = s;
	return 0;
}
