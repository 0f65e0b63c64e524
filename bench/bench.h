/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every bench program shares: a monotonic clock, min/median/max of a series, the load
 * average, and the machine-readable FIGURE line that bench/report.sh collects:
 *   FIGURE<TAB>name<TAB>unit<TAB>lower|higher<TAB>peer<TAB>a-min<TAB>a-median<TAB>a-max
 *         <TAB>p-min<TAB>p-median<TAB>p-max
 * A figure without a peer prints "-" for the peer's three values. Besides FIGURE, report.sh reads
 *   NOTE<TAB>text               a remark (conditions, a skipped peer) listed under "Notes",
 *   DETAIL<TAB>title<TAB>text   a line of a section of its own (e.g. a size breakdown).
 */
#ifndef KATA_BENCH_H
#define KATA_BENCH_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* min, median and max of v[0..n) (sorted in place). n == 0 gives zeros. */
struct bench_stats {
	double min, median, max;
	int n;
};

static inline struct bench_stats bench_stats(double *v, int n)
{
	struct bench_stats s = {0, 0, 0, n};
	if (n <= 0)
		return s;
	qsort(v, n, sizeof(double), bench_cmp_double);
	s.min = v[0];
	s.max = v[n - 1];
	s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

/* The 1, 5 and 15 minute load averages as "0.42 0.51 0.60" (or "?"). */
static inline const char *bench_loadavg(char *buf, size_t size)
{
	FILE *f = fopen("/proc/loadavg", "re");
	double l1, l5, l15;
	if (f && fscanf(f, "%lf %lf %lf", &l1, &l5, &l15) == 3)
		snprintf(buf, size, "%.2f %.2f %.2f", l1, l5, l15);
	else
		snprintf(buf, size, "?");
	if (f)
		fclose(f);
	return buf;
}

/* Prints the load average now, also as a DETAIL line: the report lists it per program. */
static inline void bench_print_load(const char *prog, const char *when)
{
	char buf[64];
	bench_loadavg(buf, sizeof(buf));
	printf("load %s: %s\n", when, buf);
	printf("DETAIL\tload average (1/5/15 min) around each program\t%s, %s its figures: %s\n",
	       prog, when, buf);
}

/*
 * One figure, human line then FIGURE line. peer may be NULL (no peer: "-"). lower_better tells
 * which direction is good. The human ratio is agent / peer of the medians.
 */
static inline void bench_figure(const char *name, const char *unit, bool lower_better,
				const char *peer_name, struct bench_stats a,
				const struct bench_stats *p)
{
	if (p && p->n > 0) {
		printf("%s (%s, %s is better, %d rounds): agent %.5g / %.5g / %.5g, %s %.5g / "
		       "%.5g / %.5g (min / median / max), ratio of medians %.3fx\n",
		       name, unit, lower_better ? "lower" : "higher", a.n, a.min, a.median, a.max,
		       peer_name, p->min, p->median, p->max,
		       p->median != 0 ? a.median / p->median : 0);
		printf("FIGURE\t%s\t%s\t%s\t%s\t%.6g\t%.6g\t%.6g\t%.6g\t%.6g\t%.6g\n", name, unit,
		       lower_better ? "lower" : "higher", peer_name, a.min, a.median, a.max, p->min,
		       p->median, p->max);
	} else {
		printf("%s (%s, %s is better, %d rounds): agent %.5g / %.5g / %.5g (min / median / "
		       "max), no peer\n",
		       name, unit, lower_better ? "lower" : "higher", a.n, a.min, a.median, a.max);
		printf("FIGURE\t%s\t%s\t%s\t%s\t%.6g\t%.6g\t%.6g\t-\t-\t-\n", name, unit,
		       lower_better ? "lower" : "higher", peer_name ? peer_name : "-", a.min,
		       a.median, a.max);
	}
	fflush(stdout);
}

#endif
