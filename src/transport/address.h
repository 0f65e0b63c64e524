/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Server addresses (agent.server_addr): vsock://CID:PORT (CID -1 = any),
 * unix:///path, unix://@abstract, serial:///dev/... (a virtio-serial port used
 * as one long-lived connection; /dev/virtio-ports/NAME is found through sysfs
 * when udev did not make the link).
 */
#ifndef AGENT_TRANSPORT_ADDRESS_H
#define AGENT_TRANSPORT_ADDRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include "base/error.h"

enum address_kind {
	ADDRESS_VSOCK = 1,
	ADDRESS_UNIX,
	ADDRESS_SERIAL,
};

struct address {
	enum address_kind kind;
	uint32_t cid; /* vsock */
	uint32_t port; /* vsock */
	bool abstract; /* unix */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* unix name / serial device */
};

int address_parse(const char *s, struct address *ret, agent_error_t **err);

/* A listening socket (vsock, unix), non-blocking, CLOEXEC, backlog 10. */
int address_listen(const struct address *a, agent_error_t **err);
/* The opened serial port (O_RDWR, non-blocking, CLOEXEC, no controlling tty). */
int address_open_serial(const struct address *a, const char *sysfs_root, agent_error_t **err);

#endif
