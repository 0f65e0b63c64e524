/* SPDX-License-Identifier: Apache-2.0 */
#include "scan.h"

#include <ctype.h>
#include <limits.h>

const char *scan_space(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

/* Digits at p (no white space skipped) into *v; n counts them. NULL on overflow. */
static const char *digits(const char *p, unsigned long long *v, unsigned *n)
{
	for (; *p >= '0' && *p <= '9'; p++, (*n)++) {
		unsigned d = (unsigned)(*p - '0');
		if (*v > (ULLONG_MAX - d) / 10)
			return NULL;
		*v = *v * 10 + d;
	}
	return p;
}

const char *scan_ull(const char *p, unsigned long long *ret)
{
	unsigned long long v = 0;
	unsigned n = 0;
	p = digits(scan_space(p), &v, &n);
	if (!p || !n)
		return NULL;
	*ret = v;
	return p;
}

const char *scan_word(const char *p, char *buf, size_t size)
{
	size_t n = 0;
	p = scan_space(p);
	while (*p && !isspace((unsigned char)*p) && n + 1 < size)
		buf[n++] = *p++;
	if (!n)
		return NULL;
	buf[n] = '\0';
	return p;
}

const char *scan_decimal(const char *p, double *ret)
{
	unsigned long long m = 0;
	unsigned n = 0, whole;
	p = digits(scan_space(p), &m, &n);
	if (!p || !n)
		return NULL;
	whole = n;
	if (*p == '.')
		p = digits(p + 1, &m, &n);
	/* m below 2^53 is exact as a double, and so is 10^k for k <= 22: one rounding. */
	if (!p || m >= 1ULL << 53 || n - whole > 22)
		return NULL;
	double scale = 1;
	for (unsigned k = whole; k < n; k++)
		scale *= 10;
	*ret = (double)m / scale;
	return p;
}
