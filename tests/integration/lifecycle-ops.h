/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operations of the lifecycle fuzzer (test-lifecycle-fuzz.c) as plain data: a sequence is a
 * pure function of its seed, so a failing run is replayed from the seed alone, and it has a
 * one-line-per-operation text form that replays it without the generator (regression
 * sequences, LIFECYCLE_OPS).
 *
 * Text form of one operation: NAME CID EID SIG MUT ARG, e.g. "create c1 = 0 0x0 0", where CID
 * and EID are tokens of the id tables below ('' is the empty string, = as exec id means "the
 * container id", i.e. the init process), SIG a signal number, MUT a hex bit set of mutations
 * and ARG a small selector (payload program, read length, ...). Operations are separated by
 * newlines or ';'; text after '#' is a comment.
 */
#ifndef AGENT_ITEST_LIFECYCLE_OPS_H
#define AGENT_ITEST_LIFECYCLE_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum lc_kind {
	LC_SANDBOX,
	LC_CREATE,
	LC_START,
	LC_EXEC,
	LC_SIGNAL,
	LC_KILL, /* kill(2) from the test, of a process of the agent's tree (as the OOM killer) */
	LC_PAUSE,
	LC_RESUME,
	LC_UPDATE,
	LC_WAIT,
	LC_READ,
	LC_WRITE,
	LC_CLOSE_STDIN,
	LC_RESIZE,
	LC_STATS,
	LC_OOM,
	LC_REMOVE,
	LC_CHECK,
	LC_DESTROY,
	LC_N_KINDS
};

struct lc_op {
	enum lc_kind kind;
	uint8_t cid; /* index into lc_cids */
	uint8_t eid; /* index into lc_eids */
	int32_t sig;
	uint32_t mut;
	uint32_t arg;
};

/* Container ids: the first LC_GOOD_CIDS are the ones containers are normally created with. */
#define LC_GOOD_CIDS 3
#define LC_N_CIDS 7
extern const char *const lc_cids[LC_N_CIDS];
/* Exec ids; "=" stands for the container id. */
#define LC_N_EIDS 5
extern const char *const lc_eids[LC_N_EIDS];

/* Spec mutations (CREATE; EXEC uses the process ones). */
enum {
	LC_M_TTY = 1u << 0,
	LC_M_USER = 1u << 1,
	LC_M_NO_PIDNS = 1u << 2,
	LC_M_NO_NS = 1u << 3,
	LC_M_NETNS = 1u << 4,
	LC_M_MEMLIMIT = 1u << 5,
	LC_M_CG_SHARED = 1u << 6,
	LC_M_CG_NESTED = 1u << 7,
	LC_M_NO_ARGS = 1u << 8,
	LC_M_BAD_CWD = 1u << 9,
	LC_M_PIDS = 1u << 10,
	LC_M_BAD_BIN = 1u << 11,
	LC_M_RO_ROOT = 1u << 12,
	LC_M_NOBODY = 1u << 13,
	LC_M_NO_LINUX = 1u << 14,
	LC_M_NO_PROCESS = 1u << 15,
	/* A hostile host's shapes (issues 11 and 18): the agent must refuse or survive them. */
	LC_M_NO_MNTNS = 1u << 16, /* no mount namespace */
	LC_M_ROOT_OUT = 1u << 17, /* root.path "/" */
	LC_M_BIND_OUT = 1u << 18, /* a bind mount of the guest's "/" */
	LC_M_SPEC_HOOK = 1u << 19, /* a prestart hook from the spec */
	LC_M_PASSWD_FIFO = 1u << 20, /* /etc/passwd a FIFO while the create runs, no HOME */
	LC_M_BITS = 21
};

/* Payload programs a container or an exec runs, chosen by ARG. */
#define LC_N_PROGRAMS 10
/* The payload's arguments (after /bin/payload) of program i, NULL-terminated. */
const char *const *lc_program(uint32_t i);

/* A deterministic generator (splitmix64). */
struct lc_rng {
	uint64_t s;
};
uint64_t lc_rng_next(struct lc_rng *r);
uint32_t lc_rng_below(struct lc_rng *r, uint32_t n);

/* Fills ops (capacity cap) from seed; returns the count (>= 1). */
size_t lc_generate(uint64_t seed, struct lc_op *ops, size_t cap);

const char *lc_kind_name(enum lc_kind k);
/* One operation in the text form, with a comment saying what it does. */
void lc_op_print(FILE *f, const struct lc_op *op);
void lc_ops_print(FILE *f, const struct lc_op *ops, size_t n);
/* Parses the text form; returns the count, or -1 (and a message on stderr) on a bad line. */
long lc_ops_parse(const char *text, struct lc_op *ops, size_t cap);

#endif
