/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's one event loop: epoll for fds, one timerfd behind a heap of
 * timers, one signalfd for every handled signal. Single-threaded by design
 * (docs/architecture.md). Handles are owned by the loop: removing one during a
 * dispatch is safe, it is freed after the current batch.
 */
#ifndef AGENT_LOOP_LOOP_H
#define AGENT_LOOP_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

struct loop;
struct loop_io;
struct loop_timer;

typedef void (*loop_io_fn)(struct loop_io *io, int fd, uint32_t events, void *data);
typedef void (*loop_timer_fn)(struct loop_timer *t, void *data);
typedef void (*loop_signal_fn)(const struct signalfd_siginfo *si, void *data);

int loop_new(struct loop **ret);
struct loop *loop_free(struct loop *l);

/* Blocks the signal (for the whole process) and routes it to fn. One handler per signal. */
int loop_signal_add(struct loop *l, int signo, loop_signal_fn fn, void *data);

/* Watches fd (not owned) for events; returns a handle, or NULL with errno set. */
struct loop_io *loop_io_add(struct loop *l, int fd, uint32_t events, loop_io_fn fn, void *data);
int loop_io_set_events(struct loop *l, struct loop_io *io, uint32_t events);
uint32_t loop_io_events(const struct loop_io *io);
/* Stops watching; the fd is not closed. Always returns NULL. */
struct loop_io *loop_io_del(struct loop *l, struct loop_io *io);

uint64_t loop_now_ms(void); /* CLOCK_MONOTONIC in ms */
/* Calls fn once at deadline_ms (CLOCK_MONOTONIC). After it fires the handle is gone. */
struct loop_timer *loop_timer_add(struct loop *l, uint64_t deadline_ms, loop_timer_fn fn,
				  void *data);
/* Cancels a pending timer; always returns NULL. */
struct loop_timer *loop_timer_cancel(struct loop *l, struct loop_timer *t);

/* Runs until loop_quit(); returns the quit code. */
int loop_run(struct loop *l);
void loop_quit(struct loop *l, int code);
/* Runs one batch of events, waiting at most timeout_ms (-1 = forever). For tests. */
int loop_run_once(struct loop *l, int timeout_ms);

#endif
