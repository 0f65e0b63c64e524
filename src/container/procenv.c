// SPDX-License-Identifier: Apache-2.0
#include "container/procenv.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/macro.h"
#include "container/pathsafe.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct span {
	const char *s;
	size_t n;
};

static struct span trim(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return (struct span){s, n};
}

/* What the child reads of a passwd file: a rootfs controls it, so both are bounded. */
#define PASSWD_MAX_BYTES (4u << 20)
#define PASSWD_LINE_MAX 4096

/* The home field of one passwd line if it is uid's entry, malloc'd; NULL otherwise. */
static char *passwd_line_home(char *line, uid_t uid)
{
	char *fields[7], *end, *p = line;
	unsigned long u;
	int n = 0;

	for (; n < 7 && p; n++)
		fields[n] = strsep(&p, ":");
	if (n < 6 || !fields[2][0])
		return NULL;
	errno = 0;
	u = strtoul(fields[2], &end, 10);
	if (*end || errno || u != uid || !fields[5][0])
		return NULL;
	return strdup(fields[5]);
}

/*
 * The home directory of uid in a passwd file (resolved inside "/", which in
 * the child is the container's root), into *ret_home (NULL: no entry, or no
 * readable file). A file that is not regular (a FIFO would block the open or
 * the read, /dev/zero never ends) or is over PASSWD_MAX_BYTES is an error;
 * lines over PASSWD_LINE_MAX are passed over.
 */
static int passwd_home(const char *passwd, uid_t uid, char **ret_home, agent_error_t **err)
{
	_cleanup_close_ int root = -1, fd = -1;
	char buf[PASSWD_LINE_MAX + 1];
	size_t have = 0, total = 0;
	bool skipping = false;
	struct stat st;

	*ret_home = NULL;
	if (!passwd)
		return 0;
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return agent_error_setsys(err, errno, "opening the root directory");
	fd = pathsafe_open(root, passwd, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	if (fd == -ENOENT || fd == -EACCES || fd == -ENOTDIR)
		return 0; /* no such file for us: HOME falls back to "/" */
	if (fd < 0)
		return agent_error_setsys(err, -fd, "opening %s", passwd);
	if (fstat(fd, &st) < 0)
		return agent_error_setsys(err, errno, "stat of %s", passwd);
	if (!S_ISREG(st.st_mode))
		return agent_error_set(err, EINVAL, "%s is not a regular file", passwd);
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *line, *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return agent_error_setsys(err, errno, "reading %s", passwd);
		total += n;
		if (total > PASSWD_MAX_BYTES)
			return agent_error_set(err, EFBIG, "%s is larger than %u bytes", passwd,
					       PASSWD_MAX_BYTES);
		have += n;
		if (n == 0 && have > 0 && !skipping)
			buf[have++] = '\n'; /* the last line, unterminated */
		buf[have] = '\0';
		line = buf;
		while ((nl = memchr(line, '\n', buf + have - line))) {
			*nl = '\0';
			if (!skipping && (*ret_home = passwd_line_home(line, uid)))
				return 0;
			skipping = false;
			line = nl + 1;
		}
		have -= line - buf;
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1) {
			/* A line over the limit: passed over up to its end. */
			skipping = true;
			have = 0;
		}
		if (n == 0)
			return 0;
	}
}

int procenv_build(const Grpc__Process *p, uid_t uid, const char *passwd, char ***ret,
		  agent_error_t **err)
{
	size_t n_in = p ? p->n_env : 0, n = 0, bytes = 0;
	struct span *keys = calloc(n_in + 1, sizeof(*keys)),
		    *vals = calloc(n_in + 1, sizeof(*vals));
	_cleanup_free_ char *home = NULL;
	bool have_home = false;
	char **envp = NULL;
	int r = -ENOMEM;

	*ret = NULL;
	if (!keys || !vals) {
		agent_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n_in; i++) {
		const char *e = p->env[i];
		const char *eq = strchr(e, '=');
		struct span k, v;
		size_t j;

		if (!eq)
			continue;
		k = trim(e, eq - e);
		v = trim(eq + 1, strlen(eq + 1));
		if (!k.n)
			continue;
		for (j = 0; j < n; j++)
			if (keys[j].n == k.n && memcmp(keys[j].s, k.s, k.n) == 0)
				break;
		keys[j] = k;
		vals[j] = v;
		if (j == n)
			n++;
		if (k.n == 4 && memcmp(k.s, "HOME", 4) == 0)
			have_home = true;
	}
	if (!have_home) {
		r = passwd_home(passwd, uid, &home, err);
		if (r < 0)
			goto out;
		keys[n] = (struct span){"HOME", 4};
		vals[n] = home ? (struct span){home, strlen(home)} : (struct span){"/", 1};
		n++;
	}
	for (size_t i = 0; i < n; i++)
		bytes += keys[i].n + vals[i].n + 2;
	envp = malloc((n + 1) * sizeof(char *) + bytes);
	if (!envp) {
		r = agent_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	char *w = (char *)(envp + n + 1);
	for (size_t i = 0; i < n; i++) {
		envp[i] = w;
		memcpy(w, keys[i].s, keys[i].n);
		w += keys[i].n;
		*w++ = '=';
		memcpy(w, vals[i].s, vals[i].n);
		w += vals[i].n;
		*w++ = '\0';
	}
	envp[n] = NULL;
	*ret = envp;
	r = 0;
out:
	free(keys);
	free(vals);
	return r;
}

const char *procenv_get(char *const *envp, const char *key)
{
	size_t kl = strlen(key);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, key, kl) == 0 && (*envp)[kl] == '=')
			return *envp + kl + 1;
	return NULL;
}

static bool is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int procenv_find_program(const char *argv0, char *const *envp, char **ret_path, agent_error_t **err)
{
	const char *path = procenv_get(envp, "PATH");

	if (!argv0 || !argv0[0])
		return agent_error_set(err, EINVAL, "process.args[0] is empty");
	if (strchr(argv0, '/')) {
		if (!is_executable(argv0))
			return agent_error_setsys(err, errno ? errno : EACCES,
						  "executable \"%s\" not usable", argv0);
		*ret_path = strdup(argv0);
		return *ret_path ? 0 : -ENOMEM;
	}
	if (!path || !path[0])
		path = DEFAULT_PATH;
	while (*path) {
		size_t dl = strcspn(path, ":");
		char buf[4096];

		if (dl && dl + 1 + strlen(argv0) < sizeof(buf)) {
			snprintf(buf, sizeof(buf), "%.*s/%s", (int)dl, path, argv0);
			if (is_executable(buf)) {
				*ret_path = strdup(buf);
				return *ret_path ? 0 : -ENOMEM;
			}
		}
		path += dl;
		if (*path == ':')
			path++;
	}
	return agent_error_set(err, ENOENT, "executable \"%s\" not found in $PATH", argv0);
}
