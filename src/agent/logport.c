/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent.log_vport: the JSON log stream served on a vsock port. One reader at
 * a time; a new connection replaces the previous reader (a host that
 * reconnects gets the stream back). With no reader, lines wait in the
 * logger's bounded buffer and the overflow is counted, never blocking.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/agent.h"
#include "transport/address.h"

struct log_port {
	int listen_fd;
	struct loop_io *io;
};

static void logport_accept(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct agent *agent = data;
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		(void)shutdown(cfd, SHUT_RD);
		agent_logsink_attach(agent, cfd, true);
		log_info("log", "log reader connected on the log port");
	}
}

int agent_logport_start(struct agent *agent, uint32_t port, agent_error_t **err)
{
	struct address a = {.kind = ADDRESS_VSOCK, .cid = UINT32_MAX, .port = port};
	struct log_port *lp = calloc(1, sizeof(*lp));
	if (!lp)
		return agent_error_set(err, ENOMEM, "out of memory");
	int fd = address_listen(&a, err);
	if (fd < 0) {
		free(lp);
		return agent_error_wrap(err, "log port %u", port);
	}
	lp->listen_fd = fd;
	lp->io = loop_io_add(agent->loop, fd, EPOLLIN, logport_accept, agent);
	if (!lp->io) {
		int e = errno;
		safe_close(fd);
		free(lp);
		return agent_error_setsys(err, e, "cannot watch the log port");
	}
	agent->log_port = lp;
	return 0;
}

void agent_logport_stop(struct agent *agent)
{
	struct log_port *lp = agent->log_port;
	if (!lp)
		return;
	lp->io = loop_io_del(agent->loop, lp->io);
	safe_close(lp->listen_fd);
	free(lp);
	agent->log_port = NULL;
}
