// SPDX-License-Identifier: Apache-2.0
#include "device/pciaddr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "device/pcipath.h"

#define ENV_PREFIX "PCIDEVICE_"
#define INFO_SUFFIX "_INFO"

static int hexn(const char *s, size_t n, unsigned *ret)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		int h = pci_hex_digit(s[i]);
		if (h < 0)
			return -EINVAL;
		v = v * 16 + (unsigned)h;
	}
	*ret = v;
	return 0;
}

int pci_addr_parse_n(const char *s, size_t len, struct pci_addr *ret)
{
	unsigned d, b, sl, f;

	/* dddd:bb:ss.f */
	if (len != PCI_ADDR_TEXT_LEN || s[4] != ':' || s[7] != ':' || s[10] != '.')
		return -EINVAL;
	if (hexn(s, 4, &d) < 0 || hexn(s + 5, 2, &b) < 0 || hexn(s + 8, 2, &sl) < 0 ||
	    hexn(s + 11, 1, &f) < 0)
		return -EINVAL;
	if (sl > 0x1f || f > 7)
		return -EINVAL;
	ret->domain = (uint16_t)d;
	ret->bus = (uint8_t)b;
	ret->slot = (uint8_t)sl;
	ret->func = (uint8_t)f;
	return 0;
}

int pci_addr_parse(const char *s, struct pci_addr *ret)
{
	return pci_addr_parse_n(s, strnlen(s, PCI_ADDR_TEXT_MAX), ret);
}

void pci_addr_format(const struct pci_addr *a, char buf[PCI_ADDR_TEXT_MAX])
{
	snprintf(buf, PCI_ADDR_TEXT_MAX, "%04x:%02x:%02x.%x", a->domain, a->bus, a->slot & 0x1f,
		 a->func & 7);
}

bool pci_addr_eq(const struct pci_addr *a, const struct pci_addr *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot &&
	       a->func == b->func;
}

const struct pci_addr *pci_map_find(const struct pci_map *m, const struct pci_addr *host)
{
	for (size_t i = 0; i < m->n; i++)
		if (pci_addr_eq(&m->e[i].host, host))
			return &m->e[i].guest;
	return NULL;
}

int pci_map_add(struct pci_map *m, const struct pci_addr *host, const struct pci_addr *guest,
		agent_error_t **err)
{
	const struct pci_addr *g = pci_map_find(m, host);
	char h[PCI_ADDR_TEXT_MAX], a[PCI_ADDR_TEXT_MAX], b[PCI_ADDR_TEXT_MAX];

	if (g && pci_addr_eq(g, guest))
		return 0;
	if (g) {
		pci_addr_format(host, h);
		pci_addr_format(guest, a);
		pci_addr_format(g, b);
		return agent_error_set(
			err, EEXIST, "Conflicting guest address for host device %s (%s versus %s)",
			h, a, b);
	}
	if (m->n >= PCI_MAP_MAX)
		return agent_error_set(err, ENOSPC, "more than %d PCI functions", PCI_MAP_MAX);
	m->e[m->n].host = *host;
	m->e[m->n].guest = *guest;
	m->n++;
	return 0;
}

/* --- PCIDEVICE_* ----------------------------------------------------------------------- */

static bool has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	return len >= n && !memcmp(s + len - n, suffix, n);
}

/* A PCIDEVICE_<x> list whose every element is a mapped PCI address. */
static bool list_mappable(const char *v, const struct pci_map *m)
{
	for (;;) {
		const char *comma = strchr(v, ',');
		size_t len = comma ? (size_t)(comma - v) : strlen(v);
		struct pci_addr a;

		if (pci_addr_parse_n(v, len, &a) < 0 || !pci_map_find(m, &a))
			return false;
		if (!comma)
			return true;
		v = comma + 1;
	}
}

/* The mapped guest address when the PCI_ADDR_TEXT_LEN bytes at p are one of list's elements. */
static const struct pci_addr *list_match(const char *list, const char *p, const struct pci_map *m)
{
	struct pci_addr a;

	if (pci_addr_parse_n(p, PCI_ADDR_TEXT_LEN, &a) < 0)
		return NULL;
	for (const char *v = list; v; v = strchr(v, ',') ? strchr(v, ',') + 1 : NULL)
		if (!memcmp(v, p, PCI_ADDR_TEXT_LEN))
			return pci_map_find(m, &a);
	return NULL;
}

/* The value of the entry named exactly name[0, len), or NULL. */
static char *env_find(char *const *env, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (!strncmp(env[i], name, len) && env[i][len] == '=')
			return env[i] + len + 1;
	return NULL;
}

static void rewrite_info(char *info, const char *list, const struct pci_map *m)
{
	size_t len = strlen(info);
	char text[PCI_ADDR_TEXT_MAX];

	for (size_t i = 0; i + PCI_ADDR_TEXT_LEN <= len; i++) {
		const struct pci_addr *g = list_match(list, info + i, m);
		if (!g)
			continue;
		pci_addr_format(g, text);
		memcpy(info + i, text, PCI_ADDR_TEXT_LEN);
		i += PCI_ADDR_TEXT_LEN - 1;
	}
}

static void rewrite_list(char *v, const struct pci_map *m)
{
	char text[PCI_ADDR_TEXT_MAX];

	for (;;) {
		struct pci_addr a;
		pci_addr_parse_n(v, PCI_ADDR_TEXT_LEN, &a); /* list_mappable() said it parses */
		pci_addr_format(pci_map_find(m, &a), text);
		memcpy(v, text, PCI_ADDR_TEXT_LEN);
		if (v[PCI_ADDR_TEXT_LEN] != ',')
			return;
		v += PCI_ADDR_TEXT_LEN + 1;
	}
}

size_t pci_env_rewrite(char *const *env, size_t n, const struct pci_map *m)
{
	size_t changed = 0, plen = strlen(ENV_PREFIX), slen = strlen(INFO_SUFFIX);

	if (!m || !m->n)
		return 0;
	/* The _INFO variables first, while their lists still hold the host addresses. */
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(env[i], '=');
		size_t len = eq ? (size_t)(eq - env[i]) : 0;
		if (!eq || strncmp(env[i], ENV_PREFIX, plen) ||
		    !has_suffix(env[i], len, INFO_SUFFIX))
			continue;
		const char *list = env_find(env, n, env[i], len - slen);
		if (!list || !list_mappable(list, m))
			continue;
		rewrite_info(env[i] + len + 1, list, m);
		changed++;
	}
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(env[i], '=');
		size_t len = eq ? (size_t)(eq - env[i]) : 0;
		if (!eq || strncmp(env[i], ENV_PREFIX, plen) ||
		    has_suffix(env[i], len, INFO_SUFFIX))
			continue;
		if (!list_mappable(eq + 1, m))
			continue;
		rewrite_list(env[i] + len + 1, m);
		changed++;
	}
	return changed;
}
