/* SPDX-License-Identifier: proprietary */
/*
 * Scorer text file parser (control/policy). The trainer (tools/train) writes
 * the file, the policy compiler reads it; the format:
 *
 *   # comment lines (leading blanks allowed), blank lines
 *   twospeed-scorer 1                       first directive, format version
 *   kind logistic                           once
 *   threshold 0.42                          once, in [0, 1]
 *   bias -1.234567                          once
 *   feature <name> <mean> <scale> <weight>  1..256 times, in vector order
 *
 * Tokens are separated by spaces or tabs; a CR before the LF is dropped.
 * Control plane only.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "polb.h"
#include "tsfile.h"

#define SCORER_FORMAT_VERSION 1
#define SCORER_TOKENS_MAX 7 /* "feature" + 4 fields, and room to name extras in usage */

struct sc_parser {
	const char *name;
	unsigned line; /* 1-based */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int sc_err(struct sc_parser *ps, int rc,
							const char *fmt, ...)
{
	char why[256];
	va_list ap;

	if (ps->err == NULL || ps->errlen == 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->errlen, "%s:%u: %s", ps->name, ps->line, why);
	return rc;
}

/* A float field: strtod over the whole token, finite, inside float range. */
static int parse_float(struct sc_parser *ps, const char *tok, const char *what, float *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(tok, &end);
	if (end == tok || *end != '\0')
		return sc_err(ps, -EINVAL, "%s: \"%s\" is not a number", what, tok);
	if (!isfinite(v) || fabs(v) > FLT_MAX)
		return sc_err(ps, -EINVAL, "%s: %s is not a finite float", what, tok);
	*out = (float)v;
	return 0;
}

static bool feature_name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

/* Split line (NUL-terminated, modified in place) on blanks. Returns the count. */
static unsigned split(char *line, char **tok, unsigned max)
{
	unsigned n = 0;
	char *p = line;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (n == max)
			return max + 1;
		tok[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
	return n;
}

/* One directive line, already split. sc is the scorer being built. */
static int parse_directive(struct sc_parser *ps, char **tok, unsigned n, struct polb_scorer *sc,
			   bool *seen_hdr, bool *seen_kind, bool *seen_thr, bool *seen_bias)
{
	int rc;

	if (!*seen_hdr) {
		char *end;
		long v;

		if (strcmp(tok[0], "twospeed-scorer") != 0 || n != 2)
			return sc_err(ps, -EINVAL,
				      "expected \"twospeed-scorer %d\" as the first directive",
				      SCORER_FORMAT_VERSION);
		errno = 0;
		v = strtol(tok[1], &end, 10);
		if (*end != '\0' || end == tok[1] || errno != 0)
			return sc_err(ps, -EINVAL, "bad format version \"%s\"", tok[1]);
		if (v != SCORER_FORMAT_VERSION)
			return sc_err(ps, -EINVAL,
				      "unsupported scorer format version %ld (this reader: %d)", v,
				      SCORER_FORMAT_VERSION);
		*seen_hdr = true;
		return 0;
	}
	if (strcmp(tok[0], "twospeed-scorer") == 0)
		return sc_err(ps, -EINVAL, "repeated \"twospeed-scorer\" header");
	if (strcmp(tok[0], "kind") == 0) {
		if (n != 2)
			return sc_err(ps, -EINVAL, "usage: kind logistic");
		if (*seen_kind)
			return sc_err(ps, -EINVAL, "kind given twice");
		if (strcmp(tok[1], "logistic") != 0)
			return sc_err(ps, -EINVAL, "unknown scorer kind \"%s\" (known: logistic)",
				      tok[1]);
		sc->kind = TS_SCORER_LOGISTIC;
		*seen_kind = true;
		return 0;
	}
	if (strcmp(tok[0], "threshold") == 0) {
		if (n != 2)
			return sc_err(ps, -EINVAL, "usage: threshold <0..1>");
		if (*seen_thr)
			return sc_err(ps, -EINVAL, "threshold given twice");
		rc = parse_float(ps, tok[1], "threshold", &sc->threshold);
		if (rc < 0)
			return rc;
		if (!(sc->threshold >= 0.0f && sc->threshold <= 1.0f))
			return sc_err(ps, -EINVAL, "threshold %s not in [0, 1]", tok[1]);
		*seen_thr = true;
		return 0;
	}
	if (strcmp(tok[0], "bias") == 0) {
		if (n != 2)
			return sc_err(ps, -EINVAL, "usage: bias <number>");
		if (*seen_bias)
			return sc_err(ps, -EINVAL, "bias given twice");
		rc = parse_float(ps, tok[1], "bias", &sc->bias);
		if (rc < 0)
			return rc;
		*seen_bias = true;
		return 0;
	}
	if (strcmp(tok[0], "feature") == 0) {
		struct polb_feature *f;

		if (n != 5)
			return sc_err(ps, -EINVAL, "usage: feature <name> <mean> <scale> <weight>");
		if (sc->n_features == POL_SCORER_MAX_FEATURES)
			return sc_err(ps, -EINVAL, "more than %u features",
				      POL_SCORER_MAX_FEATURES);
		if (strlen(tok[1]) >= POLB_FEATURE_NAME_MAX)
			return sc_err(ps, -EINVAL, "feature name longer than %u bytes",
				      POLB_FEATURE_NAME_MAX - 1);
		if (!feature_name_ok(tok[1]))
			return sc_err(ps, -EINVAL,
				      "bad feature name \"%s\" (allowed: A-Z a-z 0-9 _ . -)",
				      tok[1]);
		for (uint32_t i = 0; i < sc->n_features; i++)
			if (strcmp(sc->feat[i].name, tok[1]) == 0)
				return sc_err(ps, -EINVAL, "duplicate feature \"%s\"", tok[1]);
		f = &sc->feat[sc->n_features];
		memcpy(f->name, tok[1], strlen(tok[1]) + 1);
		rc = parse_float(ps, tok[2], "mean", &f->mean);
		if (rc == 0)
			rc = parse_float(ps, tok[3], "scale", &f->scale);
		if (rc == 0)
			rc = parse_float(ps, tok[4], "weight", &f->weight);
		if (rc < 0)
			return rc;
		if (!(f->scale > 0.0f))
			return sc_err(ps, -EINVAL, "feature \"%s\": scale %s must be > 0", tok[1],
				      tok[3]);
		sc->n_features++;
		return 0;
	}
	return sc_err(ps, -EINVAL, "unknown directive \"%s\"", tok[0]);
}

int polb_scorer_parse(const char *name, const char *buf, size_t len, struct polb_scorer *out,
		      char *err, size_t errlen)
{
	struct sc_parser ps = {
		.name = name != NULL ? name : "<scorer>", .line = 0, .err = err, .errlen = errlen};
	bool seen_hdr = false, seen_kind = false, seen_thr = false, seen_bias = false;
	char line[POLB_SCORER_LINE_MAX + 1];
	struct polb_scorer *sc;
	size_t pos = 0;
	int rc = 0;

	if (len > POLB_SCORER_FILE_MAX)
		return sc_err(&ps, -E2BIG, "file of %zu bytes exceeds %u", len,
			      POLB_SCORER_FILE_MAX);
	if (buf == NULL && len != 0)
		return sc_err(&ps, -EINVAL, "no buffer");
	/* Build into scratch so *out is untouched on error. */
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return sc_err(&ps, -ENOMEM, "out of memory");
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t ll = (nl != NULL ? (size_t)(nl - (buf + pos)) : len - pos);
		char *tok[SCORER_TOKENS_MAX];
		char *p;
		unsigned n;

		ps.line++;
		if (ll > 0 && buf[pos + ll - 1] == '\r')
			ll--;
		if (ll > POLB_SCORER_LINE_MAX) {
			rc = sc_err(&ps, -E2BIG, "line longer than %u bytes", POLB_SCORER_LINE_MAX);
			goto free_sc;
		}
		memcpy(line, buf + pos, ll);
		line[ll] = '\0';
		pos += (nl != NULL ? (size_t)(nl - (buf + pos)) + 1 : len - pos);
		if (memchr(line, '\0', ll) != NULL) {
			rc = sc_err(&ps, -EINVAL, "NUL byte in line");
			goto free_sc;
		}
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (*p == '\0' || *p == '#')
			continue;
		n = split(p, tok, SCORER_TOKENS_MAX - 1);
		if (n > SCORER_TOKENS_MAX - 1) {
			rc = sc_err(&ps, -EINVAL, "too many fields");
			goto free_sc;
		}
		rc = parse_directive(&ps, tok, n, sc, &seen_hdr, &seen_kind, &seen_thr, &seen_bias);
		if (rc < 0)
			goto free_sc;
	}
	ps.line = 0;
	if (!seen_hdr)
		rc = sc_err(&ps, -EINVAL, "missing \"twospeed-scorer %d\" header",
			    SCORER_FORMAT_VERSION);
	else if (!seen_kind)
		rc = sc_err(&ps, -EINVAL, "missing \"kind\"");
	else if (!seen_thr)
		rc = sc_err(&ps, -EINVAL, "missing \"threshold\"");
	else if (!seen_bias)
		rc = sc_err(&ps, -EINVAL, "missing \"bias\"");
	else if (sc->n_features == 0)
		rc = sc_err(&ps, -EINVAL, "no \"feature\" lines");
	if (rc == 0)
		memcpy(out, sc, sizeof(*sc));
free_sc:
	free(sc);
	return rc;
}

int polb_scorer_load_file(const char *path, struct polb_scorer *out, char *err, size_t errlen)
{
	char why[128];
	size_t len;
	char *buf;
	int rc;

	rc = tsfile_read(path, POLB_SCORER_FILE_MAX, &buf, &len, why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		return rc;
	}
	rc = polb_scorer_parse(path, buf, len, out, err, errlen);
	free(buf);
	return rc;
}
