// SPDX-License-Identifier: Apache-2.0
/*
 * Spec validation (spec 6.1). Everything here only reads the spec and the
 * filesystem: a spec that fails leaves nothing behind because nothing was made.
 */
#include "container/validate.h"

#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroups/cgroups.h"
#include "container/namespace.h"
#include "container/rlimits.h"
#include "container/rootfs.h"
#include "container/seccomp.h"
#include "rpc/status.h"

#define ID_MAX 128
#define COUNT_MAX 1024
#define PATH_LEN_MAX 4096
#define ENV_BYTES_MAX (128 * 1024)
#define ARGS_BYTES_MAX (128 * 1024)

#define INVALID(err, ...) agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL, __VA_ARGS__)

bool container_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n < 2 || n > ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		bool alnum =
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

bool exec_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > ID_MAX || !strcmp(id, ".") || !strcmp(id, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (id[i] == '/' || (unsigned char)id[i] < 0x20 || id[i] == 0x7f)
			return false;
	return true;
}

static bool has_dotdot(const char *p)
{
	for (const char *c = p; (c = strstr(c, "..")); c += 2)
		if ((c == p || c[-1] == '/') && (c[2] == '/' || c[2] == '\0'))
			return true;
	return false;
}

int process_validate(const Grpc__Process *p, const char *field, agent_error_t **err)
{
	size_t bytes = 0;

	if (!p)
		return INVALID(err, "%s: missing", field);
	if (p->n_args == 0 || !p->args[0][0])
		return INVALID(err, "%s.args: must name a program", field);
	if (p->n_args > COUNT_MAX)
		return INVALID(err, "%s.args: more than %d entries", field, COUNT_MAX);
	for (size_t i = 0; i < p->n_args; i++)
		bytes += strlen(p->args[i]) + 1;
	if (bytes > ARGS_BYTES_MAX)
		return INVALID(err, "%s.args: more than %d bytes", field, ARGS_BYTES_MAX);
	if (p->n_env > COUNT_MAX)
		return INVALID(err, "%s.env: more than %d entries", field, COUNT_MAX);
	bytes = 0;
	/* Entries without "=" or with an empty key are ignored later (spec 6.2), not refused. */
	for (size_t i = 0; i < p->n_env; i++)
		bytes += strlen(p->env[i]) + 1;
	if (bytes > ENV_BYTES_MAX)
		return INVALID(err, "%s.env: more than %d bytes", field, ENV_BYTES_MAX);
	if (p->cwd[0] && p->cwd[0] != '/')
		return INVALID(err, "%s.cwd: \"%s\" is not absolute", field, p->cwd);
	if (strlen(p->cwd) > PATH_LEN_MAX)
		return INVALID(err, "%s.cwd: too long", field);
	if (p->n_rlimits > COUNT_MAX)
		return INVALID(err, "%s.rlimits: more than %d entries", field, COUNT_MAX);
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const Grpc__POSIXRlimit *rl = p->rlimits[i];

		if (rlimit_from_name(rl->type) < 0)
			return INVALID(err, "%s.rlimits[%zu].type: unknown rlimit \"%s\"", field, i,
				       rl->type);
		if (rl->soft > rl->hard)
			return INVALID(err, "%s.rlimits[%zu]: soft limit above the hard one", field,
				       i);
	}
	if (p->user && p->user->n_additionalgids > 65536)
		return INVALID(err, "%s.user.additionalGids: too many", field);
	return 0;
}

static bool label_valid(const char *label)
{
	regex_t re;
	bool ok;

	if (regcomp(&re, "^.*_u:.*_r:.*_t:s[0-9]|1[0-5].*$", REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	ok = regexec(&re, label, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

static int validate_root(const Grpc__Spec *spec, agent_error_t **err)
{
	char real[PATH_MAX];
	struct stat st;
	const char *path;

	if (!spec->root || !spec->root->path[0])
		return INVALID(err, "root.path: missing");
	path = spec->root->path;
	if (path[0] != '/')
		return INVALID(err, "root.path: \"%s\" is not absolute", path);
	if (strlen(path) > PATH_LEN_MAX)
		return INVALID(err, "root.path: too long");
	if (!realpath(path, real))
		return INVALID(err, "root.path: \"%s\": %s", path, strerror(errno));
	if (strcmp(real, path) != 0)
		return INVALID(err, "root.path: \"%s\" is not canonical (it is \"%s\")", path,
			       real);
	if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
		return INVALID(err, "root.path: \"%s\" is not a directory", path);
	return 0;
}

static int validate_sysctl(const Grpc__Linux *lx, const bool ns[NS_COUNT], agent_error_t **err)
{
	static const char *const ipc_keys[] = {
		"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
		"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};

	if (lx->n_sysctl > COUNT_MAX)
		return INVALID(err, "linux.sysctl: more than %d entries", COUNT_MAX);
	for (size_t i = 0; i < lx->n_sysctl; i++) {
		const char *k = lx->sysctl[i]->key;
		bool ok = false;

		for (size_t j = 0; j < ARRAY_SIZE(ipc_keys); j++)
			if (!strcmp(k, ipc_keys[j]))
				ok = ns[NS_IPC];
		if (!strncmp(k, "fs.mqueue.", 10))
			ok = ns[NS_IPC];
		if (!strncmp(k, "net.", 4))
			ok = true;
		if (!strcmp(k, "kernel.domainname"))
			ok = ns[NS_UTS];
		if (!ok)
			return INVALID(
				err,
				"linux.sysctl: Sysctl config contains invalid settings: \"%s\" "
				"(not allowed, or its namespace is not in the spec)",
				k);
	}
	return 0;
}

int spec_validate(const Grpc__Spec *spec, agent_error_t **err)
{
	const Grpc__Linux *lx;
	bool ns[NS_COUNT] = {false};
	int r;

	if (!spec)
		return INVALID(err, "missing OCI spec");
	lx = spec->linux;
	if (!lx)
		return INVALID(err, "linux: Spec does not contain linux field");
	if (!spec->process)
		return INVALID(err, "process: missing");
	r = process_validate(spec->process, "process", err);
	if (r < 0)
		return r;
	if (!spec->process->capabilities)
		return INVALID(err, "process.capabilities: missing process capabilities");
	r = validate_root(spec, err);
	if (r < 0)
		return r;

	if (lx->n_namespaces > NS_COUNT)
		return INVALID(err, "linux.namespaces: more than %d entries", NS_COUNT);
	for (size_t i = 0; i < lx->n_namespaces; i++) {
		const Grpc__LinuxNamespace *n = lx->namespaces[i];
		int t = ns_type_from_oci(n->type);

		if (t < 0)
			return INVALID(err,
				       "linux.namespaces[%zu].type: invalid namespace type \"%s\"",
				       i, n->type);
		if (ns[t])
			return INVALID(err, "linux.namespaces[%zu]: %s listed twice", i, n->type);
		ns[t] = true;
		if (n->path[0] && (n->path[0] != '/' || strlen(n->path) > PATH_LEN_MAX))
			return INVALID(err, "linux.namespaces[%zu].path: \"%s\" is not absolute", i,
				       n->path);
	}
	if (spec->hostname[0] && !ns[NS_UTS])
		return INVALID(err, "hostname: needs a uts namespace");
	if (strlen(spec->hostname) > 64)
		return INVALID(err, "hostname: longer than 64 bytes");
	if ((lx->n_maskedpaths || lx->n_readonlypaths) && !ns[NS_MNT])
		return INVALID(err, "linux.maskedPaths/readonlyPaths: need a mount namespace");
	if (ns[NS_USER]) {
		if (access("/proc/self/ns/user", F_OK) < 0)
			return INVALID(err, "linux.namespaces: user namespaces are not supported");
		bool u = false, g = false;
		for (size_t i = 0; i < lx->n_uidmappings; i++)
			u |= lx->uidmappings[i]->size > 0;
		for (size_t i = 0; i < lx->n_gidmappings; i++)
			g |= lx->gidmappings[i]->size > 0;
		if (!u || !g)
			return INVALID(err,
				       "linux.uidMappings/gidMappings: a user namespace needs both "
				       "maps");
		if (lx->n_uidmappings > 340 || lx->n_gidmappings > 340)
			return INVALID(err, "linux.uidMappings/gidMappings: too many entries");
	} else if (lx->n_uidmappings || lx->n_gidmappings) {
		return INVALID(err, "linux.uidMappings/gidMappings: set without a user namespace");
	}
	if (ns[NS_CGROUP] && access("/proc/self/ns/cgroup", F_OK) < 0)
		return INVALID(err, "linux.namespaces: cgroup namespaces are not supported");
	r = validate_sysctl(lx, ns, err);
	if (r < 0)
		return r;
	if (spec->process->selinuxlabel[0] && !label_valid(spec->process->selinuxlabel))
		return INVALID(err, "process.selinuxLabel: \"%s\" is not a label",
			       spec->process->selinuxlabel);
	if (lx->mountlabel[0] && !label_valid(lx->mountlabel))
		return INVALID(err, "linux.mountLabel: \"%s\" is not a label", lx->mountlabel);
	if (lx->cgroupspath[0] &&
	    (strlen(lx->cgroupspath) > PATH_LEN_MAX || has_dotdot(lx->cgroupspath)))
		return INVALID(err, "linux.cgroupsPath: \"%s\" is not allowed", lx->cgroupspath);
	if (lx->seccomp && (r = seccomp_validate(lx->seccomp, err)) < 0)
		return r;
	if ((r = rootfs_validate(spec, err)) < 0)
		return r;
	if (lx->resources && (r = cgroup_resources_validate(lx->resources, err)) < 0)
		return r;
	return 0;
}
