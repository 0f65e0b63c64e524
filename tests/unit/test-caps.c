/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container/caps.h"
#include "harness.h"

#define BIT(c) (UINT64_C(1) << (c))

/* A "CapXxx:" line of /proc/self/status as a number; fails the test when absent. */
static uint64_t status_caps(const char *field)
{
	FILE *f = fopen("/proc/self/status", "re");
	ASSERT_NOT_NULL(f);
	char line[256];
	size_t len = strlen(field);
	uint64_t v = 0;
	bool found = false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			v = strtoull(line + len + 1, NULL, 16);
			found = true;
			break;
		}
	}
	fclose(f);
	if (!found)
		FAIL("no %s in /proc/self/status", field);
	return v;
}

static void need_root(void)
{
	if (geteuid() != 0)
		SKIP("needs root");
	if (prctl(PR_CAPBSET_READ, (unsigned long)CAP_SETPCAP, 0, 0, 0) != 1)
		SKIP("CAP_SETPCAP not in the bounding set");
}

TEST(caps_name_round_trip)
{
	int last = cap_last_cap();
	ASSERT_GE(last, 36);
	for (int c = 0; c <= 40; c++) {
		const char *n = cap_to_name(c);
		ASSERT_NOT_NULL(n);
		ASSERT_EQ(cap_from_name(n), c);
	}
	ASSERT_EQ(cap_from_name("CAP_SYS_ADMIN"), 21);
	ASSERT_EQ(cap_from_name("cap_sys_admin"), 21);
	ASSERT_EQ(cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
	ASSERT_STREQ(cap_to_name(0), "CAP_CHOWN");
	ASSERT_STREQ(cap_to_name(39), "CAP_BPF");
}

TEST(caps_unknown_names)
{
	ASSERT_EQ(cap_from_name("SYS_ADMIN"), -1); /* prefix required */
	ASSERT_EQ(cap_from_name("CAP_FOO"), -1);
	ASSERT_EQ(cap_from_name("CAP_"), -1);
	ASSERT_EQ(cap_from_name(""), -1);
	ASSERT_EQ(cap_from_name(NULL), -1);
	ASSERT_EQ(cap_from_name("CAP_CHOWNX"), -1);
	ASSERT_NULL(cap_to_name(-1));
	ASSERT_NULL(cap_to_name(41));
	ASSERT_NULL(cap_to_name(64));
}

TEST(caps_last_cap_matches_proc)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (!f)
		SKIP("no /proc/sys/kernel/cap_last_cap");
	int v = -1;
	ASSERT_EQ(fscanf(f, "%d", &v), 1);
	fclose(f);
	ASSERT_EQ(cap_last_cap(), v);
	/* The kernel's bounding set agrees: the one after the last does not exist. */
	ASSERT_TRUE(prctl(PR_CAPBSET_READ, (unsigned long)v, 0, 0, 0) >= 0);
	ASSERT_TRUE(prctl(PR_CAPBSET_READ, (unsigned long)v + 1, 0, 0, 0) < 0);
}

TEST(caps_from_oci_skips_unknown)
{
	char *bnd[] = {"CAP_CHOWN", "CAP_BOGUS", "cap_kill", "CAP_NET_RAW"};
	char *eff[] = {"CAP_KILL", ""};
	char *amb[] = {"NOT_A_CAP"};
	Grpc__LinuxCapabilities c = GRPC__LINUX_CAPABILITIES__INIT;
	c.n_bounding = 4;
	c.bounding = bnd;
	c.n_effective = 2;
	c.effective = eff;
	c.n_ambient = 1;
	c.ambient = amb;
	struct cap_sets s;
	cap_sets_from_oci(&c, &s);
	ASSERT_EQ(s.bounding, BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_NET_RAW));
	ASSERT_EQ(s.effective, BIT(CAP_KILL));
	ASSERT_EQ(s.permitted, 0);
	ASSERT_EQ(s.inheritable, 0);
	ASSERT_EQ(s.ambient, 0);
	cap_sets_from_oci(NULL, &s);
	ASSERT_EQ(s.bounding, 0);
}

/* As the container child does it: bounding, keep-caps, change uid, then the other sets. */
TEST(caps_apply_reduced_sets_across_setresuid)
{
	need_root();
	struct cap_sets s = {
		.bounding = BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE) |
			    BIT(CAP_NET_RAW) | BIT(CAP_SETUID) | BIT(CAP_SETGID),
		.effective = BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_NET_RAW),
		.permitted = BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_NET_RAW),
		.inheritable = BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_NET_RAW),
		.ambient = BIT(CAP_NET_BIND_SERVICE),
	};
	agent_error_t *err = NULL;
	ASSERT_EQ(cap_apply_bounding(&s, &err), 0);
	ASSERT_NULL(err);
	ASSERT_EQ(status_caps("CapBnd"), s.bounding);
	ASSERT_EQ(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), 1);

	ASSERT_EQ(setgroups(0, NULL), 0);
	ASSERT_EQ(setresgid(1000, 1000, 1000), 0);
	ASSERT_EQ(setresuid(1000, 1000, 1000), 0);
	/* keep-caps kept the permitted set through the uid change (effective is cleared). */
	ASSERT_TRUE(status_caps("CapPrm") != 0);

	ASSERT_EQ(cap_apply_sets(&s, &err), 0);
	ASSERT_NULL(err);
	ASSERT_EQ(status_caps("CapBnd"), s.bounding);
	ASSERT_EQ(status_caps("CapEff"), s.effective);
	ASSERT_EQ(status_caps("CapPrm"), s.permitted);
	ASSERT_EQ(status_caps("CapInh"), s.inheritable);
	ASSERT_EQ(status_caps("CapAmb"), s.ambient);
	ASSERT_EQ(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), 0);
	ASSERT_EQ(getuid(), 1000);
}

TEST(caps_ambient_refused_is_skipped)
{
	need_root();
	/* CAP_KILL is not inheritable, so the kernel refuses it as ambient: skipped, no error. */
	struct cap_sets s = {
		.bounding = BIT(CAP_KILL) | BIT(CAP_NET_RAW),
		.effective = BIT(CAP_KILL) | BIT(CAP_NET_RAW),
		.permitted = BIT(CAP_KILL) | BIT(CAP_NET_RAW),
		.inheritable = BIT(CAP_NET_RAW),
		.ambient = BIT(CAP_KILL) | BIT(CAP_NET_RAW),
	};
	agent_error_t *err = NULL;
	ASSERT_EQ(cap_apply_bounding(&s, &err), 0);
	ASSERT_EQ(cap_apply_sets(&s, &err), 0);
	ASSERT_NULL(err);
	ASSERT_EQ(status_caps("CapAmb"), BIT(CAP_NET_RAW));
	ASSERT_EQ(status_caps("CapEff"), s.effective);
}

TEST(caps_dropped_chown_makes_chown_fail)
{
	need_root();
	char path[] = "/tmp/test-caps-XXXXXX";
	int fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	close(fd);
	/* Root, every capability but CAP_CHOWN. */
	uint64_t all = status_caps("CapBnd");
	struct cap_sets s = {
		.bounding = all & ~BIT(CAP_CHOWN),
		.effective = all & ~BIT(CAP_CHOWN),
		.permitted = all & ~BIT(CAP_CHOWN),
	};
	agent_error_t *err = NULL;
	ASSERT_EQ(cap_apply_bounding(&s, &err), 0);
	ASSERT_EQ(cap_apply_sets(&s, &err), 0);
	ASSERT_NULL(err);
	ASSERT_EQ(status_caps("CapEff"), s.effective);
	int r = chown(path, 1000, 1000);
	int e = errno;
	unlink(path);
	ASSERT_EQ(r, -1);
	ASSERT_EQ(e, EPERM);
}

TEST(caps_capset_beyond_permitted_fails)
{
	need_root();
	struct cap_sets s = {.bounding = BIT(CAP_KILL), .permitted = BIT(CAP_KILL)};
	agent_error_t *err = NULL;
	ASSERT_EQ(cap_apply_bounding(&s, &err), 0);
	ASSERT_EQ(cap_apply_sets(&s, &err), 0);
	/* Raising a capability that is no longer permitted is refused and reported. */
	s.permitted |= BIT(CAP_CHOWN);
	ASSERT_EQ(cap_apply_sets(&s, &err), -EPERM);
	ASSERT_NOT_NULL(err);
	ASSERT_TRUE(strstr(err->msg, "capset") != NULL);
	agent_error_free(err);
}

TEST(caps_last_cap_without_proc)
{
	need_root();
	int expected = cap_last_cap();
	/* Hide /proc/sys/kernel in a private mount namespace: the bounding set answers. */
	if (unshare(CLONE_NEWNS) < 0)
		SKIP("unshare(CLONE_NEWNS): %s", strerror(errno));
	ASSERT_EQ(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ASSERT_EQ(mount("tmpfs", "/proc/sys/kernel", "tmpfs", 0, NULL), 0);
	ASSERT_EQ(access("/proc/sys/kernel/cap_last_cap", F_OK), -1);
	ASSERT_EQ(cap_last_cap(), expected);
}

TEST(caps_bounding_drop_needs_setpcap)
{
	need_root();
	uint64_t all = status_caps("CapBnd");
	struct cap_sets s = {.bounding = all, .effective = all & ~BIT(CAP_SETPCAP)};
	s.permitted = s.effective;
	agent_error_t *err = NULL;
	ASSERT_EQ(cap_apply_sets(&s, &err), 0);
	/* Without CAP_SETPCAP in effect the kernel refuses the drop, and we say which. */
	s.bounding = all & ~BIT(CAP_SYS_ADMIN);
	ASSERT_EQ(cap_apply_bounding(&s, &err), -EPERM);
	ASSERT_NOT_NULL(err);
	ASSERT_TRUE(strstr(err->msg, "CAP_SYS_ADMIN") != NULL);
	agent_error_free(err);
	ASSERT_EQ(status_caps("CapBnd"), all);
}
