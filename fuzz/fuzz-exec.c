/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ExecProcess requests as the host sends them (an ExecProcessRequest message):
 * the container and exec ids, the Process checks ExecProcess runs before
 * anything is forked (src/container/validate.c), and what the launch then
 * derives from an accepted Process without touching the machine: the
 * environment (src/container/procenv.c, no passwd file), the capability sets
 * and the rlimit names. A refusal always carries a message; what is accepted
 * keeps the bounds the later stages rely on.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent.pb-c.h"
#include "container/caps.h"
#include "container/procenv.h"
#include "container/rlimits.h"
#include "container/validate.h"

#define ARGS_MAX 1024
#define ENV_MAX 1024
#define BYTES_MAX (128 * 1024)

static void check_ids(const Grpc__ExecProcessRequest *req)
{
	if (container_id_valid(req->container_id)) {
		size_t n = strlen(req->container_id);
		if (n < 2 || n > 128 || strchr(req->container_id, '/'))
			abort();
	}
	if (exec_id_valid(req->exec_id)) {
		size_t n = strlen(req->exec_id);
		if (n < 1 || n > 128 || strchr(req->exec_id, '/') || !strcmp(req->exec_id, "..") ||
		    !strcmp(req->exec_id, "."))
			abort();
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)req->exec_id[i] < 0x20)
				abort();
	}
}

/* What process_validate promises of an accepted Process. */
static void check_accepted(const Grpc__Process *p)
{
	size_t total = 0;

	if (p->n_args < 1 || p->n_args > ARGS_MAX || !p->args[0][0])
		abort();
	for (size_t i = 0; i < p->n_args; i++)
		total += strlen(p->args[i]) + 1;
	if (total > BYTES_MAX)
		abort();
	total = 0;
	if (p->n_env > ENV_MAX)
		abort();
	for (size_t i = 0; i < p->n_env; i++)
		total += strlen(p->env[i]) + 1;
	if (total > BYTES_MAX)
		abort();
	if (p->cwd[0] && (p->cwd[0] != '/' || strlen(p->cwd) > 4096))
		abort();
	if (p->oomscoreadj < -1000 || p->oomscoreadj > 1000)
		abort();
	for (size_t i = 0; i < p->n_rlimits; i++)
		if (rlimit_from_name(p->rlimits[i]->type) < 0 ||
		    p->rlimits[i]->soft > p->rlimits[i]->hard)
			abort();
}

/* The environment the process gets: keys non-empty and unique, HOME present. */
static void check_env(const Grpc__Process *p)
{
	char **envp = NULL;
	agent_error_t *err = NULL;

	if (procenv_build(p, 0, NULL, &envp, &err) < 0) {
		if (!err || !err->msg)
			abort();
		agent_error_free(err);
		return;
	}
	size_t n = 0;
	for (; envp[n]; n++) {
		const char *eq = strchr(envp[n], '=');
		if (!eq || eq == envp[n])
			abort();
		for (size_t k = 0; k < n; k++) {
			size_t kl = (size_t)(eq - envp[n]);
			if (!strncmp(envp[k], envp[n], kl) && envp[k][kl] == '=')
				abort();
		}
	}
	if (n > p->n_env + 1 || !procenv_get(envp, "HOME"))
		abort();
	free(envp);
}

static void check_caps(const Grpc__LinuxCapabilities *c)
{
	struct cap_sets s;
	int last = cap_last_cap();

	if (!c)
		return;
	cap_sets_from_oci(c, &s);
	uint64_t all = s.bounding | s.effective | s.permitted | s.inheritable | s.ambient;
	if (last >= 0 && last < 63 && (all >> (last + 1)))
		abort(); /* a capability the kernel does not know */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Grpc__ExecProcessRequest *req = grpc__exec_process_request__unpack(NULL, size, data);
	agent_error_t *err = NULL;

	if (!req)
		return 0;
	check_ids(req);
	int r = process_validate(req->process, "process", &err);
	if (r < 0) {
		if (r != -EINVAL || !err || !err->msg || err->status != 3)
			abort(); /* every refusal is INVALID_ARGUMENT with its reason */
	} else {
		check_accepted(req->process);
		check_env(req->process);
		check_caps(req->process->capabilities);
	}
	agent_error_free(err);
	grpc__exec_process_request__free_unpacked(req, NULL);
	return 0;
}
