/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to src/config: the table of options and the typed setters every
 * source goes through, so a value means the same on the kernel command line,
 * in the TOML file and in the environment, and is checked in one place.
 */
#ifndef AGENT_CONFIG_OPTION_H
#define AGENT_CONFIG_OPTION_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

enum option_kind {
	OPT_BOOL, /* bare token = true, or =bool */
	OPT_LEVEL, /* log level name */
	OPT_PORT, /* int32 vsock port; <= 0 ignored */
	OPT_CONSOLE_VPORT, /* OPT_PORT, and the API and log ports are refused */
	OPT_PIPE_SIZE, /* int32 >= 0 */
	OPT_ADDRESS, /* a server address address_parse() accepts */
	OPT_STRING, /* non-empty string */
	OPT_DURATION, /* > 0 */
	OPT_ENUM, /* one of words */
	OPT_CGROUP_NO_V1, /* "all" selects cgroups v2, other values are ignored */
	OPT_CONFIG_FILE, /* non-empty path; stops the command line */
	OPT_COUNT, /* int64 >= 0 (-1 in the config: not given) */
};

struct option_def {
	const char *name; /* on the kernel command line; NULL: not settable there */
	const char *toml_key; /* in the config file; NULL: not settable there */
	enum option_kind kind;
	unsigned offset; /* of the field in struct agent_config (unsigned: 32 bytes an entry) */
	const char *const *words; /* OPT_ENUM: NULL-terminated */
};

/* Options by kernel command line name (len bytes, not NUL-terminated) or TOML key; NULL if none. */
const struct option_def *option_by_name(const char *name, size_t len);
const struct option_def *option_by_toml_key(const char *key);

/*
 * Setters. `what` names the token for warnings ("agent.log=DEBUG", "config
 * file line 3: log_level"); on an invalid value they warn and keep the field.
 */
/* Text as on the command line; value NULL = bare token (name without '='). True if applied. */
bool option_set_text(struct agent_config *c, const struct option_def *o, const char *value,
		     const char *what);
void option_set_bool(struct agent_config *c, const struct option_def *o, bool v);
bool option_set_int(struct agent_config *c, const struct option_def *o, int64_t v,
		    const char *what);
bool option_set_duration_ms(struct agent_config *c, const struct option_def *o, uint64_t ms,
			    const char *what);

/*
 * The command line from cmdline[0] (len already clamped): true when an
 * agent.config_file token stopped it, *ret_stop then being the offset just
 * after that token (len otherwise), so a caller can resume the parse.
 */
bool config_parse_cmdline_at(struct agent_config *c, const char *cmdline, size_t len,
			     size_t *ret_stop);
/* Clamps len to CONFIG_CMDLINE_MAX (with a warning) and to the first NUL. */
size_t config_cmdline_clamp(struct agent_config *c, const char *cmdline, size_t len);

/* Rules between options, applied after each source: devmode implies debug logging. */
void config_normalize(struct agent_config *c);

#endif
