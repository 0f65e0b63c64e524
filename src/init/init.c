// SPDX-License-Identifier: Apache-2.0
#include "init/init.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>

#include "base/fsutil.h"
#include "base/mountinfo.h"
#include "base/scan.h"
#include "base/strbuf.h"
#include "net/net.h"

static void note(char **errors, const char *fmt, ...) _printf_(2, 3);
static void note(char **errors, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	size_t old = *errors ? strlen(*errors) : 0;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	char *n = realloc(*errors, old + strlen(line) + 2);
	if (!n)
		return;
	memcpy(n + old, line, strlen(line));
	n[old + strlen(line)] = '\n';
	n[old + strlen(line) + 1] = '\0';
	*errors = n;
}

/* Mounted already with this type? Then a mount is skipped. */
static bool mounted_as(const char *target, const char *fstype)
{
	char have[64];

	return mountinfo_fstype_at(target, have, sizeof(have)) && !strcmp(have, fstype);
}

static int mount_one(const char *src, const char *target, const char *type, unsigned long flags,
		     const char *data, char **errors)
{
	int r = mkdir_p(target, 0755);

	if (r < 0) {
		note(errors, "creating %s: %s", target, strerror(-r));
		return -1;
	}
	if (mounted_as(target, type))
		return 0;
	if (mount(src, target, type, flags, data) < 0) {
		note(errors, "mounting %s on %s: %s", type, target, strerror(errno));
		return -1;
	}
	return 0;
}

int init_early_mounts(char **errors)
{
	int failed = 0;

	failed += mount_one("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
			    errors) < 0;
	failed += mount_one("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
			    errors) < 0;
	/* devtmpfs may be missing: tolerated. */
	mount_one("dev", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", errors);
	failed += mount_one("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777",
			    errors) < 0;
	failed += mount_one("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
			    "newinstance,ptmxmode=0666,mode=0620", errors) < 0;
	failed +=
		mount_one("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", errors) < 0;
	return failed;
}

int init_load_modules(const char *list, char **errors)
{
	FILE *f = fopen(list, "re");
	char line[4096];
	int failed = 0;

	if (!f)
		return 0; /* no list: a kernel with the drivers built in */
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		int fd = open(line, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			note(errors, "module %s: %s", line, strerror(errno));
			failed++;
			continue;
		}
		if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST) {
			note(errors, "loading module %s: %s", line, strerror(errno));
			failed++;
		}
		close(fd);
	}
	fclose(f);
	return failed;
}

static const char *const v1_controllers[] = {
	"cpu",	   "cpuacct",	 "blkio",    "cpuset",	"memory", "devices", "freezer",
	"net_cls", "perf_event", "net_prio", "hugetlb", "pids",	  "rdma"};

int init_mount_cgroups(bool v2, agent_error_t **err)
{
	const unsigned long fl = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME;
	char *errors = NULL;
	int r;

	if (v2) {
		if (mount_one("cgroup2", "/sys/fs/cgroup", "cgroup2", fl, "nsdelegate", &errors) <
		    0) {
			r = agent_error_set(err, EIO, "%s", errors ? errors : "cgroup2");
			free(errors);
			return r;
		}
		return 0;
	}
	if (mount_one("tmpfs", "/sys/fs/cgroup", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		      "mode=755", &errors) < 0) {
		r = agent_error_set(err, EIO, "%s", errors ? errors : "tmpfs");
		free(errors);
		return r;
	}
	FILE *f = fopen("/proc/cgroups", "re");
	char line[256];
	int mounted = 0;

	while (f && fgets(line, sizeof(line), f)) {
		char name[64];
		unsigned long long hier, num, enabled;
		const char *p;

		/* "name hierarchy num_cgroups enabled" */
		if (line[0] == '#' || !(p = scan_word(line, name, sizeof(name))) ||
		    !(p = scan_ull(p, &hier)) || !(p = scan_ull(p, &num)) ||
		    !scan_ull(p, &enabled) || !enabled)
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(v1_controllers); i++) {
			char target[128];

			if (strcmp(name, v1_controllers[i]) != 0)
				continue;
			snprintf(target, sizeof(target), "/sys/fs/cgroup/%s", name);
			if (mount_one("cgroup", target, "cgroup", fl, name, &errors) == 0)
				mounted++;
		}
	}
	if (f)
		fclose(f);
	mount(NULL, "/sys/fs/cgroup", NULL,
	      MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755");
	r = write_file("/sys/fs/cgroup/memory/memory.use_hierarchy", "1");
	if (errors || r < 0) {
		r = agent_error_set(err, EIO, "cgroup v1 (%d mounted): %s%s", mounted,
				    errors ? errors : "",
				    r < 0 ? "memory.use_hierarchy not writable" : "");
		free(errors);
		return r;
	}
	return 0;
}

int init_mounted_cgroup_mode(const char *root, bool configured)
{
	struct statfs st;
	char unified[PATH_MAX];

	if (statfs(root, &st) < 0)
		return -1;
	if (st.f_type == CGROUP2_SUPER_MAGIC)
		return 1;
	if (st.f_type != TMPFS_MAGIC)
		return -1;
	snprintf(unified, sizeof(unified), "%s/unified", root);
	if (statfs(unified, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
		return configured; /* hybrid: v1 controllers and a v2 hierarchy */
	return 0;
}

static void set_hostname(char **errors)
{
	char name[65] = "localhost";
	FILE *f = fopen("/etc/hostname", "re");

	if (f) {
		char line[256];
		if (fgets(line, sizeof(line), f) && !scan_word(line, name, sizeof(name)))
			snprintf(name, sizeof(name), "localhost");
		fclose(f);
	}
	if (sethostname(name, strlen(name)) < 0)
		note(errors, "sethostname %s: %s", name, strerror(errno));
}

int init_finish(char **errors)
{
	agent_error_t *err = NULL;
	unsigned idx;

	unlink("/dev/ptmx");
	if (symlink("pts/ptmx", "/dev/ptmx") < 0)
		note(errors, "/dev/ptmx: %s", strerror(errno));
	setsid();
	(void)ioctl(0, TIOCSCTTY, 1);
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	set_hostname(errors);
	idx = if_nametoindex("lo");
	if (idx && net_link_set_flags((int)idx, IFF_UP, IFF_UP, &err) < 0) {
		note(errors, "bringing lo up: %s", err->msg);
		agent_error_free(err);
	}
	return 0;
}

void init_core_pattern(void)
{
	mkdir_p("/run/kata-cores", 0700);
	write_file("/proc/sys/kernel/core_pattern", "/run/kata-cores/core.%e.%p.%t");
}

bool init_wait_path(const char *path, uint64_t timeout_ms)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	struct stat st;

	for (uint64_t waited = 0; waited <= timeout_ms; waited += 10) {
		if (stat(path, &st) == 0)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

_noreturn_ void init_poweroff(void)
{
	sync();
	reboot(RB_POWER_OFF);
	/* Not allowed to power off (a container, a test): stay, never exit as PID 1. */
	for (;;)
		pause();
}
