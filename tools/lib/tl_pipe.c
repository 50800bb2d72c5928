/* SPDX-License-Identifier: proprietary */
/*
 * Offline classification pipeline (see tl_pipe.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "pol.h"
#include "polb.h"
#include "rules.h"
#include "tl_pipe.h"
#include "tsconf.h"

static int pipe_base(struct tl_pipe *p, const char *config, char *err, size_t errlen)
{
	int rc;

	memset(p, 0, sizeof(*p));
	tl_jdoc_init(&p->doc);
	cls_ctx_init(&p->cls);
	p->conf = tsconf_create();
	if (!p->conf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = rv_conf_register(p->conf, &p->lim, err, errlen);
	if (rc)
		return rc;
	/*
	 * The appliance config also holds the route sections (compiled into the
	 * image by twospeed-policy); register them so such a file loads here.
	 */
	size_t nk;
	const struct tsconf_key *rk = polb_routes_conf_keys(&nk);

	rc = tsconf_register(p->conf, "routes", rk, nk, &p->routes, err, errlen);
	if (rc)
		return rc;
	if (config) {
		rc = tsconf_load_file(p->conf, config, err, errlen);
		if (rc)
			return rc;
	}
	rc = rv_ctx_init(&p->rv, &p->lim);
	if (rc) {
		snprintf(err, errlen, "request view: cannot set up: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

static int pipe_attach(struct tl_pipe *p, char *err, size_t errlen)
{
	int rc = cls_ctx_attach(&p->cls, p->pol);

	if (rc)
		snprintf(err, errlen, "classifier context: %s", strerror(-rc));
	return rc;
}

int tl_pipe_open_image(struct tl_pipe *p, const char *image, const char *config, char *err,
		       size_t errlen)
{
	int rc = pipe_base(p, config, err, errlen);

	if (rc)
		return rc;
	char why[256];

	p->img = pol_image_open_file(image, err, errlen); /* err names the file */
	if (!p->img)
		return -EINVAL;
	p->pol = cls_policy_from_image(p->img, why, sizeof(why));
	if (!p->pol) {
		snprintf(err, errlen, "%s: %s", image, why);
		return -EINVAL;
	}
	return pipe_attach(p, err, errlen);
}

static void free_dbs(hs_database_t *dbs[TS_GATE_COUNT])
{
	for (uint32_t g = 0; g < TS_GATE_COUNT; g++)
		hs_free_database(dbs[g]);
}

int tl_pipe_open_rules(struct tl_pipe *p, const char *const *paths, size_t n,
		       const char *config, char *err, size_t errlen)
{
	struct rules_set *set = NULL;
	struct cls_rule *rules = NULL;
	hs_database_t *dbs[TS_GATE_COUNT] = { NULL };
	int rc = pipe_base(p, config, err, errlen);

	if (rc)
		return rc;
	set = rules_set_new();
	if (!set) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		rc = rules_parse_path(set, paths[i], err, errlen);
		if (rc)
			goto out_set;
	}
	/* gated like the policy compiler, so tools see what the dataplane sees */
	rc = rules_compile_gated(set, NULL, dbs, err, errlen);
	if (rc)
		goto out_set;
	rules = calloc(set->n ? set->n : 1, sizeof(*rules));
	if (!rules) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		free_dbs(dbs);
		goto out_set;
	}
	for (uint32_t i = 0; i < set->n; i++) {
		/* ids must outlive the set: keep a copy per rule */
		rules[i].id = strdup(set->rules[i].id);
		rules[i].category = set->rules[i].category;
		rules[i].action = set->rules[i].action;
		rules[i].verify = set->rules[i].verify;
		rules[i].weight = set->rules[i].weight;
		if (!rules[i].id) {
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			free_dbs(dbs);
			goto out_rules;
		}
	}
	p->pol = cls_policy_from_parts_gated((const struct hs_database *const *)dbs, true, rules,
					     set->n, NULL, 0, err, errlen);
	if (!p->pol) {
		rc = -EINVAL;
		goto out_rules;
	}
	rc = pipe_attach(p, err, errlen);
	/* the policy copied the table; it keeps the id strings, freed in close */
	free(rules);
	rules_set_free(set);
	return rc;

out_rules:
	for (uint32_t i = 0; i < set->n; i++)
		free((char *)(uintptr_t)rules[i].id);
	free(rules);
out_set:
	rules_set_free(set);
	return rc;
}

void tl_pipe_close(struct tl_pipe *p)
{
	if (p->pol && !p->img) {
		/* rule ids were strdup'ed by tl_pipe_open_rules */
		for (uint32_t i = 0; i < p->pol->n_rules; i++)
			free((char *)(uintptr_t)p->pol->rules[i].id);
	}
	cls_policy_free(p->pol);
	p->pol = NULL;
	pol_image_close(p->img);
	p->img = NULL;
	cls_ctx_fini(&p->cls);
	rv_ctx_fini(&p->rv);
	if (p->conf)
		tsconf_destroy(p->conf);
	p->conf = NULL;
	tl_jdoc_fini(&p->doc);
	tl_buf_free(&p->body);
}

static int fail(struct tl_pipe_res *r, int rc, const char *code, const char *msg)
{
	r->code = code;
	snprintf(r->msg, sizeof(r->msg), "%s", msg);
	return rc;
}

int tl_pipe_line(struct tl_pipe *p, const char *line, size_t len, struct tl_pipe_res *r)
{
	const struct tl_jnode *root;
	enum rv_endpoint ep = RV_EP_CHAT;
	const char *body = line;
	size_t blen = len;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = tl_json_parse(&p->doc, line, len, r->msg, sizeof(r->msg));
	if (rc) {
		r->code = "json";
		return rc;
	}
	root = &p->doc.nodes[0];
	r->root = root;
	r->id = tl_json_get(&p->doc, root, "id");
	if (root->type != TL_JOBJ)
		return fail(r, -EINVAL, "shape", "line is not a JSON object");
	if (tl_json_get(&p->doc, root, "messages")) {
		ep = RV_EP_CHAT;
	} else if (tl_json_get(&p->doc, root, "prompt")) {
		ep = RV_EP_COMPLETIONS;
	} else if (tl_json_get(&p->doc, root, "turns")) {
		rc = tl_turns_body(&p->body, &p->doc, tl_json_get(&p->doc, root, "turns"));
		if (rc)
			return fail(r, rc, "shape",
				    "\"turns\" must be a non-empty array of strings");
		body = p->body.p;
		blen = p->body.n;
	} else {
		return fail(r, -EINVAL, "shape", "no \"messages\", \"prompt\" or \"turns\" member");
	}
	rc = rv_parse(&p->rv, ep, body, blen, &p->view);
	if (rc < 0) {
		r->code = "request";
		snprintf(r->msg, sizeof(r->msg), "%s: %s (body offset %u)",
			 rv_err_name(p->view.err), rv_strerror(p->view.err), p->view.err_off);
		return -EINVAL;
	}
	r->text_bytes = p->view.text.len;
	rc = cls_decide(&p->cls, p->pol, &p->view, &r->d);
	if (rc)
		return fail(r, rc, "classify", rc == -EIO ? "rule scan failed" : "classifier not ready");
	return 0;
}
