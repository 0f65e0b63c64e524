// SPDX-License-Identifier: Apache-2.0
/* Kernel modules by name: modules.dep resolution, built-ins, input checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "harness.h"
#include "init/kmod.h"
#include "rpc/status.h"

static void put(const char *dir, const char *name, const char *text)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	fputs(text, f);
	fclose(f);
}

/* <root>/<base>/<release> with a small modules.dep and modules.builtin. */
static void make_tree(char *root, const char *base, const char *release, char *dir, size_t size)
{
	ASSERT_NOT_NULL(mkdtemp(root));
	snprintf(dir, size, "%s/%s/%s", root, base, release);
	ASSERT_EQ(mkdir_p(dir, 0755), 0);
	put(dir, "modules.dep",
	    "kernel/net/9p/9pnet.ko:\n"
	    "kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/netfs/netfs.ko\n"
	    "kernel/drivers/virtio/virtio-mmio.ko:\n"
	    "kernel/drivers/net/dummy.ko.xz:\n"
	    "/abs/elsewhere/odd.ko:\n");
	put(dir, "modules.builtin", "kernel/drivers/block/loop.ko\n");
}

TEST(resolve_puts_dependencies_first)
{
	char root[] = "/tmp/kmod-XXXXXX", dir[4096], want[4200];
	make_tree(root, "lib/modules", "6.1.0-test", dir, sizeof(dir));
	char **p = NULL;
	size_t n = 0;
	agent_error_t *err = NULL;
	ASSERT_EQ(kmod_resolve(root, "6.1.0-test", "9p", &p, &n, &err), 0);
	ASSERT_EQ(n, 3);
	snprintf(want, sizeof(want), "%s/kernel/fs/netfs/netfs.ko", dir);
	ASSERT_STREQ(p[0], want);
	snprintf(want, sizeof(want), "%s/kernel/net/9p/9pnet.ko", dir);
	ASSERT_STREQ(p[1], want);
	snprintf(want, sizeof(want), "%s/kernel/fs/9p/9p.ko", dir);
	ASSERT_STREQ(p[2], want);
	kmod_paths_free(p, n);

	/* '-' and '_' are the same; compressed files count; absolute paths stay. */
	ASSERT_EQ(kmod_resolve(root, "6.1.0-test", "virtio_mmio", &p, &n, &err), 0);
	ASSERT_EQ(n, 1);
	ASSERT_NOT_NULL(strstr(p[0], "virtio-mmio.ko"));
	kmod_paths_free(p, n);
	ASSERT_EQ(kmod_resolve(root, "6.1.0-test", "dummy", &p, &n, &err), 0);
	ASSERT_EQ(n, 1);
	ASSERT_NOT_NULL(strstr(p[0], "dummy.ko.xz"));
	kmod_paths_free(p, n);
	ASSERT_EQ(kmod_resolve(root, "6.1.0-test", "odd", &p, &n, &err), 0);
	ASSERT_STREQ(p[0], "/abs/elsewhere/odd.ko");
	kmod_paths_free(p, n);
	rm_rf(root);
}

TEST(builtin_and_missing_modules)
{
	char root[] = "/tmp/kmod-XXXXXX", dir[4096];
	make_tree(root, "usr/lib/modules", "6.1.0-usr", dir, sizeof(dir));
	char **p = NULL;
	size_t n = 7;
	agent_error_t *err = NULL;
	/* Found under usr/lib/modules too; built in: nothing to load. */
	ASSERT_EQ(kmod_resolve(root, "6.1.0-usr", "loop", &p, &n, &err), 0);
	ASSERT_EQ(n, 0);
	/* A prefix of a name is not the name. */
	ASSERT_EQ(kmod_resolve(root, "6.1.0-usr", "9", &p, &n, &err), -ENOENT);
	ASSERT_EQ(err->status, GRPC_NOT_FOUND);
	agent_error_free(err);
	err = NULL;
	ASSERT_EQ(kmod_resolve(root, "6.1.0-usr", "nosuch", &p, &n, &err), -ENOENT);
	ASSERT_NOT_NULL(strstr(err->msg, "nosuch"));
	agent_error_free(err);
	err = NULL;
	/* Another kernel's tree is not ours. */
	ASSERT_EQ(kmod_resolve(root, "5.10.0-other", "9p", &p, &n, &err), -ENOENT);
	agent_error_free(err);
	rm_rf(root);
}

TEST(names_and_parameters_are_checked)
{
	agent_error_t *err = NULL;
	char *ok[] = {"numdummies=2", "opt=\"a b\""};
	ASSERT_EQ(kmod_validate("dummy", ok, 2, &err), 0);
	const char *bad_names[] = {
		"",    "../x", "a b",
		"x/y", "a\nb", "a_name_that_is_far_too_long_for_any_kernel_module_name_x"};
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		ASSERT_EQ(kmod_validate(bad_names[i], NULL, 0, &err), -EINVAL);
		ASSERT_EQ(err->status, GRPC_INVALID_ARGUMENT);
		agent_error_free(err);
		err = NULL;
	}
	char *nl[] = {"a=1\nb=2"}, *empty[] = {""};
	ASSERT_EQ(kmod_validate("dummy", nl, 1, &err), -EINVAL);
	ASSERT_NOT_NULL(strstr(err->msg, "parameters[0]"));
	agent_error_free(err);
	err = NULL;
	ASSERT_EQ(kmod_validate("dummy", empty, 1, &err), -EINVAL);
	agent_error_free(err);
	err = NULL;
	char *many[KMOD_PARAMS_MAX + 1];
	for (size_t i = 0; i <= KMOD_PARAMS_MAX; i++)
		many[i] = "x=1";
	ASSERT_EQ(kmod_validate("dummy", many, KMOD_PARAMS_MAX + 1, &err), -E2BIG);
	agent_error_free(err);
}

/* The kernel refuses a file that is no module: the error names it, nothing else happens. */
TEST(loading_a_bad_file_fails_naming_it)
{
	struct utsname u;
	ASSERT_EQ(uname(&u), 0);
	char root[] = "/tmp/kmod-XXXXXX", dir[4096];
	make_tree(root, "lib/modules", u.release, dir, sizeof(dir));
	char sub[4200];
	snprintf(sub, sizeof(sub), "%s/kernel/drivers/virtio", dir);
	ASSERT_EQ(mkdir_p(sub, 0755), 0);
	put(dir, "kernel/drivers/virtio/virtio-mmio.ko", "not an ELF file");
	agent_error_t *err = NULL;
	char *params[] = {"x=1"};
	ASSERT_TRUE(kmod_load(root, "virtio_mmio", params, 1, &err) < 0);
	ASSERT_NOT_NULL(strstr(err->msg, "virtio-mmio.ko"));
	agent_error_free(err);
	err = NULL;
	/* Its file missing: said so. */
	ASSERT_EQ(kmod_load(root, "dummy", NULL, 0, &err), -ENOENT);
	ASSERT_NOT_NULL(strstr(err->msg, "dummy.ko.xz"));
	agent_error_free(err);
	rm_rf(root);
}
