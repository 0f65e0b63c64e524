/* SPDX-License-Identifier: Apache-2.0 */
/*
 * VFIO PCI devices in the guest: the runtime names each function by
 * "<host address>=<guest PCI path>"; for the vfio-pci type the guest device
 * is handed to the vfio-pci driver (driver_override, unbind, probe) and the
 * container gets its IOMMU group's node /dev/vfio/<group>. Every sysfs path is
 * built from a parsed address, under a sysfs root that tests can replace.
 */
#ifndef AGENT_DEVICE_VFIO_H
#define AGENT_DEVICE_VFIO_H

#include <stdbool.h>

#include "base/error.h"
#include "device/pciaddr.h"
#include "device/pcipath.h"

#define VFIO_DRIVER "vfio-pci"

/*
 * "DDDD:BB:SS.F=<PCI path>": the host address (strict) and the guest PCI path.
 * An empty path (the runtime could not work it out) gives *ret_has_path false:
 * the function is skipped. 0 or -EINVAL.
 */
int vfio_option_parse(const char *opt, struct pci_addr *ret_host, struct pci_path *ret_path,
		      bool *ret_has_path, agent_error_t **err);

/* The guest address of a resolved PCI path: the last element of its devpath. */
int vfio_guest_addr(const struct pci_sysfs_path *sp, struct pci_addr *ret, agent_error_t **err);

/*
 * Makes vfio-pci the driver of dev (sysroot NULL = "/sys"): writes it to
 * <sysroot>/bus/pci/devices/<dev>/driver_override, unbinds the current driver
 * (if any, and not vfio-pci already) and asks <sysroot>/bus/pci/drivers_probe.
 */
int vfio_pci_bind(const char *sysroot, const struct pci_addr *dev, agent_error_t **err);

/*
 * The IOMMU group of dev: the number its <dev>/iommu_group link names.
 * -ENOENT "<dev> has no IOMMU group" when there is none.
 */
int vfio_iommu_group(const char *sysroot, const struct pci_addr *dev, unsigned *ret,
		     agent_error_t **err);

#endif
