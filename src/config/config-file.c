/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TOML configuration file: top-level keys named as upstream's
 * AgentConfig fields, each checked for its type and then set through the same
 * setters as the command line. Unknown keys (mem_agent_memcg_* tuning included) are
 * ignored, as upstream does. Durations take upstream's serialised form
 * ({ secs = N, nanos = M }, also as a [table], or [N, M]) and, as ours,
 * integer seconds or a Go duration string.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "config/option.h"
#include "config/toml.h"

static void toml_freep(struct toml_value **v)
{
	*v = toml_free(*v);
}

#define DURATION_FORMS "{ secs = N, nanos = M }, [N, M], seconds or a string like \"10s\""

/* A duration in any accepted form, in ms. -EINVAL (wrong shape) or -ERANGE. */
static int duration_value(const struct toml_value *v, uint64_t *ret_ms)
{
	const struct toml_value *secs = NULL, *nanos = NULL;

	switch (v->type) {
	case TOML_STRING:
		return parse_go_duration_ms(v->s, ret_ms);
	case TOML_INT:
		secs = v;
		break;
	case TOML_TABLE:
		secs = toml_get(v, "secs");
		nanos = toml_get(v, "nanos");
		break;
	case TOML_ARRAY:
		if (v->n != 2)
			return -EINVAL;
		secs = v->items[0];
		nanos = v->items[1];
		break;
	default:
		return -EINVAL;
	}
	if (!secs || secs->type != TOML_INT || (nanos && nanos->type != TOML_INT))
		return -EINVAL;
	return duration_ms_from_secs_nanos(secs->i, nanos ? nanos->i : 0, ret_ms);
}

static bool wants(const struct toml_value *v, enum toml_type type, struct agent_config *c,
		  const char *what, const char *expected)
{
	if (v->type == type)
		return true;
	agent_config_warn(c, "%s: expects %s, not a%s %s; ignored", what, expected,
			  v->type == TOML_INT || v->type == TOML_ARRAY ? "n" : "",
			  toml_type_name(v->type));
	return false;
}

static void apply(struct agent_config *c, const struct option_def *o, const char *key,
		  const struct toml_value *v)
{
	char what[256];
	uint64_t ms;
	int r;

	/* Name the key, its line and (for scalars) the value, as written. */
	if (v->type == TOML_STRING)
		snprintf(what, sizeof(what), "config file line %u: %.64s = \"%.100s%s\"", v->line,
			 key, v->s, strlen(v->s) > 100 ? "..." : "");
	else if (v->type == TOML_INT)
		snprintf(what, sizeof(what), "config file line %u: %.64s = %" PRId64, v->line, key,
			 v->i);
	else if (v->type == TOML_BOOL)
		snprintf(what, sizeof(what), "config file line %u: %.64s = %s", v->line, key,
			 v->b ? "true" : "false");
	else
		snprintf(what, sizeof(what), "config file line %u: %.64s", v->line, key);

	switch (o->kind) {
	case OPT_BOOL:
		if (wants(v, TOML_BOOL, c, what, "true or false"))
			option_set_bool(c, o, v->b);
		return;
	case OPT_LEVEL:
	case OPT_ADDRESS:
	case OPT_STRING:
	case OPT_ENUM:
		if (wants(v, TOML_STRING, c, what, "a string"))
			(void)option_set_text(c, o, v->s, what);
		return;
	case OPT_PORT:
	case OPT_CONSOLE_VPORT:
	case OPT_PIPE_SIZE:
	case OPT_COUNT:
		if (wants(v, TOML_INT, c, what, "an integer"))
			(void)option_set_int(c, o, v->i, what);
		return;
	case OPT_DURATION:
		r = duration_value(v, &ms);
		if (r < 0)
			agent_config_warn(c, "%s: %s; ignored", what,
					  r == -ERANGE ? "duration too long"
						       : "not a duration (" DURATION_FORMS ")");
		else
			(void)option_set_duration_ms(c, o, ms, what);
		return;
	case OPT_CGROUP_NO_V1:
	case OPT_CONFIG_FILE:
		return; /* command line only: no TOML key maps to these */
	}
}

int agent_config_parse_toml(struct agent_config *c, const char *text, size_t len,
			    agent_error_t **err)
{
	_cleanup_(toml_freep) struct toml_value *root = NULL;

	int r = toml_parse(text, len, &root, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < root->n; i++) {
		const struct option_def *o = option_by_toml_key(root->keys[i]);
		if (o)
			apply(c, o, root->keys[i], root->items[i]);
	}
	config_normalize(c);
	return 0;
}
