// SPDX-License-Identifier: Apache-2.0
/*
 * Waiting for hot-plugged devices: UpdateInterface with a devicePath whose
 * NIC never comes fails within agent.hotplug_timeout with DEADLINE_EXCEEDED
 * naming it, and other calls are served meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "harness.h"
#include "itest.h"
#include "ttrpc-client.h"

TEST_TIMEOUT(device_path_that_never_comes_times_out, 60)
{
	struct stat st;
	if (stat("/sys/devices/pci0000:00", &st) < 0)
		SKIP("no PCI root bus in this machine's sysfs");
	struct itest_agent a;
	itest_agent_start_cmdline(&a, "agent.hotplug_timeout=700ms");
	struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));

	/* Slot 1f on the root bus: nothing there, nothing will come. */
	Grpc__UpdateInterfaceRequest req = GRPC__UPDATE_INTERFACE_REQUEST__INIT;
	Types__Interface in = TYPES__INTERFACE__INIT;
	in.name = "eth9";
	in.hwaddr = "02:00:00:00:00:09";
	in.devicepath = "1f";
	req.interface = &in;
	agent_error_t *err = NULL;
	double t0 = itest_now_s();
	uint32_t sid = itest_send(c, "UpdateInterface", &req.base);
	/* Served while the wait goes on. */
	itest_check_serving(c);
	ASSERT_TRUE(itest_now_s() - t0 < 0.5);
	struct ttrpc_reply r = {0};
	ASSERT_EQ(ttrpc_client_recv(c, sid, 5000, &r, &err), 0);
	double took = itest_now_s() - t0;
	ASSERT_EQ(r.code, 4); /* DEADLINE_EXCEEDED */
	ASSERT_NOT_NULL(strstr(r.message, "1f"));
	ASSERT_TRUE(took > 0.6 && took < 3);
	ttrpc_reply_clear(&r);

	/* A malformed path is refused at once. */
	in.devicepath = "zz/99";
	sid = itest_send(c, "UpdateInterface", &req.base);
	ASSERT_EQ(ttrpc_client_recv(c, sid, 5000, &r, &err), 0);
	ASSERT_EQ(r.code, 3);
	ttrpc_reply_clear(&r);
	c = ttrpc_client_free(c);
	itest_agent_stop(&a);
}

/* AddSwap's disk that never comes: DEADLINE_EXCEEDED in time, the loop free meanwhile. */
TEST_TIMEOUT(add_swap_waits_for_its_disk, 60)
{
	struct stat st;
	if (stat("/sys/devices/pci0000:00", &st) < 0)
		SKIP("no PCI root bus in this machine's sysfs");
	struct itest_agent a;
	itest_agent_start_cmdline(&a, "agent.hotplug_timeout=700ms");
	struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));

	Grpc__AddSwapRequest req = GRPC__ADD_SWAP_REQUEST__INIT;
	uint32_t slots[] = {0x1f};
	req.pcipath = slots;
	req.n_pcipath = 1;
	agent_error_t *err = NULL;
	double t0 = itest_now_s();
	uint32_t sid = itest_send(c, "AddSwap", &req.base);
	itest_check_serving(c);
	ASSERT_TRUE(itest_now_s() - t0 < 0.5);
	struct ttrpc_reply r = {0};
	ASSERT_EQ(ttrpc_client_recv(c, sid, 5000, &r, &err), 0);
	double took = itest_now_s() - t0;
	ASSERT_EQ(r.code, 4); /* DEADLINE_EXCEEDED */
	ASSERT_NOT_NULL(strstr(r.message, "1f"));
	ASSERT_TRUE(took > 0.6 && took < 3);
	ttrpc_reply_clear(&r);
	c = ttrpc_client_free(c);
	itest_agent_stop(&a);
}

/*
 * The agent stops (SIGTERM) while AddSwap and OnlineCPUMem wait: ending them at
 * shutdown (their device wait and round timer dropped) must not crash or touch
 * freed state, which ASan catches in the san run. Their answers cannot be seen:
 * the connection is gone by then.
 */
TEST_TIMEOUT(agent_stops_cleanly_with_guest_calls_waiting, 60)
{
	struct stat st;
	if (stat("/sys/devices/pci0000:00", &st) < 0)
		SKIP("no PCI root bus in this machine's sysfs");
	struct itest_agent a;
	itest_agent_start_cmdline(&a, "agent.hotplug_timeout=30s");
	struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	Grpc__AddSwapRequest sw = GRPC__ADD_SWAP_REQUEST__INIT;
	uint32_t slots[] = {0x1f};
	sw.pcipath = slots;
	sw.n_pcipath = 1;
	itest_send(c, "AddSwap", &sw.base);
	Grpc__OnlineCPUMemRequest on = GRPC__ONLINE_CPUMEM_REQUEST__INIT;
	on.nb_cpus = 8191; /* more than will ever come here */
	on.cpu_only = true;
	itest_send(c, "OnlineCPUMem", &on.base);
	itest_check_serving(c);
	c = ttrpc_client_free(c);
	itest_agent_stop(&a); /* FAILs unless the agent exits 0 */
}
