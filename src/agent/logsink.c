/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keeps the logger's output flowing without ever blocking the loop: when
 * lines are pending, the destination is watched for EPOLLOUT and flushed as
 * it drains. A broken destination (the log reader went away) is detached; the
 * logger keeps buffering, bounded, until a new one is attached.
 */
#include <errno.h>
#include <string.h>

#include "agent/agent.h"

static void sink_disarm(struct agent *agent)
{
	agent->logger_io = loop_io_del(agent->loop, agent->logger_io);
}

static void sink_event(struct loop_io *io, int fd, uint32_t events, void *data)
{
	struct agent *agent = data;
	long r = logger_flush(&agent->logger);

	if (r < 0 || (events & (EPOLLERR | EPOLLHUP))) {
		sink_disarm(agent);
		logger_set_fd(&agent->logger, -1, false);
		return;
	}
	if (r == 0)
		sink_disarm(agent);
}

static void sink_pending(struct logger *lg, void *data)
{
	struct agent *agent = data;

	if (agent->logger_io || lg->fd < 0)
		return;
	agent->logger_io = loop_io_add(agent->loop, lg->fd, EPOLLOUT, sink_event, agent);
	/* EPERM: a regular file, which never blocks: log_write's own flush is enough. */
}

int agent_logsink_attach(struct agent *agent, int fd, bool owned)
{
	sink_disarm(agent);
	logger_set_fd(&agent->logger, fd, owned);
	agent->logger.on_pending = sink_pending;
	agent->logger.on_pending_data = agent;
	if (agent->logger.len > 0 && logger_flush(&agent->logger) > 0)
		sink_pending(&agent->logger, agent);
	return 0;
}
