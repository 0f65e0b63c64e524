// SPDX-License-Identifier: Apache-2.0
/* Huge pages for hugetlbfs storages: options, and growing the pool in a sysfs-shaped tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "harness.h"
#include "rpc/status.h"
#include "storage/hugepages.h"

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	fputs(text, f);
	fclose(f);
}

static long get(const char *dir, const char *name)
{
	char path[512], buf[32] = "";
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	ASSERT_NOT_NULL(f);
	ASSERT_NOT_NULL(fgets(buf, sizeof(buf), f));
	fclose(f);
	return atol(buf);
}

TEST(options_one_per_word_or_comma_joined)
{
	uint64_t ps = 0, sz = 0;
	agent_error_t *err = NULL;
	char *a[] = {"nodev", "pagesize=2097152", "size=8388608"};
	ASSERT_EQ(hugepages_parse(a, 3, &ps, &sz, &err), 0);
	ASSERT_EQ(ps, 2097152);
	ASSERT_EQ(sz, 8388608);
	char *b[] = {"pagesize=1073741824,size=2147483648"};
	ASSERT_EQ(hugepages_parse(b, 1, &ps, &sz, &err), 0);
	ASSERT_EQ(ps, 1073741824);
	ASSERT_EQ(sz, 2147483648ull);
	char *bad[][2] = {{"pagesize=2097152", "nosize"},
			  {"pagesize=3000000", "size=6000000"},
			  {"pagesize=2M", "size=8388608"},
			  {"pagesize=2097152", "size=1024"},
			  {"pagesize=4096", "size=999999999999999"},
			  {"pagesize=-2097152", "size=8388608"}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_EQ(hugepages_parse(bad[i], 2, &ps, &sz, &err), -EINVAL);
		ASSERT_EQ(err->status, GRPC_INVALID_ARGUMENT);
		err = agent_error_free(err);
	}
}

TEST(the_pool_grows_by_what_is_missing)
{
	char root[] = "/tmp/hugepages-XXXXXX", dir[256];
	ASSERT_NOT_NULL(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/kernel/mm/hugepages/hugepages-2048kB", root);
	ASSERT_EQ(mkdir_p(dir, 0755), 0);
	/* 10 pages, 6 free of which 2 reserved: 4 available. */
	put(dir, "nr_hugepages", "10\n");
	put(dir, "free_hugepages", "6\n");
	put(dir, "resv_hugepages", "2\n");
	agent_error_t *err = NULL;
	ASSERT_EQ(hugepages_make_available(root, 2097152, 4 * 2097152, &err), 0);
	ASSERT_EQ(get(dir, "nr_hugepages"), 10); /* enough already: untouched */
	ASSERT_EQ(hugepages_make_available(root, 2097152, 7 * 2097152, &err), 0);
	ASSERT_EQ(get(dir, "nr_hugepages"), 13);
	/* A page size the kernel does not have. */
	ASSERT_EQ(hugepages_make_available(root, 1 << 30, 1 << 30, &err), -EINVAL);
	ASSERT_NOT_NULL(strstr(err->msg, "1073741824"));
	agent_error_free(err);
	rm_rf(root);
}

/* The real pool, when this machine has 2 MiB pages: grown, then put back by the test. */
TEST(the_real_pool_grows)
{
	const char *dir = "/sys/kernel/mm/hugepages/hugepages-2048kB";
	if (access(dir, W_OK) != 0)
		SKIP("no writable %s here", dir);
	long before = get(dir, "nr_hugepages");
	long avail = get(dir, "free_hugepages") - get(dir, "resv_hugepages");
	agent_error_t *err = NULL;
	int r = hugepages_make_available("/sys", 2097152, (uint64_t)(avail + 2) * 2097152, &err);
	long after = get(dir, "nr_hugepages");
	char buf[32];
	snprintf(buf, sizeof(buf), "%ld", before);
	put(dir, "nr_hugepages", buf);
	if (r < 0 && err->status == GRPC_RESOURCE_EXHAUSTED)
		SKIP("the kernel found no 2 MiB pages to add: %s", err->msg);
	ASSERT_EQ(r, 0);
	ASSERT_EQ(after, before + 2);
}
