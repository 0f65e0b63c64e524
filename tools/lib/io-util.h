/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to the client library: deadlines and blocking I/O helpers. */
#ifndef AGENT_CLIENT_IO_UTIL_H
#define AGENT_CLIENT_IO_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* CLOCK_MONOTONIC in milliseconds. */
int64_t client_io_now_ms(void);

/* A deadline for timeout_ms from now; timeout_ms < 0 gives -1 (never). */
int64_t client_io_deadline(int timeout_ms);

/* Milliseconds left until deadline for poll(): -1 for never, 0 when passed. */
int client_io_remaining_ms(int64_t deadline);

/*
 * Waits until fd is readable (or hung up) or the deadline passes.
 * Returns 1 readable, 0 timed out, negative errno.
 */
int client_io_wait_readable(int fd, int64_t deadline);

/* Writes all of iov (modifies it); uses MSG_NOSIGNAL on sockets. Negative errno on failure. */
int client_io_write_all(int fd, struct iovec *iov, int n);

#endif
