/* SPDX-License-Identifier: Apache-2.0 */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "base/macro.h"

#define LOOP_MAX_EVENTS 64
#define LOOP_NSIG 65

struct loop_io {
	int fd;
	uint32_t events;
	loop_io_fn fn;
	void *data;
	bool dead;
	struct loop_io *next_dead;
};

struct loop_timer {
	uint64_t deadline;
	uint64_t seq; /* ties broken by insertion order */
	size_t idx; /* position in the heap */
	loop_timer_fn fn;
	void *data;
};

struct loop {
	int epfd;
	int timerfd;
	int sigfd;
	sigset_t sigmask;
	struct {
		loop_signal_fn fn;
		void *data;
	} sig[LOOP_NSIG];
	struct loop_timer **heap;
	size_t n_timers, cap_timers;
	uint64_t timer_seq;
	uint64_t armed; /* deadline the timerfd is set for, 0 = disarmed */
	struct loop_io *dead;
	bool quit;
	int quit_code;
};

/* Marker objects for the loop's own fds, distinguished by address. */
static char timer_tag, signal_tag;

uint64_t loop_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int loop_new(struct loop **ret)
{
	struct loop *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->timerfd = l->sigfd = -1;
	sigemptyset(&l->sigmask);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		goto fail;
	l->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->timerfd < 0)
		goto fail;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &timer_tag};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->timerfd, &ev) < 0)
		goto fail;
	*ret = l;
	return 0;
fail:;
	int r = -errno;
	loop_free(l);
	return r;
}

static void reap_dead(struct loop *l)
{
	while (l->dead) {
		struct loop_io *io = l->dead;
		l->dead = io->next_dead;
		free(io);
	}
}

struct loop *loop_free(struct loop *l)
{
	if (!l)
		return NULL;
	reap_dead(l);
	for (size_t i = 0; i < l->n_timers; i++)
		free(l->heap[i]);
	free(l->heap);
	safe_close(l->timerfd);
	safe_close(l->sigfd);
	safe_close(l->epfd);
	free(l);
	return NULL;
}

int loop_signal_add(struct loop *l, int signo, loop_signal_fn fn, void *data)
{
	if (signo <= 0 || signo >= LOOP_NSIG)
		return -EINVAL;
	sigaddset(&l->sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &l->sigmask, NULL) < 0)
		return -errno;
	int fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (l->sigfd < 0) {
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &signal_tag};
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			int r = -errno;
			close(fd);
			return r;
		}
	}
	l->sigfd = fd;
	l->sig[signo].fn = fn;
	l->sig[signo].data = data;
	return 0;
}

struct loop_io *loop_io_add(struct loop *l, int fd, uint32_t events, loop_io_fn fn, void *data)
{
	struct loop_io *io = calloc(1, sizeof(*io));
	if (!io) {
		errno = ENOMEM;
		return NULL;
	}
	io->fd = fd;
	io->events = events;
	io->fn = fn;
	io->data = data;
	struct epoll_event ev = {.events = events, .data.ptr = io};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;
		free(io);
		errno = e;
		return NULL;
	}
	return io;
}

int loop_io_set_events(struct loop *l, struct loop_io *io, uint32_t events)
{
	if (!io || io->dead)
		return -EINVAL;
	if (io->events == events)
		return 0;
	struct epoll_event ev = {.events = events, .data.ptr = io};
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		return -errno;
	io->events = events;
	return 0;
}

uint32_t loop_io_events(const struct loop_io *io)
{
	return io ? io->events : 0;
}

struct loop_io *loop_io_del(struct loop *l, struct loop_io *io)
{
	if (!io || io->dead)
		return NULL;
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->dead = true;
	io->next_dead = l->dead;
	l->dead = io;
	return NULL;
}

/* ---- timers: a binary min-heap on (deadline, seq) ---- */

static bool timer_less(const struct loop_timer *a, const struct loop_timer *b)
{
	return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void heap_swap(struct loop *l, size_t i, size_t j)
{
	struct loop_timer *t = l->heap[i];
	l->heap[i] = l->heap[j];
	l->heap[j] = t;
	l->heap[i]->idx = i;
	l->heap[j]->idx = j;
}

static void heap_up(struct loop *l, size_t i)
{
	while (i > 0 && timer_less(l->heap[i], l->heap[(i - 1) / 2])) {
		heap_swap(l, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t m = i, a = 2 * i + 1, b = 2 * i + 2;
		if (a < l->n_timers && timer_less(l->heap[a], l->heap[m]))
			m = a;
		if (b < l->n_timers && timer_less(l->heap[b], l->heap[m]))
			m = b;
		if (m == i)
			return;
		heap_swap(l, i, m);
		i = m;
	}
}

static void heap_remove(struct loop *l, size_t i)
{
	l->n_timers--;
	if (i != l->n_timers) {
		l->heap[i] = l->heap[l->n_timers];
		l->heap[i]->idx = i;
		heap_down(l, i);
		heap_up(l, i);
	}
}

static void rearm(struct loop *l)
{
	uint64_t want = l->n_timers ? l->heap[0]->deadline : 0;
	if (want == l->armed)
		return;
	struct itimerspec its = {0};
	if (want) {
		/* An absolute deadline of 0 would disarm: keep it at least 1 ms. */
		uint64_t d = want ? want : 1;
		its.it_value.tv_sec = d / 1000;
		its.it_value.tv_nsec = (d % 1000) * 1000000;
	}
	if (timerfd_settime(l->timerfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		l->armed = want;
}

struct loop_timer *loop_timer_add(struct loop *l, uint64_t deadline_ms, loop_timer_fn fn,
				  void *data)
{
	if (l->n_timers == l->cap_timers) {
		size_t cap = l->cap_timers ? l->cap_timers * 2 : 16;
		struct loop_timer **h = realloc(l->heap, cap * sizeof(*h));
		if (!h)
			return NULL;
		l->heap = h;
		l->cap_timers = cap;
	}
	struct loop_timer *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->deadline = deadline_ms ? deadline_ms : 1;
	t->seq = ++l->timer_seq;
	t->fn = fn;
	t->data = data;
	t->idx = l->n_timers;
	l->heap[l->n_timers++] = t;
	heap_up(l, t->idx);
	rearm(l);
	return t;
}

struct loop_timer *loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	if (!t)
		return NULL;
	heap_remove(l, t->idx);
	free(t);
	rearm(l);
	return NULL;
}

static void run_timers(struct loop *l)
{
	uint64_t expirations;
	(void)!read(l->timerfd, &expirations, sizeof(expirations));
	l->armed = 0;
	uint64_t now = loop_now_ms();
	/* Bounded: only timers due now, one at a time (a callback may add or cancel timers). */
	while (l->n_timers && l->heap[0]->deadline <= now && !l->quit) {
		struct loop_timer *t = l->heap[0];
		heap_remove(l, 0);
		t->fn(t, t->data);
		free(t);
	}
	rearm(l);
}

static void run_signals(struct loop *l)
{
	struct signalfd_siginfo si[8];
	for (;;) {
		ssize_t n = read(l->sigfd, si, sizeof(si));
		if (n <= 0)
			return;
		for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++) {
			unsigned s = si[i].ssi_signo;
			if (s < LOOP_NSIG && l->sig[s].fn)
				l->sig[s].fn(&si[i], l->sig[s].data);
		}
	}
}

int loop_run_once(struct loop *l, int timeout_ms)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];
	int n = epoll_wait(l->epfd, evs, LOOP_MAX_EVENTS, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n && !l->quit; i++) {
		void *p = evs[i].data.ptr;
		if (p == &timer_tag) {
			run_timers(l);
		} else if (p == &signal_tag) {
			run_signals(l);
		} else {
			struct loop_io *io = p;
			if (!io->dead)
				io->fn(io, io->fd, evs[i].events, io->data);
		}
	}
	reap_dead(l);
	return n;
}

int loop_run(struct loop *l)
{
	while (!l->quit) {
		int r = loop_run_once(l, -1);
		if (r < 0)
			return r;
	}
	return l->quit_code;
}

void loop_quit(struct loop *l, int code)
{
	l->quit = true;
	l->quit_code = code;
}
