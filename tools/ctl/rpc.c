/* SPDX-License-Identifier: Apache-2.0 */
/* kata-agent-ctl: connecting, calling by method name, reporting failures, reading arguments. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-methods.h"
#include "ctl.h"
#include "jsonpb.h"
#include "ttrpc-client.h"

struct ttrpc_client *ctl_client(struct ctl *ctl)
{
	if (ctl->client)
		return ctl->client;
	_cleanup_error_ agent_error_t *err = NULL;
	int timeout_ms = ctl->timeout_s > 0 ? ctl->timeout_s * 1000 : -1;
	int fd = ttrpc_dial(ctl->addr, timeout_ms, &err);
	if (fd < 0) {
		ctl_fail("%s", err && err->msg ? err->msg : "cannot connect");
		return NULL;
	}
	ctl->client = ttrpc_client_new(fd);
	if (!ctl->client) {
		close(fd);
		ctl_fail("out of memory");
	} else if (ctl->trace_md.key) {
		ttrpc_client_set_default_metadata(ctl->client, &ctl->trace_md, 1);
	}
	return ctl->client;
}

int64_t ctl_call_timeout(const struct ctl *ctl, const char *method)
{
	/* As the runtime does: these wait for events and have no deadline. */
	static const char *const unbounded[] = {"WaitProcess", "ReadStdout", "ReadStderr",
						"GetOOMEvent"};
	if (!ctl->timeout_set)
		for (size_t i = 0; i < ARRAY_SIZE(unbounded); i++)
			if (strcmp(method, unbounded[i]) == 0)
				return 0;
	return (int64_t)ctl->timeout_s * 1000000000;
}

int ctl_call(struct ctl *ctl, const char *method, const ProtobufCMessage *req,
	     ProtobufCMessage **ret_resp)
{
	const ProtobufCServiceDescriptor *svc;
	const ProtobufCMethodDescriptor *m;
	_cleanup_error_ agent_error_t *err = NULL;

	if (agent_method_lookup(method, &svc, &m, &err) < 0)
		return ctl_fail("%s", err->msg);
	if (req->descriptor != m->input)
		return ctl_fail("%s: request is a %s, the method takes %s", m->name,
				req->descriptor->name, m->input->name);
	struct ttrpc_client *c = ctl_client(ctl);
	if (!c)
		return CTL_FAILED;

	ProtobufCMessage *resp = NULL;
	int32_t code = 0;
	_cleanup_free_ char *msg = NULL;
	if (ttrpc_client_call_msg(c, svc->name, m->name, req, m->output, &resp, &code, &msg,
				  ctl_call_timeout(ctl, m->name), &err) < 0)
		return ctl_fail("%s: %s", m->name, err->msg);
	if (code != GRPC_OK)
		return ctl_fail("%s: %s (%d): %s", m->name, grpc_code_name(code), code,
				msg ? msg : "");
	if (ret_resp)
		*ret_resp = resp;
	else
		protobuf_c_message_free_unpacked(resp, NULL);
	return CTL_OK;
}

int ctl_print_json(const ProtobufCMessage *msg)
{
	_cleanup_error_ agent_error_t *err = NULL;
	_cleanup_free_ char *text = NULL;
	if (jsonpb_print(msg, JSONPB_PRETTY, &text, &err) < 0)
		return ctl_fail("printing the reply: %s", err->msg);
	puts(text);
	return CTL_OK;
}

int ctl_read_file(const char *path, size_t max, char **ret, size_t *ret_len, agent_error_t **err)
{
	bool is_stdin = strcmp(path, "-") == 0;
	_cleanup_close_ int fd = is_stdin ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return agent_error_setsys(err, errno, "opening %s", is_stdin ? "stdin" : path);

	size_t len = 0, cap = 4096;
	_cleanup_free_ char *buf = malloc(cap);
	if (!buf)
		return agent_error_set(err, ENOMEM, "out of memory");
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > max)
				return agent_error_set(err, EFBIG, "%s is larger than %zu bytes",
						       is_stdin ? "stdin" : path, max);
			char *p = realloc(buf, cap * 2);
			if (!p)
				return agent_error_set(err, ENOMEM, "out of memory");
			buf = p;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return agent_error_setsys(err, errno, "reading %s",
						  is_stdin ? "stdin" : path);
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max)
			return agent_error_set(err, EFBIG, "%s is larger than %zu bytes",
					       is_stdin ? "stdin" : path, max);
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

int ctl_read_arg(const char *arg, size_t max, char **ret, size_t *ret_len, agent_error_t **err)
{
	if (strcmp(arg, "-") == 0)
		return ctl_read_file("-", max, ret, ret_len, err);
	if (arg[0] == '@')
		return ctl_read_file(arg + 1, max, ret, ret_len, err);
	size_t n = strlen(arg);
	if (n > max)
		return agent_error_set(err, EFBIG, "argument larger than %zu bytes", max);
	char *copy = strdup(arg);
	if (!copy)
		return agent_error_set(err, ENOMEM, "out of memory");
	*ret = copy;
	*ret_len = n;
	return 0;
}

int ctl_parse_message(const char *what, const char *text, size_t len,
		      const ProtobufCMessageDescriptor *desc, ProtobufCMessage **ret)
{
	_cleanup_error_ agent_error_t *err = NULL;
	if (jsonpb_parse(text, len, desc, NULL, ret, &err) < 0)
		return ctl_usage_error(what, "%s", err->msg);
	return CTL_OK;
}

int ctl_parse_uint(const char *s, uint64_t max, uint64_t *ret)
{
	if (!s || !*s)
		return -EINVAL;
	uint64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		unsigned d = (unsigned)(*p - '0');
		if (d > max || v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}
