// SPDX-License-Identifier: Apache-2.0
/*
 * The test payload: a small static program run inside test containers. It
 * reports what it sees from inside (report) and does what a test needs
 * (exit, sleep, write output, daemonise, allocate, try syscalls). Steps are
 * separated by "--" and run in order:  payload echo hi -- exit 3
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			exit(120);
		buf += n;
		len -= n;
	}
}

static void status_line(const char *key, const char *out)
{
	char line[512];
	FILE *f = fopen("/proc/self/status", "r");
	size_t kl = strlen(key);

	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			char *v = line + kl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			printf("%s=%s", out, v);
		}
	}
	if (f)
		fclose(f);
}

static void print_rlimit(const char *name, int res)
{
	struct rlimit rl;
	char s[32], h[32];

	if (getrlimit(res, &rl) < 0)
		return;
	if (rl.rlim_cur == RLIM_INFINITY)
		snprintf(s, sizeof(s), "unlimited");
	else
		snprintf(s, sizeof(s), "%llu", (unsigned long long)rl.rlim_cur);
	if (rl.rlim_max == RLIM_INFINITY)
		snprintf(h, sizeof(h), "unlimited");
	else
		snprintf(h, sizeof(h), "%llu", (unsigned long long)rl.rlim_max);
	printf("rlimit.%s=%s:%s\n", name, s, h);
}

static const char *fd_kind(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return "closed";
	if (S_ISFIFO(st.st_mode))
		return "pipe";
	if (S_ISCHR(st.st_mode))
		return "chr";
	if (S_ISREG(st.st_mode))
		return "reg";
	if (S_ISSOCK(st.st_mode))
		return "sock";
	return "other";
}

static void report(void)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	gid_t groups[256];
	char buf[4096], line[4096];
	int n;
	mode_t um;

	getresuid(&ruid, &euid, &suid);
	getresgid(&rgid, &egid, &sgid);
	printf("pid=%d\nppid=%d\n", getpid(), getppid());
	printf("uid=%u\neuid=%u\nsuid=%u\ngid=%u\negid=%u\n", ruid, euid, suid, rgid, egid);
	n = getgroups(256, groups);
	printf("groups=");
	for (int i = 0; i < n; i++)
		printf("%s%u", i ? "," : "", groups[i]);
	printf("\n");
	um = umask(0);
	umask(um);
	printf("umask=%04o\n", um);
	printf("cwd=%s\n", getcwd(buf, sizeof(buf)) ? buf : "?");
	gethostname(buf, sizeof(buf));
	printf("hostname=%s\n", buf);
	if (getdomainname(buf, sizeof(buf)) == 0)
		printf("domainname=%s\n", buf);
	printf("no_new_privs=%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	status_line("Seccomp", "seccomp");
	status_line("CapInh", "cap_inh");
	status_line("CapPrm", "cap_prm");
	status_line("CapEff", "cap_eff");
	status_line("CapBnd", "cap_bnd");
	status_line("CapAmb", "cap_amb");
	print_rlimit("NOFILE", RLIMIT_NOFILE);
	print_rlimit("NPROC", RLIMIT_NPROC);
	print_rlimit("CORE", RLIMIT_CORE);
	print_rlimit("MEMLOCK", RLIMIT_MEMLOCK);
	print_rlimit("STACK", RLIMIT_STACK);
	for (char **e = environ; *e; e++)
		printf("env.%s\n", *e);
	FILE *f = fopen("/proc/self/mountinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		/* id parent major:minor root mountpoint options ... - fstype source super */
		char *fields[6], *p = line, *dash = strstr(line, " - ");
		int k = 0;
		if (!dash)
			continue;
		for (; k < 6 && p; k++)
			fields[k] = strsep(&p, " ");
		char fstype[64] = "";
		sscanf(dash + 3, "%63s", fstype);
		if (k == 6)
			printf("mount=%s %s %s\n", fields[4], fstype, fields[5]);
	}
	if (f)
		fclose(f);
	static const char *const nss[] = {"cgroup", "ipc", "mnt", "net", "pid", "user", "uts"};
	for (size_t i = 0; i < sizeof(nss) / sizeof(nss[0]); i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/ns/%s", nss[i]);
		ssize_t l = readlink(path, buf, sizeof(buf) - 1);
		if (l > 0) {
			buf[l] = 0;
			printf("ns.%s=%s\n", nss[i], buf);
		}
	}
	f = fopen("/proc/self/cgroup", "r");
	while (f && fgets(line, sizeof(line), f))
		printf("cgroup=%s", line);
	if (f)
		fclose(f);
	f = fopen("/proc/self/oom_score_adj", "r");
	if (f && fgets(line, sizeof(line), f))
		printf("oom_score_adj=%s", line);
	if (f)
		fclose(f);
	printf("tty=%d\n", isatty(0));
	printf("stdin_is=%s\n", fd_kind(0));
	fflush(stdout);
}

static void write_pattern(int fd, long long n)
{
	static const char pat[] = "0123456789abcdef";
	char buf[65536];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = pat[i % 16];
	while (n > 0) {
		size_t chunk = n > (long long)sizeof(buf) ? sizeof(buf) : (size_t)n;
		write_all(fd, buf, chunk);
		n -= chunk;
	}
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void on_term(int sig)
{
	static const char msg[] = "got SIGTERM\n";
	write_all(1, msg, sizeof(msg) - 1);
	_exit(0);
}

static const char *need(char **argv, int i, const char *cmd)
{
	if (!argv[i]) {
		fprintf(stderr, "payload: %s needs an argument\n", cmd);
		exit(127);
	}
	return argv[i];
}

/* Runs one step starting at argv[i]; returns the index after its arguments. */
static int step(char **argv, int i)
{
	const char *cmd = argv[i++];

	fflush(stdout);
	if (!strcmp(cmd, "report")) {
		report();
	} else if (!strcmp(cmd, "exit")) {
		fflush(stdout);
		exit(atoi(need(argv, i, cmd)));
	} else if (!strcmp(cmd, "sleep")) {
		sleep_s(atof(need(argv, i++, cmd)));
	} else if (!strcmp(cmd, "write-stdout") || !strcmp(cmd, "write-stderr")) {
		write_pattern(cmd[6] == 's' && cmd[9] == 'o' ? 1 : 2, atoll(need(argv, i++, cmd)));
	} else if (!strcmp(cmd, "write-stdout-1m")) {
		/* The same pattern, 1 MiB per write(): a producer that a pipe, not it, limits. */
		long long n = atoll(need(argv, i++, cmd));
		static char big[1 << 20];
		for (size_t k = 0; k < sizeof(big); k++)
			big[k] = "0123456789abcdef"[k % 16];
		while (n > 0) {
			size_t chunk = n > (long long)sizeof(big) ? sizeof(big) : (size_t)n;
			write_all(1, big, chunk);
			n -= chunk;
		}
	} else if (!strcmp(cmd, "cat")) {
		char buf[65536];
		ssize_t n;
		while ((n = read(0, buf, sizeof(buf))) > 0)
			write_all(1, buf, n);
	} else if (!strcmp(cmd, "echo")) {
		printf("%s\n", need(argv, i++, cmd));
	} else if (!strcmp(cmd, "echo-err")) {
		fprintf(stderr, "%s\n", need(argv, i++, cmd));
	} else if (!strcmp(cmd, "daemon")) {
		double s = atof(need(argv, i++, cmd));
		pid_t pid = fork();
		if (pid == 0) {
			if (fork() == 0) {
				setsid();
				sleep_s(s);
			}
			_exit(0);
		}
		waitpid(pid, NULL, 0);
	} else if (!strcmp(cmd, "alloc")) {
		long mb = atol(need(argv, i++, cmd));
		for (long k = 0; k < mb; k++) {
			char *p = malloc(1 << 20);
			if (!p)
				exit(121);
			memset(p, 0x5a, 1 << 20);
		}
		sleep_s(60);
	} else if (!strcmp(cmd, "syscall-getcwd")) {
		char buf[256];
		if (getcwd(buf, sizeof(buf)))
			printf("getcwd=ok\n");
		else
			printf("getcwd=errno %d\n", errno);
	} else if (!strcmp(cmd, "open")) {
		const char *p = need(argv, i++, cmd);
		int fd = open(p, O_RDONLY);
		if (fd >= 0)
			printf("open %s=ok\n", p);
		else
			printf("open %s=errno %d\n", p, errno);
		if (fd >= 0)
			close(fd);
	} else if (!strcmp(cmd, "write-file")) {
		const char *p = need(argv, i++, cmd), *t = need(argv, i++, cmd);
		int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, t, strlen(t)) < 0)
			printf("write %s=errno %d\n", p, errno);
		else
			printf("write %s=ok\n", p);
		if (fd >= 0)
			close(fd);
	} else if (!strcmp(cmd, "read-file")) {
		char buf[65536];
		int fd = open(need(argv, i++, cmd), O_RDONLY);
		ssize_t n;
		while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
			fwrite(buf, 1, n, stdout);
		if (fd >= 0)
			close(fd);
	} else if (!strcmp(cmd, "kill-self")) {
		fflush(stdout);
		kill(getpid(), atoi(need(argv, i++, cmd)));
	} else if (!strcmp(cmd, "pipe-size")) {
		printf("pipe_size=%d\n", fcntl(1, F_GETPIPE_SZ));
	} else if (!strcmp(cmd, "signals")) {
		status_line("SigIgn", "sigign");
		status_line("SigCgt", "sigcgt");
	} else if (!strcmp(cmd, "wait-signal")) {
		signal(SIGTERM, on_term);
		for (;;)
			pause();
	} else if (!strcmp(cmd, "ls")) {
		DIR *d = opendir(need(argv, i++, cmd));
		struct dirent *e;
		while (d && (e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				printf("ls=%s\n", e->d_name);
		if (d)
			closedir(d);
	} else {
		fprintf(stderr, "payload: unknown step \"%s\"\n", cmd);
		exit(127);
	}
	fflush(stdout);
	if (argv[i] && strcmp(argv[i], "--") == 0)
		i++;
	return i;
}

int main(int argc, char **argv)
{
	int i = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: payload STEP [ARGS] [-- STEP [ARGS]]...\n");
		return 127;
	}
	while (i < argc)
		i = step(argv, i);
	fflush(stdout);
	return 0;
}
