// SPDX-License-Identifier: Apache-2.0
#include "init/kmod.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/macro.h"
#include "base/status.h"

#define DEPS_MAX 64 /* modules one module may pull in */
#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

int kmod_validate(const char *name, char *const *params, size_t n, agent_error_t **err)
{
	size_t len = strlen(name);

	if (len == 0 || len > KMOD_NAME_MAX)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "module name must be 1 to %d characters",
					      KMOD_NAME_MAX);
	for (size_t i = 0; i < len; i++)
		if (!name_char(name[i]))
			return agent_error_set_status(
				err, GRPC_INVALID_ARGUMENT, EINVAL,
				"module name \"%.64s\": only letters, digits, "
				"'_' and '-'",
				name);
	if (n > KMOD_PARAMS_MAX)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, E2BIG,
					      "module %s: more than %d parameters", name,
					      KMOD_PARAMS_MAX);
	for (size_t i = 0; i < n; i++) {
		const char *p = params[i];
		size_t plen = strlen(p);

		if (plen == 0 || plen > KMOD_PARAM_LEN_MAX)
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "module %s: parameters[%zu] must be 1 to %d "
						      "bytes",
						      name, i, KMOD_PARAM_LEN_MAX);
		for (size_t k = 0; k < plen; k++)
			if ((unsigned char)p[k] < 0x20 || p[k] == 0x7f)
				return agent_error_set_status(
					err, GRPC_INVALID_ARGUMENT, EINVAL,
					"module %s: parameters[%zu] has a control character", name,
					i);
	}
	return 0;
}

/* Does the file `path` (…/name.ko[.xz]) hold the module `name`? '-' and '_' are one. */
static bool file_is_module(const char *path, size_t plen, const char *name)
{
	const char *base = memrchr(path, '/', plen);
	size_t i;

	base = base ? base + 1 : path;
	plen -= (size_t)(base - path);
	for (i = 0; name[i]; i++) {
		if (i >= plen)
			return false;
		char a = base[i] == '-' ? '_' : base[i], b = name[i] == '-' ? '_' : name[i];
		if (a != b)
			return false;
	}
	return plen - i >= 3 && !memcmp(base + i, ".ko", 3) &&
	       (plen - i == 3 || base[i + 3] == '.');
}

static int open_modules_file(const char *root, const char *release, const char *file, char *dir,
			     size_t dirsize)
{
	static const char *const bases[] = {"lib/modules", "usr/lib/modules"};

	for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
		char path[4096];
		int fd;

		if (snprintf(dir, dirsize, "%s/%s/%s", root, bases[i], release) >= (int)dirsize ||
		    snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			return fd;
	}
	return -ENOENT;
}

static bool builtin(const char *root, const char *release, const char *name)
{
	char dir[4096], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	bool found = false;
	int fd = open_modules_file(root, release, "modules.builtin", dir, sizeof(dir));
	FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	while (!found && (len = getline(&line, &cap, f)) > 0) {
		while (len && (line[len - 1] == '\n' || line[len - 1] == ' '))
			len--;
		found = file_is_module(line, (size_t)len, name);
	}
	free(line);
	fclose(f);
	return found;
}

/* "<dir>/<word>" unless the word is absolute already. */
static char *module_path(const char *dir, const char *word, size_t len)
{
	char *p = NULL;

	if (word[0] == '/')
		return strndup(word, len);
	if (asprintf(&p, "%s/%.*s", dir, (int)len, word) < 0)
		return NULL;
	return p;
}

/* One modules.dep line "<file>: <dep> <dep> ...": dependencies loaded last-listed first. */
static int paths_from_line(const char *dir, char *line, char ***ret, size_t *ret_n,
			   agent_error_t **err)
{
	char *words[DEPS_MAX + 1], *save = NULL, *colon = strchr(line, ':');
	size_t n = 0;
	char **paths;

	*colon = '\0';
	words[n++] = line;
	for (char *w = strtok_r(colon + 1, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
		if (n > DEPS_MAX)
			return agent_error_set(err, E2BIG, "module %s needs more than %d others",
					       line, DEPS_MAX);
		words[n++] = w;
	}
	paths = calloc(n, sizeof(char *));
	if (!paths)
		return agent_error_set(err, ENOMEM, "out of memory");
	/* Dependencies in reverse order, the module itself last. */
	for (size_t i = 0; i < n; i++) {
		const char *w = words[i == n - 1 ? 0 : n - 1 - i];
		paths[i] = module_path(dir, w, strlen(w));
		if (!paths[i]) {
			kmod_paths_free(paths, i);
			return agent_error_set(err, ENOMEM, "out of memory");
		}
	}
	*ret = paths;
	*ret_n = n;
	return 0;
}

int kmod_resolve(const char *root, const char *release, const char *name, char ***ret,
		 size_t *ret_n, agent_error_t **err)
{
	char dir[4096], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int r = -ENOENT;
	int fd = open_modules_file(root, release, "modules.dep", dir, sizeof(dir));
	FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;

	*ret = NULL;
	*ret_n = 0;
	if (!f) {
		if (fd >= 0)
			close(fd);
		if (builtin(root, release, name))
			return 0;
		return agent_error_set_status(err, GRPC_NOT_FOUND, ENOENT,
					      "module %s: no modules.dep for kernel %s", name,
					      release);
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		char *colon = memchr(line, ':', (size_t)len);
		if (!colon || !file_is_module(line, (size_t)(colon - line), name))
			continue;
		r = paths_from_line(dir, line, ret, ret_n, err);
		break;
	}
	free(line);
	fclose(f);
	if (r == -ENOENT) {
		if (builtin(root, release, name))
			return 0;
		return agent_error_set_status(err, GRPC_NOT_FOUND, ENOENT,
					      "module %s not found for kernel %s", name, release);
	}
	return r;
}

void kmod_paths_free(char **paths, size_t n)
{
	for (size_t i = 0; paths && i < n; i++)
		free(paths[i]);
	free(paths);
}

static bool compressed(const char *path)
{
	size_t len = strlen(path);

	return len < 3 || strcmp(path + len - 3, ".ko") != 0;
}

static int load_file(const char *path, const char *params, agent_error_t **err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return agent_error_setsys(err, errno, "module file %s", path);
	if (syscall(SYS_finit_module, fd, params,
		    compressed(path) ? MODULE_INIT_COMPRESSED_FILE : 0) < 0 &&
	    errno != EEXIST)
		r = agent_error_setsys(err, errno, "loading %s", path);
	close(fd);
	return r;
}

int kmod_load(const char *root, const char *name, char *const *params, size_t n,
	      agent_error_t **err)
{
	struct utsname u;
	char **paths = NULL, *joined = NULL;
	size_t np = 0, len = 1;
	int r;

	r = kmod_validate(name, params, n, err);
	if (r < 0)
		return r;
	if (uname(&u) < 0)
		return agent_error_setsys(err, errno, "uname");
	r = kmod_resolve(root, u.release, name, &paths, &np, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		len += strlen(params[i]) + 1;
	joined = calloc(1, len);
	if (!joined) {
		kmod_paths_free(paths, np);
		return agent_error_set(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(joined, " ");
		strcat(joined, params[i]);
	}
	for (size_t i = 0; i < np && r >= 0; i++)
		r = load_file(paths[i], i == np - 1 ? joined : "", err);
	if (r < 0)
		agent_error_wrap(err, "module %s", name);
	free(joined);
	kmod_paths_free(paths, np);
	return r;
}
