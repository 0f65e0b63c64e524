/* SPDX-License-Identifier: Apache-2.0 */
/* The memcg work of the mem-agent that touches the kernel (see memagent-memcg.h). */
#include "sandbox/memagent-memcg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "guest/memagent-compact.h"
#include "loop/loop.h"

static int some_total(const char *dir, const char *name, uint64_t *ret)
{
	char path[4096], buf[512];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	int r = read_file_small(path, buf, sizeof(buf));
	if (r < 0 && r != -EFBIG)
		return r;
	return memagent_psi_some_total(buf, ret);
}

static int dir_total(const char *dir, uint64_t *ret)
{
	uint64_t m, i;
	int r = some_total(dir, "memory.pressure", &m);

	if (r < 0)
		return r;
	r = some_total(dir, "io.pressure", &i);
	if (r < 0)
		return r;
	*ret = m + i;
	return 0;
}

int memagent_memcg_psi_total(const char *psi_root, const char *path, uint64_t *ret)
{
	char dir[4096];
	uint64_t own, children = 0;

	while (*path == '/')
		path++;
	if ((size_t)snprintf(dir, sizeof(dir), "%s%s%s", psi_root, *path ? "/" : "", path) >=
	    sizeof(dir))
		return -ENAMETOOLONG;
	int r = dir_total(dir, &own);
	if (r < 0)
		return r;
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	for (struct dirent *e; (e = readdir(d));) {
		char sub[4096];
		uint64_t t;
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) >= sizeof(sub))
			continue;
		if (dir_total(sub, &t) == 0)
			children += t;
	}
	closedir(d);
	*ret = own > children ? own - children : 0;
	return 0;
}

/* Free swap above 256 pages, as upstream asks before swapping. */
static bool swap_free(const char *meminfo)
{
	_cleanup_free_ char *t = NULL;
	uint64_t kb;
	long page = sysconf(_SC_PAGESIZE);

	if (read_file_all(meminfo, 1 << 20, &t) < 0 || memagent_meminfo_kb(t, "SwapFree", &kb) < 0)
		return false;
	return kb > 256 * (uint64_t)(page > 0 ? page : 4096) / 1024;
}

static int command(int fd, const char *cmd)
{
	size_t n = strlen(cmd);
	return write(fd, cmd, n) == (ssize_t)n ? 0 : -errno;
}

/* The entry of the lru_gen text for g's memcg (same id and path) and node, or NULL. */
static const struct memagent_lru_gen *find(const struct memagent_lru_gen *all, size_t n,
					   const struct memagent_lru_gen *g)
{
	for (size_t i = 0; i < n; i++)
		if (all[i].memcg_id == g->memcg_id && all[i].node == g->node &&
		    !strcmp(all[i].path, g->path))
			return &all[i];
	return NULL;
}

struct evicting {
	struct memagent_evict ev;
	struct memagent_psi_period psi;
	enum memagent_evict_stop stop;
	bool done;
};

static void report(int fd, const char *what, const struct memagent_lru_gen *g,
		   const struct memagent_evict *ev, const char *stop)
{
	char line[MEMAGENT_MEMCG_PATH_MAX + 128];
	int n = snprintf(line, sizeof(line), "%s %u %llu %llu %s|%s\n", what, g->node,
			 (unsigned long long)(ev ? ev->file_pages : 0),
			 (unsigned long long)(ev ? ev->anon_pages : 0), stop, g->path);
	if (n > 0 && (size_t)n < sizeof(line))
		write_nosigpipe(fd, line, (size_t)n);
}

int memagent_memcg_child_run(const struct memagent_memcg_child *c)
{
	bool swap = c->cfg.swap && swap_free(c->meminfo);
	char cmd[128];
	int fd = open(c->lru_gen, O_WRONLY | O_CLOEXEC);
	size_t left = 0;

	if (fd < 0)
		return 2;
	struct evicting *st = calloc(c->n_jobs ? c->n_jobs : 1, sizeof(*st));
	if (!st) {
		close(fd);
		return 3;
	}
	/* Aging: a new youngest generation for each (forced scan, as upstream). */
	for (size_t i = 0; i < c->n_jobs; i++) {
		const struct memagent_lru_gen *g = &c->jobs[i].g;
		snprintf(cmd, sizeof(cmd), "+ %u %u %llu %d 1", g->memcg_id, g->node,
			 (unsigned long long)g->max_seq, swap ? 1 : 0);
		int r = command(fd, cmd);
		report(c->out_fd, "aged", g, NULL, r < 0 ? strerror(-r) : "ok");
		/* As upstream: one that failed to age is not evicted from. */
		st[i].done = r < 0 || !c->jobs[i].evict;
		left += !st[i].done;
		sched_yield();
	}
	/* Eviction, one batch per memcg per pass, each pass on a fresh lru_gen text. */
	while (left > 0) {
		_cleanup_free_ char *text = NULL;
		struct memagent_lru_gen *all = NULL;
		size_t n = 0;
		if (read_file_all(c->lru_gen, MEMAGENT_LRU_GEN_MAX, &text) < 0 ||
		    memagent_lru_gen_parse(text, MEMAGENT_MEMCG_MAX, &all, &n, NULL) < 0)
			break;
		bool swap_now = swap && swap_free(c->meminfo);
		for (size_t i = 0; i < c->n_jobs; i++) {
			struct evicting *s = &st[i];
			const struct memagent_lru_gen *g = &c->jobs[i].g;
			if (s->done)
				continue;
			const struct memagent_lru_gen *now = find(all, n, g);
			uint64_t total = 0, pct = 0;
			uint8_t swappiness = 0;
			if (now && memagent_memcg_psi_total(c->psi_root, g->path, &total) == 0)
				pct = memagent_psi_percent(&s->psi, total, loop_now_ms());
			s->stop = now ? memagent_evict_step(&c->cfg, &s->ev, now, swap, swap_now,
							    pct, &swappiness)
				      : MEMAGENT_EVICT_STOP_GENS;
			if (s->stop == MEMAGENT_EVICT_GO) {
				snprintf(cmd, sizeof(cmd), "- %u %u %llu %u 1", g->memcg_id,
					 g->node, (unsigned long long)now->min_seq, swappiness);
				if (command(fd, cmd) == 0) {
					sched_yield();
					continue;
				}
				s->stop = MEMAGENT_EVICT_STOP_GENS;
			}
			s->done = true;
			left--;
			report(c->out_fd, "evicted", g, &s->ev, memagent_evict_stop_name(s->stop));
		}
		free(all);
	}
	free(st);
	close(fd);
	return 0;
}
