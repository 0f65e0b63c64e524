/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The uevent matches behind the storage drivers and device handlers (spec
 * 5.1/5.2): each fills a dev_match whose .m is ready for uevent_wait() or
 * uevent_find(). .m points into the dev_match itself: use it in place, do not
 * copy the struct (uevent_wait copies the strings it needs).
 */
#ifndef AGENT_DEVICE_DEVMATCH_H
#define AGENT_DEVICE_DEVMATCH_H

#include "base/error.h"
#include "device/pcipath.h"
#include "uevent/uevent.h"

struct dev_match {
	struct uevent_match m;
	char what[UEVENT_NAME_MAX];
	char devpath[UEVENT_DEVPATH_MAX];
	char affix[UEVENT_DEVPATH_MAX];
	char suffix[UEVENT_DEVPATH_MAX];
	char devname[UEVENT_NAME_MAX];
};

/* virtio-blk disk: SUBSYSTEM=block, DEVNAME set, DEVPATH = <devpath>/virtio<N>/block/<name>. */
int dev_match_virtio_blk_pci(struct dev_match *ret, const struct pci_sysfs_path *pp,
			     const char *pci_path_text, agent_error_t **err);
/* virtio-mmio disk "/dev/vdX": SUBSYSTEM=block, DEVPATH ends /block/vdX, DEVNAME vdX. */
int dev_match_virtio_blk_mmio(struct dev_match *ret, const char *dev_node, agent_error_t **err);
/* SCSI "<target>:<lun>": SUBSYSTEM=block, add, DEVPATH holds /0:0:<t>:<l>/block/<DEVNAME>. */
int dev_match_scsi(struct dev_match *ret, const char *scsi_addr, agent_error_t **err);
/* NVDIMM "/dev/pmemN": SUBSYSTEM=block, DEVPATH under /devices/LNXSYSTM ending /block/pmemN. */
int dev_match_pmem(struct dev_match *ret, const char *dev_node, agent_error_t **err);
/* Network interface of a PCI device: SUBSYSTEM=net, add, INTERFACE set, DEVPATH under it. */
int dev_match_net_pci(struct dev_match *ret, const struct pci_sysfs_path *pp,
		      const char *pci_path_text, agent_error_t **err);
/* The PCI device itself (VFIO): DEVPATH exactly pp->devpath. */
int dev_match_pci_device(struct dev_match *ret, const struct pci_sysfs_path *pp,
			 const char *pci_path_text, agent_error_t **err);
/* A VFIO group node: DEVPATH exactly /devices/virtual/vfio/<group>. */
int dev_match_vfio_group(struct dev_match *ret, unsigned group, agent_error_t **err);

/* "<target>:<lun>" with decimal numbers. 0 or -EINVAL. */
int scsi_addr_parse(const char *s, unsigned *ret_target, unsigned *ret_lun, agent_error_t **err);
/*
 * Asks every SCSI host to scan for the address: writes "0 <target> <lun>" to
 * each <sysroot>/class/scsi_host/<host>/scan. 0 (also with no host at all), or
 * -errno of a failed write.
 */
int scsi_scan_hosts(const char *sysroot, const char *scsi_addr, agent_error_t **err);

#endif
