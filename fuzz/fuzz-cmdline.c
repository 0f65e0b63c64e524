/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel command line parser (untrusted: the host writes it), then the
 * environment path with the same bytes as a value, then the JSON rendering.
 * The input is used as is (not NUL-terminated): the parser takes a length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_config c;

	agent_config_init(&c);
	agent_config_parse_cmdline(&c, (const char *)data, size);

	/* The same bytes as environment values (NUL-terminated copies). */
	if (size <= 4096) {
		char *server = malloc(size + 32), *level = malloc(size + 32);
		if (server && level) {
			memcpy(server, "KATA_AGENT_SERVER_ADDR=", 23);
			memcpy(server + 23, data, size);
			server[23 + size] = '\0';
			memcpy(level, "KATA_AGENT_LOG_LEVEL=", 21);
			memcpy(level + 21, data, size);
			level[21 + size] = '\0';
			const char *envp[] = {server, level, NULL};
			agent_config_apply_env(&c, envp);
		}
		free(server);
		free(level);
	}

	free(agent_config_to_json(&c));
	agent_config_release(&c);
	agent_config_release(&c);
	return 0;
}
