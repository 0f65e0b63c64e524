/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCI addresses ("DDDD:BB:SS.F") and the host -> guest address map of a
 * container's VFIO devices, with the rewriting of the PCIDEVICE_* environment
 * variables a device plugin sets (host addresses) into guest addresses.
 */
#ifndef AGENT_DEVICE_PCIADDR_H
#define AGENT_DEVICE_PCIADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* "dddd:bb:ss.f" and its NUL. */
#define PCI_ADDR_TEXT_LEN 12
#define PCI_ADDR_TEXT_MAX (PCI_ADDR_TEXT_LEN + 1)
#define PCI_MAP_MAX 256

struct pci_addr {
	uint16_t domain;
	uint8_t bus;
	uint8_t slot; /* 0..0x1f */
	uint8_t func; /* 0..7 */
};

/*
 * Strict: exactly 4, 2, 2 and 1 hex digits (either case) as "DDDD:BB:SS.F",
 * slot <= 0x1f, function <= 7, nothing else. 0 or -EINVAL (ret untouched).
 */
int pci_addr_parse(const char *s, struct pci_addr *ret);
/* Same on the first len bytes of s (no NUL needed). */
int pci_addr_parse_n(const char *s, size_t len, struct pci_addr *ret);
/* Canonical lower-case text, always PCI_ADDR_TEXT_LEN characters. */
void pci_addr_format(const struct pci_addr *a, char buf[PCI_ADDR_TEXT_MAX]);
bool pci_addr_eq(const struct pci_addr *a, const struct pci_addr *b);

struct pci_map {
	size_t n;
	struct {
		struct pci_addr host, guest;
	} e[PCI_MAP_MAX];
};

/*
 * Records host -> guest. The same pair twice is fine; one host address with
 * two guest addresses is an error (-EEXIST), so is a full map (-ENOSPC).
 */
int pci_map_add(struct pci_map *m, const struct pci_addr *host, const struct pci_addr *guest,
		agent_error_t **err);
/* The guest address of host, or NULL. */
const struct pci_addr *pci_map_find(const struct pci_map *m, const struct pci_addr *host);

/*
 * Rewrites env (n "NAME=value" strings, in place) for the map:
 * PCIDEVICE_<x> (not ending in _INFO) whose value is a comma-separated list of
 * PCI addresses, all of them in the map, gets the guest addresses instead; then
 * PCIDEVICE_<x>_INFO has each of those host address strings replaced by its
 * guest address wherever it occurs. A value with anything that is not a PCI
 * address, or with an address not in the map, leaves the variable (and its
 * _INFO) untouched. Addresses have one fixed length, so nothing is
 * reallocated. Returns how many variables changed.
 */
size_t pci_env_rewrite(char *const *env, size_t n, const struct pci_map *m);

#endif
