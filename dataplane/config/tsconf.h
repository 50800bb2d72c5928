/* SPDX-License-Identifier: Proprietary */
/*
 * tsconf.h - the appliance config parser.  Init/control path only (allocates, does
 * I/O); never call it from a poll loop.
 *
 * Use:
 *	struct tsconf *c = tsconf_create();
 *	tsconf_register(c, "reqview", rv_conf_keys, rv_conf_nkeys, &my_rv_limits);
 *	tsconf_register(c, "port", port_keys, n, &my_port_conf);
 *	if (tsconf_load_file(c, path, err, sizeof(err)) < 0) { fprintf(stderr, "%s\n", err); }
 *	tsconf_destroy(c);	// module structs keep their values
 *
 * Registration writes every default into the module struct at once, so a module is
 * configured even when no file is loaded.  Loading is all or nothing: the file is
 * parsed and checked completely first; only when it has no error are the structs
 * reset to defaults and then given the file's values.
 */
#ifndef TSCONF_H
#define TSCONF_H

#include <stdio.h>

#include "tsconf-t.h"

/* Constructor: an empty set with no tables.  NULL when out of memory. */
struct tsconf *tsconf_create(void);

/* Frees the set; registered tables and module structs are not touched.  NULL is fine. */
void tsconf_destroy(struct tsconf *c);

/*
 * Registers n keys of one module whose settings struct is at base, checks the table
 * (known type, field size matching the type, default/min/max parse, min <= default
 * <= max, no key registered twice across all tables) and writes the defaults into
 * base.  A table error is a programming error: it returns -EINVAL and, when err is
 * not NULL, a message "module: section.key: reason".  -ENOMEM when out of memory.
 */
int tsconf_register(struct tsconf *c, const char *module, const struct tsconf_key *keys,
		    size_t n, void *base, char *err, size_t errlen);

/*
 * Loads a file of at most TSCONF_FILE_MAX bytes.  Returns 0, or a negative errno
 * (-EINVAL for a syntax or value error, -EFBIG, -ENOENT/-EACCES/... from open/read)
 * with "path:line: reason" (line 0 when no line is concerned) in err.
 */
int tsconf_load_file(struct tsconf *c, const char *path, char *err, size_t errlen);

/*
 * Same as tsconf_load_file() on an in-memory buffer of len bytes (need not be
 * NUL-terminated; never read past len).  name stands for the file name in errors.
 */
int tsconf_load_buf(struct tsconf *c, const char *name, const char *buf, size_t len,
		    char *err, size_t errlen);

/* Writes every registered default back into the module structs. */
void tsconf_reset(struct tsconf *c);

/*
 * For checks made after loading (values that depend on each other): the line of the
 * last successful load that set section.key, 0 when the key kept its default (or is
 * unknown), and the name that load was given ("" before any).  So a caller can still
 * report "file:line: reason".
 */
unsigned tsconf_key_line(const struct tsconf *c, const char *section, const char *key);
const char *tsconf_source(const struct tsconf *c);

/* Prints every registered key with its type, default, range and doc, in table order. */
void tsconf_print_help(const struct tsconf *c, enum tsconf_help fmt, FILE *out);

/* Name of a type as shown in help output ("u64", "size", ...). */
const char *tsconf_type_name(enum tsconf_type t);

#endif /* TSCONF_H */
