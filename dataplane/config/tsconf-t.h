/* SPDX-License-Identifier: Proprietary */
/*
 * tsconf-t.h - types of the appliance config parser (INI-style, see conf/README.md).
 *
 * A module describes its keys with a static table of struct tsconf_key and registers
 * it with a struct tsconf together with a pointer to its own settings struct; the
 * parser writes each value at base + offset.  Defaults, minimum and maximum are written
 * as text in the same syntax as the file, so one parser handles both and
 * --help-config prints exactly what an operator would type.
 */
#ifndef TSCONF_T_H
#define TSCONF_T_H

#include <stddef.h>
#include <stdint.h>

/* Longest accepted line in bytes, without the line terminator. */
#define TSCONF_LINE_MAX 1024u
/* Largest accepted config file or buffer, in bytes. */
#define TSCONF_FILE_MAX (1u << 20)
/* Longest section or key name, in bytes (without NUL). */
#define TSCONF_NAME_MAX 63u
/* Bytes kept of the name of the last loaded file (tsconf_source). */
#define TSCONF_SOURCE_MAX 256

/* Size of the buffer that receives "file:line: reason" error messages. */
#define TSCONF_ERR_MAX 512u

/* What a key holds, and so which C type lives at base + offset. */
enum tsconf_type {
	TSCONF_U64 = 0, /* uint64_t; decimal or 0x hex */
	TSCONF_I64,     /* int64_t; optional sign */
	TSCONF_DOUBLE,  /* double; finite only */
	TSCONF_BOOL,    /* bool; true/false yes/no on/off 1/0 */
	TSCONF_STRING,  /* char[size]; bounded copy, NUL-terminated, too long is an error */
	TSCONF_SIZE,    /* uint64_t bytes; suffix K M G T = powers of 1024 */
	TSCONF_DURATION,/* uint64_t ns; suffix ns us ms s required (except 0) */
	TSCONF_IPV4,    /* uint32_t, network byte order (like struct in_addr) */
	TSCONF_CIDR4,   /* struct tsconf_cidr4; host bits must be zero */
	TSCONF_TYPE_COUNT,
};

/* An IPv4 prefix, e.g. 10.0.0.0/8. */
struct tsconf_cidr4 {
	uint32_t addr;  /* network byte order, host bits zero */
	uint8_t prefix; /* 0..32 bits */
};

/*
 * One configurable key.  Tables are static const and must outlive the struct tsconf
 * they are registered with.  min/max are NULL for "no bound" and apply to numeric
 * types (u64, i64, double, size, duration); for strings max is not used (the bound
 * is size - 1 bytes).  def is mandatory: the appliance runs with no file at all.
 */
struct tsconf_key {
	const char *section; /* e.g. "request" or "route.local" (exact match) */
	const char *key;     /* e.g. "max_body" */
	enum tsconf_type type;
	size_t offset;   /* bytes from the module's struct base */
	size_t size;     /* bytes of the field (checked against the type at registration) */
	const char *def; /* default, in file syntax */
	const char *min; /* lowest accepted value in file syntax, or NULL */
	const char *max; /* highest accepted value in file syntax, or NULL */
	const char *doc; /* one line for --help-config */
};

/* .offset and .size of a field of the module's settings struct. */
#define TSCONF_FIELD(stype, field) \
	.offset = offsetof(stype, field), .size = sizeof(((stype *)0)->field)

/* Output formats of tsconf_print_help(). */
enum tsconf_help {
	TSCONF_HELP_TEXT = 0, /* plain text for --help-config */
	TSCONF_HELP_MD,       /* Markdown table rows for conf/README.md */
	TSCONF_HELP_CONF,     /* a config file with every key commented out at its default */
};

/* A set of registered tables that one file is loaded against (opaque). */
struct tsconf;

#endif /* TSCONF_T_H */
