/* SPDX-License-Identifier: Apache-2.0 */
/*
 * passfd I/O (agent.passfd_listener_port): the host opens one vsock
 * connection per stdio stream to the agent's passfd port, then names each by
 * its host-side source port in CreateContainer / ExecProcess (stdin_port,
 * stdout_port, stderr_port). The process's output then goes to the host over
 * its own socket, not through ReadStdout.
 *
 * The port map (passfd_*): accepted streams wait, keyed by the peer's port,
 * until a call claims them. Port 0 means "no stream": that stdio stays a pipe
 * served by ReadStdout / WriteStdin, as without passfd. A stream that has not
 * arrived yet is waited for PASSFD_CLAIM_WAIT_MS (upstream retries three times
 * 100 ms apart); one that never comes leaves its stdio a plain pipe, as
 * upstream does. Unclaimed streams are bounded: at most PASSFD_WAITING_MAX
 * wait (the oldest is closed to make room) and each is closed after
 * PASSFD_UNCLAIMED_MS. A second stream from a port that already has one
 * replaces it (the older is closed), as upstream's map does.
 *
 * The relays (passfd_io_*): the process keeps pipes (or its pty) and the
 * agent copies between them and the sockets on the loop; see
 * docs/passfd.md for why a socket is never the process's own stdio.
 */
#ifndef AGENT_SANDBOX_PASSFD_H
#define AGENT_SANDBOX_PASSFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "loop/loop.h"
#include "sandbox/stdio.h"

#define PASSFD_WAITING_MAX 128 /* accepted streams not claimed yet */
#define PASSFD_UNCLAIMED_MS (60 * 1000) /* an unclaimed stream is closed after this */
#define PASSFD_CLAIM_WAIT_MS 300 /* a named stream that has not arrived is waited this long */
#define PASSFD_ACCEPT_RETRY_MS 200 /* out of fds: accept again after this */

struct passfd;
struct passfd_claim;

/*
 * A claim's end: fds[i] is the stream for stdin, stdout, stderr (owned by the
 * callee from now on), -1 where none was named or none came. r is
 * -ECANCELED (and every fd -1) when the map is freed first.
 */
typedef void (*passfd_claim_fn)(int r, int fds[3], void *ctx);

/* listen_fd: a listening vsock socket (owned), or -1 (streams only come from passfd_add). */
int passfd_new(struct loop *loop, int listen_fd, struct passfd **ret, agent_error_t **err);
/* Closes every waiting stream; claims still waiting end with -ECANCELED. NULL is fine. */
struct passfd *passfd_free(struct passfd *pf);
/* Bounds (tests use small ones): waiting streams, and how long one may wait unclaimed. */
void passfd_set_limits(struct passfd *pf, size_t max_waiting, uint64_t unclaimed_ms,
		       uint64_t claim_wait_ms);
/* A connection from the peer's port (fd owned): handed to a claim waiting for it, or kept. */
void passfd_add(struct passfd *pf, uint32_t port, int fd);
size_t passfd_waiting(const struct passfd *pf);
/*
 * Takes the streams for ports (0: none). fn runs once: at once when nothing
 * must be waited for (then 1 is returned), else when the last named stream
 * came or PASSFD_CLAIM_WAIT_MS passed (0 is returned, *ret set).
 */
int passfd_claim(struct passfd *pf, const uint32_t ports[3], passfd_claim_fn fn, void *ctx,
		 struct passfd_claim **ret);
/* Withdraws a waiting claim without calling it; the streams it got are closed. */
void passfd_claim_cancel(struct passfd *pf, struct passfd_claim *c);

/* --- relays between a process's stdio and its streams (passfd-relay.c) ---------------- */

struct passfd_io;
typedef void (*passfd_io_fn)(void *ctx);

/*
 * Takes over the process's stdio for the streams given (fds[i] >= 0, owned
 * from now on, set to -1): the stream's fd moves from the stdio_stream to a
 * relay, and the stdio_stream is left closed (ReadStdout answers EOF at once,
 * WriteStdin fails: the data goes through the socket). With a pty (tty),
 * stdin goes to the master and the master's output to the stdout stream; a
 * stderr stream gets nothing and is closed when the process exits. Streams
 * with fds[i] < 0 are left alone. *ret is NULL when no fd was given.
 */
int passfd_io_start(struct loop *loop, int fds[3], bool tty, struct stdio_stream *in,
		    struct stdio_stream *out, struct stdio_stream *err, struct passfd_io **ret,
		    agent_error_t **error);
/*
 * The process exited: stdin's relay ends; output relays copy what is left,
 * and once their pipe stays empty STDIO_DRAIN_MS (a grandchild holding it) they
 * end too. Returns 1 when every output relay ended already (fn is not
 * called), else 0 and fn runs once they have. Output the host does not read
 * holds fn back, as upstream's WaitProcess waits for its copies.
 */
int passfd_io_exited(struct passfd_io *io, passfd_io_fn fn, void *ctx);
/* Stops every relay and closes the streams (fn is not called). NULL is fine. */
struct passfd_io *passfd_io_free(struct passfd_io *io);

#endif
