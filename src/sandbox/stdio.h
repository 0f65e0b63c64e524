/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container process's stdio as the agent holds it: the parent ends of its
 * pipes (or the pty master), and the calls waiting on them.
 *
 * Output is never copied into agent memory ahead of a reader: ReadStdout and
 * ReadStderr read the pipe when a call is waiting, so a reader that does not
 * read leaves the data in the pipe and the writer blocks (back-pressure; memory
 * stays bounded by the pipe size). Reads of one stream are served in order.
 *
 * EOF (an empty reply) comes when every writer closed the pipe and it is
 * drained. The rule for a pipe that a daemonised grandchild keeps open: once
 * the process itself has exited, a read that finds the pipe empty waits at
 * most STDIO_DRAIN_MS for more data, then answers EOF and the stream is
 * closed. Data written by the grandchild after that is not delivered.
 */
#ifndef AGENT_SANDBOX_STDIO_H
#define AGENT_SANDBOX_STDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "loop/loop.h"

#define STDIO_DRAIN_MS 500
#define STDIO_READ_MAX (1024 * 1024) /* a ReadStdout len above this is cut to it */
#define STDIO_REPLY_MAX (128 * 1024) /* bytes per reply read on the stack */
/*
 * Bytes per reply read straight into the reply frame: a ReadStdout of 1 MiB is filled from
 * the pipe as far as it holds data. A little under 1 MiB, so that the frame stays within what
 * the server keeps for reuse (src/rpc/server.c): no fresh 1 MiB allocation per reply.
 */
#define STDIO_EXT_MAX (1020 * 1024)
/*
 * A container's stdout pipe when agent.container_pipe_size is not set (pipe-max-size's own
 * default): a writer of large blocks does not stop every 64 KiB, and a reply carries up to
 * this much. Its pages exist only while written and unread, charged to the writer's memory
 * cgroup. stderr keeps the kernel's default.
 */
#define STDIO_OUT_PIPE_SIZE (1024 * 1024)
#define STDIO_QUEUE_MAX 64 /* waiting calls per stream */
#define STDIO_WRITE_QUEUED_MAX (16 * 1024 * 1024) /* stdin bytes waiting per stream */
/*
 * Output that nobody reads after WaitProcess answered (src/sandbox/process.c): a waited
 * process keeps its pipes until its output reached EOF, but for at most STDIO_LINGER_MS, and
 * at most STDIO_LINGER_MAX such processes in the sandbox: past that the one waited for
 * longest is freed first (its unread output is dropped, its exec id answers NOT_FOUND).
 */
#define STDIO_LINGER_MS (30 * 1000)
#define STDIO_LINGER_MAX 128

struct stdio_req;
/* data/len valid only during the call; len 0 = EOF. r < 0: error (err owned by the callee). */
typedef void (*stdio_read_fn)(struct stdio_req *req, int r, agent_error_t *err, const void *data,
			      size_t len, void *ctx);
/*
 * Optional: where a read lands (e.g. straight in the reply frame), at most max
 * bytes; NULL means the stream's own buffer. Asked once per call.
 */
typedef unsigned char *(*stdio_buf_fn)(size_t max, void *ctx);
/* Write completion: r = bytes written (the whole request) or negative. */
typedef void (*stdio_write_fn)(struct stdio_req *req, int r, agent_error_t *err, void *ctx);

struct stdio_stream {
	struct loop *loop;
	int fd; /* owned; -1 when closed */
	bool is_pty, eof, exited, out;
	struct loop_io *io;
	struct loop_timer *drain;
	struct stdio_req *first, *last;
	size_t n_queued;
	size_t bytes_queued; /* stdin: bytes of waiting writes */
};

void stdio_stream_init(struct stdio_stream *s, struct loop *loop, int fd, bool out, bool is_pty);
/* Fails every waiting call with "stream closed" and closes the fd. */
void stdio_stream_release(struct stdio_stream *s);
/* The process exited: from now on empty reads are bounded by STDIO_DRAIN_MS. */
void stdio_stream_exited(struct stdio_stream *s);
/* Closes the fd (CloseStdin); waiting calls fail. */
void stdio_stream_close(struct stdio_stream *s);

/*
 * Queues a read of at most len bytes (len 0 is refused: INVALID_ARGUMENT). fn runs once: maybe
 * before this returns, which then returns 1 and leaves *ret alone; 0 when queued (*ret set).
 */
int stdio_read(struct stdio_stream *s, size_t len, stdio_read_fn fn, stdio_buf_fn buf_fn, void *ctx,
	       struct stdio_req **ret, agent_error_t **err);
/* Queues a write of the whole buffer (copied). fn runs once; returns as stdio_read. */
int stdio_write(struct stdio_stream *s, const void *data, size_t len, stdio_write_fn fn, void *ctx,
		struct stdio_req **ret, agent_error_t **err);
/* Withdraws a waiting call without calling it (its client went away). */
void stdio_cancel(struct stdio_stream *s, struct stdio_req *req);

#endif
