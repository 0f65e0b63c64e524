/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kata-agent-ctl: a runtime-spec config.json into the agent's grpc.Spec.
 *
 * grpc.Spec mirrors the runtime-spec with Go-style names (Process.Args,
 * Linux.UIDMappings, Resources.BlockIO) where config.json has camelCase ones
 * (process.args, linux.uidMappings, resources.blockIO): matching names with
 * case and underscores ignored maps one onto the other; only ociVersion ->
 * Version differs. Members the protocol does not carry (process.user.umask,
 * linux.personality, ...) are dropped with a warning.
 */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "jsonpb.h"

static void warn_unknown(const char *path, void *userdata)
{
	fprintf(stderr,
		CTL_NAME ": warning: %s: %s is not carried by the agent protocol, ignored\n",
		(const char *)userdata, path);
}

/* root.path relative to the bundle, as the runtime-spec says, made absolute. */
static int absolute_root(Grpc__Spec *s, const char *bundle_dir, agent_error_t **err)
{
	if (!s->root || !s->root->path || !*s->root->path || s->root->path[0] == '/')
		return 0;
	char dir[PATH_MAX];
	if (!realpath(bundle_dir, dir))
		return agent_error_setsys(err, errno, "bundle directory %s", bundle_dir);
	char *p = NULL;
	if (asprintf(&p, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", s->root->path) < 0)
		return agent_error_set(err, ENOMEM, "out of memory");
	free(s->root->path);
	s->root->path = p;
	return 0;
}

/* What the Kata runtime does to the spec before CreateContainer (constrainGRPCSpec). */
static void constrain(Grpc__Spec *s)
{
	if (s->hooks) {
		protobuf_c_message_free_unpacked(&s->hooks->base, NULL);
		s->hooks = NULL;
	}
	if (!s->linux)
		return;
	/* The agent adds the pid namespace itself; the others stay with the guest. */
	static const char *const dropped[] = {"pid", "network", "cgroup", "time"};
	size_t keep = 0;
	for (size_t i = 0; i < s->linux->n_namespaces; i++) {
		Grpc__LinuxNamespace *ns = s->linux->namespaces[i];
		bool drop = false;
		for (size_t d = 0; d < ARRAY_SIZE(dropped) && !drop; d++)
			drop = ns->type && strcmp(ns->type, dropped[d]) == 0;
		if (drop) {
			protobuf_c_message_free_unpacked(&ns->base, NULL);
			continue;
		}
		/* Host namespace paths mean nothing inside the VM. */
		if (ns->path && ns->path != (char *)protobuf_c_empty_string) {
			free(ns->path);
			ns->path = (char *)protobuf_c_empty_string;
		}
		s->linux->namespaces[keep++] = ns;
	}
	s->linux->n_namespaces = keep;
}

int ctl_spec_from_file(const char *config_path, const char *bundle_dir, bool raw, Grpc__Spec **ret,
		       agent_error_t **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = ctl_read_file(config_path, JSONPB_MAX_TEXT, &text, &len, err);
	if (r < 0)
		return r;

	struct json_object *j = NULL;
	r = jsonpb_parse_text(text, len, &j, err);
	if (r < 0)
		return agent_error_wrap(err, "%s", config_path);
	if (!json_object_is_type(j, json_type_object)) {
		json_object_put(j);
		return agent_error_set(err, EINVAL, "%s: not a JSON object", config_path);
	}
	struct json_object *version = NULL;
	if (json_object_object_get_ex(j, "ociVersion", &version)) {
		json_object_get(version);
		json_object_object_del(j, "ociVersion");
		json_object_object_add(j, "Version", version);
	}

	struct jsonpb_options opts = {
		.flags = JSONPB_IGNORE_UNKNOWN | JSONPB_CASE_INSENSITIVE,
		.on_unknown = warn_unknown,
		.userdata = (void *)config_path,
	};
	ProtobufCMessage *m = NULL;
	r = jsonpb_from_json(j, &grpc__spec__descriptor, &opts, &m, err);
	json_object_put(j);
	if (r < 0)
		return agent_error_wrap(err, "%s", config_path);

	Grpc__Spec *s = (Grpc__Spec *)m;
	r = absolute_root(s, bundle_dir, err);
	if (r < 0) {
		protobuf_c_message_free_unpacked(m, NULL);
		return r;
	}
	if (!raw)
		constrain(s);
	*ret = s;
	return 0;
}
