/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup v2 device filter: a BPF_PROG_TYPE_CGROUP_DEVICE program built by hand
 * from the rule list and loaded with the raw bpf(2) syscall.
 *
 * The program tests the rules from last to first; the first that matches
 * decides (so the last matching rule wins, as in the v1 device cgroup), and
 * nothing matching means deny. Allow rules match only when they cover every
 * access bit requested; deny rules match when they cover any of them.
 */
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>

#include "internal.h"

#define CG_DEV_RULES_MAX 4096

struct prog {
	struct bpf_insn *insn;
	size_t n, cap;
};

static int emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 64;
		struct bpf_insn *ni = realloc(p->insn, nc * sizeof(*ni));
		if (!ni)
			return -ENOMEM;
		p->insn = ni;
		p->cap = nc;
	}
	p->insn[p->n++] = (struct bpf_insn){
		.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
	return 0;
}

static uint32_t to_bpf_access(unsigned a)
{
	return (a & CG_DEV_R ? BPF_DEVCG_ACC_READ : 0) | (a & CG_DEV_W ? BPF_DEVCG_ACC_WRITE : 0) |
	       (a & CG_DEV_M ? BPF_DEVCG_ACC_MKNOD : 0);
}

/* Registers: r2 access bits, r3 device type, r4 major, r5 minor, r6 scratch. */
static int emit_rule(struct prog *p, const struct cg_dev_rule *r, bool *ret_unconditional)
{
	size_t jumps[4], nj = 0;
	int k = 0;
	uint32_t acc = to_bpf_access(r->access);
	uint32_t all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;

	if (r->type != 'a') {
		jumps[nj++] = p->n;
		k |= emit(p, BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_3, 0, 0,
			  r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
	}
	if (r->major >= 0) {
		jumps[nj++] = p->n;
		k |= emit(p, BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, (int32_t)r->major);
	}
	if (r->minor >= 0) {
		jumps[nj++] = p->n;
		k |= emit(p, BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, (int32_t)r->minor);
	}
	if (acc != all) {
		k |= emit(p, BPF_ALU | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_2, 0, 0);
		k |= emit(p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_6, 0, 0,
			  (int32_t)(r->allow ? (all & ~acc) : acc));
		jumps[nj++] = p->n;
		k |= emit(p, BPF_JMP32 | (r->allow ? BPF_JNE : BPF_JEQ) | BPF_K, BPF_REG_6, 0, 0,
			  0);
	}
	k |= emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, r->allow ? 1 : 0);
	k |= emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	if (k)
		return -ENOMEM;
	for (size_t i = 0; i < nj; i++)
		p->insn[jumps[i]].off = (int16_t)(p->n - jumps[i] - 1);
	*ret_unconditional = nj == 0;
	return 0;
}

static int build(const struct cg_dev_rule *rules, size_t n, struct prog *p)
{
	int k = 0;
	bool done = false;

	k |= emit(p, BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0);
	k |= emit(p, BPF_ALU | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0);
	k |= emit(p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_3, 0, 0, 0xffff);
	k |= emit(p, BPF_ALU | BPF_RSH | BPF_K, BPF_REG_2, 0, 0, 16);
	k |= emit(p, BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, 4, 0);
	k |= emit(p, BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, 8, 0);
	if (k)
		return -ENOMEM;
	/* Rules after an unconditional one would be unreachable, which the verifier refuses. */
	for (size_t i = n; i > 0 && !done; i--) {
		int r = emit_rule(p, &rules[i - 1], &done);
		if (r < 0)
			return r;
	}
	if (!done) {
		k |= emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
		k |= emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	}
	return k ? -ENOMEM : 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int load(const struct prog *p, agent_error_t **err)
{
	static const char license[] = "Apache-2.0";
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)p->insn;
	attr.insn_cnt = (uint32_t)p->n;
	attr.license = (uint64_t)(uintptr_t)license;
	int fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	int e = errno;
	if (e != EINVAL && e != EACCES)
		return agent_error_setsys(err, e, "loading the device cgroup BPF program");

	/* Load again with the verifier log so the error says why. */
	_cleanup_free_ char *log = calloc(1, 16384);
	if (!log)
		return agent_error_setsys(err, e, "loading the device cgroup BPF program");
	attr.log_level = 1;
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = 16384;
	fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	size_t len = strnlen(log, 16383);
	const char *tail = len > 300 ? log + len - 300 : log;
	return agent_error_setsys(err, e, "loading the device cgroup BPF program (%s)", tail);
}

int cg_bpf_devices_apply(const char *dir, const struct cg_dev_rule *rules, size_t n, int *prog_fd,
			 agent_error_t **err)
{
	struct prog p = {0};
	union bpf_attr attr;

	if (n > CG_DEV_RULES_MAX)
		return agent_error_set(err, E2BIG, "too many device rules (%zu)", n);
	int r = build(rules, n, &p);
	if (r < 0) {
		free(p.insn);
		return agent_error_set(err, -r, "building the device cgroup BPF program");
	}
	_cleanup_close_ int fd = load(&p, err);
	free(p.insn);
	if (fd < 0)
		return fd;

	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return agent_error_setsys(err, errno, "open %s", dir);

	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)dfd;
	attr.attach_bpf_fd = (uint32_t)fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
		return agent_error_setsys(err, errno, "attaching the device BPF program to %s",
					  dir);

	if (*prog_fd >= 0) {
		memset(&attr, 0, sizeof(attr));
		attr.target_fd = (uint32_t)dfd;
		attr.attach_bpf_fd = (uint32_t)*prog_fd;
		attr.attach_type = BPF_CGROUP_DEVICE;
		if (sys_bpf(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT) {
			int e = errno;
			/* Keep one program: take the new one off again. */
			attr.attach_bpf_fd = (uint32_t)fd;
			sys_bpf(BPF_PROG_DETACH, &attr);
			return agent_error_setsys(
				err, e, "detaching the old device BPF program from %s", dir);
		}
		close(*prog_fd);
	}
	*prog_fd = TAKE_FD(fd);
	return 0;
}
