/* SPDX-License-Identifier: Apache-2.0 */
#include "itest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "health.pb-c.h"
#include <protobuf-c/protobuf-c.h>
#include "ttrpc-client.h"

const char *itest_agent_bin(void)
{
	const char *b = getenv("KATA_AGENT_BIN");
	return b && *b ? b : "build/kata-agent";
}

int itest_connect(const struct itest_agent *a)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a->sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

void itest_agent_start(struct itest_agent *a, const char *const *extra_env,
		       const char *const *extra_args)
{
	itest_agent_start_at(a, NULL, extra_env, extra_args);
}

static void start(struct itest_agent *a, const char *addr_override, const char *const *extra_env,
		  const char *const *extra_args, const char *cmdline_text);

void itest_agent_start_at(struct itest_agent *a, const char *addr_override,
			  const char *const *extra_env, const char *const *extra_args)
{
	start(a, addr_override, extra_env, extra_args, "console=ttyS0 quiet");
}

void itest_agent_start_cmdline(struct itest_agent *a, const char *cmdline_text)
{
	start(a, NULL, NULL, NULL, cmdline_text);
}

static void start(struct itest_agent *a, const char *addr_override, const char *const *extra_env,
		  const char *const *extra_args, const char *cmdline_text)
{
	memset(a, 0, sizeof(*a));
	/* Inside the test's scratch directory, which the harness removes however the test ends. */
	const char *scratch = test_scratch_dir();
	snprintf(a->dir, sizeof(a->dir), "%s/agent.XXXXXX", scratch ? scratch : "/tmp");
	if (!mkdtemp(a->dir))
		FAIL("mkdtemp: %s", strerror(errno));
	snprintf(a->sock, sizeof(a->sock), "%s/agent.sock", a->dir);
	if (addr_override)
		snprintf(a->addr, sizeof(a->addr), "%s", addr_override);
	else
		snprintf(a->addr, sizeof(a->addr), "unix://%s", a->sock);
	snprintf(a->log, sizeof(a->log), "%s/agent.log", a->dir);
	char cmdline[128];
	snprintf(cmdline, sizeof(cmdline), "%s/cmdline", a->dir);
	FILE *f = fopen(cmdline, "w");
	if (!f)
		FAIL("cannot write %s", cmdline);
	fprintf(f, "%s\n", cmdline_text);
	fclose(f);

	if (access(itest_agent_bin(), X_OK) < 0)
		FAIL("agent binary %s not found (set KATA_AGENT_BIN)", itest_agent_bin());

	a->pid = fork();
	if (a->pid < 0)
		FAIL("fork: %s", strerror(errno));
	if (a->pid == 0) {
		int lfd = open(a->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (lfd < 0)
			_exit(127);
		dup2(lfd, 2);
		int nfd = open("/dev/null", O_RDWR);
		dup2(nfd, 0);
		dup2(nfd, 1);
		setenv("KATA_AGENT_SERVER_ADDR", a->addr, 1);
		setenv("KATA_AGENT_LOG_LEVEL", "debug", 1);
		for (size_t i = 0; extra_env && extra_env[i]; i++)
			putenv((char *)extra_env[i]);
		const char *argv[32] = {itest_agent_bin(), "--cmdline-file", cmdline};
		size_t n = 3;
		for (size_t i = 0; extra_args && extra_args[i] && n < 31; i++)
			argv[n++] = extra_args[i];
		argv[n] = NULL;
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	unsigned scale = test_time_scale();
	if (addr_override) {
		for (unsigned i = 0; i < 1000 * scale; i++) {
			if (itest_log_contains(a, "agent ready"))
				return;
			int st;
			if (waitpid(a->pid, &st, WNOHANG) == a->pid) {
				a->pid = 0;
				FAIL("agent exited during start-up (status 0x%x); see %s", st,
				     a->log);
			}
			usleep(5000);
		}
		FAIL("agent did not log readiness within %u s; see %s", 5 * scale, a->log);
	}
	for (unsigned i = 0; i < 1000 * scale; i++) {
		int fd = itest_connect(a);
		if (fd >= 0) {
			close(fd);
			return;
		}
		int st;
		if (waitpid(a->pid, &st, WNOHANG) == a->pid) {
			a->pid = 0;
			FAIL("agent exited during start-up (status 0x%x); see %s", st, a->log);
		}
		usleep(5000);
	}
	FAIL("agent did not accept on %s within %u s", a->sock, 5 * scale);
}

void itest_agent_stop(struct itest_agent *a)
{
	if (a->pid <= 0)
		return;
	kill(a->pid, SIGTERM);
	int st = 0;
	unsigned scale = test_time_scale();
	for (unsigned i = 0; i < 500 * scale; i++) {
		if (waitpid(a->pid, &st, WNOHANG) == a->pid) {
			a->pid = 0;
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				FAIL("agent did not exit cleanly: status 0x%x; see %s", st, a->log);
			return;
		}
		usleep(10000);
	}
	kill(a->pid, SIGKILL);
	waitpid(a->pid, &st, 0);
	a->pid = 0;
	FAIL("agent did not stop within %u s of SIGTERM", 5 * scale);
}

int itest_fd_count(pid_t pid)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/fd", pid);
	DIR *d = opendir(p);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int itest_fd_count_settled(pid_t pid)
{
	int prev = itest_fd_count(pid);
	for (int i = 0; i < 100; i++) {
		usleep(20000);
		int n = itest_fd_count(pid);
		if (n == prev)
			return n;
		prev = n;
	}
	return prev;
}

long itest_rss_kib(pid_t pid)
{
	char p[64], line[256];
	snprintf(p, sizeof(p), "/proc/%d/status", pid);
	FILE *f = fopen(p, "r");
	long kib = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

bool itest_alive(pid_t pid)
{
	return pid > 0 && kill(pid, 0) == 0;
}

bool itest_log_contains(const struct itest_agent *a, const char *s)
{
	FILE *f = fopen(a->log, "r");
	if (!f)
		return false;
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	while (!found && getline(&line, &cap, f) > 0)
		found = strstr(line, s) != NULL;
	free(line);
	fclose(f);
	return found;
}

double itest_cpu_seconds(pid_t pid)
{
	char p[64], buf[1024];
	snprintf(p, sizeof(p), "/proc/%d/stat", pid);
	FILE *f = fopen(p, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* Fields after the command name, which is in parentheses and may hold spaces. */
	char *q = strrchr(buf, ')');
	unsigned long utime = 0, stime = 0;
	if (!q || sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
			 &stime) != 2)
		return -1;
	return (double)(utime + stime) / sysconf(_SC_CLK_TCK);
}

void itest_check_serving(struct ttrpc_client *c)
{
	struct ttrpc_reply r = {0};
	_cleanup_error_ agent_error_t *err = NULL;
	if (ttrpc_client_call(c, "grpc.Health", "Check", NULL, 0, 0, NULL, 0, &r, &err) < 0)
		FAIL("Check: %s", err ? err->msg : "?");
	if (r.code != 0)
		FAIL("Check answered %d: %s", r.code, r.message);
	Grpc__HealthCheckResponse *resp =
		grpc__health_check_response__unpack(NULL, r.len, r.payload);
	ASSERT_NOT_NULL(resp);
	ASSERT_EQ(resp->status, GRPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
	grpc__health_check_response__free_unpacked(resp, NULL);
	ttrpc_reply_clear(&r);
}

unsigned itest_send(struct ttrpc_client *c, const char *method, const struct ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	_cleanup_free_ uint8_t *buf = malloc(len ? len : 1);
	_cleanup_error_ agent_error_t *err = NULL;
	uint32_t sid = 0;

	ASSERT_NOT_NULL(buf);
	protobuf_c_message_pack(m, buf);
	if (ttrpc_client_send(c, "grpc.AgentService", method, buf, len, 0, NULL, 0, &sid, &err) < 0)
		FAIL("%s: %s", method, err ? err->msg : "?");
	return sid;
}

double itest_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}
