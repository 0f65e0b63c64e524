/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container test helpers: a private mount namespace for the agent, a rootfs
 * holding the static test payload, OCI specs built in code, and one-line
 * wrappers around the container RPCs.
 */
#ifndef AGENT_ITEST_CTR_H
#define AGENT_ITEST_CTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.pb-c.h"
#include "itest.h"
#include "ttrpc-client.h"

/*
 * The test rootfs and a directory for bind sources, both where the Kata runtime puts a
 * container's shared files (the agent confines rootfs and bind sources to /run/kata-containers).
 * They live on the private /run tmpfs that ctr_env_setup mounts.
 */
#define CTR_SHARED_DIR "/run/kata-containers/shared/containers/itest"
#define CTR_ROOTFS CTR_SHARED_DIR "/rootfs"

struct ctr_env {
	struct itest_agent agent;
	struct ttrpc_client *c;
	char rootfs[64];
	char cgparent[64]; /* "/kata-itest-<pid>-<random>" */
	bool v2;
};

/* Private mounts, a tmpfs /run, a payload rootfs, the agent started (v2: cgroup2 mode). */
void ctr_env_setup(struct ctr_env *e, bool v2);
/* The same with kernel command line options for the agent (one line). */
void ctr_env_setup_cmdline(struct ctr_env *e, bool v2, const char *cmdline);
void ctr_env_teardown(struct ctr_env *e);

/* A spec owned by the test: args are payload subcommands ("report", ...). */
struct ctr_spec;
struct ctr_spec *ctr_spec_new(const struct ctr_env *e, const char *cid, const char *const *args);
Grpc__Spec *ctr_spec_get(struct ctr_spec *s);
void ctr_spec_free(struct ctr_spec *s);
/* Adds a mount / sets a memory limit / adds env (the spec keeps the strings). */
void ctr_spec_add_env(struct ctr_spec *s, const char *kv);
void ctr_spec_set_memory(struct ctr_spec *s, int64_t limit);
/* A bind of src (a storage's mount point, say) at /data, read-only if ro. */
void ctr_spec_bind_data(struct ctr_spec *s, const char *src, bool ro);
void ctr_spec_set_user(struct ctr_spec *s, uint32_t uid, uint32_t gid);
Grpc__Process *
ctr_process_new(const char *const *args); /* for ExecProcess; free with ctr_process_free */
void ctr_process_free(Grpc__Process *p);

/* The raw call: returns the status code, message in msg (may be NULL). */
int ctr_call(struct ctr_env *e, const char *method, const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp, char **msg);
int ctr_create(struct ctr_env *e, const char *cid, Grpc__Spec *spec, char **msg);
/* CreateContainer with one storage. */
int ctr_create_storage(struct ctr_env *e, const char *cid, Grpc__Spec *spec, Grpc__Storage *st,
		       char **msg);
int ctr_start(struct ctr_env *e, const char *cid, char **msg);
/* CreateContainer then StartContainer; a test failure naming the call that failed. */
void ctr_create_start(struct ctr_env *e, const char *cid, Grpc__Spec *spec);
int ctr_remove(struct ctr_env *e, const char *cid);
int ctr_exec(struct ctr_env *e, const char *cid, const char *eid, Grpc__Process *p, char **msg);
int ctr_signal(struct ctr_env *e, const char *cid, const char *eid, int sig);
/* WaitProcess: the exit code, or -code on an error status. */
int ctr_wait(struct ctr_env *e, const char *cid, const char *eid);
/* Reads stdout (or stderr) to EOF into a malloc'd string; *len gets the size. */
char *ctr_read_all(struct ctr_env *e, const char *cid, const char *eid, bool err_stream,
		   size_t *len);
/* create + start + read stdout to EOF + wait; returns stdout, *code the exit code. */
char *ctr_run(struct ctr_env *e, const char *cid, Grpc__Spec *spec, int *code);
/* The value of key= in a payload report, or NULL (pointer into report, up to newline: copied). */
char *ctr_report_value(const char *report, const char *key);

/* FAILs unless the report has key=want. */
void ctr_assert_value(const char *report, const char *key, const char *want);

#endif
