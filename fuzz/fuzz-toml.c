/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TOML reader and the configuration built from it, then the JSON
 * rendering. The input is passed with its length and is not NUL-terminated,
 * so a read past the end is caught by ASan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_config c;
	agent_error_t *err = NULL;

	agent_config_init(&c);
	char *before = agent_config_to_json(&c);
	int r = agent_config_parse_toml(&c, (const char *)data, size, &err);
	if (r < 0 && (!err || !err->msg))
		abort(); /* every failure says why */
	if (r >= 0 && err)
		abort();
	char *after = agent_config_to_json(&c);
	if (r < 0 && before && after && strcmp(before, after) != 0)
		abort(); /* a file that does not parse changes nothing */
	agent_error_free(err);
	free(before);
	free(after);
	agent_config_release(&c);
	return 0;
}
