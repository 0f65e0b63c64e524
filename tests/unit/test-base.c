/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/scan.h"
#include "base/strbuf.h"
#include "harness.h"

TEST(error_set_and_wrap)
{
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(agent_error_set(&err, ENOENT, "no %s", "thing"), -ENOENT);
	ASSERT_STREQ(err->msg, "no thing");
	/* A second set keeps the first error (the root cause). */
	ASSERT_EQ(agent_error_set(&err, EINVAL, "other"), -EINVAL);
	ASSERT_STREQ(err->msg, "no thing");
	ASSERT_EQ(agent_error_wrap(&err, "open %d", 3), -ENOENT);
	ASSERT_STREQ(err->msg, "open 3: no thing");
	ASSERT_EQ(err->errnum, ENOENT);
	ASSERT_EQ(agent_error_set(NULL, EPERM, "x"), -EPERM);
}

/* A failing step below a caller that passed no error slot. */
static int fails_with(int errnum, agent_error_t **err)
{
	return agent_error_set(err, errnum, "step failed");
}

static int wraps_the_failure(int errnum, agent_error_t **err)
{
	if (fails_with(errnum, err) < 0)
		return agent_error_wrap(err, "while doing %s", "things");
	return 0;
}

/* Without an error object, wrap still returns the errno of the failure, not EIO. */
TEST(error_wrap_without_object_keeps_the_errno)
{
	ASSERT_EQ(wraps_the_failure(ENOENT, NULL), -ENOENT);
	ASSERT_EQ(wraps_the_failure(EPERM, NULL), -EPERM);
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(wraps_the_failure(EACCES, &err), -EACCES);
	ASSERT_STREQ(err->msg, "while doing things: step failed");
	/* An error already held wins over a later failure: its errno is the root cause. */
	ASSERT_EQ(agent_error_set(&err, EINVAL, "later"), -EINVAL);
	ASSERT_EQ(agent_error_wrap(&err, "ctx"), -EACCES);
}

TEST(error_setsys_appends_strerror)
{
	_cleanup_error_ agent_error_t *err = NULL;
	agent_error_setsys(&err, EACCES, "cannot open %s", "/x");
	ASSERT_STREQ(err->msg, "cannot open /x: Permission denied");
}

TEST(strbuf_json_escaping)
{
	struct strbuf sb;
	strbuf_init(&sb, 0);
	strbuf_add_json_string(&sb, "a\"b\\c\n\x01\xc3\xa9\xff");
	ASSERT_STREQ(sb.s, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\\ufffd\"");
	strbuf_release(&sb);
}

TEST(strbuf_bound)
{
	struct strbuf sb;
	strbuf_init(&sb, 8);
	strbuf_adds(&sb, "1234");
	ASSERT_FALSE(sb.oom);
	strbuf_addf(&sb, "%s", "56789");
	ASSERT_TRUE(sb.oom);
	ASSERT_STREQ(sb.s, "1234");
	strbuf_release(&sb);
}

TEST(log_levels_parse)
{
	enum log_level l;
	ASSERT_EQ(log_level_parse("warning", &l), 0);
	ASSERT_EQ(l, LOG_LEVEL_WARN);
	ASSERT_EQ(log_level_parse("panic", &l), 0);
	ASSERT_EQ(l, LOG_LEVEL_CRITICAL);
	ASSERT_EQ(log_level_parse("DEBUG", &l), -EINVAL);
	ASSERT_EQ(log_level_parse("", &l), -EINVAL);
}

TEST(log_writes_json_line_with_fields)
{
	int p[2];
	ASSERT_EQ(pipe(p), 0);
	struct logger lg;
	logger_init(&lg, LOG_LEVEL_INFO, p[1], "9.9");
	log_install(&lg);
	log_write(LOG_LEVEL_INFO, "rpc", LOG_FIELDS({"container-id", "c\"1"}), "hello %d", 42);
	log_debug("rpc", "below threshold");
	char buf[1024] = {0};
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	ASSERT_TRUE(n > 0);
	ASSERT_TRUE(strstr(buf, "{\"msg\":\"hello 42\",\"level\":\"INFO\",\"ts\":\"") == buf);
	ASSERT_NOT_NULL(strstr(buf, "\"subsystem\":\"rpc\""));
	ASSERT_NOT_NULL(strstr(buf, "\"name\":\"kata-agent\""));
	ASSERT_NOT_NULL(strstr(buf, "\"source\":\"agent\""));
	ASSERT_NOT_NULL(strstr(buf, "\"container-id\":\"c\\\"1\""));
	ASSERT_NOT_NULL(strstr(buf, "\"version\":\"9.9\""));
	ASSERT_NULL(strstr(buf, "below threshold"));
	ASSERT_EQ(buf[n - 1], '\n');
	ASSERT_EQ(strchr(buf, '\n'), buf + n - 1); /* exactly one line */
	logger_release(&lg);
}

/* A reader that never reads: logging never blocks, lines are dropped and counted, then reported. */
TEST(log_never_blocks_and_reports_drops)
{
	int p[2];
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	struct logger lg;
	logger_init(&lg, LOG_LEVEL_INFO, p[1], NULL);
	log_install(&lg);
	char big[2000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	alarm(10); /* a blocking write would hang here */
	for (int i = 0; i < 2000; i++)
		log_info("t", "%s", big);
	ASSERT_TRUE(lg.dropped_total > 0);
	ASSERT_TRUE(lg.len <= lg.cap);
	uint64_t dropped = lg.dropped_total;
	/* Drain the pipe and the buffer, then the next line brings a drop report. */
	ASSERT_EQ(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	char buf[65536];
	bool reported = false;
	for (int round = 0; round < 200 && !reported; round++) {
		while (read(p[0], buf, sizeof(buf)) > 0)
			;
		logger_flush(&lg);
		while (read(p[0], buf, sizeof(buf)) > 0)
			;
		if (lg.len == 0) {
			log_info("t", "after");
			ssize_t n = read(p[0], buf, sizeof(buf) - 1);
			ASSERT_TRUE(n > 0);
			buf[n] = 0;
			ASSERT_NOT_NULL(strstr(buf, "log lines were dropped"));
			ASSERT_NOT_NULL(strstr(buf, "\"msg\":\"after\""));
			reported = true;
		}
	}
	ASSERT_TRUE(reported);
	ASSERT_EQ(lg.dropped, 0);
	ASSERT_EQ(lg.dropped_total, dropped);
	logger_release(&lg);
}

/* Whole files of unknown size: grown as needed, bounded, NUL-terminated. */
TEST(read_file_all_bounds)
{
	char path[] = "/tmp/read-all-XXXXXX";
	int fd = mkstemp(path);
	ASSERT_TRUE(fd >= 0);
	char block[1000];
	memset(block, 'x', sizeof(block));
	for (int i = 0; i < 10; i++)
		ASSERT_EQ(write(fd, block, sizeof(block)), (ssize_t)sizeof(block));
	close(fd);
	char *text = NULL;
	ASSERT_EQ(read_file_all(path, 1 << 20, &text), 10000);
	ASSERT_EQ(strlen(text), 10000);
	free(text);
	text = NULL;
	/* 10000 bytes do not fit a bound of 8192. */
	ASSERT_EQ(read_file_all(path, 8192, &text), -EFBIG);
	ASSERT_NULL(text);
	/* procfs: size 0 in stat, read whole all the same. */
	ASSERT_TRUE(read_file_all("/proc/self/status", 1 << 20, &text) > 0);
	ASSERT_NOT_NULL(strstr(text, "Pid:"));
	free(text);
	unlink(path);
	ASSERT_EQ(read_file_all(path, 1 << 20, &text), -ENOENT);
}

/* Small attribute files: what fits exactly is read, one byte more is EFBIG. */
TEST(read_file_small_bounds)
{
	char path[] = "/tmp/read-small-XXXXXX";
	int fd = mkstemp(path);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, "offline\n", 8), 8);
	close(fd);
	char buf[16];
	ASSERT_EQ(read_file_small(path, buf, sizeof(buf)), 8);
	ASSERT_STREQ(buf, "offline\n");
	ASSERT_EQ(read_file_small(path, buf, 9), 8); /* exactly fits */
	ASSERT_EQ(read_file_small(path, buf, 8), -EFBIG);
	unlink(path);
	ASSERT_EQ(read_file_small(path, buf, sizeof(buf)), -ENOENT);
	/* A sysfs/procfs file whose size stat does not know. */
	ASSERT_TRUE(read_file_small("/proc/self/cgroup", (char[4096]){0}, 4096) > 0);
}

/* A handled failure is dropped from the caller's slot, also when the caller gave none. */
TEST(error_clear_takes_no_slot_too)
{
	agent_error_t *err = NULL;
	agent_error_clear(NULL);
	agent_error_clear(&err);
	ASSERT_EQ(agent_error_set(&err, ENOENT, "gone"), -ENOENT);
	ASSERT_NOT_NULL(err);
	agent_error_clear(&err);
	ASSERT_TRUE(err == NULL);
}

/* The scanf replacements read what the scanf formats they replace read, and refuse the rest. */
TEST(scan_conversions)
{
	unsigned long long v = 7;
	char w[4];
	double d;
	const char *p;

	ASSERT_TRUE((p = scan_ull(" \t42:9", &v)) && v == 42 && *p == ':');
	ASSERT_TRUE(scan_ull("18446744073709551615", &v) && v == ULLONG_MAX);
	ASSERT_TRUE(!scan_ull("18446744073709551616", &v) && v == ULLONG_MAX);
	ASSERT_TRUE(!scan_ull("", &v) && !scan_ull("  x1", &v) && !scan_ull("-1", &v));
	ASSERT_TRUE(!scan_ull("+1", &v));
	ASSERT_TRUE((p = scan_word("  Read 12", w, sizeof(w))) && strcmp(w, "Rea") == 0);
	ASSERT_STREQ(p, "d 12");
	ASSERT_TRUE(!scan_word(" \n", w, sizeof(w)));
	ASSERT_STREQ(scan_space(" \t\nx "), "x ");
	ASSERT_TRUE((p = scan_decimal(" 0.52 0.58", &d)) && d == strtod("0.52", NULL));
	ASSERT_STREQ(p, " 0.58");
	ASSERT_TRUE(scan_decimal("12345.67", &d) && d == strtod("12345.67", NULL));
	ASSERT_TRUE(scan_decimal("3", &d) && d == 3.0);
	ASSERT_TRUE(scan_decimal("9007199254740991", &d) && d == 9007199254740991.0);
	ASSERT_TRUE(!scan_decimal("9007199254740992", &d));
	ASSERT_TRUE(!scan_decimal(".5", &d) && !scan_decimal("-1.0", &d));
	ASSERT_TRUE(!scan_decimal("1.00000000000000000000001", &d));
}
