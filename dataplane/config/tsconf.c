/* SPDX-License-Identifier: Proprietary */
/*
 * tsconf.c - INI-style config parser for the appliance (init/control path only).
 *
 * Grammar, one construct per line (lines end with LF, a CR before it is dropped):
 *	# comment                  blank lines and comments are skipped
 *	[section] or [a.b]         name chars: A-Z a-z 0-9 _ - .
 *	key = value  # comment     unquoted value: up to '#' or end of line, trimmed
 *	key = "va#lue"  # comment  quoted: escapes \" \\ \n \t \r, '#' is literal
 * A section nobody registered, a key its section does not know, a key set twice,
 * a bad or out-of-range value, an over-long line or file are errors reported as
 * "file:line: reason".  Loading is all or nothing (see tsconf.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "tsconf.h"
#include "tserr.h"
#include "tsfile.h"

struct tsconf_reg {
	const char *module;
	const struct tsconf_key *keys;
	size_t n;
	void *base; /* the module's settings struct */
};

struct tsconf {
	struct tsconf_reg *regs;
	size_t nregs;
	size_t cap;
	size_t nkeys; /* sum of regs[].n */
	/* Where each key's value came from in the last successful load, so checks made
	 * after loading (values that depend on each other) can still cite file:line. */
	unsigned *lines;		 /* nkeys entries by global key index; 0 = default */
	size_t nlines;			 /* entries in lines (keys registered at that load) */
	char source[TSCONF_SOURCE_MAX]; /* name of the last loaded file, "" if none */
};

/* A parsed value of any type; strings point into a load-local arena. */
union tsconf_val {
	uint64_t u;
	int64_t i;
	double d;
	bool b;
	uint32_t ip;
	struct tsconf_cidr4 cidr;
	struct {
		const char *p;
		size_t len;
	} s;
};

static const char *const type_names[TSCONF_TYPE_COUNT] = {
	[TSCONF_U64] = "u64",	    [TSCONF_I64] = "i64",   [TSCONF_DOUBLE] = "double",
	[TSCONF_BOOL] = "bool",	    [TSCONF_STRING] = "string", [TSCONF_SIZE] = "size",
	[TSCONF_DURATION] = "duration", [TSCONF_IPV4] = "ipv4", [TSCONF_CIDR4] = "cidr4",
};

/* What a bad value of each type should have looked like, for error messages. */
static const char *const type_hints[TSCONF_TYPE_COUNT] = {
	[TSCONF_U64] = "an unsigned integer",
	[TSCONF_I64] = "an integer",
	[TSCONF_DOUBLE] = "a finite number",
	[TSCONF_BOOL] = "true/false, yes/no, on/off or 1/0",
	[TSCONF_STRING] = "a string",
	[TSCONF_SIZE] = "a size such as 4096, 64K, 1M or 2G",
	[TSCONF_DURATION] = "a duration such as 500us, 20ms or 3s",
	[TSCONF_IPV4] = "an IPv4 address such as 192.0.2.1",
	[TSCONF_CIDR4] = "an IPv4 prefix such as 10.0.0.0/8 with no host bits set",
};

const char *tsconf_type_name(enum tsconf_type t)
{
	if ((unsigned)t >= TSCONF_TYPE_COUNT)
		return "?";
	return type_names[t];
}

static bool is_name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-' || ch == '.';
}

static bool valid_name(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (!is_name_char(s[i]) || i >= TSCONF_NAME_MAX)
			return false;
	return true;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Decimal or 0x-hex digits only, whole string, overflow refused. */
static bool parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned base = 10;
	size_t i = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (s[i] == '\0')
		return false;
	for (; s[i] != '\0'; i++) {
		unsigned d;
		char ch = s[i];

		if (ch >= '0' && ch <= '9')
			d = (unsigned)(ch - '0');
		else if (base == 16 && ch >= 'a' && ch <= 'f')
			d = (unsigned)(ch - 'a' + 10);
		else if (base == 16 && ch >= 'A' && ch <= 'F')
			d = (unsigned)(ch - 'A' + 10);
		else
			return false;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

static bool parse_i64(const char *s, int64_t *out)
{
	bool neg = false;
	uint64_t mag;

	if (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-';
		s++;
	}
	if (!parse_u64(s, &mag))
		return false;
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			return false;
		*out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return false;
		*out = (int64_t)mag;
	}
	return true;
}

/*
 * Splits "123abc" into the leading decimal digits (value) and the suffix.  Only
 * decimal here: "0x10K" would be confusing.
 */
static bool split_number(const char *s, uint64_t *v, const char **suffix)
{
	char digits[32];
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9') {
		if (n + 1 >= sizeof(digits))
			return false;
		digits[n] = s[n];
		n++;
	}
	if (n == 0)
		return false;
	digits[n] = '\0';
	*suffix = s + n;
	return parse_u64(digits, v);
}

static bool mul_ok(uint64_t a, uint64_t b, uint64_t *out)
{
	if (b != 0 && a > UINT64_MAX / b)
		return false;
	*out = a * b;
	return true;
}

/* 4096, 4096B, 64K, 64KB, 64KiB, 1M, 2G, 1T (case-insensitive; powers of 1024). */
static bool parse_size(const char *s, uint64_t *out)
{
	uint64_t v, mult = 1;
	const char *suf;

	if (!split_number(s, &v, &suf))
		return false;
	switch (suf[0]) {
	case '\0':
		break;
	case 'b':
	case 'B':
		if (suf[1] != '\0')
			return false;
		break;
	case 'k':
	case 'K':
		mult = 1ull << 10;
		break;
	case 'm':
	case 'M':
		mult = 1ull << 20;
		break;
	case 'g':
	case 'G':
		mult = 1ull << 30;
		break;
	case 't':
	case 'T':
		mult = 1ull << 40;
		break;
	default:
		return false;
	}
	if (mult != 1 && suf[1] != '\0' && strcasecmp(suf + 1, "B") != 0 &&
	    strcasecmp(suf + 1, "iB") != 0)
		return false;
	return mul_ok(v, mult, out);
}

/* 0, 250ns, 500us, 20ms, 3s -> nanoseconds.  A bare non-zero number is ambiguous. */
static bool parse_duration(const char *s, uint64_t *out)
{
	uint64_t v, mult;
	const char *suf;

	if (!split_number(s, &v, &suf))
		return false;
	if (suf[0] == '\0' && v == 0)
		mult = 1;
	else if (strcmp(suf, "ns") == 0)
		mult = 1;
	else if (strcmp(suf, "us") == 0)
		mult = 1000;
	else if (strcmp(suf, "ms") == 0)
		mult = 1000000;
	else if (strcmp(suf, "s") == 0)
		mult = 1000000000;
	else
		return false;
	return mul_ok(v, mult, out);
}

static bool parse_double(const char *s, double *out)
{
	char *end;
	double d;

	/* strtod also takes "inf", "nan" and hex floats; refuse what is not a plain number. */
	if (s[0] == '\0' || strpbrk(s, "xXnNiI") != NULL || is_space(s[0]))
		return false;
	errno = 0;
	d = strtod(s, &end);
	if (*end != '\0' || errno == ERANGE || !isfinite(d))
		return false;
	*out = d;
	return true;
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Strict dotted quad: four decimal parts 0..255, no leading zeros (no octal surprises). */
static bool parse_ipv4_n(const char *s, size_t len, uint32_t *out)
{
	uint32_t host = 0;
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		unsigned v = 0, nd = 0;

		while (i < len && s[i] >= '0' && s[i] <= '9') {
			if (nd == 1 && v == 0)
				return false;
			v = v * 10 + (unsigned)(s[i] - '0');
			if (++nd > 3 || v > 255)
				return false;
			i++;
		}
		if (nd == 0)
			return false;
		host = host << 8 | v;
		if (part < 3) {
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
	}
	if (i != len)
		return false;
	*out = htonl(host);
	return true;
}

static bool parse_cidr4(const char *s, struct tsconf_cidr4 *out)
{
	const char *slash = strchr(s, '/');
	uint32_t addr, mask;
	uint64_t prefix;

	if (slash == NULL || !parse_ipv4_n(s, (size_t)(slash - s), &addr))
		return false;
	if (slash[1] == '0' && slash[2] != '\0')
		return false;
	if (!split_number(slash + 1, &prefix, &s) || *s != '\0' || prefix > 32)
		return false;
	mask = prefix == 0 ? 0 : htonl(~0u << (32 - prefix));
	if ((addr & ~mask) != 0)
		return false;
	out->addr = addr;
	out->prefix = (uint8_t)prefix;
	return true;
}

/* Parses a NUL-terminated text of type t (not strings).  false on a bad value. */
static bool parse_value(enum tsconf_type t, const char *s, union tsconf_val *v)
{
	switch (t) {
	case TSCONF_U64:
		return parse_u64(s, &v->u);
	case TSCONF_I64:
		return parse_i64(s, &v->i);
	case TSCONF_DOUBLE:
		return parse_double(s, &v->d);
	case TSCONF_BOOL:
		return parse_bool(s, &v->b);
	case TSCONF_SIZE:
		return parse_size(s, &v->u);
	case TSCONF_DURATION:
		return parse_duration(s, &v->u);
	case TSCONF_IPV4:
		return parse_ipv4_n(s, strlen(s), &v->ip);
	case TSCONF_CIDR4:
		return parse_cidr4(s, &v->cidr);
	case TSCONF_STRING:
		v->s.p = s;
		v->s.len = strlen(s);
		return true;
	case TSCONF_TYPE_COUNT:
		break;
	}
	return false;
}

static bool has_range(enum tsconf_type t)
{
	return t == TSCONF_U64 || t == TSCONF_I64 || t == TSCONF_DOUBLE || t == TSCONF_SIZE ||
	       t == TSCONF_DURATION;
}

/* -1, 0, 1 like strcmp, for the numeric types. */
static int cmp_value(enum tsconf_type t, const union tsconf_val *a, const union tsconf_val *b)
{
	switch (t) {
	case TSCONF_I64:
		return a->i < b->i ? -1 : a->i > b->i;
	case TSCONF_DOUBLE:
		return a->d < b->d ? -1 : a->d > b->d;
	default:
		return a->u < b->u ? -1 : a->u > b->u;
	}
}

/* Checks v against the key's bounds (which registration proved parse). */
static bool in_range(const struct tsconf_key *k, const union tsconf_val *v)
{
	union tsconf_val b;

	if (!has_range(k->type))
		return true;
	if (k->min != NULL && parse_value(k->type, k->min, &b) && cmp_value(k->type, v, &b) < 0)
		return false;
	if (k->max != NULL && parse_value(k->type, k->max, &b) && cmp_value(k->type, v, &b) > 0)
		return false;
	return true;
}

static size_t type_size(enum tsconf_type t)
{
	switch (t) {
	case TSCONF_U64:
	case TSCONF_SIZE:
	case TSCONF_DURATION:
		return sizeof(uint64_t);
	case TSCONF_I64:
		return sizeof(int64_t);
	case TSCONF_DOUBLE:
		return sizeof(double);
	case TSCONF_BOOL:
		return sizeof(bool);
	case TSCONF_IPV4:
		return sizeof(uint32_t);
	case TSCONF_CIDR4:
		return sizeof(struct tsconf_cidr4);
	default:
		return 0;
	}
}

static void store(void *base, const struct tsconf_key *k, const union tsconf_val *v)
{
	char *dst = (char *)base + k->offset;

	switch (k->type) {
	case TSCONF_U64:
	case TSCONF_SIZE:
	case TSCONF_DURATION:
		memcpy(dst, &v->u, sizeof(v->u));
		break;
	case TSCONF_I64:
		memcpy(dst, &v->i, sizeof(v->i));
		break;
	case TSCONF_DOUBLE:
		memcpy(dst, &v->d, sizeof(v->d));
		break;
	case TSCONF_BOOL:
		memcpy(dst, &v->b, sizeof(v->b));
		break;
	case TSCONF_IPV4:
		memcpy(dst, &v->ip, sizeof(v->ip));
		break;
	case TSCONF_CIDR4:
		memcpy(dst, &v->cidr, sizeof(v->cidr));
		break;
	case TSCONF_STRING:
		/* The length was checked against size - 1 before we got here. */
		memcpy(dst, v->s.p, v->s.len);
		dst[v->s.len] = '\0';
		break;
	case TSCONF_TYPE_COUNT:
		break;
	}
}

static void store_default(void *base, const struct tsconf_key *k)
{
	union tsconf_val v;

	if (parse_value(k->type, k->def, &v))
		store(base, k, &v);
}

struct tsconf *tsconf_create(void)
{
	return calloc(1, sizeof(struct tsconf));
}

void tsconf_destroy(struct tsconf *c)
{
	if (c == NULL)
		return;
	free(c->regs);
	c->regs = NULL;
	free(c->lines);
	c->lines = NULL;
	free(c);
}

static const struct tsconf_key *find_key(const struct tsconf *c, const char *section,
					 size_t slen, const char *key, size_t klen,
					 const struct tsconf_reg **reg, size_t *gidx)
{
	size_t r, i, g = 0;

	for (r = 0; r < c->nregs; r++) {
		for (i = 0; i < c->regs[r].n; i++, g++) {
			const struct tsconf_key *k = &c->regs[r].keys[i];

			if (strlen(k->section) == slen && memcmp(k->section, section, slen) == 0 &&
			    strlen(k->key) == klen && memcmp(k->key, key, klen) == 0) {
				if (reg != NULL)
					*reg = &c->regs[r];
				if (gidx != NULL)
					*gidx = g;
				return k;
			}
		}
	}
	return NULL;
}

static bool section_known(const struct tsconf *c, const char *section, size_t slen)
{
	size_t r, i;

	for (r = 0; r < c->nregs; r++)
		for (i = 0; i < c->regs[r].n; i++)
			if (strlen(c->regs[r].keys[i].section) == slen &&
			    memcmp(c->regs[r].keys[i].section, section, slen) == 0)
				return true;
	return false;
}

static int check_key(const struct tsconf *c, const struct tsconf_key *keys, size_t idx,
		     const char **why)
{
	const struct tsconf_key *k = &keys[idx];
	union tsconf_val d, lo, hi;
	size_t j;

	if ((unsigned)k->type >= TSCONF_TYPE_COUNT)
		return *why = "unknown type", -EINVAL;
	if (k->type == TSCONF_STRING ? k->size == 0 : k->size != type_size(k->type))
		return *why = "field size does not match the type", -EINVAL;
	if (k->def == NULL || k->doc == NULL)
		return *why = "default and doc are mandatory", -EINVAL;
	if (!parse_value(k->type, k->def, &d))
		return *why = "default does not parse", -EINVAL;
	if (k->type == TSCONF_STRING && d.s.len >= k->size)
		return *why = "default longer than the field", -EINVAL;
	if ((k->min != NULL || k->max != NULL) && !has_range(k->type))
		return *why = "min/max given for a type without a range", -EINVAL;
	if (k->min != NULL && !parse_value(k->type, k->min, &lo))
		return *why = "min does not parse", -EINVAL;
	if (k->max != NULL && !parse_value(k->type, k->max, &hi))
		return *why = "max does not parse", -EINVAL;
	if (!in_range(k, &d))
		return *why = "default out of range", -EINVAL;
	if (k->min != NULL && k->max != NULL && cmp_value(k->type, &lo, &hi) > 0)
		return *why = "min greater than max", -EINVAL;
	for (j = 0; j < idx; j++)
		if (strcmp(keys[j].section, k->section) == 0 && strcmp(keys[j].key, k->key) == 0)
			return *why = "key appears twice in the table", -EINVAL;
	if (find_key(c, k->section, strlen(k->section), k->key, strlen(k->key), NULL, NULL))
		return *why = "key already registered by another table", -EINVAL;
	return 0;
}

int tsconf_register(struct tsconf *c, const char *module, const struct tsconf_key *keys,
		    size_t n, void *base, char *err, size_t errlen)
{
	const char *why = NULL;
	size_t i;

	if (c == NULL || module == NULL || (keys == NULL && n != 0) || base == NULL) {
		tserr(err, errlen, "%s: bad arguments", module ? module : "?");
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		const struct tsconf_key *k = &keys[i];

		if (!valid_name(k->section) || !valid_name(k->key)) {
			tserr(err, errlen, "%s: entry %zu: bad section or key name", module, i);
			return -EINVAL;
		}
		if (check_key(c, keys, i, &why) < 0) {
			tserr(err, errlen, "%s: %s.%s: %s", module, k->section, k->key, why);
			return -EINVAL;
		}
	}
	if (c->nregs == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 8;
		struct tsconf_reg *nr = realloc(c->regs, ncap * sizeof(*nr));

		if (nr == NULL) {
			tserr(err, errlen, "%s: out of memory", module);
			return -ENOMEM;
		}
		c->regs = nr;
		c->cap = ncap;
	}
	c->regs[c->nregs++] = (struct tsconf_reg){ module, keys, n, base };
	c->nkeys += n;
	for (i = 0; i < n; i++)
		store_default(base, &keys[i]);
	return 0;
}

void tsconf_reset(struct tsconf *c)
{
	size_t r, i;

	for (r = 0; r < c->nregs; r++)
		for (i = 0; i < c->regs[r].n; i++)
			store_default(c->regs[r].base, &c->regs[r].keys[i]);
	if (c->lines != NULL)
		memset(c->lines, 0, c->nlines * sizeof(*c->lines));
}

unsigned tsconf_key_line(const struct tsconf *c, const char *section, const char *key)
{
	size_t g;

	if (c == NULL || section == NULL || key == NULL)
		return 0;
	if (find_key(c, section, strlen(section), key, strlen(key), NULL, &g) == NULL)
		return 0;
	return g < c->nlines ? c->lines[g] : 0;
}

const char *tsconf_source(const struct tsconf *c)
{
	return c != NULL ? c->source : "";
}

/* A value seen in the file, waiting for the whole file to check out. */
struct pending {
	const struct tsconf_reg *reg;
	const struct tsconf_key *key;
	union tsconf_val val;
	unsigned line; /* 0: not set by the file */
};

/* Everything one load needs; err gets "name:line: reason". */
struct loader {
	struct tsconf *c;
	const char *name;
	char *err;
	size_t errlen;
	struct pending *pend; /* c->nkeys entries, by global key index */
	char *arena;	      /* unescaped string values, NUL-terminated */
	size_t arena_used;    /* bytes */
	const char *sec;      /* current section name (into the buffer) or NULL */
	size_t seclen;
};

static int lerr(struct loader *ld, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int lerr(struct loader *ld, unsigned line, const char *fmt, ...)
{
	char reason[TSCONF_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	tserr(ld->err, ld->errlen, "%s:%u: %s", ld->name, line, reason);
	return -EINVAL;
}

static int parse_section(struct loader *ld, const char *p, const char *end, unsigned line)
{
	const char *name, *name_end;

	p++; /* '[' */
	while (p < end && is_space(*p))
		p++;
	name = p;
	while (p < end && is_name_char(*p))
		p++;
	name_end = p;
	while (p < end && is_space(*p))
		p++;
	if (p == end)
		return lerr(ld, line, "missing ']'");
	if (*p != ']')
		return lerr(ld, line, "bad character '%c' in section name", *p);
	if (name_end == name)
		return lerr(ld, line, "empty section name");
	if ((size_t)(name_end - name) > TSCONF_NAME_MAX)
		return lerr(ld, line, "section name longer than %u bytes", TSCONF_NAME_MAX);
	p++;
	while (p < end && is_space(*p))
		p++;
	if (p < end && *p != '#')
		return lerr(ld, line, "unexpected text after ']'");
	if (!section_known(ld->c, name, (size_t)(name_end - name)))
		return lerr(ld, line, "unknown section [%.*s]", (int)(name_end - name), name);
	ld->sec = name;
	ld->seclen = (size_t)(name_end - name);
	return 0;
}

/*
 * Reads the value after '=' into ld->arena (unescaped, NUL-terminated) and returns a
 * pointer to it in *out.  Quoted values keep '#' and spaces; unquoted ones stop at '#'.
 */
static int read_value(struct loader *ld, const char *p, const char *end, unsigned line,
		      const char **out)
{
	char *dst = ld->arena + ld->arena_used;
	size_t n = 0;

	while (p < end && is_space(*p))
		p++;
	if (p < end && *p == '"') {
		bool closed = false;

		for (p++; p < end; p++) {
			char ch = *p;

			if (ch == '"') {
				closed = true;
				p++;
				break;
			}
			if (ch == '\\') {
				if (++p == end)
					break;
				switch (*p) {
				case '"':
				case '\\':
					ch = *p;
					break;
				case 'n':
					ch = '\n';
					break;
				case 't':
					ch = '\t';
					break;
				case 'r':
					ch = '\r';
					break;
				default:
					return lerr(ld, line, "bad escape '\\%c' in quoted value", *p);
				}
			} else if ((unsigned char)ch < 0x20 && ch != '\t') {
				return lerr(ld, line, "control character in quoted value");
			}
			dst[n++] = ch;
		}
		if (!closed)
			return lerr(ld, line, "missing closing '\"'");
		while (p < end && is_space(*p))
			p++;
		if (p < end && *p != '#')
			return lerr(ld, line, "unexpected text after closing '\"'");
	} else {
		const char *v = p;

		while (p < end && *p != '#')
			p++;
		while (p > v && is_space(p[-1]))
			p--;
		if (p == v)
			return lerr(ld, line, "missing value");
		for (; v < p; v++) {
			if ((unsigned char)*v < 0x20 && *v != '\t')
				return lerr(ld, line, "control character in value");
			dst[n++] = *v;
		}
	}
	dst[n] = '\0';
	ld->arena_used += n + 1;
	*out = dst;
	return 0;
}

static int parse_assign(struct loader *ld, const char *p, const char *end, unsigned line)
{
	const char *key = p, *text = NULL;
	const struct tsconf_reg *reg;
	const struct tsconf_key *k;
	struct pending *pd;
	size_t klen, g;
	int rc;

	while (p < end && is_name_char(*p))
		p++;
	klen = (size_t)(p - key);
	if (klen == 0)
		return lerr(ld, line, "expected 'key = value' or '[section]'");
	if (klen > TSCONF_NAME_MAX)
		return lerr(ld, line, "key name longer than %u bytes", TSCONF_NAME_MAX);
	while (p < end && is_space(*p))
		p++;
	if (p == end || *p != '=')
		return lerr(ld, line, "expected '=' after key '%.*s'", (int)klen, key);
	p++;
	if (ld->sec == NULL)
		return lerr(ld, line, "key '%.*s' outside any section", (int)klen, key);
	k = find_key(ld->c, ld->sec, ld->seclen, key, klen, &reg, &g);
	if (k == NULL)
		return lerr(ld, line, "unknown key '%.*s' in [%.*s]", (int)klen, key,
			    (int)ld->seclen, ld->sec);
	pd = &ld->pend[g];
	if (pd->line != 0)
		return lerr(ld, line, "duplicate key '%s' in [%s] (first set on line %u)", k->key,
			    k->section, pd->line);
	rc = read_value(ld, p, end, line, &text);
	if (rc < 0)
		return rc;
	if (!parse_value(k->type, text, &pd->val))
		return lerr(ld, line, "bad value '%s' for '%s': expected %s", text, k->key,
			    type_hints[k->type]);
	if (k->type == TSCONF_STRING && pd->val.s.len >= k->size)
		return lerr(ld, line, "value for '%s' longer than %zu bytes", k->key, k->size - 1);
	if (!in_range(k, &pd->val))
		return lerr(ld, line, "value '%s' for '%s' out of range [%s, %s]", text, k->key,
			    k->min ? k->min : "-", k->max ? k->max : "-");
	pd->reg = reg;
	pd->key = k;
	pd->line = line;
	return 0;
}

static int parse_all(struct loader *ld, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	unsigned line = 0;
	int rc;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *q;

		line++;
		if ((size_t)(eol - p) > TSCONF_LINE_MAX + (eol > p && eol[-1] == '\r'))
			return lerr(ld, line, "line too long (max %u bytes)", TSCONF_LINE_MAX);
		if (memchr(p, '\0', (size_t)(eol - p)) != NULL)
			return lerr(ld, line, "NUL byte in line");
		q = eol;
		if (q > p && q[-1] == '\r')
			q--;
		while (p < q && is_space(*p))
			p++;
		if (p == q || *p == '#')
			rc = 0;
		else if (*p == '[')
			rc = parse_section(ld, p, q, line);
		else
			rc = parse_assign(ld, p, q, line);
		if (rc < 0)
			return rc;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

int tsconf_load_buf(struct tsconf *c, const char *name, const char *buf, size_t len,
		    char *err, size_t errlen)
{
	struct loader ld = { .c = c, .name = name ? name : "<buffer>", .err = err,
			     .errlen = errlen };
	unsigned *lines;
	size_t i;
	int rc;

	if (c == NULL || (buf == NULL && len != 0))
		return -EINVAL;
	if (len > TSCONF_FILE_MAX) {
		tserr(err, errlen, "%s:0: larger than %u bytes", ld.name, TSCONF_FILE_MAX);
		return -EFBIG;
	}
	ld.pend = calloc(c->nkeys ? c->nkeys : 1, sizeof(*ld.pend));
	if (ld.pend == NULL)
		goto fail_pend;
	/* Values never grow when unescaped, plus one NUL per value (at most one per line). */
	ld.arena = malloc(2 * len + 1);
	if (ld.arena == NULL)
		goto fail_arena;
	lines = calloc(c->nkeys ? c->nkeys : 1, sizeof(*lines));
	if (lines == NULL)
		goto fail_lines;
	rc = parse_all(&ld, buf, len);
	if (rc == 0) {
		free(c->lines);
		c->lines = NULL;
		tsconf_reset(c);
		for (i = 0; i < c->nkeys; i++) {
			lines[i] = ld.pend[i].line;
			if (ld.pend[i].line != 0)
				store(ld.pend[i].reg->base, ld.pend[i].key, &ld.pend[i].val);
		}
		c->lines = lines;
		c->nlines = c->nkeys;
		snprintf(c->source, sizeof(c->source), "%s", ld.name);
		lines = NULL;
	}
	free(lines);
	free(ld.arena);
	free(ld.pend);
	return rc;

fail_lines:
	free(ld.arena);
fail_arena:
	free(ld.pend);
fail_pend:
	tserr(err, errlen, "%s:0: out of memory", ld.name);
	return -ENOMEM;
}

int tsconf_load_file(struct tsconf *c, const char *path, char *err, size_t errlen)
{
	char why[128];
	size_t len;
	char *buf;
	int rc;

	rc = tsfile_read(path, TSCONF_FILE_MAX, &buf, &len, why, sizeof(why));
	if (rc < 0) {
		tserr(err, errlen, "%s:0: %s", path, why);
		return rc;
	}
	rc = tsconf_load_buf(c, path, buf, len, err, errlen);
	free(buf);
	return rc;
}

static void range_text(const struct tsconf_key *k, char *out, size_t outlen)
{
	if (k->type == TSCONF_STRING)
		snprintf(out, outlen, "up to %zu bytes", k->size - 1);
	else if (k->min == NULL && k->max == NULL)
		snprintf(out, outlen, "-");
	else
		snprintf(out, outlen, "%s .. %s", k->min ? k->min : "-", k->max ? k->max : "-");
}

void tsconf_print_help(const struct tsconf *c, enum tsconf_help fmt, FILE *out)
{
	const char *last = NULL;
	char range[128];
	size_t r, i;

	if (fmt == TSCONF_HELP_MD) {
		fprintf(out, "| Section | Key | Type | Default | Range | Meaning |\n");
		fprintf(out, "|---|---|---|---|---|---|\n");
	}
	for (r = 0; r < c->nregs; r++) {
		for (i = 0; i < c->regs[r].n; i++) {
			const struct tsconf_key *k = &c->regs[r].keys[i];
			bool newsec = last == NULL || strcmp(last, k->section) != 0;

			last = k->section;
			range_text(k, range, sizeof(range));
			switch (fmt) {
			case TSCONF_HELP_TEXT:
				if (newsec)
					fprintf(out, "[%s]\n", k->section);
				fprintf(out, "  %-24s %-8s default %-10s range %s\n      %s\n",
					k->key, tsconf_type_name(k->type), k->def, range,
					k->doc);
				break;
			case TSCONF_HELP_MD:
				fprintf(out, "| `[%s]` | `%s` | %s | `%s` | %s | %s |\n",
					k->section, k->key, tsconf_type_name(k->type), k->def,
					range, k->doc);
				break;
			case TSCONF_HELP_CONF:
				if (newsec)
					fprintf(out, "%s[%s]\n", r + i ? "\n" : "", k->section);
				fprintf(out, "\n# %s\n# (%s, range %s)\n#%s = %s\n", k->doc,
					tsconf_type_name(k->type), range, k->key, k->def);
				break;
			}
		}
	}
}
