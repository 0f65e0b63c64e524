/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The duties of the agent as PID 1 of the guest. None of them
 * ends the agent: a failure is reported (the caller logs it) and the agent
 * goes on as far as it can, because PID 1 exiting panics the kernel.
 */
#ifndef AGENT_INIT_INIT_H
#define AGENT_INIT_INIT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

/* What the API transport needs (virtio transports, console ports, vsock): one .ko path per
 * line, in dependency order, loaded before the agent listens (built by tools/mkinitrd.sh). */
#define INIT_BOOT_MODULES "/etc/kata-agent/boot-modules"
/* The rest of the guest's drivers, loaded once the agent serves (src/agent/late-modules.c). */
#define INIT_LATE_MODULES "/etc/kata-agent/late-modules"

/*
 * Before the configuration is read: /proc, /sys, /dev (devtmpfs), /dev/shm,
 * /dev/pts, /run. Each failure is appended to *errors (a malloc'd text of lines)
 * for the log that does not exist yet. Returns how many mounts failed.
 */
int init_early_mounts(char **errors);

/* Loads each module of `list` with finit_module (already loaded is fine). Counts failures. */
int init_load_modules(const char *list, char **errors);

/* cgroup v2 (cgroup2 on /sys/fs/cgroup) or v1 (tmpfs + each controller of /proc/cgroups). */
int init_mount_cgroups(bool v2, agent_error_t **err);

/*
 * Not PID 1: the cgroup mode the init system mounted under `root` (/sys/fs/cgroup), which
 * the agent has to work with: 1 for v2 when cgroup2 is mounted there, 0 for v1 when a tmpfs
 * is there and no cgroup2 beside it (root/unified, systemd's hybrid mode, which serves both),
 * `configured` when the mount fits either mode, -1 when nothing is mounted there.
 */
int init_mounted_cgroup_mode(const char *root, bool configured);

/* /dev/ptmx -> pts/ptmx, a session and controlling tty, PATH, hostname, loopback up. */
int init_finish(char **errors);

/* agent.devmode as PID 1: cores land in /run/kata-cores. */
void init_core_pattern(void);

/* Waits up to timeout_ms for path to exist (a device the boot modules bring). */
bool init_wait_path(const char *path, uint64_t timeout_ms);

/* sync() and power the VM off. Never returns. */
_noreturn_ void init_poweroff(void);

#endif
