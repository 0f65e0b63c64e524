// SPDX-License-Identifier: Apache-2.0
#include "lifecycle-ops.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* c9 is well-formed but never the target of a create weighted like c1..c3; the rest are bad. */
const char *const lc_cids[LC_N_CIDS] = {"c1", "c2", "c3", "c9", "", "x", "../c1"};
const char *const lc_eids[LC_N_EIDS] = {"", "=", "e1", "e2", "nope"};

static const char *const programs[LC_N_PROGRAMS][6] = {
	{"sleep", "100", NULL},
	{"exit", "3", NULL},
	{"echo", "hi", NULL},
	{"cat", NULL},
	{"daemon", "100", NULL},
	{"kill-self", "9", NULL},
	{"write-stdout", "300000", NULL},
	{"alloc", "48", NULL},
	{"wait-signal", NULL},
	{"sleep", "0.2", "--", "exit", "0", NULL},
};

const char *const *lc_program(uint32_t i)
{
	return programs[i % LC_N_PROGRAMS];
}

static const char *const kind_names[LC_N_KINDS] = {
	[LC_SANDBOX] = "sandbox",
	[LC_CREATE] = "create",
	[LC_START] = "start",
	[LC_EXEC] = "exec",
	[LC_SIGNAL] = "signal",
	[LC_KILL] = "kill",
	[LC_PAUSE] = "pause",
	[LC_RESUME] = "resume",
	[LC_UPDATE] = "update",
	[LC_WAIT] = "wait",
	[LC_READ] = "read",
	[LC_WRITE] = "write",
	[LC_CLOSE_STDIN] = "close-stdin",
	[LC_RESIZE] = "resize",
	[LC_STATS] = "stats",
	[LC_OOM] = "oom",
	[LC_REMOVE] = "remove",
	[LC_CHECK] = "check",
	[LC_DESTROY] = "destroy",
};

const char *lc_kind_name(enum lc_kind k)
{
	return k < LC_N_KINDS ? kind_names[k] : "?";
}

uint64_t lc_rng_next(struct lc_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint32_t lc_rng_below(struct lc_rng *r, uint32_t n)
{
	return n ? (uint32_t)(lc_rng_next(r) % n) : 0;
}

/* Relative frequency of each operation in a generated sequence. */
static const unsigned weights[LC_N_KINDS] = {
	[LC_SANDBOX] = 1,     [LC_CREATE] = 14, [LC_START] = 12,  [LC_EXEC] = 9,
	[LC_SIGNAL] = 10,     [LC_KILL] = 6,	[LC_PAUSE] = 4,	  [LC_RESUME] = 4,
	[LC_UPDATE] = 3,      [LC_WAIT] = 8,	[LC_READ] = 8,	  [LC_WRITE] = 4,
	[LC_CLOSE_STDIN] = 2, [LC_RESIZE] = 1,	[LC_STATS] = 2,	  [LC_OOM] = 1,
	[LC_REMOVE] = 8,      [LC_CHECK] = 2,	[LC_DESTROY] = 1,
};

static const int32_t signals[] = {9, 9, 9, 15, 15, 0, 2, 19, 18, 10, 64, -1, 1000};

/* A sparse mutation set: most specs stay valid, some carry one or two changes. */
static uint32_t gen_mut(struct lc_rng *r)
{
	uint32_t m = 0;
	unsigned n = lc_rng_below(r, 10) < 6 ? 0 : 1 + lc_rng_below(r, 2);
	for (unsigned i = 0; i < n; i++)
		m |= 1u << lc_rng_below(r, LC_M_BITS);
	return m;
}

static void gen_one(struct lc_rng *r, struct lc_op *op)
{
	unsigned total = 0, pick;
	for (int k = 0; k < LC_N_KINDS; k++)
		total += weights[k];
	pick = lc_rng_below(r, total);
	int k = 0;
	while (pick >= weights[k])
		pick -= weights[k++];
	memset(op, 0, sizeof(*op));
	op->kind = (enum lc_kind)k;
	/* Mostly c1..c3 (c1 and c2 most), sometimes a bad or unknown id. */
	uint32_t c = lc_rng_below(r, 20);
	op->cid = c < 8 ? 0 : c < 14 ? 1 : c < 17 ? 2 : 3 + lc_rng_below(r, LC_N_CIDS - 3);
	uint32_t x = lc_rng_below(r, 10);
	op->eid = x < 3 ? 0 : x < 6 ? 1 : x < 8 ? 2 : 3 + lc_rng_below(r, LC_N_EIDS - 3);
	op->arg = lc_rng_below(r, 64);
	switch (op->kind) {
	case LC_CREATE:
		op->mut = gen_mut(r);
		op->eid = 1;
		op->arg %= LC_N_PROGRAMS;
		break;
	case LC_EXEC:
		op->mut = gen_mut(r) & (LC_M_TTY | LC_M_USER | LC_M_NO_ARGS | LC_M_BAD_CWD |
					LC_M_BAD_BIN | LC_M_NOBODY | LC_M_NO_PROCESS);
		if (op->eid == 1)
			op->eid = 2 + lc_rng_below(r, 2); /* mostly a fresh exec id */
		op->arg %= LC_N_PROGRAMS;
		break;
	case LC_SIGNAL:
	case LC_KILL:
		op->sig = signals[lc_rng_below(r, sizeof(signals) / sizeof(signals[0]))];
		if (op->kind == LC_KILL && (op->sig <= 0 || op->sig >= 64))
			op->sig = 9;
		break;
	case LC_UPDATE:
		op->mut = lc_rng_below(r, 8);
		break;
	default:
		break;
	}
}

size_t lc_generate(uint64_t seed, struct lc_op *ops, size_t cap)
{
	struct lc_rng r = {seed};
	size_t n = 4 + lc_rng_below(&r, 28), i = 0;

	if (n > cap)
		n = cap;
	/* Like the runtime, nearly always a sandbox first. */
	if (lc_rng_below(&r, 10) < 9) {
		memset(&ops[0], 0, sizeof(ops[0]));
		ops[0].kind = LC_SANDBOX;
		i = 1;
	}
	for (; i < n; i++) {
		gen_one(&r, &ops[i]);
		/* The agent stops after DestroySandbox: only ever the last operation. */
		if (ops[i].kind == LC_DESTROY && i + 1 < n)
			ops[i].kind = LC_CHECK;
	}
	return n;
}

/* --- text form ------------------------------------------------------------------------------ */

static const char *id_token(const char *s)
{
	return *s ? s : "''";
}

static void describe(FILE *f, const struct lc_op *op)
{
	const char *const *p = lc_program(op->arg);
	switch (op->kind) {
	case LC_CREATE:
	case LC_EXEC:
		fprintf(f, " [");
		for (size_t i = 0; p[i]; i++)
			fprintf(f, "%s%s", i ? " " : "", p[i]);
		fprintf(f, "]");
		for (unsigned b = 0; b < LC_M_BITS; b++) {
			static const char *const names[LC_M_BITS] = {
				"tty",	      "user1000",   "no-pidns",	 "no-ns",    "netns",
				"memlimit",   "cg-shared",  "cg-nested", "no-args",  "bad-cwd",
				"pids",	      "bad-binary", "ro-root",	 "nobody",   "no-linux",
				"no-process", "no-mntns",   "root-out",	 "bind-out", "spec-hook",
				"passwd-fifo"};
			if (op->mut & (1u << b))
				fprintf(f, " %s", names[b]);
		}
		break;
	case LC_SIGNAL:
	case LC_KILL:
		fprintf(f, " signal %d", op->sig);
		break;
	default:
		break;
	}
}

void lc_op_print(FILE *f, const struct lc_op *op)
{
	fprintf(f, "%s %s %s %d 0x%x %u", lc_kind_name(op->kind), id_token(lc_cids[op->cid]),
		id_token(lc_eids[op->eid]), op->sig, op->mut, op->arg);
	fprintf(f, "  #");
	describe(f, op);
	fputc('\n', f);
}

void lc_ops_print(FILE *f, const struct lc_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "  ");
		lc_op_print(f, &ops[i]);
	}
}

static int lookup(const char *tok, const char *const *table, size_t n)
{
	if (!strcmp(tok, "''"))
		tok = "";
	for (size_t i = 0; i < n; i++)
		if (!strcmp(tok, table[i]))
			return (int)i;
	return -1;
}

long lc_ops_parse(const char *text, struct lc_op *ops, size_t cap)
{
	size_t n = 0;
	const char *p = text;

	while (*p) {
		size_t len = strcspn(p, ";\n");
		char line[256], name[32], cid[32], eid[32];
		int sig, k, c, x;
		unsigned mut, arg;

		snprintf(line, sizeof(line), "%.*s", (int)(len < 255 ? len : 255), p);
		p += len;
		if (*p)
			p++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *s = line;
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			continue;
		if (sscanf(s, "%31s %31s %31s %d %x %u", name, cid, eid, &sig, &mut, &arg) != 6) {
			fprintf(stderr, "lifecycle ops: cannot parse \"%s\"\n", s);
			return -1;
		}
		for (k = 0; k < LC_N_KINDS && strcmp(name, kind_names[k]); k++)
			;
		c = lookup(cid, lc_cids, LC_N_CIDS);
		x = lookup(eid, lc_eids, LC_N_EIDS);
		if (k == LC_N_KINDS || c < 0 || x < 0 || n == cap) {
			fprintf(stderr, "lifecycle ops: bad operation \"%s\"\n", s);
			return -1;
		}
		ops[n++] = (struct lc_op){(enum lc_kind)k, (uint8_t)c, (uint8_t)x, sig, mut, arg};
	}
	return (long)n;
}
