/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kata-agent: wiring only. Configuration -> logging -> loop -> serve.
 *
 * Invariant: once the agent serves, nothing calls exit(). As PID 1 an exit
 * panics the guest kernel, so every error after start-up is answered on the
 * wire and logged; the process only ends by DestroySandbox or, outside a VM,
 * by SIGTERM/SIGINT.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "init/init.h"
#include "transport/address.h"

extern char **environ;

/* stderr with its own non-blocking file description, so the console never stalls the loop. */
static int open_log_fd(void)
{
	int fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_APPEND);
	if (fd >= 0)
		return fd;
	return fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
}

static void log_announce(struct agent *agent)
{
	char *cfg = agent_config_to_json(&agent->cfg);
	log_write(LOG_LEVEL_INFO, "root",
		  LOG_FIELDS({"agent-version", AGENT_VERSION}, {"api-version", AGENT_API_VERSION},
			     {"config", cfg ? cfg : "{}"},
			     {"init-mode", agent->init_mode ? "true" : "false"}),
		  "announce");
	free(cfg);
	for (size_t i = 0; i < agent->cfg.n_warnings; i++)
		log_warn("config", "%s", agent->cfg.warnings[i]);
}

/*
 * The port appears a moment after its driver loads (the boot modules as PID 1; udev and
 * systemd-modules-load under systemd): wait for it.
 */
static void wait_for_serial_port(const struct agent *agent)
{
	struct address addr;
	agent_error_t *err = NULL;
	uint64_t deadline = loop_now_ms() + MAX(agent->cfg.hotplug_timeout_ms, 10000);

	if (address_parse(agent->cfg.server_addr, &addr, &err) < 0 || addr.kind != ADDRESS_SERIAL) {
		agent_error_free(err);
		return;
	}
	for (;;) {
		int fd = address_open_serial(&addr, "/sys", &err);
		if (fd >= 0) {
			close(fd);
			return;
		}
		if (loop_now_ms() >= deadline) {
			log_error("init", "serial port %s: %s", addr.path, err->msg);
			agent_error_free(err);
			return;
		}
		err = agent_error_free(err);
		usleep(20 * 1000);
	}
}

/* PID 1's duties after the configuration is known; failures are logged. */
static void init_duties(struct agent *agent, const char *early_errors)
{
	char *errors = NULL;
	agent_error_t *err = NULL;

	log_lines("init", LOG_LEVEL_CRITICAL, "early mount", early_errors);
	if (init_load_modules(INIT_BOOT_MODULES, &errors) > 0)
		log_lines("init", LOG_LEVEL_ERROR, "boot modules", errors);
	free(errors);
	errors = NULL;
	if (init_mount_cgroups(agent->cfg.unified_cgroup_hierarchy, &err) < 0) {
		log_lines("init", LOG_LEVEL_ERROR, "cgroups", err->msg);
		err = agent_error_free(err);
	}
	init_finish(&errors);
	log_lines("init", LOG_LEVEL_WARN, "init", errors);
	free(errors);
	if (agent->cfg.dev_mode)
		init_core_pattern();
}

int main(int argc, char **argv)
{
	static struct agent agent; /* lives for the whole process; see agent.h */
	_cleanup_error_ agent_error_t *err = NULL;

	agent.start_ms = loop_now_ms();
	agent.init_mode = getpid() == 1;
	/* PID 1 reads its configuration from /proc/cmdline: /proc comes first. */
	char *early_errors = NULL;
	if (agent.init_mode)
		init_early_mounts(&early_errors);

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			printf("kata-agent version %s (API %s)\n", AGENT_VERSION,
			       AGENT_API_VERSION);
			return 0;
		}
	}

	agent_config_init(&agent.cfg);
	agent_config_load(&agent.cfg, argc, argv, (const char *const *)environ);

	/* Not PID 1: systemd (or another init) mounted the cgroups; the agent uses those. */
	int mounted_v2 = agent.init_mode
				 ? -1
				 : init_mounted_cgroup_mode("/sys/fs/cgroup",
							    agent.cfg.unified_cgroup_hierarchy);
	bool cgroup_mode_differs =
		mounted_v2 >= 0 && (bool)mounted_v2 != agent.cfg.unified_cgroup_hierarchy;
	if (cgroup_mode_differs)
		agent.cfg.unified_cgroup_hierarchy = mounted_v2;

	logger_init(&agent.logger, agent.cfg.log_level, -1, AGENT_VERSION);
	int lfd = open_log_fd();
	if (lfd >= 0)
		logger_set_fd(&agent.logger, lfd, true);
	log_install(&agent.logger);
	log_announce(&agent);
	if (cgroup_mode_differs)
		log_warn("config",
			 "cgroup %s is mounted on /sys/fs/cgroup, not the configured %s: using it "
			 "(set systemd.unified_cgroup_hierarchy to choose the mode of both)",
			 mounted_v2 ? "v2" : "v1", mounted_v2 ? "v1" : "v2");
	if (agent.init_mode)
		init_duties(&agent, early_errors);
	free(early_errors);
	/* Also under systemd, which may start the agent before udev made the port's link. */
	wait_for_serial_port(&agent);

	if (agent_start(&agent, &err) < 0) {
		log_write(LOG_LEVEL_CRITICAL, "root", NULL, 0, "cannot start: %s", err->msg);
		if (agent.init_mode) {
			/* PID 1 must not exit (the kernel would panic): power the VM off instead.
			 */
			logger_drain(&agent.logger, 1000);
			init_poweroff();
		}
		agent_stop(&agent);
		logger_release(&agent.logger);
		agent_config_release(&agent.cfg);
		return 1;
	}
	log_write(LOG_LEVEL_INFO, "root", LOG_FIELDS({"address", agent.cfg.server_addr}),
		  "agent ready after %llu ms",
		  (unsigned long long)(loop_now_ms() - agent.start_ms));

	if (agent.init_mode)
		agent_late_modules_start(&agent);

	int r = loop_run(agent.loop);
	if (r < 0)
		log_error("root", "event loop failed: %s", strerror(-r));
	log_info("root", "kata-agent shutdown complete");
	agent_stop(&agent);
	if (agent.init_mode) {
		logger_drain(&agent.logger, 1000);
		init_poweroff();
	}
	logger_release(&agent.logger);
	agent_config_release(&agent.cfg);
	return r < 0 ? 1 : 0;
}
