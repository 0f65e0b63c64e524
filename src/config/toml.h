/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small TOML reader for the agent's configuration file: tables (also
 * dotted and [a.b] headers), inline tables, arrays, basic and literal
 * strings, integers, floats and booleans. Multi-line strings, dates and
 * arrays of tables are refused with an error. Input size and depth are bounded.
 */
#ifndef AGENT_CONFIG_TOML_H
#define AGENT_CONFIG_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define TOML_MAX_INPUT (1u << 20)
#define TOML_MAX_DEPTH 32

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
	char *s; /* STRING */
	int64_t i; /* INT */
	double f; /* FLOAT */
	bool b; /* BOOL */
	size_t n; /* ARRAY, TABLE: number of items */
	char **keys; /* TABLE */
	struct toml_value **items;
	bool defined; /* TABLE: given by a [header] or inline (not only implied by a dotted key) */
};

/* Parses text; on error returns -EINVAL with "line N: ..." in err. */
int toml_parse(const char *text, size_t len, struct toml_value **ret, agent_error_t **err);
struct toml_value *toml_free(struct toml_value *v);
/* The value under key in a table, or NULL. */
const struct toml_value *toml_get(const struct toml_value *table, const char *key);

#endif
