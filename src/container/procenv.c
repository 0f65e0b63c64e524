// SPDX-License-Identifier: Apache-2.0
#include "container/procenv.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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

/* The home directory of uid in an /etc/passwd file, malloc'd, or NULL. */
static char *passwd_home(const char *passwd, uid_t uid)
{
	FILE *f = passwd ? fopen(passwd, "re") : NULL;
	char line[1024];
	char *home = NULL;

	if (!f)
		return NULL;
	while (!home && fgets(line, sizeof(line), f)) {
		char *fields[7];
		char *p = line;
		int n = 0;

		for (; n < 7 && p; n++)
			fields[n] = strsep(&p, ":");
		if (n < 6 || !fields[2][0])
			continue;
		char *end;
		unsigned long u = strtoul(fields[2], &end, 10);
		if (*end || u != uid)
			continue;
		fields[5][strcspn(fields[5], "\n")] = '\0';
		if (fields[5][0])
			home = strdup(fields[5]);
	}
	fclose(f);
	return home;
}

char **procenv_build(const Grpc__Process *p, uid_t uid, const char *passwd)
{
	size_t n_in = p ? p->n_env : 0, n = 0, bytes = 0;
	struct span *keys = calloc(n_in + 1, sizeof(*keys)),
		    *vals = calloc(n_in + 1, sizeof(*vals));
	_cleanup_free_ char *home = NULL;
	bool have_home = false;
	char **envp = NULL;

	if (!keys || !vals)
		goto out;
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
		home = passwd_home(passwd, uid);
		keys[n] = (struct span){"HOME", 4};
		vals[n] = home ? (struct span){home, strlen(home)} : (struct span){"/", 1};
		n++;
	}
	for (size_t i = 0; i < n; i++)
		bytes += keys[i].n + vals[i].n + 2;
	envp = malloc((n + 1) * sizeof(char *) + bytes);
	if (!envp)
		goto out;
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
out:
	free(keys);
	free(vals);
	return envp;
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
