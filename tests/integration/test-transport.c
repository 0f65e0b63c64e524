/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Transports other than a filesystem unix socket: an abstract unix socket, a
 * serial port (a pty stands in for the virtio-serial port: one byte stream,
 * no accept), and vsock binding.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "harness.h"
#include "itest.h"
#include "ttrpc-client.h"

TEST(abstract_unix_socket)
{
	char addr[64];
	snprintf(addr, sizeof(addr), "unix://@kata-itest-%d", getpid());
	struct itest_agent a;
	itest_agent_start_at(&a, addr, NULL, NULL);
	_cleanup_error_ agent_error_t *err = NULL;
	int fd = ttrpc_dial(addr, 2000, &err);
	if (fd < 0)
		FAIL("dial %s: %s", addr, err->msg);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(fd);
	itest_check_serving(c);
	itest_agent_stop(&a);
}

static int open_pty(char *slave, size_t size)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
		FAIL("pty: %s", strerror(errno));
	if (ptsname_r(m, slave, size) != 0)
		FAIL("ptsname: %s", strerror(errno));
	struct termios t;
	ASSERT_EQ(tcgetattr(m, &t), 0);
	cfmakeraw(&t);
	ASSERT_EQ(tcsetattr(m, TCSANOW, &t), 0);
	return m;
}

TEST(serial_port_carries_calls)
{
	char slave[64], addr[96];
	int m = open_pty(slave, sizeof(slave));
	snprintf(addr, sizeof(addr), "serial://%s", slave);
	struct itest_agent a;
	itest_agent_start_at(&a, addr, NULL, NULL);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(m);
	for (int i = 0; i < 100; i++)
		itest_check_serving(c);
	/* Several calls in flight on the one stream, answered each on its own id. */
	uint32_t sids[20];
	for (int i = 0; i < 20; i++)
		ASSERT_EQ(ttrpc_client_send(c, "grpc.Health", "Version", NULL, 0, 0, NULL, 0,
					    &sids[i], NULL),
			  0);
	for (int i = 19; i >= 0; i--) {
		struct ttrpc_reply r = {0};
		ASSERT_EQ(ttrpc_client_recv(c, sids[i], 5000, &r, NULL), 0);
		ASSERT_EQ(r.code, 0);
		ttrpc_reply_clear(&r);
	}
	itest_agent_stop(&a);
}

/*
 * Under systemd the agent is not PID 1 and is started as soon as the basic system is up:
 * the virtio-serial port (its udev link) may come a moment later. The agent waits for it,
 * as it does as PID 1, instead of failing to start (which powers the VM off).
 */
TEST(serial_port_that_appears_late)
{
	char slave[64], addr[PATH_MAX], link[PATH_MAX - 16];
	int m = open_pty(slave, sizeof(slave));
	snprintf(link, sizeof(link), "%s/late-port", test_scratch_dir());
	snprintf(addr, sizeof(addr), "serial://%s", link);
	pid_t child = fork();
	ASSERT_TRUE(child >= 0);
	if (child == 0) {
		usleep(700 * 1000);
		_exit(symlink(slave, link) == 0 ? 0 : 1);
	}
	struct itest_agent a;
	itest_agent_start_at(&a, addr, NULL, NULL);
	int status;
	ASSERT_EQ(waitpid(child, &status, 0), child);
	ASSERT_EQ(status, 0);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(m);
	itest_check_serving(c);
	itest_agent_stop(&a);
}

/* With the host side gone the port reads hang-up forever: the agent must not spin. */
TEST(serial_port_hangup_does_not_spin)
{
	char slave[64], addr[96];
	int m = open_pty(slave, sizeof(slave));
	snprintf(addr, sizeof(addr), "serial://%s", slave);
	struct itest_agent a;
	itest_agent_start_at(&a, addr, NULL, NULL);
	struct ttrpc_client *c = ttrpc_client_new(m);
	itest_check_serving(c);
	ttrpc_client_free(c); /* closes the master: the slave now reads EIO / hang-up */
	usleep(200000);
	double before = itest_cpu_seconds(a.pid);
	sleep(2);
	double used = itest_cpu_seconds(a.pid) - before;
	ASSERT_TRUE(before >= 0);
	if (used > 0.2)
		FAIL("agent used %.2f s of CPU in 2 s with the serial host gone", used);
	ASSERT_TRUE(itest_alive(a.pid));
	itest_agent_stop(&a);
}

TEST(vsock_listener_binds)
{
	int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		SKIP("no AF_VSOCK on this kernel: %s", strerror(errno));
	close(s);
	char addr[64];
	unsigned port = 20000 + getpid() % 20000;
	snprintf(addr, sizeof(addr), "vsock://-1:%u", port);
	struct itest_agent a;
	itest_agent_start_at(&a, addr, NULL, NULL);
	/* Connecting locally needs vsock loopback, absent here: the bound listener is checked. */
	ASSERT_TRUE(itest_alive(a.pid));
	ASSERT_TRUE(itest_log_contains(&a, addr));
	itest_agent_stop(&a);
}

/* With agent.log_vport set and no reader, logs wait in a bounded buffer: the API never stalls. */
TEST(log_port_without_reader_never_blocks)
{
	int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		SKIP("no AF_VSOCK on this kernel: %s", strerror(errno));
	close(s);
	char path[] = "/tmp/kata-cmdline-XXXXXX";
	int fd = mkstemp(path);
	ASSERT_TRUE(fd >= 0);
	dprintf(fd, "agent.log=debug agent.log_vport=%u\n", 30000 + getpid() % 20000);
	close(fd);
	const char *args[] = {"--cmdline-file", path, NULL};
	struct itest_agent a;
	itest_agent_start(&a, (const char *[]){"KATA_AGENT_LOG_LEVEL=debug", NULL}, args);
	_cleanup_ttrpc_client_ struct ttrpc_client *c = ttrpc_client_new(itest_connect(&a));
	/* Each call logs a debug line: far more than the 256 KiB buffer holds. */
	for (int i = 0; i < 5000; i++)
		itest_check_serving(c);
	ASSERT_TRUE(itest_alive(a.pid));
	/* Nothing went to stderr: the log stream belongs to the (absent) port reader. */
	ASSERT_FALSE(itest_log_contains(&a, "rpc call from shim to agent"));
	itest_agent_stop(&a);
	unlink(path);
}
