/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Structured logging: one JSON object per line with the fields upstream's
 * agent writes (msg, level, ts, pid, name, source, subsystem, version, extra
 * key/values). Lines go into a bounded buffer and are written without
 * blocking; when the reader is slow or absent, whole lines are dropped and
 * counted, and a line reporting the count is written once output flows again.
 *
 * The logger is the process-wide sink: it is owned by the agent context
 * (struct logger) and installed once with log_install().
 */
#ifndef AGENT_BASE_LOG_H
#define AGENT_BASE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

enum log_level {
	LOG_LEVEL_TRACE = 0,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_CRITICAL,
};

/* Parses upstream's level names (trace, debug, info, warn/warning, error, critical/fatal/panic). */
int log_level_parse(const char *s, enum log_level *ret_level);
const char *log_level_name(enum log_level level); /* "debug", ... */

struct log_field {
	const char *key;
	const char *value;
};

#define LOG_BUFFER_MAX (256u * 1024u)

struct logger {
	enum log_level level;
	int fd; /* destination, non-blocking; -1 = none connected (buffer only) */
	bool fd_owned; /* close fd when replaced */
	char *buf; /* pending bytes, [0, len) */
	size_t len;
	size_t cap; /* bound on buffered bytes */
	uint64_t dropped; /* lines dropped since the last report */
	uint64_t dropped_total; /* lines dropped since start */
	uint64_t written_total; /* lines accepted */
	int pid;
	const char *version;
	void (*on_pending)(struct logger *lg, void *data); /* buffer went non-empty */
	void *on_pending_data;
};

void log_install(struct logger *lg);
struct logger *log_current(void);
void logger_init(struct logger *lg, enum log_level level, int fd, const char *version);
void logger_release(struct logger *lg);
/* Replaces the destination; the new fd is made non-blocking. */
void logger_set_fd(struct logger *lg, int fd, bool owned);
/* Writes what it can without blocking. Returns bytes still pending, or -errno when the fd broke. */
long logger_flush(struct logger *lg);
/* Writes everything, blocking up to timeout_ms (used at shutdown). */
void logger_drain(struct logger *lg, int timeout_ms);

bool log_enabled(enum log_level level);
void log_write(enum log_level level, const char *subsystem, const struct log_field *fields,
	       size_t n_fields, const char *fmt, ...) _printf_(5, 6);

/* One record per line of `lines` (a text of \n-separated lines; NULL or "" logs nothing),
 * each "what: line". */
void log_lines(const char *subsystem, enum log_level level, const char *what, const char *lines);

#define LOG_FIELDS(...)                          \
	(const struct log_field[]){__VA_ARGS__}, \
		ARRAY_SIZE(((const struct log_field[]){__VA_ARGS__}))

#define log_trace(sub, ...) log_write(LOG_LEVEL_TRACE, sub, NULL, 0, __VA_ARGS__)
#define log_debug(sub, ...) log_write(LOG_LEVEL_DEBUG, sub, NULL, 0, __VA_ARGS__)
#define log_info(sub, ...) log_write(LOG_LEVEL_INFO, sub, NULL, 0, __VA_ARGS__)
#define log_warn(sub, ...) log_write(LOG_LEVEL_WARN, sub, NULL, 0, __VA_ARGS__)
#define log_error(sub, ...) log_write(LOG_LEVEL_ERROR, sub, NULL, 0, __VA_ARGS__)

#endif
