/* SPDX-License-Identifier: Apache-2.0 */
#include "agent-methods.h"

#include <errno.h>
#include <string.h>

/* gnu11 predefines "linux" as 1, which breaks the generated grpc.Spec's Linux member. */
#undef linux
#include "agent.pb-c.h"
#include "health.pb-c.h"

static const ProtobufCServiceDescriptor *const services[] = {
	&grpc__agent_service__descriptor,
	&grpc__health__descriptor,
};

const ProtobufCServiceDescriptor *const *agent_services(size_t *ret_n)
{
	*ret_n = ARRAY_SIZE(services);
	return services;
}

static const ProtobufCServiceDescriptor *find_service(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(services); i++) {
		const ProtobufCServiceDescriptor *s = services[i];
		/* Full name (grpc.Health) or, within package grpc, the short one (Health). */
		if ((strlen(s->name) == len && memcmp(s->name, name, len) == 0) ||
		    (strlen(s->short_name) == len && memcmp(s->short_name, name, len) == 0))
			return s;
	}
	return NULL;
}

int agent_method_lookup(const char *name, const ProtobufCServiceDescriptor **ret_svc,
			const ProtobufCMethodDescriptor **ret_method, agent_error_t **err)
{
	const ProtobufCServiceDescriptor *svc = services[0];
	const char *method = name;

	if (!name || !*name)
		return agent_error_set(err, EINVAL, "empty method name");
	if (name[0] == '/') {
		/* The gRPC path form: /grpc.AgentService/CreateContainer */
		const char *slash = strchr(name + 1, '/');
		if (!slash)
			return agent_error_set(err, EINVAL, "bad method path %s", name);
		svc = find_service(name + 1, (size_t)(slash - name - 1));
		method = slash + 1;
		if (!svc)
			return agent_error_set(err, ENOENT, "no service %.*s",
					       (int)(slash - name - 1), name + 1);
	} else {
		const char *dot = strrchr(name, '.');
		if (dot) {
			svc = find_service(name, (size_t)(dot - name));
			method = dot + 1;
			if (!svc)
				return agent_error_set(err, ENOENT, "no service %.*s",
						       (int)(dot - name), name);
		}
	}

	const ProtobufCMethodDescriptor *m =
		protobuf_c_service_descriptor_get_method_by_name(svc, method);
	if (!m)
		return agent_error_set(err, ENOENT, "%s has no method %s", svc->name, method);
	if (ret_svc)
		*ret_svc = svc;
	if (ret_method)
		*ret_method = m;
	return 0;
}
