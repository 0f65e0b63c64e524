/* SPDX-License-Identifier: Apache-2.0 */
/* Termination logs (src/guest/diag.c) and the share-mount nudge (src/guest/sharemounts.c). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "guest/guest.h"
#include "harness.h"
#include "oci.pb-c.h"

TEST(utf8_lossy_replaces_invalid_bytes)
{
	char *s = NULL;
	ASSERT_EQ(guest_utf8_lossy("h\xc3\xa9llo", 6, &s), 0);
	ASSERT_STREQ(s, "h\xc3\xa9llo");
	free(s);
	ASSERT_EQ(guest_utf8_lossy("a\xff"
				   "b\xc3",
				   4, &s),
		  0);
	ASSERT_STREQ(s, "a\xef\xbf\xbd"
			"b\xef\xbf\xbd");
	free(s);
	ASSERT_EQ(guest_utf8_lossy("\xed\xa0\x80", 3, &s), 0); /* a surrogate */
	ASSERT_STREQ(s, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
	ASSERT_EQ(guest_utf8_lossy("x\0y", 3, &s), 0);
	ASSERT_STREQ(s, "x\xef\xbf\xbdy");
	free(s);
	ASSERT_EQ(guest_utf8_lossy("", 0, &s), 0);
	ASSERT_STREQ(s, "");
	free(s);
}

TEST(termination_log_from_the_mount_source)
{
	char dir[64] = "/tmp/test-diag-XXXXXX", src[128];
	ASSERT_NOT_NULL(mkdtemp(dir));
	snprintf(src, sizeof(src), "%s/termlog", dir);

	Grpc__Spec spec = GRPC__SPEC__INIT;
	Grpc__Spec__AnnotationsEntry ann = GRPC__SPEC__ANNOTATIONS_ENTRY__INIT;
	Grpc__Spec__AnnotationsEntry *anns[] = {&ann};
	Grpc__Mount m0 = GRPC__MOUNT__INIT, m1 = GRPC__MOUNT__INIT;
	Grpc__Mount *mounts[] = {&m0, &m1};
	m0.destination = (char *)"/etc/hosts";
	m0.source = (char *)"/etc/hosts";
	m1.destination = (char *)"/dev/termination-log";
	m1.source = src;
	spec.mounts = mounts;
	spec.n_mounts = 2;
	agent_error_t *err = NULL;
	char *out = NULL;
	/* No annotation. */
	ASSERT_TRUE(guest_termination_log(&spec, &out, &err) < 0);
	ASSERT_TRUE(strstr(err->msg, "terminationMessagePath"));
	err = agent_error_free(err);
	ann.key = (char *)"io.kubernetes.container.terminationMessagePath";
	ann.value = (char *)"/dev/termination-log";
	spec.annotations = anns;
	spec.n_annotations = 1;
	/* The file does not exist yet: empty. */
	ASSERT_EQ(guest_termination_log(&spec, &out, &err), 0);
	ASSERT_STREQ(out, "");
	free(out);
	/* Larger than 4096 bytes: the first 4096. */
	char big[5000];
	memset(big, 'z', sizeof(big));
	memcpy(big, "oom\xff", 4);
	int fd = open(src, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_EQ(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	close(fd);
	ASSERT_EQ(guest_termination_log(&spec, &out, &err), 0);
	ASSERT_EQ(strlen(out), 4096 + 2);
	ASSERT_TRUE(strncmp(out, "oom\xef\xbf\xbdzz", 8) == 0);
	free(out);
	/* A FIFO there does not hang the call. */
	ASSERT_EQ(unlink(src), 0);
	ASSERT_EQ(mkfifo(src, 0644), 0);
	ASSERT_TRUE(guest_termination_log(&spec, &out, &err) < 0);
	err = agent_error_free(err);
	/* No mount at that path. */
	ann.value = (char *)"/elsewhere";
	ASSERT_TRUE(guest_termination_log(&spec, &out, &err) < 0);
	ASSERT_TRUE(strstr(err->msg, "no mount"));
	agent_error_free(err);
	rm_rf(dir);
}

TEST(share_mounts_below_the_prefix_are_visited)
{
	char dir[64] = "/tmp/test-share-XXXXXX", a[128], b[160], other[128];
	unsigned n = 99;
	agent_error_t *err = NULL;
	if (unshare(CLONE_NEWNS) < 0)
		SKIP("cannot make a mount namespace: %s", strerror(errno));
	ASSERT_EQ(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ASSERT_NOT_NULL(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/shared/with space", dir);
	snprintf(b, sizeof(b), "%s/shared/with space/inner", dir);
	snprintf(other, sizeof(other), "%s/sharedx", dir);
	ASSERT_EQ(mkdir_p(a, 0755), 0);
	ASSERT_EQ(mkdir_p(other, 0755), 0);
	ASSERT_EQ(mount("tmpfs", a, "tmpfs", 0, NULL), 0);
	ASSERT_EQ(mkdir(b, 0755), 0);
	ASSERT_EQ(mount("tmpfs", b, "tmpfs", 0, NULL), 0);
	ASSERT_EQ(mount("tmpfs", other, "tmpfs", 0, NULL), 0);
	char prefix[128];
	snprintf(prefix, sizeof(prefix), "%s/shared", dir);
	ASSERT_EQ(guest_stat_share_mounts("/proc/self/mountinfo", prefix, &n, &err), 0);
	ASSERT_EQ(n, 2);
	ASSERT_TRUE(guest_stat_share_mounts("/nonexistent", prefix, &n, &err) < 0);
	agent_error_free(err);
	umount(b);
	umount(a);
	umount(other);
	rm_rf(dir);
}
