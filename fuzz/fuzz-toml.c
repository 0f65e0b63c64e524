/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the TOML reader and the configuration built from it. */
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
	(void)agent_config_parse_toml(&c, (const char *)data, size, &err);
	agent_error_free(err);
	free(agent_config_to_json(&c));
	agent_config_release(&c);
	return 0;
}
