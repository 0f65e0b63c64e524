/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The few scanf conversions the agent needs (kernel files, its own children's output), without
 * the scanf family: each skips white space first, as scanf's do, and returns where it stopped,
 * or NULL when nothing matched.
 */
#ifndef AGENT_BASE_SCAN_H
#define AGENT_BASE_SCAN_H

#include <stddef.h>

/* Past the white space (isspace) at p, as a space in a scanf format. */
const char *scan_space(const char *p);
/* Like "%llu" but stricter: decimal digits only (no sign), NULL when out of range. */
const char *scan_ull(const char *p, unsigned long long *ret);
/* Like "%Ns" with N = size - 1 (size > 1): up to N non-space characters into buf. */
const char *scan_word(const char *p, char *buf, size_t size);
/*
 * A non-negative decimal "D[.D]" (no exponent) as the nearest double, like "%lf" does, while
 * its digits (point left out) stay below 2^53 and at most 22 follow the point; NULL beyond.
 */
const char *scan_decimal(const char *p, double *ret);

#endif
