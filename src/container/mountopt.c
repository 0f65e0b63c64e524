// SPDX-License-Identifier: Apache-2.0
#include "container/mountopt.h"

#include <string.h>
#include <sys/mount.h>

#include "base/status.h"

#ifndef MS_LAZYTIME
#define MS_LAZYTIME (1 << 25)
#endif

/* Largest data string the kernel copies in: one page including the NUL. */
#define MOUNT_DATA_MAX 4096

enum word_kind { W_SET, W_CLEAR, W_PROP };

static const struct {
	const char *word;
	enum word_kind kind;
	unsigned flag; /* MS_*, all below 2^32: 16 bytes an entry */
} words_table[] = {
	{"defaults", W_SET, 0},
	{"ro", W_SET, MS_RDONLY},
	{"rw", W_CLEAR, MS_RDONLY},
	{"nosuid", W_SET, MS_NOSUID},
	{"suid", W_CLEAR, MS_NOSUID},
	{"nodev", W_SET, MS_NODEV},
	{"dev", W_CLEAR, MS_NODEV},
	{"noexec", W_SET, MS_NOEXEC},
	{"exec", W_CLEAR, MS_NOEXEC},
	{"sync", W_SET, MS_SYNCHRONOUS},
	{"async", W_CLEAR, MS_SYNCHRONOUS},
	{"dirsync", W_SET, MS_DIRSYNC},
	{"remount", W_SET, MS_REMOUNT},
	{"mand", W_SET, MS_MANDLOCK},
	{"nomand", W_CLEAR, MS_MANDLOCK},
	{"noatime", W_SET, MS_NOATIME},
	{"atime", W_CLEAR, MS_NOATIME},
	{"nodiratime", W_SET, MS_NODIRATIME},
	{"diratime", W_CLEAR, MS_NODIRATIME},
	{"bind", W_SET, MS_BIND},
	{"rbind", W_SET, MS_BIND | MS_REC},
	{"relatime", W_SET, MS_RELATIME},
	{"norelatime", W_CLEAR, MS_RELATIME},
	{"strictatime", W_SET, MS_STRICTATIME},
	{"nostrictatime", W_CLEAR, MS_STRICTATIME},
	{"iversion", W_SET, MS_I_VERSION},
	{"noiversion", W_CLEAR, MS_I_VERSION},
	{"silent", W_SET, MS_SILENT},
	{"loud", W_CLEAR, MS_SILENT},
	{"acl", W_SET, MS_POSIXACL},
	{"noacl", W_CLEAR, MS_POSIXACL},
	{"lazytime", W_SET, MS_LAZYTIME},
	{"nolazytime", W_CLEAR, MS_LAZYTIME},
	{"private", W_PROP, MS_PRIVATE},
	{"rprivate", W_PROP, MS_PRIVATE | MS_REC},
	{"shared", W_PROP, MS_SHARED},
	{"rshared", W_PROP, MS_SHARED | MS_REC},
	{"slave", W_PROP, MS_SLAVE},
	{"rslave", W_PROP, MS_SLAVE | MS_REC},
	{"unbindable", W_PROP, MS_UNBINDABLE},
	{"runbindable", W_PROP, MS_UNBINDABLE | MS_REC},
};

static int find_word(const char *w)
{
	for (size_t i = 0; i < ARRAY_SIZE(words_table); i++)
		if (strcmp(words_table[i].word, w) == 0)
			return (int)i;
	return -1;
}

int mount_opts_parse(char *const *words, size_t n, struct mount_opts *ret, agent_error_t **err)
{
	struct mount_opts o = {0};
	_cleanup_free_ char *data = NULL;
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		const char *w = words[i];
		if (!w || !*w)
			continue;
		if (strcmp(w, "loop") == 0)
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "mount option \"loop\" is not supported");
		int k = find_word(w);
		if (k >= 0) {
			unsigned long f = words_table[k].flag;
			switch (words_table[k].kind) {
			case W_SET:
				o.flags |= f;
				o.clear_flags &= ~f;
				break;
			case W_CLEAR:
				o.clear_flags |= f;
				o.flags &= ~f;
				break;
			case W_PROP:
				o.propagation = f;
				break;
			}
			continue;
		}
		size_t wl = strlen(w);
		if (wl >= MOUNT_DATA_MAX || len + wl + 2 > MOUNT_DATA_MAX)
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "mount data longer than %d bytes",
						      MOUNT_DATA_MAX - 1);
		char *nd = realloc(data, len + wl + 2);
		if (!nd)
			return agent_error_set(err, ENOMEM, "out of memory");
		data = nd;
		if (len)
			data[len++] = ',';
		memcpy(data + len, w, wl + 1);
		len += wl;
	}
	o.data = TAKE_PTR(data);
	*ret = o;
	return 0;
}

void mount_opts_release(struct mount_opts *o)
{
	if (!o)
		return;
	free(o->data);
	o->data = NULL;
}
