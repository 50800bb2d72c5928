/* SPDX-License-Identifier: proprietary */
/*
 * Policy image reader: validation and the immutable pol_image.
 *
 * Runs in control/init context only (allocates, calls Hyperscan). The order
 * of the checks is part of the contract with the tests: framing first (size,
 * magic, ABI, length, checksum), then the header fields, then the section
 * table, then each section's contents, and Hyperscan last, because it is the
 * most expensive and the least specific about what is wrong.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "pol.h"
#include "tsfile.h"

/* Sane upper bounds: a corrupt count must not drive a huge allocation. */
#define POL_RULES_MAX (1u << 20)

/* Every compile flag Hyperscan 5.4 defines; any other bit is corruption. */
#define POL_HS_FLAGS_KNOWN                                                                         \
	(HS_FLAG_CASELESS | HS_FLAG_DOTALL | HS_FLAG_MULTILINE | HS_FLAG_SINGLEMATCH |             \
	 HS_FLAG_ALLOWEMPTY | HS_FLAG_UTF8 | HS_FLAG_UCP | HS_FLAG_PREFILTER |                     \
	 HS_FLAG_SOM_LEFTMOST | HS_FLAG_COMBINATION | HS_FLAG_QUIET)

struct pol_image {
	/* Private, TS_POLICY_ALIGN-aligned copy of the image bytes. */
	void *base;
	size_t len; /* bytes, == hdr->length */
	const struct ts_policy_hdr *hdr;

	/* By enum ts_rule_gate: [TS_GATE_NONE] from HSDB, the others from HSDB_GATED;
	 * NULL when the image has no such section. Deserialized at load, freed at close. */
	hs_database_t *db[TS_GATE_COUNT];
	char *hs_info[TS_GATE_COUNT]; /* hs_serialized_database_info() text; Hyperscan's
				       * misc allocator, which nothing in twospeed
				       * replaces: free() */

	uint32_t n_rules;
	struct pol_rule *rules; /* [n_rules], index = Hyperscan id */

	struct pol_scorer scorer;
	const char **names; /* backing array of scorer.names */

	struct pol_route routes[TS_ROUTE_COUNT];
};

static const char *const pol_err_names[POL_E_COUNT] = {
	[POL_OK] = "ok",	   [POL_E_NOMEM] = "nomem",
	[POL_E_IO] = "io",	   [POL_E_TRUNCATED] = "truncated",
	[POL_E_MAGIC] = "magic",   [POL_E_ABI] = "abi",
	[POL_E_LENGTH] = "length", [POL_E_CHECKSUM] = "checksum",
	[POL_E_HEADER] = "header", [POL_E_SECTION] = "section",
	[POL_E_STRING] = "string", [POL_E_RULE] = "rule",
	[POL_E_SCORER] = "scorer", [POL_E_ROUTE] = "route",
	[POL_E_HSDB] = "hsdb",	   [POL_E_FEATURES] = "features",
};

static const char *const gate_names[TS_GATE_COUNT] = {
	[TS_GATE_NONE] = "none",
	[TS_GATE_NONASCII] = "nonascii",
	[TS_GATE_AT] = "at",
	[TS_GATE_DIGITS] = "digits",
};

const char *pol_gate_name(uint32_t gate)
{
	return gate < TS_GATE_COUNT ? gate_names[gate] : NULL;
}

const char *pol_err_name(enum pol_err code)
{
	if ((unsigned)code >= POL_E_COUNT)
		return "unknown";
	return pol_err_names[code];
}

const char *pol_sec_name(uint32_t type)
{
	switch (type) {
	case TS_POLSEC_NONE:
		return "NONE";
	case TS_POLSEC_STRINGS:
		return "STRINGS";
	case TS_POLSEC_HSDB:
		return "HSDB";
	case TS_POLSEC_RULES:
		return "RULES";
	case TS_POLSEC_SCORER:
		return "SCORER";
	case TS_POLSEC_ROUTES:
		return "ROUTES";
	case TS_POLSEC_TENANTS:
		return "TENANTS";
	case TS_POLSEC_HDRSUM:
		return "HDRSUM";
	case TS_POLSEC_HSDB_GATED:
		return "HSDB_GATED";
	default:
		return "unknown";
	}
}

/* Store a refusal: the class in *code, the formatted reason in err. */
__attribute__((format(printf, 5, 6))) static enum pol_err
refuse(enum pol_err *code, enum pol_err why, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (code != NULL)
		*code = why;
	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return why;
}

uint64_t pol_checksum(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (len < sizeof(struct ts_policy_hdr))
		return 0;
	return XXH3_64bits(p + sizeof(struct ts_policy_hdr), len - sizeof(struct ts_policy_hdr));
}

uint64_t pol_hdr_checksum(const struct ts_policy_hdr *hdr)
{
	struct ts_policy_hdr h;

	memcpy(&h, hdr, sizeof(h));
	h.checksum = 0;
	return XXH3_64bits(&h, sizeof(h));
}

int pol_reseal(void *buf, size_t len)
{
	struct ts_policy_hdr h;
	uint64_t sum;

	if (buf == NULL || len < sizeof(struct ts_policy_hdr))
		return -EINVAL;
	/* HDRSUM first: it is payload, so the payload checksum covers it. */
	memcpy(&h, buf, sizeof(h));
	for (uint32_t i = 0; i < h.n_sec && i < TS_POLICY_SEC_MAX; i++) {
		const struct ts_policy_sec *s = &h.sec[i];

		if (s->type != TS_POLSEC_HDRSUM || s->length != sizeof(sum) ||
		    s->offset < sizeof(h) || s->offset > len - sizeof(sum))
			continue;
		sum = pol_hdr_checksum(&h);
		memcpy((unsigned char *)buf + s->offset, &sum, sizeof(sum));
		break;
	}
	sum = pol_checksum(buf, len);
	memcpy((unsigned char *)buf + offsetof(struct ts_policy_hdr, checksum), &sum, sizeof(sum));
	return 0;
}

/* Validation state: the image being checked and where each section lives. */
struct pol_check {
	const unsigned char *base;
	size_t len;
	const struct ts_policy_hdr *hdr;
	const struct ts_policy_sec *sec[TS_POLSEC_HDRSUM + 1]; /* by type, NULL if absent */
	/* the rule databases by enum ts_rule_gate: [TS_GATE_NONE] = HSDB, others HSDB_GATED */
	const struct ts_policy_sec *hsdb[TS_GATE_COUNT];
	enum pol_err *code;
	char *err;
	size_t errlen;
};

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/*
 * Resolve a STRINGS offset to a C string: the offset must fall inside the
 * section, a NUL must follow inside it, and the bytes must be printable ASCII
 * (ids, model and feature names end up in logs and CLI output). what names
 * the referencing field for the error. Returns NULL after refusing.
 */
static const char *str_at(struct pol_check *ck, uint32_t off, const char *what, bool nonempty)
{
	const struct ts_policy_sec *s = ck->sec[TS_POLSEC_STRINGS];
	const char *p;
	const char *nul;

	if (off >= s->length) {
		refuse(ck->code, POL_E_STRING, ck->err, ck->errlen,
		       "%s: string offset %" PRIu32 " outside STRINGS (%" PRIu64 " bytes)", what,
		       off, s->length);
		return NULL;
	}
	p = (const char *)ck->base + s->offset + off;
	nul = memchr(p, '\0', s->length - off);
	if (nul == NULL) {
		refuse(ck->code, POL_E_STRING, ck->err, ck->errlen,
		       "%s: string at offset %" PRIu32 " is not NUL-terminated inside STRINGS",
		       what, off);
		return NULL;
	}
	if (nonempty && nul == p) {
		refuse(ck->code, POL_E_STRING, ck->err, ck->errlen,
		       "%s: empty string at offset %" PRIu32, what, off);
		return NULL;
	}
	if (!printable(p, (size_t)(nul - p))) {
		refuse(ck->code, POL_E_STRING, ck->err, ck->errlen,
		       "%s: string at offset %" PRIu32 " holds non-printable bytes", what, off);
		return NULL;
	}
	return p;
}

static enum pol_err check_framing(struct pol_check *ck, bool checksum)
{
	struct ts_policy_hdr h;
	uint64_t sum;

	if (ck->len < sizeof(uint32_t))
		return refuse(ck->code, POL_E_TRUNCATED, ck->err, ck->errlen,
			      "truncated: %zu bytes, the header alone is %zu", ck->len,
			      sizeof(struct ts_policy_hdr));
	memcpy(&h.magic, ck->base, sizeof(h.magic));
	if (h.magic != TS_POLICY_MAGIC)
		return refuse(ck->code, POL_E_MAGIC, ck->err, ck->errlen,
			      "bad magic 0x%08" PRIx32 " (want 0x%08x \"TSPL\")", h.magic,
			      TS_POLICY_MAGIC);
	if (ck->len < sizeof(h))
		return refuse(ck->code, POL_E_TRUNCATED, ck->err, ck->errlen,
			      "truncated: %zu bytes, the header alone is %zu", ck->len, sizeof(h));
	memcpy(&h, ck->base, sizeof(h));
	if (h.abi_major != TS_POLICY_ABI_MAJOR)
		return refuse(ck->code, POL_E_ABI, ck->err, ck->errlen,
			      "unsupported ABI major %u (image ABI %u.%u, this reader reads %u.x)",
			      h.abi_major, h.abi_major, h.abi_minor, TS_POLICY_ABI_MAJOR);
	if (h.length > ck->len)
		return refuse(ck->code, POL_E_TRUNCATED, ck->err, ck->errlen,
			      "truncated: header says %" PRIu64 " bytes, only %zu present",
			      h.length, ck->len);
	if (h.length != ck->len)
		return refuse(ck->code, POL_E_LENGTH, ck->err, ck->errlen,
			      "length mismatch: header says %" PRIu64 " bytes, %zu given", h.length,
			      ck->len);
	if (!checksum)
		return POL_OK;
	sum = pol_checksum(ck->base, ck->len);
	if (sum != h.checksum)
		return refuse(ck->code, POL_E_CHECKSUM, ck->err, ck->errlen,
			      "checksum mismatch: header 0x%016" PRIx64 ", computed 0x%016" PRIx64,
			      h.checksum, sum);
	return POL_OK;
}

static enum pol_err check_header(struct pol_check *ck)
{
	const struct ts_policy_hdr *h = ck->hdr;
	const char *nul;
	static const struct ts_policy_sec zero_sec;

	if (h->n_sec > TS_POLICY_SEC_MAX)
		return refuse(ck->code, POL_E_HEADER, ck->err, ck->errlen,
			      "header: n_sec %" PRIu32 " > %d", h->n_sec, TS_POLICY_SEC_MAX);
	if (h->flags != 0)
		return refuse(ck->code, POL_E_HEADER, ck->err, ck->errlen,
			      "header: reserved flags 0x%" PRIx32 " set", h->flags);
	nul = memchr(h->name, '\0', sizeof(h->name));
	if (nul == NULL)
		return refuse(ck->code, POL_E_HEADER, ck->err, ck->errlen,
			      "header: name is not NUL-terminated");
	if (nul == h->name || !printable(h->name, (size_t)(nul - h->name)))
		return refuse(ck->code, POL_E_HEADER, ck->err, ck->errlen,
			      "header: name is empty or holds non-printable bytes");
	/* Unused table entries must be zero so they can gain meaning later. */
	for (uint32_t i = h->n_sec; i < TS_POLICY_SEC_MAX; i++)
		if (memcmp(&h->sec[i], &zero_sec, sizeof(zero_sec)) != 0)
			return refuse(ck->code, POL_E_HEADER, ck->err, ck->errlen,
				      "header: unused section entry %" PRIu32 " is not zero", i);
	return POL_OK;
}

static int sec_cmp_offset(const void *a, const void *b)
{
	const struct ts_policy_sec *x = *(const struct ts_policy_sec *const *)a;
	const struct ts_policy_sec *y = *(const struct ts_policy_sec *const *)b;

	/* Equal offsets: the shorter first, so an empty section may sit where another starts. */
	if (x->offset != y->offset)
		return (x->offset > y->offset) - (x->offset < y->offset);
	return (x->length > y->length) - (x->length < y->length);
}

static enum pol_err check_sections(struct pol_check *ck)
{
	const struct ts_policy_hdr *h = ck->hdr;
	const struct ts_policy_sec *by_off[TS_POLICY_SEC_MAX];
	static const uint32_t required[] = {TS_POLSEC_STRINGS, TS_POLSEC_RULES, TS_POLSEC_SCORER,
					    TS_POLSEC_ROUTES};
	uint32_t n_db = 0;

	for (uint32_t i = 0; i < h->n_sec; i++) {
		const struct ts_policy_sec *s = &h->sec[i];

		if (s->type == TS_POLSEC_NONE)
			return refuse(ck->code, POL_E_SECTION, ck->err, ck->errlen,
				      "section %" PRIu32 ": type NONE in a used entry", i);
		if (s->offset % TS_POLICY_ALIGN != 0)
			return refuse(ck->code, POL_E_SECTION, ck->err, ck->errlen,
				      "section %" PRIu32 " (%s): offset %" PRIu64
				      " not %u-byte aligned",
				      i, pol_sec_name(s->type), s->offset, TS_POLICY_ALIGN);
		if (s->offset < sizeof(*h) || s->offset > h->length ||
		    s->length > h->length - s->offset)
			return refuse(ck->code, POL_E_SECTION, ck->err, ck->errlen,
				      "section %" PRIu32 " (%s): [%" PRIu64 ", +%" PRIu64
				      ") out of bounds (payload [%zu, %" PRIu64 "))",
				      i, pol_sec_name(s->type), s->offset, s->length, sizeof(*h),
				      h->length);
		if (s->type == TS_POLSEC_HSDB_GATED) {
			/* count names the gate: one database per gate, never NONE (that is HSDB) */
			if (s->count == TS_GATE_NONE || s->count >= TS_GATE_COUNT)
				return refuse(ck->code, POL_E_SECTION, ck->err, ck->errlen,
					      "section %" PRIu32 ": HSDB_GATED for unknown gate %" PRIu32
					      " (want 1..%d)",
					      i, s->count, TS_GATE_COUNT - 1);
			if (ck->hsdb[s->count] != NULL)
				return refuse(ck->code, POL_E_SECTION, ck->err, ck->errlen,
					      "section %" PRIu32 ": duplicate HSDB_GATED section for "
					      "gate %s",
					      i, pol_gate_name(s->count));
			if (s->length == 0)
				return refuse(ck->code, POL_E_SECTION, ck->err, ck->errlen,
					      "HSDB_GATED section for gate %s is empty",
					      pol_gate_name(s->count));
			ck->hsdb[s->count] = s;
			n_db++;
		}
		if (s->type <= TS_POLSEC_HDRSUM) {
			if (ck->sec[s->type] != NULL)
				return refuse(ck->code, POL_E_SECTION, ck->err, ck->errlen,
					      "section %" PRIu32 ": duplicate %s section", i,
					      pol_sec_name(s->type));
			ck->sec[s->type] = s;
		}
		by_off[i] = s;
	}
	qsort(by_off, h->n_sec, sizeof(by_off[0]), sec_cmp_offset);
	for (uint32_t i = 1; i < h->n_sec; i++)
		if (by_off[i - 1]->offset + by_off[i - 1]->length > by_off[i]->offset)
			return refuse(ck->code, POL_E_SECTION, ck->err, ck->errlen,
				      "sections %s [%" PRIu64 ", +%" PRIu64 ") and %s [%" PRIu64
				      ", +%" PRIu64 ") overlap",
				      pol_sec_name(by_off[i - 1]->type), by_off[i - 1]->offset,
				      by_off[i - 1]->length, pol_sec_name(by_off[i]->type),
				      by_off[i]->offset, by_off[i]->length);
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (ck->sec[required[i]] == NULL)
			return refuse(ck->code, POL_E_SECTION, ck->err, ck->errlen,
				      "missing %s section", pol_sec_name(required[i]));
	if (ck->sec[TS_POLSEC_STRINGS]->length == 0)
		return refuse(ck->code, POL_E_SECTION, ck->err, ck->errlen,
			      "STRINGS section is empty");
	ck->hsdb[TS_GATE_NONE] = ck->sec[TS_POLSEC_HSDB];
	n_db += ck->sec[TS_POLSEC_HSDB] != NULL;
	if (n_db == 0)
		return refuse(ck->code, POL_E_SECTION, ck->err, ck->errlen,
			      "missing HSDB section (and no HSDB_GATED one: no rule database)");
	if (ck->sec[TS_POLSEC_HSDB] != NULL && ck->sec[TS_POLSEC_HSDB]->length == 0)
		return refuse(ck->code, POL_E_SECTION, ck->err, ck->errlen,
			      "HSDB section is empty");
	return POL_OK;
}

/*
 * The header is covered by HDRSUM (see policy-t.h): required from ABI 1.1,
 * so in every image of the major this reader reads (2.x).
 */
static enum pol_err check_hdrsum(struct pol_check *ck)
{
	const struct ts_policy_sec *s = ck->sec[TS_POLSEC_HDRSUM];
	uint64_t want, got;

	if (s == NULL)
		return refuse(ck->code, POL_E_SECTION, ck->err, ck->errlen,
			      "missing HDRSUM section (required from ABI 1.1, image is %u.%u)",
			      ck->hdr->abi_major, ck->hdr->abi_minor);
	if (s->length != sizeof(want))
		return refuse(ck->code, POL_E_SECTION, ck->err, ck->errlen,
			      "HDRSUM: %" PRIu64 " bytes, want %zu", s->length, sizeof(want));
	memcpy(&got, ck->base + s->offset, sizeof(got));
	want = pol_hdr_checksum(ck->hdr);
	if (got != want)
		return refuse(ck->code, POL_E_CHECKSUM, ck->err, ck->errlen,
			      "header checksum mismatch: HDRSUM 0x%016" PRIx64
			      ", computed 0x%016" PRIx64,
			      got, want);
	return POL_OK;
}

static int str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Find a duplicate among n strings; sorts a scratch copy. Returns it or NULL. */
static const char *find_dup(const char **tmp, uint32_t n)
{
	qsort(tmp, n, sizeof(tmp[0]), str_ptr_cmp);
	for (uint32_t i = 1; i < n; i++)
		if (strcmp(tmp[i - 1], tmp[i]) == 0)
			return tmp[i];
	return NULL;
}

static enum pol_err check_rules(struct pol_check *ck, struct pol_image *img)
{
	const struct ts_policy_sec *s = ck->sec[TS_POLSEC_RULES];
	const struct ts_policy_rule *r;
	const char **tmp;
	const char *dup;

	if (s->count == 0 || s->count > POL_RULES_MAX)
		return refuse(ck->code, POL_E_RULE, ck->err, ck->errlen,
			      "RULES: count %" PRIu32 " not in 1..%u", s->count, POL_RULES_MAX);
	if (s->length != (uint64_t)s->count * sizeof(*r))
		return refuse(ck->code, POL_E_SECTION, ck->err, ck->errlen,
			      "RULES: length %" PRIu64 " != count %" PRIu32 " * %zu", s->length,
			      s->count, sizeof(*r));
	img->rules = calloc(s->count, sizeof(img->rules[0]));
	if (img->rules == NULL)
		return refuse(ck->code, POL_E_NOMEM, ck->err, ck->errlen, "out of memory (rules)");
	img->n_rules = s->count;
	r = (const struct ts_policy_rule *)(ck->base + s->offset);
	for (uint32_t i = 0; i < s->count; i++) {
		char what[48];
		struct pol_rule *d = &img->rules[i];

		snprintf(what, sizeof(what), "rule %" PRIu32, i);
		d->id = str_at(ck, r[i].id_off, what, true);
		if (d->id == NULL)
			return *ck->code;
		if (r[i].category >= TS_CAT_COUNT)
			return refuse(ck->code, POL_E_RULE, ck->err, ck->errlen,
				      "rule %" PRIu32 " (%s): category %" PRIu32 " out of range", i,
				      d->id, r[i].category);
		if (r[i].action >= TS_ACT_COUNT)
			return refuse(ck->code, POL_E_RULE, ck->err, ck->errlen,
				      "rule %" PRIu32 " (%s): action %" PRIu32 " out of range", i,
				      d->id, r[i].action);
		if (r[i].verify >= TS_VERIFY_COUNT)
			return refuse(ck->code, POL_E_RULE, ck->err, ck->errlen,
				      "rule %" PRIu32 " (%s): verify %" PRIu32 " out of range", i,
				      d->id, r[i].verify);
		if ((r[i].hs_flags & ~(uint32_t)POL_HS_FLAGS_KNOWN) != 0)
			return refuse(ck->code, POL_E_RULE, ck->err, ck->errlen,
				      "rule %" PRIu32 " (%s): unknown hs_flags bits 0x%" PRIx32, i,
				      d->id, r[i].hs_flags & ~(uint32_t)POL_HS_FLAGS_KNOWN);
		if (!isfinite(r[i].weight))
			return refuse(ck->code, POL_E_RULE, ck->err, ck->errlen,
				      "rule %" PRIu32 " (%s): weight is not finite", i, d->id);
		d->category = r[i].category;
		d->action = r[i].action;
		d->verify = r[i].verify;
		d->hs_flags = r[i].hs_flags;
		d->weight = r[i].weight;
	}
	tmp = malloc(s->count * sizeof(tmp[0]));
	if (tmp == NULL)
		return refuse(ck->code, POL_E_NOMEM, ck->err, ck->errlen, "out of memory (rules)");
	for (uint32_t i = 0; i < s->count; i++)
		tmp[i] = img->rules[i].id;
	dup = find_dup(tmp, s->count);
	if (dup != NULL) {
		refuse(ck->code, POL_E_RULE, ck->err, ck->errlen, "duplicate rule id \"%s\"", dup);
		free(tmp);
		return POL_E_RULE;
	}
	free(tmp);
	return POL_OK;
}

static enum pol_err check_scorer(struct pol_check *ck, struct pol_image *img)
{
	const struct ts_policy_sec *s = ck->sec[TS_POLSEC_SCORER];
	struct ts_policy_scorer sc;
	const unsigned char *p = ck->base + s->offset;
	const uint32_t *name_off;
	struct pol_scorer *d = &img->scorer;
	const char **tmp;
	const char *dup;
	uint32_t n;

	if (s->length < sizeof(sc))
		return refuse(ck->code, POL_E_SCORER, ck->err, ck->errlen,
			      "SCORER: %" PRIu64 " bytes, its header alone is %zu", s->length,
			      sizeof(sc));
	memcpy(&sc, p, sizeof(sc));
	n = sc.n_features;
	if (sc.kind >= TS_SCORER_COUNT)
		return refuse(ck->code, POL_E_SCORER, ck->err, ck->errlen,
			      "SCORER: unknown kind %" PRIu32, sc.kind);
	if (n == 0 || n > POL_SCORER_MAX_FEATURES)
		return refuse(ck->code, POL_E_SCORER, ck->err, ck->errlen,
			      "SCORER: n_features %" PRIu32 " not in 1..%u", n,
			      POL_SCORER_MAX_FEATURES);
	if (s->count != n)
		return refuse(ck->code, POL_E_SCORER, ck->err, ck->errlen,
			      "SCORER: count mismatch: section count %" PRIu32
			      ", n_features %" PRIu32,
			      s->count, n);
	if (s->length != sizeof(sc) + (uint64_t)n * 16u)
		return refuse(ck->code, POL_E_SCORER, ck->err, ck->errlen,
			      "SCORER: count mismatch: %" PRIu64 " bytes for %" PRIu32
			      " features (want %" PRIu64 ")",
			      s->length, n, sizeof(sc) + (uint64_t)n * 16u);
	if (!isfinite(sc.bias))
		return refuse(ck->code, POL_E_SCORER, ck->err, ck->errlen,
			      "SCORER: bias is not finite");
	if (!isfinite(sc.threshold) || sc.threshold < 0.0f || sc.threshold > 1.0f)
		return refuse(ck->code, POL_E_SCORER, ck->err, ck->errlen,
			      "SCORER: threshold %g not in [0, 1]", (double)sc.threshold);
	d->kind = sc.kind;
	d->n_features = n;
	d->bias = sc.bias;
	d->threshold = sc.threshold;
	/* Section offsets are 64-byte aligned and the header is 16 bytes: 4-aligned arrays. */
	name_off = (const uint32_t *)(p + sizeof(sc));
	d->mean = (const float *)(p + sizeof(sc) + 4u * n);
	d->scale = d->mean + n;
	d->weight = d->scale + n;
	img->names = calloc(n, sizeof(img->names[0]));
	if (img->names == NULL)
		return refuse(ck->code, POL_E_NOMEM, ck->err, ck->errlen, "out of memory (scorer)");
	d->names = img->names;
	for (uint32_t i = 0; i < n; i++) {
		char what[48];

		snprintf(what, sizeof(what), "scorer feature %" PRIu32, i);
		img->names[i] = str_at(ck, name_off[i], what, true);
		if (img->names[i] == NULL)
			return *ck->code;
		if (!isfinite(d->mean[i]) || !isfinite(d->weight[i]))
			return refuse(ck->code, POL_E_SCORER, ck->err, ck->errlen,
				      "SCORER: feature %" PRIu32 " (%s): non-finite mean or weight",
				      i, img->names[i]);
		if (!isfinite(d->scale[i]) || !(d->scale[i] > 0.0f))
			return refuse(ck->code, POL_E_SCORER, ck->err, ck->errlen,
				      "SCORER: feature %" PRIu32 " (%s): scale %g is not finite "
				      "and > 0",
				      i, img->names[i], (double)d->scale[i]);
	}
	tmp = malloc(n * sizeof(tmp[0]));
	if (tmp == NULL)
		return refuse(ck->code, POL_E_NOMEM, ck->err, ck->errlen, "out of memory (scorer)");
	memcpy(tmp, img->names, n * sizeof(tmp[0]));
	dup = find_dup(tmp, n);
	if (dup != NULL) {
		refuse(ck->code, POL_E_SCORER, ck->err, ck->errlen,
		       "SCORER: duplicate feature name \"%s\"", dup);
		free(tmp);
		return POL_E_SCORER;
	}
	free(tmp);
	return POL_OK;
}

static enum pol_err check_routes(struct pol_check *ck, struct pol_image *img)
{
	const struct ts_policy_sec *s = ck->sec[TS_POLSEC_ROUTES];
	const struct ts_policy_route *r;

	if (s->count != TS_ROUTE_COUNT || s->length != TS_ROUTE_COUNT * sizeof(*r))
		return refuse(ck->code, POL_E_ROUTE, ck->err, ck->errlen,
			      "ROUTES: incomplete table: count %" PRIu32 ", %" PRIu64
			      " bytes (want %d entries, %zu bytes)",
			      s->count, s->length, TS_ROUTE_COUNT, TS_ROUTE_COUNT * sizeof(*r));
	r = (const struct ts_policy_route *)(ck->base + s->offset);
	for (uint32_t i = 0; i < TS_ROUTE_COUNT; i++) {
		struct pol_route *d = &img->routes[i];
		char what[48];

		if (r[i].route != i || r[i].reserved != 0)
			return refuse(ck->code, POL_E_ROUTE, ck->err, ck->errlen,
				      "ROUTES: entry %" PRIu32 " holds route %" PRIu32
				      " reserved %" PRIu32 " (want route %" PRIu32 ", reserved 0)",
				      i, r[i].route, r[i].reserved, i);
		snprintf(what, sizeof(what), "route %" PRIu32 " model", i);
		d->model = str_at(ck, r[i].model_off, what, false);
		if (d->model == NULL)
			return *ck->code;
		snprintf(what, sizeof(what), "route %" PRIu32 " upstream", i);
		d->upstream = str_at(ck, r[i].upstream_off, what, false);
		if (d->upstream == NULL)
			return *ck->code;
		/* LOCAL and FRONTIER are where every scored request goes: they need a model. */
		if ((i == TS_ROUTE_LOCAL || i == TS_ROUTE_FRONTIER) && d->model[0] == '\0')
			return refuse(ck->code, POL_E_ROUTE, ck->err, ck->errlen,
				      "ROUTES: route %s has no model",
				      i == TS_ROUTE_LOCAL ? "local" : "frontier");
		if (!isfinite(r[i].usd_per_mtok_in) || r[i].usd_per_mtok_in < 0.0 ||
		    !isfinite(r[i].usd_per_mtok_out) || r[i].usd_per_mtok_out < 0.0)
			return refuse(ck->code, POL_E_ROUTE, ck->err, ck->errlen,
				      "ROUTES: route %" PRIu32 ": prices must be finite and >= 0",
				      i);
		d->route = i;
		d->usd_per_mtok_in = r[i].usd_per_mtok_in;
		d->usd_per_mtok_out = r[i].usd_per_mtok_out;
	}
	return POL_OK;
}

/*
 * hs_serialized_database_info() reads the engine's mode word, bytes [44, 48)
 * of a serialized Hyperscan 5.x database (a 32-byte header, then struct
 * RoseEngine whose u32 mode follows ten u8 flags), without checking that the
 * database is that long. Anything shorter is refused before Hyperscan sees it;
 * real databases are several hundred bytes at least (936 for one literal).
 */
#define POL_HSDB_MIN_BYTES 48u

/*
 * Hyperscan checks its own header (magic, version, platform features) and a
 * CRC of the bytecode; we also insist on block mode, since that is the only
 * mode the scanner uses. Note that Hyperscan prints any mode word other than
 * STREAM or VECTORED as "BLOCK": the CRC, checked by the deserialization that
 * follows, is what vouches for the mode word itself.
 */
static enum pol_err check_one_hsdb(struct pol_check *ck, struct pol_image *img, uint32_t gate)
{
	const struct ts_policy_sec *s = ck->hsdb[gate];
	const char *bytes = (const char *)ck->base + s->offset;
	char what[32];
	hs_error_t rc;

	if (gate == TS_GATE_NONE)
		snprintf(what, sizeof(what), "HSDB");
	else
		snprintf(what, sizeof(what), "HSDB_GATED(%s)", pol_gate_name(gate));
	if (s->length < POL_HSDB_MIN_BYTES)
		return refuse(ck->code, POL_E_HSDB, ck->err, ck->errlen,
			      "%s: %" PRIu64 " bytes is too short for a Hyperscan database", what,
			      s->length);

	rc = hs_serialized_database_info(bytes, s->length, &img->hs_info[gate]);
	if (rc != HS_SUCCESS) {
		img->hs_info[gate] = NULL;
		return refuse(ck->code, POL_E_HSDB, ck->err, ck->errlen,
			      "%s: hs_serialized_database_info refused the database (hs error "
			      "%d%s)",
			      what, rc,
			      rc == HS_DB_VERSION_ERROR ? ", built by another Hyperscan version"
							: "");
	}
	if (strstr(img->hs_info[gate], "Mode: BLOCK") == NULL)
		return refuse(ck->code, POL_E_HSDB, ck->err, ck->errlen,
			      "%s: not a block-mode database (%s)", what, img->hs_info[gate]);
	rc = hs_deserialize_database(bytes, s->length, &img->db[gate]);
	if (rc != HS_SUCCESS) {
		img->db[gate] = NULL;
		return refuse(ck->code, POL_E_HSDB, ck->err, ck->errlen,
			      "%s: hs_deserialize_database refused it (hs error %d%s; %s)", what,
			      rc,
			      rc == HS_DB_PLATFORM_ERROR  ? ", built for a CPU this host lacks"
			      : rc == HS_DB_VERSION_ERROR ? ", another Hyperscan version"
							  : "",
			      img->hs_info[gate]);
	}
	return POL_OK;
}

/*
 * Every rule database of the image: HSDB, then the HSDB_GATED sections in
 * gate order. Hyperscan does not tell which ids a database reports, so
 * whether a database holds the rules its gate claims is the builder's
 * promise (polb_build compiles each from the rules of that gate).
 */
static enum pol_err check_hsdb(struct pol_check *ck, struct pol_image *img)
{
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++) {
		enum pol_err e;

		if (ck->hsdb[g] == NULL)
			continue;
		e = check_one_hsdb(ck, img, g);
		if (e != POL_OK)
			return e;
	}
	return POL_OK;
}

void pol_image_close(struct pol_image *img)
{
	if (img == NULL)
		return;
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++) {
		if (img->db[g] != NULL)
			hs_free_database(img->db[g]);
		free(img->hs_info[g]);
	}
	free(img->names);
	free(img->rules);
	free(img->base);
	free(img);
}

struct pol_image *pol_image_load(const void *buf, size_t len, enum pol_err *code, char *err,
				 size_t errlen)
{
	struct pol_check ck = {.code = code, .err = err, .errlen = errlen};
	struct pol_image *img;
	enum pol_err dummy;
	size_t alloc_len;

	if (code == NULL)
		ck.code = &dummy;
	*ck.code = POL_OK;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (buf == NULL && len != 0) {
		refuse(ck.code, POL_E_TRUNCATED, err, errlen, "no buffer");
		return NULL;
	}
	ck.base = buf;
	ck.len = len;
	if (len > POL_IMAGE_MAX_BYTES) {
		refuse(ck.code, POL_E_LENGTH, err, errlen, "image of %zu bytes exceeds %llu", len,
		       POL_IMAGE_MAX_BYTES);
		return NULL;
	}
	/*
	 * Cheap framing checks on the caller's bytes (no copy of an obviously bad
	 * image); the checksum and everything after it on the private copy only.
	 */
	if (check_framing(&ck, false) != POL_OK)
		return NULL;

	img = calloc(1, sizeof(*img));
	if (img == NULL)
		goto fail_nomem;
	alloc_len = (len + TS_POLICY_ALIGN - 1) / TS_POLICY_ALIGN * TS_POLICY_ALIGN;
	img->base = aligned_alloc(TS_POLICY_ALIGN, alloc_len);
	if (img->base == NULL)
		goto fail_nomem;
	memcpy(img->base, buf, len);
	img->len = len;
	img->hdr = img->base;
	/* From here on only the private copy is read: it cannot change under us. */
	ck.base = img->base;
	ck.hdr = img->hdr;
	if (check_framing(&ck, true) != POL_OK || check_header(&ck) != POL_OK ||
	    check_sections(&ck) != POL_OK || check_hdrsum(&ck) != POL_OK ||
	    check_rules(&ck, img) != POL_OK || check_scorer(&ck, img) != POL_OK ||
	    check_routes(&ck, img) != POL_OK || check_hsdb(&ck, img) != POL_OK)
		goto fail_image;
	return img;

fail_nomem:
	refuse(ck.code, POL_E_NOMEM, err, errlen, "out of memory loading a %zu-byte image", len);
fail_image:
	pol_image_close(img);
	return NULL;
}

struct pol_image *pol_image_from_buf(const void *buf, size_t len, char *err, size_t errlen)
{
	return pol_image_load(buf, len, NULL, err, errlen);
}

struct pol_image *pol_image_open_file_code(const char *path, enum pol_err *code, char *err,
					   size_t errlen)
{
	struct pol_image *img;
	char why[256];
	size_t len;
	char *buf;
	int rc;

	rc = tsfile_read(path, POL_IMAGE_MAX_BYTES, &buf, &len, why, sizeof(why));
	if (rc < 0) {
		refuse(code, rc == -EFBIG ? POL_E_LENGTH : rc == -ENOMEM ? POL_E_NOMEM : POL_E_IO,
		       err, errlen, "%s: %s", path, why);
		return NULL;
	}
	/* A file that shrank while it was read fails validation here as truncated. */
	img = pol_image_load(buf, len, code, why, sizeof(why));
	if (img == NULL && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", path, why);
	free(buf);
	return img;
}

struct pol_image *pol_image_open_file(const char *path, char *err, size_t errlen)
{
	return pol_image_open_file_code(path, NULL, err, errlen);
}

const struct ts_policy_hdr *pol_image_hdr(const struct pol_image *img)
{
	return img->hdr;
}

uint64_t pol_image_version(const struct pol_image *img)
{
	return img->hdr->policy_version;
}

const char *pol_image_name(const struct pol_image *img)
{
	return img->hdr->name;
}

const void *pol_image_bytes(const struct pol_image *img, size_t *len)
{
	if (len != NULL)
		*len = img->len;
	return img->base;
}

const hs_database_t *pol_image_hsdb(const struct pol_image *img)
{
	return img->db[TS_GATE_NONE];
}

const char *pol_image_hsdb_info(const struct pol_image *img)
{
	return img->hs_info[TS_GATE_NONE];
}

const hs_database_t *pol_image_hsdb_gate(const struct pol_image *img, uint32_t gate)
{
	return gate < TS_GATE_COUNT ? img->db[gate] : NULL;
}

const char *pol_image_hsdb_gate_info(const struct pol_image *img, uint32_t gate)
{
	return gate < TS_GATE_COUNT ? img->hs_info[gate] : NULL;
}

uint32_t pol_image_rule_count(const struct pol_image *img)
{
	return img->n_rules;
}

const struct pol_rule *pol_image_rules(const struct pol_image *img)
{
	return img->rules;
}

const struct pol_scorer *pol_image_scorer(const struct pol_image *img)
{
	return &img->scorer;
}

const struct pol_route *pol_image_route(const struct pol_image *img, uint32_t route)
{
	if (route >= TS_ROUTE_COUNT)
		return NULL;
	return &img->routes[route];
}

int pol_image_check_features(const struct pol_image *img, const char *const *names, uint32_t n,
			     char *err, size_t errlen)
{
	const struct pol_scorer *sc = &img->scorer;

	if (n != sc->n_features) {
		refuse(NULL, POL_E_FEATURES, err, errlen,
		       "scorer has %" PRIu32 " features, the extractor %" PRIu32, sc->n_features,
		       n);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < n; i++)
		if (names[i] == NULL || strcmp(names[i], sc->names[i]) != 0) {
			refuse(NULL, POL_E_FEATURES, err, errlen,
			       "feature %" PRIu32 ": scorer has \"%s\", the extractor \"%s\"", i,
			       sc->names[i], names[i] != NULL ? names[i] : "(null)");
			return -EINVAL;
		}
	return 0;
}
