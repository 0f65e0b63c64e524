/* SPDX-License-Identifier: Apache-2.0 */
/* PCI path parsing and resolution to a sysfs device path. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "pcipath.h"

#define BUS_DIR_MAX_ENTRIES 1024

int pci_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "SS" or "SS.F" in [s, e): 1-2 hex digits, optional '.' and one octal digit. */
static int parse_token(const char *s, const char *e, unsigned *ret_slot, int *ret_func)
{
	const char *dot = memchr(s, '.', (size_t)(e - s));
	const char *send = dot ? dot : e;
	size_t n = (size_t)(send - s);
	if (n < 1 || n > 2)
		return -EINVAL;
	unsigned v = 0;
	for (const char *c = s; c < send; c++) {
		int h = pci_hex_digit(*c);
		if (h < 0)
			return -EINVAL;
		v = v * 16 + (unsigned)h;
	}
	int func = -1;
	if (dot) {
		if (e - dot != 2 || dot[1] < '0' || dot[1] > '7')
			return -EINVAL;
		func = dot[1] - '0';
	}
	*ret_slot = v;
	*ret_func = func;
	return 0;
}

int pci_path_parse(const char *text, struct pci_path *ret, agent_error_t **err)
{
	if (!text || !*text)
		return agent_error_set(err, EINVAL, "empty PCI path");
	size_t len = strnlen(text, PCI_PATH_TEXT_MAX + 1);
	if (len > PCI_PATH_TEXT_MAX)
		return agent_error_set(err, EINVAL, "PCI path too long");

	unsigned slots[PCI_PATH_MAX_SEGMENTS + 1];
	int funcs[PCI_PATH_MAX_SEGMENTS + 1];
	unsigned n = 0;
	const char *s = text, *end = text + len;
	for (;;) {
		const char *e = memchr(s, '/', (size_t)(end - s));
		if (!e)
			e = end;
		if (n == ARRAY_SIZE(slots))
			return agent_error_set(err, EINVAL, "PCI path %s has more than %d segments",
					       text, PCI_PATH_MAX_SEGMENTS);
		if (parse_token(s, e, &slots[n], &funcs[n]) < 0)
			return agent_error_set(err, EINVAL, "bad PCI path %s: segment \"%.*s\"",
					       text, (int)(e - s), s);
		n++;
		if (e == end)
			break;
		s = e + 1;
	}

	struct pci_path p = {0};
	unsigned first = 0;
	if (n >= 3 && slots[0] > PCI_SLOT_MAX && funcs[0] < 0) {
		p.has_root_complex = true;
		p.root_complex = (uint8_t)slots[0];
		first = 1;
	}
	if (n - first > PCI_PATH_MAX_SEGMENTS)
		return agent_error_set(err, EINVAL, "PCI path %s has more than %d segments", text,
				       PCI_PATH_MAX_SEGMENTS);
	for (unsigned i = first; i < n; i++) {
		if (slots[i] > PCI_SLOT_MAX)
			return agent_error_set(err, EINVAL,
					       "bad PCI path %s: slot 0x%x is above 0x%x", text,
					       slots[i], PCI_SLOT_MAX);
		p.seg[p.n].slot = (uint8_t)slots[i];
		p.seg[p.n].func = (uint8_t)(funcs[i] < 0 ? 0 : funcs[i]);
		p.n++;
	}
	*ret = p;
	return 0;
}

void pci_path_format(const struct pci_path *p, char *buf, size_t len)
{
	size_t off = 0;
	if (!len)
		return;
	buf[0] = '\0';
	if (p->has_root_complex)
		off += (size_t)snprintf(buf, len, "%02x", p->root_complex);
	for (unsigned i = 0; i < p->n && off < len; i++) {
		int w = p->seg[i].func ? snprintf(buf + off, len - off, "%s%02x.%x", off ? "/" : "",
						  p->seg[i].slot, p->seg[i].func)
				       : snprintf(buf + off, len - off, "%s%02x", off ? "/" : "",
						  p->seg[i].slot);
		if (w < 0)
			return;
		off += (size_t)w;
	}
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int pci_root_bus_path(const char *sysroot, uint8_t rc, char *ret, size_t len, agent_error_t **err)
{
	if (!sysroot)
		sysroot = "/sys";
	char rel[PCI_SYSFS_PATH_MAX], full[PATH_MAX];
	snprintf(rel, sizeof(rel), "/devices/pci0000:%02x", rc);
	if (snprintf(full, sizeof(full), "%s%s", sysroot, rel) >= (int)sizeof(full))
		return agent_error_set(err, ENAMETOOLONG, "sysfs path too long");
	if (!is_dir(full)) {
		/* arm64 virt: the host bridge sits under a platform device "<addr>.pcie". */
		char plat[PATH_MAX];
		snprintf(plat, sizeof(plat), "%s/devices/platform", sysroot);
		DIR *d = opendir(plat);
		bool found = false;
		struct dirent *de;
		while (d && !found && (de = readdir(d)) != NULL) {
			size_t n = strlen(de->d_name);
			if (n < 6 || strcmp(de->d_name + n - 5, ".pcie") != 0)
				continue;
			char cand[PCI_SYSFS_PATH_MAX];
			if (snprintf(cand, sizeof(cand), "/devices/platform/%s/pci0000:%02x",
				     de->d_name, rc) >= (int)sizeof(cand))
				continue;
			if (snprintf(full, sizeof(full), "%s%s", sysroot, cand) >=
			    (int)sizeof(full))
				continue;
			if (is_dir(full)) {
				memcpy(rel, cand, sizeof(rel));
				found = true;
			}
		}
		if (d)
			closedir(d);
		if (!found)
			return agent_error_set(err, ENOENT, "PCI root bus pci0000:%02x not found",
					       rc);
	}
	if (strlen(rel) >= len)
		return agent_error_set(err, ENAMETOOLONG, "PCI root bus path too long");
	memcpy(ret, rel, strlen(rel) + 1);
	return 0;
}

/* "0000:01:02.3" -> bus "0000:01". */
static bool bdf_bus(const char *name, char bus[8])
{
	static const char shape[] = "hhhh:hh:hh.d";
	if (strlen(name) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++) {
		char c = name[i];
		if (shape[i] == 'h'   ? pci_hex_digit(c) < 0
		    : shape[i] == 'd' ? (c < '0' || c > '7')
				      : c != shape[i])
			return false;
	}
	memcpy(bus, name, 7);
	bus[7] = '\0';
	return true;
}

static bool bus_name_ok(const char *name)
{
	static const char shape[] = "hhhh:hh";
	if (strlen(name) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'h' ? pci_hex_digit(name[i]) < 0 : name[i] != shape[i])
			return false;
	return true;
}

/* The bus behind a bridge: the one entry of pci_bus/, or the bus of its child devices. */
static int next_bus(const char *bridge, char bus[8], agent_error_t **err)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/pci_bus", bridge) >= (int)sizeof(path))
		return agent_error_set(err, ENAMETOOLONG, "sysfs path too long");
	DIR *d = opendir(path);
	if (d) {
		unsigned n = 0;
		struct dirent *de;
		while ((de = readdir(d)) != NULL && n < 2) {
			if (de->d_name[0] == '.')
				continue;
			if (!bus_name_ok(de->d_name)) {
				closedir(d);
				return agent_error_set(err, EINVAL, "unexpected entry %s in %s",
						       de->d_name, path);
			}
			memcpy(bus, de->d_name, 8);
			n++;
		}
		closedir(d);
		if (n != 1)
			return agent_error_set(err, n ? EINVAL : ENOENT,
					       "expected exactly one PCI bus in %s, found %s", path,
					       n ? "several" : "none");
		return 0;
	}
	if (errno != ENOENT)
		return agent_error_setsys(err, errno, "opening %s", path);

	d = opendir(bridge);
	if (!d)
		return agent_error_setsys(err, errno, "opening %s", bridge);
	unsigned nbus = 0, count = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && count++ < BUS_DIR_MAX_ENTRIES) {
		char b[8];
		if (!bdf_bus(de->d_name, b))
			continue;
		if (nbus && strcmp(b, bus) == 0)
			continue;
		if (nbus) {
			nbus++;
			break;
		}
		memcpy(bus, b, 8);
		nbus = 1;
	}
	closedir(d);
	if (nbus != 1)
		return agent_error_set(err, nbus ? EINVAL : ENOENT,
				       "bridge %s has no pci_bus directory and %s", bridge,
				       nbus ? "its child devices sit on several buses"
					    : "no child PCI device");
	return 0;
}

int pci_path_resolve(const char *sysroot, const struct pci_path *p, struct pci_sysfs_path *ret,
		     agent_error_t **err)
{
	if (!sysroot)
		sysroot = "/sys";
	char text[PCI_PATH_TEXT_MAX + 8];
	pci_path_format(p, text, sizeof(text));
	if (p->n == 0 || p->n > PCI_PATH_MAX_SEGMENTS)
		return agent_error_set(err, EINVAL, "PCI path with %u segments", p->n);

	struct pci_sysfs_path out;
	memset(&out, 0, sizeof(out));
	int r = pci_root_bus_path(sysroot, p->root_complex, out.rootbus, sizeof(out.rootbus), err);
	if (r < 0) {
		agent_error_wrap(err, "PCI path %s", text);
		return r;
	}

	char bus[8];
	snprintf(bus, sizeof(bus), "0000:%02x", p->root_complex);
	size_t off = 0;
	for (unsigned i = 0; i < p->n; i++) {
		int w = snprintf(out.relpath + off, sizeof(out.relpath) - off, "/%s:%02x.%x", bus,
				 p->seg[i].slot, p->seg[i].func);
		if (w < 0 || (size_t)w >= sizeof(out.relpath) - off)
			return agent_error_set(err, ENAMETOOLONG, "PCI path %s: path too long",
					       text);
		off += (size_t)w;
		if (i == p->n - 1)
			break; /* the device itself may not be there yet */
		char bridge[PATH_MAX];
		if (snprintf(bridge, sizeof(bridge), "%s%s%s", sysroot, out.rootbus, out.relpath) >=
		    (int)sizeof(bridge))
			return agent_error_set(err, ENAMETOOLONG, "sysfs path too long");
		if (!is_dir(bridge))
			return agent_error_set(err, ENOENT,
					       "PCI path %s: bridge %s (segment %u) not found",
					       text, out.relpath, i + 1);
		r = next_bus(bridge, bus, err);
		if (r < 0) {
			agent_error_wrap(err, "PCI path %s, segment %u", text, i + 1);
			return r;
		}
	}
	if (snprintf(out.devpath, sizeof(out.devpath), "%s%s", out.rootbus, out.relpath) >=
	    (int)sizeof(out.devpath))
		return agent_error_set(err, ENAMETOOLONG, "PCI path %s: path too long", text);
	*ret = out;
	return 0;
}
