/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error objects: a function that fails returns a negative errno and, when the
 * caller passed an error slot, fills it with the errno and a message. Callers
 * add context on the way up with agent_error_wrap(). Only the RPC layer turns
 * an error into a status and logs it.
 */
#ifndef AGENT_BASE_ERROR_H
#define AGENT_BASE_ERROR_H

#include "macro.h"

typedef struct agent_error {
	int errnum; /* positive errno */
	int status; /* optional explicit google.rpc code, 0 = derive from errnum */
	char *msg;
} agent_error_t;

/* Sets *err (when err is not NULL and empty) and returns -errnum. */
int agent_error_set(agent_error_t **err, int errnum, const char *fmt, ...) _printf_(3, 4);

/* Like agent_error_set, and appends ": strerror(errnum)". */
int agent_error_setsys(agent_error_t **err, int errnum, const char *fmt, ...) _printf_(3, 4);

/* Same as agent_error_set, with an explicit status code for the RPC layer. */
int agent_error_set_status(agent_error_t **err, int status, int errnum, const char *fmt, ...)
	_printf_(4, 5);

/*
 * Prefixes context ("ctx: old message"); returns -errnum of the existing error. Without an
 * error object (the caller passed none) it returns the errno of the last failure set in
 * this thread, the one being wrapped.
 */
int agent_error_wrap(agent_error_t **err, const char *fmt, ...) _printf_(2, 3);

agent_error_t *agent_error_free(agent_error_t *err);
/* Drops the error a callee set into a caller's slot (a failure handled here); the caller may
 * have passed no slot (err NULL). */
void agent_error_clear(agent_error_t **err);

static inline void agent_error_freep(agent_error_t **err)
{
	*err = agent_error_free(*err);
}
#define _cleanup_error_ _cleanup_(agent_error_freep)

#endif
