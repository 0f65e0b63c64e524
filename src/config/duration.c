/* SPDX-License-Identifier: Apache-2.0 */
/* Value parsers shared by the command line, the TOML file and the environment. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"

int parse_bool_strict(const char *s, bool *ret)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off"};
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

int parse_i32(const char *s, int32_t *ret)
{
	char *end;
	if (!s || !*s || *s == ' ')
		return -EINVAL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < INT32_MIN || v > INT32_MAX)
		return -ERANGE;
	*ret = (int32_t)v;
	return 0;
}

/* Unit lengths in nanoseconds, longest unit names first where they share a prefix. */
static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
	{"ns", 1ULL},
	{"us", 1000ULL},
	{"\xc2\xb5s", 1000ULL}, /* µs */
	{"\xce\xbcs", 1000ULL},
	/* μs */ {"ms", 1000000ULL},
	{"s", 1000000000ULL},
	{"m", 60000000000ULL},
	{"h", 3600000000000ULL},
};

int parse_go_duration_ms(const char *s, uint64_t *ret_ms)
{
	if (!s || !*s)
		return -EINVAL;
	if (*s == '+' || *s == '-')
		return -EINVAL; /* a negative wait makes no sense; '+' is not worth accepting */

	/* A plain integer means seconds (the form upstream's kernel parameter takes). */
	size_t digits = strspn(s, "0123456789");
	if (s[digits] == '\0') {
		if (digits > 12)
			return -ERANGE;
		*ret_ms = strtoull(s, NULL, 10) * 1000;
		return 0;
	}

	/* Whole nanoseconds as a long double keeps fractions exact enough; bound at 10^7 hours. */
	long double total_ns = 0;
	const char *p = s;
	while (*p) {
		const char *num = p;
		p += strspn(p, "0123456789");
		const char *frac = NULL;
		if (*p == '.') {
			frac = ++p;
			p += strspn(p, "0123456789");
		}
		if (p == num || (frac && p == frac && frac - 1 == num))
			return -EINVAL; /* no digits at all ("s", ".s") */
		if (p - num > 30)
			return -ERANGE;
		char buf[40];
		memcpy(buf, num, p - num);
		buf[p - num] = '\0';
		long double v = strtold(buf, NULL);
		size_t i;
		for (i = 0; i < ARRAY_SIZE(units); i++) {
			size_t ul = strlen(units[i].name);
			if (strncmp(p, units[i].name, ul) == 0) {
				/* "m" must not swallow the start of "ms". */
				if (units[i].name[0] == 'm' && ul == 1 && p[1] == 's')
					continue;
				p += ul;
				break;
			}
		}
		if (i == ARRAY_SIZE(units))
			return -EINVAL; /* missing or unknown unit */
		total_ns += v * units[i].ns;
		if (total_ns > 3.6e22L)
			return -ERANGE;
	}
	*ret_ms = (uint64_t)(total_ns / 1000000.0L);
	if (total_ns > 0 && *ret_ms == 0)
		*ret_ms = 1; /* a positive wait under 1 ms still waits */
	return 0;
}
