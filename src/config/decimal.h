/* SPDX-License-Identifier: Apache-2.0 */
/* Decimal text to the nearest double, for TOML floats, without libc's strtod. */
#ifndef AGENT_CONFIG_DECIMAL_H
#define AGENT_CONFIG_DECIMAL_H

/*
 * s is "[+-]D[.D][(e|E)[+-]D]" (already checked: digits only, no '_'). *ret gets the double
 * nearest to it (ties to even), as a correct strtod gives; 0, or -ERANGE (nothing set) when it
 * is too large for a double. Values too small for one give +-0, as strtod does.
 */
int decimal_to_double(const char *s, double *ret);

#endif
