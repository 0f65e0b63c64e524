/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "strbuf.h"

/* The one sink, owned by the agent context (see log.h). */
static struct logger *current;

static const struct {
	const char *name;
	enum log_level level;
} level_names[] = {
	{"trace", LOG_LEVEL_TRACE},	  {"debug", LOG_LEVEL_DEBUG},
	{"info", LOG_LEVEL_INFO},	  {"warn", LOG_LEVEL_WARN},
	{"warning", LOG_LEVEL_WARN},	  {"error", LOG_LEVEL_ERROR},
	{"critical", LOG_LEVEL_CRITICAL}, {"fatal", LOG_LEVEL_CRITICAL},
	{"panic", LOG_LEVEL_CRITICAL},
};

/* The short names slog (and so upstream's agent) writes. */
static const char *const level_short[] = {"TRCE", "DEBG", "INFO", "WARN", "ERRO", "CRIT"};

int log_level_parse(const char *s, enum log_level *ret_level)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (strcmp(s, level_names[i].name) == 0) {
			*ret_level = level_names[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

const char *log_level_name(enum log_level level)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++)
		if (level_names[i].level == level)
			return level_names[i].name;
	return "info";
}

void log_install(struct logger *lg)
{
	current = lg;
}

struct logger *log_current(void)
{
	return current;
}

void logger_init(struct logger *lg, enum log_level level, int fd, const char *version)
{
	memset(lg, 0, sizeof(*lg));
	lg->level = level;
	lg->fd = -1;
	lg->cap = LOG_BUFFER_MAX;
	lg->pid = getpid();
	lg->version = version;
	if (fd >= 0)
		logger_set_fd(lg, fd, false);
}

void logger_release(struct logger *lg)
{
	if (current == lg)
		current = NULL;
	if (lg->fd_owned)
		safe_close(lg->fd);
	lg->fd = -1;
	free(lg->buf);
	lg->buf = NULL;
	lg->len = 0;
}

void logger_set_fd(struct logger *lg, int fd, bool owned)
{
	if (lg->fd_owned && lg->fd >= 0 && lg->fd != fd)
		safe_close(lg->fd);
	lg->fd = fd;
	lg->fd_owned = owned;
	if (fd >= 0) {
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0 && !(fl & O_NONBLOCK))
			(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	}
}

long logger_flush(struct logger *lg)
{
	size_t off = 0;
	long ret = 0;

	while (lg->fd >= 0 && off < lg->len) {
		ssize_t n = write(lg->fd, lg->buf + off, lg->len - off);
		if (n > 0) {
			off += n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			ret = -errno;
		break;
	}
	if (off) {
		memmove(lg->buf, lg->buf + off, lg->len - off);
		lg->len -= off;
	}
	return ret < 0 ? ret : (long)lg->len;
}

void logger_drain(struct logger *lg, int timeout_ms)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (lg->fd >= 0 && lg->len > 0) {
		if (logger_flush(lg) < 0)
			return;
		if (lg->len == 0)
			return;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long spent = (now.tv_sec - start.tv_sec) * 1000 +
			     (now.tv_nsec - start.tv_nsec) / 1000000;
		if (spent >= timeout_ms)
			return;
		struct pollfd p = {.fd = lg->fd, .events = POLLOUT};
		(void)poll(&p, 1, (int)(timeout_ms - spent));
	}
}

bool log_enabled(enum log_level level)
{
	return current ? level >= current->level : level >= LOG_LEVEL_INFO;
}

static void format_ts(char *out, size_t size)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
}

static void add_field(struct strbuf *sb, const char *key, const char *value)
{
	strbuf_add(sb, ",", 1);
	strbuf_add_json_string(sb, key);
	strbuf_add(sb, ":", 1);
	strbuf_add_json_string(sb, value);
}

/* A record is at most this long; a longer message is cut (and says so). */
#define LOG_LINE_MAX (64u * 1024u)

static void format_record(struct strbuf *sb, const struct logger *lg, enum log_level level,
			  const char *subsystem, const struct log_field *fields, size_t n_fields,
			  const char *msg)
{
	char ts[48], pid[16];

	format_ts(ts, sizeof(ts));
	snprintf(pid, sizeof(pid), "%d", lg ? lg->pid : (int)getpid());
	strbuf_adds(sb, "{\"msg\":");
	strbuf_add_json_string(sb, msg);
	add_field(sb, "level", level_short[level <= LOG_LEVEL_CRITICAL ? level : LOG_LEVEL_INFO]);
	add_field(sb, "ts", ts);
	add_field(sb, "pid", pid);
	add_field(sb, "name", "kata-agent");
	add_field(sb, "source", "agent");
	add_field(sb, "subsystem", subsystem ? subsystem : "root");
	if (lg && lg->version)
		add_field(sb, "version", lg->version);
	for (size_t i = 0; i < n_fields; i++)
		if (fields[i].key)
			add_field(sb, fields[i].key, fields[i].value ? fields[i].value : "");
	strbuf_add(sb, "}\n", 2);
}

/* Appends one whole line or nothing: a line is never split by the bound. */
static bool logger_append(struct logger *lg, const char *line, size_t len)
{
	if (lg->len + len > lg->cap)
		return false;
	if (!lg->buf) {
		lg->buf = malloc(lg->cap);
		if (!lg->buf)
			return false;
	}
	memcpy(lg->buf + lg->len, line, len);
	lg->len += len;
	return true;
}

void log_write(enum log_level level, const char *subsystem, const struct log_field *fields,
	       size_t n_fields, const char *fmt, ...)
{
	struct logger *lg = current;
	char *msg = NULL;
	va_list ap;
	int saved_errno = errno;

	if (!log_enabled(level))
		return;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);

	struct strbuf sb;
	strbuf_init(&sb, LOG_LINE_MAX);
	format_record(&sb, lg, level, subsystem, fields, n_fields, msg ? msg : fmt);
	free(msg);
	if (sb.oom) {
		strbuf_release(&sb);
		strbuf_init(&sb, LOG_LINE_MAX);
		format_record(&sb, lg, level, subsystem, NULL, 0, "(log record too long, cut)");
	}

	if (!lg) {
		/* Before the logger exists (early start-up): best effort to stderr. */
		if (sb.s)
			(void)!write(STDERR_FILENO, sb.s, sb.len);
		strbuf_release(&sb);
		errno = saved_errno;
		return;
	}

	bool was_empty = lg->len == 0;
	if (lg->dropped > 0) {
		char note[128];
		struct strbuf nb;
		snprintf(note, sizeof(note),
			 "%llu log lines were dropped (output too slow or absent)",
			 (unsigned long long)lg->dropped);
		strbuf_init(&nb, LOG_LINE_MAX);
		format_record(&nb, lg, LOG_LEVEL_WARN, "log", NULL, 0, note);
		if (nb.s && logger_append(lg, nb.s, nb.len))
			lg->dropped = 0;
		strbuf_release(&nb);
	}
	if (sb.s && lg->dropped == 0 && logger_append(lg, sb.s, sb.len)) {
		lg->written_total++;
	} else {
		lg->dropped++;
		lg->dropped_total++;
	}
	strbuf_release(&sb);

	if (lg->fd >= 0)
		(void)logger_flush(lg);
	if (lg->len > 0 && was_empty && lg->on_pending)
		lg->on_pending(lg, lg->on_pending_data);
	errno = saved_errno;
}

void log_lines(const char *subsystem, enum log_level level, const char *what, const char *lines)
{
	for (const char *p = lines; p && *p;) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);
		log_write(level, subsystem, NULL, 0, "%s: %.*s", what, len, p);
		p = nl ? nl + 1 : NULL;
	}
}
