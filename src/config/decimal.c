/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exact big-integer conversion: the value D * 10^E times 2^SHIFT, as an integer Q (floor) and a
 * "something below" flag, holds every bit a double can have (the smallest subnormal is
 * 2^-1074) plus two to round with. Digits beyond MAX_DIGITS only matter as "something below":
 * a double and a midpoint between two have at most 767 significant digits, so the digits kept
 * already decide on which side of every midpoint the value lies.
 */
#include "decimal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define MAX_DIGITS 800
#define SHIFT 1076
/* D < 10^800 (2658 bits) times 2^1076; with E > 0, D * 10^E < 10^311 (1034 bits) times 2^1076. */
#define WORDS 120

struct big {
	uint32_t w[WORDS];
	unsigned n; /* words in use */
};

static void big_mul_add(struct big *b, uint32_t mul, uint32_t add)
{
	uint64_t carry = add;
	for (unsigned i = 0; i < b->n; i++) {
		carry += (uint64_t)b->w[i] * mul;
		b->w[i] = (uint32_t)carry;
		carry >>= 32;
	}
	if (carry && b->n < WORDS)
		b->w[b->n++] = (uint32_t)carry;
}

/* b /= div; returns whether the remainder is not 0. */
static bool big_div(struct big *b, uint32_t div)
{
	uint64_t rem = 0;
	for (unsigned i = b->n; i-- > 0;) {
		rem = rem << 32 | b->w[i];
		b->w[i] = (uint32_t)(rem / div);
		rem %= div;
	}
	while (b->n && !b->w[b->n - 1])
		b->n--;
	return rem != 0;
}

static unsigned big_bit(const struct big *b, unsigned i)
{
	return i / 32 < b->n ? (b->w[i / 32] >> (i % 32)) & 1 : 0;
}

int decimal_to_double(const char *s, double *ret)
{
	struct big q = {.n = 0};
	bool neg = *s == '-', below = false, frac = false;
	long exp10 = 0, e = 0;
	unsigned nd = 0;

	if (*s == '-' || *s == '+')
		s++;
	for (; (*s >= '0' && *s <= '9') || *s == '.'; s++) {
		if (*s == '.') {
			frac = true;
			continue;
		}
		unsigned d = (unsigned)(*s - '0');
		if (nd == 0 && d == 0) {
			exp10 -= frac; /* a leading zero */
		} else if (nd < MAX_DIGITS) {
			big_mul_add(&q, 10, d);
			nd++;
			exp10 -= frac;
		} else {
			below |= d != 0;
			exp10 += !frac;
		}
	}
	if (*s == 'e' || *s == 'E') {
		bool eneg = *++s == '-';
		if (*s == '-' || *s == '+')
			s++;
		for (; *s >= '0' && *s <= '9'; s++)
			if (e < 100000)
				e = e * 10 + (*s - '0');
		exp10 += eneg ? -e : e;
	}
	uint64_t bits = 0;
	if (nd && (long)nd + exp10 > 310) /* at least 10^310 */
		return -ERANGE;
	if (nd && (long)nd + exp10 >= -330) { /* else below 10^-330: 0 */
		for (unsigned i = 0; i < SHIFT / 16; i++)
			big_mul_add(&q, 1u << 16, 0);
		big_mul_add(&q, 1u << (SHIFT % 16), 0);
		for (; exp10 > 0; exp10--)
			big_mul_add(&q, 10, 0);
		for (; exp10 < 0; exp10++)
			below |= big_div(&q, 10);
		/* Q's bit i is worth 2^(i - SHIFT): keep 53 bits from s up, s >= 2 (2^-1074). */
		unsigned len = q.n * 32;
		while (len && !big_bit(&q, len - 1))
			len--;
		unsigned sh = len > 55 ? len - 53 : 2;
		uint64_t m = 0;
		for (unsigned i = sh + 53; i-- > sh;)
			m = m << 1 | big_bit(&q, i);
		for (unsigned i = 0; i + 1 < sh && !below; i++)
			below = big_bit(&q, i);
		if (big_bit(&q, sh - 1) && (below || (m & 1)))
			m++;
		if (m == 1ULL << 53)
			m >>= 1, sh++;
		/* A subnormal has sh == 2 and m < 2^52; else the exponent field is sh - 1. */
		bits = ((uint64_t)(sh - 2) << 52) + m;
		if (bits >= 0x7ffULL << 52)
			return -ERANGE;
	}
	bits |= (uint64_t)neg << 63;
	memcpy(ret, &bits, sizeof(*ret));
	return 0;
}
