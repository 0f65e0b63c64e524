/* SPDX-License-Identifier: Apache-2.0 */
/* Integration tests: start the real agent binary on a unix socket in a fresh directory. */
#ifndef AGENT_ITEST_H
#define AGENT_ITEST_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

struct ttrpc_client;
struct ProtobufCMessage;

struct itest_agent {
	pid_t pid;
	char dir[64];
	char sock[108]; /* fits sockaddr_un */
	char addr[128];
	char log[128];
};

/*
 * Starts $KATA_AGENT_BIN (default build/kata-agent) with its API on
 * unix://DIR/agent.sock, an empty kernel command line, debug logs in DIR/agent.log,
 * and waits until it accepts. DIR is a fresh directory in the test's scratch directory
 * (test_scratch_dir()), which the harness removes when the test ends, however it ends.
 * extra_env/extra_args: NULL-terminated, may be NULL.
 */
/* $KATA_AGENT_BIN, else build/kata-agent. */
const char *itest_agent_bin(void);
void itest_agent_start(struct itest_agent *a, const char *const *extra_env,
		       const char *const *extra_args);
/* The same at another address; waits for the "agent ready" log line instead of a connect. */
/* itest_agent_start with this kernel command line (a file in the agent's directory). */
void itest_agent_start_cmdline(struct itest_agent *a, const char *cmdline_text);
void itest_agent_start_at(struct itest_agent *a, const char *addr, const char *const *extra_env,
			  const char *const *extra_args);
/* CLOCK_MONOTONIC in seconds. */
double itest_now_s(void);
/* CPU time (user + system) the process used so far, in seconds. */
double itest_cpu_seconds(pid_t pid);
/* SIGTERM, waits, and asserts a clean exit (status 0). */
void itest_agent_stop(struct itest_agent *a);
/* Connects to the agent's socket (blocking, CLOEXEC). */
int itest_connect(const struct itest_agent *a);
/* Calls Health.Check and asserts SERVING. */
void itest_check_serving(struct ttrpc_client *c);
/* Open fds of the agent process. */
int itest_fd_count(pid_t pid);
/* The fd count once it stops changing (connections just closed are processed). */
int itest_fd_count_settled(pid_t pid);
/* Resident set size in KiB. */
long itest_rss_kib(pid_t pid);
bool itest_alive(pid_t pid);
/* Whether the agent's log contains s. */
bool itest_log_contains(const struct itest_agent *a, const char *s);

/*
 * Sends an AgentService request without waiting for its answer (a call that waits
 * for a device, say); the stream id, for ttrpc_client_recv.
 */
unsigned itest_send(struct ttrpc_client *c, const char *method, const struct ProtobufCMessage *m);

#endif
