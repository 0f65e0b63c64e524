/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small TOML reader for the agent's configuration file, no dependency:
 * comments; bare, quoted and dotted keys; [table] and [a.b] headers; basic
 * strings (escapes \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX) and literal
 * strings; integers (sign, '_' separators, 0x/0o/0b); floats; booleans;
 * arrays (nested, multi-line, trailing comma); inline tables. Multi-line
 * strings, dates and arrays of tables are refused with an error.
 *
 * Bounded: input size, nesting depth, keys per table, values in total. Any
 * malformed input gives -EINVAL with "line N: ..." in the error; the parser
 * never recurses deeper than TOML_MAX_DEPTH and consumes input on every step.
 */
#ifndef AGENT_CONFIG_TOML_H
#define AGENT_CONFIG_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define TOML_MAX_INPUT (1u << 20) /* bytes */
#define TOML_MAX_DEPTH 32 /* tables and arrays, from the root */
#define TOML_MAX_KEYS 256 /* per table */
#define TOML_MAX_VALUES 65536 /* in the whole document */

enum toml_type {
	TOML_STRING = 1,
	TOML_INT,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_ARRAY,
	TOML_TABLE,
};

struct toml_value {
	enum toml_type type;
	unsigned line; /* where the value (or the table's first mention) is */
	unsigned depth; /* 0 for the root table */
	char *s; /* STRING (NUL-terminated; the parser refuses NUL bytes) */
	int64_t i; /* INT */
	double f; /* FLOAT */
	bool b; /* BOOL */
	size_t n; /* ARRAY, TABLE: number of items */
	char **keys; /* TABLE: n keys, in document order */
	struct toml_value **items; /* ARRAY, TABLE */
	int how; /* TABLE: how it was defined (parser-internal) */
};

/* Parses text (len bytes, need not be NUL-terminated) into a root table. 0 or -errno with err. */
int toml_parse(const char *text, size_t len, struct toml_value **ret, agent_error_t **err);
/* Frees a tree; returns NULL. */
struct toml_value *toml_free(struct toml_value *v);
/* The value under key in a table, or NULL (also when t is not a table). */
const struct toml_value *toml_get(const struct toml_value *t, const char *key);
/* "string", "integer", ... for messages. */
const char *toml_type_name(enum toml_type type);

#endif
