/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCI paths: "SS[.F]/SS[.F]/..." names a device by the slot (and
 * function) it occupies on each bridge from the root bus down, optionally
 * preceded by a root complex number ("20/01/02": pxb-pcie root 0x20). Resolving
 * one walks a sysfs tree (the root is a parameter, so tests use a fake one).
 */
#ifndef AGENT_DEVICE_PCIPATH_H
#define AGENT_DEVICE_PCIPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define PCI_PATH_MAX_SEGMENTS 16
#define PCI_SLOT_MAX 0x1f
#define PCI_FUNC_MAX 7
/* Longest text form: rc + 16 "SS.F" + slashes. */
#define PCI_PATH_TEXT_MAX (3 + PCI_PATH_MAX_SEGMENTS * 5 + 1)
#define PCI_SYSFS_PATH_MAX 512

struct pci_path_segment {
	uint8_t slot; /* 0..0x1f */
	uint8_t func; /* 0..7 */
};

struct pci_path {
	uint8_t root_complex; /* 0 unless given */
	bool has_root_complex;
	unsigned n; /* 1..PCI_PATH_MAX_SEGMENTS */
	struct pci_path_segment seg[PCI_PATH_MAX_SEGMENTS];
};

/*
 * Parses "02/01", "01.2/03", "20/01/02". A first segment >= 0x20 (no function)
 * followed by at least two more is a root complex; anywhere else a slot must
 * be <= 0x1f and a function <= 7; 1-2 hex digits each. 0 or -EINVAL.
 */
int pci_path_parse(const char *text, struct pci_path *ret, agent_error_t **err);
/* Canonical text ("02/01.2", functions only when non-zero). Always NUL-terminated. */
void pci_path_format(const struct pci_path *p, char *buf, size_t len);

struct pci_sysfs_path {
	char rootbus[PCI_SYSFS_PATH_MAX]; /* "/devices/pci0000:00", relative to the sysfs root */
	char relpath[PCI_SYSFS_PATH_MAX]; /* "/0000:00:06.0/0000:02:00.0" */
	char devpath[PCI_SYSFS_PATH_MAX]; /* rootbus + relpath: the device's DEVPATH */
};

/*
 * The root bus directory for root complex rc: <sysroot>/devices/pci0000:<rc>,
 * or else (arm64) <sysroot>/devices/platform/<x>.pcie/pci0000:<rc>. Writes the
 * sysroot-relative path. 0, or -ENOENT when neither exists.
 */
int pci_root_bus_path(const char *sysroot, uint8_t rc, char *ret, size_t len, agent_error_t **err);

/*
 * Resolves p under sysroot (NULL = "/sys"): starting on bus 0000:<rc>, each
 * segment but the last names a bridge whose downstream bus is the single
 * entry of <bridge>/pci_bus/ or, without that directory, the one bus shared by
 * the PCI devices listed in <bridge>/. The last device need not exist yet (it
 * is what a caller waits for). 0, -ENOENT (missing bridge/bus), -EINVAL
 * (several buses), -ENAMETOOLONG.
 */
int pci_path_resolve(const char *sysroot, const struct pci_path *p, struct pci_sysfs_path *ret,
		     agent_error_t **err);

/* The value of one hex digit, or -1. */
int pci_hex_digit(char c);

#endif
