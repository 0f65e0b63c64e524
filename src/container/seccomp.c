// SPDX-License-Identifier: Apache-2.0
#include "container/seccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <string.h>

#include "container/seccomp-names.h"

/* Linux system calls take at most six arguments. */
#define SECCOMP_MAX_ARGS 6
/*
 * libseccomp's binary-tree syscall lookup pays off on long filters; it is left off for
 * short ones, and libseccomp up to 2.5.4 mishandles it on a filter without rules.
 */
#define SECCOMP_TREE_MIN_RULES 32

static void filter_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

struct rule {
	uint32_t action;
	unsigned n_cmp;
	struct scmp_arg_cmp cmp[SECCOMP_MAX_ARGS];
};

static struct scmp_arg_cmp arg_cmp(const Grpc__LinuxSeccompArg *a)
{
	/* For MASKED_EQ, libseccomp's first datum is the mask: OCI's value. */
	return (struct scmp_arg_cmp){
		.arg = (unsigned)a->index,
		.op = (enum scmp_compare)seccomp_op_from_name(a->op),
		.datum_a = a->value,
		.datum_b = a->valuetwo,
	};
}

/*
 * Adds `r` for every name of the entry; returns the number of rules added. Names this
 * libseccomp cannot resolve are skipped, so are names that exist only as multiplexed
 * pseudo-calls on this architecture (socketcall, ipc on x86_64) if libseccomp refuses them.
 */
static int add_for_names(scmp_filter_ctx ctx, const Grpc__LinuxSyscall *sc, const struct rule *r,
			 size_t idx, agent_error_t **err)
{
	int added = 0;

	for (size_t k = 0; k < sc->n_names; k++) {
		int nr = seccomp_syscall_resolve_name(sc->names[k]);
		if (nr == __NR_SCMP_ERROR)
			continue;
		int rc = seccomp_rule_add_array(ctx, r->action, nr, r->n_cmp, r->cmp);
		if (rc < 0 && nr < 0)
			continue;
		if (rc < 0)
			return agent_error_setsys(err, -rc,
						  "linux.seccomp.syscalls[%zu]: adding a rule for "
						  "\"%s\"",
						  idx, sc->names[k]);
		added++;
	}
	return added;
}

/*
 * One rule ANDs all its conditions. libseccomp cannot hold two conditions on the same
 * argument in one rule, so (as runc and crun do) an entry that compares one argument more
 * than once becomes one rule per condition, ORed.
 */
static int add_syscall(scmp_filter_ctx ctx, uint32_t def_action, const Grpc__LinuxSyscall *sc,
		       size_t idx, agent_error_t **err)
{
	struct rule r = {0};
	bool has_ret = sc->errno_ret_case == GRPC__LINUX_SYSCALL__ERRNO_RET_ERRNORET;

	if (seccomp_action_from_name(sc->action, has_ret, has_ret ? sc->errnoret : 0, &r.action) <
	    0)
		return agent_error_set(err, EINVAL, "linux.seccomp.syscalls[%zu]: bad action", idx);
	if (r.action == def_action)
		return 0;

	unsigned seen[SECCOMP_MAX_ARGS] = {0};
	bool repeated = false;
	for (size_t j = 0; j < sc->n_args; j++)
		if (seen[sc->args[j]->index]++)
			repeated = true;

	if (!repeated) {
		for (size_t j = 0; j < sc->n_args; j++)
			r.cmp[r.n_cmp++] = arg_cmp(sc->args[j]);
		return add_for_names(ctx, sc, &r, idx, err);
	}
	int total = 0;
	r.n_cmp = 1;
	for (size_t j = 0; j < sc->n_args; j++) {
		r.cmp[0] = arg_cmp(sc->args[j]);
		int n = add_for_names(ctx, sc, &r, idx, err);
		if (n < 0)
			return n;
		total += n;
	}
	return total;
}

static int set_attr(scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t v, const char *what,
		    agent_error_t **err)
{
	int rc = seccomp_attr_set(ctx, attr, v);
	if (rc < 0)
		return agent_error_setsys(err, -rc, "seccomp: %s", what);
	return 0;
}

int seccomp_load_oci(const Grpc__LinuxSeccomp *s, agent_error_t **err)
{
	_cleanup_(filter_releasep) scmp_filter_ctx ctx = NULL;
	uint32_t def_action;
	int r, rules = 0;

	if (!s)
		return 0;
	r = seccomp_validate(s, err);
	if (r < 0)
		return r;
	r = seccomp_action_from_name(s->defaultaction, false, 0, &def_action);
	if (r < 0)
		return agent_error_set(err, EINVAL, "linux.seccomp.defaultAction: bad action");

	ctx = seccomp_init(def_action);
	if (!ctx)
		return agent_error_set(err, EINVAL, "seccomp_init(%s) failed", s->defaultaction);
	/* The caller decides about no_new_privs (the NNP bit is not forced). */
	r = set_attr(ctx, SCMP_FLTATR_CTL_NNP, 0, "clearing the no_new_privs attribute", err);
	if (r < 0)
		return r;

	for (size_t i = 0; i < s->n_architectures; i++) {
		uint32_t arch;
		if (seccomp_arch_from_name(s->architectures[i], &arch) < 0)
			return agent_error_set(err, EINVAL, "linux.seccomp.architectures[%zu]", i);
		int rc = seccomp_arch_add(ctx, arch);
		if (rc < 0 && rc != -EEXIST)
			return agent_error_setsys(err, -rc, "linux.seccomp.architectures[%zu]: %s",
						  i, s->architectures[i]);
	}
	for (size_t i = 0; i < s->n_flags; i++) {
		int attr = seccomp_flag_from_name(s->flags[i]);
		if (attr < 0)
			return agent_error_set(err, EINVAL, "linux.seccomp.flags[%zu]", i);
		r = set_attr(ctx, (enum scmp_filter_attr)attr, 1, s->flags[i], err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < s->n_syscalls; i++) {
		r = add_syscall(ctx, def_action, s->syscalls[i], i, err);
		if (r < 0)
			return r;
		rules += r;
	}
	if (rules > SECCOMP_TREE_MIN_RULES)
		(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);

	r = seccomp_load(ctx);
	if (r < 0)
		return agent_error_setsys(err, -r, "loading the seccomp filter");
	return 0;
}
