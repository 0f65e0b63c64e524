// SPDX-License-Identifier: Apache-2.0
/*
 * watchable-bind through CreateContainer on the real agent: a configmap laid
 * out as the kubelet's atomic writer does is mirrored into a tmpfs, an update
 * of the source reaches the container within a second (inotify), a deletion
 * too; a source over the limits is bound instead; RemoveContainer takes the
 * mirror, the tmpfs and the inotify fd away; bad paths are refused.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctr.h"
#include "harness.h"

#define SHARED "/run/kata-containers/shared/containers"
#define WATCH_DIR SHARED "/watchable"

/* The mountinfo line whose mount point is path, or false. */
static bool mount_line(const char *path, char *ret, size_t size)
{
	char line[4096], want[4200];
	snprintf(want, sizeof(want), " %s ", path);
	FILE *f = fopen("/proc/self/mountinfo", "r");
	bool found = false;
	while (f && !found && fgets(line, sizeof(line), f)) {
		/* field 5 is the mount point */
		char *p = line;
		for (int i = 0; i < 4 && p; i++)
			p = strchr(p + 1, ' ');
		found = p && !strncmp(p, want, strlen(want));
		if (found && ret)
			snprintf(ret, size, "%s", line);
	}
	if (f)
		fclose(f);
	return found;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	fputs(text, f);
	ASSERT_EQ(fclose(f), 0);
}

static bool has_text(const char *path, const char *text)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return !strcmp(buf, text);
}

/* Seconds until the file at path reads text (or is gone when text is NULL); -1 after 5 s. */
static double wait_for(const char *path, const char *text)
{
	double t0 = itest_now_s();
	while (itest_now_s() - t0 < 5) {
		if (text ? has_text(path, text) : access(path, F_OK) < 0)
			return itest_now_s() - t0;
		usleep(10000);
	}
	return -1;
}

static int inotify_fds(pid_t pid)
{
	char dir[64], p[320], link[128];
	int n = 0;
	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	for (struct dirent *de; (de = readdir(d));) {
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		ssize_t k = readlink(p, link, sizeof(link) - 1);
		if (k > 0) {
			link[k] = 0;
			n += strcmp(link, "anon_inode:inotify") == 0;
		}
	}
	closedir(d);
	return n;
}

/* Runs payload args in the container as exec `eid`; returns its stdout. */
static char *exec_out(struct ctr_env *e, const char *cid, const char *eid, const char *const *args)
{
	Grpc__Process *p = ctr_process_new(args);
	char *msg = NULL;
	int code = ctr_exec(e, cid, eid, p, &msg);
	if (code)
		FAIL("exec: %d %s", code, msg);
	free(msg);
	char *out = ctr_read_all(e, cid, eid, false, NULL);
	ASSERT_EQ(ctr_wait(e, cid, eid), 0);
	ctr_process_free(p);
	return out;
}

static void stop_and_remove(struct ctr_env *e, const char *cid)
{
	ASSERT_EQ(ctr_signal(e, cid, "", SIGKILL), 0);
	ASSERT_EQ(ctr_wait(e, cid, cid), 128 + SIGKILL);
	ASSERT_EQ(ctr_remove(e, cid), 0);
}

TEST_TIMEOUT(configmap_mirrored_updates_and_removal, 90)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *src = SHARED "/cm-1", *mp = WATCH_DIR "/cm-1";
	char p[256], q[256], line[4096], link[64];
	struct stat st;

	/* Warm the agent up (lazy per-sandbox state) so fd counts compare like with like. */
	const char *sleep_args[] = {"sleep", "30", NULL};
	struct ctr_spec *s0 = ctr_spec_new(&e, "warm", sleep_args);
	ASSERT_EQ(ctr_create(&e, "warm", ctr_spec_get(s0), NULL), 0);
	ASSERT_EQ(ctr_start(&e, "warm", NULL), 0);
	stop_and_remove(&e, "warm");
	int fds0 = itest_fd_count_settled(e.agent.pid), ino0 = inotify_fds(e.agent.pid);

	/* The kubelet's layout: key -> ..data/key, ..data -> ..2024_01. */
	ASSERT_EQ(system("mkdir -p " SHARED "/cm-1/..2024_01 && "
			 "printf one > " SHARED "/cm-1/..2024_01/key && "
			 "printf plain > " SHARED "/cm-1/plain && "
			 "ln -s ..2024_01 " SHARED "/cm-1/..data && "
			 "ln -s ..data/key " SHARED "/cm-1/key"),
		  0);
	snprintf(p, sizeof(p), "%s/plain", src);
	ASSERT_EQ(chown(p, 1000, 2000), 0);
	ASSERT_EQ(chmod(p, 0640), 0);

	Grpc__Storage wb = GRPC__STORAGE__INIT;
	char *ro[] = {"ro"};
	wb.driver = "watchable-bind";
	wb.source = (char *)src;
	wb.fstype = "bind";
	wb.options = ro;
	wb.n_options = 1;
	wb.mount_point = (char *)mp;
	struct ctr_spec *s = ctr_spec_new(&e, "cm", sleep_args);
	ctr_spec_bind_data(s, mp, true);
	char *msg = NULL;
	int code = ctr_create_storage(&e, "cm", ctr_spec_get(s), &wb, &msg);
	if (code)
		FAIL("create: %d %s", code, msg);
	free(msg);
	ASSERT_EQ(ctr_start(&e, "cm", NULL), 0);

	/* A copy in a tmpfs on the watchable directory, not a bind of the source. */
	ASSERT_TRUE(mount_line(WATCH_DIR, line, sizeof(line)));
	ASSERT_NOT_NULL(strstr(line, " - tmpfs "));
	ASSERT_FALSE(mount_line(mp, NULL, 0));
	snprintf(p, sizeof(p), "%s/plain", mp);
	ASSERT_EQ(stat(p, &st), 0);
	ASSERT_EQ(st.st_mode & 07777, 0640);
	ASSERT_EQ(st.st_uid, 1000);
	ASSERT_EQ(st.st_gid, 2000);
	snprintf(p, sizeof(p), "%s/key", mp);
	ASSERT_EQ(lstat(p, &st), 0);
	ASSERT_TRUE(S_ISLNK(st.st_mode));
	ssize_t n = readlink(p, link, sizeof(link) - 1);
	ASSERT_GE(n, 0);
	link[n] = 0;
	ASSERT_STREQ(link, "..data/key");
	ASSERT_EQ(inotify_fds(e.agent.pid), ino0 + 1);

	const char *read_key[] = {"read-file", "/data/key", NULL};
	char *out = exec_out(&e, "cm", "r1", read_key);
	ASSERT_STREQ(out, "one");
	free(out);

	/* The atomic writer's update: new dir, ..data swapped by rename, old dir removed. */
	ASSERT_EQ(system("mkdir " SHARED "/cm-1/..2024_02 && "
			 "printf two > " SHARED "/cm-1/..2024_02/key && "
			 "ln -s ..2024_02 " SHARED "/cm-1/..data_tmp && "
			 "mv -T " SHARED "/cm-1/..data_tmp " SHARED "/cm-1/..data && "
			 "rm -rf " SHARED "/cm-1/..2024_01"),
		  0);
	snprintf(p, sizeof(p), "%s/key", mp);
	double took = wait_for(p, "two");
	ASSERT_TRUE(took >= 0);
	if (took > 1.0)
		FAIL("the update took %.2f s: inotify did not drive it", took);
	snprintf(p, sizeof(p), "%s/..2024_01", mp);
	ASSERT_TRUE(wait_for(p, NULL) >= 0);
	out = exec_out(&e, "cm", "r2", read_key);
	ASSERT_STREQ(out, "two");
	free(out);

	/* A deletion reaches the container too. */
	snprintf(q, sizeof(q), "%s/plain", src);
	ASSERT_EQ(unlink(q), 0);
	snprintf(p, sizeof(p), "%s/plain", mp);
	took = wait_for(p, NULL);
	ASSERT_TRUE(took >= 0 && took <= 1.0);
	const char *ls[] = {"ls", "/data", NULL};
	out = exec_out(&e, "cm", "r3", ls);
	ASSERT_NULL(strstr(out, "ls=plain"));
	ASSERT_NOT_NULL(strstr(out, "ls=key"));
	free(out);

	/* RemoveContainer: mirror, tmpfs and inotify fd gone; the agent's fds as before. */
	stop_and_remove(&e, "cm");
	ASSERT_TRUE(access(mp, F_OK) < 0);
	ASSERT_FALSE(mount_line(WATCH_DIR, NULL, 0));
	ASSERT_EQ(inotify_fds(e.agent.pid), ino0);
	ASSERT_EQ(itest_fd_count_settled(e.agent.pid), fds0);
	/* The source is the host's: untouched. */
	snprintf(p, sizeof(p), "%s/key", src);
	ASSERT_TRUE(has_text(p, "two"));
	ctr_spec_free(s0);
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(too_many_entries_fall_back_to_a_bind, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *src = SHARED "/big", *mp = WATCH_DIR "/big";
	char p[256];

	ASSERT_EQ(system("mkdir -p " SHARED "/big && for i in $(seq 1 20); do "
			 "echo $i > " SHARED "/big/f$i; done"),
		  0);
	Grpc__Storage wb = GRPC__STORAGE__INIT;
	wb.driver = "watchable-bind";
	wb.source = (char *)src;
	wb.mount_point = (char *)mp;
	const char *args[] = {"sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "big", args);
	ctr_spec_bind_data(s, mp, true);
	char *msg = NULL;
	int code = ctr_create_storage(&e, "big", ctr_spec_get(s), &wb, &msg);
	if (code)
		FAIL("create: %d %s", code, msg);
	free(msg);
	ASSERT_EQ(ctr_start(&e, "big", NULL), 0);
	ASSERT_TRUE(mount_line(mp, NULL, 0)); /* a bind, not a copy */
	/* A bind shows a new file at once, with no copying. */
	put(SHARED "/big/late", "late");
	snprintf(p, sizeof(p), "%s/late", mp);
	ASSERT_TRUE(has_text(p, "late"));
	const char *rd[] = {"read-file", "/data/late", NULL};
	char *out = exec_out(&e, "big", "r1", rd);
	ASSERT_STREQ(out, "late");
	free(out);
	stop_and_remove(&e, "big");
	ASSERT_FALSE(mount_line(mp, NULL, 0));
	ASSERT_TRUE(access(mp, F_OK) < 0);
	ASSERT_FALSE(mount_line(WATCH_DIR, NULL, 0));
	ASSERT_TRUE(has_text(SHARED "/big/late", "late")); /* the source is left alone */
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(bad_paths_are_refused, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	ASSERT_EQ(system("mkdir -p " SHARED "/ok && echo x > " SHARED "/ok/f && "
			 "ln -s ok " SHARED "/link"),
		  0);
	static const struct {
		const char *source, *mount_point;
	} bad[] = {
		{SHARED "/ok", SHARED "/elsewhere/cfg"}, /* parent is not the watchable dir */
		{SHARED "/ok", WATCH_DIR "/sub/cfg"}, /* nor a directory below it */
		{SHARED "/ok", WATCH_DIR}, /* the watchable dir itself */
		{SHARED "/ok", WATCH_DIR "/../cfg"},
		{SHARED "/ok", WATCH_DIR "/./cfg"},
		{SHARED "/ok", "watchable/cfg"},
		{"/etc", WATCH_DIR "/cfg"}, /* source outside the shared dir */
		{SHARED "/../../../etc", WATCH_DIR "/cfg"},
		{WATCH_DIR "/x", WATCH_DIR "/cfg"}, /* a mirror of the mirrors */
		{SHARED, WATCH_DIR "/cfg"}, /* a directory holding them */
		{SHARED "/link", WATCH_DIR "/cfg"}, /* a symlink is not followed */
	};
	const char *args[] = {"sleep", "1", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "bad", args);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		Grpc__Storage wb = GRPC__STORAGE__INIT;
		wb.driver = "watchable-bind";
		wb.source = (char *)bad[i].source;
		wb.mount_point = (char *)bad[i].mount_point;
		char *msg = NULL;
		int code = ctr_create_storage(&e, "bad", ctr_spec_get(s), &wb, &msg);
		if (code != 3)
			FAIL("case %zu (%s -> %s): status %d %s", i, bad[i].source,
			     bad[i].mount_point, code, msg ? msg : "");
		free(msg);
		ASSERT_FALSE(mount_line(WATCH_DIR, NULL, 0));
	}
	/* The sandbox's own storages have no container: refused as well. */
	Grpc__Storage wb = GRPC__STORAGE__INIT;
	Grpc__Storage *sts[] = {&wb};
	wb.driver = "watchable-bind";
	wb.source = SHARED "/ok";
	wb.mount_point = WATCH_DIR "/cfg";
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	req.hostname = "h";
	req.sandbox_id = "sb";
	req.storages = sts;
	req.n_storages = 1;
	ASSERT_EQ(ctr_call(&e, "CreateSandbox", &req.base, &google__protobuf__empty__descriptor,
			   NULL, NULL),
		  3);
	ASSERT_FALSE(mount_line(WATCH_DIR, NULL, 0));
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

TEST_TIMEOUT(agent_exit_with_a_live_watch, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *mp = WATCH_DIR "/live";
	ASSERT_EQ(system("mkdir -p " SHARED "/live && echo x > " SHARED "/live/f"), 0);
	Grpc__Storage wb = GRPC__STORAGE__INIT;
	wb.driver = "watchable-bind";
	wb.source = SHARED "/live";
	wb.mount_point = (char *)mp;
	const char *args[] = {"sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "live", args);
	ASSERT_EQ(ctr_create_storage(&e, "live", ctr_spec_get(s), &wb, NULL), 0);
	ASSERT_TRUE(has_text(WATCH_DIR "/live/f", "x\n"));
	/* The agent stops with the watch in place: a clean exit (no leak under ASan). */
	ctr_env_teardown(&e);
	ASSERT_FALSE(mount_line(WATCH_DIR, NULL, 0));
	ctr_spec_free(s);
}

static bool is_link(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

/*
 * The host swaps a watched source for a symlink to a guest directory, then for
 * a directory too large to copy: the mirror root never becomes a symlink, and
 * the bind that replaces the copy lands on the mirror, not on the guest
 * directory.
 */
TEST_TIMEOUT(a_source_swapped_for_a_symlink_stays_in_the_mirror, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	const char *src = SHARED "/c1-cm", *mp = WATCH_DIR "/c1-cm";
	ASSERT_EQ(system("mkdir -p /run/guestdir && printf guest > /run/guestdir/secret && "
			 "mkdir -p " SHARED "/c1-cm && printf v1 > " SHARED "/c1-cm/key"),
		  0);
	Grpc__Storage wb = GRPC__STORAGE__INIT;
	wb.driver = "watchable-bind";
	wb.source = (char *)src;
	wb.mount_point = (char *)mp;
	const char *args[] = {"sleep", "30", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "c1", args);
	ASSERT_EQ(ctr_create_storage(&e, "c1", ctr_spec_get(s), &wb, NULL), 0);
	ASSERT_TRUE(has_text(WATCH_DIR "/c1-cm/key", "v1"));

	ASSERT_EQ(system("rm -rf " SHARED "/c1-cm && ln -s /run/guestdir " SHARED "/c1-cm"), 0);
	usleep(2600 * 1000); /* past a rescan */
	ASSERT_FALSE(is_link(mp));

	ASSERT_EQ(system("rm -f " SHARED "/c1-cm && mkdir " SHARED "/c1-cm && "
			 "for i in $(seq 1 20); do echo host > " SHARED "/c1-cm/f$i; done"),
		  0);
	usleep(2600 * 1000);
	ASSERT_FALSE(mount_line("/run/guestdir", NULL, 0));
	ASSERT_TRUE(access("/run/guestdir/f1", F_OK) < 0);
	ASSERT_TRUE(has_text("/run/guestdir/secret", "guest"));
	ASSERT_FALSE(is_link(mp));
	ASSERT_EQ(ctr_remove(&e, "c1"), 0);
	ASSERT_TRUE(has_text("/run/guestdir/secret", "guest"));
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}

/*
 * A symlink among the source's parent directories (shared/containers/lnk ->
 * a guest directory) is not followed: neither a file behind it is mirrored nor
 * a large directory behind it bound.
 */
TEST_TIMEOUT(symlinks_above_the_source_are_not_followed, 60)
{
	struct ctr_env e;
	ctr_env_setup(&e, false);
	ASSERT_EQ(system("mkdir -p /run/guestdir/gdir " SHARED " && "
			 "printf guest > /run/guestdir/shadow && "
			 "for i in $(seq 1 20); do echo g > /run/guestdir/gdir/f$i; done && "
			 "ln -s /run/guestdir " SHARED "/lnk && ln -s /run/guestdir " SHARED
			 "/lnk2"),
		  0);
	static const struct {
		const char *source, *mount_point;
	} cases[] = {
		{SHARED "/lnk/shadow", WATCH_DIR "/shadow"},
		{SHARED "/lnk2/gdir", WATCH_DIR "/gdir"},
	};
	const char *args[] = {"sleep", "1", NULL};
	struct ctr_spec *s = ctr_spec_new(&e, "l1", args);
	for (size_t i = 0; i < 2; i++) {
		Grpc__Storage wb = GRPC__STORAGE__INIT;
		wb.driver = "watchable-bind";
		wb.source = (char *)cases[i].source;
		wb.mount_point = (char *)cases[i].mount_point;
		char *msg = NULL;
		int code = ctr_create_storage(&e, "l1", ctr_spec_get(s), &wb, &msg);
		if (code == 0) {
			bool copied = has_text(cases[i].mount_point, "guest"),
			     bound = mount_line(cases[i].mount_point, NULL, 0);
			ctr_remove(&e, "l1");
			FAIL("%s accepted (copied %d, bound %d)", cases[i].source, copied, bound);
		}
		ASSERT_EQ(code, 3);
		free(msg);
		ASSERT_FALSE(mount_line(cases[i].mount_point, NULL, 0));
	}
	ctr_spec_free(s);
	ctr_env_teardown(&e);
}
