// SPDX-License-Identifier: Apache-2.0
#include "device/vfio.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"

#define VFIO_OPTION_MAX (PCI_ADDR_TEXT_LEN + 1 + PCI_PATH_TEXT_MAX)

int vfio_option_parse(const char *opt, struct pci_addr *ret_host, struct pci_path *ret_path,
		      bool *ret_has_path, agent_error_t **err)
{
	const char *eq = strchr(opt, '=');
	struct pci_addr host;
	struct pci_path path = {0};

	if (strnlen(opt, VFIO_OPTION_MAX + 1) > VFIO_OPTION_MAX)
		return agent_error_set(err, EINVAL, "VFIO PCI option is too long");
	if (!eq || strchr(eq + 1, '='))
		return agent_error_set(
			err, EINVAL,
			"malformed VFIO PCI option \"%s\" (want DDDD:BB:SS.F=<PCI path>)", opt);
	if (pci_addr_parse_n(opt, (size_t)(eq - opt), &host) < 0)
		return agent_error_set(err, EINVAL,
				       "bad host PCI address \"%.*s\" (want DDDD:BB:SS.F)",
				       (int)(eq - opt), opt);
	if (eq[1] && pci_path_parse(eq + 1, &path, err) < 0)
		return -EINVAL;
	*ret_host = host;
	*ret_path = path;
	*ret_has_path = eq[1] != '\0';
	return 0;
}

int vfio_guest_addr(const struct pci_sysfs_path *sp, struct pci_addr *ret, agent_error_t **err)
{
	const char *last = strrchr(sp->devpath, '/');

	if (!last || pci_addr_parse(last + 1, ret) < 0)
		return agent_error_set(err, EINVAL, "no PCI address at the end of %s", sp->devpath);
	return 0;
}

static int dev_file(char *buf, size_t len, const char *sysroot, const struct pci_addr *dev,
		    const char *name)
{
	char a[PCI_ADDR_TEXT_MAX];

	pci_addr_format(dev, a);
	if (snprintf(buf, len, "%s/bus/pci/devices/%s/%s", sysroot ? sysroot : "/sys", a, name) >=
	    (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/* The last component of the symlink <dev>/<name> into ret; -ENOENT when there is none. */
static int dev_link_name(const char *sysroot, const struct pci_addr *dev, const char *name,
			 char *ret, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	if (dev_file(path, sizeof(path), sysroot, dev, name) < 0)
		return -ENAMETOOLONG;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	const char *base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!*base || strlen(base) >= len)
		return -EINVAL;
	memcpy(ret, base, strlen(base) + 1);
	return 0;
}

int vfio_pci_bind(const char *sysroot, const struct pci_addr *dev, agent_error_t **err)
{
	char path[PATH_MAX], drv[NAME_MAX + 1], a[PCI_ADDR_TEXT_MAX];
	int r;

	pci_addr_format(dev, a);
	if (dev_file(path, sizeof(path), sysroot, dev, "driver_override") < 0)
		return agent_error_set(err, ENAMETOOLONG, "sysfs path too long");
	r = write_file(path, VFIO_DRIVER);
	if (r < 0)
		return agent_error_setsys(err, -r, "writing %s to %s", VFIO_DRIVER, path);

	r = dev_link_name(sysroot, dev, "driver", drv, sizeof(drv));
	if (r == 0 && !strcmp(drv, VFIO_DRIVER))
		return 0; /* bound already */
	if (r < 0 && r != -ENOENT)
		return agent_error_setsys(err, -r, "reading the driver of %s", a);
	if (r == 0) {
		if (dev_file(path, sizeof(path), sysroot, dev, "driver/unbind") < 0)
			return agent_error_set(err, ENAMETOOLONG, "sysfs path too long");
		r = write_file(path, a);
		if (r < 0)
			return agent_error_setsys(err, -r, "unbinding %s from %s", a, drv);
	}
	snprintf(path, sizeof(path), "%s/bus/pci/drivers_probe", sysroot ? sysroot : "/sys");
	r = write_file(path, a);
	if (r < 0)
		return agent_error_setsys(err, -r, "probing a driver for %s (%s)", a, path);
	return 0;
}

int vfio_iommu_group(const char *sysroot, const struct pci_addr *dev, unsigned *ret,
		     agent_error_t **err)
{
	char name[32], a[PCI_ADDR_TEXT_MAX], *end;
	int r;

	pci_addr_format(dev, a);
	r = dev_link_name(sysroot, dev, "iommu_group", name, sizeof(name));
	if (r == -ENOENT)
		return agent_error_set(err, ENOENT, "%s has no IOMMU group", a);
	if (r < 0)
		return agent_error_setsys(err, -r, "reading the IOMMU group of %s", a);
	errno = 0;
	unsigned long g = strtoul(name, &end, 10);
	if (name[0] < '0' || name[0] > '9' || *end || errno || g > UINT_MAX / 2)
		return agent_error_set(err, EINVAL, "unexpected IOMMU group link %s for %s", name,
				       a);
	*ret = (unsigned)g;
	return 0;
}
