/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the kernel command line parser (untrusted: the host writes it), then renders the result.
 */
#include <stdint.h>
#include <stdlib.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_config c;
	agent_config_init(&c);
	agent_config_parse_cmdline(&c, (const char *)data, size);
	free(agent_config_to_json(&c));
	agent_config_release(&c);
	return 0;
}
