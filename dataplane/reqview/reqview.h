/* SPDX-License-Identifier: Proprietary */
/*
 * reqview.h - the request view of OpenAI-style JSON bodies (see reqview-t.h).
 */
#ifndef REQVIEW_H
#define REQVIEW_H

#include <stddef.h>

#include "reqview-t.h"
#include "tsconf.h"

/*
 * Init: allocates the context's arrays for lim (which is copied).  0, -EINVAL for
 * limits out of range (see rv_conf_keys), -ENOMEM.  On failure nothing is held.
 */
int rv_ctx_init(struct rv_ctx *ctx, const struct rv_limits *lim);

/* Init: frees what rv_ctx_init() allocated; idempotent. */
void rv_ctx_fini(struct rv_ctx *ctx);

/*
 * Fast path: parses body[0..len) (complete, need not be NUL-terminated, never read
 * beyond len) into v without allocating.  Unknown fields are validated and skipped.
 * Returns len on success, or -(enum rv_err) with v->err and v->err_off set; v is
 * only meaningful on success.
 */
int rv_parse(struct rv_ctx *ctx, enum rv_endpoint ep, const char *body, size_t len,
	     struct rv_view *v);

/* A static one-line message for e, fit for an OpenAI-style 400 error. */
const char *rv_strerror(enum rv_err e);

/* Short stable name of an error ("bad_type"), for machine-readable output. */
const char *rv_err_name(enum rv_err e);

/* Name of a role as in JSON ("user"), "unknown" or "prompt". */
const char *rv_role_name(enum rv_role r);

/* The [request] config keys; the defaults are production values. */
extern const struct tsconf_key rv_conf_keys[];
extern const size_t rv_conf_nkeys;

/* Init: registers [request] with c, writing the defaults into lim.  0 or -errno. */
int rv_conf_register(struct tsconf *c, struct rv_limits *lim, char *err, size_t errlen);

#endif /* REQVIEW_H */
