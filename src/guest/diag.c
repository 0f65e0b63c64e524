/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GetDiagnosticData: the termination log of a container, read from
 * the guest-side source of the mount at its terminationMessagePath.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/strbuf.h"
#include "guest/guest.h"
#include "oci.pb-c.h"
#include "base/status.h"

#define TERMINATION_PATH_KEY "io.kubernetes.container.terminationMessagePath"

/* Length of the valid UTF-8 sequence at s (of n bytes), 0 if there is none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned min;
	unsigned cp;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, min = 0x80, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, min = 0x800, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, min = 0x10000, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int guest_utf8_lossy(const void *data, size_t n, char **ret)
{
	const unsigned char *s = data;
	struct strbuf sb;
	strbuf_init(&sb, n * 3 + 1);
	strbuf_add(&sb, "", 0);
	for (size_t i = 0; i < n;) {
		size_t l = utf8_len(s + i, n - i);
		if (l == 0 || (l == 1 && s[i] == 0)) {
			strbuf_add(&sb, "\xef\xbf\xbd", 3);
			i++;
		} else {
			strbuf_add(&sb, s + i, l);
			i += l;
		}
	}
	char *out = sb.oom ? NULL : strbuf_steal(&sb);
	strbuf_release(&sb);
	if (!out)
		return -ENOMEM;
	*ret = out;
	return 0;
}

int guest_termination_log(const struct Grpc__Spec *spec, char **ret, agent_error_t **err)
{
	const char *dest = NULL, *source = NULL;

	for (size_t i = 0; spec && i < spec->n_annotations; i++)
		if (strcmp(spec->annotations[i]->key, TERMINATION_PATH_KEY) == 0)
			dest = spec->annotations[i]->value;
	if (!dest || !*dest)
		return agent_error_set(err, ENOENT, "no %s annotation", TERMINATION_PATH_KEY);
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (strcmp(spec->mounts[i]->destination, dest) == 0)
			source = spec->mounts[i]->source;
	if (!source || !*source)
		return agent_error_set(err, ENOENT, "no mount at the termination message path %s",
				       dest);

	char buf[GUEST_DIAG_MAX];
	ssize_t n = 0;
	/* Non-blocking and regular files only: a FIFO planted there cannot hang the agent. */
	_cleanup_close_ int fd = open(source, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		return agent_error_setsys(err, errno, "open %s", source);
	if (fd >= 0) {
		struct stat st;
		if (fstat(fd, &st) < 0)
			return agent_error_setsys(err, errno, "stat %s", source);
		if (!S_ISREG(st.st_mode))
			return agent_error_set(err, EINVAL, "%s is not a regular file", source);
		size_t got = 0;
		while (got < sizeof(buf)) {
			n = read(fd, buf + got, sizeof(buf) - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return agent_error_setsys(err, errno, "read %s", source);
			if (n == 0)
				break;
			got += (size_t)n;
		}
		n = (ssize_t)got;
	}
	if (guest_utf8_lossy(buf, (size_t)n, ret) < 0)
		return agent_error_set(err, ENOMEM, "out of memory");
	return 0;
}
