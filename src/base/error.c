/* SPDX-License-Identifier: Apache-2.0 */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/*
 * The errno of the last failure recorded in this thread, like errno itself: a caller that
 * passed no error slot still gets the right errno back from agent_error_wrap().
 */
static _Thread_local int last_errnum = EIO;

static int error_vset(agent_error_t **err, int status, int errnum, int with_strerror,
		      const char *fmt, va_list ap) _printf_(5, 0);
static int error_vset(agent_error_t **err, int status, int errnum, int with_strerror,
		      const char *fmt, va_list ap)
{
	if (errnum <= 0)
		errnum = errnum < 0 ? -errnum : EIO;
	last_errnum = errnum;
	if (!err || *err)
		return -errnum;

	agent_error_t *e = calloc(1, sizeof(*e));
	if (!e)
		return -errnum;
	e->errnum = errnum;
	e->status = status;

	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	if (msg && with_strerror) {
		char *full = NULL;
		if (asprintf(&full, "%s: %s", msg, strerror(errnum)) >= 0) {
			free(msg);
			msg = full;
		}
	}
	e->msg = msg ? msg : strdup(strerror(errnum));
	*err = e;
	return -errnum;
}

int agent_error_set(agent_error_t **err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = error_vset(err, 0, errnum, 0, fmt, ap);
	va_end(ap);
	return r;
}

int agent_error_setsys(agent_error_t **err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = error_vset(err, 0, errnum, 1, fmt, ap);
	va_end(ap);
	return r;
}

int agent_error_set_status(agent_error_t **err, int status, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = error_vset(err, status, errnum, 0, fmt, ap);
	va_end(ap);
	return r;
}

int agent_error_wrap(agent_error_t **err, const char *fmt, ...)
{
	if (!err || !*err)
		return -last_errnum; /* the failure being wrapped was set without an object */
	agent_error_t *e = *err;
	char *ctx = NULL, *full = NULL;
	va_list ap;

	va_start(ap, fmt);
	int n = vasprintf(&ctx, fmt, ap);
	va_end(ap);
	if (n >= 0 && asprintf(&full, "%s: %s", ctx, e->msg ? e->msg : "") >= 0) {
		free(e->msg);
		e->msg = full;
	}
	free(ctx);
	return -e->errnum;
}

void agent_error_clear(agent_error_t **err)
{
	if (err)
		*err = agent_error_free(*err);
}

agent_error_t *agent_error_free(agent_error_t *err)
{
	if (err) {
		free(err->msg);
		free(err);
	}
	return NULL;
}
