/* SPDX-License-Identifier: Apache-2.0 */
/* Device matches for the storage drivers and device handlers. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/fsutil.h"
#include "devmatch.h"

static int fmt(char *buf, size_t len, agent_error_t **err, const char *f, ...) _printf_(4, 5);
static int fmt(char *buf, size_t len, agent_error_t **err, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int n = vsnprintf(buf, len, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return agent_error_set(err, ENAMETOOLONG, "device match string too long");
	return 0;
}

static void init(struct dev_match *d)
{
	memset(d, 0, sizeof(*d));
	d->m.what = d->what;
}

/* One path component (no '/'), non-empty. */
static bool single_name(const char *s)
{
	return *s && !strchr(s, '/');
}

/* After the prefix "<dev>/virtio": digits, then "/block/<name>" with a single name. */
static bool virtio_blk_tail(const struct uevent_match *m, const struct uevent *ev)
{
	const char *p = ev->devpath + strlen(m->devpath_prefix);
	const char *d = p;
	while (*d >= '0' && *d <= '9')
		d++;
	if (d == p || strncmp(d, "/block/", 7) != 0)
		return false;
	return single_name(d + 7);
}

int dev_match_virtio_blk_pci(struct dev_match *ret, const struct pci_sysfs_path *pp,
			     const char *pci_path_text, agent_error_t **err)
{
	init(ret);
	int r = fmt(ret->affix, sizeof(ret->affix), err, "%s/virtio", pp->devpath);
	if (r < 0)
		return r;
	fmt(ret->what, sizeof(ret->what), NULL, "virtio-blk disk at PCI path %s (%s)",
	    pci_path_text, pp->devpath);
	ret->m.subsystem = "block";
	ret->m.devpath_prefix = ret->affix;
	ret->m.need_devname = true;
	ret->m.fn = virtio_blk_tail;
	return 0;
}

static int dev_node_name(const char *dev_node, const char *kind, const char **ret_name,
			 agent_error_t **err)
{
	if (!dev_node || strncmp(dev_node, "/dev/", 5) != 0 || !single_name(dev_node + 5) ||
	    strcmp(dev_node + 5, "..") == 0 || strcmp(dev_node + 5, ".") == 0)
		return agent_error_set(err, EINVAL, "%s device %s must be /dev/<name>", kind,
				       dev_node ? dev_node : "(none)");
	*ret_name = dev_node + 5;
	return 0;
}

int dev_match_virtio_blk_mmio(struct dev_match *ret, const char *dev_node, agent_error_t **err)
{
	init(ret);
	const char *name;
	int r = dev_node_name(dev_node, "virtio-mmio block", &name, err);
	if (r < 0)
		return r;
	r = fmt(ret->suffix, sizeof(ret->suffix), err, "/block/%s", name);
	if (r < 0)
		return r;
	fmt(ret->devname, sizeof(ret->devname), NULL, "%s", name);
	fmt(ret->what, sizeof(ret->what), NULL, "virtio-mmio disk %s", dev_node);
	ret->m.subsystem = "block";
	ret->m.devpath_suffix = ret->suffix;
	ret->m.devname = ret->devname;
	ret->m.need_devname = true;
	return 0;
}

int scsi_addr_parse(const char *s, unsigned *ret_target, unsigned *ret_lun, agent_error_t **err)
{
	unsigned v[2] = {0, 0};
	const char *p = s;
	for (int i = 0; i < 2; i++) {
		const char *start = p;
		while (*p >= '0' && *p <= '9') {
			if (v[i] > 0xffffff)
				goto bad;
			v[i] = v[i] * 10 + (unsigned)(*p - '0');
			p++;
		}
		if (p == start || p - start > 8)
			goto bad;
		if (i == 0 && *p++ != ':')
			goto bad;
	}
	if (*p)
		goto bad;
	*ret_target = v[0];
	*ret_lun = v[1];
	return 0;
bad:
	return agent_error_set(err, EINVAL, "bad SCSI address \"%s\" (want <target>:<lun>)",
			       s ? s : "");
}

/* After "/0:0:<t>:<l>/block/": exactly the DEVNAME (a partition has one more level). */
static bool scsi_tail(const struct uevent_match *m, const struct uevent *ev)
{
	const char *p = strstr(ev->devpath, m->devpath_contains);
	if (!p)
		return false;
	p += strlen(m->devpath_contains);
	return single_name(p) && strcmp(p, ev->devname) == 0;
}

int dev_match_scsi(struct dev_match *ret, const char *scsi_addr, agent_error_t **err)
{
	init(ret);
	unsigned t, l;
	int r = scsi_addr_parse(scsi_addr, &t, &l, err);
	if (r < 0)
		return r;
	fmt(ret->affix, sizeof(ret->affix), NULL, "/0:0:%u:%u/block/", t, l);
	fmt(ret->what, sizeof(ret->what), NULL, "SCSI disk %u:%u", t, l);
	ret->m.subsystem = "block";
	ret->m.devpath_contains = ret->affix;
	ret->m.actions = UEVENT_ACTION_BIT(UEVENT_ACTION_ADD);
	ret->m.need_devname = true;
	ret->m.fn = scsi_tail;
	return 0;
}

int dev_match_pmem(struct dev_match *ret, const char *dev_node, agent_error_t **err)
{
	init(ret);
	const char *name;
	int r = dev_node_name(dev_node, "nvdimm", &name, err);
	if (r < 0)
		return r;
	fmt(ret->suffix, sizeof(ret->suffix), NULL, "/block/%s", name);
	fmt(ret->what, sizeof(ret->what), NULL, "NVDIMM disk %s", dev_node);
	ret->m.subsystem = "block";
	ret->m.devpath_prefix = "/devices/LNXSYSTM";
	ret->m.devpath_suffix = ret->suffix;
	ret->m.need_devname = true;
	return 0;
}

int dev_match_net_pci(struct dev_match *ret, const struct pci_sysfs_path *pp,
		      const char *pci_path_text, agent_error_t **err)
{
	init(ret);
	int r = fmt(ret->affix, sizeof(ret->affix), err, "%s/", pp->devpath);
	if (r < 0)
		return r;
	fmt(ret->what, sizeof(ret->what), NULL, "network interface at PCI path %s (%s)",
	    pci_path_text, pp->devpath);
	ret->m.subsystem = "net";
	ret->m.devpath_prefix = ret->affix;
	ret->m.actions = UEVENT_ACTION_BIT(UEVENT_ACTION_ADD);
	ret->m.need_interface = true;
	return 0;
}

int dev_match_pci_device(struct dev_match *ret, const struct pci_sysfs_path *pp,
			 const char *pci_path_text, agent_error_t **err)
{
	init(ret);
	int r = fmt(ret->devpath, sizeof(ret->devpath), err, "%s", pp->devpath);
	if (r < 0)
		return r;
	fmt(ret->what, sizeof(ret->what), NULL, "PCI device at PCI path %s (%s)", pci_path_text,
	    pp->devpath);
	ret->m.devpath = ret->devpath;
	return 0;
}

int dev_match_vfio_group(struct dev_match *ret, unsigned group, agent_error_t **err)
{
	init(ret);
	fmt(ret->devpath, sizeof(ret->devpath), NULL, "/devices/virtual/vfio/%u", group);
	fmt(ret->what, sizeof(ret->what), NULL, "VFIO group %u", group);
	ret->m.devpath = ret->devpath;
	return 0;
}

int scsi_scan_hosts(const char *sysroot, const char *scsi_addr, agent_error_t **err)
{
	unsigned t, l;
	int r = scsi_addr_parse(scsi_addr, &t, &l, err);
	if (r < 0)
		return r;
	if (!sysroot)
		sysroot = "/sys";
	char dir[PATH_MAX], line[32];
	snprintf(dir, sizeof(dir), "%s/class/scsi_host", sysroot);
	snprintf(line, sizeof(line), "0 %u %u", t, l);
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : agent_error_setsys(err, errno, "opening %s", dir);
	struct dirent *de;
	r = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s/scan", dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		int w = write_file(path, line);
		if (w < 0 && r == 0)
			r = agent_error_setsys(err, -w, "writing \"%s\" to %s", line, path);
	}
	closedir(d);
	return r;
}
