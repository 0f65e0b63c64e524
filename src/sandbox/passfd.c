// SPDX-License-Identifier: Apache-2.0
/*
 * The passfd listener and its port map, on the loop (see passfd.h). Small
 * arrays, linear scans: at most PASSFD_WAITING_MAX streams wait at a time.
 */
#include "sandbox/passfd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/log.h"

struct waiting {
	uint32_t port;
	int fd;
	uint64_t since_ms;
};

struct passfd_claim {
	struct passfd_claim *next;
	struct passfd *pf;
	uint32_t ports[3];
	int fds[3];
	struct loop_timer *timer;
	passfd_claim_fn fn;
	void *ctx;
};

struct passfd {
	struct loop *loop;
	int listen_fd;
	struct loop_io *listen_io;
	struct loop_timer *accept_retry;
	struct waiting *w;
	size_t n_w, max_w;
	uint64_t unclaimed_ms, claim_wait_ms;
	struct loop_timer *expiry; /* when the oldest waiting stream is too old */
	struct passfd_claim *claims; /* oldest first */
};

static void on_listen(struct loop_io *io, int fd, uint32_t events, void *data);

static void waiting_drop(struct passfd *pf, size_t i)
{
	safe_close(pf->w[i].fd);
	memmove(&pf->w[i], &pf->w[i + 1], (pf->n_w - i - 1) * sizeof(pf->w[0]));
	pf->n_w--;
}

static void on_expiry(struct loop_timer *t, void *data);

/* The timer follows the oldest waiting stream (the array is in arrival order). */
static void expiry_arm(struct passfd *pf)
{
	pf->expiry = loop_timer_cancel(pf->loop, pf->expiry);
	if (pf->n_w)
		pf->expiry = loop_timer_add(pf->loop, pf->w[0].since_ms + pf->unclaimed_ms,
					    on_expiry, pf);
}

static void on_expiry(struct loop_timer *t, void *data)
{
	struct passfd *pf = data;
	uint64_t now = loop_now_ms();

	pf->expiry = NULL;
	while (pf->n_w && pf->w[0].since_ms + pf->unclaimed_ms <= now) {
		log_warn("passfd", "closing the stream from port %u: unclaimed for %llu ms",
			 pf->w[0].port, (unsigned long long)pf->unclaimed_ms);
		waiting_drop(pf, 0);
	}
	expiry_arm(pf);
}

int passfd_new(struct loop *loop, int listen_fd, struct passfd **ret, agent_error_t **err)
{
	struct passfd *pf = calloc(1, sizeof(*pf));

	if (!pf) {
		safe_close(listen_fd);
		return agent_error_set(err, ENOMEM, "out of memory");
	}
	pf->loop = loop;
	pf->listen_fd = listen_fd;
	passfd_set_limits(pf, PASSFD_WAITING_MAX, PASSFD_UNCLAIMED_MS, PASSFD_CLAIM_WAIT_MS);
	if (!pf->w) {
		passfd_free(pf);
		return agent_error_set(err, ENOMEM, "out of memory");
	}
	if (listen_fd >= 0) {
		fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
		pf->listen_io = loop_io_add(loop, listen_fd, EPOLLIN, on_listen, pf);
		if (!pf->listen_io) {
			int e = errno;
			passfd_free(pf);
			return agent_error_setsys(err, e, "watching the passfd listener");
		}
	}
	*ret = pf;
	return 0;
}

void passfd_set_limits(struct passfd *pf, size_t max_waiting, uint64_t unclaimed_ms,
		       uint64_t claim_wait_ms)
{
	struct waiting *w;

	while (pf->n_w > max_waiting)
		waiting_drop(pf, 0);
	w = realloc(pf->w, (max_waiting ? max_waiting : 1) * sizeof(*w));
	if (w) {
		pf->w = w;
		pf->max_w = max_waiting;
	}
	pf->unclaimed_ms = unclaimed_ms;
	pf->claim_wait_ms = claim_wait_ms;
	expiry_arm(pf);
}

static void claim_unlink(struct passfd *pf, struct passfd_claim *c)
{
	for (struct passfd_claim **pp = &pf->claims; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	c->timer = loop_timer_cancel(pf->loop, c->timer);
}

/* Unlinks c and gives it what it has; the missing named streams are logged, as upstream does. */
static void claim_finish(struct passfd *pf, struct passfd_claim *c, int r)
{
	static const char *const names[3] = {"stdin", "stdout", "stderr"};

	claim_unlink(pf, c);
	for (int i = 0; i < 3 && r >= 0; i++)
		if (c->ports[i] && c->fds[i] < 0)
			log_warn("passfd",
				 "no stream from port %u (%s) within %llu ms: it stays a pipe",
				 c->ports[i], names[i], (unsigned long long)pf->claim_wait_ms);
	c->fn(r, c->fds, c->ctx);
	free(c);
}

static bool claim_complete(const struct passfd_claim *c)
{
	for (int i = 0; i < 3; i++)
		if (c->ports[i] && c->fds[i] < 0)
			return false;
	return true;
}

static void on_claim_timeout(struct loop_timer *t, void *data)
{
	struct passfd_claim *c = data;

	c->timer = NULL;
	claim_finish(c->pf, c, 0);
}

struct passfd *passfd_free(struct passfd *pf)
{
	if (!pf)
		return NULL;
	while (pf->claims) {
		struct passfd_claim *c = pf->claims;
		for (int i = 0; i < 3; i++)
			c->fds[i] = safe_close(c->fds[i]);
		claim_finish(pf, c, -ECANCELED);
	}
	while (pf->n_w)
		waiting_drop(pf, pf->n_w - 1);
	pf->expiry = loop_timer_cancel(pf->loop, pf->expiry);
	pf->accept_retry = loop_timer_cancel(pf->loop, pf->accept_retry);
	pf->listen_io = loop_io_del(pf->loop, pf->listen_io);
	safe_close(pf->listen_fd);
	free(pf->w);
	free(pf);
	return NULL;
}

size_t passfd_waiting(const struct passfd *pf)
{
	return pf->n_w;
}

void passfd_add(struct passfd *pf, uint32_t port, int fd)
{
	if (port == 0) { /* 0 names "no stream": nothing can claim it */
		safe_close(fd);
		return;
	}
	/* A claim waiting for this port takes it at once (the oldest claim first). */
	for (struct passfd_claim *c = pf->claims; c; c = c->next) {
		for (int i = 0; i < 3; i++) {
			if (c->ports[i] != port || c->fds[i] >= 0)
				continue;
			c->fds[i] = fd;
			if (claim_complete(c))
				claim_finish(pf, c, 0);
			return;
		}
	}
	for (size_t i = 0; i < pf->n_w; i++) {
		if (pf->w[i].port == port) {
			log_warn("passfd", "a new stream from port %u replaces the unclaimed one",
				 port);
			waiting_drop(pf, i);
			break;
		}
	}
	if (pf->max_w == 0) {
		safe_close(fd);
		return;
	}
	if (pf->n_w == pf->max_w) {
		log_warn("passfd", "%zu streams wait unclaimed: closing the oldest (port %u)",
			 pf->n_w, pf->w[0].port);
		waiting_drop(pf, 0);
	}
	pf->w[pf->n_w++] = (struct waiting){.port = port, .fd = fd, .since_ms = loop_now_ms()};
	if (pf->n_w == 1 || !pf->expiry)
		expiry_arm(pf);
}

static int take(struct passfd *pf, uint32_t port)
{
	for (size_t i = 0; i < pf->n_w; i++) {
		if (pf->w[i].port == port) {
			int fd = pf->w[i].fd;
			pf->w[i].fd = -1;
			waiting_drop(pf, i);
			if (i == 0)
				expiry_arm(pf);
			return fd;
		}
	}
	return -1;
}

int passfd_claim(struct passfd *pf, const uint32_t ports[3], passfd_claim_fn fn, void *ctx,
		 struct passfd_claim **ret)
{
	struct passfd_claim *c = calloc(1, sizeof(*c));
	int fds[3] = {-1, -1, -1};

	*ret = NULL;
	for (int i = 0; i < 3; i++) {
		/* The same port named twice gets one stream, for the first of them. */
		bool dup = false;
		for (int j = 0; j < i; j++)
			dup |= ports[j] == ports[i];
		if (ports[i] && !dup)
			fds[i] = take(pf, ports[i]);
	}
	if (!c) {
		fn(0, fds, ctx); /* nothing waited for: what is there already */
		return 1;
	}
	for (int i = 0; i < 3; i++) {
		bool dup = false;
		for (int j = 0; j < i; j++)
			dup |= ports[j] == ports[i];
		c->ports[i] = dup ? 0 : ports[i];
		c->fds[i] = fds[i];
	}
	c->pf = pf;
	c->fn = fn;
	c->ctx = ctx;
	if (claim_complete(c)) {
		fn(0, c->fds, ctx);
		free(c);
		return 1;
	}
	c->timer = loop_timer_add(pf->loop, loop_now_ms() + pf->claim_wait_ms, on_claim_timeout, c);
	struct passfd_claim **pp = &pf->claims;
	while (*pp)
		pp = &(*pp)->next;
	*pp = c;
	*ret = c;
	return 0;
}

void passfd_claim_cancel(struct passfd *pf, struct passfd_claim *c)
{
	claim_unlink(pf, c);
	for (int i = 0; i < 3; i++)
		safe_close(c->fds[i]);
	free(c);
}

static void on_accept_retry(struct loop_timer *t, void *data)
{
	struct passfd *pf = data;

	pf->accept_retry = NULL;
	if (loop_io_set_events(pf->loop, pf->listen_io, EPOLLIN) == 0)
		on_listen(pf->listen_io, pf->listen_fd, EPOLLIN, pf);
}

static void on_listen(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct passfd *pf = data;

	for (int n = 0; n < 64; n++) {
		struct sockaddr_vm peer;
		socklen_t len = sizeof(peer);
		int s = accept4(fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (s < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* Out of fds: the backlog holds the rest a while. */
				log_warn("passfd", "accepting a stream: %s", strerror(errno));
				loop_io_set_events(pf->loop, pf->listen_io, 0);
				pf->accept_retry = loop_timer_add(
					pf->loop, loop_now_ms() + PASSFD_ACCEPT_RETRY_MS,
					on_accept_retry, pf);
			}
			return;
		}
		if (peer.svm_family != AF_VSOCK || len < sizeof(peer)) {
			log_warn("passfd", "a connection that is not vsock: closed");
			close(s);
			continue;
		}
		log_debug("passfd", "stream from cid %u port %u", peer.svm_cid, peer.svm_port);
		passfd_add(pf, peer.svm_port, s);
	}
}
