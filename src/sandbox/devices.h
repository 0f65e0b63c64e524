/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CreateContainer's devices (spec 5.2): each is resolved to a guest node
 * (waiting for hot-plugged ones), then the spec's linux.devices entry at its
 * container_path gets the guest's major:minor and the cgroup an allow rule.
 */
#ifndef AGENT_SANDBOX_DEVICES_H
#define AGENT_SANDBOX_DEVICES_H

#include "agent.pb-c.h"
#include "base/error.h"

struct dev_match;

#define DEVICES_MAX 256

/* Shape only: type known, id or vm_path, container_path under /dev. */
int devices_validate(Grpc__Device *const *d, size_t n, agent_error_t **err);
/* 1 and *ret filled when the device may still be coming; 0 when vm_path is usable now. */
int device_match(const Grpc__Device *d, struct dev_match *ret, agent_error_t **err);
/* Patches spec (linux.devices numbers, resources.devices allow rules); node[i] or vm_path. */
int devices_apply(Grpc__Spec *spec, Grpc__Device *const *d, size_t n, char *const *node,
		  agent_error_t **err);

#endif
