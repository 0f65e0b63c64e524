/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tiny unit-test harness: TEST(name) { ... } registers a test; each test runs
 * in a forked child with a timeout. A test skips with SKIP("reason") (exit 77).
 * The binary prints one line per test and a closing "N passed, N failed, N skipped".
 * Optional argument: a substring filter on test names.
 *
 * Environment: TEST_TIME_SCALE=N (a positive integer, default 1) multiplies every per-test
 * timeout and what tests scale with test_time_scale(): slow builds (sanitizers) and loaded
 * machines get more time without any assertion being loosened. Each test gets a fresh scratch
 * directory (test_scratch_dir(), also in $TEST_SCRATCH_DIR) that the harness removes when the
 * test ends, whatever way it ends.
 */
#ifndef AGENT_TEST_HARNESS_H
#define AGENT_TEST_HARNESS_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(void);
	unsigned timeout_s;
	struct test_case *next;
};

void test_register(struct test_case *tc);
void test_fail_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* The factor of TEST_TIME_SCALE (>= 1). */
unsigned test_time_scale(void);
/* Re-arms the running test's timeout to secs (scaled), for tests whose length is configured. */
void test_set_timeout(unsigned secs);
/*
 * The running test's scratch directory ("/tmp/kata-test.XXXXXX"), created before the test and
 * removed after it (also on failure, timeout or crash), without crossing mount points. NULL
 * outside a test.
 */
const char *test_scratch_dir(void);

#define TEST_TIMEOUT(name, secs)                                                        \
	static void test_fn_##name(void);                                               \
	static struct test_case test_case_##name = {#name, test_fn_##name, secs, NULL}; \
	__attribute__((constructor)) static void test_reg_##name(void)                  \
	{                                                                               \
		test_register(&test_case_##name);                                       \
	}                                                                               \
	static void test_fn_##name(void)
#define TEST(name) TEST_TIMEOUT(name, 30)

#define FAIL(...) test_fail_at(__FILE__, __LINE__, __VA_ARGS__)
#define SKIP(...) test_skip(__VA_ARGS__)

#define ASSERT_TRUE(c)                                    \
	do {                                              \
		if (!(c))                                 \
			FAIL("assertion failed: %s", #c); \
	} while (0)
#define ASSERT_FALSE(c) ASSERT_TRUE(!(c))
#define ASSERT_EQ(a, b)                                               \
	do {                                                          \
		intmax_t _a = (intmax_t)(a), _b = (intmax_t)(b);      \
		if (_a != _b)                                         \
			FAIL("%s == %s: %jd != %jd", #a, #b, _a, _b); \
	} while (0)
#define ASSERT_NE(a, b)                                          \
	do {                                                     \
		intmax_t _a = (intmax_t)(a), _b = (intmax_t)(b); \
		if (_a == _b)                                    \
			FAIL("%s != %s: both %jd", #a, #b, _a);  \
	} while (0)
#define ASSERT_GE(a, b)                                              \
	do {                                                         \
		intmax_t _a = (intmax_t)(a), _b = (intmax_t)(b);     \
		if (_a < _b)                                         \
			FAIL("%s >= %s: %jd < %jd", #a, #b, _a, _b); \
	} while (0)
#define ASSERT_STREQ(a, b)                                                             \
	do {                                                                           \
		const char *_a = (a), *_b = (b);                                       \
		if (!_a || !_b || strcmp(_a, _b) != 0)                                 \
			FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, _a ? _a : "(null)", \
			     _b ? _b : "(null)");                                      \
	} while (0)
#define ASSERT_NULL(p) ASSERT_TRUE((p) == NULL)
#define ASSERT_NOT_NULL(p) ASSERT_TRUE((p) != NULL)

#endif
