// SPDX-License-Identifier: Apache-2.0
#include "sandbox/devices.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "device/devmatch.h"
#include "device/pcipath.h"
#include "rpc/status.h"

#define INVALID(err, ...) agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL, __VA_ARGS__)

static const char *const known[] = {"blk", "mmioblk", "scsi", "nvdimm"};
static const char *const later[] = {"vfio-pci", "vfio-pci-gk", "vfio-ap", "vfio-ap-cold",
				    "blk-ccw"};

static bool clean_dev_path(const char *p)
{
	return !strncmp(p, "/dev/", 5) && strlen(p) < 256 && !strstr(p, "/..") && !strstr(p, "//");
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
	}
	return 0;
}

int device_match(const Grpc__Device *d, struct dev_match *ret, agent_error_t **err)
{
	struct stat st;

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
		return 0; /* nvdimm: there at boot (spec 5.2), no wait */
	if (dev_match_virtio_blk_mmio(ret, d->vm_path, err) < 0)
		return -EINVAL;
	return 1;
}

static char *dup_or(const char *s)
{
	return strdup(s ? s : "");
}

int devices_apply(Grpc__Spec *spec, Grpc__Device *const *d, size_t n, char *const *node,
		  agent_error_t **err)
{
	Grpc__Linux *lx = spec->linux;

	for (size_t i = 0; i < n; i++) {
		const char *path = node && node[i] ? node[i] : d[i]->vm_path;
		struct stat st;
		Grpc__LinuxDevice *ld = NULL;

		if (stat(path, &st) < 0)
			return agent_error_setsys(err, errno, "devices[%zu]: %s", i, path);
		if (!S_ISBLK(st.st_mode) && !S_ISCHR(st.st_mode))
			return agent_error_set(err, ENODEV, "devices[%zu]: %s is not a device node",
					       i, path);
		const char *type = S_ISBLK(st.st_mode) ? "b" : "c";
		for (size_t k = 0; k < lx->n_devices; k++)
			if (!strcmp(lx->devices[k]->path, d[i]->container_path))
				ld = lx->devices[k];
		if (!ld)
			return agent_error_set_status(
				err, GRPC_INVALID_ARGUMENT, ENOENT,
				"devices[%zu]: Missing devices in OCI spec (%s)", i,
				d[i]->container_path);
		ld->major = major(st.st_rdev);
		ld->minor = minor(st.st_rdev);
		if (ld->type != protobuf_c_empty_string)
			free(ld->type);
		ld->type = strdup(type);

		/* And the cgroup lets the container use it. */
		if (!lx->resources) {
			lx->resources = calloc(1, sizeof(*lx->resources));
			if (!lx->resources)
				return agent_error_set(err, ENOMEM, "out of memory");
			grpc__linux_resources__init(lx->resources);
		}
		Grpc__LinuxResources *res = lx->resources;
		Grpc__LinuxDeviceCgroup **v =
			realloc(res->devices, (res->n_devices + 1) * sizeof(*v));
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
		rule->major = major(st.st_rdev);
		rule->minor = minor(st.st_rdev);
		rule->access = dup_or("rwm");
		res->devices[res->n_devices++] = rule;
	}
	return 0;
}
