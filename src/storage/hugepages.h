/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Huge pages for an ephemeral hugetlbfs storage: the pool of the page
 * size is grown until the storage's size fits in pages nobody has reserved yet.
 * Upstream sets the pool to this one storage's size, shrinking what others got.
 */
#ifndef AGENT_STORAGE_HUGEPAGES_H
#define AGENT_STORAGE_HUGEPAGES_H

#include <stdint.h>

#include "base/error.h"

#define HUGEPAGES_SYSFS "/sys"
#define HUGEPAGES_MAX (1u << 24) /* pages one storage may ask for */

/* pagesize= and size= (bytes) among the words; INVALID_ARGUMENT when absent or bad. */
int hugepages_parse(char *const *words, size_t n, uint64_t *ret_pagesize, uint64_t *ret_size,
		    agent_error_t **err);

/*
 * Makes size/pagesize pages of that size available (free and unreserved) under
 * <sysroot>/kernel/mm/hugepages, growing nr_hugepages as needed; fails with
 * RESOURCE_EXHAUSTED (the pool put back) when the kernel cannot find them.
 */
int hugepages_make_available(const char *sysroot, uint64_t pagesize, uint64_t size,
			     agent_error_t **err);

#endif
