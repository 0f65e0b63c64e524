/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest-wide duties behind the AgentService "guest" methods: the clock, the
 * entropy pool, what the guest supports, files the host copies in, swap,
 * volume usage, CPU and memory onlining, metrics. Kernel paths the tests need
 * to redirect are parameters. Input errors carry GRPC_INVALID_ARGUMENT; other
 * failures carry only their errno (the RPC layer reports them as INTERNAL).
 */
#ifndef AGENT_GUEST_GUEST_H
#define AGENT_GUEST_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

#define GUEST_SYSFS_MEMORY "/sys/devices/system/memory"
#define GUEST_SYSFS_CPU "/sys/devices/system/cpu"
#define GUEST_COPY_ROOT "/run/kata-containers/shared/containers"
#define GUEST_VOLUME_ROOT "/run/kata-containers"

/* guest-time.c: settimeofday; sec >= 0, 0 <= usec < 1000000. */
int guest_set_time(int64_t sec, int64_t usec, agent_error_t **err);

/* guest-random.c: bytes into the pool of dev (/dev/random), credited, then a CRNG reseed. */
#define GUEST_RANDOM_MAX_DATA (64u << 10)
int guest_reseed_random(const char *dev, const void *data, size_t len, agent_error_t **err);

/* guest-details.c */
/* block_size_bytes of the memory sysfs dir (hex); a missing file gives 0. */
int guest_mem_block_size(const char *memdir, uint64_t *ret, agent_error_t **err);
/* Whether memdir/probe exists. */
int guest_mem_probe_supported(const char *memdir, bool *ret, agent_error_t **err);
/* Writes each address ("0x%llX") to memdir/probe. */
#define GUEST_MAX_PROBE_ADDRS 4096
int guest_mem_probe(const char *memdir, const uint64_t *addrs, size_t n, agent_error_t **err);

/* copyfile.c: one CopyFile request, confined to root (GUEST_COPY_ROOT). */
#define GUEST_COPY_MAX_FILE_SIZE (1ll << 30)
#define GUEST_COPY_MAX_DATA (4u << 20)
struct guest_copy {
	const char *path; /* absolute, clean, below root */
	int64_t file_size;
	uint32_t file_mode; /* type bits: S_IFDIR, S_IFLNK, else a regular file */
	uint32_t dir_mode; /* for missing parents */
	int32_t uid, gid; /* -1: keep */
	int64_t offset;
	const void *data;
	size_t len;
};
int guest_copy_file(const char *root, const struct guest_copy *c, agent_error_t **err);
/*
 * A regular file arrives in chunks into a temporary of its directory, named by
 * guest_copy_tmp_name (GUEST_COPY_TMP_PREFIX, 16 hex digits, the suffix), and
 * is renamed over the target at the last chunk. A temporary no chunk touched
 * for GUEST_COPY_TMP_MAX_AGE_S goes at the next first chunk in its directory;
 * guest_copy_cleanup (DestroySandbox) removes every one below root.
 */
#define GUEST_COPY_TMP_PREFIX ".kata-copy-"
#define GUEST_COPY_TMP_SUFFIX ".tmp"
#define GUEST_COPY_TMP_MAX_AGE_S 600
#define GUEST_COPY_SWEEP_MAX 65536 /* entries looked at by one sweep */
void guest_copy_tmp_name(const char *base, char *buf, size_t size);
int guest_copy_cleanup(const char *root, agent_error_t **err);
/* Whether path is absolute, clean (no "", ".", ".." components, no trailing '/') and
 * strictly below root; *ret_rel (optional) points at the part after "root/". */
bool guest_path_below(const char *root, const char *path, const char **ret_rel);

/* swap.c */
/* Writes a version-1 swap header over the first page of the open file or device fd of
 * size bytes (what mkswap does, without bad-block checks). */
int guest_mkswap(int fd, uint64_t size, agent_error_t **err);
/* swapon of a block device under /dev or a regular file under GUEST_VOLUME_ROOT, opened
 * with no symlink on the way and handed to the kernel through its fd. */
int guest_swapon(const char *path, agent_error_t **err);
/* The deepest PCI path AddSwap takes (slots from the root bus). */
#define GUEST_MAX_PCI_DEPTH 16

/* volume.c: statfs of a path confined below root. */
struct guest_volume_usage {
	uint64_t bytes_total, bytes_available, bytes_used;
	uint64_t inodes_total, inodes_available, inodes_used;
};
int guest_volume_stats(const char *root, const char *path, struct guest_volume_usage *ret,
		       agent_error_t **err);
/* path opened below root with no symlink on the way (one: INVALID_ARGUMENT). fd or -errno. */
int guest_open_below(const char *root, const char *path, int oflags, agent_error_t **err);

/* resize.c: ResizeVolume, checked at once, then grown where blocking is fine (a child). */
struct guest_resize {
	char root[256]; /* path is resolved below it again when grown */
	char path[4096];
	uint64_t block_size;
	uint64_t new_blocks;
};
int guest_volume_resize_check(const char *root, const char *path, uint64_t size,
			      struct guest_resize *ret, agent_error_t **err);
int guest_volume_grow(const struct guest_resize *rz, agent_error_t **err);

/* cpumem.c */
/* Onlining CPUs until `want` are online (0: none asked), in rounds. */
#define GUEST_MAX_CPUS 8192
#define GUEST_ONLINE_ROUNDS 100
#define GUEST_ONLINE_ROUND_MS 50
struct guest_cpu_online {
	uint32_t want;
	int rounds; /* done so far */
	int online; /* counted in the last round */
	int last_err; /* -errno of the last failed write */
};
/*
 * One round: count, and write "1" to as many offline cpuN/online files as are
 * missing. 1 when enough are online, 0 when another round is needed (CPUs
 * still arriving), or -errno (after GUEST_ONLINE_ROUNDS rounds: "failed to
 * online N CPU(s) after 100 retries").
 */
int guest_online_cpus_round(const char *cpudir, struct guest_cpu_online *st, agent_error_t **err);
/* Onlines every offline memory block; *ret_n (optional) counts them. */
int guest_online_memory(const char *memdir, unsigned *ret_n, agent_error_t **err);
/* Number of CPUs a list such as "0-3,5" names; -EINVAL when it does not parse. */
int guest_cpu_list_count(const char *list);

/* sharemounts.c: stat() each mount point in mountinfo at or below prefix. */
int guest_stat_share_mounts(const char *mountinfo, const char *prefix, unsigned *ret_n,
			    agent_error_t **err);

/* diag.c */
#define GUEST_DIAG_MAX 4096
struct Grpc__Spec;
/* The first GUEST_DIAG_MAX bytes of the source of the mount at the spec's
 * terminationMessagePath; "" when that file does not exist. */
int guest_termination_log(const struct Grpc__Spec *spec, char **ret, agent_error_t **err);
/* A copy of data with NUL bytes and invalid UTF-8 replaced by U+FFFD. */
int guest_utf8_lossy(const void *data, size_t n, char **ret);

/* metrics.c: Prometheus text about the agent process and the guest (malloc'd). */
#define GUEST_METRICS_MAX (1u << 20)
int guest_metrics(const char *procdir, char **ret, agent_error_t **err);

#endif
