/* SPDX-License-Identifier: proprietary */
/*
 * twospeed-generate: run the executor engine on one prompt from the command
 * line. stdout: the prompt, then the generated text as it arrives, then a
 * newline (llama2.c's run.c prints the same). stderr: statistics.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "sampler.h"

struct gen_out {
	bool done;
	bool failed;
	struct ts_exec_final fin;
	char errmsg[TS_EXEC_ERRMSG_MAX + 1];
	float *lp;      /* --logprobs: per-token values, lp_cap entries */
	uint32_t lp_cap;
	uint32_t n_lp;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: twospeed-generate MODEL.gguf -p PROMPT [-n MAX_NEW_TOKENS] [--temp T]\n"
		"         [--top-k K] [--top-p P] [--seed S] [--chat] [--ctx TOKENS]\n"
		"         [--cores LIST] [--logprobs]\n"
		"  -n N        new tokens to generate (default 256)\n"
		"  --temp T    temperature, 0 = greedy (default 1.0)\n"
		"  --top-k K   keep the K most likely tokens, 0 = off (default 0)\n"
		"  --top-p P   nucleus mass in (0, 1] (default 0.9)\n"
		"  --seed S    sampler seed (default: from the clock)\n"
		"  --chat      wrap the prompt as a user message in the model's chat template\n"
		"  --ctx N     context tokens, prompt + generation (default 2048)\n"
		"  --cores L   pin the engine (first core) and matmul workers, e.g. 0 or 0-1\n"
		"  --logprobs  print each completion token's log-probability (nats) to\n"
		"              stderr as one JSON line: {\"logprobs\":[...],\"mean\":M}\n");
}

static int sink(void *ctx, uint16_t worker, uint16_t type, const void *hdr, uint32_t hdr_len,
		const void *data, uint32_t data_len)
{
	struct gen_out *o = ctx;

	(void)worker;
	if (type == TS_EXEC_REC_TEXT_DELTA) {
		struct ts_exec_delta d;

		memcpy(&d, hdr, sizeof(d));
		/* Values in token order, lp_first continuing the previous delta. */
		if (o->lp != NULL && hdr_len == sizeof(d) + d.n_logprobs * sizeof(float) &&
		    d.lp_first == o->n_lp && d.n_logprobs <= o->lp_cap - o->n_lp) {
			memcpy(o->lp + o->n_lp, (const char *)hdr + sizeof(d),
			       d.n_logprobs * sizeof(float));
			o->n_lp += d.n_logprobs;
		}
		fwrite(data, 1, data_len, stdout);
		fflush(stdout);
	} else if (type == TS_EXEC_REC_FINAL) {
		memcpy(&o->fin, hdr, sizeof(o->fin));
		o->done = true;
	} else if (type == TS_EXEC_REC_ERROR) {
		snprintf(o->errmsg, sizeof(o->errmsg), "%.*s", (int)data_len, (const char *)data);
		o->failed = true;
		o->done = true;
	}
	return 0;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && s[0] != '-';
}

static bool parse_f(const char *s, float *out)
{
	char *end;

	errno = 0;
	*out = strtof(s, &end);
	return errno == 0 && end != s && *end == '\0' && isfinite(*out);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"temp", required_argument, NULL, 't'}, {"top-k", required_argument, NULL, 'k'},
		{"top-p", required_argument, NULL, 'P'}, {"seed", required_argument, NULL, 's'},
		{"chat", no_argument, NULL, 'c'},        {"ctx", required_argument, NULL, 'C'},
		{"cores", required_argument, NULL, 'L'}, {"help", no_argument, NULL, 'h'},
		{"logprobs", no_argument, NULL, 'l'},
		{NULL, 0, NULL, 0}};
	struct ex_engine_opts eo;
	struct ex_request req;
	struct ex_msg msg;
	struct gen_out out = {0};
	struct ex_engine *e;
	const char *prompt = NULL;
	uint64_t n_new = 256, v;
	char err[512];
	bool chat = false, logprobs = false;
	int c, rc;

	ex_engine_opts_default(&eo);
	eo.max_batch = 1;
	eo.queue_len = 0;
	memset(&req, 0, sizeof(req));
	req.par = (struct ex_sample_params){.temperature = 1.0f, .top_k = 0, .top_p = 0.9f,
					    .seed = (uint64_t)time(NULL)};
	while ((c = getopt_long(argc, argv, "p:n:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			prompt = optarg;
			break;
		case 'n':
			if (!parse_u64(optarg, &n_new) || n_new == 0 || n_new > UINT32_MAX)
				goto bad;
			break;
		case 't':
			if (!parse_f(optarg, &req.par.temperature))
				goto bad;
			break;
		case 'k':
			if (!parse_u64(optarg, &v) || v > UINT32_MAX)
				goto bad;
			req.par.top_k = (uint32_t)v;
			break;
		case 'P':
			if (!parse_f(optarg, &req.par.top_p))
				goto bad;
			break;
		case 's':
			if (!parse_u64(optarg, &req.par.seed))
				goto bad;
			break;
		case 'c':
			chat = true;
			break;
		case 'l':
			logprobs = true;
			break;
		case 'C':
			if (!parse_u64(optarg, &v) || v < 2 || v > (1u << 20))
				goto bad;
			eo.max_ctx = (uint32_t)v;
			break;
		case 'L':
			if (ex_cpu_list_parse(optarg, eo.cpus, EX_CPUS_MAX, &eo.n_cpus, err,
					      sizeof(err)) < 0) {
				fprintf(stderr, "twospeed-generate: --cores: %s\n", err);
				return 2;
			}
			break;
		case 'h':
			usage();
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc - 1 || prompt == NULL || ex_sample_params_check(&req.par) < 0)
		goto bad;
	if (eo.step_tokens > eo.max_ctx)
		eo.step_tokens = eo.max_ctx;
	eo.model_path = argv[optind];
	if (logprobs) {
		/* One value per completion token: at most min(-n, context). */
		out.lp_cap = n_new < eo.max_ctx ? (uint32_t)n_new : eo.max_ctx;
		out.lp = calloc(out.lp_cap, sizeof(float));
		if (out.lp == NULL) {
			fprintf(stderr, "twospeed-generate: out of memory\n");
			return 1;
		}
	}
	e = ex_engine_create(&eo, err, sizeof(err));
	if (e == NULL) {
		fprintf(stderr, "twospeed-generate: %s\n", err);
		free(out.lp);
		return 1;
	}
	ex_engine_set_sink(e, sink, &out);
	rc = ex_engine_pin_caller(e);
	if (rc < 0) {
		fprintf(stderr, "twospeed-generate: cannot pin to core %d: %s\n", eo.cpus[0],
			strerror(-rc));
		ex_engine_destroy(e);
		free(out.lp);
		return 1;
	}
	msg = (struct ex_msg){.role = chat ? TS_EXEC_ROLE_USER : TS_EXEC_ROLE_PROMPT,
			      .text = prompt, .len = (uint32_t)strlen(prompt)};
	req.flags = TS_EXEC_F_STREAM | (chat ? TS_EXEC_F_CHAT : 0);
	req.max_tokens = (uint32_t)n_new;
	req.msgs = &msg;
	req.n_msgs = 1;
	rc = ex_engine_submit(e, &req, ex_now_ns());
	if (rc < 0) {
		fprintf(stderr, "twospeed-generate: %s\n",
			rc == -E2BIG ? "prompt does not fit the context (see --ctx)"
				     : strerror(-rc));
		ex_engine_destroy(e);
		free(out.lp);
		return 1;
	}
	fputs(prompt, stdout);
	fflush(stdout);
	while (!out.done) {
		rc = ex_engine_step(e);
		if (rc < 0 && !out.done) {
			fprintf(stderr, "twospeed-generate: forward pass failed: %s\n",
				strerror(-rc));
			break;
		}
	}
	fputc('\n', stdout);
	fflush(stdout);
	if (out.done && !out.failed) {
		double pre_s = out.fin.prefill_ns / 1e9, dec_s = out.fin.decode_ns / 1e9;

		fprintf(stderr,
			"prompt tokens: %u\ngenerated tokens: %u\nprefill: %.1f tok/s\n"
			"decode: %.1f tok/s\nmean logprob: %.4f\nfinish: %s\n",
			out.fin.prompt_tokens, out.fin.completion_tokens,
			pre_s > 0 ? out.fin.prompt_tokens / pre_s : 0.0,
			dec_s > 0 && out.fin.completion_tokens > 1
				? (out.fin.completion_tokens - 1) / dec_s
				: 0.0,
			out.fin.mean_logprob,
			out.fin.finish == TS_EXEC_FINISH_STOP     ? "stop"
			: out.fin.finish == TS_EXEC_FINISH_LENGTH ? "length"
								  : "error");
		if (out.lp != NULL) {
			double sum = 0.0;

			fputs("{\"logprobs\":[", stderr);
			for (uint32_t i = 0; i < out.n_lp; i++) {
				fprintf(stderr, "%s%.6g", i ? "," : "", out.lp[i]);
				sum += out.lp[i];
			}
			fprintf(stderr, "],\"mean\":%.6g}\n", out.n_lp ? sum / out.n_lp : 0.0);
		}
	} else if (out.failed) {
		fprintf(stderr, "twospeed-generate: %s\n", out.errmsg);
	}
	rc = out.done && !out.failed && out.fin.finish != TS_EXEC_FINISH_ERROR ? 0 : 1;
	ex_engine_destroy(e);
	free(out.lp);
	return rc;

bad:
	usage();
	return 2;
}
