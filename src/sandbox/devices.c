// SPDX-License-Identifier: Apache-2.0
#include "sandbox/devices.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "base/pathres.h"
#include "device/devmatch.h"
#include "device/pcipath.h"
#include "base/status.h"
#include "sandbox/vfio.h"

#define INVALID(err, ...) agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL, __VA_ARGS__)
#define DIR_DEVICES_MAX 256

static const char *const known[] = {"blk", "mmioblk", "scsi", "nvdimm", "vfio-pci", "vfio-pci-gk"};
static const char *const later[] = {"vfio-ap", "vfio-ap-cold", "blk-ccw"};

/* A device node's path: below /dev by the storages' rule (no "//", "." or ".."), not /dev
 * itself, no trailing '/'. */
static bool clean_dev_path(const char *p)
{
	size_t n = strlen(p);
	return n > 5 && n < 256 && p[n - 1] != '/' && path_clean_under(p, "/dev");
}

int devices_validate(Grpc__Device *const *d, size_t n, agent_error_t **err)
{
	if (n > DEVICES_MAX)
		return INVALID(err, "devices: more than %d", DEVICES_MAX);
	for (size_t i = 0; i < n; i++) {
		bool ok = false;
		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			ok |= !strcmp(d[i]->type, known[k]);
		for (size_t k = 0; !ok && k < sizeof(later) / sizeof(later[0]); k++)
			if (!strcmp(d[i]->type, later[k]))
				return agent_error_set_status(
					err, GRPC_UNIMPLEMENTED, EOPNOTSUPP,
					"devices[%zu]: device type %s is not supported yet", i,
					d[i]->type);
		if (!ok)
			return agent_error_set_status(
				err, GRPC_INTERNAL, ENOENT,
				"devices[%zu]: Failed to find the device handler "
				"%s",
				i, d[i]->type);
		if (!d[i]->id[0] && !d[i]->vm_path[0])
			return INVALID(err, "devices[%zu]: id or vm_path required", i);
		if (!clean_dev_path(d[i]->container_path))
			return INVALID(err,
				       "devices[%zu].container_path: \"%s\" must be a clean path "
				       "under /dev",
				       i, d[i]->container_path);
		if (d[i]->vm_path[0] && !clean_dev_path(d[i]->vm_path))
			return INVALID(err, "devices[%zu].vm_path: \"%s\" must be under /dev", i,
				       d[i]->vm_path);
		if (vfio_type(d[i]->type) && vfio_device_validate(d[i], i, err) < 0)
			return -EINVAL;
	}
	return 0;
}

int device_match(const Grpc__Device *d, struct dev_match *ret, agent_error_t **err)
{
	struct stat st;

	if (vfio_type(d->type))
		return 0; /* its functions are waited for through sandbox/vfio.h */
	if (!strcmp(d->type, "blk") && d->id[0]) {
		struct pci_path pp;
		struct pci_sysfs_path sp;
		if (pci_path_parse(d->id, &pp, err) < 0 ||
		    pci_path_resolve(NULL, &pp, &sp, err) < 0 ||
		    dev_match_virtio_blk_pci(ret, &sp, d->id, err) < 0)
			return -EINVAL;
		return 1;
	}
	if (!strcmp(d->type, "scsi") && d->id[0]) {
		if (dev_match_scsi(ret, d->id, err) < 0)
			return -EINVAL;
		agent_error_t *scan = NULL;
		scsi_scan_hosts(NULL, d->id, &scan);
		agent_error_free(scan);
		return 1;
	}
	if (!d->vm_path[0])
		return INVALID(err, "%s device needs vm_path", d->type);
	if (stat(d->vm_path, &st) == 0 || !strcmp(d->type, "nvdimm"))
		return 0; /* nvdimm: there at boot, no wait */
	if (dev_match_virtio_blk_mmio(ret, d->vm_path, err) < 0)
		return -EINVAL;
	return 1;
}

static char *dup_or(const char *s)
{
	return strdup(s ? s : "");
}

static int set_string(char **field, const char *value, agent_error_t **err)
{
	char *dup = strdup(value);
	if (!dup)
		return agent_error_set(err, ENOMEM, "out of memory");
	/* An absent string is protobuf-c's shared default: not ours to free. */
	if (*field != protobuf_c_empty_string)
		free(*field);
	*field = dup;
	return 0;
}

static Grpc__LinuxResources *resources_of(Grpc__Linux *lx)
{
	if (!lx->resources) {
		lx->resources = calloc(1, sizeof(*lx->resources));
		if (lx->resources)
			grpc__linux_resources__init(lx->resources);
	}
	return lx->resources;
}

/* Appends an allow rule "<type> <major>:<minor> rwm" to linux.resources.devices. */
static int allow_rule(Grpc__Linux *lx, const char *type, unsigned maj, unsigned min,
		      agent_error_t **err)
{
	Grpc__LinuxResources *res = resources_of(lx);
	if (!res)
		return agent_error_set(err, ENOMEM, "out of memory");
	Grpc__LinuxDeviceCgroup **v = realloc(res->devices, (res->n_devices + 1) * sizeof(*v));
	Grpc__LinuxDeviceCgroup *rule = calloc(1, sizeof(*rule));
	if (v)
		res->devices = v;
	if (!v || !rule) {
		free(rule);
		return agent_error_set(err, ENOMEM, "out of memory");
	}
	grpc__linux_device_cgroup__init(rule);
	rule->allow = true;
	rule->type = dup_or(type);
	rule->major = maj;
	rule->minor = min;
	rule->access = dup_or("rwm");
	res->devices[res->n_devices++] = rule;
	if (!rule->type || !rule->access)
		return agent_error_set(err, ENOMEM, "out of memory");
	return 0;
}

static Grpc__LinuxDevice *spec_device(Grpc__Linux *lx, const char *path)
{
	for (size_t k = 0; k < lx->n_devices; k++)
		if (!strcmp(lx->devices[k]->path, path))
			return lx->devices[k];
	return NULL;
}

int devices_expose_dir(Grpc__Spec *spec, const char *dir, agent_error_t **err)
{
	Grpc__Linux *lx = spec->linux;
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t seen = 0;
	int r = 0;

	if (!d)
		return errno == ENOENT || errno == ENOTDIR
			       ? 0
			       : agent_error_setsys(err, errno, "%s", dir);
	while (r >= 0 && (de = readdir(d)) && seen++ < DIR_DEVICES_MAX) {
		char path[PATH_MAX];
		struct stat st;

		if (de->d_name[0] == '.' ||
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path) ||
		    stat(path, &st) < 0 || !S_ISCHR(st.st_mode) || spec_device(lx, path))
			continue;
		Grpc__LinuxDevice **v = realloc(lx->devices, (lx->n_devices + 1) * sizeof(*v));
		Grpc__LinuxDevice *ld = calloc(1, sizeof(*ld));
		if (v)
			lx->devices = v;
		if (!v || !ld) {
			free(ld);
			r = agent_error_set(err, ENOMEM, "out of memory");
			break;
		}
		grpc__linux_device__init(ld);
		ld->path = strdup(path);
		ld->type = strdup("c");
		ld->major = major(st.st_rdev);
		ld->minor = minor(st.st_rdev);
		ld->filemode = st.st_mode & 07777;
		ld->uid = st.st_uid;
		ld->gid = st.st_gid;
		lx->devices[lx->n_devices++] = ld;
		if (!ld->path || !ld->type)
			r = agent_error_set(err, ENOMEM, "out of memory");
		else
			r = allow_rule(lx, "c", major(st.st_rdev), minor(st.st_rdev), err);
	}
	closedir(d);
	return r;
}

/* One resolved device: what its spec entry and the cgroup rules with its host numbers become. */
struct dev_update {
	size_t index;
	const char *final_path; /* VFIO: the group node; else the path stays */
	const char *type;
	unsigned major, minor;
	int64_t old_major, old_minor;
	char old_type[4];
};

static void patch_rules(Grpc__Linux *lx, size_t n_rules, const struct dev_update *u, size_t nu)
{
	Grpc__LinuxResources *res = lx->resources;

	/* Only the spec's own rules: the allow rules added above already hold guest numbers. */
	for (size_t k = 0; res && k < n_rules && k < res->n_devices; k++) {
		Grpc__LinuxDeviceCgroup *rule = res->devices[k];
		for (size_t j = 0; j < nu; j++) {
			if (strcmp(rule->type, u[j].old_type) || rule->major != u[j].old_major ||
			    rule->minor != u[j].old_minor)
				continue;
			rule->major = u[j].major;
			rule->minor = u[j].minor;
			break;
		}
	}
}

static int patch_spec_devices(Grpc__Linux *lx, Grpc__Device *const *d, struct dev_update *u,
			      size_t nu, agent_error_t **err)
{
	for (size_t j = 0; j < nu; j++) {
		const char *cpath = d[u[j].index]->container_path;
		Grpc__LinuxDevice *ld = spec_device(lx, cpath);

		if (!ld)
			return agent_error_set_status(
				err, GRPC_INVALID_ARGUMENT, ENOENT,
				"devices[%zu]: Missing devices in OCI spec (%s)", u[j].index,
				cpath);
		snprintf(u[j].old_type, sizeof(u[j].old_type), "%s", ld->type);
		u[j].old_major = ld->major;
		u[j].old_minor = ld->minor;
		for (size_t k = 0; k < j; k++)
			if (!strcmp(u[k].old_type, u[j].old_type) &&
			    u[k].old_major == u[j].old_major && u[k].old_minor == u[j].old_minor)
				return agent_error_set_status(
					err, GRPC_INVALID_ARGUMENT, EEXIST,
					"devices[%zu]: Conflicting resource updates for %s "
					"%lld:%lld",
					u[j].index, u[j].old_type, (long long)u[j].old_major,
					(long long)u[j].old_minor);
		ld->major = u[j].major;
		ld->minor = u[j].minor;
		if (set_string(&ld->type, u[j].type, err) < 0 ||
		    (u[j].final_path && set_string(&ld->path, u[j].final_path, err) < 0))
			return -ENOMEM;
	}
	return 0;
}

int devices_apply(Grpc__Spec *spec, Grpc__Device *const *d, size_t n, char *const *node,
		  const struct vfio_set *vfio, agent_error_t **err)
{
	Grpc__Linux *lx = spec->linux;
	size_t nu = 0, n_rules = lx->resources ? lx->resources->n_devices : 0;
	bool any_vfio = false;
	int r = 0;
	struct dev_update *u = calloc(n ? n : 1, sizeof(*u));

	if (!u)
		return agent_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n && r >= 0; i++) {
		const char *path = node && node[i] ? node[i] : d[i]->vm_path;
		struct stat st;

		if (vfio_type(d[i]->type)) {
			any_vfio = true;
			path = vfio_set_node(vfio, i);
			if (!path)
				continue; /* vfio-pci-gk: only the PCI addresses */
		}
		for (size_t k = 0; k < nu; k++)
			if (!strcmp(d[u[k].index]->container_path, d[i]->container_path))
				r = agent_error_set_status(
					err, GRPC_INVALID_ARGUMENT, EEXIST,
					"devices[%zu]: Conflicting device updates for %s", i,
					d[i]->container_path);
		if (r < 0)
			break;
		if (stat(path, &st) < 0) {
			r = agent_error_setsys(err, errno, "devices[%zu]: %s", i, path);
			break;
		}
		if (!S_ISBLK(st.st_mode) && !S_ISCHR(st.st_mode)) {
			r = agent_error_set(err, ENODEV, "devices[%zu]: %s is not a device node", i,
					    path);
			break;
		}
		u[nu] = (struct dev_update){
			.index = i,
			.final_path = vfio_type(d[i]->type) ? path : NULL,
			.type = S_ISBLK(st.st_mode) ? "b" : "c",
			.major = major(st.st_rdev),
			.minor = minor(st.st_rdev),
		};
		/* And the cgroup lets the container use it. */
		r = allow_rule(lx, u[nu].type, u[nu].major, u[nu].minor, err);
		nu++;
	}
	if (r >= 0 && spec->process && vfio)
		pci_env_rewrite(spec->process->env, spec->process->n_env, vfio_set_map(vfio));
	if (r >= 0 && any_vfio)
		r = devices_expose_dir(spec, DEVICES_INFINIBAND_DIR, err);
	if (r >= 0)
		r = patch_spec_devices(lx, d, u, nu, err);
	if (r >= 0)
		patch_rules(lx, n_rules, u, nu);
	free(u);
	return r;
}
