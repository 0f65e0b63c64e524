/* SPDX-License-Identifier: Apache-2.0 */
/* Listeners and connections: bytes in, frames out. Calls live in call.c. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "base/log.h"
#include "rpc/conn.h"

#define READ_CHUNK (64u * 1024u)
/* Bytes read from one connection per wake-up, so one busy client cannot starve the others. */
#define READ_BUDGET (1u << 20)

static void conn_event(struct loop_io *io, int fd, uint32_t events, void *data);
static void accept_resume(struct rpc_server *srv);

/* A cap reached again within this time of its warning belongs to the same burst. */
#define CAP_WARN_INTERVAL_MS (60u * 1000u)

unsigned rpc_connection_cap(unsigned long long nofile)
{
	unsigned long long cap = nofile / 4;

	if (cap < RPC_MIN_CONNECTIONS)
		cap = RPC_MIN_CONNECTIONS;
	if (cap > RPC_MAX_CONNECTIONS)
		cap = RPC_MAX_CONNECTIONS;
	return (unsigned)cap;
}

/* Read at each accept: the limit the agent runs with now (it raises its own at start-up). */
static unsigned connection_cap(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return RPC_MIN_CONNECTIONS;
	return rpc_connection_cap(rl.rlim_cur);
}

int rpc_server_new(struct loop *l, struct rpc_server **ret)
{
	struct rpc_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->loop = l;
	srv->listen_fd = -1;
	*ret = srv;
	return 0;
}

struct rpc_server *rpc_server_free(struct rpc_server *srv)
{
	if (!srv)
		return NULL;
	while (srv->conns)
		conn_close(srv->conns);
	srv->accept_retry = loop_timer_cancel(srv->loop, srv->accept_retry);
	srv->listen_io = loop_io_del(srv->loop, srv->listen_io);
	safe_close(srv->listen_fd);
	free(srv->services);
	free(srv);
	return NULL;
}

int rpc_server_add_service(struct rpc_server *srv, const struct rpc_service *svc)
{
	const struct rpc_service **s =
		realloc(srv->services, (srv->n_services + 1) * sizeof(*srv->services));
	if (!s)
		return -ENOMEM;
	s[srv->n_services++] = svc;
	srv->services = s;
	return 0;
}

void rpc_server_get_stats(const struct rpc_server *srv, struct rpc_stats *ret)
{
	*ret = srv->stats;
	ret->connections = srv->n_conns;
}

static uint32_t conn_wanted_events(const struct rpc_conn *c)
{
	uint32_t ev = 0;
	if (c->out_bytes < RPC_MAX_PENDING_OUT)
		ev |= EPOLLIN;
	if (c->out_head)
		ev |= EPOLLOUT;
	if (!c->serial)
		ev |= EPOLLRDHUP;
	return ev;
}

static void conn_update_events(struct rpc_conn *c)
{
	if (c->io)
		(void)loop_io_set_events(c->srv->loop, c->io, conn_wanted_events(c));
}

static struct rpc_conn *conn_new(struct rpc_server *srv, int fd, bool serial)
{
	struct rpc_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->srv = srv;
	c->fd = fd;
	c->serial = serial;
	frame_decoder_init(&c->dec, TTRPC_MAX_PAYLOAD);
	c->io = loop_io_add(srv->loop, fd, conn_wanted_events(c), conn_event, c);
	if (!c->io) {
		free(c);
		return NULL;
	}
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv->n_conns++;
	return c;
}

void conn_close(struct rpc_conn *c)
{
	struct rpc_server *srv = c->srv;

	if (c->busy) {
		c->closing = true;
		return;
	}
	call_cancel_all(c);
	c->io = loop_io_del(srv->loop, c->io);
	c->retry = loop_timer_cancel(srv->loop, c->retry);
	safe_close(c->fd);
	frame_decoder_release(&c->dec);
	while (c->out_head) {
		struct rpc_outbuf *b = c->out_head;
		c->out_head = b->next;
		free(b);
	}
	free(c->spare);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->n_conns--;
	log_debug("rpc", "connection closed (%u open)", srv->n_conns);
	free(c);
	/* A slot (and an fd) is free: the backlog's next connection may come in. */
	if (srv->accept_paused && srv->n_conns < connection_cap())
		accept_resume(srv);
}

/*
 * A streamed output reply is a 64 KiB frame after another: keeping the last
 * buffer (up to 1 MiB) saves an allocation and its page faults per reply.
 */
#define SPARE_FRAME_MAX (1024 * 1024)
static void conn_frame_recycle(struct rpc_conn *c, struct rpc_outbuf *b)
{
	if (b->cap <= SPARE_FRAME_MAX && (!c->spare || c->spare->cap < b->cap)) {
		free(c->spare);
		c->spare = b;
		return;
	}
	free(b);
}

/* Writes queued frames until the socket would block. Returns -errno on a broken peer. */
static int conn_flush(struct rpc_conn *c)
{
	while (c->out_head) {
		struct rpc_outbuf *b = c->out_head;
		ssize_t n =
			send(c->fd, b->data + b->off, b->len - b->off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == ENOTSOCK)
			n = write(c->fd, b->data + b->off, b->len - b->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		b->off += n;
		c->out_bytes -= n;
		if (b->off == b->len) {
			c->out_head = b->next;
			if (!c->out_head)
				c->out_tail = NULL;
			conn_frame_recycle(c, b);
		}
	}
	return 0;
}

struct rpc_outbuf *conn_frame_new(struct rpc_conn *c, size_t len, uint8_t **ret_payload)
{
	struct rpc_outbuf *b;

	if (c->spare && c->spare->cap >= TTRPC_HEADER_SIZE + len) {
		b = TAKE_PTR(c->spare);
	} else {
		b = malloc(sizeof(*b) + TTRPC_HEADER_SIZE + len);
		if (!b)
			return NULL;
		b->cap = TTRPC_HEADER_SIZE + len;
	}
	b->len = TTRPC_HEADER_SIZE + len;
	b->off = 0;
	b->next = NULL;
	*ret_payload = b->data + TTRPC_HEADER_SIZE;
	return b;
}

void conn_send_frame(struct rpc_conn *c, uint32_t stream_id, const uint8_t *payload, size_t len)
{
	uint8_t *p;
	struct rpc_outbuf *b = conn_frame_new(c, len, &p);

	if (!b) {
		log_error("rpc", "out of memory queueing a reply on stream %u", stream_id);
		return;
	}
	if (len)
		memcpy(p, payload, len);
	conn_send_built(c, stream_id, b);
}

void conn_send_built(struct rpc_conn *c, uint32_t stream_id, struct rpc_outbuf *b)
{
	/* The frame starts at b->off: a reply built backwards leaves room in front. */
	struct ttrpc_header h = {.length = b->len - b->off - TTRPC_HEADER_SIZE,
				 .stream_id = stream_id,
				 .type = TTRPC_TYPE_RESPONSE};
	ttrpc_header_encode(&h, b->data + b->off);
	if (c->out_tail)
		c->out_tail->next = b;
	else
		c->out_head = b;
	c->out_tail = b;
	c->out_bytes += b->len - b->off;

	int r = conn_flush(c);
	if (r < 0 && !c->serial) {
		log_debug("rpc", "peer gone while replying: %s", strerror(-r));
		conn_close(c);
		return;
	}
	conn_update_events(c);
}

static void serial_rewatch(struct loop_timer *t, void *data)
{
	struct rpc_conn *c = data;
	c->retry = NULL;
	c->io = loop_io_add(c->srv->loop, c->fd, conn_wanted_events(c), conn_event, c);
	if (!c->io) {
		log_error("rpc", "cannot watch the serial port again: %s", strerror(errno));
		c->retry = loop_timer_add(c->srv->loop, loop_now_ms() + RPC_SERIAL_RETRY_MS,
					  serial_rewatch, c);
	}
}

/*
 * A virtio-serial port with no host attached polls readable-and-hung-up and
 * reads EOF forever. That is not the end of the session: drop any partial
 * frame (a new host starts a new byte stream), stop watching the port for a
 * moment so the loop does not spin, then watch it again. Calls stay open.
 */
static void serial_hangup(struct rpc_conn *c)
{
	if (!frame_decoder_idle(&c->dec))
		log_warn("rpc", "serial host detached mid-frame; partial frame dropped");
	frame_decoder_reset(&c->dec);
	c->io = loop_io_del(c->srv->loop, c->io);
	if (!c->retry)
		c->retry = loop_timer_add(c->srv->loop, loop_now_ms() + RPC_SERIAL_RETRY_MS,
					  serial_rewatch, c);
}

static void conn_process_bytes(struct rpc_conn *c, const uint8_t *buf, size_t len)
{
	while (len > 0 && !c->closing) {
		struct ttrpc_header h;
		const uint8_t *payload = NULL;
		int ev = frame_decoder_feed(&c->dec, &buf, &len, &h, &payload);
		if (ev == FRAME_NEED_MORE)
			break;
		if (ev < 0) {
			log_error("rpc", "frame decoder failed: %s", strerror(-ev));
			conn_close(c);
			return;
		}
		if (ev == FRAME_OVERSIZED) {
			c->srv->stats.frames_rejected++;
			char msg[128];
			snprintf(msg, sizeof(msg),
				 "message length %u exceed maximum message size of %u", h.length,
				 TTRPC_MAX_PAYLOAD);
			if (h.type == TTRPC_TYPE_REQUEST)
				call_send_status(c, h.stream_id, GRPC_INVALID_ARGUMENT, msg);
			continue;
		}
		if (h.type != TTRPC_TYPE_REQUEST) {
			/* Data/response frames from a client have no meaning for unary calls. */
			c->srv->stats.frames_rejected++;
			log_debug("rpc", "ignoring frame of type %u on stream %u", h.type,
				  h.stream_id);
			continue;
		}
		call_handle_request(c, &h, payload);
	}
}

static void conn_event(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct rpc_conn *c = data;
	uint8_t buf[READ_CHUNK];
	size_t budget = READ_BUDGET;
	bool hup = false;

	c->busy++;
	if (events & EPOLLOUT) {
		int r = conn_flush(c);
		if (r < 0 && !c->serial)
			c->closing = true;
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP | EPOLLERR)) && !c->closing &&
	    c->out_bytes < RPC_MAX_PENDING_OUT) {
		while (budget > 0 && !c->closing) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n > 0) {
				conn_process_bytes(c, buf, n);
				budget -= MIN(budget, (size_t)n);
				if (c->out_bytes >= RPC_MAX_PENDING_OUT)
					break;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN) {
				/* Hung up with nothing left to read: a serial port without host. */
				hup = (events & (EPOLLHUP | EPOLLERR)) != 0;
				break;
			}
			hup = true; /* EOF, or an error such as EIO on a tty without peer */
			break;
		}
	}
	c->busy--;

	if (hup && c->serial && !c->closing) {
		serial_hangup(c);
		return;
	}
	if (hup || c->closing) {
		c->closing = false;
		conn_close(c);
		return;
	}
	conn_update_events(c);
}

/* Stops watching the listener: new connections wait in the kernel's listen backlog. */
static void accept_pause(struct rpc_server *srv)
{
	if (!srv->accept_paused && srv->listen_io)
		(void)loop_io_set_events(srv->loop, srv->listen_io, 0);
	srv->accept_paused = true;
}

static void accept_resume(struct rpc_server *srv)
{
	srv->accept_retry = loop_timer_cancel(srv->loop, srv->accept_retry);
	if (srv->listen_io && loop_io_set_events(srv->loop, srv->listen_io, EPOLLIN) < 0) {
		log_error("rpc", "cannot watch the listening socket again: %s", strerror(errno));
		return;
	}
	srv->accept_paused = false;
	log_debug("rpc", "accepting connections again (%u open)", srv->n_conns);
}

static void accept_retry_fire(struct loop_timer *t, void *data)
{
	struct rpc_server *srv = data;

	srv->accept_retry = NULL;
	accept_resume(srv);
}

/* One warning per burst of connections past the cap (or past the fds), not one each. */
static void accept_limited(struct rpc_server *srv, const char *why)
{
	uint64_t now = loop_now_ms();

	srv->cap_refusals++;
	if (srv->cap_warned && now - srv->cap_warned_ms < CAP_WARN_INTERVAL_MS) {
		log_debug("rpc", "%s: new connections wait in the listen backlog", why);
		return;
	}
	log_warn("rpc",
		 "%s: new connections wait in the listen backlog until one closes "
		 "(%lu times before since the last warning)",
		 why, srv->cap_warned ? srv->cap_refusals - 1 : 0);
	srv->cap_warned = true;
	srv->cap_warned_ms = now;
	srv->cap_refusals = 0;
}

static void listener_event(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct rpc_server *srv = data;
	unsigned cap = connection_cap();
	char why[96];

	for (int i = 0; i < 16; i++) {
		if (srv->n_conns >= cap) {
			/* Warn only when someone is actually kept waiting. */
			struct pollfd p = {.fd = fd, .events = POLLIN};
			if (poll(&p, 1, 0) > 0) {
				snprintf(why, sizeof(why), "connection cap %u reached (%u open)",
					 cap, srv->n_conns);
				accept_limited(srv, why);
			}
			accept_pause(srv);
			return;
		}
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* The connection stays queued; a close or the timer lets it in. */
				snprintf(why, sizeof(why), "cannot accept (%u open): %s",
					 srv->n_conns, strerror(errno));
				accept_limited(srv, why);
				accept_pause(srv);
				if (!srv->accept_retry)
					srv->accept_retry = loop_timer_add(
						srv->loop, loop_now_ms() + RPC_ACCEPT_RETRY_MS,
						accept_retry_fire, srv);
				return;
			}
			if (errno != EAGAIN)
				log_warn("rpc", "accept failed: %s", strerror(errno));
			return;
		}
		if (!conn_new(srv, cfd, false)) {
			log_error("rpc", "cannot set up a connection: %s", strerror(errno));
			close(cfd);
			continue;
		}
		log_debug("rpc", "connection accepted (%u open)", srv->n_conns);
	}
}

int rpc_server_add_listener(struct rpc_server *srv, int listen_fd, agent_error_t **err)
{
	if (srv->listen_fd >= 0) {
		safe_close(listen_fd);
		return agent_error_set(err, EBUSY, "server already has a listener");
	}
	srv->listen_io = loop_io_add(srv->loop, listen_fd, EPOLLIN, listener_event, srv);
	if (!srv->listen_io) {
		int e = errno;
		safe_close(listen_fd);
		return agent_error_setsys(err, e, "cannot watch the listening socket");
	}
	srv->listen_fd = listen_fd;
	return 0;
}

int rpc_server_add_stream(struct rpc_server *srv, int fd, bool serial, agent_error_t **err)
{
	if (isatty(fd)) {
		/* A tty in front of the port must pass bytes untouched. */
		struct termios t;
		if (tcgetattr(fd, &t) == 0) {
			cfmakeraw(&t);
			(void)tcsetattr(fd, TCSANOW, &t);
		}
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (!conn_new(srv, fd, serial)) {
		int e = errno;
		safe_close(fd);
		return agent_error_setsys(err, e, "cannot watch the stream");
	}
	return 0;
}

void rpc_server_set_tracer(struct rpc_server *srv, struct tracer *t)
{
	srv->tracer = t;
}
