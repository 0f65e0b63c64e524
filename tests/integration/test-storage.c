// SPDX-License-Identifier: Apache-2.0
/*
 * Storages through CreateContainer on this machine's real kernel: an ext4
 * loop device as a `blk` storage used from inside a container, a disk that
 * never comes (DEADLINE_EXCEEDED within agent.hotplug_timeout, nothing left),
 * an overlay with its upper layer, and a watchable bind confined to the
 * shared directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ctr.h"
#include "harness.h"

static bool is_mounted(const char *path)
{
	char line[4096], want[4200];
	snprintf(want, sizeof(want), " %s ", path);
	FILE *f = fopen("/proc/self/mountinfo", "r");
	bool found = false;
	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, want) != NULL;
	if (f)
		fclose(f);
	return found;
}

TEST_TIMEOUT(blk_storage_on_a_loop_device, 90)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	char img[] = "/run/disk.img", cmd[512], dev[64] = "";
	snprintf(cmd, sizeof(cmd),
		 "truncate -s 32M %s && mkfs.ext4 -q -F %s >/dev/null 2>&1 && "
		 "losetup -f --show %s > /run/loopdev",
		 img, img, img);
	if (system(cmd) != 0)
		SKIP("cannot make an ext4 loop device here (truncate, mkfs.ext4, losetup)");
	FILE *f = fopen("/run/loopdev", "r");
	ASSERT_NOT_NULL(f);
	ASSERT_NOT_NULL(fgets(dev, sizeof(dev), f));
	fclose(f);
	dev[strcspn(dev, "\n")] = 0;

	const char *mp = "/run/kata-containers/sandbox/storage/vol";
	Grpc__Storage st = GRPC__STORAGE__INIT;
	st.driver = "blk";
	st.source = dev;
	st.fstype = "ext4";
	st.mount_point = (char *)mp;
	Grpc__FSGroup fsg = GRPC__FSGROUP__INIT;
	fsg.group_id = 3000;
	st.fs_group = &fsg;
	const char *args[] = {"write-file",  "/data/hello", "from the container", "--", "read-file",
			      "/data/hello", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "b1", args);
	ctr_spec_bind_data(s, mp, false);
	char *msg = NULL;
	int code = ctr_create_storage(&e, "b1", ctr_spec_get(s), &st, &msg);
	if (code)
		FAIL("create: %d %s", code, msg);
	free(msg);
	msg = NULL;
	ASSERT_TRUE(is_mounted(mp));
	/* fsGroup: the volume's tree belongs to the pod's group, directories setgid. */
	struct stat gst;
	char lf[256];
	ASSERT_EQ(stat(mp, &gst), 0);
	ASSERT_EQ(gst.st_gid, 3000);
	ASSERT_TRUE(gst.st_mode & S_ISGID);
	snprintf(lf, sizeof(lf), "%s/lost+found", mp);
	ASSERT_EQ(stat(lf, &gst), 0);
	ASSERT_EQ(gst.st_gid, 3000);
	ASSERT_EQ(ctr_start(&e, "b1", NULL), 0);
	char *out = ctr_read_all(&e, "b1", "b1", false, NULL);
	ASSERT_EQ(ctr_wait(&e, "b1", "b1"), 0);
	ASSERT_NOT_NULL(strstr(out, "write /data/hello=ok"));
	ASSERT_NOT_NULL(strstr(out, "from the container"));
	free(out);
	/* The file is on the disk: still there when mounted again by hand. */
	ASSERT_EQ(ctr_remove(&e, "b1"), 0);
	ASSERT_TRUE(!is_mounted(mp));
	mkdir("/run/check", 0755);
	ASSERT_EQ(mount(dev, "/run/check", "ext4", MS_RDONLY, NULL), 0);
	struct stat sb;
	ASSERT_EQ(stat("/run/check/hello", &sb), 0);
	umount("/run/check");
	snprintf(cmd, sizeof(cmd), "losetup -d %s", dev);
	ASSERT_EQ(system(cmd), 0);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(a_disk_that_never_comes_times_out, 60)
{
	struct ctr_env e;
	ctr_env_setup_cmdline(&e, false, "agent.hotplug_timeout=600ms");
	Grpc__Storage st = GRPC__STORAGE__INIT;
	st.driver = "mmioblk";
	st.source = "/dev/vdzz";
	st.fstype = "ext4";
	st.mount_point = "/run/kata-containers/sandbox/storage/never";
	const char *args[] = {"exit", "0", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "n1", args);
	char *msg = NULL;
	double t0 = itest_now_s();
	ASSERT_EQ(ctr_create_storage(&e, "n1", ctr_spec_get(s), &st, &msg),
		  4); /* DEADLINE_EXCEEDED */
	double took = itest_now_s() - t0;
	ASSERT_NOT_NULL(strstr(msg, "vdzz"));
	ASSERT_TRUE(took > 0.5 && took < 3);
	free(msg);
	/* Nothing was made, and the id is free again. */
	struct stat sb;
	ASSERT_TRUE(stat("/run/kata-containers/n1", &sb) < 0);
	ASSERT_TRUE(stat(st.mount_point, &sb) < 0);
	ASSERT_EQ(ctr_create(&e, "n1", ctr_spec_get(s), NULL), 0);
	ASSERT_EQ(ctr_remove(&e, "n1"), 0);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(overlay_and_watchable_bind, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	ASSERT_EQ(system("mkdir -p /run/kata-containers/shared/containers/lower && "
			 "echo lower-file > /run/kata-containers/shared/containers/lower/f"),
		  0);
	Grpc__Storage ov = GRPC__STORAGE__INIT;
	char *ov_opts[] = {"lowerdir=/run/kata-containers/shared/containers/lower",
			   "io.katacontainers.fs-opt.overlay-rw"};
	ov.driver = "overlayfs";
	ov.source = "none";
	ov.fstype = "overlay";
	ov.options = ov_opts;
	ov.n_options = 2;
	ov.mount_point = "/run/kata-containers/sandbox/ov";
	const char *args[] = {"read-file", "/data/f", "--", "write-file", "/data/new", "x", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "o1", args);
	ctr_spec_bind_data(s, ov.mount_point, false);
	char *msg = NULL;
	int code = ctr_create_storage(&e, "o1", ctr_spec_get(s), &ov, &msg);
	if (code)
		FAIL("create: %d %s", code, msg);
	free(msg);
	msg = NULL;
	ASSERT_EQ(ctr_start(&e, "o1", NULL), 0);
	char *out = ctr_read_all(&e, "o1", "o1", false, NULL);
	ASSERT_EQ(ctr_wait(&e, "o1", "o1"), 0);
	ASSERT_NOT_NULL(strstr(out, "lower-file"));
	ASSERT_NOT_NULL(strstr(out, "write /data/new=ok"));
	free(out);
	/* Writes went to the container's upper layer, not the shared lower one. */
	struct stat sb;
	ASSERT_EQ(stat("/run/kata-containers/o1/upper/new", &sb), 0);
	ASSERT_TRUE(stat("/run/kata-containers/shared/containers/lower/new", &sb) < 0);
	ASSERT_EQ(ctr_remove(&e, "o1"), 0);

	/* watchable-bind: the host-shared source shows at the mount point; others refused. */
	Grpc__Storage wb = GRPC__STORAGE__INIT;
	wb.driver = "watchable-bind";
	wb.source = "/run/kata-containers/shared/containers/lower";
	wb.mount_point = "/run/kata-containers/shared/containers/watchable/cfg";
	const char *a2[] = {"read-file", "/data/f", NULL};
	struct ctr_spec *s2 = ctr_spec_new(&e, "w1", a2);
	ctr_spec_bind_data(s2, wb.mount_point, false);
	code = ctr_create_storage(&e, "w1", ctr_spec_get(s2), &wb, &msg);
	if (code)
		FAIL("create: %d %s", code, msg);
	free(msg);
	msg = NULL;
	ASSERT_EQ(ctr_start(&e, "w1", NULL), 0);
	out = ctr_read_all(&e, "w1", "w1", false, NULL);
	ASSERT_EQ(ctr_wait(&e, "w1", "w1"), 0);
	ASSERT_NOT_NULL(strstr(out, "lower-file"));
	free(out);
	ASSERT_EQ(ctr_remove(&e, "w1"), 0);
	wb.source = "/etc";
	ASSERT_EQ(ctr_create_storage(&e, "w2", ctr_spec_get(s2), &wb, &msg), 3);
	free(msg);
	ctr_spec_free(s);
	ctr_spec_free(s2);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(block_device_into_the_container, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	char dev[64] = "";
	if (system("truncate -s 8M /run/dev.img && losetup -f --show /run/dev.img > "
		   "/run/loopdev") != 0)
		SKIP("cannot make a loop device here");
	FILE *f = fopen("/run/loopdev", "r");
	ASSERT_NOT_NULL(f);
	ASSERT_NOT_NULL(fgets(dev, sizeof(dev), f));
	fclose(f);
	dev[strcspn(dev, "\n")] = 0;

	const char *args[] = {"open", "/dev/xvdb", "--", "open", "/dev/loop-control", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "d1", args);
	Grpc__Spec *spec = ctr_spec_get(s);
	/* The runtime's entry, with the host's numbers: the agent puts the guest's in. */
	Grpc__LinuxDevice ld = GRPC__LINUX_DEVICE__INIT, *ldp = &ld;
	ld.path = "/dev/xvdb";
	ld.type = "b";
	ld.major = 254;
	ld.minor = 16;
	ld.filemode = 0660;
	spec->linux->devices = &ldp;
	spec->linux->n_devices = 1;
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	Grpc__Device d = GRPC__DEVICE__INIT, *dp = &d;
	d.type = "mmioblk";
	d.vm_path = dev;
	d.container_path = "/dev/xvdb";
	req.container_id = req.exec_id = "d1";
	req.oci = spec;
	req.devices = &dp;
	req.n_devices = 1;
	char *msg = NULL;
	int code = ctr_call(&e, "CreateContainer", &req.base, &google__protobuf__empty__descriptor,
			    NULL, &msg);
	if (code)
		FAIL("create: %d %s", code, msg);
	free(msg);
	ASSERT_EQ(ctr_start(&e, "d1", NULL), 0);
	char *out = ctr_read_all(&e, "d1", "d1", false, NULL);
	ASSERT_EQ(ctr_wait(&e, "d1", "d1"), 0);
	/* The disk opens (node and cgroup rule are the guest's); other devices stay denied. */
	ASSERT_NOT_NULL(strstr(out, "open /dev/xvdb=ok"));
	ASSERT_NOT_NULL(strstr(out, "open /dev/loop-control=errno"));
	free(out);
	ASSERT_EQ(ctr_remove(&e, "d1"), 0);

	/* A device whose container_path the spec does not list is refused. */
	d.container_path = "/dev/other";
	req.container_id = req.exec_id = "d2";
	ASSERT_EQ(ctr_call(&e, "CreateContainer", &req.base, &google__protobuf__empty__descriptor,
			   NULL, &msg),
		  3);
	ASSERT_NOT_NULL(strstr(msg, "Missing devices"));
	free(msg);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "losetup -d %s", dev);
	ASSERT_EQ(system(cmd), 0);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

/*
 * create_filesystem (block emptyDir): a zeroed loop device gets ext4 without a
 * journal before the mount; a second container on the same mount point finds
 * the first one's file (no second mkfs); other fstypes and encryption are refused.
 */
TEST_TIMEOUT(create_filesystem_formats_a_fresh_block_volume, 90)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	char cmd[512], dev[64] = "";
	if (access("/sbin/mkfs.ext4", X_OK) != 0 && access("/usr/sbin/mkfs.ext4", X_OK) != 0)
		SKIP("no mkfs.ext4 on this machine (e2fsprogs)");
	if (system("truncate -s 32M /run/blank.img && losetup -f --show /run/blank.img "
		   "> /run/loopdev-blank") != 0)
		SKIP("cannot make a loop device here (losetup)");
	FILE *f = fopen("/run/loopdev-blank", "r");
	ASSERT_NOT_NULL(f);
	ASSERT_NOT_NULL(fgets(dev, sizeof(dev), f));
	fclose(f);
	dev[strcspn(dev, "\n")] = 0;

	const char *mp = "/run/kata-containers/sandbox/storage/empty";
	Grpc__Storage st = GRPC__STORAGE__INIT;
	char *dopts[] = {"create_filesystem"};
	st.driver = "blk";
	st.source = dev;
	st.fstype = "ext4";
	st.mount_point = (char *)mp;
	st.driver_options = dopts;
	st.n_driver_options = 1;
	const char *args[] = {"write-file", "/data/kept", "first", "--", "sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "e1", args);
	ctr_spec_bind_data(s, mp, false);
	char *msg = NULL;
	int code = ctr_create_storage(&e, "e1", ctr_spec_get(s), &st, &msg);
	if (code)
		FAIL("create: %d %s", code, msg);
	free(msg);
	msg = NULL;
	ASSERT_TRUE(is_mounted(mp));
	ASSERT_EQ(ctr_start(&e, "e1", NULL), 0);
	/* No journal: what the runtime's block emptyDir asks for. */
	snprintf(cmd, sizeof(cmd),
		 "dumpe2fs -h %s 2>/dev/null | grep -q '^Filesystem features:.*has_journal'", dev);
	ASSERT_TRUE(system(cmd) != 0);
	snprintf(cmd, sizeof(cmd),
		 "dumpe2fs -h %s 2>/dev/null | grep -q '^Filesystem magic number:  *0xEF53'", dev);
	ASSERT_EQ(system(cmd), 0);

	/* The same volume for a second container: mounted once, not formatted again. */
	usleep(300 * 1000);
	const char *a2[] = {"read-file", "/data/kept", NULL};
	struct ctr_spec *s2 = ctr_spec_new(&e, "e2", a2);
	ctr_spec_bind_data(s2, mp, false);
	code = ctr_create_storage(&e, "e2", ctr_spec_get(s2), &st, &msg);
	if (code)
		FAIL("create e2: %d %s", code, msg);
	free(msg);
	msg = NULL;
	ASSERT_EQ(ctr_start(&e, "e2", NULL), 0);
	char *out = ctr_read_all(&e, "e2", "e2", false, NULL);
	ASSERT_EQ(ctr_wait(&e, "e2", "e2"), 0);
	ASSERT_NOT_NULL(strstr(out, "first"));
	free(out);
	ASSERT_EQ(ctr_remove(&e, "e2"), 0);
	ASSERT_EQ(ctr_signal(&e, "e1", "e1", 9), 0);
	ctr_wait(&e, "e1", "e1");
	ASSERT_EQ(ctr_remove(&e, "e1"), 0);
	ASSERT_TRUE(!is_mounted(mp));

	/* Only ext4 is made; encryption needs the confidential data hub. */
	st.fstype = "xfs";
	ASSERT_EQ(ctr_create_storage(&e, "e3", ctr_spec_get(s2), &st, &msg), 3);
	ASSERT_NOT_NULL(strstr(msg, "xfs"));
	free(msg);
	st.fstype = "ext4";
	char *enc_only[] = {"encryption_key=ephemeral"};
	st.driver_options = enc_only;
	ASSERT_EQ(ctr_create_storage(&e, "e3", ctr_spec_get(s2), &st, &msg), 3);
	free(msg);
	char *enc[] = {"encryption_key=ephemeral", "create_filesystem"};
	st.driver_options = enc;
	st.n_driver_options = 2;
	ASSERT_EQ(ctr_create_storage(&e, "e3", ctr_spec_get(s2), &st, &msg),
		  12); /* UNIMPLEMENTED */
	free(msg);
	snprintf(cmd, sizeof(cmd), "losetup -d %s; rm -f /run/blank.img", dev);
	ASSERT_EQ(system(cmd), 0);
	ctr_spec_free(s);
	ctr_spec_free(s2);
	ctr_env_teardown(&e);
}

static long hp_count(const char *name)
{
	char path[256], buf[32] = "";
	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-2048kB/%s", name);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return atol(buf);
}

/*
 * An ephemeral hugetlbfs storage (a pod asking for hugepages-2Mi): the pool grows,
 * the mount reserves the pages (min_size), and removal gives the reservation back.
 */
TEST_TIMEOUT(hugetlbfs_ephemeral_storage, 60)
{
	long nr0 = hp_count("nr_hugepages"), resv0 = hp_count("resv_hugepages");
	if (nr0 < 0 || access("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", W_OK))
		SKIP("no 2 MiB huge pages on this machine");
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *mp = "/run/kata-containers/sandbox/ephemeral/huge";
	Grpc__Storage st = GRPC__STORAGE__INIT;
	char *o[] = {"pagesize=2097152", "size=4194304"};
	st.driver = "ephemeral";
	st.source = "nodev";
	st.fstype = "hugetlbfs";
	st.options = o;
	st.n_options = 2;
	st.mount_point = (char *)mp;
	const char *args[] = {"exit", "0", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "h1", args);
	char *msg = NULL;
	int code = ctr_create_storage(&e, "h1", ctr_spec_get(s), &st, &msg);
	long nr1 = hp_count("nr_hugepages"), resv1 = hp_count("resv_hugepages");
	char buf[32];
	if (code == 8) { /* RESOURCE_EXHAUSTED: the kernel found no pages */
		snprintf(buf, sizeof(buf), "%ld", nr0);
		FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "w");
		if (f) {
			fputs(buf, f);
			fclose(f);
		}
		SKIP("no free 2 MiB pages to give: %s", msg);
	}
	if (code)
		FAIL("create: %d %s", code, msg);
	free(msg);
	msg = NULL;
	ASSERT_TRUE(is_mounted(mp));
	ASSERT_TRUE(nr1 >= nr0 && resv1 == resv0 + 2);
	/* Options bad for hugetlbfs, or another fstype: refused before anything. */
	char *bad[] = {"pagesize=3000", "size=4194304"};
	st.options = bad;
	st.mount_point = "/run/kata-containers/sandbox/ephemeral/huge2";
	ASSERT_EQ(ctr_create_storage(&e, "h2", ctr_spec_get(s), &st, &msg), 3);
	free(msg);
	st.fstype = "ext4";
	ASSERT_EQ(ctr_create_storage(&e, "h2", ctr_spec_get(s), &st, &msg), 3);
	free(msg);
	ASSERT_EQ(ctr_remove(&e, "h1"), 0);
	ASSERT_TRUE(!is_mounted(mp));
	ASSERT_EQ(hp_count("resv_hugepages"), resv0);
	snprintf(buf, sizeof(buf), "%ld", nr0);
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "w");
	ASSERT_NOT_NULL(f);
	fputs(buf, f);
	fclose(f);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

/*
 * A container still waiting for its disk: StartContainer is refused (it is being
 * created), DestroySandbox ends the waiting CreateContainer with ABORTED at once.
 */
TEST_TIMEOUT(destroy_sandbox_ends_a_create_waiting_for_its_disk, 60)
{
	struct ctr_env e;
	ctr_env_setup_cmdline(&e, false, "agent.hotplug_timeout=30s");
	Grpc__Storage st = GRPC__STORAGE__INIT, *sts[] = {&st};
	st.driver = "mmioblk";
	st.source = "/dev/vdzx";
	st.fstype = "ext4";
	st.mount_point = "/run/kata-containers/sandbox/storage/later";
	const char *args[] = {"exit", "0", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "w1", args);
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	req.container_id = req.exec_id = "w1";
	req.oci = ctr_spec_get(s);
	req.storages = sts;
	req.n_storages = 1;
	double t0 = itest_now_s();
	uint32_t sid = itest_send(e.c, "CreateContainer", &req.base);
	itest_check_serving(e.c);
	char *msg = NULL;
	ASSERT_EQ(ctr_start(&e, "w1", NULL), 9); /* FAILED_PRECONDITION: still being created */
	Grpc__DestroySandboxRequest d = GRPC__DESTROY_SANDBOX_REQUEST__INIT;
	ASSERT_EQ(ctr_call(&e, "DestroySandbox", &d.base, &google__protobuf__empty__descriptor,
			   NULL, &msg),
		  0);
	free(msg);
	struct ttrpc_reply r = {0};
	agent_error_t *err = NULL;
	ASSERT_EQ(ttrpc_client_recv(e.c, sid, 5000, &r, &err), 0);
	ASSERT_EQ(r.code, 10); /* ABORTED */
	ASSERT_NOT_NULL(strstr(r.message, "w1"));
	ASSERT_TRUE(itest_now_s() - t0 < 3);
	ttrpc_reply_clear(&r);
	struct stat sb;
	ASSERT_TRUE(stat("/run/kata-containers/w1", &sb) < 0);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

#define SHARED_CTRS "/run/kata-containers/shared/containers"

/* A guest directory outside /run/kata-containers, with one file the tests watch. */
static void guest_dir(const char *dir)
{
	char p[256];
	ASSERT_EQ(mkdir(dir, 0755), 0);
	snprintf(p, sizeof(p), "%s/secret", dir);
	FILE *f = fopen(p, "w");
	ASSERT_NOT_NULL(f);
	fputs("guest", f);
	ASSERT_EQ(fclose(f), 0);
	ASSERT_EQ(chmod(p, 0600), 0);
}

static int create_one(struct ctr_env *e, const char *cid, Grpc__Storage *st)
{
	const char *args[] = {"exit", "0", NULL};
	struct ctr_spec *s = ctr_spec_new(e, cid, args);
	char *msg = NULL;
	int code = ctr_create_storage(e, cid, ctr_spec_get(s), st, &msg);
	free(msg);
	if (code == 0)
		ASSERT_EQ(ctr_remove(e, cid), 0);
	ctr_spec_free(s);
	return code;
}

/*
 * A symlink in the shared directory (CopyFile can make one, the host's share can
 * hold one) pointing at a guest directory: an ephemeral or local storage whose
 * mount point goes through it is refused; nothing is mounted on, made in or
 * chmod'ed in the guest directory.
 */
TEST_TIMEOUT(storage_mount_points_do_not_follow_symlinks, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	struct stat sb;
	guest_dir("/run/outside");
	ASSERT_EQ(system("mkdir -p " SHARED_CTRS), 0);
	ASSERT_EQ(symlink("/run/outside", SHARED_CTRS "/lnk"), 0);

	Grpc__Storage st = GRPC__STORAGE__INIT;
	st.driver = "ephemeral";
	st.source = "tmpfs";
	st.fstype = "tmpfs";
	st.mount_point = SHARED_CTRS "/lnk";
	ASSERT_EQ(create_one(&e, "s1", &st), 3);
	ASSERT_FALSE(is_mounted("/run/outside"));
	st.mount_point = SHARED_CTRS "/lnk/sub";
	ASSERT_EQ(create_one(&e, "s2", &st), 3);
	ASSERT_FALSE(is_mounted("/run/outside/sub"));
	ASSERT_TRUE(stat("/run/outside/sub", &sb) < 0);

	Grpc__Storage lo = GRPC__STORAGE__INIT;
	char *mode[] = {"mode=0777"};
	lo.driver = "local";
	lo.source = "local";
	lo.options = mode;
	lo.n_options = 1;
	lo.mount_point = SHARED_CTRS "/lnk/made";
	ASSERT_EQ(create_one(&e, "s3", &lo), 3);
	ASSERT_TRUE(stat("/run/outside/made", &sb) < 0);
	lo.mount_point = SHARED_CTRS "/lnk";
	ASSERT_EQ(create_one(&e, "s4", &lo), 3);
	ASSERT_EQ(stat("/run/outside", &sb), 0);
	ASSERT_EQ(sb.st_mode & 07777, 0755);
	ctr_env_teardown(&e);
}

/*
 * Drivers keep their sources and layers under the shared directory or the
 * container's own directory: an overlay whose upperdir/workdir are guest
 * directories, a virtio-fs or 9p `bind` of a guest directory, and options the
 * driver does not take are refused.
 */
TEST_TIMEOUT(storage_sources_stay_in_the_share, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	struct stat sb;
	guest_dir("/run/guest");
	ASSERT_EQ(mkdir("/run/guestwork", 0755), 0);
	ASSERT_EQ(system("mkdir -p " SHARED_CTRS "/lower && echo x > " SHARED_CTRS "/lower/f"), 0);

	Grpc__Storage ov = GRPC__STORAGE__INIT;
	char *ov_opts[] = {"lowerdir=" SHARED_CTRS "/lower", "upperdir=/run/guest",
			   "workdir=/run/guestwork"};
	ov.driver = "overlayfs";
	ov.source = "none";
	ov.fstype = "overlay";
	ov.options = ov_opts;
	ov.n_options = 3;
	ov.mount_point = "/run/kata-containers/sandbox/ov";
	ASSERT_EQ(create_one(&e, "v1", &ov), 3);
	ASSERT_FALSE(is_mounted(ov.mount_point));
	char *ov_low[] = {"lowerdir=/run/guest"};
	ov.options = ov_low;
	ov.n_options = 1;
	ASSERT_EQ(create_one(&e, "v2", &ov), 3);
	ASSERT_FALSE(is_mounted(ov.mount_point));

	static const char *const drivers[] = {"virtio-fs", "9p"};
	for (size_t i = 0; i < 2; i++) {
		Grpc__Storage b = GRPC__STORAGE__INIT;
		char *bind[] = {"bind"};
		b.driver = (char *)drivers[i];
		b.source = "/run/guest";
		b.fstype = "bind";
		b.options = bind;
		b.n_options = 1;
		b.mount_point = "/run/kata-containers/sandbox/b";
		ASSERT_EQ(create_one(&e, "v3", &b), 3);
		ASSERT_FALSE(is_mounted(b.mount_point));
		/* A source in the share is fine. */
		b.source = SHARED_CTRS "/lower";
		ASSERT_EQ(create_one(&e, "v4", &b), 0);
		/* Through a symlink in the share, not. */
		unlink(SHARED_CTRS "/glink");
		ASSERT_EQ(symlink("/run/guest", SHARED_CTRS "/glink"), 0);
		b.source = SHARED_CTRS "/glink";
		ASSERT_EQ(create_one(&e, "v5", &b), 3);
		ASSERT_FALSE(is_mounted(b.mount_point));
	}
	ASSERT_EQ(stat("/run/guest/secret", &sb), 0);
	ASSERT_EQ(sb.st_mode & 07777, 0600);
	ctr_env_teardown(&e);
}

/* CreateContainer with one storage: the status, and the message in *msg (caller frees). */
static int create_one_msg(struct ctr_env *e, const char *cid, Grpc__Storage *st, char **msg)
{
	const char *args[] = {"exit", "0", NULL};
	struct ctr_spec *s = ctr_spec_new(e, cid, args);
	int code = ctr_create_storage(e, cid, ctr_spec_get(s), st, msg);
	if (code == 0)
		ASSERT_EQ(ctr_remove(e, cid), 0);
	ctr_spec_free(s);
	return code;
}

/*
 * virtio-fs and 9p storages take the options the runtimes send (mount flags,
 * "dax"; "trans=virtio,version=9p2000.L,cache=mmap" and "msize=N") and nothing
 * else: 9p over the agent's own file descriptors, a remount, a propagation
 * change or an unknown filesystem option is refused with INVALID_ARGUMENT
 * naming the option, before anything is mounted. The shared directory the
 * guest's init mounted (source "kataShared", already mounted) is checked too.
 */
TEST_TIMEOUT(shared_fs_storages_take_only_known_options, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *mp = "/run/kata-containers/sandbox/share";
	ASSERT_EQ(system("mkdir -p /run/kata-containers/sandbox/share"), 0);
	ASSERT_EQ(mount("tmpfs", mp, "tmpfs", 0, "size=1m"), 0);

	static const struct {
		const char *driver, *opt, *named;
	} bad[] = {
		{"9p", "trans=fd,rfdno=0,wfdno=1", "trans=fd"},
		{"9p", "trans=virtio,version=9p2000.L,access=any", "access=any"},
		{"9p", "msize=", "msize="},
		{"9p", "msize=12k", "msize=12k"},
		{"9p", "cache=mmap,,nodev", "\"\""},
		{"virtio-fs", "remount", "remount"},
		{"virtio-fs", "rshared", "rshared"},
		{"virtio-fs", "dev", "dev"},
		{"virtio-fs", "rootmode=040000", "rootmode=040000"},
		{"virtio-fs", "dax=sometimes", "dax=sometimes"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		Grpc__Storage st = GRPC__STORAGE__INIT;
		char *opts[] = {"nodev", (char *)bad[i].opt};
		st.driver = (char *)bad[i].driver;
		st.source = "kataShared";
		st.fstype = strcmp(bad[i].driver, "9p") ? "virtiofs" : "9p";
		st.options = opts;
		st.n_options = 2;
		st.mount_point = (char *)mp;
		char *msg = NULL;
		int code = create_one_msg(&e, "o1", &st, &msg);
		if (code != 3 || !msg || !strstr(msg, bad[i].named))
			FAIL("%s storage with option \"%s\": code %d, message \"%s\" (want 3 "
			     "naming %s)",
			     bad[i].driver, bad[i].opt, code, msg ? msg : "", bad[i].named);
		free(msg);
		/* A device tag instead: refused the same, before any mount is tried. */
		st.source = "tag0";
		code = create_one_msg(&e, "o2", &st, &msg);
		if (code != 3 || !msg || !strstr(msg, bad[i].named))
			FAIL("%s storage (tag) with option \"%s\": code %d, message \"%s\"",
			     bad[i].driver, bad[i].opt, code, msg ? msg : "");
		free(msg);
	}

	/* What the runtimes send is taken (the share is already mounted: nothing to do). */
	static const char *const good9p[] = {"trans=virtio,version=9p2000.L,cache=mmap", "nodev",
					     "msize=8192"};
	static const char *const goodfs[] = {"nodev", "dax", "ro", "fsgid=10",
					     "io.katacontainers.fs-opt.x"};
	Grpc__Storage st = GRPC__STORAGE__INIT;
	st.driver = "9p";
	st.source = "kataShared";
	st.fstype = "9p";
	st.options = (char **)good9p;
	st.n_options = 3;
	st.mount_point = (char *)mp;
	char *msg = NULL;
	int code = create_one_msg(&e, "o3", &st, &msg);
	if (code == 3)
		FAIL("9p storage with the runtime's options refused: %s", msg ? msg : "");
	free(msg);
	msg = NULL;
	st.driver = "virtio-fs";
	st.fstype = "virtiofs";
	st.options = (char **)goodfs;
	st.n_options = 5;
	code = create_one_msg(&e, "o4", &st, &msg);
	if (code != 0)
		FAIL("virtio-fs storage with the runtime's options: code %d, %s", code,
		     msg ? msg : "");
	free(msg);
	umount2(mp, MNT_DETACH);
	ctr_env_teardown(&e);
}

struct flipper {
	volatile int stop;
	const char *dir;
};

static void *flip(void *arg)
{
	struct flipper *fl = arg;
	int dfd = open(fl->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	while (!fl->stop)
		syscall(SYS_renameat2, dfd, "f", dfd, "s", 2 /* RENAME_EXCHANGE */);
	close(dfd);
	return NULL;
}

/*
 * fsGroup walks the volume and changes group and mode: a regular file that is
 * swapped with a symlink to a guest file between the check and the change
 * must not hand the guest file over (Always and OnRootMismatch walk alike).
 */
TEST_TIMEOUT(fs_group_never_follows_a_swapped_symlink, 120)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	struct stat sb;
	guest_dir("/run/guest");
	ASSERT_EQ(system("mkdir -p " SHARED_CTRS "/vol && echo x > " SHARED_CTRS "/vol/f"), 0);
	ASSERT_EQ(symlink("/run/guest/secret", SHARED_CTRS "/vol/s"), 0);

	Grpc__Storage st = GRPC__STORAGE__INIT;
	Grpc__FSGroup g = GRPC__FSGROUP__INIT;
	char *bind[] = {"bind"};
	st.driver = "virtio-fs";
	st.source = SHARED_CTRS "/vol";
	st.fstype = "bind";
	st.options = bind;
	st.n_options = 1;
	st.mount_point = "/run/kata-containers/sandbox/vol";
	g.group_id = 4242;
	g.group_change_policy = TYPES__FSGROUP_CHANGE_POLICY__Always;
	st.fs_group = &g;

	struct flipper fl = {.dir = SHARED_CTRS "/vol"};
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, flip, &fl), 0);
	int bad = 0;
	for (int i = 0; i < 40 && !bad; i++) {
		ASSERT_EQ(create_one(&e, "g1", &st), 0);
		ASSERT_EQ(stat("/run/guest/secret", &sb), 0);
		bad = (sb.st_mode & 07777) != 0600 || sb.st_gid == 4242;
	}
	fl.stop = 1;
	pthread_join(th, NULL);
	if (bad)
		FAIL("the guest file became mode %o gid %u", sb.st_mode & 07777, sb.st_gid);
	/* The volume's own file did get the group. */
	ASSERT_EQ(lstat(SHARED_CTRS "/vol", &sb), 0);
	ASSERT_EQ(sb.st_gid, 4242);
	ctr_env_teardown(&e);
}

/*
 * A request whose second storage fails: the first one, which this request
 * mounted (shared or not), is unmounted again.
 */
TEST_TIMEOUT(a_failed_storage_unmounts_what_the_request_mounted, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	Grpc__Storage a = GRPC__STORAGE__INIT, b = GRPC__STORAGE__INIT, *sts[] = {&a, &b};
	a.driver = "ephemeral";
	a.source = "tmpfs";
	a.fstype = "tmpfs";
	a.shared = true;
	a.mount_point = "/run/kata-containers/sandbox/ephemeral/first";
	b.driver = "blk";
	b.source = "/dev/does-not-exist";
	b.fstype = "ext4";
	b.mount_point = "/run/kata-containers/sandbox/storage/second";
	const char *args[] = {"exit", "0", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "f1", args);
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	req.container_id = req.exec_id = "f1";
	req.oci = ctr_spec_get(s);
	req.storages = sts;
	req.n_storages = 2;
	char *msg = NULL;
	ASSERT_TRUE(ctr_call(&e, "CreateContainer", &req.base, &google__protobuf__empty__descriptor,
			     NULL, &msg) != 0);
	free(msg);
	ASSERT_FALSE(is_mounted(a.mount_point));
	/* And the table forgot it: the same request with a good second storage mounts it. */
	b.driver = "ephemeral";
	b.source = "tmpfs";
	b.fstype = "tmpfs";
	ASSERT_EQ(ctr_call(&e, "CreateContainer", &req.base, &google__protobuf__empty__descriptor,
			   NULL, NULL),
		  0);
	ASSERT_TRUE(is_mounted(a.mount_point));
	ASSERT_EQ(ctr_remove(&e, "f1"), 0);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}
