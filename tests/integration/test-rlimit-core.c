// SPDX-License-Identifier: Apache-2.0
/*
 * RLIMIT_CORE of containers when the agent lacks CAP_SYS_RESOURCE (the test drops it
 * from its bounding set before the agent is started, so the agent cannot raise a hard
 * limit). The agent keeps its own policy (no core of its own outside agent.devmode),
 * yet a container gets exactly the core limit of its spec, and without one the limit the
 * agent was started with: soft 0, hard unlimited, the kernel's default for init, which
 * is what a process started by upstream's agent gets as PID 1. ExecProcess likewise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ctr.h"
#include "harness.h"

#define CAP_SYS_RESOURCE_BIT 24

/* No CAP_SYS_RESOURCE for what this test starts; the agent starts with core 0:unlimited. */
static void prepare(void)
{
	struct rlimit rl;

	if (prctl(PR_CAPBSET_READ, CAP_SYS_RESOURCE_BIT, 0, 0, 0) == 1 &&
	    prctl(PR_CAPBSET_DROP, CAP_SYS_RESOURCE_BIT, 0, 0, 0) < 0)
		SKIP("cannot drop CAP_SYS_RESOURCE from the bounding set: %s", strerror(errno));
	ASSERT_EQ(getrlimit(RLIMIT_CORE, &rl), 0);
	if (rl.rlim_max != RLIM_INFINITY)
		SKIP("this test's hard core limit is not unlimited: the kernel's default for init "
		     "cannot be given to the agent");
	rl.rlim_cur = 0;
	ASSERT_EQ(setrlimit(RLIMIT_CORE, &rl), 0);
}

/* "soft:hard" of Max core file size in /proc/<pid>/limits ("unlimited" spelled out). */
static void proc_core_limit(pid_t pid, char *buf, size_t size)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	FILE *f = fopen(path, "re");
	snprintf(buf, size, "?");
	while (f && fgets(line, sizeof(line), f)) {
		char soft[32], hard[32];
		if (strncmp(line, "Max core file size", 18) == 0 &&
		    sscanf(line + 18, "%31s %31s", soft, hard) == 2)
			snprintf(buf, size, "%s:%s", soft, hard);
	}
	if (f)
		fclose(f);
}

static bool agent_has_cap(pid_t pid, int cap)
{
	char path[64], line[256];
	unsigned long long eff = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "CapEff:", 7) == 0)
			eff = strtoull(line + 7, NULL, 16);
	if (f)
		fclose(f);
	return (eff >> cap) & 1;
}

static Grpc__POSIXRlimit core_1024_4096 = {PROTOBUF_C_MESSAGE_INIT(&grpc__posixrlimit__descriptor),
					   "RLIMIT_CORE", 4096, 1024};
static Grpc__POSIXRlimit *core_rl[] = {&core_1024_4096};

/* The report's rlimit.CORE of a container run to its end. */
static char *run_core(struct ctr_env *e, const char *cid, bool with_rlimit, char **msg, int *code)
{
	const char *args[] = {"report", NULL};
	struct ctr_spec *s = ctr_spec_new(e, cid, args);
	Grpc__Spec *spec = ctr_spec_get(s);
	char *value = NULL;

	if (with_rlimit) {
		spec->process->rlimits = core_rl;
		spec->process->n_rlimits = 1;
	}
	*code = ctr_create(e, cid, spec, msg);
	if (*code == 0) {
		free(*msg);
		*code = ctr_start(e, cid, msg);
	}
	if (*code == 0) {
		char *out = ctr_read_all(e, cid, cid, false, NULL);
		ctr_wait(e, cid, cid);
		value = ctr_report_value(out, "rlimit.CORE");
		free(out);
	}
	ctr_spec_free(s);
	return value;
}

/* An exec's rlimit.CORE in a running container. */
static char *exec_core(struct ctr_env *e, const char *cid, const char *eid, bool with_rlimit)
{
	const char *args[] = {"report", NULL};
	Grpc__Process *p = ctr_process_new(args);
	char *value = NULL, *msg = NULL;

	if (with_rlimit) {
		p->rlimits = core_rl;
		p->n_rlimits = 1;
	}
	int code = ctr_exec(e, cid, eid, p, &msg);
	if (code == 0) {
		char *out = ctr_read_all(e, cid, eid, false, NULL);
		ctr_wait(e, cid, eid);
		value = ctr_report_value(out, "rlimit.CORE");
		free(out);
	} else {
		fprintf(stderr, "ExecProcess %s: code %d: %s\n", eid, code, msg ? msg : "");
	}
	free(msg);
	p->rlimits = NULL;
	p->n_rlimits = 0;
	ctr_process_free(p);
	return value;
}

static void check(const char *what, const char *got, const char *want)
{
	if (!got || strcmp(got, want) != 0)
		FAIL("%s: core limit %s, want %s", what, got ? got : "(none)", want);
}

static void core_limits(const char *cmdline, const char *agent_want)
{
	struct ctr_env e;
	char *msg[3] = {NULL};
	int code[3] = {-1, -1, -1};
	char agent_core[64];

	prepare();
	ctr_env_setup_cmdline(&e, false, cmdline);
	bool cap = agent_has_cap(e.agent.pid, CAP_SYS_RESOURCE_BIT);
	proc_core_limit(e.agent.pid, agent_core, sizeof(agent_core));
	char *spec_core = run_core(&e, "spec", true, &msg[0], &code[0]);
	char *dflt_core = run_core(&e, "dflt", false, &msg[1], &code[1]);
	const char *sleep_args[] = {"sleep", "60", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "ex", sleep_args);
	char *exec_dflt = NULL, *exec_spec = NULL;
	code[2] = ctr_create(&e, "ex", ctr_spec_get(s), &msg[2]);
	if (code[2] == 0) {
		free(msg[2]);
		code[2] = ctr_start(&e, "ex", &msg[2]);
	}
	if (code[2] == 0) {
		exec_dflt = exec_core(&e, "ex", "x1", false);
		exec_spec = exec_core(&e, "ex", "x2", true);
	}
	ctr_spec_free(s);
	ctr_remove(&e, "spec");
	ctr_remove(&e, "dflt");
	ctr_remove(&e, "ex");
	ctr_env_teardown(&e);

	ASSERT_FALSE(cap);
	ASSERT_STREQ(agent_core, agent_want);
	static const char *const calls[] = {"spec", "dflt", "ex"};
	for (int i = 0; i < 3; i++)
		if (code[i] != 0)
			FAIL("container %s: code %d: %s", calls[i], code[i], msg[i] ? msg[i] : "");
	check("spec RLIMIT_CORE 1024/4096", spec_core, "1024:4096");
	check("no rlimits in the spec", dflt_core, "0:unlimited");
	check("exec without rlimits", exec_dflt, "0:unlimited");
	check("exec with RLIMIT_CORE 1024/4096", exec_spec, "1024:4096");
	free(spec_core);
	free(dflt_core);
	free(exec_dflt);
	free(exec_spec);
	for (int i = 0; i < 3; i++)
		free(msg[i]);
}

/* Outside devmode the agent itself dumps no core (soft 0) but keeps the hard limit. */
TEST_TIMEOUT(core_limits_without_cap_sys_resource, 90)
{
	core_limits("", "0:unlimited");
}

/* In devmode the agent may dump core; containers get the same as outside it. */
TEST_TIMEOUT(core_limits_in_devmode, 90)
{
	core_limits("agent.devmode", "unlimited:unlimited");
}
