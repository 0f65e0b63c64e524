/* SPDX-License-Identifier: Apache-2.0 */
/* PCI path parsing and resolution over a fake sysfs tree, and the device matches. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/fsutil.h"
#include "device/devmatch.h"
#include "device/pcipath.h"
#include "harness.h"

static char root[64];

static void mk(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s%s", root, rel);
	ASSERT_EQ(mkdir_p(p, 0755), 0);
}

static void fake_sysfs(void)
{
	snprintf(root, sizeof(root), "/tmp/pcipath-XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(root));
	/* Bridge 02 with a pci_bus dir naming bus 01, leaf 01 on it. */
	mk("/devices/pci0000:00/0000:00:02.0/pci_bus/0000:01");
	mk("/devices/pci0000:00/0000:00:02.0/0000:01:01.0");
	/* Two levels: 02/01 is itself a bridge to bus 02. */
	mk("/devices/pci0000:00/0000:00:02.0/0000:01:01.0/pci_bus/0000:02");
	/* Bridge 03 without pci_bus: bus inferred from its child device. */
	mk("/devices/pci0000:00/0000:00:03.0/0000:05:00.0");
	mk("/devices/pci0000:00/0000:00:03.0/power");
	/* Bridge 04 without pci_bus, children on two buses. */
	mk("/devices/pci0000:00/0000:00:04.0/0000:06:00.0");
	mk("/devices/pci0000:00/0000:00:04.0/0000:07:00.0");
	/* Bridge 05 with two entries in pci_bus. */
	mk("/devices/pci0000:00/0000:00:05.0/pci_bus/0000:08");
	mk("/devices/pci0000:00/0000:00:05.0/pci_bus/0000:09");
	/* Bridge 06: no pci_bus, no child device. */
	mk("/devices/pci0000:00/0000:00:06.0/power");
	/* Function 2 of slot 01 as a bridge. */
	mk("/devices/pci0000:00/0000:00:01.2/pci_bus/0000:0a");
	/* pxb-pcie root complex 0x20. */
	mk("/devices/pci0000:20/0000:20:01.0/pci_bus/0000:21");
}

TEST(parse_accepts_valid_paths)
{
	struct pci_path p;
	char txt[PCI_PATH_TEXT_MAX];
	ASSERT_EQ(pci_path_parse("02/01", &p, NULL), 0);
	ASSERT_EQ(p.n, 2);
	ASSERT_FALSE(p.has_root_complex);
	ASSERT_EQ(p.seg[0].slot, 2);
	ASSERT_EQ(p.seg[1].slot, 1);
	ASSERT_EQ(p.seg[1].func, 0);

	ASSERT_EQ(pci_path_parse("01.2/03", &p, NULL), 0);
	ASSERT_EQ(p.seg[0].slot, 1);
	ASSERT_EQ(p.seg[0].func, 2);
	pci_path_format(&p, txt, sizeof(txt));
	ASSERT_STREQ(txt, "01.2/03");

	ASSERT_EQ(pci_path_parse("1f", &p, NULL), 0);
	ASSERT_EQ(p.n, 1);
	ASSERT_EQ(p.seg[0].slot, 0x1f);
	ASSERT_EQ(pci_path_parse("1F.7", &p, NULL), 0);
	ASSERT_EQ(p.seg[0].func, 7);
	ASSERT_EQ(pci_path_parse("a", &p, NULL), 0);
	ASSERT_EQ(p.seg[0].slot, 0xa);

	/* Root complex: first >= 0x20 and at least 3 segments. */
	ASSERT_EQ(pci_path_parse("20/01/02", &p, NULL), 0);
	ASSERT_TRUE(p.has_root_complex);
	ASSERT_EQ(p.root_complex, 0x20);
	ASSERT_EQ(p.n, 2);
	pci_path_format(&p, txt, sizeof(txt));
	ASSERT_STREQ(txt, "20/01/02");

	/* 16 segments is the limit (17 with a root complex). */
	const char *s16 = "01/01/01/01/01/01/01/01/01/01/01/01/01/01/01/01";
	ASSERT_EQ(pci_path_parse(s16, &p, NULL), 0);
	ASSERT_EQ(p.n, 16);
	ASSERT_EQ(pci_path_parse("ff/01/01/01/01/01/01/01/01/01/01/01/01/01/01/01/01", &p, NULL),
		  0);
	ASSERT_EQ(p.n, 16);
	ASSERT_EQ(p.root_complex, 0xff);
}

TEST(parse_rejects_bad_paths)
{
	static const char *const bad[] = {
		"",	    "/",	  "02/",
		"/02",	    "02//01",	  "20",
		"20/01",    "02/01.8",	  "123",
		"0g",	    "02.",	  "02.10",
		"02.-1",    "20.0/01/02", "-1",
		"02/01/20", " 02",	  "02 ",
		"0x02",	    "02:01",	  "01/01/01/01/01/01/01/01/01/01/01/01/01/01/01/01/01",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pci_path p;
		_cleanup_error_ agent_error_t *err = NULL;
		int r = pci_path_parse(bad[i], &p, &err);
		if (r != -EINVAL)
			FAIL("\"%s\" parsed (r=%d)", bad[i], r);
		ASSERT_NOT_NULL(err);
	}
	ASSERT_EQ(pci_path_parse(NULL, &(struct pci_path){0}, NULL), -EINVAL);
}

static int resolve(const char *text, struct pci_sysfs_path *out, agent_error_t **err)
{
	struct pci_path p;
	int r = pci_path_parse(text, &p, err);
	if (r < 0)
		return r;
	return pci_path_resolve(root, &p, out, err);
}

TEST(resolve_walks_pci_bus_dirs)
{
	fake_sysfs();
	struct pci_sysfs_path out;
	ASSERT_EQ(resolve("02/01", &out, NULL), 0);
	ASSERT_STREQ(out.rootbus, "/devices/pci0000:00");
	ASSERT_STREQ(out.relpath, "/0000:00:02.0/0000:01:01.0");
	ASSERT_STREQ(out.devpath, "/devices/pci0000:00/0000:00:02.0/0000:01:01.0");

	ASSERT_EQ(resolve("02/01/03.1", &out, NULL), 0);
	ASSERT_STREQ(out.relpath, "/0000:00:02.0/0000:01:01.0/0000:02:03.1");

	/* A single segment is a device on the root bus; it need not exist yet. */
	ASSERT_EQ(resolve("07", &out, NULL), 0);
	ASSERT_STREQ(out.devpath, "/devices/pci0000:00/0000:00:07.0");
	/* The leaf need not exist either. */
	ASSERT_EQ(resolve("02/1f", &out, NULL), 0);
	ASSERT_STREQ(out.relpath, "/0000:00:02.0/0000:01:1f.0");
	/* A function number in a bridge segment. */
	ASSERT_EQ(resolve("01.2/04", &out, NULL), 0);
	ASSERT_STREQ(out.relpath, "/0000:00:01.2/0000:0a:04.0");
	rm_rf(root);
}

TEST(resolve_infers_bus_from_child_devices)
{
	fake_sysfs();
	struct pci_sysfs_path out;
	ASSERT_EQ(resolve("03/00", &out, NULL), 0);
	ASSERT_STREQ(out.relpath, "/0000:00:03.0/0000:05:00.0");
	rm_rf(root);
}

TEST(resolve_root_complex)
{
	fake_sysfs();
	struct pci_sysfs_path out;
	ASSERT_EQ(resolve("20/01/00", &out, NULL), 0);
	ASSERT_STREQ(out.rootbus, "/devices/pci0000:20");
	ASSERT_STREQ(out.relpath, "/0000:20:01.0/0000:21:00.0");
	/* An absent root complex is an error. */
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(resolve("30/01/00", &out, &err), -ENOENT);
	ASSERT_TRUE(strstr(err->msg, "pci0000:30") != NULL);
	rm_rf(root);
}

TEST(resolve_arm64_platform_root)
{
	snprintf(root, sizeof(root), "/tmp/pcipath-XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(root));
	mk("/devices/platform/4010000000.pcie/pci0000:00/0000:00:02.0/pci_bus/0000:01");
	mk("/devices/platform/other/pci0000:00");
	struct pci_sysfs_path out;
	ASSERT_EQ(resolve("02/03", &out, NULL), 0);
	ASSERT_STREQ(out.rootbus, "/devices/platform/4010000000.pcie/pci0000:00");
	ASSERT_STREQ(out.devpath,
		     "/devices/platform/4010000000.pcie/pci0000:00/0000:00:02.0/0000:01:03.0");
	rm_rf(root);
}

TEST(resolve_errors)
{
	fake_sysfs();
	struct pci_sysfs_path out;
	memset(&out, 0x5a, sizeof(out));
	struct pci_sysfs_path before = out;
	struct {
		const char *path;
		int err;
		const char *needle;
	} cases[] = {
		{"09/01", -ENOENT, "0000:00:09.0"}, /* missing bridge */
		{"02/02/01", -ENOENT, "0000:01:02.0"}, /* missing second-level bridge */
		{"04/00", -EINVAL, "several buses"}, /* children on two buses */
		{"05/00", -EINVAL, "exactly one PCI bus"}, /* two entries in pci_bus */
		{"06/00", -ENOENT, "no child PCI device"}, /* nothing behind the bridge */
		{"02/01/03/04", -ENOENT, "0000:02:03.0"}, /* bus 02 has no device 03 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		_cleanup_error_ agent_error_t *err = NULL;
		int r = resolve(cases[i].path, &out, &err);
		if (r != cases[i].err)
			FAIL("%s: r=%d, want %d", cases[i].path, r, cases[i].err);
		ASSERT_NOT_NULL(err);
		if (!strstr(err->msg, cases[i].needle))
			FAIL("%s: message \"%s\" lacks \"%s\"", cases[i].path, err->msg,
			     cases[i].needle);
		ASSERT_TRUE(strstr(err->msg, cases[i].path) != NULL);
		ASSERT_EQ(memcmp(&out, &before, sizeof(out)), 0); /* untouched on failure */
	}
	/* No sysfs root at all. */
	struct pci_path p;
	ASSERT_EQ(pci_path_parse("02", &p, NULL), 0);
	ASSERT_EQ(pci_path_resolve("/nonexistent-sysfs", &p, &out, NULL), -ENOENT);
	rm_rf(root);
}

static struct uevent ev_of(const char *action, const char *subsystem, const char *devpath,
			   const char *devname, const char *iface)
{
	struct uevent ev;
	memset(&ev, 0, sizeof(ev));
	ev.action = uevent_action_from_name(action, strlen(action));
	snprintf(ev.subsystem, sizeof(ev.subsystem), "%s", subsystem);
	snprintf(ev.devpath, sizeof(ev.devpath), "%s", devpath);
	snprintf(ev.devname, sizeof(ev.devname), "%s", devname);
	snprintf(ev.interface, sizeof(ev.interface), "%s", iface);
	ev.major = ev.minor = -1;
	return ev;
}

TEST(match_virtio_blk_pci)
{
	struct pci_sysfs_path pp = {.rootbus = "/devices/pci0000:00",
				    .relpath = "/0000:00:0a.0",
				    .devpath = "/devices/pci0000:00/0000:00:0a.0"};
	struct dev_match d;
	ASSERT_EQ(dev_match_virtio_blk_pci(&d, &pp, "0a", NULL), 0);
	struct uevent ok = ev_of("add", "block",
				 "/devices/pci0000:00/0000:00:0a.0/virtio4/block/vda", "vda", "");
	ASSERT_TRUE(uevent_match_test(&d.m, &ok));
	/* Any "present" action (the ACTION is not what matters for PCI disks). */
	ok.action = UEVENT_ACTION_CHANGE;
	ASSERT_TRUE(uevent_match_test(&d.m, &ok));
	ok.action = UEVENT_ACTION_REMOVE;
	ASSERT_FALSE(uevent_match_test(&d.m, &ok));

	struct uevent e;
	e = ev_of("add", "block", "/devices/pci0000:00/0000:00:0a.0/virtio4/block/vda/vda1", "vda1",
		  "");
	ASSERT_FALSE(uevent_match_test(&d.m, &e)); /* a partition */
	e = ev_of("add", "block", "/devices/pci0000:00/0000:00:0a.0/0000:00:0b.0/virtio0/block/vda",
		  "vda", "");
	ASSERT_FALSE(uevent_match_test(&d.m, &e)); /* behind another device */
	e = ev_of("add", "block", "/devices/pci0000:00/0000:00:0a.0/virtio/block/vda", "vda", "");
	ASSERT_FALSE(uevent_match_test(&d.m, &e)); /* no virtio number */
	e = ev_of("add", "block", "/devices/pci0000:00/0000:00:0a.0/virtio4/block/vda", "", "");
	ASSERT_FALSE(uevent_match_test(&d.m, &e)); /* no DEVNAME */
	e = ev_of("add", "bdi", "/devices/pci0000:00/0000:00:0a.0/virtio4/block/vda", "vda", "");
	ASSERT_FALSE(uevent_match_test(&d.m, &e));
	ASSERT_TRUE(strstr(d.m.what, "PCI path 0a") != NULL);
}

TEST(match_mmio_scsi_pmem_net_pci)
{
	struct dev_match d;
	struct uevent e;
	ASSERT_EQ(dev_match_virtio_blk_mmio(&d, "/dev/vdb", NULL), 0);
	e = ev_of("add", "block", "/devices/virtio-mmio-cmdline/virtio-mmio.1/virtio1/block/vdb",
		  "vdb", "");
	ASSERT_TRUE(uevent_match_test(&d.m, &e));
	e = ev_of("add", "block", "/devices/virtio-mmio-cmdline/virtio-mmio.1/virtio1/block/vdbb",
		  "vdbb", "");
	ASSERT_FALSE(uevent_match_test(&d.m, &e));
	ASSERT_EQ(dev_match_virtio_blk_mmio(&d, "vdb", NULL), -EINVAL);
	ASSERT_EQ(dev_match_virtio_blk_mmio(&d, "/dev/a/b", NULL), -EINVAL);
	ASSERT_EQ(dev_match_virtio_blk_mmio(&d, "/dev/..", NULL), -EINVAL);

	ASSERT_EQ(dev_match_scsi(&d, "1:2", NULL), 0);
	const char *sp =
		"/devices/pci0000:00/0000:00:05.0/virtio2/host0/target0:0:1/0:0:1:2/block/sdc";
	e = ev_of("add", "block", sp, "sdc", "");
	ASSERT_TRUE(uevent_match_test(&d.m, &e));
	e.action = UEVENT_ACTION_CHANGE; /* SCSI waits for "add" */
	ASSERT_FALSE(uevent_match_test(&d.m, &e));
	e = ev_of("add", "block", sp, "sdd", ""); /* DEVNAME must be the last component */
	ASSERT_FALSE(uevent_match_test(&d.m, &e));
	e = ev_of("add", "block",
		  "/devices/pci0000:00/0000:00:05.0/virtio2/host0/target0:0:1/0:0:1:21/block/sdc",
		  "sdc", "");
	ASSERT_FALSE(uevent_match_test(&d.m, &e));
	unsigned t, l;
	ASSERT_EQ(scsi_addr_parse("0:10", &t, &l, NULL), 0);
	ASSERT_EQ(t, 0);
	ASSERT_EQ(l, 10);
	static const char *const bad_scsi[] = {"",    "1",    "1:",   ":1",	    "1:2:3",
					       "a:1", "1:2 ", "-1:2", "123456789:1"};
	for (size_t i = 0; i < sizeof(bad_scsi) / sizeof(bad_scsi[0]); i++)
		if (scsi_addr_parse(bad_scsi[i], &t, &l, NULL) != -EINVAL)
			FAIL("SCSI address \"%s\" accepted", bad_scsi[i]);

	ASSERT_EQ(dev_match_pmem(&d, "/dev/pmem0", NULL), 0);
	e = ev_of("add", "block",
		  "/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0012:00/ndbus0/region0/namespace0.0/block/"
		  "pmem0",
		  "pmem0", "");
	ASSERT_TRUE(uevent_match_test(&d.m, &e));
	e = ev_of("add", "block", "/devices/platform/ndbus0/region0/block/pmem0", "pmem0", "");
	ASSERT_FALSE(uevent_match_test(&d.m, &e));

	struct pci_sysfs_path pp = {.devpath = "/devices/pci0000:00/0000:00:05.0"};
	ASSERT_EQ(dev_match_net_pci(&d, &pp, "05", NULL), 0);
	e = ev_of("add", "net", "/devices/pci0000:00/0000:00:05.0/virtio2/net/eth0", "", "eth0");
	ASSERT_TRUE(uevent_match_test(&d.m, &e));
	e = ev_of("add", "net", "/devices/pci0000:00/0000:00:05.0/virtio2/net/eth0", "", "");
	ASSERT_FALSE(uevent_match_test(&d.m, &e));
	e = ev_of("add", "net", "/devices/pci0000:00/0000:00:05.00/net/eth0", "", "eth0");
	ASSERT_FALSE(uevent_match_test(&d.m, &e));

	ASSERT_EQ(dev_match_pci_device(&d, &pp, "05", NULL), 0);
	e = ev_of("add", "pci", "/devices/pci0000:00/0000:00:05.0", "", "");
	ASSERT_TRUE(uevent_match_test(&d.m, &e));
	e = ev_of("add", "pci", "/devices/pci0000:00/0000:00:05.0/0000:01:00.0", "", "");
	ASSERT_FALSE(uevent_match_test(&d.m, &e));

	ASSERT_EQ(dev_match_vfio_group(&d, 3, NULL), 0);
	e = ev_of("add", "vfio", "/devices/virtual/vfio/3", "vfio/3", "");
	ASSERT_TRUE(uevent_match_test(&d.m, &e));
}

TEST(scsi_scan_writes_every_host)
{
	snprintf(root, sizeof(root), "/tmp/pcipath-XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(root));
	mk("/class/scsi_host/host0");
	mk("/class/scsi_host/host1");
	char p[256], buf[64];
	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/class/scsi_host/host%d/scan", root, i);
		FILE *f = fopen(p, "w");
		ASSERT_NOT_NULL(f);
		fclose(f);
	}
	ASSERT_EQ(scsi_scan_hosts(root, "3:7", NULL), 0);
	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/class/scsi_host/host%d/scan", root, i);
		FILE *f = fopen(p, "r");
		ASSERT_NOT_NULL(f);
		ASSERT_NOT_NULL(fgets(buf, sizeof(buf), f));
		fclose(f);
		ASSERT_STREQ(buf, "0 3 7");
	}
	ASSERT_EQ(scsi_scan_hosts(root, "x", NULL), -EINVAL);
	rm_rf(root);
	/* No SCSI host at all is not an error (the wait then times out). */
	ASSERT_EQ(scsi_scan_hosts("/nonexistent-sysfs", "0:0", NULL), 0);
}
