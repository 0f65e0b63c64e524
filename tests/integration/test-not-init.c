/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent when it is not PID 1, as in a systemd guest image (kata-agent.service): the
 * guest's init system, not the agent, set up the machine, and the agent works with it.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctr.h"
#include "harness.h"
#include "itest.h"

/*
 * systemd mounts the cgroup hierarchy it was told to (systemd.unified_cgroup_hierarchy),
 * and without that token systemd 252 (Debian 12) mounts cgroup v2 while the agent's own
 * default is v1. The agent cannot mount anything else under systemd: it uses what is mounted
 * at /sys/fs/cgroup. Here cgroup2 is mounted there and the command line says v1.
 */
TEST_TIMEOUT(cgroup_mode_follows_the_mounted_hierarchy, 90)
{
	struct ctr_env e;
	ctr_env_setup_cmdline(&e, true, "agent.unified_cgroup_hierarchy=0");
	const char *args[] = {"report", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "cgm", args);
	int code = -1;
	char *out = ctr_run(&e, "cgm", ctr_spec_get(s), &code);
	ASSERT_NOT_NULL(out);
	if (code != 0)
		FAIL("the container did not run on the mounted cgroup v2 (exit %d): %s", code, out);
	/* On v2 the container has its own cgroup namespace and sees itself at its root. */
	ASSERT_NOT_NULL(strstr(out, "cgroup=0::/\n"));
	free(out);
	ASSERT_TRUE(itest_log_contains(&e.agent, "cgroup v2 is mounted"));
	ASSERT_EQ(ctr_remove(&e, "cgm"), 0);
	char path[256];
	struct stat sb;
	snprintf(path, sizeof(path), "/sys/fs/cgroup%s/cgm", e.cgparent);
	ASSERT_TRUE(stat(path, &sb) < 0);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}
