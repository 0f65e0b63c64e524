/* SPDX-License-Identifier: Apache-2.0 */
/* Every configuration option with valid, edge and invalid values; sources and precedence. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "harness.h"

enum field {
	F_LEVEL,
	F_DEVMODE,
	F_CONSOLE,
	F_CONSOLE_VPORT,
	F_LOG_VPORT,
	F_ADDR,
	F_HOTPLUG,
	F_CGROUP2,
	F_PIPE,
	F_TRACE,
	F_PASSFD,
	F_CONFIG_FILE,
	F_CDH,
	F_IMAGE_PULL,
	F_LAUNCH,
	F_CDI,
	F_VISIBLE_CDI,
	F_HTTPS_PROXY,
	F_NO_PROXY,
	F_REST_API,
	F_PROCS,
	F_SECURE_STORAGE,
	F_MEM_AGENT,
};

struct row {
	const char *cmdline;
	enum field field;
	long long want; /* numbers, booleans, levels */
	const char *want_str; /* strings */
	bool warns;
};

#define MS(x) ((long long)(x))
static const struct row rows[] = {
	/* agent.log */
	{"agent.log=debug", F_LEVEL, LOG_LEVEL_DEBUG, NULL, false},
	{"agent.log=trace", F_LEVEL, LOG_LEVEL_TRACE, NULL, false},
	{"agent.log=warning", F_LEVEL, LOG_LEVEL_WARN, NULL, false},
	{"agent.log=fatal", F_LEVEL, LOG_LEVEL_CRITICAL, NULL, false},
	{"agent.log=DEBUG", F_LEVEL, LOG_LEVEL_INFO, NULL, true},
	{"agent.log=", F_LEVEL, LOG_LEVEL_INFO, NULL, true},
	{"agent.log", F_LEVEL, LOG_LEVEL_INFO, NULL, true},
	{"agent.log=debug=x", F_LEVEL, LOG_LEVEL_INFO, NULL, true},
	{"agent.log=debug agent.log=error", F_LEVEL, LOG_LEVEL_ERROR, NULL, false},
	{"agent.log=error agent.log=bogus", F_LEVEL, LOG_LEVEL_ERROR, NULL, true},
	/* agent.devmode: implies debug */
	{"agent.devmode", F_DEVMODE, 1, NULL, false},
	{"agent.devmode", F_LEVEL, LOG_LEVEL_DEBUG, NULL, false},
	{"agent.devmode agent.log=trace", F_LEVEL, LOG_LEVEL_TRACE, NULL, false},
	{"agent.devmode=true", F_DEVMODE, 1, NULL, false},
	{"agent.devmode=0", F_DEVMODE, 0, NULL, false},
	{"agent.devmode=0", F_LEVEL, LOG_LEVEL_INFO, NULL, false},
	{"agent.devmode=maybe", F_DEVMODE, 0, NULL, true},
	{"agent.devmodex", F_DEVMODE, 0, NULL, true},
	/* agent.debug_console */
	{"agent.debug_console", F_CONSOLE, 1, NULL, false},
	{"agent.debug_console=false", F_CONSOLE, 0, NULL, false},
	{"agent.debug_console=1", F_CONSOLE, 1, NULL, false},
	{"agent.debug_console=2", F_CONSOLE, 0, NULL, true},
	/* agent.debug_console_vport */
	{"agent.debug_console_vport=1026", F_CONSOLE_VPORT, 1026, NULL, false},
	{"agent.debug_console_vport=1024", F_CONSOLE_VPORT, 0, NULL, true},
	{"agent.debug_console_vport=1025", F_CONSOLE_VPORT, 0, NULL, true},
	{"agent.debug_console_vport=0", F_CONSOLE_VPORT, 0, NULL, false},
	{"agent.debug_console_vport=-3", F_CONSOLE_VPORT, 0, NULL, false},
	{"agent.debug_console_vport=2147483647", F_CONSOLE_VPORT, 2147483647, NULL, false},
	{"agent.debug_console_vport=2147483648", F_CONSOLE_VPORT, 0, NULL, true},
	{"agent.debug_console_vport=12ab", F_CONSOLE_VPORT, 0, NULL, true},
	{"agent.debug_console_vport=", F_CONSOLE_VPORT, 0, NULL, true},
	/* agent.log_vport */
	{"agent.log_vport=1025", F_LOG_VPORT, 1025, NULL, false},
	{"agent.log_vport=x", F_LOG_VPORT, 0, NULL, true},
	{"agent.log_vport=0", F_LOG_VPORT, 0, NULL, false},
	/* agent.server_addr */
	{"agent.server_addr=unix:///run/a.sock", F_ADDR, 0, "unix:///run/a.sock", false},
	{"agent.server_addr=vsock://3:1024=x", F_ADDR, 0, "vsock://3:1024=x", false},
	{"agent.server_addr=\"unix:///a b\"", F_ADDR, 0, "unix:///a b", false},
	{"agent.server_addr=", F_ADDR, 0, "vsock://-1:1024", true},
	{"", F_ADDR, 0, "vsock://-1:1024", false},
	/* agent.hotplug_timeout: Go durations and seconds; invalid falls back to 3 s */
	{"agent.hotplug_timeout=10", F_HOTPLUG, MS(10000), NULL, false},
	{"agent.hotplug_timeout=10s", F_HOTPLUG, MS(10000), NULL, false},
	{"agent.hotplug_timeout=500ms", F_HOTPLUG, MS(500), NULL, false},
	{"agent.hotplug_timeout=1m30s", F_HOTPLUG, MS(90000), NULL, false},
	{"agent.hotplug_timeout=1h", F_HOTPLUG, MS(3600000), NULL, false},
	{"agent.hotplug_timeout=1.5s", F_HOTPLUG, MS(1500), NULL, false},
	{"agent.hotplug_timeout=0", F_HOTPLUG, MS(3000), NULL, true},
	{"agent.hotplug_timeout=-1", F_HOTPLUG, MS(3000), NULL, true},
	{"agent.hotplug_timeout=foo", F_HOTPLUG, MS(3000), NULL, true},
	{"agent.hotplug_timeout=10x", F_HOTPLUG, MS(3000), NULL, true},
	{"agent.hotplug_timeout", F_HOTPLUG, MS(3000), NULL, true},
	{"agent.hotplug_timeout=99999999999999h", F_HOTPLUG, MS(3000), NULL, true},
	/* cgroups v2 and its aliases; default v1 */
	{"", F_CGROUP2, 0, NULL, false},
	{"agent.unified_cgroup_hierarchy=1", F_CGROUP2, 1, NULL, false},
	{"agent.unified_cgroup_hierarchy=true", F_CGROUP2, 1, NULL, false},
	{"agent.unified_cgroup_hierarchy=0", F_CGROUP2, 0, NULL, false},
	{"agent.unified_cgroup_hierarchy=yes-please", F_CGROUP2, 0, NULL, true},
	{"systemd.unified_cgroup_hierarchy=1", F_CGROUP2, 1, NULL, false},
	{"systemd.unified_cgroup_hierarchy=false", F_CGROUP2, 0, NULL, false},
	{"cgroup_no_v1=all", F_CGROUP2, 1, NULL, false},
	{"cgroup_no_v1=memory", F_CGROUP2, 0, NULL, false},
	/* agent.container_pipe_size */
	{"agent.container_pipe_size=1048576", F_PIPE, 1048576, NULL, false},
	{"agent.container_pipe_size=0", F_PIPE, 0, NULL, false},
	{"agent.container_pipe_size=-1", F_PIPE, 0, NULL, true},
	{"agent.container_pipe_size=4k", F_PIPE, 0, NULL, true},
	{"agent.container_pipe_size=2147483648", F_PIPE, 0, NULL, true},
	/* agent.trace */
	{"agent.trace", F_TRACE, 1, NULL, false},
	{"agent.trace=true", F_TRACE, 1, NULL, false},
	{"agent.trace=0", F_TRACE, 0, NULL, false},
	{"agent.trace=sometimes", F_TRACE, 0, NULL, true},
	/* agent.passfd_listener_port */
	{"agent.passfd_listener_port=1027", F_PASSFD, 1027, NULL, false},
	{"agent.passfd_listener_port=-1", F_PASSFD, 0, NULL, false},
	{"agent.passfd_listener_port=z", F_PASSFD, 0, NULL, true},
	/* agent.config_file: recorded (the file itself is tested below) */
	{"agent.config_file=", F_CONFIG_FILE, 0, NULL, true},
	/* timeouts of the CC helpers, with the hotplug rules */
	{"agent.cdh_api_timeout=20", F_CDH, MS(20000), NULL, false},
	{"agent.cdh_api_timeout=bad", F_CDH, MS(50000), NULL, true},
	{"agent.image_pull_timeout=2m", F_IMAGE_PULL, MS(120000), NULL, false},
	{"", F_IMAGE_PULL, MS(1200000), NULL, false},
	{"agent.launch_process_timeout=9", F_LAUNCH, MS(9000), NULL, false},
	{"agent.cdi_timeout=0", F_CDI, MS(100000), NULL, true},
	{"agent.cdi_timeout=7s", F_CDI, MS(7000), NULL, false},
	{"agent.visible_cdi_devices=true", F_VISIBLE_CDI, 1, NULL, false},
	{"agent.visible_cdi_devices", F_VISIBLE_CDI, 1, NULL, false},
	{"agent.https_proxy=http://proxy:3128", F_HTTPS_PROXY, 0, "http://proxy:3128", false},
	{"agent.no_proxy=localhost,10.0.0.0/8", F_NO_PROXY, 0, "localhost,10.0.0.0/8", false},
	{"", F_REST_API, 0, "resource", false},
	{"agent.guest_components_rest_api=all", F_REST_API, 0, "all", false},
	{"agent.guest_components_rest_api=everything", F_REST_API, 0, "resource", true},
	{"agent.guest_components_procs=none", F_PROCS, 0, "none", false},
	{"agent.guest_components_procs=", F_PROCS, 0, "api-server-rest", true},
	{"", F_SECURE_STORAGE, 1, NULL, false},
	{"agent.secure_storage_integrity=false", F_SECURE_STORAGE, 0, NULL, false},
	{"agent.mem_agent_enable=1 agent.mem_agent_memcg_swap=true", F_MEM_AGENT, 1, NULL, false},
	/* tokens that are not ours */
	{"console=ttyS0 quiet root=/dev/vda agent_log=debug", F_LEVEL, LOG_LEVEL_INFO, NULL, false},
};

static long long get_num(const struct agent_config *c, enum field f)
{
	switch (f) {
	case F_LEVEL:
		return c->log_level;
	case F_DEVMODE:
		return c->dev_mode;
	case F_CONSOLE:
		return c->debug_console;
	case F_CONSOLE_VPORT:
		return c->debug_console_vport;
	case F_LOG_VPORT:
		return c->log_vport;
	case F_HOTPLUG:
		return (long long)c->hotplug_timeout_ms;
	case F_CGROUP2:
		return c->unified_cgroup_hierarchy;
	case F_PIPE:
		return c->container_pipe_size;
	case F_TRACE:
		return c->tracing;
	case F_PASSFD:
		return c->passfd_listener_port;
	case F_CDH:
		return (long long)c->cdh_api_timeout_ms;
	case F_IMAGE_PULL:
		return (long long)c->image_pull_timeout_ms;
	case F_LAUNCH:
		return (long long)c->launch_process_timeout_ms;
	case F_CDI:
		return (long long)c->cdi_timeout_ms;
	case F_VISIBLE_CDI:
		return c->visible_cdi_devices;
	case F_SECURE_STORAGE:
		return c->secure_storage_integrity;
	case F_MEM_AGENT:
		return c->mem_agent_enable;
	default:
		return -12345;
	}
}

static const char *get_str(const struct agent_config *c, enum field f)
{
	switch (f) {
	case F_ADDR:
		return c->server_addr;
	case F_CONFIG_FILE:
		return c->config_file;
	case F_HTTPS_PROXY:
		return c->https_proxy;
	case F_NO_PROXY:
		return c->no_proxy;
	case F_REST_API:
		return c->guest_components_rest_api;
	case F_PROCS:
		return c->guest_components_procs;
	default:
		return NULL;
	}
}

/* Runs the whole load with the row as the kernel command line and no environment. */
static void load_with_cmdline(struct agent_config *c, const char *cmdline)
{
	char path[] = "/tmp/kata-cfg-XXXXXX";
	int fd = mkstemp(path);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, cmdline, strlen(cmdline)), (ssize_t)strlen(cmdline));
	close(fd);
	char *argv[] = {"kata-agent", "--cmdline-file", path, NULL};
	const char *envp[] = {NULL};
	agent_config_init(c);
	agent_config_load(c, 3, argv, envp);
	unlink(path);
}

TEST(every_option_table)
{
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct row *r = &rows[i];
		struct agent_config c;
		load_with_cmdline(&c, r->cmdline);
		if (r->want_str) {
			const char *got = get_str(&c, r->field);
			if (!got || strcmp(got, r->want_str) != 0)
				FAIL("row %zu [%s]: got \"%s\", want \"%s\"", i, r->cmdline,
				     got ? got : "(null)", r->want_str);
		} else if (r->field == F_CONFIG_FILE) {
			ASSERT_NULL(c.config_file);
		} else if (get_num(&c, r->field) != r->want) {
			FAIL("row %zu [%s]: got %lld, want %lld", i, r->cmdline,
			     get_num(&c, r->field), r->want);
		}
		if ((c.n_warnings > 0) != r->warns)
			FAIL("row %zu [%s]: %zu warnings (first: %s), want %s", i, r->cmdline,
			     c.n_warnings, c.n_warnings ? c.warnings[0] : "-",
			     r->warns ? "some" : "none");
		agent_config_release(&c);
	}
}

TEST(duration_parser)
{
	static const struct {
		const char *s;
		int ret;
		unsigned long long ms;
	} cases[] = {
		{"5", 0, 5000},
		{"0", 0, 0},
		{"1h2m3.5s", 0, 3723500},
		{"500ms", 0, 500},
		{"1.5h", 0, 5400000},
		{".5s", 0, 500},
		{"10us", 0, 1},
		{"7ns", 0, 1},
		{"1\xc2\xb5s", 0, 1},
		{"2m", 0, 120000},
		{"", -EINVAL, 0},
		{"s", -EINVAL, 0},
		{"-1s", -EINVAL, 0},
		{"+1s", -EINVAL, 0},
		{"1x", -EINVAL, 0},
		{"1", 0, 1000},
		{"1s2", -EINVAL, 0},
		{"99999999999999h", -ERANGE, 0},
		{"9999999999999", -ERANGE, 0},
		{"1 s", -EINVAL, 0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t ms = 4242;
		int r = parse_go_duration_ms(cases[i].s, &ms);
		if (r != cases[i].ret)
			FAIL("\"%s\": returned %d, want %d", cases[i].s, r, cases[i].ret);
		if (r == 0 && ms != cases[i].ms)
			FAIL("\"%s\": %llu ms, want %llu", cases[i].s, (unsigned long long)ms,
			     cases[i].ms);
	}
}

static char *write_temp(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/kata-cfg-XXXXXX");
	int fd = mkstemp(path);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return strdup(path);
}

TEST(config_file_token_stops_parse_and_file_alone_configures)
{
	_cleanup_free_ char *toml =
		write_temp("log_level = \"warn\"\nserver_addr = \"unix:///from-file\"\n"
			   "hotplug_timeout = { secs = 7, nanos = 500000000 }\n"
			   "container_pipe_size = 65536\ndebug_console = true\n");
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "agent.trace agent.config_file=%s agent.log=trace", toml);
	_cleanup_free_ char *cl = write_temp(cmd);
	char *argv[] = {"kata-agent", "--cmdline-file", cl, NULL};
	const char *envp[] = {"KATA_AGENT_SERVER_ADDR=unix:///from-env", NULL};
	struct agent_config c;
	agent_config_init(&c);
	agent_config_load(&c, 3, argv, envp);
	ASSERT_EQ(c.log_level, LOG_LEVEL_WARN); /* the token after the file is not read */
	ASSERT_FALSE(c.tracing); /* the token before is discarded */
	ASSERT_STREQ(c.server_addr, "unix:///from-file"); /* no environment override */
	ASSERT_EQ(c.hotplug_timeout_ms, 7500);
	ASSERT_EQ(c.container_pipe_size, 65536);
	ASSERT_TRUE(c.debug_console);
	ASSERT_STREQ(c.config_file, toml);
	ASSERT_EQ(c.n_warnings, 0);
	agent_config_release(&c);
	unlink(toml);
	unlink(cl);
}

TEST(missing_config_file_keeps_cmdline_with_warning)
{
	_cleanup_free_ char *cl =
		write_temp("agent.trace agent.config_file=/nonexistent/agent.toml");
	char *argv[] = {"kata-agent", "--cmdline-file", cl, NULL};
	const char *envp[] = {"KATA_AGENT_LOG_LEVEL=error", NULL};
	struct agent_config c;
	agent_config_init(&c);
	agent_config_load(&c, 3, argv, envp);
	ASSERT_TRUE(c.tracing);
	ASSERT_EQ(c.log_level, LOG_LEVEL_ERROR);
	ASSERT_EQ(c.n_warnings, 1);
	ASSERT_NOT_NULL(strstr(c.warnings[0], "/nonexistent/agent.toml"));
	agent_config_release(&c);
	unlink(cl);
}

TEST(argv_config_then_env_then_flags)
{
	_cleanup_free_ char *toml =
		write_temp("log_level = \"debug\"\nserver_addr = \"unix:///file\"\n"
			   "tracing = false\nhotplug_timeout = [2, 0]\n");
	char *argv[] = {"kata-agent", "-c", toml, "--log-level", "error", NULL};
	const char *envp[] = {"KATA_AGENT_SERVER_ADDR=unix:///env", "KATA_AGENT_TRACING=true",
			      "KATA_AGENT_LOG_LEVEL=nonsense", NULL};
	struct agent_config c;
	agent_config_init(&c);
	agent_config_load(&c, 5, argv, envp);
	ASSERT_STREQ(c.server_addr, "unix:///env");
	ASSERT_TRUE(c.tracing);
	ASSERT_EQ(c.log_level, LOG_LEVEL_ERROR);
	ASSERT_EQ(c.hotplug_timeout_ms, 2000);
	ASSERT_EQ(c.n_warnings, 1); /* the invalid KATA_AGENT_LOG_LEVEL */
	agent_config_release(&c);
	unlink(toml);
}

TEST(toml_wrong_types_warn_and_bad_file_falls_back)
{
	struct agent_config c;
	agent_config_init(&c);
	_cleanup_error_ agent_error_t *err = NULL;
	const char *t = "log_vport = \"x\"\ndebug_console = 3\nunknown_key = [1,2]\n"
			"hotplug_timeout = \"250ms\"\n";
	ASSERT_EQ(agent_config_parse_toml(&c, t, strlen(t), &err), 0);
	ASSERT_EQ(c.log_vport, 0);
	ASSERT_FALSE(c.debug_console);
	ASSERT_EQ(c.hotplug_timeout_ms, 250);
	ASSERT_EQ(c.n_warnings, 2);
	const char *bad = "log_level = \"debug\"\nserver_addr = \n";
	ASSERT_TRUE(agent_config_parse_toml(&c, bad, strlen(bad), &err) < 0);
	ASSERT_NOT_NULL(strstr(err->msg, "line 2"));
	ASSERT_EQ(c.log_level, LOG_LEVEL_INFO); /* unchanged by a file that did not parse */
	agent_config_release(&c);
}

TEST(warnings_are_bounded)
{
	struct agent_config c;
	agent_config_init(&c);
	char line[8192] = "";
	for (int i = 0; i < 200; i++)
		strcat(line, "agent.log=nope ");
	agent_config_parse_cmdline(&c, line, strlen(line));
	ASSERT_EQ(c.n_warnings, CONFIG_MAX_WARNINGS);
	agent_config_release(&c);
}

TEST(config_renders_as_json)
{
	struct agent_config c;
	agent_config_init(&c);
	const char *cl = "agent.server_addr=\"unix:///a\\\"b\"";
	agent_config_parse_cmdline(&c, cl, strlen(cl));
	char *j = agent_config_to_json(&c);
	ASSERT_NOT_NULL(j);
	ASSERT_TRUE(j[0] == '{' && j[strlen(j) - 1] == '}');
	ASSERT_NOT_NULL(strstr(j, "\"hotplug_timeout_ms\":3000"));
	ASSERT_NOT_NULL(strstr(j, "\"config_file\":null"));
	free(j);
	agent_config_release(&c);
}
