/* SPDX-License-Identifier: proprietary */
/*
 * The executor's [executor] config section: the tsconf key table and its
 * conversion to engine options. Init path.
 */
#ifndef TWOSPEED_EX_CONF_H
#define TWOSPEED_EX_CONF_H

#include "executor-t.h"
#include "tsconf-t.h"

extern const struct tsconf_key ex_conf_keys[];
extern const size_t ex_conf_nkeys;

int ex_conf_to_opts(const struct ex_conf *c, struct ex_engine_opts *o, char *err,
		    size_t errlen);

#endif /* TWOSPEED_EX_CONF_H */
