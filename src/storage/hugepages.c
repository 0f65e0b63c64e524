// SPDX-License-Identifier: Apache-2.0
#include "storage/hugepages.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/status.h"

#define INVALID(err, ...) agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL, __VA_ARGS__)

static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int hugepages_parse(char *const *words, size_t n, uint64_t *ret_pagesize, uint64_t *ret_size,
		    agent_error_t **err)
{
	char ps[32] = "", sz[32] = "";

	/* Options come one per word or comma-joined ("pagesize=2097152,size=524288000"). */
	for (size_t i = 0; i < n; i++) {
		for (const char *t = words[i]; *t;) {
			size_t len = strcspn(t, ",");
			if (len > 9 && len - 9 < sizeof(ps) && !strncmp(t, "pagesize=", 9))
				snprintf(ps, sizeof(ps), "%.*s", (int)(len - 9), t + 9);
			else if (len > 5 && len - 5 < sizeof(sz) && !strncmp(t, "size=", 5))
				snprintf(sz, sizeof(sz), "%.*s", (int)(len - 5), t + 5);
			t += len + (t[len] == ',');
		}
	}
	if (!ps[0] || !sz[0])
		return INVALID(err, "hugetlbfs storage: pagesize= and size= (bytes) are needed");
	if (parse_u64(ps, ret_pagesize) < 0 || *ret_pagesize < 4096 ||
	    (*ret_pagesize & (*ret_pagesize - 1)) || *ret_pagesize > (1ull << 40))
		return INVALID(err,
			       "hugetlbfs storage: pagesize \"%.32s\" is not a power of two "
			       "in bytes",
			       ps);
	if (parse_u64(sz, ret_size) < 0 || *ret_size < *ret_pagesize ||
	    *ret_size / *ret_pagesize > HUGEPAGES_MAX)
		return INVALID(err,
			       "hugetlbfs storage: size \"%.32s\" must be bytes, from one "
			       "page to %u pages",
			       sz, HUGEPAGES_MAX);
	return 0;
}

static int read_count(const char *dir, const char *name, uint64_t *ret)
{
	char path[512], buf[32];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int r = read_file_small(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	buf[strcspn(buf, "\n")] = '\0';
	return parse_u64(buf, ret);
}

static int write_count(const char *dir, uint64_t v)
{
	char path[512], buf[32];
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/nr_hugepages", dir);
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf))
		r = -errno;
	close(fd);
	return r;
}

int hugepages_make_available(const char *sysroot, uint64_t pagesize, uint64_t size,
			     agent_error_t **err)
{
	uint64_t need = size / pagesize, nr, nfree, resv, got;
	char dir[256];
	int r;

	snprintf(dir, sizeof(dir), "%s/kernel/mm/hugepages/hugepages-%" PRIu64 "kB", sysroot,
		 pagesize / 1024);
	if (access(dir, F_OK) < 0)
		return INVALID(err,
			       "hugetlbfs storage: this kernel has no huge pages of %" PRIu64
			       " bytes",
			       pagesize);
	if ((r = read_count(dir, "nr_hugepages", &nr)) < 0 ||
	    (r = read_count(dir, "free_hugepages", &nfree)) < 0 ||
	    (r = read_count(dir, "resv_hugepages", &resv)) < 0)
		return agent_error_setsys(err, -r, "reading %s", dir);
	uint64_t avail = nfree > resv ? nfree - resv : 0;
	if (avail >= need)
		return 0;
	uint64_t want = nr + (need - avail);
	r = write_count(dir, want);
	if (r < 0)
		return agent_error_setsys(err, -r, "writing %s/nr_hugepages", dir);
	r = read_count(dir, "nr_hugepages", &got);
	if (r < 0)
		return agent_error_setsys(err, -r, "reading %s/nr_hugepages", dir);
	if (got < want) {
		write_count(dir, nr);
		return agent_error_set_status(err, GRPC_RESOURCE_EXHAUSTED, ENOMEM,
					      "only %" PRIu64 " of %" PRIu64
					      " huge pages of %" PRIu64 " bytes could be allocated",
					      got > nr ? got - nr : 0, want - nr, pagesize);
	}
	return 0;
}
