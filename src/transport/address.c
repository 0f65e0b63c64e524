/* SPDX-License-Identifier: Apache-2.0 */
#include "address.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

static int parse_u32(const char *s, uint32_t *ret)
{
	char *end;
	if (!*s || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	if (*s == '-') {
		/* Only -1 (VMADDR_CID_ANY) is a meaningful negative. */
		if (strcmp(s, "-1") != 0)
			return -EINVAL;
		*ret = UINT32_MAX;
		return 0;
	}
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

int address_parse(const char *s, struct address *ret, agent_error_t **err)
{
	struct address a = {0};

	if (!s || !*s)
		return agent_error_set(err, EINVAL, "empty server address");
	if (strncmp(s, "vsock://", 8) == 0) {
		const char *rest = s + 8;
		const char *colon = strchr(rest, ':');
		if (!colon || strchr(colon + 1, ':'))
			return agent_error_set(
				err, EINVAL, "invalid vsock address %s: want vsock://CID:PORT", s);
		char cid[16];
		size_t n = colon - rest;
		if (n == 0 || n >= sizeof(cid))
			return agent_error_set(err, EINVAL, "invalid vsock CID in %s", s);
		memcpy(cid, rest, n);
		cid[n] = '\0';
		if (parse_u32(cid, &a.cid) < 0)
			return agent_error_set(err, EINVAL, "invalid vsock CID in %s", s);
		if (parse_u32(colon + 1, &a.port) < 0 || a.port == UINT32_MAX)
			return agent_error_set(err, EINVAL, "invalid vsock port in %s", s);
		a.kind = ADDRESS_VSOCK;
	} else if (strncmp(s, "unix://", 7) == 0) {
		const char *p = s + 7;
		a.kind = ADDRESS_UNIX;
		if (*p == '@') {
			a.abstract = true;
			p++;
		} else if (*p != '/') {
			return agent_error_set(err, EINVAL, "unix socket path must be absolute: %s",
					       s);
		}
		if (!*p || strlen(p) >= sizeof(a.path) - 1)
			return agent_error_set(err, EINVAL, "invalid unix socket path length: %s",
					       s);
		snprintf(a.path, sizeof(a.path), "%s", p);
	} else if (strncmp(s, "serial://", 9) == 0) {
		const char *p = s + 9;
		if (*p != '/' || strlen(p) >= sizeof(a.path) || strstr(p, "/../"))
			return agent_error_set(err, EINVAL, "invalid serial device path: %s", s);
		a.kind = ADDRESS_SERIAL;
		snprintf(a.path, sizeof(a.path), "%s", p);
	} else {
		return agent_error_set(
			err, EINVAL,
			"unsupported server address %s (vsock://, unix:// or serial://)", s);
	}
	*ret = a;
	return 0;
}

int address_listen(const struct address *a, agent_error_t **err)
{
	_cleanup_close_ int fd = -1;

	if (a->kind == ADDRESS_VSOCK) {
		struct sockaddr_vm sa = {
			.svm_family = AF_VSOCK, .svm_cid = a->cid, .svm_port = a->port};
		fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return agent_error_setsys(err, errno, "cannot create a vsock socket");
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return agent_error_setsys(err, errno, "cannot bind vsock port %u", a->port);
	} else if (a->kind == ADDRESS_UNIX) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		socklen_t len;
		size_t n = strlen(a->path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return agent_error_setsys(err, errno, "cannot create a unix socket");
		if (a->abstract) {
			memcpy(sa.sun_path + 1, a->path, n);
			len = offsetof(struct sockaddr_un, sun_path) + 1 + n;
		} else {
			memcpy(sa.sun_path, a->path, n);
			len = offsetof(struct sockaddr_un, sun_path) + n + 1;
			/* A socket file left by an earlier run would make bind fail. */
			struct stat st;
			if (lstat(a->path, &st) == 0 && S_ISSOCK(st.st_mode))
				(void)unlink(a->path);
		}
		if (bind(fd, (struct sockaddr *)&sa, len) < 0)
			return agent_error_setsys(err, errno, "cannot bind unix socket %s%s",
						  a->abstract ? "@" : "", a->path);
	} else {
		return agent_error_set(err, EINVAL, "address is not a socket address");
	}
	/* Room for bursts: past the connection cap, connections wait here (capped by
	 * net.core.somaxconn). */
	if (listen(fd, 4096) < 0)
		return agent_error_setsys(err, errno, "cannot listen");
	return TAKE_FD(fd);
}

/* /dev/virtio-ports/NAME without udev: find the vportNpM whose sysfs name is NAME. */
static int find_vport(const char *sysfs_root, const char *name, char *out, size_t size)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/class/virtio-ports", sysfs_root);
	DIR *d = opendir(dir);
	if (!d)
		return -ENOENT;
	struct dirent *de;
	int r = -ENOENT;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char buf[256];
		int dfd = dirfd(d);
		char rel[sizeof(de->d_name) + 8];
		snprintf(rel, sizeof(rel), "%.255s/name", de->d_name);
		int fd = openat(dfd, rel, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (strcmp(buf, name) == 0) {
			snprintf(out, size, "/dev/%s", de->d_name);
			r = 0;
			break;
		}
	}
	closedir(d);
	return r;
}

int address_open_serial(const struct address *a, const char *sysfs_root, agent_error_t **err)
{
	static const char prefix[] = "/dev/virtio-ports/";
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", a->path);
	if (access(path, F_OK) < 0 && strncmp(path, prefix, sizeof(prefix) - 1) == 0) {
		const char *name = path + sizeof(prefix) - 1;
		char found[PATH_MAX];
		if (find_vport(sysfs_root ? sysfs_root : "/sys", name, found, sizeof(found)) == 0)
			snprintf(path, sizeof(path), "%s", found);
	}
	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return agent_error_setsys(err, errno, "cannot open serial port %s", path);
	return fd;
}
