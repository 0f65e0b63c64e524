/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <sys/mount.h>

#include "container/mountopt.h"
#include "harness.h"
#include "rpc/status.h"

static struct mount_opts parse_ok(char **w, size_t n)
{
	struct mount_opts o;
	agent_error_t *err = NULL;
	int r = mount_opts_parse(w, n, &o, &err);
	if (r < 0)
		FAIL("parse: %s", err->msg);
	return o;
}

TEST(mountopt_flags_and_data)
{
	char *w[] = {"nosuid", "strictatime", "mode=755", "size=65536k", "ro", "nodev"};
	struct mount_opts o = parse_ok(w, ARRAY_SIZE(w));
	ASSERT_EQ(o.flags, MS_NOSUID | MS_STRICTATIME | MS_RDONLY | MS_NODEV);
	ASSERT_EQ(o.clear_flags, 0);
	ASSERT_EQ(o.propagation, 0);
	ASSERT_STREQ(o.data, "mode=755,size=65536k");
	mount_opts_release(&o);
	ASSERT_NULL(o.data);
}

TEST(mountopt_clear_flags_last_word_wins)
{
	char *w[] = {"ro",     "rw",	"suid",	 "dev",	 "exec",
		     "noexec", "atime", "async", "loud", "noacl"};
	struct mount_opts o = parse_ok(w, ARRAY_SIZE(w));
	ASSERT_EQ(o.flags, MS_NOEXEC);
	ASSERT_EQ(o.clear_flags, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOATIME | MS_SYNCHRONOUS |
					 MS_SILENT | MS_POSIXACL);
	ASSERT_NULL(o.data);
	mount_opts_release(&o);
}

TEST(mountopt_bind_and_propagation)
{
	char *w[] = {"rbind", "rslave", "defaults", ""};
	struct mount_opts o = parse_ok(w, ARRAY_SIZE(w));
	ASSERT_EQ(o.flags, MS_BIND | MS_REC);
	ASSERT_EQ(o.propagation, MS_SLAVE | MS_REC);
	ASSERT_NULL(o.data);
	mount_opts_release(&o);

	static const struct {
		char *word;
		unsigned long prop;
	} props[] = {
		{"private", MS_PRIVATE},
		{"rprivate", MS_PRIVATE | MS_REC},
		{"shared", MS_SHARED},
		{"rshared", MS_SHARED | MS_REC},
		{"slave", MS_SLAVE},
		{"unbindable", MS_UNBINDABLE},
		{"runbindable", MS_UNBINDABLE | MS_REC},
	};
	for (size_t i = 0; i < ARRAY_SIZE(props); i++) {
		char *one[] = {"bind", props[i].word};
		o = parse_ok(one, 2);
		ASSERT_EQ(o.flags, MS_BIND);
		ASSERT_EQ(o.propagation, props[i].prop);
		mount_opts_release(&o);
	}
}

TEST(mountopt_all_flag_words)
{
	char *w[] = {"sync",	 "dirsync",  "remount", "mand", "noatime", "nodiratime",
		     "relatime", "iversion", "silent",	"acl",	"lazytime"};
	struct mount_opts o = parse_ok(w, ARRAY_SIZE(w));
	ASSERT_EQ(o.flags, MS_SYNCHRONOUS | MS_DIRSYNC | MS_REMOUNT | MS_MANDLOCK | MS_NOATIME |
				   MS_NODIRATIME | MS_RELATIME | MS_I_VERSION | MS_SILENT |
				   MS_POSIXACL | (1 << 25));
	mount_opts_release(&o);
}

TEST(mountopt_loop_refused)
{
	char *w[] = {"ro", "loop"};
	struct mount_opts o = {.flags = 42};
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(mount_opts_parse(w, 2, &o, &err), -EINVAL);
	ASSERT_NOT_NULL(err);
	ASSERT_EQ(err->status, GRPC_INVALID_ARGUMENT);
	ASSERT_TRUE(strstr(err->msg, "loop") != NULL);
	ASSERT_EQ(o.flags, 42); /* untouched on failure */
}

TEST(mountopt_data_over_a_page_refused)
{
	static char big[3000];
	memset(big, 'a', sizeof(big) - 1);
	big[0] = 'x';
	big[1] = '=';
	char *w[] = {big, big};
	struct mount_opts o;
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(mount_opts_parse(w, 2, &o, &err), -EINVAL);
	ASSERT_EQ(err->status, GRPC_INVALID_ARGUMENT);

	/* One word just under a page still fits. */
	static char fits[4095];
	memset(fits, 'b', sizeof(fits) - 1);
	char *w2[] = {fits};
	o = parse_ok(w2, 1);
	ASSERT_EQ(strlen(o.data), 4094);
	mount_opts_release(&o);
}
