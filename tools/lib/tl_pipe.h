/* SPDX-License-Identifier: proprietary */
/*
 * The offline tools' classification pipeline: one JSONL line -> request
 * view -> cls_decide(), through exactly the code the dataplane runs
 * (rv_parse, cls_scan, cls features, cls_score). Shared by
 * twospeed-classify and twospeed-train so the trainer's features are the
 * dataplane's features.
 */
#ifndef TWOSPEED_TL_PIPE_H
#define TWOSPEED_TL_PIPE_H

#include <stdbool.h>
#include <stddef.h>

#include "cls.h"
#include "polb-t.h"
#include "reqview.h"
#include "tl_json.h"

struct pol_image;
struct tsconf;

struct tl_pipe {
	struct tsconf *conf;     /* [request] limits (defaults unless a file is loaded) */
	struct rv_limits lim;
	struct polb_routes routes; /* [route.*] keys, registered so the appliance config loads */
	struct rv_ctx rv;
	struct rv_view view;
	struct cls_ctx cls;
	struct cls_policy *pol;
	struct pol_image *img;   /* when opened from an image */
	struct tl_jdoc doc;      /* the current line, parsed */
	struct tl_buf body;      /* a chat body built from "turns" */
};

/*
 * Open from a policy image (rules, scorer, threshold) or from rule files
 * (rules only, neutral scorer: for feature extraction). config may be NULL
 * (default [request] limits). 0, or -errno with the reason in err.
 */
int tl_pipe_open_image(struct tl_pipe *p, const char *image, const char *config, char *err,
		       size_t errlen);
int tl_pipe_open_rules(struct tl_pipe *p, const char *const *paths, size_t n,
		       const char *config, char *err, size_t errlen);
void tl_pipe_close(struct tl_pipe *p);

/* Outcome of one line. */
struct tl_pipe_res {
	const char *code;              /* NULL on success, else "json", "shape",
					  "request" or "classify" */
	char msg[256];                 /* reason when code != NULL */
	const struct tl_jnode *root;   /* the parsed line (NULL when code is "json") */
	const struct tl_jnode *id;     /* its "id" member, or NULL */
	size_t text_bytes;             /* bytes of prompt text (view), for length routers */
	struct cls_decision d;         /* valid when code == NULL */
};

/*
 * Classify one line: an OpenAI chat body ("messages"), a completions body
 * ("prompt") or {"turns":[...]} (user/assistant alternating, user first).
 * Returns 0, or a negative errno with r->code/r->msg set.
 */
int tl_pipe_line(struct tl_pipe *p, const char *line, size_t len, struct tl_pipe_res *r);

#endif /* TWOSPEED_TL_PIPE_H */
