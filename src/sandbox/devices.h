/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CreateContainer's devices: each is resolved to a guest node
 * (waiting for hot-plugged ones), then the spec's linux.devices entry at its
 * container_path gets the guest's major:minor and the cgroup an allow rule.
 */
#ifndef AGENT_SANDBOX_DEVICES_H
#define AGENT_SANDBOX_DEVICES_H

#include "agent.pb-c.h"
#include "base/error.h"

struct dev_match;
struct vfio_set;

#define DEVICES_MAX 256
/* With any VFIO device the container also gets the char devices found here (RDMA). */
#define DEVICES_INFINIBAND_DIR "/dev/infiniband"

/* Shape only: type known, id or vm_path, container_path under /dev, VFIO options parse. */
int devices_validate(Grpc__Device *const *d, size_t n, agent_error_t **err);
/* 1 and *ret filled when the device may still be coming; 0 when vm_path is usable now. */
int device_match(const Grpc__Device *d, struct dev_match *ret, agent_error_t **err);
/*
 * Patches spec with each device's guest node (node[i], else
 * vm_path; VFIO: the group node from vfio, none for vfio-pci-gk): an allow
 * rule, PCIDEVICE_* env rewritten for vfio's PCI map, /dev/infiniband char
 * devices with any VFIO device, then the linux.devices entry at each
 * container_path (guest numbers; VFIO: the group node's path) and the spec's
 * resources.devices rules that named the old numbers. vfio may be NULL.
 */
int devices_apply(Grpc__Spec *spec, Grpc__Device *const *d, size_t n, char *const *node,
		  const struct vfio_set *vfio, agent_error_t **err);
/* Adds every char device directly in dir to linux.devices (unless listed) with an allow rule. */
int devices_expose_dir(Grpc__Spec *spec, const char *dir, agent_error_t **err);

#endif
