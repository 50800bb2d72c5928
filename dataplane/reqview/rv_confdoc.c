/* SPDX-License-Identifier: Proprietary */
/*
 * rv_confdoc - prints the [request] config keys from rv_conf_keys, so the shipped
 * conf/twospeed.conf and conf/README.md are generated from the table, not retyped.
 * Usage: rv_confdoc [text|md|conf]
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "reqview.h"

int main(int argc, char **argv)
{
	enum tsconf_help fmt = TSCONF_HELP_TEXT;
	struct rv_limits lim;
	struct tsconf *c;
	char err[TSCONF_ERR_MAX];
	int rc = 1;

	if (argc > 1 && strcmp(argv[1], "md") == 0)
		fmt = TSCONF_HELP_MD;
	else if (argc > 1 && strcmp(argv[1], "conf") == 0)
		fmt = TSCONF_HELP_CONF;
	else if (argc > 1 && strcmp(argv[1], "text") != 0) {
		fprintf(stderr, "usage: %s [text|md|conf]\n", argv[0]);
		return 2;
	}
	c = tsconf_create();
	if (c == NULL) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	if (rv_conf_register(c, &lim, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		goto destroy;
	}
	tsconf_print_help(c, fmt, stdout);
	rc = 0;
destroy:
	tsconf_destroy(c);
	return rc;
}
