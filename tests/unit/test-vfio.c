/* SPDX-License-Identifier: Apache-2.0 */
/*
 * VFIO devices: PCI addresses, options, the PCIDEVICE_* rewrite, the vfio-pci
 * bind and IOMMU group over a fake sysfs tree, the request's validation and
 * the spec patching (linux.devices, old-number cgroup rules, char devices of a
 * directory).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/error.h"
#include "base/fsutil.h"
#include "device/pciaddr.h"
#include "device/devmatch.h"
#include "device/vfio.h"
#include "rpc/status.h"
#include "sandbox/devices.h"
#include "sandbox/vfio.h"
#include "harness.h"

static char root[64];

static void path_of(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s%s", root, rel);
}

static void mk(const char *rel)
{
	char p[512];
	path_of(p, sizeof(p), rel);
	ASSERT_EQ(mkdir_p(p, 0755), 0);
}

static void touch(const char *rel)
{
	char p[512];
	path_of(p, sizeof(p), rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_GE(fd, 0);
	close(fd);
}

static void link_to(const char *target, const char *rel)
{
	char p[512];
	path_of(p, sizeof(p), rel);
	ASSERT_EQ(symlink(target, p), 0);
}

static void slurp(const char *rel, char *buf, size_t len)
{
	char p[512];
	path_of(p, sizeof(p), rel);
	FILE *f = fopen(p, "re");
	ASSERT_NOT_NULL(f);
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/*
 * Root port 00:07.0 with bus 03; device 03:00.0 (driver "edu-drv", group 7) and
 * 03:00.1 (no driver, group 8), as /sys/bus/pci/devices links to them.
 */
static void fake_sysfs(void)
{
	snprintf(root, sizeof(root), "/tmp/vfio-XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(root));
	mk("/devices/pci0000:00/0000:00:07.0/pci_bus/0000:03");
	mk("/devices/pci0000:00/0000:00:07.0/0000:03:00.0");
	mk("/devices/pci0000:00/0000:00:07.0/0000:03:00.1");
	mk("/bus/pci/devices");
	mk("/bus/pci/drivers/edu-drv");
	mk("/kernel/iommu_groups/7");
	mk("/kernel/iommu_groups/8");
	touch("/bus/pci/drivers_probe");
	touch("/bus/pci/drivers/edu-drv/unbind");
	touch("/devices/pci0000:00/0000:00:07.0/0000:03:00.0/driver_override");
	touch("/devices/pci0000:00/0000:00:07.0/0000:03:00.1/driver_override");
	link_to("../../../devices/pci0000:00/0000:00:07.0/0000:03:00.0",
		"/bus/pci/devices/0000:03:00.0");
	link_to("../../../devices/pci0000:00/0000:00:07.0/0000:03:00.1",
		"/bus/pci/devices/0000:03:00.1");
	link_to("../../../../bus/pci/drivers/edu-drv",
		"/devices/pci0000:00/0000:00:07.0/0000:03:00.0/driver");
	link_to("../../../../kernel/iommu_groups/7",
		"/devices/pci0000:00/0000:00:07.0/0000:03:00.0/iommu_group");
	link_to("../../../../kernel/iommu_groups/8",
		"/devices/pci0000:00/0000:00:07.0/0000:03:00.1/iommu_group");
}

static void cleanup(void)
{
	rm_rf(root);
}

TEST(pci_addr_parse_is_strict)
{
	struct pci_addr a;
	char t[PCI_ADDR_TEXT_MAX];

	ASSERT_EQ(pci_addr_parse("0000:3b:1f.7", &a), 0);
	ASSERT_EQ(a.domain, 0);
	ASSERT_EQ(a.bus, 0x3b);
	ASSERT_EQ(a.slot, 0x1f);
	ASSERT_EQ(a.func, 7);
	ASSERT_EQ(pci_addr_parse("ABCD:EF:01.2", &a), 0);
	pci_addr_format(&a, t);
	ASSERT_STREQ(t, "abcd:ef:01.2");
	static const char *const bad[] = {
		"",
		"0000:3b:20.0",
		"0000:3b:00.8",
		"000:3b:00.0",
		"0000:3b:0.0",
		"0000:3b:00",
		"0000:3b:00.0 ",
		"0000-3b:00.0",
		"0000:3b:00.00",
		"0000:3g:00.0",
		"+000:3b:00.0",
		"0000:3b/00.0",
		"../../../etc",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pci_addr_parse(bad[i], &a) == 0)
			FAIL("\"%s\" parsed", bad[i]);
}

TEST(vfio_option_parse_cases)
{
	struct pci_addr h;
	struct pci_path p;
	bool has = false;
	agent_error_t *err = NULL;

	ASSERT_EQ(vfio_option_parse("0000:3b:00.0=07/00", &h, &p, &has, NULL), 0);
	ASSERT_TRUE(has);
	ASSERT_EQ(h.bus, 0x3b);
	ASSERT_EQ(p.n, 2);
	ASSERT_EQ(p.seg[0].slot, 7);
	ASSERT_EQ(vfio_option_parse("0000:3b:00.1=", &h, &p, &has, NULL), 0);
	ASSERT_FALSE(has);
	ASSERT_EQ(h.func, 1);
	static const char *const bad[] = {
		"0000:3b:00.0", "0000:3b:00.0=07=00",  "3b:00.0=07/00",		"0000:3b:00.0=zz",
		"=07/00",	"0000:3b:00.0=07/00/", "0000:3b:00.0=07/../00",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vfio_option_parse(bad[i], &h, &p, &has, &err) == 0)
			FAIL("\"%s\" parsed", bad[i]);
		ASSERT_NOT_NULL(err);
		err = agent_error_free(err);
	}
}

TEST(pci_map_conflicts)
{
	struct pci_map m = {0};
	struct pci_addr h, g1, g2;
	agent_error_t *err = NULL;

	ASSERT_EQ(pci_addr_parse("0000:3b:00.0", &h), 0);
	ASSERT_EQ(pci_addr_parse("0000:03:00.0", &g1), 0);
	ASSERT_EQ(pci_addr_parse("0000:04:00.0", &g2), 0);
	ASSERT_EQ(pci_map_add(&m, &h, &g1, NULL), 0);
	ASSERT_EQ(pci_map_add(&m, &h, &g1, NULL), 0);
	ASSERT_EQ(m.n, 1);
	ASSERT_EQ(pci_map_add(&m, &h, &g2, &err), -EEXIST);
	ASSERT_NOT_NULL(strstr(err->msg, "Conflicting guest address"));
	agent_error_free(err);
	ASSERT_TRUE(pci_addr_eq(pci_map_find(&m, &h), &g1));
	ASSERT_NULL(pci_map_find(&m, &g1));
}

TEST(env_rewrite_follows_the_map)
{
	struct pci_map m = {0};
	struct pci_addr h1, h2, g1, g2;

	ASSERT_EQ(pci_addr_parse("0000:1a:01.0", &h1), 0);
	ASSERT_EQ(pci_addr_parse("0000:1b:02.0", &h2), 0);
	ASSERT_EQ(pci_addr_parse("0000:01:01.0", &g1), 0);
	ASSERT_EQ(pci_addr_parse("0000:1a:01.0", &g2), 0); /* a guest address that is a host one */
	ASSERT_EQ(pci_map_add(&m, &h1, &g1, NULL), 0);
	ASSERT_EQ(pci_map_add(&m, &h2, &g2, NULL), 0);
	char *env[] = {
		strdup("PCIDEVICE_x=0000:1a:01.0,0000:1b:02.0"),
		strdup("PCIDEVICE_x_INFO={\"0000:1a:01.0\":{\"id\":\"0000:1a:01.0\"},"
		       "\"0000:1b:02.0\":{}}"),
		strdup("PCIDEVICE_y=0000:1a:01.0,0000:99:00.0"), /* one unmapped: untouched */
		strdup("PCIDEVICE_y_INFO={\"0000:1a:01.0\":{}}"),
		strdup("PCIDEVICE_z=not-an-address"),
		strdup("NOTAPCIDEVICE_w=0000:1a:01.0"),
		strdup("PCIDEVICE_v=0000:1A:01.0"),
		strdup("PCIDEVICE_novalue"),
	};
	size_t n = sizeof(env) / sizeof(env[0]);
	ASSERT_EQ(pci_env_rewrite(env, n, &m), 3);
	ASSERT_STREQ(env[0], "PCIDEVICE_x=0000:01:01.0,0000:1a:01.0");
	/* One pass: the second address became 0000:1a:01.0 and was not rewritten again. */
	ASSERT_STREQ(env[1], "PCIDEVICE_x_INFO={\"0000:01:01.0\":{\"id\":\"0000:01:01.0\"},"
			     "\"0000:1a:01.0\":{}}");
	ASSERT_STREQ(env[2], "PCIDEVICE_y=0000:1a:01.0,0000:99:00.0");
	ASSERT_STREQ(env[3], "PCIDEVICE_y_INFO={\"0000:1a:01.0\":{}}");
	ASSERT_STREQ(env[4], "PCIDEVICE_z=not-an-address");
	ASSERT_STREQ(env[5], "NOTAPCIDEVICE_w=0000:1a:01.0");
	ASSERT_STREQ(env[6], "PCIDEVICE_v=0000:01:01.0");
	ASSERT_STREQ(env[7], "PCIDEVICE_novalue");
	struct pci_map empty = {0};
	ASSERT_EQ(pci_env_rewrite(env, n, &empty), 0);
	for (size_t i = 0; i < n; i++)
		free(env[i]);
}

TEST(bind_writes_override_unbinds_and_probes)
{
	struct pci_addr a;
	char buf[64];
	unsigned g = 0;
	agent_error_t *err = NULL;

	fake_sysfs();
	ASSERT_EQ(pci_addr_parse("0000:03:00.0", &a), 0);
	ASSERT_EQ(vfio_pci_bind(root, &a, NULL), 0);
	slurp("/devices/pci0000:00/0000:00:07.0/0000:03:00.0/driver_override", buf, sizeof(buf));
	ASSERT_STREQ(buf, "vfio-pci");
	slurp("/bus/pci/drivers/edu-drv/unbind", buf, sizeof(buf));
	ASSERT_STREQ(buf, "0000:03:00.0");
	slurp("/bus/pci/drivers_probe", buf, sizeof(buf));
	ASSERT_STREQ(buf, "0000:03:00.0");
	ASSERT_EQ(vfio_iommu_group(root, &a, &g, NULL), 0);
	ASSERT_EQ(g, 7);

	/* No driver: no unbind, a probe. */
	touch("/bus/pci/drivers_probe");
	ASSERT_EQ(pci_addr_parse("0000:03:00.1", &a), 0);
	ASSERT_EQ(vfio_pci_bind(root, &a, NULL), 0);
	slurp("/bus/pci/drivers_probe", buf, sizeof(buf));
	ASSERT_STREQ(buf, "0000:03:00.1");

	/* No such device, no group. */
	ASSERT_EQ(pci_addr_parse("0000:03:00.2", &a), 0);
	ASSERT_EQ(vfio_pci_bind(root, &a, &err), -ENOENT);
	err = agent_error_free(err);
	ASSERT_EQ(vfio_iommu_group(root, &a, &g, &err), -ENOENT);
	ASSERT_NOT_NULL(strstr(err->msg, "has no IOMMU group"));
	agent_error_free(err);
	cleanup();
}

static Grpc__Device *device(const char *type, const char *cpath, char **opts, size_t n)
{
	Grpc__Device *d = calloc(1, sizeof(*d));
	grpc__device__init(d);
	d->type = (char *)type;
	d->id = (char *)"vf0";
	d->container_path = (char *)cpath;
	d->options = opts;
	d->n_options = n;
	return d;
}

TEST(validate_names_the_bad_option)
{
	char *opts[] = {(char *)"0000:3b:00.0=07/00", (char *)"0000:3b:00.1=07/00.1=x"};
	char *empty[] = {(char *)"0000:3b:00.0="};
	Grpc__Device *d[] = {device("vfio-pci", "/dev/vfio/42", opts, 2)};
	agent_error_t *err = NULL;

	ASSERT_EQ(devices_validate(d, 1, &err), -EINVAL);
	ASSERT_EQ(err->status, GRPC_INVALID_ARGUMENT);
	ASSERT_NOT_NULL(strstr(err->msg, "devices[0].options[1]"));
	err = agent_error_free(err);
	d[0]->n_options = 1;
	ASSERT_EQ(devices_validate(d, 1, NULL), 0);
	/* vfio-pci with only empty paths has no group to give; vfio-pci-gk is fine. */
	d[0]->options = empty;
	ASSERT_EQ(devices_validate(d, 1, &err), -EINVAL);
	ASSERT_EQ(err->status, GRPC_INVALID_ARGUMENT);
	err = agent_error_free(err);
	d[0]->type = (char *)"vfio-pci-gk";
	ASSERT_EQ(devices_validate(d, 1, NULL), 0);
	free(d[0]);
}

TEST(set_binds_maps_and_names_the_group_node)
{
	char *opts[] = {(char *)"0000:3b:00.0=07/00", (char *)"0000:3b:00.7="};
	char *gk[] = {(char *)"0000:5e:00.0=07/00.1"};
	Grpc__Device *d[] = {device("vfio-pci", "/dev/vfio/42", opts, 2),
			     device("vfio-pci-gk", "/dev/unused", gk, 1)};
	struct vfio_set *s = NULL;
	struct dev_match *const *m;
	struct pci_addr h, g;
	char buf[64];

	fake_sysfs();
	ASSERT_EQ(vfio_set_new(root, d, 2, &s, NULL), 0);
	ASSERT_NOT_NULL(s);
	ASSERT_EQ(vfio_set_pci_matches(s, &m), 2); /* the empty path is skipped */
	ASSERT_STREQ(m[0]->m.devpath, "/devices/pci0000:00/0000:00:07.0/0000:03:00.0");
	ASSERT_STREQ(m[1]->m.devpath, "/devices/pci0000:00/0000:00:07.0/0000:03:00.1");
	ASSERT_NULL(vfio_set_node(s, 0));
	ASSERT_EQ(vfio_set_bind(s, NULL), 0);
	ASSERT_STREQ(vfio_set_node(s, 0), "/dev/vfio/7");
	ASSERT_NULL(vfio_set_node(s, 1)); /* gk: no node, and not bound */
	slurp("/devices/pci0000:00/0000:00:07.0/0000:03:00.1/driver_override", buf, sizeof(buf));
	ASSERT_STREQ(buf, "");
	ASSERT_EQ(vfio_set_group_matches(s, &m), 1);
	ASSERT_STREQ(m[0]->m.devpath, "/devices/virtual/vfio/7");
	ASSERT_EQ(pci_addr_parse("0000:5e:00.0", &h), 0);
	ASSERT_EQ(pci_addr_parse("0000:03:00.1", &g), 0);
	ASSERT_TRUE(pci_addr_eq(pci_map_find(vfio_set_map(s), &h), &g));
	vfio_set_free(s);

	/* Two functions of one vfio-pci device in two groups: refused. */
	char *two[] = {(char *)"0000:3b:00.0=07/00", (char *)"0000:3b:00.1=07/00.1"};
	d[0]->options = two;
	agent_error_t *err = NULL;
	ASSERT_EQ(vfio_set_new(root, d, 1, &s, NULL), 0);
	ASSERT_EQ(vfio_set_bind(s, &err), -EXDEV);
	ASSERT_EQ(err->status, GRPC_FAILED_PRECONDITION);
	ASSERT_NOT_NULL(strstr(err->msg, "is not in guest IOMMU group 7"));
	agent_error_free(err);
	vfio_set_free(s);

	/* No VFIO device at all: no set. */
	d[0]->type = (char *)"blk";
	ASSERT_EQ(vfio_set_new(root, d, 1, &s, NULL), 0);
	ASSERT_NULL(s);
	free(d[0]);
	free(d[1]);
	cleanup();
}

static Grpc__Spec *spec_with(const char *path, const char *type, int64_t maj, int64_t min)
{
	Grpc__Spec *spec = calloc(1, sizeof(*spec));
	grpc__spec__init(spec);
	spec->linux = calloc(1, sizeof(*spec->linux));
	grpc__linux__init(spec->linux);
	Grpc__Linux *lx = spec->linux;
	lx->devices = calloc(1, sizeof(*lx->devices));
	lx->devices[0] = calloc(1, sizeof(**lx->devices));
	grpc__linux_device__init(lx->devices[0]);
	lx->devices[0]->path = strdup(path);
	lx->devices[0]->type = strdup(type);
	lx->devices[0]->major = maj;
	lx->devices[0]->minor = min;
	lx->n_devices = 1;
	lx->resources = calloc(1, sizeof(*lx->resources));
	grpc__linux_resources__init(lx->resources);
	lx->resources->devices = calloc(1, sizeof(*lx->resources->devices));
	Grpc__LinuxDeviceCgroup *r = calloc(1, sizeof(*r));
	grpc__linux_device_cgroup__init(r);
	r->allow = true;
	r->type = strdup(type);
	r->major = maj;
	r->minor = min;
	r->access = strdup("rw");
	lx->resources->devices[0] = r;
	lx->resources->n_devices = 1;
	return spec;
}

TEST(apply_patches_the_entry_and_the_old_rule)
{
	Grpc__Device *d[] = {device("mmioblk", "/dev/xda", NULL, 0)};
	d[0]->vm_path = (char *)"/dev/null";
	Grpc__Spec *spec = spec_with("/dev/xda", "c", 99, 98);
	struct stat st;

	ASSERT_EQ(stat("/dev/null", &st), 0);
	ASSERT_EQ(devices_apply(spec, d, 1, NULL, NULL, NULL), 0);
	Grpc__Linux *lx = spec->linux;
	ASSERT_STREQ(lx->devices[0]->path, "/dev/xda");
	ASSERT_EQ(lx->devices[0]->major, major(st.st_rdev));
	ASSERT_EQ(lx->devices[0]->minor, minor(st.st_rdev));
	ASSERT_EQ(lx->resources->n_devices, 2);
	ASSERT_EQ(lx->resources->devices[0]->major, major(st.st_rdev)); /* was 99:98 */
	ASSERT_EQ(lx->resources->devices[0]->minor, minor(st.st_rdev));
	ASSERT_STREQ(lx->resources->devices[0]->access, "rw");
	ASSERT_STREQ(lx->resources->devices[1]->access, "rwm");
	grpc__spec__free_unpacked(spec, NULL);

	/* Two devices for one container path; a path not in the spec. */
	Grpc__Device *two[] = {d[0], d[0]};
	agent_error_t *err = NULL;
	spec = spec_with("/dev/xda", "c", 99, 98);
	ASSERT_EQ(devices_apply(spec, two, 2, NULL, NULL, &err), -EEXIST);
	ASSERT_NOT_NULL(strstr(err->msg, "Conflicting device updates"));
	err = agent_error_free(err);
	grpc__spec__free_unpacked(spec, NULL);
	spec = spec_with("/dev/other", "c", 99, 98);
	ASSERT_EQ(devices_apply(spec, d, 1, NULL, NULL, &err), -ENOENT);
	ASSERT_NOT_NULL(strstr(err->msg, "Missing devices in OCI spec"));
	agent_error_free(err);
	grpc__spec__free_unpacked(spec, NULL);
	free(d[0]);
}

TEST(expose_dir_adds_char_devices)
{
	char p[512];
	Grpc__Spec *spec = spec_with("/dev/xda", "c", 99, 98);

	snprintf(root, sizeof(root), "/tmp/vfio-ib-XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(root));
	path_of(p, sizeof(p), "/uverbs0");
	if (mknod(p, S_IFCHR | 0666, makedev(231, 192)) < 0) {
		cleanup();
		SKIP("mknod: %s", strerror(errno));
	}
	touch("/not-a-device");
	ASSERT_EQ(devices_expose_dir(spec, root, NULL), 0);
	Grpc__Linux *lx = spec->linux;
	ASSERT_EQ(lx->n_devices, 2);
	ASSERT_STREQ(lx->devices[1]->path, p);
	ASSERT_STREQ(lx->devices[1]->type, "c");
	ASSERT_EQ(lx->devices[1]->major, 231);
	ASSERT_EQ(lx->devices[1]->minor, 192);
	ASSERT_EQ(lx->resources->n_devices, 2);
	ASSERT_EQ(lx->resources->devices[1]->major, 231);
	/* Listed already: not twice. A missing directory: nothing. */
	ASSERT_EQ(devices_expose_dir(spec, root, NULL), 0);
	ASSERT_EQ(lx->n_devices, 2);
	ASSERT_EQ(devices_expose_dir(spec, "/nonexistent-dir", NULL), 0);
	grpc__spec__free_unpacked(spec, NULL);
	cleanup();
}
