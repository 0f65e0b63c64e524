/* SPDX-License-Identifier: Apache-2.0 */
/* GetMetrics text (src/guest/metrics.c) against what this process and kernel report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "guest/guest.h"
#include "harness.h"

/* The value of the sample line that starts with "name " (labels included in name). */
static double sample(const char *text, const char *name)
{
	size_t n = strlen(name);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, name, n) == 0 && l[n] == ' ')
			return strtod(l + n + 1, NULL);
	FAIL("no sample %s", name);
}

TEST(metrics_describe_this_process_and_guest)
{
	char *text = NULL;
	agent_error_t *err = NULL;
	if (guest_metrics("/proc", &text, &err) < 0)
		FAIL("%s", err->msg);
	static const char *const families[] = {"kata_agent_cpu_seconds_total",
					       "kata_agent_threads",
					       "kata_agent_resident_memory_bytes",
					       "kata_agent_virtual_memory_bytes",
					       "kata_agent_open_fds",
					       "kata_guest_load",
					       "kata_guest_tasks",
					       "kata_guest_uptime_seconds",
					       "kata_guest_meminfo_bytes",
					       "kata_guest_cpu_time_seconds_total"};
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		char h[128], t[128];
		snprintf(h, sizeof(h), "# HELP %s ", families[i]);
		snprintf(t, sizeof(t), "# TYPE %s ", families[i]);
		if (!strstr(text, h) || !strstr(text, t))
			FAIL("no HELP/TYPE for %s", families[i]);
	}
	ASSERT_EQ(sample(text, "kata_agent_threads"), 1);
	ASSERT_TRUE(sample(text, "kata_agent_open_fds") >= 3);
	ASSERT_TRUE(sample(text, "kata_agent_resident_memory_bytes") > 100 * 1024);
	struct sysinfo si;
	ASSERT_EQ(sysinfo(&si), 0);
	double total = (double)si.totalram * si.mem_unit;
	double got = sample(text, "kata_guest_meminfo_bytes{item=\"MemTotal\"}");
	ASSERT_TRUE(got > total * 0.99 && got < total * 1.01);
	double up = sample(text, "kata_guest_uptime_seconds");
	ASSERT_TRUE(up >= (double)si.uptime - 2 && up <= (double)si.uptime + 2);
	ASSERT_TRUE(sample(text, "kata_guest_cpu_time_seconds_total{cpu=\"0\",mode=\"idle\"}") > 0);
	ASSERT_TRUE(sample(text, "kata_guest_tasks{item=\"total\"}") >= 1);
	/* Every line is a comment or "name[{labels}] value". */
	for (char *l = text; *l;) {
		char *nl = strchr(l, '\n');
		ASSERT_NOT_NULL(nl);
		*nl = '\0';
		if (l[0] != '#') {
			ASSERT_TRUE(strncmp(l, "kata_", 5) == 0);
			char *sp = strrchr(l, ' ');
			ASSERT_NOT_NULL(sp);
			char *end;
			strtod(sp + 1, &end);
			ASSERT_TRUE(end != sp + 1 && *end == '\0');
		}
		l = nl + 1;
	}
	free(text);
}

TEST(metrics_without_proc_are_empty_not_an_error)
{
	char *text = NULL;
	agent_error_t *err = NULL;
	ASSERT_EQ(guest_metrics("/nonexistent-proc", &text, &err), 0);
	ASSERT_STREQ(text, "");
	free(text);
}

/* /proc/stat's first line sums every CPU ("cpu  4705 0 ..."): it is no CPU of its own, so only
 * the "cpuN" lines become series (a scan that skips spaces would read 4705 as a CPU number). */
TEST(cpu_series_only_for_numbered_cpus)
{
	char dir[256], path[300];
	snprintf(dir, sizeof(dir), "%s", test_scratch_dir());
	snprintf(path, sizeof(path), "%s/stat", dir);
	FILE *f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	fputs("cpu  4705 1 200 9000 3 0 4 0 0 0\n"
	      "cpu0 2000 1 100 4500 2 0 2 0 0 0\n"
	      "cpu1 2705 0 100 4500 1 0 2 0 0 0\n"
	      "intr 1 2 3\nctxt 99\n",
	      f);
	ASSERT_EQ(fclose(f), 0);
	char *text = NULL;
	agent_error_t *err = NULL;
	if (guest_metrics(dir, &text, &err) < 0)
		FAIL("%s", err->msg);
	ASSERT_NULL(strstr(text, "cpu=\"4705\""));
	long hz = sysconf(_SC_CLK_TCK);
	ASSERT_TRUE(sample(text, "kata_guest_cpu_time_seconds_total{cpu=\"0\",mode=\"user\"}") ==
		    2000.0 / (double)hz);
	ASSERT_TRUE(sample(text, "kata_guest_cpu_time_seconds_total{cpu=\"1\",mode=\"user\"}") ==
		    2705.0 / (double)hz);
	/* Two CPUs, each with its modes: no third series. */
	size_t series = 0;
	for (const char *p = text; (p = strstr(p, "kata_guest_cpu_time_seconds_total{cpu=\"")); p++)
		if (strstr(p, "mode=\"user\"") && strstr(p, "mode=\"user\"") < strchr(p, '\n'))
			series++;
	ASSERT_EQ(series, 2);
	free(text);
}
