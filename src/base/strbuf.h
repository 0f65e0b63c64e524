/* SPDX-License-Identifier: Apache-2.0 */
/* A growable, NUL-terminated byte buffer with a hard size bound, and JSON string escaping. */
#ifndef AGENT_BASE_STRBUF_H
#define AGENT_BASE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

struct strbuf {
	char *s;
	size_t len;
	size_t cap;
	size_t max; /* 0 = unbounded */
	bool oom; /* an append failed or hit max: content is truncated */
};

void strbuf_init(struct strbuf *sb, size_t max);
void strbuf_release(struct strbuf *sb);
char *strbuf_steal(struct strbuf *sb); /* returns the string (never NULL unless oom) */
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) _printf_(2, 3);
/* Appends s as a JSON string literal, quotes included; invalid UTF-8 bytes become U+FFFD. */
void strbuf_add_json_string(struct strbuf *sb, const char *s);

#endif
