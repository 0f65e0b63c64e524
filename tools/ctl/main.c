/* SPDX-License-Identifier: Apache-2.0 */
/* kata-agent-ctl: global options, help and command dispatch. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ttrpc-client.h"

/* Prints text word-wrapped to 80 columns: the first line indented by first, the rest by rest. */
static void print_wrapped(FILE *out, const char *text, int first, int rest)
{
	const int width = 80;
	int col = 0, indent = first;
	const char *p = text;
	while (*p) {
		size_t word = strcspn(p, " ");
		if (col > indent && col + 1 + (int)word > width) {
			fputc('\n', out);
			col = 0;
			indent = rest;
		}
		if (col == 0) {
			fprintf(out, "%*s", indent, "");
			col = indent;
		} else {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, word, out);
		col += (int)word;
		p += word;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

static const char usage_head[] =
	"Usage: " CTL_NAME " [--addr ADDR] [--timeout SECONDS] [--traceparent VAL] COMMAND\n"
	"       [ARGS...]\n"
	"\n"
	"Drives a Kata Containers agent over ttRPC.\n"
	"\n"
	"Options:\n"
	"  -a, --addr ADDR        agent address (default: $KATA_AGENT_ADDR, else\n"
	"                         " CTL_DEFAULT_ADDR "):\n"
	"                           unix:///path, unix://@name, vsock://CID:PORT,\n"
	"                           hvsock:///path/to/vm.sock:PORT (Firecracker, CLH),\n"
	"                           serial:///path/to/chardev.sock (QEMU virtio-serial)\n"
	"  -t, --timeout SECONDS  how long to keep trying to connect, and the deadline\n"
	"                         sent with each call (default " STRINGIFY(
		CTL_DEFAULT_TIMEOUT_S) "; 0 = no limit).\n"
				       "                         Calls that block by design (wait, "
				       "read-stdout,\n"
				       "                         read-stderr, GetOOMEvent) have no "
				       "deadline unless\n"
				       "                         --timeout is given.\n"
				       "  -p, --traceparent VAL  send this W3C traceparent with "
				       "every "
				       "call, as a\n"
				       "                         traced runtime does "
				       "(00-TRACEID-SPANID-FLAGS)\n"
				       "  -h, --help             show this help\n"
				       "\n"
				       "Commands:\n";

static const char usage_tail[] =
	"\n"
	"JSON arguments are literal text, - (read stdin) or @FILE. Replies print as\n"
	"JSON with the field names of the .proto files; 64-bit integers are strings.\n"
	"\n"
	"Exit status: 0 success, 1 failed call or connection, 2 usage error.\n"
	"A failed call prints \"" CTL_NAME ": METHOD: CODE_NAME (code): message\".\n";

static void usage(FILE *out)
{
	fputs(usage_head, out);
	const struct ctl_command *tables[] = {ctl_basic_commands, ctl_container_commands,
					      ctl_trace_commands};
	for (size_t t = 0; t < ARRAY_SIZE(tables); t++) {
		for (const struct ctl_command *c = tables[t]; c->name; c++) {
			char head[512];
			snprintf(head, sizeof(head), "%s%s%s", c->name, *c->synopsis ? " " : "",
				 c->synopsis);
			print_wrapped(out, head, 2, 4);
			print_wrapped(out, c->help, 6, 6);
		}
	}
	fputs(usage_tail, out);
}

int ctl_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, CTL_NAME ": ");
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" CTL_NAME " --help'.\n");
	return CTL_USAGE;
}

int ctl_fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, CTL_NAME ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_FAILED;
}

static const struct ctl_command *find_command(const char *name)
{
	const struct ctl_command *tables[] = {ctl_basic_commands, ctl_container_commands,
					      ctl_trace_commands};
	for (size_t t = 0; t < ARRAY_SIZE(tables); t++)
		for (const struct ctl_command *c = tables[t]; c->name; c++)
			if (strcmp(c->name, name) == 0)
				return c;
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"addr", required_argument, NULL, 'a'},
		{"timeout", required_argument, NULL, 't'},
		{"traceparent", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct ctl ctl = {.addr = getenv("KATA_AGENT_ADDR"), .timeout_s = CTL_DEFAULT_TIMEOUT_S};
	if (!ctl.addr || !*ctl.addr)
		ctl.addr = CTL_DEFAULT_ADDR;

	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:a:t:p:h", opts, NULL)) != -1) {
		uint64_t v;
		switch (opt) {
		case 'a':
			ctl.addr = optarg;
			break;
		case 't':
			if (ctl_parse_uint(optarg, 86400 * 365, &v) < 0)
				return ctl_usage_error(
					NULL, "invalid --timeout '%s' (whole seconds)", optarg);
			ctl.timeout_s = (int)v;
			ctl.timeout_set = true;
			break;
		case 'p':
			ctl.trace_md = (struct ttrpc_kv){"traceparent", optarg};
			break;
		case 'h':
			usage(stdout);
			return CTL_OK;
		case ':':
			return ctl_usage_error(NULL, "option '%s' needs a value", argv[optind - 1]);
		default:
			return ctl_usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return ctl_usage_error(NULL, "no command given");
	if (strcmp(argv[optind], "help") == 0) {
		usage(stdout);
		return CTL_OK;
	}
	const struct ctl_command *cmd = find_command(argv[optind]);
	if (!cmd)
		return ctl_usage_error(NULL, "unknown command '%s'", argv[optind]);

	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	optind = 0; /* GNU getopt: start over for the command's own options */
	int r = cmd->run(&ctl, sub_argc, sub_argv);
	ctl.client = ttrpc_client_free(ctl.client);
	if (fflush(stdout) != 0 && r == CTL_OK)
		r = ctl_fail("writing output failed");
	return r;
}
