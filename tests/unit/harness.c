/* SPDX-License-Identifier: Apache-2.0 */
#include "harness.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct test_case *tests_head, **tests_tail = &tests_head;

void test_register(struct test_case *tc)
{
	*tests_tail = tc;
	tests_tail = &tc->next;
}

void test_fail_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	_exit(1);
}

void test_skip(const char *fmt, ...)
{
	va_list ap;
	printf("  skip reason: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	_exit(77);
}

unsigned test_time_scale(void)
{
	const char *v = getenv("TEST_TIME_SCALE");
	char *end = NULL;
	unsigned long n = v ? strtoul(v, &end, 10) : 1;

	return v && end != v && *end == '\0' && n >= 1 && n <= 100 ? (unsigned)n : 1;
}

void test_set_timeout(unsigned secs)
{
	alarm(secs * test_time_scale());
}

const char *test_scratch_dir(void)
{
	const char *d = getenv("TEST_SCRATCH_DIR");
	return d && *d ? d : NULL;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((type == FTW_DP ? rmdir(path) : unlink(path)) < 0)
		fprintf(stderr, "  harness: cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

/*
 * Removes a test's scratch directory, never crossing a mount point (a mount a test left there
 * in this mount namespace is reported, not descended into). Returns whether it is gone.
 */
static bool remove_scratch(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	if (access(dir, F_OK) == 0) {
		fprintf(stderr, "  harness: scratch directory %s left behind (a mount in it?)\n",
			dir);
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	unsigned passed = 0, failed = 0, skipped = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (struct test_case *tc = tests_head; tc; tc = tc->next) {
		if (filter && !strstr(tc->name, filter))
			continue;
		char scratch[] = "/tmp/kata-test.XXXXXX";
		if (!mkdtemp(scratch)) {
			perror("mkdtemp");
			return 2;
		}
		fflush(stdout);
		fflush(stderr);
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (pid == 0) {
			setpgid(0, 0);
			setenv("TEST_SCRATCH_DIR", scratch, 1);
			alarm(tc->timeout_s * test_time_scale());
			tc->fn();
			/* exit(), not _exit(): LeakSanitizer checks each test at its exit. */
			exit(0);
		}
		int st = 0;
		while (waitpid(pid, &st, 0) < 0)
			;
		/* Kill anything the test left behind in its process group. */
		kill(-pid, SIGKILL);
		bool clean = remove_scratch(scratch);
		if (!clean && WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 77)) {
			printf("FAIL %s (left files it could not remove in %s)\n", tc->name,
			       scratch);
			failed++;
		} else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			printf("PASS %s\n", tc->name);
			passed++;
		} else if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
			printf("SKIP %s\n", tc->name);
			skipped++;
		} else {
			if (WIFSIGNALED(st))
				printf("FAIL %s (signal %d%s)\n", tc->name, WTERMSIG(st),
				       WTERMSIG(st) == SIGALRM ? ", timeout" : "");
			else
				printf("FAIL %s (exit %d)\n", tc->name, WEXITSTATUS(st));
			failed++;
		}
	}
	printf("%u passed, %u failed, %u skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
