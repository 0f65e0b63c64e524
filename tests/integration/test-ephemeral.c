// SPDX-License-Identifier: Apache-2.0
/*
 * UpdateEphemeralMounts on this machine's real kernel, in the private mount
 * namespace ctr_env_setup makes: the runtime's resize of an emptyDir tmpfs
 * after a memory hot-plug (["remount", "size=<N>M", "fsgid=<G>"]) changes the
 * size of the very tmpfs an ephemeral storage mounted and keeps its other
 * flags; anything else is refused with a clear status before a mount changes:
 * a mount point through a symlink, outside /run/kata-containers, or that no
 * ephemeral tmpfs storage holds, another driver or fstype, options it does not
 * take (overlong, with a NUL byte), and requests with too many storages.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ctr.h"
#include "harness.h"

#define EPH_DIR "/run/kata-containers/sandbox/ephemeral"

/* The size limit of the filesystem at path, in KiB (0: none). */
static unsigned long long size_kib(const char *path)
{
	struct statvfs sv;
	ASSERT_EQ(statvfs(path, &sv), 0);
	return (unsigned long long)sv.f_blocks * sv.f_frsize / 1024;
}

static unsigned long mount_flags(const char *path)
{
	struct statvfs sv;
	ASSERT_EQ(statvfs(path, &sv), 0);
	return sv.f_flag;
}

static void storage_init(Grpc__Storage *st, const char *mp, char **opts, size_t n)
{
	grpc__storage__init(st);
	st->driver = "ephemeral";
	st->source = "tmpfs";
	st->fstype = "tmpfs";
	st->mount_point = (char *)mp;
	st->options = opts;
	st->n_options = n;
}

/* CreateContainer cid holding one ephemeral tmpfs storage at mp with opts. */
static void create_with_ephemeral(struct ctr_env *e, const char *cid, const char *mp, char **opts,
				  size_t n)
{
	const char *args[] = {"exit", "0", NULL};
	struct ctr_spec *s = ctr_spec_new(e, cid, args);
	Grpc__Storage st;
	char *msg = NULL;
	storage_init(&st, mp, opts, n);
	int code = ctr_create_storage(e, cid, ctr_spec_get(s), &st, &msg);
	if (code)
		FAIL("create %s: %d %s", cid, code, msg);
	free(msg);
	ctr_spec_free(s);
}

static int update(struct ctr_env *e, Grpc__Storage **sts, size_t n, char **msg)
{
	Grpc__UpdateEphemeralMountsRequest req = GRPC__UPDATE_EPHEMERAL_MOUNTS_REQUEST__INIT;
	req.storages = sts;
	req.n_storages = n;
	return ctr_call(e, "UpdateEphemeralMounts", &req.base, &google__protobuf__empty__descriptor,
			NULL, msg);
}

/* One storage; FAILs unless the status is want; the message is checked for `says`. */
static void update_one_expect(struct ctr_env *e, Grpc__Storage *st, int want, const char *says)
{
	Grpc__Storage *sts[] = {st};
	char *msg = NULL;
	int code = update(e, sts, 1, &msg);
	if (code != want || (says && !strstr(msg, says)))
		FAIL("%s [%s]: status %d \"%s\", want %d (\"%s\")", st->mount_point,
		     st->n_options ? st->options[0] : "", code, msg, want, says ? says : "");
	free(msg);
}

/*
 * The runtime's call after a memory hot-plug: the tmpfs grows (and shrinks
 * again), its noexec/nosuid/nodev stay, its group stays, and a shrink below what
 * it holds is refused by the kernel and leaves the size alone (and puts back
 * the other volumes of the request already changed).
 */
TEST_TIMEOUT(update_ephemeral_mounts_resizes_the_tmpfs, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *mp = EPH_DIR "/vol1";
	char *opts[] = {"size=2m", "noexec", "nosuid", "nodev", "fsgid=1234"};
	create_with_ephemeral(&e, "e1", mp, opts, 5);
	ASSERT_EQ(size_kib(mp), 2048);
	unsigned long f0 = mount_flags(mp);
	ASSERT_TRUE(f0 & ST_NOEXEC);

	Grpc__Storage st, *sts[] = {&st};
	char *grow[] = {"remount", "size=8M", "fsgid=1234"};
	storage_init(&st, mp, grow, 3);
	char *msg = NULL;
	int code = update(&e, sts, 1, &msg);
	if (code)
		FAIL("UpdateEphemeralMounts: %d %s", code, msg);
	free(msg);
	ASSERT_EQ(size_kib(mp), 8192);
	ASSERT_EQ(mount_flags(mp) & (ST_NOEXEC | ST_NOSUID | ST_NODEV | ST_RDONLY),
		  f0 & (ST_NOEXEC | ST_NOSUID | ST_NODEV | ST_RDONLY));
	struct stat sb;
	ASSERT_EQ(stat(mp, &sb), 0);
	ASSERT_EQ(sb.st_gid, 1234);

	/* 3 MiB written, then a shrink to 1 MiB: the kernel says no, the size stays. */
	char path[256];
	snprintf(path, sizeof(path), "%s/fill", mp);
	FILE *f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	static char block[65536];
	for (int i = 0; i < 48; i++)
		ASSERT_EQ(fwrite(block, 1, sizeof(block), f), sizeof(block));
	ASSERT_EQ(fclose(f), 0);
	char *shrink[] = {"remount", "size=1M"};
	storage_init(&st, mp, shrink, 2);
	code = update(&e, sts, 1, &msg);
	ASSERT_TRUE(code != 0);
	free(msg);
	ASSERT_EQ(size_kib(mp), 8192);
	ASSERT_EQ(unlink(path), 0);
	/* No options: nothing to do (as upstream), OK. */
	storage_init(&st, mp, NULL, 0);
	ASSERT_EQ(update(&e, sts, 1, NULL), 0);
	ASSERT_EQ(size_kib(mp), 8192);
	/* Several at once, the same one twice: applied in order. */
	char *s4[] = {"remount", "size=4M"}, *s6[] = {"remount", "size=6M"};
	Grpc__Storage a, b, *two[] = {&a, &b};
	storage_init(&a, mp, s4, 2);
	storage_init(&b, mp, s6, 2);
	ASSERT_EQ(update(&e, two, 2, NULL), 0);
	ASSERT_EQ(size_kib(mp), 6144);

	/*
	 * Two volumes, the second holding more than its new size: the kernel refuses
	 * that one, and the first, already grown, is put back.
	 */
	const char *mp2 = EPH_DIR "/vol2";
	char *o2[] = {"size=2m"};
	create_with_ephemeral(&e, "e2", mp2, o2, 1);
	snprintf(path, sizeof(path), "%s/fill", mp2);
	f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	for (int i = 0; i < 24; i++)
		ASSERT_EQ(fwrite(block, 1, sizeof(block), f), sizeof(block));
	ASSERT_EQ(fclose(f), 0);
	char *s10[] = {"remount", "size=10M"}, *s1[] = {"remount", "size=1M"};
	storage_init(&a, mp, s10, 2);
	storage_init(&b, mp2, s1, 2);
	code = update(&e, two, 2, &msg);
	if (code != 3 || !strstr(msg, mp2))
		FAIL("a shrink below use: %d %s", code, msg);
	free(msg);
	ASSERT_EQ(size_kib(mp), 6144);
	ASSERT_EQ(size_kib(mp2), 2048);
	ASSERT_TRUE(mount_flags(mp) & ST_NOEXEC);
	ASSERT_EQ(ctr_remove(&e, "e2"), 0);
	ASSERT_EQ(ctr_remove(&e, "e1"), 0);
	ctr_env_teardown(&e);
}

/*
 * Hostile mount points: none of these changes any mount. A storage's mount
 * point swapped for a symlink to a tmpfs outside /run/kata-containers, a symlink
 * no storage holds, that tmpfs named directly, a tmpfs under /run/kata-containers that no storage
 * mounted, a local storage's directory, a path with "..", and a name the table does not know.
 */
TEST_TIMEOUT(update_ephemeral_mounts_refuses_hostile_mount_points, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	ASSERT_EQ(mkdir("/run/outside", 0755), 0);
	ASSERT_EQ(mount("tmpfs", "/run/outside", "tmpfs", 0, "size=1m"), 0);
	char *eo[] = {"size=1m"};
	create_with_ephemeral(&e, "e1", EPH_DIR "/real", eo, 1);
	ASSERT_EQ(symlink("/run/outside", EPH_DIR "/lnk"), 0);
	ASSERT_EQ(mkdir(EPH_DIR "/byhand", 0755), 0);
	ASSERT_EQ(mount("tmpfs", EPH_DIR "/byhand", "tmpfs", 0, "size=1m"), 0);

	/* A storage whose mount point was swapped for a symlink to the outside tmpfs. */
	create_with_ephemeral(&e, "e2", EPH_DIR "/swapped", eo, 1);
	ASSERT_EQ(umount2(EPH_DIR "/swapped", MNT_DETACH), 0);
	ASSERT_EQ(rmdir(EPH_DIR "/swapped"), 0);
	ASSERT_EQ(symlink("/run/outside", EPH_DIR "/swapped"), 0);

	char *grow[] = {"remount", "size=16M"};
	Grpc__Storage st;
	storage_init(&st, EPH_DIR "/swapped", grow, 2);
	update_one_expect(&e, &st, 3, "symlink");
	storage_init(&st, EPH_DIR "/lnk", grow, 2);
	update_one_expect(&e, &st, 5, "ephemeral");
	storage_init(&st, "/run/outside", grow, 2);
	update_one_expect(&e, &st, 3, "/run/kata-containers");
	storage_init(&st, EPH_DIR "/../ephemeral/lnk", grow, 2);
	update_one_expect(&e, &st, 3, NULL);
	storage_init(&st, EPH_DIR "/byhand", grow, 2);
	update_one_expect(&e, &st, 5, "ephemeral");
	storage_init(&st, EPH_DIR "/none", grow, 2);
	update_one_expect(&e, &st, 5, "ephemeral");
	struct stat sb;
	ASSERT_TRUE(stat(EPH_DIR "/none", &sb) < 0); /* not made either */

	/* A local storage (a plain directory) held by a container. */
	const char *args[] = {"exit", "0", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "l1", args);
	Grpc__Storage lo = GRPC__STORAGE__INIT;
	lo.driver = "local";
	lo.source = "local";
	lo.mount_point = "/run/kata-containers/sandbox/local/l";
	char *msg = NULL;
	ASSERT_EQ(ctr_create_storage(&e, "l1", ctr_spec_get(s), &lo, &msg), 0);
	free(msg);
	storage_init(&st, lo.mount_point, grow, 2);
	update_one_expect(&e, &st, 5, "ephemeral");
	ASSERT_EQ(stat(lo.mount_point, &sb), 0);
	ASSERT_EQ(size_kib("/run/outside"), 1024);
	ASSERT_EQ(size_kib(EPH_DIR "/byhand"), 1024);
	ASSERT_EQ(size_kib(EPH_DIR "/real"), 1024);
	ASSERT_EQ(umount(EPH_DIR "/byhand"), 0);
	ASSERT_EQ(ctr_remove(&e, "l1"), 0);
	ASSERT_EQ(ctr_remove(&e, "e2"), 0);
	ASSERT_EQ(ctr_remove(&e, "e1"), 0);
	ASSERT_EQ(size_kib("/run/outside"), 1024);
	ASSERT_EQ(umount("/run/outside"), 0);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

/* Packs req, turns the '\x01' in `marked` into NUL and sends it raw; the status. */
static int send_with_nul(struct ctr_env *e, const ProtobufCMessage *req, const char *marked,
			 char **msg)
{
	size_t len = protobuf_c_message_get_packed_size(req);
	uint8_t *buf = malloc(len);
	ASSERT_NOT_NULL(buf);
	protobuf_c_message_pack(req, buf);
	uint8_t *at = memmem(buf, len, marked, strlen(marked));
	ASSERT_NOT_NULL(at);
	*(uint8_t *)memchr(at, 0x01, strlen(marked)) = 0;
	uint32_t stream;
	agent_error_t *err = NULL;
	ASSERT_EQ(ttrpc_client_send(e->c, "grpc.AgentService", "UpdateEphemeralMounts", buf, len, 0,
				    NULL, 0, &stream, &err),
		  0);
	free(buf);
	struct ttrpc_reply r = {0};
	ASSERT_EQ(ttrpc_client_recv(e->c, stream, 10000, &r, &err), 0);
	int code = r.code;
	*msg = strdup(r.message ? r.message : "");
	ttrpc_reply_clear(&r);
	return code;
}

/*
 * Hostile requests on a real ephemeral storage: another driver or fstype,
 * options that are not a tmpfs size (a mode, a mount flag that loosens, a
 * bind, an unknown word, an overlong value, a NUL byte), too many storages,
 * and a request whose last storage is bad: refused whole, the size unchanged.
 */
TEST_TIMEOUT(update_ephemeral_mounts_refuses_bad_requests, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *mp = EPH_DIR "/v";
	char *eo[] = {"size=1m", "noexec"};
	create_with_ephemeral(&e, "e1", mp, eo, 2);
	char *grow[] = {"remount", "size=16M"};
	Grpc__Storage st;

	storage_init(&st, mp, grow, 2);
	st.driver = "local";
	update_one_expect(&e, &st, 3, "ephemeral");
	storage_init(&st, mp, grow, 2);
	st.fstype = "ext4";
	update_one_expect(&e, &st, 3, "tmpfs");
	storage_init(&st, mp, grow, 2);
	st.fstype = "hugetlbfs";
	update_one_expect(&e, &st, 3, "tmpfs");

	static char longval[6000];
	memset(longval, '7', sizeof(longval) - 1);
	memcpy(longval, "size=", 5);
	char *bad[][2] = {
		{"remount", "mode=0777"},     {"remount", "exec"},
		{"remount", "bind"},	      {"remount", "suid"},
		{"remount", "size=1Q"},	      {"remount", "size="},
		{"remount", "size=-1"},	      {"remount", "nr_inodes=1x"},
		{"remount", "uid=0,size=4m"}, {"remount", "mpol=bind:0"},
		{"remount", "fsgid=abc"},     {"remount", "huge=always"},
		{"remount", "size=4m,"},      {"remount", longval},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		storage_init(&st, mp, bad[i], 2);
		update_one_expect(&e, &st, 3, NULL);
	}
	ASSERT_EQ(size_kib(mp), 1024);
	ASSERT_TRUE(mount_flags(mp) & ST_NOEXEC);

	/* "size=16M\0,mode=777" on the wire. */
	Grpc__UpdateEphemeralMountsRequest req = GRPC__UPDATE_EPHEMERAL_MOUNTS_REQUEST__INIT;
	Grpc__Storage *one[] = {&st};
	char *nul[] = {"remount", "size=16M\x01,mode=777"};
	storage_init(&st, mp, nul, 2);
	req.storages = one;
	req.n_storages = 1;
	char *msg = NULL;
	ASSERT_EQ(send_with_nul(&e, &req.base, nul[1], &msg), 3);
	free(msg);
	ASSERT_EQ(size_kib(mp), 1024);

	/* A good storage then a bad one: nothing applied. */
	Grpc__Storage good, badst, *pair[] = {&good, &badst};
	char *modeopt[] = {"remount", "mode=0777"};
	storage_init(&good, mp, grow, 2);
	storage_init(&badst, mp, modeopt, 2);
	ASSERT_EQ(update(&e, pair, 2, &msg), 3);
	free(msg);
	ASSERT_EQ(size_kib(mp), 1024);

	/* Many storages: refused at once, the agent still serving. */
	size_t many = 20000;
	Grpc__Storage **lots = calloc(many, sizeof(*lots));
	ASSERT_NOT_NULL(lots);
	for (size_t i = 0; i < many; i++)
		lots[i] = &good;
	ASSERT_EQ(update(&e, lots, many, &msg), 3);
	free(msg);
	free(lots);
	itest_check_serving(e.c);
	ASSERT_EQ(size_kib(mp), 1024);
	ASSERT_EQ(ctr_remove(&e, "e1"), 0);
	ctr_env_teardown(&e);
}
