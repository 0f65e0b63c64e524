/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prints every answer libseccomp's syscall table gives: for each architecture, the number of
 * each syscall name of SYSCALLS_CSV (libseccomp's source table), and the name of each number
 * in the ranges syscall numbers live in. scripts/deps.sh builds it twice, against the
 * Debian library of the same version and against the musl archive it built with a smaller
 * table, and requires the same output.
 * Usage: seccomp-table-check SYSCALLS_CSV
 */
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_num_range(const char *arch, uint32_t token, long from, long to)
{
	for (long num = from; num < to; num++) {
		char *name = seccomp_syscall_resolve_num_arch(token, (int)num);
		if (name)
			printf("%s #%ld %s\n", arch, num, name);
		free(name);
	}
}

int main(int argc, char **argv)
{
	static const char *const arches[] = {
		"x86",	  "x86_64",   "x32",	   "arm",	  "aarch64", "mips",	 "mipsel",
		"mips64", "mipsel64", "mips64n32", "mipsel64n32", "parisc",  "parisc64", "ppc",
		"ppc64",  "ppc64le",  "riscv64",   "s390",	  "s390x",   NULL};
	char line[4096];
	char **names = NULL;
	size_t n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s SYSCALLS_CSV\n", argv[0]);
		return 2;
	}
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *comma = strchr(line, ',');
		if (line[0] == '#' || !comma)
			continue;
		*comma = '\0';
		char **grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown || !(grown[n] = strdup(line)))
			return 1;
		names = grown;
		n++;
	}
	fclose(f);
	if (n < 300) {
		fprintf(stderr, "%s: only %zu syscall names\n", argv[1], n);
		return 1;
	}
	for (size_t a = 0; arches[a]; a++) {
		uint32_t token = seccomp_arch_resolve_name(arches[a]);
		printf("arch %s %u\n", arches[a], token);
		if (!token)
			continue;
		for (size_t i = 0; i < n; i++)
			printf("%s %s %d\n", arches[a], names[i],
			       seccomp_syscall_resolve_name_arch(token, names[i]));
		printf("%s nosuchcall %d\n", arches[a],
		       seccomp_syscall_resolve_name_arch(token, "nosuchcall"));
		/* pseudo numbers (negative), ordinary ones, ARM's private calls, x32's */
		print_num_range(arches[a], token, -10500, 7000);
		print_num_range(arches[a], token, 0xf0000, 0xf0010);
		print_num_range(arches[a], token, 0x40000000, 0x40000000 + 1000);
	}
	return 0;
}
