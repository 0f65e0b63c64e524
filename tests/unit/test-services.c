/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "agent.pb-c.h"
#include "harness.h"
#include "rpc/services.h"

/* The dispatch table and the protocol agree name for name: no typo hides a handler. */
TEST(agent_table_matches_descriptor)
{
	size_t n;
	const struct rpc_method *m = agent_service_methods(&n);
	const ProtobufCServiceDescriptor *d = &grpc__agent_service__descriptor;
	ASSERT_STREQ(d->name, "grpc.AgentService");
	ASSERT_EQ(d->n_methods, 42);
	ASSERT_EQ(n, d->n_methods);
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		for (unsigned j = 0; j < d->n_methods; j++)
			found |= strcmp(m[i].name, d->methods[j].name) == 0;
		if (!found)
			FAIL("table entry %s is not a method of %s", m[i].name, d->name);
		for (size_t k = 0; k < i; k++)
			if (strcmp(m[i].name, m[k].name) == 0)
				FAIL("%s listed twice", m[i].name);
	}
}

TEST(health_service_name)
{
	ASSERT_STREQ(health_service.desc->name, "grpc.Health");
	ASSERT_EQ(health_service.n_methods, 2);
}
