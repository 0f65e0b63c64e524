/* SPDX-License-Identifier: Apache-2.0 */
/* Wiring of the running agent: signals, reaper, server. Startup duties of PID 1 come later. */
#include "agent/agent.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "init/console.h"
#include "rpc/services.h"
#include "sandbox/memagent.h"
#include "sandbox/passfd.h"
#include "uevent/listener.h"
#include "trace/trace.h"
#include "transport/address.h"

static void on_sigchld(const struct signalfd_siginfo *si, void *data)
{
	struct agent *agent = data;
	reaper_reap(&agent->reaper);
}

static void on_terminate(const struct signalfd_siginfo *si, void *data)
{
	struct agent *agent = data;
	if (agent->init_mode) {
		/* PID 1 never exits on a signal: the VM is powered off by DestroySandbox. */
		log_warn("root", "ignoring signal %u: the agent is PID 1", si->ssi_signo);
		return;
	}
	log_info("root", "signal %u received, shutting down", si->ssi_signo);
	loop_quit(agent->loop, 0);
}

/*
 * agent.devmode decides whether the agent may dump core (a deliberate difference from
 * upstream, whose agent leaves its limits alone).
 * Only the soft limit is the agent's: the hard one is left as the agent got it (the
 * kernel's default for init is unlimited), so containers can be given the boot limit
 * back, or their spec's, without CAP_SYS_RESOURCE (sandbox.c keeps the boot limit).
 */
static void apply_dump_policy(const struct agent *agent)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_CORE, &rl) < 0)
		rl.rlim_max = RLIM_INFINITY;
	if (agent->cfg.dev_mode) {
		struct rlimit all = {RLIM_INFINITY, RLIM_INFINITY};
		rl.rlim_cur = rl.rlim_max;
		/* Unlimited where the agent may raise its hard limit; else up to it. */
		if (setrlimit(RLIMIT_CORE, &all) < 0)
			(void)setrlimit(RLIMIT_CORE, &rl);
		(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	} else {
		rl.rlim_cur = 0;
		(void)setrlimit(RLIMIT_CORE, &rl);
		(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	}
}

static int start_server(struct agent *agent, agent_error_t **err)
{
	struct address addr;
	int r;

	r = rpc_server_new(agent->loop, &agent->server);
	if (r < 0)
		return agent_error_set(err, -r, "cannot create the server");
	agent_service_init(&agent->agent_service, &agent->sandbox);
	if (agent->cfg.tracing) {
		agent_error_t *terr = NULL;
		if (tracer_new(agent->loop, agent->cfg.trace_addr, &agent->tracer, &terr) < 0) {
			log_error("trace", "tracing off: %s", terr->msg);
			agent_error_free(terr);
		} else {
			rpc_server_set_tracer(agent->server, agent->tracer);
			log_info("trace", "spans go to %s", agent->cfg.trace_addr);
		}
	}
	if (rpc_server_add_service(agent->server, &health_service) < 0 ||
	    rpc_server_add_service(agent->server, &agent->agent_service) < 0)
		return agent_error_set(err, ENOMEM, "cannot register services");

	r = address_parse(agent->cfg.server_addr, &addr, err);
	if (r < 0)
		return r;
	if (addr.kind == ADDRESS_SERIAL) {
		int fd = address_open_serial(&addr, NULL, err);
		if (fd < 0)
			return fd;
		return rpc_server_add_stream(agent->server, fd, true, err);
	}
	int fd = address_listen(&addr, err);
	if (fd < 0)
		return agent_error_wrap(err, "server address %s", agent->cfg.server_addr);
	return rpc_server_add_listener(agent->server, fd, err);
}

/* agent.debug_console: problems are logged, the agent serves anyway. */
static void start_debug_console(struct agent *agent)
{
	agent_error_t *err = NULL;
	int r;

	if (!agent->cfg.debug_console)
		return;
	if (agent->cfg.debug_console_vport > 0) {
		struct address a = {
			.kind = ADDRESS_VSOCK,
			.cid = (uint32_t)-1,
			.port = (uint32_t)agent->cfg.debug_console_vport,
		};
		int fd = address_listen(&a, &err);
		r = fd < 0 ? fd
			   : debug_console_start_listener(agent->loop, &agent->reaper, fd,
							  &agent->console, &err);
		if (r >= 0)
			log_info("console", "debug console on vsock port %u", a.port);
	} else {
		r = debug_console_start_tty(agent->loop, &agent->reaper, "/dev/console",
					    &agent->console, &err);
	}
	if (r < 0) {
		log_error("console", "debug console: %s", err->msg);
		agent_error_free(err);
	}
}

/*
 * agent.passfd_listener_port: streams accepted from now on wait for the calls
 * that name them (sandbox/passfd.h). A listener that cannot start is logged
 * and passfd stays off (named ports are then ignored); upstream's agent exits.
 */
static void start_passfd(struct agent *agent)
{
	struct address a = {.kind = ADDRESS_VSOCK, .cid = (uint32_t)-1};
	agent_error_t *err = NULL;
	int fd;

	if (agent->cfg.passfd_listener_port <= 0)
		return;
	a.port = (uint32_t)agent->cfg.passfd_listener_port;
	fd = address_listen(&a, &err);
	if (fd < 0 || passfd_new(agent->loop, fd, &agent->sandbox.passfd, &err) < 0) {
		log_error("passfd", "passfd I/O off: vsock port %u: %s", a.port, err->msg);
		agent_error_free(err);
		return;
	}
	log_info("passfd", "passfd streams on vsock port %u", a.port);
}

static void on_memagent_event(const struct memagent_event *ev, void *data)
{
	switch (ev->kind) {
	case MEMAGENT_EV_SKIPPED:
		log_debug("mem-agent", "compaction %s (psi %llu%%)",
			  memagent_verdict_name(ev->verdict), (unsigned long long)ev->psi_percent);
		break;
	case MEMAGENT_EV_STARTED:
		log_debug("mem-agent", "compaction started, %s (psi %llu%%, pid %d)",
			  memagent_verdict_name(ev->verdict), (unsigned long long)ev->psi_percent,
			  (int)ev->pid);
		break;
	case MEMAGENT_EV_DONE:
		log_debug("mem-agent", "compaction done in %llu ms (pid %d, exit %d%s%s)",
			  (unsigned long long)ev->duration_ms, (int)ev->pid,
			  reaper_exit_code(ev->status), ev->stop_reason ? ", killed: " : "",
			  ev->stop_reason ? ev->stop_reason : "");
		break;
	case MEMAGENT_EV_ERROR:
		log_error("mem-agent", "%s", ev->msg);
		break;
	case MEMAGENT_EV_MEMCG:
		if (ev->pid && ev->duration_ms)
			log_info("mem-agent", "memcg: %s in %llu ms (pid %d, exit %d)", ev->msg,
				 (unsigned long long)ev->duration_ms, (int)ev->pid,
				 reaper_exit_code(ev->status));
		else
			log_info("mem-agent", "memcg: %s", ev->msg);
		break;
	case MEMAGENT_EV_MEMCG_OFF:
		log_info("mem-agent", "memcg reclaim cannot run: %s", ev->msg);
		break;
	}
}

/* agent.mem_agent_compact_*: upstream's defaults, overridden where given (checked as the RPC). */
static void compact_overrides(const struct agent_config *cfg, struct memagent_compact_config *cc)
{
	const typeof(cfg->mem_agent_compact) *o = &cfg->mem_agent_compact;
	struct memagent_compact_update u = {
		.has_disabled = true,
		.disabled = o->disable,
		.has_period_secs = o->period_secs >= 0,
		.period_secs = (uint64_t)o->period_secs,
		.has_period_psi_percent_limit = o->period_psi_percent_limit >= 0,
		.period_psi_percent_limit = (uint32_t)MIN(o->period_psi_percent_limit, UINT32_MAX),
		.has_compact_psi_percent_limit = o->psi_percent_limit >= 0,
		.compact_psi_percent_limit = (uint32_t)MIN(o->psi_percent_limit, UINT32_MAX),
		.has_compact_sec_max = o->sec_max >= 0,
		.compact_sec_max = o->sec_max,
		.has_compact_order = o->order >= 0,
		.compact_order = (uint32_t)MIN(o->order, UINT32_MAX),
		.has_compact_threshold = o->threshold >= 0,
		.compact_threshold = (uint64_t)o->threshold,
		.has_compact_force_times = o->force_times >= 0,
		.compact_force_times = (uint64_t)o->force_times,
	};
	agent_error_t *err = NULL;
	bool changed;

	if (memagent_compact_config_apply(cc, &u, &changed, &err) < 0) {
		log_warn("mem-agent", "agent.mem_agent_compact_*: %s; upstream's defaults kept",
			 err->msg);
		agent_error_free(err);
	}
}

/* agent.mem_agent_enable: a mem-agent that cannot start is logged, the agent serves anyway. */
static void start_mem_agent(struct agent *agent)
{
	struct memagent_compact_config cc;
	agent_error_t *merr = NULL;

	if (!agent->cfg.mem_agent_enable)
		return;
	memagent_compact_config_default(&cc);
	compact_overrides(&agent->cfg, &cc);
	if (memagent_new(agent->loop, &agent->reaper, &cc, NULL, on_memagent_event, agent,
			 &agent->sandbox.memagent, &merr) < 0) {
		log_error("mem-agent", "mem-agent not started: %s", merr->msg);
		agent_error_free(merr);
		return;
	}
	log_info("mem-agent", "mem-agent started (compaction every %llu s)",
		 (unsigned long long)cc.period_secs);
}

int agent_start(struct agent *agent, agent_error_t **err)
{
	int r;

	reaper_init(&agent->reaper);
	r = loop_new(&agent->loop);
	if (r < 0)
		return agent_error_set(err, -r, "cannot create the event loop");
	struct sandbox_options so = {
		.cgroup_v2 = agent->cfg.unified_cgroup_hierarchy,
		.pipe_size = agent->cfg.container_pipe_size,
		.hotplug_timeout_ms = agent->cfg.hotplug_timeout_ms,
		.unconfined_paths = agent->cfg.debug_unconfined_paths,
		.launch_timeout_ms = agent->cfg.launch_process_timeout_ms,
	};
	if (so.unconfined_paths)
		log_warn("root",
			 "agent.debug_unconfined_paths is set: containers may be given any "
			 "guest path as root or bind source, and spec hooks run; debugging only");
	sandbox_init(&agent->sandbox, agent->loop, &agent->reaper, &so);
	/* Devices are seen from now on, and looked up in sysfs for what came before. */
	agent_error_t *uerr = NULL;
	if (uevent_listener_new(agent->loop, NULL,
				agent->init_mode ? UEVENT_LISTENER_ONLINE_MEMORY : 0,
				&agent->sandbox.uevents, &uerr) < 0) {
		log_warn("uevent", "no uevent listener: %s", uerr->msg);
		agent_error_free(uerr);
	}

	if (agent->cfg.log_vport > 0) {
		r = agent_logport_start(agent, agent->cfg.log_vport, err);
		if (r < 0)
			return r;
		/* From here on the stream is the port reader's; until one connects, lines wait. */
		log_info("root", "logs now go to vsock port %d", agent->cfg.log_vport);
		agent_logsink_attach(agent, -1, false);
	} else {
		agent_logsink_attach(agent, agent->logger.fd, agent->logger.fd_owned);
	}

	apply_dump_policy(agent);
	if (!agent->init_mode && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		log_warn("root", "cannot become a child subreaper: %s", strerror(errno));

	signal(SIGPIPE, SIG_IGN);
	if ((r = loop_signal_add(agent->loop, SIGCHLD, on_sigchld, agent)) < 0 ||
	    (r = loop_signal_add(agent->loop, SIGTERM, on_terminate, agent)) < 0 ||
	    (r = loop_signal_add(agent->loop, SIGINT, on_terminate, agent)) < 0)
		return agent_error_set(err, -r, "cannot set up signal handling");
	/* Children that exited before the signalfd existed. */
	reaper_reap(&agent->reaper);

	start_debug_console(agent);
	start_mem_agent(agent);
	start_passfd(agent);
	return start_server(agent, err);
}

void agent_stop(struct agent *agent)
{
	agent_late_modules_stop(agent);
	agent->server = rpc_server_free(agent->server);
	agent->sandbox.passfd = passfd_free(agent->sandbox.passfd);
	agent->tracer = tracer_free(agent->tracer);
	sandbox_release(&agent->sandbox);
	agent->console = debug_console_stop(agent->console);
	agent_logport_stop(agent);
	agent->logger_io = loop_io_del(agent->loop, agent->logger_io);
	logger_drain(&agent->logger, 1000);
	agent->loop = loop_free(agent->loop);
	reaper_release(&agent->reaper);
}
