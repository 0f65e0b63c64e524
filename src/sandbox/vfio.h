/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VFIO devices of one CreateContainer (types vfio-pci and vfio-pci-gk,
 * as the runtime sends them), in two waits: first every guest PCI function named by the
 * options, then (vfio-pci only, once the functions are bound to vfio-pci)
 * each device's IOMMU group node. Also the host -> guest PCI address map
 * for the PCIDEVICE_* rewrite.
 */
#ifndef AGENT_SANDBOX_VFIO_H
#define AGENT_SANDBOX_VFIO_H

#include <stdbool.h>

#include "agent.pb-c.h"
#include "base/error.h"
#include "device/pciaddr.h"

#define VFIO_OPTIONS_MAX 64 /* functions per device */

struct dev_match;
struct vfio_set;

bool vfio_type(const char *type); /* vfio-pci or vfio-pci-gk */
bool vfio_type_in_guest(const char *type); /* vfio-pci: the container gets the group */

/*
 * Validation of a VFIO device's options (no sysfs): each parses, and a
 * vfio-pci device has at least one with a guest path. INVALID_ARGUMENT naming
 * devices[index].options[j].
 */
int vfio_device_validate(const Grpc__Device *d, size_t index, agent_error_t **err);

/*
 * The VFIO functions of devices (validated): their guest PCI paths resolved
 * under sysroot (NULL = "/sys"). *ret is NULL when there is no VFIO device.
 */
int vfio_set_new(const char *sysroot, Grpc__Device *const *d, size_t n, struct vfio_set **ret,
		 agent_error_t **err);
struct vfio_set *vfio_set_free(struct vfio_set *s);

/* The matches for the PCI functions (one per option with a path); valid while s lives. */
size_t vfio_set_pci_matches(struct vfio_set *s, struct dev_match *const **ret);
/*
 * Once the functions are there: records host -> guest addresses, binds each
 * vfio-pci function to vfio-pci and checks a device's functions share one
 * IOMMU group. 0 or -errno.
 */
int vfio_set_bind(struct vfio_set *s, agent_error_t **err);
/* After vfio_set_bind(): the matches for the groups' nodes (one per vfio-pci device). */
size_t vfio_set_group_matches(struct vfio_set *s, struct dev_match *const **ret);
/* "/dev/vfio/<group>" for device i of a vfio-pci type after vfio_set_bind(), else NULL. */
const char *vfio_set_node(const struct vfio_set *s, size_t i);
/* The host -> guest map after vfio_set_bind(). Accepts NULL (then NULL). */
const struct pci_map *vfio_set_map(const struct vfio_set *s);

#endif
