/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Value parsers shared by the kernel command line, the TOML file and the
 * environment: Go durations, booleans, 32-bit integers. They take whole
 * strings (no leading or trailing space) and leave the output alone on error.
 */
#ifndef AGENT_CONFIG_DURATION_H
#define AGENT_CONFIG_DURATION_H

#include <stdbool.h>
#include <stdint.h>

/* Go's time.Duration range: the longest duration is INT64_MAX nanoseconds (~292 years). */
#define DURATION_MAX_NS ((uint64_t)INT64_MAX)

/*
 * A Go duration without a sign ("1h2m3.5s", "500ms", "10us", "1µs", "7ns",
 * units ns us µs μs ms s m h), or a plain decimal integer meaning seconds.
 * Returns 0, -EINVAL (syntax) or -ERANGE (beyond DURATION_MAX_NS).
 */
int parse_go_duration_ns(const char *s, uint64_t *ret_ns);
/* The same, in milliseconds rounded up (a positive wait under 1 ms still waits 1 ms). */
int parse_go_duration_ms(const char *s, uint64_t *ret_ms);
/* Serialised Rust Duration { secs, nanos } (nanos < 10^9) in ms rounded up; -ERANGE as above. */
int duration_ms_from_secs_nanos(int64_t secs, int64_t nanos, uint64_t *ret_ms);

/* 1|true|yes|on and 0|false|no|off, any case. -EINVAL otherwise. */
int parse_bool_strict(const char *s, bool *ret);
/* Decimal int32 ("-5", "42"), no space, no '+', no trailing garbage. -EINVAL or -ERANGE. */
int parse_i32(const char *s, int32_t *ret);

#endif
