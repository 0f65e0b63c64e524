/* SPDX-License-Identifier: Apache-2.0 */
/* The mem-agent (agent.mem_agent_enable) through the real agent on a unix socket. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "harness.h"
#include "itest.h"
#include "ttrpc-client.h"

/*
 * An enabled mem agent switches MGLRU on and mounts debugfs when the kernel has MGLRU
 * (as upstream's does, for its memcg reclaim): on such a machine these tests would
 * change it, unless that is already so. Tested in the VM instead (tests/vm/steps-ephem.sh).
 */
static void skip_unless_mglru_untouched(void)
{
	char buf[32] = "";
	FILE *f = fopen("/sys/kernel/mm/lru_gen/enabled", "re");
	if (!f)
		return; /* no MGLRU: memcg reclaim stays off, nothing is touched */
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	if (strtoul(buf, NULL, 16) != 7 || access("/sys/kernel/debug/lru_gen", W_OK) < 0)
		SKIP("this kernel has MGLRU (not all on, or no debugfs): the mem agent would "
		     "switch it on; its memcg reclaim is tested in the VM");
}

static void expect_code(struct ttrpc_client *c, const char *method, const ProtobufCMessage *req,
			int code, const char *substr)
{
	_cleanup_error_ agent_error_t *err = NULL;
	ProtobufCMessage *resp = NULL;
	int32_t got = 0;
	char *text = NULL;
	if (ttrpc_client_call_msg(c, "grpc.AgentService", method, req,
				  &google__protobuf__empty__descriptor, &resp, &got, &text,
				  10ll * 1000 * 1000 * 1000, &err) < 0)
		FAIL("%s: %s", method, err->msg);
	if (got != code || !strstr(text ? text : "", substr))
		FAIL("%s answered %d \"%s\", expected %d with \"%s\"", method, got,
		     text ? text : "", code, substr);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	free(text);
}

/* How many times s occurs in the agent's log. */
static int log_count(const struct itest_agent *a, const char *s)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(a->log, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, s))
			n++;
	fclose(f);
	return n;
}

static unsigned long long vmstat(const char *key)
{
	char name[64];
	unsigned long long v, found = 0;
	FILE *f = fopen("/proc/vmstat", "re");
	ASSERT_NOT_NULL(f);
	while (fscanf(f, "%63s %llu", name, &v) == 2)
		if (strcmp(name, key) == 0)
			found = v;
	fclose(f);
	return found;
}

TEST_TIMEOUT(compaction_every_second_while_serving, 40)
{
	if (access("/proc/pressure/memory", R_OK) < 0 || access("/proc/pressure/io", R_OK) < 0)
		SKIP("no /proc/pressure (kernel without PSI): the mem-agent does not start");
	if (access("/proc/sys/vm/compact_memory", W_OK) < 0)
		SKIP("no /proc/sys/vm/compact_memory (kernel without CONFIG_COMPACTION)");
	struct itest_agent a;
	skip_unless_mglru_untouched();
	itest_agent_start_cmdline(&a, "agent.mem_agent_enable=1");
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	ASSERT_TRUE(itest_log_contains(&a, "mem-agent started"));
	unsigned long long scanned0 = vmstat("compact_migrate_scanned");

	Grpc__MemAgentCompactConfig cc = GRPC__MEM_AGENT_COMPACT_CONFIG__INIT;
	cc._period_psi_percent_limit_case =
		GRPC__MEM_AGENT_COMPACT_CONFIG___PERIOD_PSI_PERCENT_LIMIT_PERIOD_PSI_PERCENT_LIMIT;
	cc.period_psi_percent_limit = 101;
	expect_code(c, "MemAgentCompactSet", &cc.base, 3, "period_psi_percent_limit");

	/* every second, forced; no PSI gate, so a loaded test machine does not skip rounds */
	cc.period_psi_percent_limit = 100;
	cc._compact_psi_percent_limit_case =
		GRPC__MEM_AGENT_COMPACT_CONFIG___COMPACT_PSI_PERCENT_LIMIT_COMPACT_PSI_PERCENT_LIMIT;
	cc.compact_psi_percent_limit = 100;
	cc._period_secs_case = GRPC__MEM_AGENT_COMPACT_CONFIG___PERIOD_SECS_PERIOD_SECS;
	cc.period_secs = 1;
	cc._compact_force_times_case =
		GRPC__MEM_AGENT_COMPACT_CONFIG___COMPACT_FORCE_TIMES_COMPACT_FORCE_TIMES;
	cc.compact_force_times = 0;
	expect_code(c, "MemAgentCompactSet", &cc.base, 0, "");

	/* the default period is 10 min: three forced compactions prove the 1 s period */
	double end = itest_now_s() + 10;
	while (log_count(&a, "compaction done") < 3 && itest_now_s() < end) {
		itest_check_serving(c);
		usleep(100 * 1000);
	}
	if (log_count(&a, "compaction done") < 3)
		FAIL("%d compactions in 10 s", log_count(&a, "compaction done"));
	ASSERT_TRUE(itest_log_contains(&a, "compaction started, forced"));
	ASSERT_TRUE(vmstat("compact_migrate_scanned") > scanned0);
	itest_check_serving(c);

	/* disabled: rounds stop */
	Grpc__MemAgentCompactConfig off = GRPC__MEM_AGENT_COMPACT_CONFIG__INIT;
	off._disabled_case = GRPC__MEM_AGENT_COMPACT_CONFIG___DISABLED_DISABLED;
	off.disabled = true;
	expect_code(c, "MemAgentCompactSet", &off.base, 0, "");
	usleep(1500 * 1000); /* a compaction under way ends */
	int n = log_count(&a, "compaction started");
	usleep(2500 * 1000);
	ASSERT_EQ(log_count(&a, "compaction started"), n);

	/* memcg reclaim: without MGLRU it cannot run, and says so */
	Grpc__MemAgentMemcgConfig mc = GRPC__MEM_AGENT_MEMCG_CONFIG__INIT;
	mc._period_secs_case = GRPC__MEM_AGENT_MEMCG_CONFIG___PERIOD_SECS_PERIOD_SECS;
	mc.period_secs = 60;
	if (access("/sys/kernel/mm/lru_gen/enabled", F_OK) < 0)
		expect_code(c, "MemAgentMemcgSet", &mc.base, 12, "no MGLRU");
	itest_check_serving(c);
	itest_agent_stop(&a);
}

TEST(disabled_answers_as_upstream)
{
	struct itest_agent a;
	itest_agent_start(&a, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	Grpc__MemAgentCompactConfig cc = GRPC__MEM_AGENT_COMPACT_CONFIG__INIT;
	cc._period_secs_case = GRPC__MEM_AGENT_COMPACT_CONFIG___PERIOD_SECS_PERIOD_SECS;
	cc.period_secs = 1;
	expect_code(c, "MemAgentCompactSet", &cc.base, 13, "mem-agent is disabled");
	Grpc__MemAgentMemcgConfig mc = GRPC__MEM_AGENT_MEMCG_CONFIG__INIT;
	expect_code(c, "MemAgentMemcgSet", &mc.base, 13, "mem-agent is disabled");
	ASSERT_FALSE(itest_log_contains(&a, "compaction"));
	itest_agent_stop(&a);
}

/* agent.mem_agent_compact_* on the command line tune the compaction from the start. */
TEST_TIMEOUT(compaction_tuned_from_the_command_line, 40)
{
	if (access("/proc/pressure/memory", R_OK) < 0 || access("/proc/pressure/io", R_OK) < 0)
		SKIP("no /proc/pressure (kernel without PSI): the mem-agent does not start");
	if (access("/proc/sys/vm/compact_memory", W_OK) < 0)
		SKIP("no /proc/sys/vm/compact_memory (kernel without CONFIG_COMPACTION)");
	struct itest_agent a;
	skip_unless_mglru_untouched();
	itest_agent_start_cmdline(&a,
				  "agent.mem_agent_enable=1 agent.mem_agent_compact_period_secs=1 "
				  "agent.mem_agent_compact_force_times=0 "
				  "agent.mem_agent_compact_period_psi_percent_limit=100 "
				  "agent.mem_agent_compact_psi_percent_limit=100");
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	ASSERT_TRUE(itest_log_contains(&a, "compaction every 1 s"));
	double end = itest_now_s() + 10;
	while (log_count(&a, "compaction done") < 2 && itest_now_s() < end) {
		itest_check_serving(c);
		usleep(100 * 1000);
	}
	if (log_count(&a, "compaction done") < 2)
		FAIL("%d compactions in 10 s", log_count(&a, "compaction done"));
	c = ttrpc_client_free(c);
	itest_agent_stop(&a);
}
