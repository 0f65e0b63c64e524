/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kata-agent-ctl trace-forward: the host end of agent.trace. Accepts the agent's
 * connections, reads its frames (u64 big-endian length, then one span in OTLP/JSON, see
 * src/trace/trace.h) and writes OTLP/JSON TracesData documents, one per line: the format
 * of the OpenTelemetry Collector's otlpjsonfile receiver, and the body its OTLP/HTTP
 * receiver takes at /v1/traces with Content-Type application/json.
 *
 * Every connection is a plain byte stream: a vsock connection, a unix socket that a
 * hybrid vsock (Firecracker, Cloud Hypervisor) connects for a guest-initiated connection
 * to port P (it connects to <uds_path>_<P> and sends no handshake: CONNECT is only for
 * host-initiated connections), or a QEMU socket chardev in client mode behind a
 * virtio-serial port.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ctl.h"
#include "transport/address.h"

/* The agent never queues more than 1 MiB of spans (TRACE_BUFFER_MAX): no frame is larger. */
#define FRAME_MAX (1024 * 1024)
#define MAX_CONNS 16

struct fwd_conn {
	int fd;
	unsigned char head[8];
	size_t head_len;
	char *payload; /* being filled: FRAME length bytes */
	size_t len, got;
	json_object *spans; /* array: complete spans not written yet */
};

struct fwd {
	int out;
	const char *service;
	unsigned long spans, bad;
};

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static json_object *string_attr(const char *key, const char *value)
{
	json_object *kv = json_object_new_object(), *v = json_object_new_object();
	json_object_object_add(v, "stringValue", json_object_new_string(value));
	json_object_object_add(kv, "key", json_object_new_string(key));
	json_object_object_add(kv, "value", v);
	return kv;
}

/* One TracesData line holding spans; 0, or -errno when the output fails. */
static int write_document(struct fwd *f, json_object *spans)
{
	json_object *doc = json_object_new_object(), *rss = json_object_new_array();
	json_object *rs = json_object_new_object(), *res = json_object_new_object();
	json_object *attrs = json_object_new_array(), *sss = json_object_new_array();
	json_object *ss = json_object_new_object(), *scope = json_object_new_object();

	json_object_array_add(attrs, string_attr("service.name", f->service));
	json_object_object_add(res, "attributes", attrs);
	json_object_object_add(rs, "resource", res);
	json_object_object_add(scope, "name", json_object_new_string("kata-agent"));
	json_object_object_add(ss, "scope", scope);
	json_object_object_add(ss, "spans", json_object_get(spans));
	json_object_array_add(sss, ss);
	json_object_object_add(rs, "scopeSpans", sss);
	json_object_array_add(rss, rs);
	json_object_object_add(doc, "resourceSpans", rss);

	size_t n;
	const char *text = json_object_to_json_string_length(
		doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	int r = 0;
	struct iovec iov[2] = {{(void *)text, n}, {"\n", 1}};
	size_t left = n + 1;
	int i = 0;
	while (left) {
		ssize_t w = writev(f->out, iov + i, 2 - i);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r = w < 0 ? -errno : -EIO;
			break;
		}
		left -= (size_t)w;
		while (i < 2 && (size_t)w >= iov[i].iov_len) {
			w -= (ssize_t)iov[i].iov_len;
			iov[i].iov_len = 0;
			i++;
		}
		if (i < 2) {
			iov[i].iov_base = (char *)iov[i].iov_base + w;
			iov[i].iov_len -= (size_t)w;
		}
	}
	json_object_put(doc);
	return r;
}

static bool hex_field(json_object *span, const char *key, size_t n, bool optional)
{
	json_object *v;
	if (!json_object_object_get_ex(span, key, &v))
		return optional;
	if (!json_object_is_type(v, json_type_string) || (size_t)json_object_get_string_len(v) != n)
		return false;
	const char *s = json_object_get_string(v);
	return strspn(s, "0123456789abcdefABCDEF") == n;
}

/* A frame's payload: kept when it is a span object, else counted and reported. */
static void take_frame(struct fwd *f, struct fwd_conn *c)
{
	json_tokener *tok = json_tokener_new();
	json_object *span = tok ? json_tokener_parse_ex(tok, c->payload, (int)c->len) : NULL;
	bool whole = tok && json_tokener_get_error(tok) == json_tokener_success &&
		     json_tokener_get_parse_end(tok) == c->len;
	json_object *name;

	if (tok)
		json_tokener_free(tok);
	if (!whole || !json_object_is_type(span, json_type_object) ||
	    !hex_field(span, "traceId", 32, false) || !hex_field(span, "spanId", 16, false) ||
	    !hex_field(span, "parentSpanId", 16, true) ||
	    !json_object_object_get_ex(span, "name", &name) ||
	    !json_object_is_type(name, json_type_string)) {
		json_object_put(span);
		f->bad++;
		fprintf(stderr,
			CTL_NAME ": trace-forward: dropped a frame of %zu bytes that is not an "
				 "OTLP/JSON span\n",
			c->len);
		return;
	}
	if (!c->spans)
		c->spans = json_object_new_array();
	json_object_array_add(c->spans, span);
	f->spans++;
}

/* Reads what the connection has; false when it is over (EOF, error, broken framing). */
static bool conn_read(struct fwd *f, struct fwd_conn *c)
{
	unsigned char buf[65536];
	ssize_t n = read(c->fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	for (size_t i = 0; i < (size_t)n;) {
		if (c->head_len < 8) {
			size_t k = MIN(8 - c->head_len, (size_t)n - i);
			memcpy(c->head + c->head_len, buf + i, k);
			c->head_len += k;
			i += k;
			if (c->head_len < 8)
				break;
			uint64_t be;
			memcpy(&be, c->head, 8);
			uint64_t len = be64toh(be);
			if (len == 0 || len > FRAME_MAX) {
				fprintf(stderr,
					CTL_NAME
					": trace-forward: frame length %llu is not 1 to %d: "
					"the stream is out of step, closing it\n",
					(unsigned long long)len, FRAME_MAX);
				return false;
			}
			c->len = (size_t)len;
			c->got = 0;
			c->payload = malloc(c->len);
			if (!c->payload) {
				fprintf(stderr, CTL_NAME ": trace-forward: out of memory\n");
				return false;
			}
		}
		size_t k = MIN(c->len - c->got, (size_t)n - i);
		memcpy(c->payload + c->got, buf + i, k);
		c->got += k;
		i += k;
		if (c->got == c->len) {
			take_frame(f, c);
			free(c->payload);
			c->payload = NULL;
			c->head_len = 0;
		}
	}
	return true;
}

static int flush_conn(struct fwd *f, struct fwd_conn *c)
{
	int r = 0;
	if (c->spans && json_object_array_length(c->spans))
		r = write_document(f, c->spans);
	json_object_put(c->spans);
	c->spans = NULL;
	return r;
}

static void conn_close(struct fwd_conn *c)
{
	close(c->fd);
	free(c->payload);
	json_object_put(c->spans);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* unix:///path, unix://@name, vsock://CID:PORT, or hvsock:///path/vm.sock:PORT (listens on
 * /path/vm.sock_PORT, where a hybrid vsock connects a guest's connection to PORT). */
static int listen_on(const char *addr, agent_error_t **err)
{
	struct address a;

	if (strncmp(addr, "hvsock://", 9) == 0) {
		const char *path = addr + 9, *colon = strrchr(path, ':');
		uint64_t port;
		if (*path != '/' || !colon || ctl_parse_uint(colon + 1, UINT32_MAX, &port) < 0)
			return agent_error_set(err, EINVAL,
					       "invalid %s: want hvsock:///path/to/vm.sock:PORT",
					       addr);
		memset(&a, 0, sizeof(a));
		a.kind = ADDRESS_UNIX;
		int w = snprintf(a.path, sizeof(a.path), "%.*s_%llu", (int)(colon - path), path,
				 (unsigned long long)port);
		if (w < 0 || (size_t)w >= sizeof(a.path))
			return agent_error_set(err, ENAMETOOLONG, "%s: path too long", addr);
	} else {
		if (address_parse(addr, &a, err) < 0)
			return -EINVAL;
		if (a.kind == ADDRESS_SERIAL)
			return agent_error_set(
				err, EINVAL,
				"%s: for a virtio-serial port, listen on unix:///path and give "
				"QEMU "
				"-chardev socket,path=/path,reconnect=1 (client mode)",
				addr);
	}
	return address_listen(&a, err);
}

static int cmd_trace_forward(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"out", required_argument, NULL, 'o'},
		{"service-name", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	const char *listen_addr = NULL, *out = "-";
	struct fwd f = {.service = "kata-agent"};
	int opt;

	(void)ctl;
	while ((opt = getopt_long(argc, argv, "+:l:o:s:", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			listen_addr = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 's':
			f.service = optarg;
			break;
		case ':':
			return ctl_usage_error(argv[0], "option '%s' needs a value",
					       argv[optind - 1]);
		default:
			return ctl_usage_error(argv[0], "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!listen_addr)
		return ctl_usage_error(argv[0], "--listen ADDR is required");
	if (optind != argc)
		return ctl_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);

	_cleanup_error_ agent_error_t *err = NULL;
	_cleanup_close_ int lfd = listen_on(listen_addr, &err);
	if (lfd < 0)
		return ctl_fail("trace-forward: %s", err && err->msg ? err->msg : "cannot listen");
	_cleanup_close_ int ofd =
		strcmp(out, "-") == 0 ? dup(STDOUT_FILENO)
				      : open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (ofd < 0)
		return ctl_fail("trace-forward: opening %s: %s", out, strerror(errno));
	f.out = ofd;

	struct sigaction sa = {.sa_handler = on_stop}; /* no SA_RESTART: poll returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct fwd_conn conns[MAX_CONNS];
	for (int i = 0; i < MAX_CONNS; i++) {
		memset(&conns[i], 0, sizeof(conns[i]));
		conns[i].fd = -1;
	}
	int rc = CTL_OK;
	while (!stop_requested) {
		struct pollfd p[MAX_CONNS + 1];
		int map[MAX_CONNS + 1], np = 0, nconn = 0;
		for (int i = 0; i < MAX_CONNS; i++) {
			if (conns[i].fd < 0)
				continue;
			p[np] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
			map[np++] = i;
			nconn++;
		}
		/* At the cap, new connections wait in the backlog. */
		if (nconn < MAX_CONNS) {
			p[np] = (struct pollfd){.fd = lfd, .events = POLLIN};
			map[np++] = -1;
		}
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = ctl_fail("trace-forward: poll: %s", strerror(errno));
			break;
		}
		for (int k = 0; k < np; k++) {
			if (!p[k].revents)
				continue;
			if (map[k] < 0) {
				int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
				for (int i = 0; fd >= 0 && i < MAX_CONNS; i++)
					if (conns[i].fd < 0) {
						conns[i].fd = fd;
						fd = -1;
					}
				if (fd >= 0)
					close(fd);
				continue;
			}
			struct fwd_conn *c = &conns[map[k]];
			bool alive = conn_read(&f, c);
			if (flush_conn(&f, c) < 0) {
				rc = ctl_fail("trace-forward: writing %s: %s", out,
					      strerror(errno));
				stop_requested = 1;
			}
			if (!alive)
				conn_close(c);
		}
	}
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i].fd >= 0)
			conn_close(&conns[i]);
	if (f.bad)
		fprintf(stderr, CTL_NAME ": trace-forward: %lu spans written, %lu frames dropped\n",
			f.spans, f.bad);
	return rc;
}

const struct ctl_command ctl_trace_commands[] = {
	{"trace-forward", "--listen ADDR [--out FILE|-] [--service-name NAME]",
	 "Receives the spans of an agent started with agent.trace (agent.trace_addr names the "
	 "host end) and writes them as OpenTelemetry OTLP/JSON, one TracesData document per "
	 "line, appended to FILE (default -, stdout): what the Collector's otlpjsonfile "
	 "receiver reads. ADDR: vsock://-1:PORT (vsock, the agent's default port is 10240), "
	 "hvsock:///path/to/vm.sock:PORT (a hybrid vsock: listens on /path/to/vm.sock_PORT), "
	 "unix:///path (e.g. a QEMU virtio-serial chardev in client mode: "
	 "socket,path=/path,reconnect=1). Runs until SIGTERM or SIGINT.",
	 cmd_trace_forward},
	{NULL, NULL, NULL, NULL},
};
