/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Value parsers shared by the command line, the TOML file and the environment.
 * The duration grammar and its overflow rules are Go's time.ParseDuration,
 * less the sign (a negative wait means nothing here), plus plain integers as
 * seconds (what upstream's kernel parameter takes).
 */
#include "config/duration.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/macro.h"

#define NS_PER_MS 1000000ULL
#define NS_PER_S 1000000000ULL

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
	const char *p = s;
	int64_t v = 0;
	bool neg = false;

	if (!s)
		return -EINVAL;
	if (*p == '-') {
		neg = true;
		p++;
	}
	if (*p < '0' || *p > '9')
		return -EINVAL;
	/* Digits are checked one by one: strtol would take spaces, '+' and "0x". */
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (v <= (int64_t)INT32_MAX + 1)
			v = v * 10 + (*p - '0');
	}
	if (neg)
		v = -v;
	if (v < INT32_MIN || v > INT32_MAX)
		return -ERANGE;
	*ret = (int32_t)v;
	return 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Go's leadingInt: the digits at *pp as an integer, -ERANGE past 2^63. */
static int leading_int(const char **pp, uint64_t *ret)
{
	const char *p = *pp;
	uint64_t x = 0;

	for (; is_digit(*p); p++) {
		if (x > (1ULL << 63) / 10)
			return -ERANGE;
		x = x * 10 + (uint64_t)(*p - '0');
		if (x > 1ULL << 63)
			return -ERANGE;
	}
	*pp = p;
	*ret = x;
	return 0;
}

/*
 * Go's leadingFraction: the digits after the dot as x / scale. Past 18 digits
 * (below an attosecond of an hour) the rest are dropped, which also keeps
 * scale <= 10^18 where Go's float scale would just grow.
 */
static void leading_fraction(const char **pp, uint64_t *ret_x, uint64_t *ret_scale)
{
	const char *p = *pp;
	uint64_t x = 0, scale = 1;

	for (int n = 0; is_digit(*p); p++, n++) {
		if (n >= 18)
			continue;
		x = x * 10 + (uint64_t)(*p - '0');
		scale *= 10;
	}
	*pp = p;
	*ret_x = x;
	*ret_scale = scale;
}

static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
	{"ns", 1ULL},		{"us", 1000ULL}, {"\xc2\xb5s", 1000ULL}, /* U+00B5 MICRO SIGN */
	{"\xce\xbcs", 1000ULL}, /* U+03BC GREEK SMALL LETTER MU */
	{"ms", NS_PER_MS},	{"s", NS_PER_S}, {"m", 60ULL * NS_PER_S}, {"h", 3600ULL * NS_PER_S},
};

int parse_go_duration_ns(const char *s, uint64_t *ret_ns)
{
	uint64_t d = 0;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;

	/* A plain integer means seconds. */
	if (strspn(s, "0123456789") == strlen(s)) {
		uint64_t secs;
		int r = leading_int(&p, &secs);
		if (r < 0 || secs > DURATION_MAX_NS / NS_PER_S)
			return -ERANGE;
		*ret_ns = secs * NS_PER_S;
		return 0;
	}

	/* [0-9]*(\.[0-9]*)?unit, repeated; each step consumes at least one byte. */
	while (*p) {
		uint64_t v = 0, f = 0, scale = 1;
		const char *start = p;

		if (!(*p == '.' || is_digit(*p)))
			return -EINVAL;
		if (leading_int(&p, &v) < 0)
			return -ERANGE;
		bool pre = p != start, post = false;
		if (*p == '.') {
			const char *fs = ++p;
			leading_fraction(&p, &f, &scale);
			post = p != fs;
		}
		if (!pre && !post)
			return -EINVAL; /* "." or ".s" */

		size_t ul = 0;
		while (p[ul] && p[ul] != '.' && !is_digit(p[ul]))
			ul++;
		if (ul == 0)
			return -EINVAL; /* missing unit */
		size_t u;
		for (u = 0; u < ARRAY_SIZE(units); u++)
			if (strlen(units[u].name) == ul && memcmp(units[u].name, p, ul) == 0)
				break;
		if (u == ARRAY_SIZE(units))
			return -EINVAL; /* unknown unit */
		p += ul;

		uint64_t unit = units[u].ns;
		if (v > (1ULL << 63) / unit)
			return -ERANGE;
		v *= unit;
		if (f > 0) {
			/* f < 2^63 and unit < 2^42: the product fits in 128 bits. */
			v += (uint64_t)((unsigned __int128)f * unit / scale);
			if (v > 1ULL << 63)
				return -ERANGE;
		}
		d += v;
		if (d > 1ULL << 63)
			return -ERANGE;
	}
	if (d > DURATION_MAX_NS)
		return -ERANGE;
	*ret_ns = d;
	return 0;
}

int parse_go_duration_ms(const char *s, uint64_t *ret_ms)
{
	uint64_t ns;
	int r = parse_go_duration_ns(s, &ns);
	if (r < 0)
		return r;
	*ret_ms = ns / NS_PER_MS + (ns % NS_PER_MS != 0);
	return 0;
}

int duration_ms_from_secs_nanos(int64_t secs, int64_t nanos, uint64_t *ret_ms)
{
	if (secs < 0 || nanos < 0 || nanos >= (int64_t)NS_PER_S)
		return -EINVAL;
	if ((uint64_t)secs > (DURATION_MAX_NS - (uint64_t)nanos) / NS_PER_S)
		return -ERANGE;
	uint64_t ns = (uint64_t)secs * NS_PER_S + (uint64_t)nanos;
	*ret_ms = ns / NS_PER_MS + (ns % NS_PER_MS != 0);
	return 0;
}
