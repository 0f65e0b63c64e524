/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the host names devices and storages with: PCI paths, VFIO options,
 * PCIDEVICE_* environment rewriting, kernel module names, huge page options, and
 * whole Storage and Device messages through the checks CreateContainer runs
 * before touching anything. The first byte picks the target.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent.pb-c.h"
#include "device/devmatch.h"
#include "device/pciaddr.h"
#include "device/pcipath.h"
#include "device/vfio.h"
#include "init/kmod.h"
#include "sandbox/devices.h"
#include "storage/hugepages.h"
#include "storage/storage.h"

#define WORDS_MAX 64

/* The bytes as a NUL-terminated string (embedded NULs end it). */
static char *text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* NUL-separated words, at most WORDS_MAX. */
static size_t split(char *s, size_t size, char **words)
{
	size_t n = 0;

	for (size_t i = 0; i <= size && n < WORDS_MAX;) {
		words[n++] = s + i;
		i += strlen(s + i) + 1;
	}
	return n;
}

static void pci_path(const char *s)
{
	struct pci_path p, q;
	agent_error_t *err = NULL;
	char buf[256];

	if (pci_path_parse(s, &p, &err) == 0) {
		/* What parses formats back to something that parses the same. */
		pci_path_format(&p, buf, sizeof(buf));
		if (pci_path_parse(buf, &q, &err) != 0 || memcmp(&p, &q, sizeof(p)) != 0)
			abort();
	} else if (!err || !err->msg) {
		abort();
	}
	agent_error_free(err);
}

static void vfio_option(const char *s)
{
	struct pci_addr a;
	struct pci_path p;
	bool has;
	agent_error_t *err = NULL;

	if (vfio_option_parse(s, &a, &p, &has, &err) == 0) {
		if (a.slot > 0x1f || a.func > 7)
			abort();
	} else if (!err || !err->msg) {
		abort();
	}
	agent_error_free(err);
}

static void env_rewrite(char *s, size_t size)
{
	static const char *const pairs[][2] = {{"0000:3b:00.0", "0000:03:00.0"},
					       {"0000:3b:00.1", "0000:03:00.1"},
					       {"0000:af:1f.7", "0000:00:02.0"}};
	struct pci_map *m = calloc(1, sizeof(*m));
	agent_error_t *err = NULL;
	char *words[WORDS_MAX];
	size_t lens[WORDS_MAX];

	if (!m)
		abort();
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct pci_addr h, g;
		if (pci_addr_parse(pairs[i][0], &h) || pci_addr_parse(pairs[i][1], &g) ||
		    pci_map_add(m, &h, &g, &err) < 0)
			abort();
	}
	size_t n = split(s, size, words);
	for (size_t i = 0; i < n; i++)
		lens[i] = strlen(words[i]);
	pci_env_rewrite(words, n, m);
	for (size_t i = 0; i < n; i++)
		if (strlen(words[i]) != lens[i])
			abort(); /* rewritten in place, length for length */
	free(m);
}

static void kmod(char *s, size_t size)
{
	char *words[WORDS_MAX];
	size_t n = split(s, size, words);
	agent_error_t *err = NULL;

	if (kmod_validate(words[0], words + 1, n - 1, &err) < 0 && (!err || !err->msg))
		abort();
	agent_error_free(err);
}

static void hugepages(char *s, size_t size)
{
	char *words[WORDS_MAX];
	size_t n = split(s, size, words);
	uint64_t ps, sz;
	agent_error_t *err = NULL;

	if (hugepages_parse(words, n, &ps, &sz, &err) == 0) {
		if (ps < 4096 || (ps & (ps - 1)) || sz < ps || sz / ps > HUGEPAGES_MAX)
			abort();
	} else if (!err || !err->msg) {
		abort();
	}
	agent_error_free(err);
}

static void storage_msg(const uint8_t *data, size_t size)
{
	Grpc__Storage *st = grpc__storage__unpack(NULL, size, data);
	agent_error_t *err = NULL;
	struct dev_match d;

	if (!st)
		return;
	if (storage_validate(st, &err) == 0) {
		agent_error_free(err);
		err = NULL;
		if (storage_device_match(st, &d, &err) < 0 && (!err || !err->msg))
			abort();
	} else if (!err || !err->msg) {
		abort();
	}
	agent_error_free(err);
	grpc__storage__free_unpacked(st, NULL);
}

static void device_msg(const uint8_t *data, size_t size)
{
	Grpc__Device *dv = grpc__device__unpack(NULL, size, data);
	agent_error_t *err = NULL;

	if (!dv)
		return;
	if (devices_validate(&dv, 1, &err) < 0 && (!err || !err->msg))
		abort();
	agent_error_free(err);
	grpc__device__free_unpacked(dv, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 8192)
		return 0;
	uint8_t which = data[0] % 7;
	data++;
	size--;
	if (which == 5) {
		storage_msg(data, size);
		return 0;
	}
	if (which == 6) {
		device_msg(data, size);
		return 0;
	}
	char *s = text(data, size);
	switch (which) {
	case 0:
		pci_path(s);
		break;
	case 1:
		vfio_option(s);
		break;
	case 2:
		env_rewrite(s, size);
		break;
	case 3:
		kmod(s, size);
		break;
	case 4:
		hugepages(s, size);
		break;
	}
	free(s);
	return 0;
}
