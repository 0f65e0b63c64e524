/* SPDX-License-Identifier: Apache-2.0 */
/* cgroupfs file helpers: bounded reads, writes that name the file, mkdir -p with rollback. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/fsutil.h"
#include "internal.h"
#include "base/status.h"

int cg_path_validate(const char *path, agent_error_t **err)
{
	if (!path || path[0] != '/')
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "cgroup path \"%s\" is not absolute",
					      path ? path : "(null)");
	size_t len = strnlen(path, CG_PATH_MAX + 1);
	if (len > CG_PATH_MAX)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "cgroup path longer than %d bytes", CG_PATH_MAX);
	bool any = false;
	int depth = 0;
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		const char *e = strchrnul(p, '/');
		size_t n = (size_t)(e - p);
		if (n == 0)
			break;
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "cgroup path \"%s\" has a . or .. component",
						      path);
		if (n > 255)
			return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
						      "cgroup path component too long");
		any = true;
		depth++;
		p = e;
	}
	if (!any)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "cgroup path \"%s\" names the root", path);
	if (depth > CG_DEPTH_MAX)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "cgroup path deeper than %d", CG_DEPTH_MAX);
	return 0;
}

char *cg_join(const char *a, const char *b)
{
	char *r = NULL;
	size_t la = strlen(a);
	while (la > 1 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	if (asprintf(&r, "%.*s/%s", (int)la, a, b) < 0)
		return NULL;
	return r;
}

bool cg_file_exists(const char *dir, const char *file)
{
	_cleanup_free_ char *p = cg_join(dir, file);
	return p && access(p, F_OK) == 0;
}

int cg_write(const char *dir, const char *file, const char *value, agent_error_t **err)
{
	_cleanup_free_ char *p = cg_join(dir, file);
	if (!p)
		return agent_error_set(err, ENOMEM, "out of memory");
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return agent_error_setsys(err, errno, "open %s", p);
	size_t len = strlen(value);
	ssize_t n = write(fd, value, len);
	if (n < 0)
		return agent_error_setsys(err, errno, "write \"%s\" to %s", value, p);
	if ((size_t)n != len)
		return agent_error_set(err, EIO, "short write of \"%s\" to %s", value, p);
	return 0;
}

int cg_writef(const char *dir, const char *file, agent_error_t **err, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return agent_error_set(err, EINVAL, "value for %s too long", file);
	return cg_write(dir, file, buf, err);
}

int cg_read(const char *dir, const char *file, char **ret)
{
	_cleanup_free_ char *p = file ? cg_join(dir, file) : strdup(dir);
	if (!p)
		return -ENOMEM;
	int r = read_file_all(p, CG_FILE_MAX, ret);
	return r < 0 ? r : 0;
}

static int parse_u64(const char *s, uint64_t *ret)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (strncmp(s, "max", 3) == 0) {
		*ret = UINT64_MAX;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -errno;
	*ret = v;
	return 0;
}

int cg_read_u64(const char *dir, const char *file, uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;
	int r = cg_read(dir, file, &s);
	if (r < 0)
		return r;
	return parse_u64(s, ret);
}

int cg_kv_u64(const char *text, const char *key, uint64_t *ret)
{
	size_t kl = strlen(key);
	for (const char *l = text; l && *l;) {
		if (strncmp(l, key, kl) == 0 && (l[kl] == ' ' || l[kl] == '\t'))
			return parse_u64(l + kl + 1, ret);
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	return -ENOENT;
}

void cg_rollback(char **created, size_t n_created)
{
	for (size_t i = n_created; i > 0; i--) {
		rmdir(created[i - 1]);
		free(created[i - 1]);
	}
	free(created);
}

int cg_mkdir_p(const char *mnt, const char *path, char ***created, size_t *n_created,
	       agent_error_t **err)
{
	_cleanup_free_ char *full = cg_join(mnt, path);
	if (!full)
		return agent_error_set(err, ENOMEM, "out of memory");
	size_t base = strlen(mnt);
	for (char *p = full + base + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (p[-1] != '/' && mkdir(full, 0755) == 0) {
			char **nv = realloc(*created, (*n_created + 1) * sizeof(char *));
			char *dup = strdup(full);
			if (!nv || !dup) {
				free(dup);
				if (nv)
					*created = nv;
				rmdir(full);
				return agent_error_set(err, ENOMEM, "out of memory");
			}
			*created = nv;
			nv[(*n_created)++] = dup;
		} else if (p[-1] != '/' && errno != EEXIST) {
			return agent_error_setsys(err, errno, "mkdir %s", full);
		}
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

static int push_pid(pid_t pid, pid_t **pids, size_t *n, size_t *cap)
{
	if (*n >= CG_PIDS_MAX)
		return -E2BIG;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		pid_t *np = realloc(*pids, nc * sizeof(pid_t));
		if (!np)
			return -ENOMEM;
		*pids = np;
		*cap = nc;
	}
	(*pids)[(*n)++] = pid;
	return 0;
}

int cg_collect_pids(const char *dir, pid_t **pids, size_t *n, size_t *cap, int depth)
{
	if (depth > CG_DEPTH_MAX)
		return -ELOOP;
	_cleanup_free_ char *s = NULL;
	int r = cg_read(dir, "cgroup.procs", &s);
	if (r < 0)
		return r;
	for (char *l = s; *l;) {
		char *end;
		long v = strtol(l, &end, 10);
		if (end == l)
			break;
		if (v > 0) {
			r = push_pid((pid_t)v, pids, n, cap);
			if (r < 0)
				return r;
		}
		l = end;
		while (*l == '\n')
			l++;
	}
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *de;
	r = 0;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *sub = cg_join(dir, de->d_name);
		if (!sub) {
			r = -ENOMEM;
			break;
		}
		r = cg_collect_pids(sub, pids, n, cap, depth + 1);
		if (r == -ENOENT)
			r = 0;
		if (r < 0)
			break;
	}
	closedir(d);
	return r;
}

int cg_rmdir_tree(const char *dir, int depth)
{
	if (depth > CG_DEPTH_MAX)
		return -ELOOP;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *sub = cg_join(dir, de->d_name);
		if (!sub) {
			r = -ENOMEM;
			break;
		}
		int k = cg_rmdir_tree(sub, depth + 1);
		if (k < 0 && r == 0)
			r = k;
	}
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT)
		return -errno;
	return r;
}

void cg_sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
