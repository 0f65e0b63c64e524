/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared between the cgroup files: the manager and cgroup structures, the
 * per-version operation tables, small cgroupfs file helpers and the device
 * rule list used by both the v1 whitelist and the v2 eBPF filter.
 */
#ifndef AGENT_CGROUPS_INTERNAL_H
#define AGENT_CGROUPS_INTERNAL_H

#include <stdint.h>

#include "cgroups.h"

/* Bounds: path given by a client, one cgroupfs file read, number of pids listed. */
#define CG_PATH_MAX 1024
#define CG_FILE_MAX (8u << 20)
#define CG_PIDS_MAX (4u << 20)
#define CG_DEPTH_MAX 32

/* v1 controllers we know (index into cgroup_manager.v1_mnt). */
enum cg_ctrl {
	CG_CPU,
	CG_CPUACCT,
	CG_CPUSET,
	CG_MEMORY,
	CG_DEVICES,
	CG_FREEZER,
	CG_BLKIO,
	CG_PIDS,
	CG_HUGETLB,
	CG_NET_CLS,
	CG_NET_PRIO,
	CG_PERF_EVENT,
	CG_V1_MAX,
};

extern const char *const cg_v1_names[CG_V1_MAX];

struct cgroup;

struct cgroup_ops {
	int (*create)(struct cgroup *cg, agent_error_t **err);
	int (*apply)(struct cgroup *cg, const Grpc__LinuxResources *res, bool update,
		     agent_error_t **err);
	int (*add_pid)(struct cgroup *cg, pid_t pid, agent_error_t **err);
	int (*freeze)(struct cgroup *cg, bool frozen, agent_error_t **err);
	/* Directory whose subtree lists the pids (v1: one hierarchy). NULL if none. */
	const char *(*procs_dir)(struct cgroup *cg);
	int (*destroy)(struct cgroup *cg, agent_error_t **err);
	int (*stats)(struct cgroup *cg, Grpc__CgroupStats *out, agent_error_t **err);
	int (*oom_open)(struct cgroup *cg, struct cgroup_oom **ret, agent_error_t **err);
};

extern const struct cgroup_ops cg_v1_ops;
extern const struct cgroup_ops cg_v2_ops;

struct cgroup_manager {
	bool v2;
	char *unified; /* v2: the cgroup2 mount point */
	char *v1_mnt[CG_V1_MAX]; /* v1: mount point per controller, NULL if absent */
};

struct cgroup {
	struct cgroup_manager *m;
	const struct cgroup_ops *ops;
	char *path; /* "/a/b", validated */
	char *v1_dir[CG_V1_MAX]; /* v1: full directory per controller */
	char *v2_dir; /* v2: full directory */
	int bpf_prog_fd; /* v2: attached device program, -1 if none */
};

struct cgroup_oom {
	int fd; /* eventfd (v1) or inotify fd (v2) */
	bool v2;
	char *file; /* memory.oom_control or memory.events, full path */
	uint64_t last_kills;
};

/* Builds a manager from mountinfo text (modified in place); cgroup_manager_new's core. */
int cg_manager_from_mountinfo(char *text, bool unified, struct cgroup_manager **ret,
			      agent_error_t **err);

/* --- util.c: cgroupfs files ------------------------------------------------------------- */
int cg_path_validate(const char *path, agent_error_t **err);
char *cg_join(const char *a, const char *b);
bool cg_file_exists(const char *dir, const char *file);
/* Writes value to dir/file; the error names the file and value. */
int cg_write(const char *dir, const char *file, const char *value, agent_error_t **err);
int cg_writef(const char *dir, const char *file, agent_error_t **err, const char *fmt, ...)
	_printf_(4, 5);
/* Reads dir/file (bounded) into a malloc'd NUL-terminated string. Plain -errno, no error. */
int cg_read(const char *dir, const char *file, char **ret);
/* First token of dir/file as a u64; "max" reads as UINT64_MAX. */
int cg_read_u64(const char *dir, const char *file, uint64_t *ret);
/* Value of "key N" line in text, -ENOENT if absent. */
int cg_kv_u64(const char *text, const char *key, uint64_t *ret);
/* mkdir -p of dir below mnt; created directories are appended to list for rollback. */
int cg_mkdir_p(const char *mnt, const char *path, char ***created, size_t *n_created,
	       agent_error_t **err);
void cg_rollback(char **created, size_t n_created);
/* Appends pids from cgroup.procs of dir and its descendants. */
int cg_collect_pids(const char *dir, pid_t **pids, size_t *n, size_t *cap, int depth);
/* rmdir dir after its sub-directories (depth first); ENOENT is success. */
int cg_rmdir_tree(const char *dir, int depth);
/* Sleeps for ms milliseconds. */
void cg_sleep_ms(unsigned ms);

/* --- cpuset.c: CPU lists ("0-3,7") as bitmaps -------------------------------------------- */
#define CG_CPUS_MAX 8192 /* as many CPUs as OnlineCPUMem may ask for */
#define CG_CPUS_WORDS (CG_CPUS_MAX / 64)
struct cg_cpumask {
	uint64_t w[CG_CPUS_WORDS];
};
/* Parses a kernel CPU list (surrounding blanks and a newline allowed); -EINVAL if it is none. */
int cg_cpulist_parse(const char *s, struct cg_cpumask *m);
/* The canonical list ("" when empty), malloc'd; NULL when out of memory. */
char *cg_cpulist_format(const struct cg_cpumask *m);

/* --- devices.c: the rule list (deny all, spec rules, defaults) ---------------------------------
 */
struct cg_dev_rule {
	bool allow;
	char type; /* 'a', 'b' or 'c' */
	int64_t major; /* -1 = wildcard */
	int64_t minor; /* -1 = wildcard */
	unsigned access; /* CG_DEV_R | CG_DEV_W | CG_DEV_M */
};
#define CG_DEV_R 1u
#define CG_DEV_W 2u
#define CG_DEV_M 4u
#define CG_DEV_RWM 7u

int cg_dev_rules_validate(const Grpc__LinuxResources *res, agent_error_t **err);
/* Defaults (deny all first) then res's rules, in order. *ret is malloc'd. */
int cg_dev_rules_build(const Grpc__LinuxResources *res, struct cg_dev_rule **ret, size_t *ret_n,
		       agent_error_t **err);
/* "c 1:3 rwm" / "a" for allow-all. */
void cg_dev_rule_format(const struct cg_dev_rule *r, char *buf, size_t size);

/* --- bpf-devices.c ----------------------------------------------------------------------- */
/* Loads a program for rules and attaches it to dir; *prog_fd replaces (and detaches) the old. */
int cg_bpf_devices_apply(const char *dir, const struct cg_dev_rule *rules, size_t n, int *prog_fd,
			 agent_error_t **err);

/* --- oom.c ------------------------------------------------------------------------------- */
int cg_oom_open_v1(const char *memdir, struct cgroup_oom **ret, agent_error_t **err);
int cg_oom_open_v2(const char *dir, struct cgroup_oom **ret, agent_error_t **err);

/* --- stats helpers (stats-common.c) ------------------------------------------------------- */
Grpc__MemoryStats *cg_stats_memory_new(void);
Grpc__MemoryData *cg_stats_memdata_new(uint64_t usage, uint64_t max, uint64_t failcnt,
				       uint64_t limit);
int cg_blkio_add(Grpc__BlkioStatsEntry ***v, size_t *n, uint64_t major, uint64_t minor,
		 const char *op, uint64_t value);
int cg_stats_memory_map(Grpc__MemoryStats *ms, const char *text);
int cg_stats_hugetlb_add(Grpc__CgroupStats *out, const char *size, uint64_t usage, uint64_t max,
			 uint64_t failcnt);
/* Page-size names ("2MB", "1GB") from /sys/kernel/mm/hugepages; *ret NULL-terminated. */
int cg_hugepage_sizes(char ***ret);
void cg_strv_free(char **v);
int cg_stats_v1(struct cgroup *cg, Grpc__CgroupStats *out, agent_error_t **err);
int cg_stats_v2(struct cgroup *cg, Grpc__CgroupStats *out, agent_error_t **err);

/* Common resource validation (device rules, swappiness, hugepage size names). */
bool cg_hugepage_size_valid(const char *s);
uint64_t cg_shares_to_weight(uint64_t shares);

/* out->cpu_stats with its usage and throttling parts, zeroed; NULL on ENOMEM. */
Grpc__CpuStats *cg_cpu_stats_new(Grpc__CgroupStats *out);

#endif
