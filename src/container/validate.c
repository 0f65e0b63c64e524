// SPDX-License-Identifier: Apache-2.0
/*
 * Spec checks run before anything is created. Every failure is
 * -EINVAL with status INVALID_ARGUMENT and a message that starts with the
 * field it is about, indexes included ("process.rlimits[0].type: ...").
 * Every count and length a client controls is bounded here, so later stages
 * can rely on it.
 */
#include "container/validate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroups/cgroups.h"
#include "container/namespace.h"
#include "container/pathsafe.h"
#include "container/rlimits.h"
#include "container/rootfs.h"
#include "container/seccomp.h"

#define STATUS_INVALID_ARGUMENT 3 /* google.rpc INVALID_ARGUMENT */

#define MAX_ITEMS 1024 /* mounts, namespaces, devices, env, args, rlimits, ... */
#define MAX_PATH 4096 /* any path */
#define MAX_STR 4096 /* any other single string */
#define MAX_ENV_TOTAL (128 * 1024)
#define MAX_ARGS_TOTAL (128 * 1024)
#define MAX_GIDS 65536 /* NGROUPS_MAX of the kernel */
#define MAX_CAP_NAME 64
#define MAX_HOSTNAME 64 /* HOST_NAME_MAX */
#define MAX_ID 128

#define invalid(err, ...) agent_error_set_status(err, STATUS_INVALID_ARGUMENT, EINVAL, __VA_ARGS__)

bool container_id_valid(const char *id)
{
	if (!id)
		return false;
	size_t n = strnlen(id, MAX_ID + 1);
	if (n < 2 || n > MAX_ID)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];
		bool alnum =
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

bool exec_id_valid(const char *id)
{
	if (!id)
		return false;
	size_t n = strnlen(id, MAX_ID + 1);
	if (n < 1 || n > MAX_ID)
		return false;
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c == '/' || c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

static int check_count(size_t n, size_t max, const char *field, agent_error_t **err)
{
	if (n > max)
		return invalid(err, "%s: too many entries (%zu, at most %zu)", field, n, max);
	return 0;
}

/* Length of s, or -EINVAL naming field when it exceeds max. */
static int check_len(const char *s, size_t max, const char *field, agent_error_t **err)
{
	size_t n = strnlen(s, max + 1);
	if (n > max)
		return invalid(err, "%s: longer than %zu bytes", field, max);
	return (int)n;
}

/*
 * The shape upstream checks with the regex ".*_u:.*_r:.*_t:s[0-9]|1[0-5].*",
 * searched unanchored: "_u:", then "_r:", then "_t:s" and a digit, in that order
 * (the second alternative, "1" and a digit 0-5 anywhere, is kept as upstream has it).
 */
static bool selinux_label_shape_ok(const char *s)
{
	const char *u = strstr(s, "_u:");
	const char *r = u ? strstr(u + 3, "_r:") : NULL;
	for (const char *t = r ? strstr(r + 3, "_t:s") : NULL; t; t = strstr(t + 1, "_t:s"))
		if (t[4] >= '0' && t[4] <= '9')
			return true;
	for (const char *p = s; (p = strchr(p, '1')) != NULL; p++)
		if (p[1] >= '0' && p[1] <= '5')
			return true;
	return false;
}

static int check_label(const char *label, const char *field, agent_error_t **err)
{
	if (!label[0])
		return 0;
	int r = check_len(label, MAX_STR, field, err);
	if (r < 0)
		return r;
	if (!selinux_label_shape_ok(label))
		return invalid(err, "%s: invalid SELinux label \"%s\"", field, label);
	return 0;
}

static int check_env(const Grpc__Process *p, const char *field, agent_error_t **err)
{
	int r = check_count(p->n_env, MAX_ITEMS, field, err);
	if (r < 0)
		return r;
	size_t total = 0;
	for (size_t i = 0; i < p->n_env; i++) {
		/* Protobuf strings cannot carry a NUL to C: strlen ends at the first. */
		const char *e = p->env[i];
		size_t n = strnlen(e, MAX_ENV_TOTAL + 1);
		total += n + 1;
		if (total > MAX_ENV_TOTAL)
			return invalid(err, "%s: environment larger than %d bytes", field,
				       MAX_ENV_TOTAL);
		/* Entries without '=' or with an empty key are ignored, as upstream. */
	}
	return 0;
}

static int check_args(const Grpc__Process *p, const char *field, agent_error_t **err)
{
	if (p->n_args == 0)
		return invalid(err, "%s: must not be empty", field);
	int r = check_count(p->n_args, MAX_ITEMS, field, err);
	if (r < 0)
		return r;
	if (!p->args[0][0])
		return invalid(err, "%s[0]: empty program name", field);
	size_t total = 0;
	for (size_t i = 0; i < p->n_args; i++) {
		total += strnlen(p->args[i], MAX_ARGS_TOTAL + 1) + 1;
		if (total > MAX_ARGS_TOTAL)
			return invalid(err, "%s: arguments larger than %d bytes", field,
				       MAX_ARGS_TOTAL);
	}
	return 0;
}

static int check_rlimits(const Grpc__Process *p, const char *field, agent_error_t **err)
{
	int r = check_count(p->n_rlimits, MAX_ITEMS, field, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const Grpc__POSIXRlimit *l = p->rlimits[i];
		if (rlimit_from_name(l->type) < 0)
			return invalid(err, "%s[%zu].type: unknown rlimit \"%.64s\"", field, i,
				       l->type);
		if (l->soft > l->hard)
			return invalid(err, "%s[%zu]: soft limit %llu above hard limit %llu", field,
				       i, (unsigned long long)l->soft, (unsigned long long)l->hard);
	}
	return 0;
}

static int check_cap_set(char **names, size_t n, const char *field, const char *set,
			 agent_error_t **err)
{
	char f[128];
	snprintf(f, sizeof(f), "%s.capabilities.%s", field, set);
	int r = check_count(n, MAX_ITEMS, f, err);
	if (r < 0)
		return r;
	/* Unknown names are skipped when applied; only the size is checked. */
	for (size_t i = 0; i < n; i++) {
		snprintf(f, sizeof(f), "%s.capabilities.%s[%zu]", field, set, i);
		r = check_len(names[i], MAX_CAP_NAME, f, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_caps(const Grpc__LinuxCapabilities *c, const char *field, agent_error_t **err)
{
	int r;
	if ((r = check_cap_set(c->bounding, c->n_bounding, field, "bounding", err)) < 0 ||
	    (r = check_cap_set(c->effective, c->n_effective, field, "effective", err)) < 0 ||
	    (r = check_cap_set(c->inheritable, c->n_inheritable, field, "inheritable", err)) < 0 ||
	    (r = check_cap_set(c->permitted, c->n_permitted, field, "permitted", err)) < 0 ||
	    (r = check_cap_set(c->ambient, c->n_ambient, field, "ambient", err)) < 0)
		return r;
	return 0;
}

int process_validate(const Grpc__Process *p, const char *field, agent_error_t **err)
{
	char f[96];
	int r;

	if (!field)
		field = "process";
	if (!p)
		return invalid(err, "%s: missing", field);

	snprintf(f, sizeof(f), "%s.args", field);
	if ((r = check_args(p, f, err)) < 0)
		return r;
	snprintf(f, sizeof(f), "%s.env", field);
	if ((r = check_env(p, f, err)) < 0)
		return r;
	if (p->cwd[0]) {
		snprintf(f, sizeof(f), "%s.cwd", field);
		if ((r = check_len(p->cwd, MAX_PATH, f, err)) < 0)
			return r;
		if (p->cwd[0] != '/')
			return invalid(err, "%s: \"%s\" is not an absolute path", f, p->cwd);
	}
	snprintf(f, sizeof(f), "%s.rlimits", field);
	if ((r = check_rlimits(p, f, err)) < 0)
		return r;
	if (p->user) {
		snprintf(f, sizeof(f), "%s.user.additionalGids", field);
		if ((r = check_count(p->user->n_additionalgids, MAX_GIDS, f, err)) < 0)
			return r;
	}
	if (p->capabilities && (r = check_caps(p->capabilities, field, err)) < 0)
		return r;
	snprintf(f, sizeof(f), "%s.selinuxLabel", field);
	if ((r = check_label(p->selinuxlabel, f, err)) < 0)
		return r;
	if (p->oomscoreadj < -1000 || p->oomscoreadj > 1000)
		return invalid(err, "%s.oomScoreAdj: %lld outside [-1000, 1000]", field,
			       (long long)p->oomscoreadj);
	return 0;
}

/* Absolute, no "//", no trailing '/', no "." or ".." component. */
static bool path_lexically_clean(const char *p)
{
	if (p[0] != '/')
		return false;
	return strcmp(p, "/") == 0 || pathsafe_components_clean(p);
}

static bool confined(const struct spec_policy *pol)
{
	return !pol || !pol->unconfined;
}

/* Confined: the root resolved below PATHSAFE_CONFINE_DIR, with no symlink on the way. */
static int check_root_confined(const char *path, agent_error_t **err)
{
	if (!pathsafe_lexically_below(path, PATHSAFE_CONFINE_DIR))
		return invalid(err, "root.path: \"%s\" is not below %s", path,
			       PATHSAFE_CONFINE_DIR);
	_cleanup_close_ int fd =
		pathsafe_open_below(PATHSAFE_CONFINE_DIR, path, O_PATH, PATHSAFE_NOFOLLOW);
	if (fd < 0)
		return invalid(err, "root.path: \"%s\": %s", path,
			       fd == -ENOENT ? "does not exist" : "cannot be resolved");
	struct stat st;
	if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode))
		return invalid(err, "root.path: \"%s\" is not canonical (a symlink)", path);
	if (!S_ISDIR(st.st_mode))
		return invalid(err, "root.path: \"%s\" is not a directory", path);
	char real[PATH_MAX];
	int r = pathsafe_fd_path(fd, real, sizeof(real));
	if (r < 0 || strcmp(real, path) != 0)
		return invalid(err, "root.path: \"%s\" is not canonical (resolves to \"%s\")", path,
			       r < 0 ? "?" : real);
	return 0;
}

static int check_root(const Grpc__Spec *spec, const struct spec_policy *pol, agent_error_t **err)
{
	if (!spec->root || !spec->root->path[0])
		return invalid(err, "root.path: missing");
	const char *path = spec->root->path;
	int r = check_len(path, MAX_PATH, "root.path", err);
	if (r < 0)
		return r;
	if (path[0] != '/')
		return invalid(err, "root.path: \"%s\" is not an absolute path", path);
	if (!path_lexically_clean(path))
		return invalid(err, "root.path: \"%s\" is not canonical", path);
	if (confined(pol))
		return check_root_confined(path, err);
	_cleanup_free_ char *real = realpath(path, NULL);
	if (!real)
		return invalid(err, "root.path: \"%s\": %s", path,
			       errno == ENOENT ? "does not exist" : "cannot be resolved");
	if (strcmp(real, path) != 0)
		return invalid(err, "root.path: \"%s\" is not canonical (resolves to \"%s\")", path,
			       real);
	struct stat st;
	if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
		return invalid(err, "root.path: \"%s\" is not a directory", path);
	return 0;
}

/* The mount targets inside the root check_root accepted, opened the way the set-up opens it. */
static int check_targets(const Grpc__Spec *spec, const struct spec_policy *pol, agent_error_t **err)
{
	const char *path = spec->root->path;
	_cleanup_close_ int fd = -1;
	if (confined(pol) || pathsafe_lexically_below(path, PATHSAFE_CONFINE_DIR)) {
		fd = pathsafe_open_below(PATHSAFE_CONFINE_DIR, path, O_PATH | O_DIRECTORY, 0);
	} else {
		fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
	}
	if (fd < 0)
		return invalid(err, "root.path: \"%s\": %s", path, strerror(-fd));
	return rootfs_validate_targets(spec, fd, err);
}

static int check_namespaces(const Grpc__Linux *l, bool have[NS_COUNT], agent_error_t **err)
{
	int r = check_count(l->n_namespaces, MAX_ITEMS, "linux.namespaces", err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < l->n_namespaces; i++) {
		const Grpc__LinuxNamespace *ns = l->namespaces[i];
		int t = ns_type_from_oci(ns->type);
		if (t < 0)
			return invalid(err,
				       "linux.namespaces[%zu].type: unknown namespace \"%.64s\"", i,
				       ns->type);
		if (have[t])
			return invalid(err, "linux.namespaces[%zu].type: \"%s\" listed twice", i,
				       ns->type);
		have[t] = true;
		if (strnlen(ns->path, MAX_PATH + 1) > MAX_PATH)
			return invalid(err, "linux.namespaces[%zu].path: longer than %d bytes", i,
				       MAX_PATH);
	}
	return 0;
}

static bool has_mapping(Grpc__LinuxIDMapping **m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (m[i]->size > 0)
			return true;
	return false;
}

static int check_userns(const Grpc__Linux *l, const bool have[NS_COUNT], agent_error_t **err)
{
	int r;
	if ((r = check_count(l->n_uidmappings, MAX_ITEMS, "linux.uidMappings", err)) < 0 ||
	    (r = check_count(l->n_gidmappings, MAX_ITEMS, "linux.gidMappings", err)) < 0)
		return r;
	if (!have[NS_USER]) {
		if (l->n_uidmappings > 0)
			return invalid(err, "linux.uidMappings: set without a user namespace");
		if (l->n_gidmappings > 0)
			return invalid(err, "linux.gidMappings: set without a user namespace");
		return 0;
	}
	if (access("/proc/self/ns/user", F_OK) < 0)
		return invalid(err, "linux.namespaces: user namespaces are not supported by the "
				    "kernel");
	if (!has_mapping(l->uidmappings, l->n_uidmappings))
		return invalid(err,
			       "linux.uidMappings: a user namespace needs a mapping of size > 0");
	if (!has_mapping(l->gidmappings, l->n_gidmappings))
		return invalid(err,
			       "linux.gidMappings: a user namespace needs a mapping of size > 0");
	return 0;
}

/* sysctl keys name a /proc/sys path with '.' or '/' between components. */
static bool sysctl_key_is(const char *key, const char *name)
{
	for (; *key && *name; key++, name++) {
		char k = *key == '/' ? '.' : *key;
		if (k != *name)
			return false;
	}
	return *key == *name;
}

static bool sysctl_key_has_prefix(const char *key, const char *prefix)
{
	for (; *prefix; key++, prefix++) {
		char k = *key == '/' ? '.' : *key;
		if (k != *prefix)
			return false;
	}
	return true;
}

static bool sysctl_key_clean(const char *key)
{
	/* No empty component: rules out "..", "//", leading or trailing separators. */
	if (!key[0])
		return false;
	bool empty = true;
	for (const char *c = key; *c; c++) {
		if (*c == '.' || *c == '/') {
			if (empty)
				return false;
			empty = true;
		} else {
			empty = false;
		}
	}
	return !empty;
}

static const char *const sysctl_ipc_keys[] = {
	"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
	"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

static int check_sysctl_key(const char *key, const bool have[NS_COUNT], agent_error_t **err)
{
	for (size_t i = 0; i < sizeof(sysctl_ipc_keys) / sizeof(sysctl_ipc_keys[0]); i++) {
		if (sysctl_key_is(key, sysctl_ipc_keys[i])) {
			if (!have[NS_IPC])
				return invalid(err, "linux.sysctl[%s]: needs an ipc namespace",
					       key);
			return 0;
		}
	}
	if (sysctl_key_has_prefix(key, "fs.mqueue.")) {
		if (!have[NS_IPC])
			return invalid(err, "linux.sysctl[%s]: needs an ipc namespace", key);
		return 0;
	}
	if (sysctl_key_has_prefix(key, "net."))
		return 0;
	if (sysctl_key_is(key, "kernel.domainname")) {
		if (!have[NS_UTS])
			return invalid(err, "linux.sysctl[%s]: needs a uts namespace", key);
		return 0;
	}
	if (sysctl_key_is(key, "kernel.hostname"))
		return invalid(err, "linux.sysctl[%s]: not allowed, use the hostname field", key);
	return invalid(err, "linux.sysctl[%s]: Sysctl config contains invalid settings: %s", key,
		       key);
}

static int check_sysctl(const Grpc__Linux *l, const bool have[NS_COUNT], agent_error_t **err)
{
	int r = check_count(l->n_sysctl, MAX_ITEMS, "linux.sysctl", err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < l->n_sysctl; i++) {
		const char *key = l->sysctl[i]->key;
		if (strnlen(key, 256 + 1) > 256)
			return invalid(err, "linux.sysctl: key longer than 256 bytes");
		if (!sysctl_key_clean(key))
			return invalid(err, "linux.sysctl[%s]: malformed key", key);
		if (strnlen(l->sysctl[i]->value, MAX_STR + 1) > MAX_STR)
			return invalid(err, "linux.sysctl[%s]: value longer than %d bytes", key,
				       MAX_STR);
		if ((r = check_sysctl_key(key, have, err)) < 0)
			return r;
	}
	return 0;
}

static int check_path_list(char **paths, size_t n, const char *field, agent_error_t **err)
{
	int r = check_count(n, MAX_ITEMS, field, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (strnlen(paths[i], MAX_PATH + 1) > MAX_PATH)
			return invalid(err, "%s[%zu]: longer than %d bytes", field, i, MAX_PATH);
	return 0;
}

static int check_devices(const Grpc__Linux *l, agent_error_t **err)
{
	int r = check_count(l->n_devices, MAX_ITEMS, "linux.devices", err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < l->n_devices; i++) {
		const Grpc__LinuxDevice *d = l->devices[i];
		const char *t = d->type;
		if (!(t[0] && !t[1] && strchr("cbup", t[0])))
			return invalid(err,
				       "linux.devices[%zu].type: unknown device type \"%.16s\"", i,
				       t);
		if (!d->path[0])
			return invalid(err, "linux.devices[%zu].path: missing", i);
		if (strnlen(d->path, MAX_PATH + 1) > MAX_PATH)
			return invalid(err, "linux.devices[%zu].path: longer than %d bytes", i,
				       MAX_PATH);
	}
	return 0;
}

bool mount_type_is_special(const char *type)
{
	static const char *const special[] = {"proc",  "sysfs",	 "cgroup", "cgroup2",
					      "tmpfs", "devpts", "mqueue", "hugetlbfs"};
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (strcmp(type, special[i]) == 0)
			return true;
	return false;
}

/* A bind as rootfs-mounts.c sees one: type "bind", or no type with a bind option. */
static bool mount_is_bind(const Grpc__Mount *m)
{
	if (strcmp(m->type, "bind") == 0)
		return true;
	if (m->type[0] && strcmp(m->type, "none") != 0)
		return false;
	for (size_t i = 0; i < m->n_options; i++)
		if (strcmp(m->options[i], "bind") == 0 || strcmp(m->options[i], "rbind") == 0)
			return true;
	return false;
}

/*
 * Confined: a bind source below PATHSAFE_CONFINE_DIR (resolved there by fd when mounted)
 * or a device node below /dev (checked then); other mounts are special filesystems.
 */
static int check_mount_confined(const Grpc__Mount *m, size_t i, agent_error_t **err)
{
	if (mount_is_bind(m)) {
		if (pathsafe_lexically_below(m->source, PATHSAFE_CONFINE_DIR) ||
		    pathsafe_lexically_below(m->source, "/dev"))
			return 0;
		return invalid(err,
			       "mounts[%zu].source: bind source \"%.256s\" is not below %s (or a "
			       "device below /dev)",
			       i, m->source, PATHSAFE_CONFINE_DIR);
	}
	if (!mount_type_is_special(m->type))
		return invalid(err,
			       "mounts[%zu].type: \"%.64s\" is not allowed (bind, proc, sysfs, "
			       "cgroup, cgroup2, tmpfs, devpts, mqueue, hugetlbfs)",
			       i, m->type);
	return 0;
}

static int check_mounts(const Grpc__Spec *spec, const struct spec_policy *pol, agent_error_t **err)
{
	int r = check_count(spec->n_mounts, MAX_ITEMS, "mounts", err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const Grpc__Mount *m = spec->mounts[i];
		if (strnlen(m->destination, MAX_PATH + 1) > MAX_PATH ||
		    strnlen(m->source, MAX_PATH + 1) > MAX_PATH)
			return invalid(err, "mounts[%zu]: path longer than %d bytes", i, MAX_PATH);
		if (m->n_options > MAX_ITEMS)
			return invalid(err,
				       "mounts[%zu].options: too many entries (%zu, at most %d)", i,
				       m->n_options, MAX_ITEMS);
		if (confined(pol) && (r = check_mount_confined(m, i, err)) < 0)
			return r;
	}
	return 0;
}

static int check_hook_list(Grpc__Hook **hooks, size_t n, const char *name,
			   const struct spec_policy *pol, agent_error_t **err)
{
	char dir[MAX_PATH + 1] = "";
	if (pol && pol->hook_dir && pol->hook_dir[0] == '/' &&
	    strnlen(pol->hook_dir, MAX_PATH + 1) <= MAX_PATH)
		snprintf(dir, sizeof(dir), "%s", pol->hook_dir);
	size_t dl = strlen(dir);
	while (dl > 1 && dir[dl - 1] == '/')
		dir[--dl] = '\0';
	if (n > MAX_ITEMS)
		return invalid(err, "hooks.%s: too many entries (%zu, at most %d)", name, n,
			       MAX_ITEMS);
	for (size_t i = 0; i < n; i++) {
		const Grpc__Hook *h = hooks[i];
		if (h->path[0] != '/')
			return invalid(err, "hooks.%s[%zu].path: \"%.64s\" is not an absolute path",
				       name, i, h->path);
		if (strnlen(h->path, MAX_PATH + 1) > MAX_PATH)
			return invalid(err, "hooks.%s[%zu].path: longer than %d bytes", name, i,
				       MAX_PATH);
		if (h->n_args > MAX_ITEMS || h->n_env > MAX_ITEMS)
			return invalid(err, "hooks.%s[%zu]: too many args or env entries", name, i);
		if (h->timeout < 0)
			return invalid(err, "hooks.%s[%zu].timeout: negative", name, i);
		/* The runtime runs OCI hooks on the host and strips them; guest hooks only. */
		if (confined(pol) && !(dl > 1 && pathsafe_lexically_below(h->path, dir)))
			return invalid(err,
				       "hooks.%s[%zu].path: \"%.256s\" is not below the guest hook "
				       "directory (%s)",
				       name, i, h->path,
				       dl > 1 ? dir : "none given by CreateSandbox");
	}
	return 0;
}

static int check_hooks(const Grpc__Hooks *h, const struct spec_policy *pol, agent_error_t **err)
{
	int r;
	if (!h)
		return 0;
	if ((r = check_hook_list(h->prestart, h->n_prestart, "prestart", pol, err)) < 0 ||
	    (r = check_hook_list(h->poststart, h->n_poststart, "poststart", pol, err)) < 0 ||
	    (r = check_hook_list(h->poststop, h->n_poststop, "poststop", pol, err)) < 0 ||
	    (r = check_hook_list(h->createruntime, h->n_createruntime, "createRuntime", pol, err)) <
		    0 ||
	    (r = check_hook_list(h->createcontainer, h->n_createcontainer, "createContainer", pol,
				 err)) < 0 ||
	    (r = check_hook_list(h->startcontainer, h->n_startcontainer, "startContainer", pol,
				 err)) < 0)
		return r;
	return 0;
}

int spec_validate(const Grpc__Spec *spec, const struct spec_policy *pol, agent_error_t **err)
{
	bool have[NS_COUNT] = {false};
	int r;

	if (!spec)
		return invalid(err, "spec: missing");
	const Grpc__Linux *l = spec->linux;
	if (!l)
		return invalid(err, "linux: missing");
	if (!spec->process)
		return invalid(err, "process: missing");
	if ((r = process_validate(spec->process, "process", err)) < 0)
		return r;
	if (!spec->process->capabilities)
		return invalid(err, "process.capabilities: missing process capabilities");
	if ((r = check_root(spec, pol, err)) < 0)
		return r;
	if ((r = check_namespaces(l, have, err)) < 0)
		return r;
	/* Without one the container would see (and mount over) the guest's own tree. */
	if (!have[NS_MNT])
		return invalid(err, "linux.namespaces: a mount namespace is required");
	if (spec->hostname[0]) {
		if (strnlen(spec->hostname, MAX_HOSTNAME + 1) > MAX_HOSTNAME)
			return invalid(err, "hostname: longer than %d bytes", MAX_HOSTNAME);
		if (!have[NS_UTS])
			return invalid(err, "hostname: set without a uts namespace in "
					    "linux.namespaces");
	}
	if ((r = check_userns(l, have, err)) < 0)
		return r;
	if (have[NS_CGROUP] && access("/proc/self/ns/cgroup", F_OK) < 0)
		return invalid(err, "linux.namespaces: cgroup namespaces are not supported by the "
				    "kernel");
	if ((r = check_path_list(l->maskedpaths, l->n_maskedpaths, "linux.maskedPaths", err)) < 0 ||
	    (r = check_path_list(l->readonlypaths, l->n_readonlypaths, "linux.readonlyPaths",
				 err)) < 0)
		return r;
	if (l->n_maskedpaths > 0 && !have[NS_MNT])
		return invalid(err, "linux.maskedPaths: set without a mount namespace");
	if (l->n_readonlypaths > 0 && !have[NS_MNT])
		return invalid(err, "linux.readonlyPaths: set without a mount namespace");
	if ((r = check_sysctl(l, have, err)) < 0)
		return r;
	if ((r = check_label(l->mountlabel, "linux.mountLabel", err)) < 0)
		return r;
	if ((r = check_devices(l, err)) < 0)
		return r;
	if (strnlen(l->cgroupspath, MAX_PATH + 1) > MAX_PATH)
		return invalid(err, "linux.cgroupsPath: longer than %d bytes", MAX_PATH);
	if ((r = check_mounts(spec, pol, err)) < 0)
		return r;
	if ((r = check_hooks(spec->hooks, pol, err)) < 0)
		return r;

	if (l->seccomp && (r = seccomp_validate(l->seccomp, err)) < 0)
		return r;
	if (l->resources && (r = cgroup_resources_validate(l->resources, err)) < 0)
		return r;
	if ((r = rootfs_validate(spec, err)) < 0)
		return r;
	return check_targets(spec, pol, err);
}
