/* SPDX-License-Identifier: Apache-2.0 */
/* The guest-wide methods through the real agent on a unix socket. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "csi.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "guest/guest.h"
#include "harness.h"
#include "itest.h"
#include "ttrpc-client.h"

struct reply {
	ProtobufCMessage *msg;
	int32_t code;
	char *text;
};

static struct reply call(struct ttrpc_client *c, const char *method, const ProtobufCMessage *req,
			 const ProtobufCMessageDescriptor *desc)
{
	struct reply r = {0};
	_cleanup_error_ agent_error_t *err = NULL;
	if (ttrpc_client_call_msg(c, "grpc.AgentService", method, req,
				  desc ? desc : &google__protobuf__empty__descriptor, &r.msg,
				  &r.code, &r.text, 10ll * 1000 * 1000 * 1000, &err) < 0)
		FAIL("%s: %s", method, err->msg);
	return r;
}

static void reply_free(struct reply *r)
{
	if (r->msg)
		protobuf_c_message_free_unpacked(r->msg, NULL);
	free(r->text);
}

static void expect_ok(struct ttrpc_client *c, const char *method, const ProtobufCMessage *req)
{
	struct reply r = call(c, method, req, NULL);
	if (r.code != 0)
		FAIL("%s answered %d: %s", method, r.code, r.text);
	reply_free(&r);
}

static void expect_code(struct ttrpc_client *c, const char *method, const ProtobufCMessage *req,
			int code, const char *substr)
{
	struct reply r = call(c, method, req, NULL);
	if (r.code != code || !strstr(r.text, substr))
		FAIL("%s answered %d \"%s\", expected %d with \"%s\"", method, r.code, r.text, code,
		     substr);
	reply_free(&r);
}

TEST(get_guest_details)
{
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	Grpc__GuestDetailsRequest req = GRPC__GUEST_DETAILS_REQUEST__INIT;
	req.mem_block_size = true;
	req.mem_hotplug_probe = true;
	struct reply r =
		call(c, "GetGuestDetails", &req.base, &grpc__guest_details_response__descriptor);
	ASSERT_EQ(r.code, 0);
	Grpc__GuestDetailsResponse *d = (Grpc__GuestDetailsResponse *)r.msg;
	unsigned long long bs = 0;
	FILE *f = fopen("/sys/devices/system/memory/block_size_bytes", "re");
	if (f) {
		ASSERT_EQ(fscanf(f, "%llx", &bs), 1);
		fclose(f);
	}
	ASSERT_EQ(d->mem_block_size_bytes, bs);
	ASSERT_EQ(d->support_mem_hotplug_probe,
		  access("/sys/devices/system/memory/probe", F_OK) == 0);
	ASSERT_NOT_NULL(d->agent_details);
	ASSERT_STREQ(d->agent_details->version, AGENT_VERSION);
	ASSERT_FALSE(d->agent_details->init_daemon);
	ASSERT_TRUE(d->agent_details->supports_seccomp);
	ASSERT_EQ(d->agent_details->n_storage_handlers, 10);
	ASSERT_STREQ(d->agent_details->storage_handlers[0], "blk");
	ASSERT_EQ(d->agent_details->n_device_handlers, 6);
	ASSERT_STREQ(d->agent_details->device_handlers[4], "vfio-pci");
	reply_free(&r);
	/* Nothing asked: no block size. */
	req.mem_block_size = false;
	r = call(c, "GetGuestDetails", &req.base, &grpc__guest_details_response__descriptor);
	ASSERT_EQ(((Grpc__GuestDetailsResponse *)r.msg)->mem_block_size_bytes, 0);
	reply_free(&r);
	itest_agent_stop(&a);
}

TEST(set_guest_date_time_to_now)
{
	struct itest_agent a;
	struct timeval before, after;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	Grpc__SetGuestDateTimeRequest req = GRPC__SET_GUEST_DATE_TIME_REQUEST__INIT;
	/* The clock is set to what it already reads: forward by 0 s, give or take a call. */
	ASSERT_EQ(gettimeofday(&before, NULL), 0);
	req.sec = before.tv_sec;
	req.usec = before.tv_usec;
	expect_ok(c, "SetGuestDateTime", &req.base);
	ASSERT_EQ(gettimeofday(&after, NULL), 0);
	double d = (double)(after.tv_sec - before.tv_sec) +
		   (double)(after.tv_usec - before.tv_usec) / 1e6;
	ASSERT_TRUE(d >= 0 && d < 1.0);
	req.usec = 1000000;
	expect_code(c, "SetGuestDateTime", &req.base, 3, "Usec");
	req.usec = 0;
	req.sec = -5;
	expect_code(c, "SetGuestDateTime", &req.base, 3, "Sec");
	itest_agent_stop(&a);
}

TEST(reseed_random_dev)
{
	struct itest_agent a;
	unsigned char data[512];
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	FILE *f = fopen("/dev/urandom", "re");
	ASSERT_NOT_NULL(f);
	ASSERT_EQ(fread(data, 1, sizeof(data), f), sizeof(data));
	fclose(f);
	Grpc__ReseedRandomDevRequest req = GRPC__RESEED_RANDOM_DEV_REQUEST__INIT;
	req.data.data = data;
	req.data.len = sizeof(data);
	expect_ok(c, "ReseedRandomDev", &req.base);
	req.data.len = 0;
	expect_code(c, "ReseedRandomDev", &req.base, 3, "missing entropy data");
	itest_agent_stop(&a);
}

#define SHARED "/run/kata-containers/shared/containers"

/* The agent's paths are fixed: give it a /run of its own (a tmpfs in a mount namespace). */
static void private_run(void)
{
	if (unshare(CLONE_NEWNS) < 0)
		SKIP("cannot make a mount namespace: %s", strerror(errno));
	ASSERT_EQ(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ASSERT_EQ(mount("tmpfs", "/run", "tmpfs", 0, "mode=755"), 0);
}

TEST(copy_file_into_the_shared_directory)
{
	private_run();
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));

	/* 2.5 chunks of 1 MiB, as the runtime sends them. */
	size_t size = (5u << 20) / 2;
	unsigned char *all = malloc(size);
	ASSERT_NOT_NULL(all);
	for (size_t i = 0; i < size; i++)
		all[i] = (unsigned char)(i * 31 + (i >> 12));
	const char *path = SHARED "/sbx-ctr/rootfs/etc/config.bin";
	for (size_t off = 0; off < size; off += 1u << 20) {
		Grpc__CopyFileRequest req = GRPC__COPY_FILE_REQUEST__INIT;
		req.path = (char *)path;
		req.file_size = (int64_t)size;
		req.file_mode = S_IFREG | 0600;
		req.dir_mode = 0750;
		req.uid = 123;
		req.gid = 456;
		req.offset = (int64_t)off;
		req.data.data = all + off;
		req.data.len = MIN(size - off, 1u << 20);
		expect_ok(c, "CopyFile", &req.base);
		ASSERT_EQ(access(path, F_OK) == 0, off + req.data.len == size);
	}
	struct stat st;
	ASSERT_EQ(stat(path, &st), 0);
	ASSERT_EQ(st.st_size, (off_t)size);
	ASSERT_EQ(st.st_mode, S_IFREG | 0600);
	ASSERT_EQ(st.st_uid, 123);
	ASSERT_EQ(st.st_gid, 456);
	unsigned char *got = malloc(size);
	ASSERT_NOT_NULL(got);
	FILE *f = fopen(path, "re");
	ASSERT_NOT_NULL(f);
	ASSERT_EQ(fread(got, 1, size, f), size);
	fclose(f);
	ASSERT_TRUE(memcmp(got, all, size) == 0);
	free(got);
	free(all);

	/* A symlink and a directory entry. */
	Grpc__CopyFileRequest l = GRPC__COPY_FILE_REQUEST__INIT;
	l.path = (char *)SHARED "/sbx-ctr/rootfs/etc/link";
	l.file_mode = S_IFLNK | 0777;
	l.uid = l.gid = -1;
	l.data.data = (uint8_t *)"config.bin";
	l.data.len = strlen("config.bin");
	expect_ok(c, "CopyFile", &l.base);
	char target[64] = "";
	ASSERT_EQ(readlink(l.path, target, sizeof(target) - 1), (ssize_t)strlen("config.bin"));
	ASSERT_STREQ(target, "config.bin");
	Grpc__CopyFileRequest d = GRPC__COPY_FILE_REQUEST__INIT;
	d.path = (char *)SHARED "/sbx-ctr/rootfs/data";
	d.file_mode = S_IFDIR | 0711;
	d.uid = d.gid = -1;
	expect_ok(c, "CopyFile", &d.base);
	ASSERT_EQ(stat(d.path, &st), 0);
	ASSERT_EQ(st.st_mode, S_IFDIR | 0711);

	/* Escapes: outside the root, "..", and a symlinked directory. */
	Grpc__CopyFileRequest bad = GRPC__COPY_FILE_REQUEST__INIT;
	bad.file_mode = S_IFREG | 0644;
	bad.uid = bad.gid = -1;
	bad.file_size = 1;
	bad.data.data = (uint8_t *)"x";
	bad.data.len = 1;
	bad.path = (char *)"/run/evil";
	expect_code(c, "CopyFile", &bad.base, 3, "path");
	bad.path = (char *)SHARED "/../evil";
	expect_code(c, "CopyFile", &bad.base, 3, "path");
	ASSERT_EQ(symlink("/run", SHARED "/escape"), 0);
	bad.path = (char *)SHARED "/escape/evil";
	expect_code(c, "CopyFile", &bad.base, 3, "symlinks are not followed");
	ASSERT_TRUE(access("/run/evil", F_OK) < 0);
	itest_agent_stop(&a);
}

TEST(get_metrics)
{
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	Grpc__GetMetricsRequest req = GRPC__GET_METRICS_REQUEST__INIT;
	struct reply r = call(c, "GetMetrics", &req.base, &grpc__metrics__descriptor);
	ASSERT_EQ(r.code, 0);
	const char *m = ((Grpc__Metrics *)r.msg)->metrics;
	ASSERT_TRUE(strstr(m, "# TYPE kata_agent_threads gauge\n"));
	const char *t = strstr(m, "\nkata_agent_threads ");
	ASSERT_NOT_NULL(t);
	ASSERT_EQ(strtol(t + strlen("\nkata_agent_threads "), NULL, 10), 1);
	/* The agent's own fds: the figure the test sees from outside, give or take the scrape. */
	const char *f = strstr(m, "\nkata_agent_open_fds ");
	ASSERT_NOT_NULL(f);
	long fds = strtol(f + strlen("\nkata_agent_open_fds "), NULL, 10);
	int seen = itest_fd_count(a.pid);
	ASSERT_TRUE(fds >= seen - 2 && fds <= seen + 2);
	const char *rss = strstr(m, "\nkata_agent_resident_memory_bytes ");
	ASSERT_NOT_NULL(rss);
	long long bytes = strtoll(rss + strlen("\nkata_agent_resident_memory_bytes "), NULL, 10);
	long kib = itest_rss_kib(a.pid);
	ASSERT_TRUE(bytes > 0 && bytes / 1024 < kib * 2 + 1024);
	ASSERT_TRUE(strstr(m, "\nkata_guest_meminfo_bytes{item=\"MemTotal\"} "));
	ASSERT_TRUE(strstr(m, "\nkata_guest_load{item=\"load1\"} "));
	reply_free(&r);
	itest_agent_stop(&a);
}

TEST(volume_stats_and_resize)
{
	private_run();
	ASSERT_EQ(mkdir("/run/kata-containers", 0755), 0);
	ASSERT_EQ(mkdir("/run/kata-containers/vol", 0755), 0);
	ASSERT_EQ(mount("tmpfs", "/run/kata-containers/vol", "tmpfs", 0, "size=8m,nr_inodes=1000"),
		  0);
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	Grpc__VolumeStatsRequest req = GRPC__VOLUME_STATS_REQUEST__INIT;
	req.volume_guest_path = (char *)"/run/kata-containers/vol";
	struct reply r =
		call(c, "GetVolumeStats", &req.base, &grpc__volume_stats_response__descriptor);
	if (r.code != 0)
		FAIL("GetVolumeStats: %d %s", r.code, r.text);
	Grpc__VolumeStatsResponse *v = (Grpc__VolumeStatsResponse *)r.msg;
	ASSERT_EQ(v->n_usage, 2);
	ASSERT_EQ(v->usage[0]->unit, GRPC__VOLUME_USAGE__UNIT__BYTES);
	ASSERT_EQ(v->usage[0]->total, 8u << 20);
	ASSERT_EQ(v->usage[0]->used, 0);
	ASSERT_EQ(v->usage[1]->unit, GRPC__VOLUME_USAGE__UNIT__INODES);
	ASSERT_EQ(v->usage[1]->total, 1000);
	ASSERT_EQ(v->usage[1]->used + v->usage[1]->available, 1000);
	ASSERT_NOT_NULL(v->volume_condition);
	ASSERT_FALSE(v->volume_condition->abnormal);
	ASSERT_STREQ(v->volume_condition->message, "OK");
	reply_free(&r);
	req.volume_guest_path = (char *)"/etc";
	expect_code(c, "GetVolumeStats", &req.base, 3, "volume_guest_path");
	req.volume_guest_path = (char *)"/run/kata-containers/missing";
	expect_code(c, "GetVolumeStats", &req.base, 13, "missing");
	/* A symlink on the way (rootlink -> /) is not followed: not the guest root's figures. */
	ASSERT_EQ(system("mkdir -p /run/kata-containers/shared/containers && "
			 "ln -s / /run/kata-containers/shared/containers/rootlink"),
		  0);
	req.volume_guest_path = (char *)"/run/kata-containers/shared/containers/rootlink/tmp";
	expect_code(c, "GetVolumeStats", &req.base, 3, "symlink");
	Grpc__ResizeVolumeRequest rz = GRPC__RESIZE_VOLUME_REQUEST__INIT;
	rz.volume_guest_path = (char *)"/run/kata-containers/vol";
	rz.size = 1 << 20;
	expect_code(c, "ResizeVolume", &rz.base, 12, "only ext4");
	rz.volume_guest_path = (char *)"/run/kata-containers/shared/containers/rootlink/tmp";
	expect_code(c, "ResizeVolume", &rz.base, 3, "symlink");
	/* AddSwapPath: a block device under /dev or a file under /run/kata-containers. */
	Grpc__AddSwapPathRequest sw = GRPC__ADD_SWAP_PATH_REQUEST__INIT;
	sw.path = (char *)"/etc/passwd";
	expect_code(c, "AddSwapPath", &sw.base, 3, "path");
	sw.path = (char *)"/run/kata-containers/shared/containers/rootlink/etc/passwd";
	expect_code(c, "AddSwapPath", &sw.base, 3, "symlink");
	itest_agent_stop(&a);
}

/*
 * ResizeVolume on an ext4 loop device the "host" grew: the filesystem grows online
 * (in a child of the agent); a shrink or a size past the disk is INVALID_ARGUMENT.
 */
static bool have_cap(int cap)
{
	char line[256];
	unsigned long long eff = 0;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	if (f)
		fclose(f);
	return eff & (1ull << cap);
}

TEST_TIMEOUT(resize_volume_grows_ext4_online, 60)
{
	if (!have_cap(24 /* CAP_SYS_RESOURCE */))
		SKIP("no CAP_SYS_RESOURCE here: ext4 refuses online resizing (the VM test runs "
		     "it)");
	private_run();
	char dev[64] = "", cmd[512];
	if (system("truncate -s 32M /run/grow.img && mkfs.ext4 -q -F /run/grow.img >/dev/null 2>&1 "
		   "&& losetup -f --show /run/grow.img > /run/grow.dev") != 0)
		SKIP("cannot make an ext4 loop device here");
	FILE *f = fopen("/run/grow.dev", "r");
	ASSERT_NOT_NULL(f);
	ASSERT_NOT_NULL(fgets(dev, sizeof(dev), f));
	fclose(f);
	dev[strcspn(dev, "\n")] = 0;
	const char *mp = "/run/kata-containers/grow";
	ASSERT_EQ(mkdir("/run/kata-containers", 0755), 0);
	ASSERT_EQ(mkdir(mp, 0755), 0);
	ASSERT_EQ(mount(dev, mp, "ext4", 0, NULL), 0);
	struct statfs before, after;
	ASSERT_EQ(statfs(mp, &before), 0);
	/* The host grows the disk. */
	snprintf(cmd, sizeof(cmd), "truncate -s 64M /run/grow.img && losetup -c %s", dev);
	ASSERT_EQ(system(cmd), 0);
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	Grpc__ResizeVolumeRequest rz = GRPC__RESIZE_VOLUME_REQUEST__INIT;
	rz.volume_guest_path = (char *)mp;
	rz.size = 64u << 20;
	expect_ok(c, "ResizeVolume", &rz.base);
	ASSERT_EQ(statfs(mp, &after), 0);
	ASSERT_TRUE((uint64_t)after.f_blocks * after.f_bsize >
		    (uint64_t)before.f_blocks * before.f_bsize + (24u << 20));
	/* Past the disk, or smaller: refused. */
	rz.size = 128u << 20;
	expect_code(c, "ResizeVolume", &rz.base, 3, "ext4 cannot go to");
	rz.size = 16u << 20;
	expect_code(c, "ResizeVolume", &rz.base, 3, "ext4 cannot go to");
	rz.volume_guest_path = (char *)"/run/kata-containers/../grow";
	expect_code(c, "ResizeVolume", &rz.base, 3, "volume_guest_path");
	itest_agent_stop(&a);
	umount(mp);
	snprintf(cmd, sizeof(cmd), "losetup -d %s", dev);
	ASSERT_EQ(system(cmd), 0);
}

TEST(cpu_mem_share_mounts_diagnostics_mem_agent)
{
	struct itest_agent a;
	char list[256] = "";
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	/* As many CPUs as are online: nothing to do, and nothing is changed on this host. */
	FILE *f = fopen("/sys/devices/system/cpu/online", "re");
	ASSERT_NOT_NULL(f);
	ASSERT_NOT_NULL(fgets(list, sizeof(list), f));
	fclose(f);
	Grpc__OnlineCPUMemRequest on = GRPC__ONLINE_CPUMEM_REQUEST__INIT;
	list[strcspn(list, "\n")] = '\0';
	int online = guest_cpu_list_count(list);
	ASSERT_TRUE(online >= 1);
	on.nb_cpus = (uint32_t)online;
	on.cpu_only = true;
	expect_ok(c, "OnlineCPUMem", &on.base);
	on.nb_cpus = 100000;
	expect_code(c, "OnlineCPUMem", &on.base, 3, "nb_cpus");

	Grpc__RemoveStaleVirtiofsShareMountsRequest rs =
		GRPC__REMOVE_STALE_VIRTIOFS_SHARE_MOUNTS_REQUEST__INIT;
	expect_ok(c, "RemoveStaleVirtiofsShareMounts", &rs.base);

	Grpc__GetDiagnosticDataRequest dg = GRPC__GET_DIAGNOSTIC_DATA_REQUEST__INIT;
	dg.log_type = (char *)"kernel_log";
	dg.container_id = (char *)"c1";
	expect_code(c, "GetDiagnosticData", &dg.base, 3, "unsupported diagnostic log_type");
	dg.log_type = (char *)"termination_log";
	expect_code(c, "GetDiagnosticData", &dg.base, 13, "not found");

	Grpc__MemAgentMemcgConfig mc = GRPC__MEM_AGENT_MEMCG_CONFIG__INIT;
	expect_code(c, "MemAgentMemcgSet", &mc.base, 13, "mem-agent is disabled");
	Grpc__MemAgentCompactConfig cc = GRPC__MEM_AGENT_COMPACT_CONFIG__INIT;
	expect_code(c, "MemAgentCompactSet", &cc.base, 13, "mem-agent is disabled");

	/* AddSwapPath of a device node that is not a block device: refused before swapon. */
	Grpc__AddSwapPathRequest sp = GRPC__ADD_SWAP_PATH_REQUEST__INIT;
	sp.path = (char *)"/dev/null";
	expect_code(c, "AddSwapPath", &sp.base, 3, "swapon /dev/null: not a block device");
	sp.path = (char *)"relative";
	expect_code(c, "AddSwapPath", &sp.base, 3, "path");
	Grpc__AddSwapRequest sw = GRPC__ADD_SWAP_REQUEST__INIT;
	uint32_t slots[] = {0x20};
	sw.pcipath = slots;
	sw.n_pcipath = 1;
	expect_code(c, "AddSwap", &sw.base, 3, "PCIPath");
	Grpc__MemHotplugByProbeRequest mp = GRPC__MEM_HOTPLUG_BY_PROBE_REQUEST__INIT;
	if (access("/sys/devices/system/memory/probe", F_OK) < 0) {
		uint64_t addr = 0x100000000ull;
		mp.memhotplugprobeaddr = &addr;
		mp.n_memhotplugprobeaddr = 1;
		expect_code(c, "MemHotplugByProbe", &mp.base, 13, "probe");
	}
	itest_agent_stop(&a);
}

/*
 * One CPU more than this machine has: 100 rounds 50 ms apart, then INTERNAL
 * naming the shortfall; the loop serves other calls all the while.
 */
TEST_TIMEOUT(online_cpus_that_never_come_do_not_block, 30)
{
	char list[256] = "";
	FILE *f = fopen(GUEST_SYSFS_CPU "/online", "re");
	if (!f)
		SKIP("no %s/online", GUEST_SYSFS_CPU);
	ASSERT_NOT_NULL(fgets(list, sizeof(list), f));
	fclose(f);
	list[strcspn(list, "\n")] = '\0';
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	Grpc__OnlineCPUMemRequest on = GRPC__ONLINE_CPUMEM_REQUEST__INIT;
	on.nb_cpus = (uint32_t)guest_cpu_list_count(list) + 1;
	on.cpu_only = true;
	agent_error_t *err = NULL;
	double t0 = itest_now_s();
	uint32_t sid = itest_send(c, "OnlineCPUMem", &on.base);
	for (int i = 0; i < 5; i++)
		itest_check_serving(c);
	ASSERT_TRUE(itest_now_s() - t0 < 1);
	struct ttrpc_reply r = {0};
	ASSERT_EQ(ttrpc_client_recv(c, sid, 15000, &r, &err), 0);
	double took = itest_now_s() - t0;
	ASSERT_EQ(r.code, 13);
	ASSERT_NOT_NULL(strstr(r.message, "failed to online 1 CPU(s) after 100 retries"));
	ASSERT_TRUE(took > 4.5 && took < 12);
	ttrpc_reply_clear(&r);
	c = ttrpc_client_free(c);
	itest_agent_stop(&a);
}
