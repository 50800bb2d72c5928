/* SPDX-License-Identifier: Proprietary */
/*
 * Unit tests of the request view.  Every body is copied so that it ends exactly at a
 * PROT_NONE page: a read past the end faults instead of passing silently.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "reqview.h"
#include "tsfile.h"
#include "rv_same.h"

static struct rv_ctx dflt;  /* production defaults */
static struct rv_ctx small; /* tight limits for limit tests */
static struct rv_view v;

static const struct rv_limits small_lim = {
	.max_body = 4096, .max_depth = 8, .max_messages = 3, .max_text = 1024,
	.max_parts = 2, .max_tools = 2,
};

/* Guard page: the current mapping and its size. */
static void *gmap;
static size_t gmap_len;

/* Returns a copy of s[0..n) that ends at a PROT_NONE page. */
static const char *guarded(const char *s, size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t data = (n + pg - 1) / pg * pg;
	char *m;

	if (gmap != NULL)
		munmap(gmap, gmap_len);
	gmap_len = data + pg;
	gmap = mmap(NULL, gmap_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (gmap == MAP_FAILED) {
		gmap = NULL;
		return NULL;
	}
	m = gmap;
	mprotect(m + data, pg, PROT_NONE);
	memcpy(m + data - n, s, n);
	return m + data - n;
}

static int parse_n(struct rv_ctx *c, enum rv_endpoint ep, const char *s, size_t n)
{
	const char *g = guarded(s, n);

	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	return rv_parse(c, ep, g, n, &v);
}

static int chat(const char *s)
{
	return parse_n(&dflt, RV_EP_CHAT, s, strlen(s));
}

static int compl(const char *s)
{
	return parse_n(&dflt, RV_EP_COMPLETIONS, s, strlen(s));
}

static bool str_is(struct rv_str s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

/* The body bytes of a span, for comparison (the body is the guarded copy). */
static const char *body_of(void)
{
	return (const char *)gmap + gmap_len - (size_t)sysconf(_SC_PAGESIZE);
}

static bool span_is(struct rv_span sp, size_t body_len, const char *lit)
{
	const char *b = body_of() - body_len;

	return sp.len == strlen(lit) && memcmp(b + sp.off, lit, sp.len) == 0;
}

/* Valid bodies of every shape; also used for the truncation sweep. */
static const char *const valid_chat[] = {
	"{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
	/* every optional field, with whitespace everywhere */
	" { \"model\" : \"m\" , \"messages\" : [ { \"role\" : \"system\" , \"content\" : \"s\" } ,"
	" { \"role\" : \"user\" , \"name\" : \"bob\" , \"content\" : \"u\" } ] ,"
	" \"max_tokens\" : 100 , \"max_completion_tokens\" : 200 , \"stream\" : true ,"
	" \"stream_options\" : { \"include_usage\" : true } , \"temperature\" : 0.25 ,"
	" \"top_p\" : 1e-1 , \"n\" : 2 , \"stop\" : [ \"a\" , \"b\" ] , \"seed\" : -7 ,"
	" \"response_format\" : { \"type\" : \"json_object\" } , \"user\" : \"u1\" ,"
	" \"metadata\" : { \"k\" : \"v\" , \"k2\" : \"v2\" } } \n",
	/* parts */
	"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"look\"},"
	"{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,AAAA\",\"detail\":"
	"\"low\"}},{\"text\":\"second\",\"type\":\"text\"},{\"type\":\"input_audio\",\"input_audio\":"
	"{\"data\":\"UklG\",\"format\":\"wav\"}},{\"type\":\"file\",\"file\":{\"file_id\":\"f1\"}},"
	"{\"type\":\"refusal\",\"refusal\":\"no\"}]}]}",
	/* tools and tool calls */
	"{\"model\":\"x\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
	"\"description\":\"d\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":"
	"\"string\"}},\"required\":[\"city\"]}}},{\"type\":\"function\",\"function\":{\"name\":"
	"\"search\"}}],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"search\"}},"
	"\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"},{\"role\":\"assistant\","
	"\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\",\"function\":{"
	"\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},{\"role\":"
	"\"tool\",\"tool_call_id\":\"c1\",\"content\":\"sunny\"}]}",
	/* unknown fields of every JSON type, escapes, nulls */
	"{\"x\":{\"a\":[1,-2.5e+3,true,false,null,{\"b\":{}},[]],\"c\":\"\\u00e9\\n\"},\"messages\":"
	"[{\"role\":\"developer\",\"content\":\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\/\"}],"
	"\"temperature\":null,\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":"
	"\"s\",\"schema\":{\"type\":\"object\"}}},\"logit_bias\":{\"50256\":-100}}",
};

static const char *const valid_compl[] = {
	"{\"model\":\"gpt-3.5-turbo-instruct\",\"prompt\":\"Say this is a test\",\"max_tokens\":7}",
	"{\"prompt\":[\"one\",\"two\",\"three\"],\"echo\":false}",
	"{\"prompt\":[[1,2,3],[4,5]],\"n\":1}",
	"{\"prompt\":[1212,318,257,1332]}",
};

static void test_simple_chat(void)
{
	const char *b = valid_chat[0];

	CU_ASSERT_EQUAL(chat(b), (int)strlen(b));
	CU_ASSERT_EQUAL(v.err, RV_OK);
	CU_ASSERT_TRUE(str_is(v.model, "gpt-4o"));
	CU_ASSERT_EQUAL(v.has, RV_HAS_MODEL | RV_HAS_MESSAGES);
	/* the model value with its quotes, where a rewrite would put another one */
	CU_ASSERT_EQUAL(v.model_span.off, 9);
	CU_ASSERT_EQUAL(v.model_span.len, 8);
	CU_ASSERT_TRUE(span_is(v.model_span, strlen(b), "\"gpt-4o\""));
	CU_ASSERT_EQUAL(v.nmsgs, 1);
	CU_ASSERT_EQUAL(v.msgs[0].role, RV_ROLE_USER);
	CU_ASSERT_TRUE(str_is(v.msgs[0].text, "hi"));
	CU_ASSERT_TRUE(str_is(v.text, "hi"));
	CU_ASSERT_EQUAL(v.nroles[RV_ROLE_USER], 1);
	CU_ASSERT_FALSE(v.msgs[0].content_array);
}

static void test_all_fields(void)
{
	const char *b = valid_chat[1];
	size_t n = strlen(b);

	CU_ASSERT_EQUAL(chat(b), (int)n);
	CU_ASSERT_EQUAL(v.has, RV_HAS_MODEL | RV_HAS_MESSAGES | RV_HAS_MAX_TOKENS |
				       RV_HAS_MAX_COMPLETION_TOKENS | RV_HAS_STREAM |
				       RV_HAS_INCLUDE_USAGE | RV_HAS_TEMPERATURE | RV_HAS_TOP_P |
				       RV_HAS_N | RV_HAS_STOP | RV_HAS_SEED |
				       RV_HAS_RESPONSE_FORMAT | RV_HAS_USER | RV_HAS_METADATA);
	CU_ASSERT_TRUE(str_is(v.model, "m"));
	CU_ASSERT_TRUE(span_is(v.model_span, n, "\"m\""));
	CU_ASSERT_EQUAL(v.nmsgs, 2);
	CU_ASSERT_EQUAL(v.msgs[0].role, RV_ROLE_SYSTEM);
	CU_ASSERT_EQUAL(v.msgs[1].role, RV_ROLE_USER);
	CU_ASSERT_TRUE(str_is(v.msgs[1].name, "bob"));
	CU_ASSERT_TRUE(str_is(v.text, "s\nu"));
	CU_ASSERT_TRUE(str_is(v.msgs[1].text, "u"));
	CU_ASSERT_EQUAL(v.max_tokens, 100);
	CU_ASSERT_EQUAL(v.max_completion_tokens, 200);
	CU_ASSERT_TRUE(v.stream);
	CU_ASSERT_TRUE(v.include_usage);
	CU_ASSERT_DOUBLE_EQUAL(v.temperature, 0.25, 1e-15);
	CU_ASSERT_DOUBLE_EQUAL(v.top_p, 0.1, 1e-15);
	CU_ASSERT_EQUAL(v.n, 2);
	CU_ASSERT_EQUAL(v.seed, -7);
	CU_ASSERT_EQUAL(v.nstop, 2);
	CU_ASSERT_TRUE(span_is(v.stop, n, "[ \"a\" , \"b\" ]"));
	CU_ASSERT_EQUAL(v.response_format, RV_FMT_JSON_OBJECT);
	CU_ASSERT_TRUE(str_is(v.user, "u1"));
	CU_ASSERT_EQUAL(v.nmetadata, 2);
	CU_ASSERT_TRUE(span_is(v.metadata, n, "{ \"k\" : \"v\" , \"k2\" : \"v2\" }"));
	CU_ASSERT_TRUE(span_is(v.metadata_kv[0][0], n, "\"k\""));
	CU_ASSERT_TRUE(span_is(v.metadata_kv[0][1], n, "\"v\""));
	CU_ASSERT_TRUE(span_is(v.metadata_kv[1][0], n, "\"k2\""));
	CU_ASSERT_TRUE(span_is(v.metadata_kv[1][1], n, "\"v2\""));
}

static void test_parts(void)
{
	const struct rv_msg *m;

	CU_ASSERT_EQUAL(chat(valid_chat[2]), (int)strlen(valid_chat[2]));
	CU_ASSERT_EQUAL(v.nmsgs, 1);
	m = &v.msgs[0];
	CU_ASSERT_TRUE(m->content_array);
	CU_ASSERT_EQUAL(m->nparts, 6);
	CU_ASSERT_EQUAL(m->ntext_parts, 2);
	CU_ASSERT_EQUAL(m->nimages, 1);
	CU_ASSERT_EQUAL(m->naudio, 1);
	CU_ASSERT_EQUAL(m->nfiles, 1);
	CU_ASSERT_EQUAL(m->nother, 1);
	/* text parts joined by '\n'; the image URL and refusal text are not prompt text */
	CU_ASSERT_TRUE(str_is(m->text, "look\nsecond"));
	CU_ASSERT_TRUE(str_is(v.text, "look\nsecond"));
	CU_ASSERT_EQUAL(v.nimages, 1);
	CU_ASSERT_EQUAL(v.nparts, 6);
}

static void test_part_text_given_back(void)
{
	/* "text" before a non-text "type": the arena bytes are given back */
	const char *b = "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"zzz\",\"type\":"
			"\"image_url\"},{\"type\":\"input_text\",\"text\":\"keep\"}]},"
			"{\"role\":\"user\",\"content\":\"next\"}]}";

	CU_ASSERT_EQUAL(chat(b), (int)strlen(b));
	CU_ASSERT_TRUE(str_is(v.msgs[0].text, "keep"));
	CU_ASSERT_TRUE(str_is(v.msgs[1].text, "next"));
	CU_ASSERT_TRUE(str_is(v.text, "keep\nnext"));
	CU_ASSERT_EQUAL(v.msgs[0].nimages, 1);
	CU_ASSERT_EQUAL(v.msgs[0].ntext_parts, 1);
}

static void test_tools(void)
{
	size_t n = strlen(valid_chat[3]);

	CU_ASSERT_EQUAL(chat(valid_chat[3]), (int)n);
	CU_ASSERT_EQUAL(v.ntools, 2);
	CU_ASSERT_TRUE(str_is(v.tool_names[0], "get_weather"));
	CU_ASSERT_TRUE(str_is(v.tool_names[1], "search"));
	CU_ASSERT_TRUE(v.has & RV_HAS_TOOLS);
	CU_ASSERT_TRUE(v.has & RV_HAS_TOOL_CHOICE);
	CU_ASSERT_TRUE(span_is(v.tool_choice, n,
			       "{\"type\":\"function\",\"function\":{\"name\":\"search\"}}"));
	CU_ASSERT_EQUAL(v.nmsgs, 3);
	CU_ASSERT_EQUAL(v.msgs[1].role, RV_ROLE_ASSISTANT);
	CU_ASSERT_EQUAL(v.msgs[1].ncalls, 1);
	CU_ASSERT_EQUAL(v.msgs[1].first_call, 0);
	CU_ASSERT_EQUAL(v.msgs[1].text.len, 0);
	CU_ASSERT_EQUAL(v.ncalls, 1);
	CU_ASSERT_TRUE(str_is(v.call_names[0], "get_weather"));
	CU_ASSERT_EQUAL(v.msgs[2].role, RV_ROLE_TOOL);
	CU_ASSERT_TRUE(v.msgs[2].has_tool_call_id);
	CU_ASSERT_TRUE(str_is(v.msgs[2].text, "sunny"));
	CU_ASSERT_TRUE(str_is(v.text, "weather?\nsunny"));
	/* the deprecated functions / function_call forms count as tools and calls */
	CU_ASSERT(chat("{\"functions\":[{\"name\":\"f1\",\"parameters\":{}},{\"name\":\"f2\"}],"
		       "\"messages\":[{\"role\":\"assistant\",\"function_call\":{\"name\":\"f2\","
		       "\"arguments\":\"{}\"}},{\"role\":\"function\",\"name\":\"f2\",\"content\":"
		       "\"42\"}]}") > 0);
	CU_ASSERT_EQUAL(v.ntools, 2);
	CU_ASSERT_TRUE(str_is(v.tool_names[1], "f2"));
	CU_ASSERT_EQUAL(v.ncalls, 1);
	CU_ASSERT_EQUAL(v.msgs[0].ncalls, 1);
	CU_ASSERT_TRUE(str_is(v.call_names[0], "f2"));
	CU_ASSERT_EQUAL(v.msgs[1].role, RV_ROLE_FUNCTION);
	/* tool_choice as a string */
	CU_ASSERT_TRUE(chat("{\"tool_choice\":\"auto\",\"messages\":[{\"role\":\"user\","
			    "\"content\":\"x\"}]}") > 0);
	CU_ASSERT_EQUAL(v.tool_choice.len, 6);
}

static void test_unknown_and_escapes(void)
{
	/* U+00E9, U+1F600 from a surrogate pair, quote, backslash, slash */
	static const char want[] = "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\" \\ /";

	CU_ASSERT_EQUAL(chat(valid_chat[4]), (int)strlen(valid_chat[4]));
	CU_ASSERT_EQUAL(v.msgs[0].role, RV_ROLE_DEVELOPER);
	CU_ASSERT_TRUE(str_is(v.msgs[0].text, want));
	CU_ASSERT_FALSE(v.has & RV_HAS_TEMPERATURE);
	CU_ASSERT_EQUAL(v.response_format, RV_FMT_JSON_SCHEMA);
}

static void test_roles(void)
{
	const char *b = "{\"messages\":[{\"role\":\"system\",\"content\":\"a\"},{\"role\":\"developer\","
			"\"content\":\"b\"},{\"role\":\"user\",\"content\":\"c\"},{\"role\":\"assistant\","
			"\"content\":\"d\"},{\"role\":\"tool\",\"content\":\"e\"},{\"role\":\"function\","
			"\"name\":\"f\",\"content\":\"f\"},{\"role\":\"critic\",\"content\":\"g\"},"
			"{\"content\":\"h\"},{\"role\":\"us\\u0065r\",\"content\":\"i\"}]}";
	static const enum rv_role want[] = { RV_ROLE_SYSTEM, RV_ROLE_DEVELOPER, RV_ROLE_USER,
					     RV_ROLE_ASSISTANT, RV_ROLE_TOOL, RV_ROLE_FUNCTION,
					     RV_ROLE_UNKNOWN, RV_ROLE_UNKNOWN, RV_ROLE_USER };
	uint32_t i;

	CU_ASSERT_EQUAL(chat(b), (int)strlen(b));
	CU_ASSERT_EQUAL_FATAL(v.nmsgs, 9);
	for (i = 0; i < 9; i++)
		CU_ASSERT_EQUAL(v.msgs[i].role, want[i]);
	CU_ASSERT_EQUAL(v.nroles[RV_ROLE_USER], 2);
	CU_ASSERT_EQUAL(v.nroles[RV_ROLE_UNKNOWN], 2);
	CU_ASSERT_TRUE(str_is(v.text, "a\nb\nc\nd\ne\nf\ng\nh\ni"));
	CU_ASSERT_STRING_EQUAL(rv_role_name(RV_ROLE_DEVELOPER), "developer");
	CU_ASSERT_STRING_EQUAL(rv_role_name(RV_ROLE_PROMPT), "prompt");
}

static void test_response_formats(void)
{
	static const struct {
		const char *rf;
		enum rv_format want;
	} cases[] = {
		{ "{\"type\":\"text\"}", RV_FMT_TEXT },
		{ "{\"type\":\"json_object\"}", RV_FMT_JSON_OBJECT },
		{ "{\"json_schema\":{\"strict\":true},\"type\":\"json_schema\"}", RV_FMT_JSON_SCHEMA },
		{ "{\"type\":\"yaml\"}", RV_FMT_OTHER },
		{ "{}", RV_FMT_OTHER },
		{ "null", RV_FMT_NONE },
	};
	char b[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(b, sizeof(b),
			 "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":%s}",
			 cases[i].rf);
		CU_ASSERT_EQUAL(chat(b), (int)strlen(b));
		CU_ASSERT_EQUAL(v.response_format, cases[i].want);
	}
}

static void test_completions(void)
{
	CU_ASSERT_EQUAL(compl(valid_compl[0]), (int)strlen(valid_compl[0]));
	CU_ASSERT_EQUAL(v.ep, RV_EP_COMPLETIONS);
	CU_ASSERT_TRUE(v.has & RV_HAS_PROMPT);
	CU_ASSERT_EQUAL(v.nmsgs, 1);
	CU_ASSERT_EQUAL(v.msgs[0].role, RV_ROLE_PROMPT);
	CU_ASSERT_TRUE(str_is(v.text, "Say this is a test"));
	CU_ASSERT_EQUAL(v.max_tokens, 7);
	CU_ASSERT_EQUAL(compl(valid_compl[1]), (int)strlen(valid_compl[1]));
	CU_ASSERT_EQUAL(v.nmsgs, 3);
	CU_ASSERT_EQUAL(v.nroles[RV_ROLE_PROMPT], 3);
	CU_ASSERT_TRUE(str_is(v.msgs[2].text, "three"));
	CU_ASSERT_TRUE(str_is(v.text, "one\ntwo\nthree"));
	CU_ASSERT_EQUAL(compl(valid_compl[2]), (int)strlen(valid_compl[2]));
	CU_ASSERT_EQUAL(v.nmsgs, 0);
	CU_ASSERT_EQUAL(v.nprompt_tokens, 5);
	CU_ASSERT_EQUAL(compl(valid_compl[3]), (int)strlen(valid_compl[3]));
	CU_ASSERT_EQUAL(v.nprompt_tokens, 4);
	/* "messages" means nothing to /v1/completions and "prompt" nothing to chat */
	CU_ASSERT_EQUAL(compl("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"),
			-RV_ERR_MISSING);
	CU_ASSERT_EQUAL(chat("{\"prompt\":\"x\"}"), -RV_ERR_MISSING);
	CU_ASSERT_EQUAL(compl("{\"prompt\":[\"a\",{}]}"), -RV_ERR_BAD_TYPE);
	CU_ASSERT_EQUAL(compl("{\"prompt\":[[1,\"a\"]]}"), -RV_ERR_BAD_TYPE);
	CU_ASSERT_EQUAL(compl("{\"prompt\":5}"), -RV_ERR_BAD_TYPE);
	CU_ASSERT_EQUAL(compl("{\"prompt\":null}"), -RV_ERR_MISSING);
}

static void test_numbers(void)
{
	static const struct {
		const char *t;
		double want;
	} temps[] = {
		{ "0", 0 },	     { "1", 1 },	 { "0.7", 0.7 },     { "-0.5", -0.5 },
		{ "1.5e0", 1.5 },    { "2E-1", 0.2 },	 { "0.00001", 1e-5 }, { "123456789.125", 123456789.125 },
		{ "1e2", 100 },	     { "0.30000000000000004", 0.30000000000000004 },
	};
	char b[256];
	size_t i;

	for (i = 0; i < sizeof(temps) / sizeof(temps[0]); i++) {
		snprintf(b, sizeof(b),
			 "{\"temperature\":%s,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
			 temps[i].t);
		CU_ASSERT_EQUAL(chat(b), (int)strlen(b));
		CU_ASSERT_DOUBLE_EQUAL(v.temperature, temps[i].want, 1e-15 * (1 + temps[i].want));
	}
	CU_ASSERT(chat("{\"seed\":-9223372036854775808,\"max_tokens\":9223372036854775807,"
		       "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}") > 0);
	CU_ASSERT_EQUAL(v.seed, INT64_MIN);
	CU_ASSERT_EQUAL(v.max_tokens, INT64_MAX);
}

struct bad {
	const char *body;
	enum rv_err err;
	uint32_t off; /* where the error is reported */
};

/* Malformed or refused bodies (chat endpoint, default limits). */
static const struct bad bad_chat[] = {
	{ "", RV_ERR_TRUNCATED, 0 },
	{ "   ", RV_ERR_TRUNCATED, 3 },
	{ "x", RV_ERR_SYNTAX, 0 },
	{ "[]", RV_ERR_BAD_TYPE, 0 },
	{ "\"str\"", RV_ERR_BAD_TYPE, 0 },
	{ "{}", RV_ERR_MISSING, 2 },
	{ "{\"messages\":[]}", RV_ERR_MISSING, 15 },
	{ "{\"messages\":null}", RV_ERR_MISSING, 17 },
	{ "{\"messages\":{}}", RV_ERR_BAD_TYPE, 12 },
	{ "{\"messages\":[\"hi\"]}", RV_ERR_BAD_TYPE, 13 },
	{ "{\"messages\":[{\"role\":1}]}", RV_ERR_BAD_TYPE, 21 },
	{ "{\"messages\":[{\"content\":5}]}", RV_ERR_BAD_TYPE, 24 },
	{ "{\"messages\":[{\"content\":[\"t\"]}]}", RV_ERR_BAD_TYPE, 25 },
	{ "{\"messages\":[{\"content\":[{\"type\":\"text\",\"text\":5}]}]}", RV_ERR_BAD_TYPE, 47 },
	{ "{\"messages\":[{\"content\":[{\"type\":7}]}]}", RV_ERR_BAD_TYPE, 33 },
	{ "{\"max_tokens\":1.5,\"messages\":[]}", RV_ERR_BAD_TYPE, 14 },
	{ "{\"max_tokens\":\"10\",\"messages\":[]}", RV_ERR_BAD_TYPE, 14 },
	{ "{\"max_tokens\":1e3,\"messages\":[]}", RV_ERR_BAD_TYPE, 14 },
	{ "{\"max_tokens\":9223372036854775808}", RV_ERR_BAD_TYPE, 14 },
	{ "{\"stream\":\"true\"}", RV_ERR_BAD_TYPE, 10 },
	{ "{\"stream\":1}", RV_ERR_BAD_TYPE, 10 },
	{ "{\"temperature\":\"hot\"}", RV_ERR_BAD_TYPE, 15 },
	{ "{\"temperature\":1e400}", RV_ERR_BAD_TYPE, 15 },
	{ "{\"top_p\":-1e309}", RV_ERR_BAD_TYPE, 9 },
	{ "{\"stop\":5}", RV_ERR_BAD_TYPE, 8 },
	{ "{\"stop\":[\"a\",1]}", RV_ERR_BAD_TYPE, 13 },
	{ "{\"model\":5}", RV_ERR_BAD_TYPE, 9 },
	{ "{\"user\":[]}", RV_ERR_BAD_TYPE, 8 },
	{ "{\"tools\":{}}", RV_ERR_BAD_TYPE, 9 },
	{ "{\"tools\":[1]}", RV_ERR_BAD_TYPE, 10 },
	{ "{\"tools\":[{\"function\":[]}]}", RV_ERR_BAD_TYPE, 22 },
	{ "{\"tools\":[{\"function\":{\"name\":1}}]}", RV_ERR_BAD_TYPE, 30 },
	{ "{\"metadata\":[]}", RV_ERR_BAD_TYPE, 12 },
	{ "{\"response_format\":\"json\"}", RV_ERR_BAD_TYPE, 19 },
	{ "{\"stream_options\":{\"include_usage\":\"y\"}}", RV_ERR_BAD_TYPE, 35 },
	{ "{\"messages\":[{\"tool_calls\":{}}]}", RV_ERR_BAD_TYPE, 27 },
	/* grammar */
	{ "{\"a\":1,}", RV_ERR_SYNTAX, 7 },
	{ "{\"a\" 1}", RV_ERR_SYNTAX, 5 },
	{ "{\"a\":1 \"b\":2}", RV_ERR_SYNTAX, 7 },
	{ "{'a':1}", RV_ERR_SYNTAX, 1 },
	{ "{a:1}", RV_ERR_SYNTAX, 1 },
	{ "{\"a\":01}", RV_ERR_SYNTAX, 6 },
	{ "{\"a\":-}", RV_ERR_SYNTAX, 6 },
	{ "{\"a\":1.}", RV_ERR_SYNTAX, 7 },
	{ "{\"a\":1e}", RV_ERR_SYNTAX, 7 },
	{ "{\"a\":.5}", RV_ERR_SYNTAX, 5 },
	{ "{\"a\":+1}", RV_ERR_SYNTAX, 5 },
	{ "{\"a\":NaN}", RV_ERR_SYNTAX, 5 },
	{ "{\"a\":tru}", RV_ERR_SYNTAX, 5 },
	{ "{\"a\":nul1}", RV_ERR_SYNTAX, 5 },
	{ "{\"a\":[1,]}", RV_ERR_SYNTAX, 8 },
	{ "{\"a\":[1 2]}", RV_ERR_SYNTAX, 8 },
	{ "{\"a\":{\"b\"}}", RV_ERR_SYNTAX, 9 },
	{ "{\"a\":1}}", RV_ERR_SYNTAX, 7 },
	{ "{\"a\":1} x", RV_ERR_SYNTAX, 8 },
	{ "{\"a\":1}{}", RV_ERR_SYNTAX, 7 },
	{ "{\"a\":[}", RV_ERR_SYNTAX, 6 },
	{ "{\"a\":\"x\"]", RV_ERR_SYNTAX, 8 },
	{ "{\"a\":1\x0c}", RV_ERR_SYNTAX, 6 },
	{ "\xef\xbb\xbf{}", RV_ERR_SYNTAX, 0 },
	/* strings */
	{ "{\"a\":\"\x01\"}", RV_ERR_CONTROL_CHAR, 6 },
	{ "{\"a\":\"line\nbreak\"}", RV_ERR_CONTROL_CHAR, 10 },
	{ "{\"a\":\"\\x41\"}", RV_ERR_BAD_ESCAPE, 6 },
	{ "{\"a\":\"\\u12G4\"}", RV_ERR_BAD_ESCAPE, 6 },
	{ "{\"a\":\"\\U0041\"}", RV_ERR_BAD_ESCAPE, 6 },
	{ "{\"a\":\"\\'\"}", RV_ERR_BAD_ESCAPE, 6 },
	/* lone surrogates: high alone, high then a non-surrogate, low alone, two highs */
	{ "{\"a\":\"\\ud83d\"}", RV_ERR_LONE_SURROGATE, 6 },
	{ "{\"a\":\"\\ud83dx\"}", RV_ERR_LONE_SURROGATE, 6 },
	{ "{\"a\":\"\\ud83d\\n\"}", RV_ERR_LONE_SURROGATE, 6 },
	{ "{\"a\":\"\\ud83d\\u0041\"}", RV_ERR_LONE_SURROGATE, 6 },
	{ "{\"a\":\"\\ude00\"}", RV_ERR_LONE_SURROGATE, 6 },
	{ "{\"a\":\"\\ud83d\\ud83d\"}", RV_ERR_LONE_SURROGATE, 6 },
	{ "{\"a\":\"\\ud83d\\uZZZZ\"}", RV_ERR_BAD_ESCAPE, 12 },
	/* invalid UTF-8: stray continuation, overlong 2/3/4-byte, UTF-16 surrogate encoded
	 * in UTF-8, above U+10FFFF, F5+ lead, C0/C1 leads, lead without continuation */
	{ "{\"a\":\"\x80\"}", RV_ERR_BAD_UTF8, 6 },
	{ "{\"a\":\"\xc0\xaf\"}", RV_ERR_BAD_UTF8, 6 },
	{ "{\"a\":\"\xc1\xbf\"}", RV_ERR_BAD_UTF8, 6 },
	{ "{\"a\":\"\xe0\x80\xaf\"}", RV_ERR_BAD_UTF8, 6 },
	{ "{\"a\":\"\xf0\x80\x80\xaf\"}", RV_ERR_BAD_UTF8, 6 },
	{ "{\"a\":\"\xed\xa0\x80\"}", RV_ERR_BAD_UTF8, 6 },
	{ "{\"a\":\"\xed\xbf\xbf\"}", RV_ERR_BAD_UTF8, 6 },
	{ "{\"a\":\"\xf4\x90\x80\x80\"}", RV_ERR_BAD_UTF8, 6 },
	{ "{\"a\":\"\xf5\x80\x80\x80\"}", RV_ERR_BAD_UTF8, 6 },
	{ "{\"a\":\"\xff\"}", RV_ERR_BAD_UTF8, 6 },
	{ "{\"a\":\"\xe2\x82\"}", RV_ERR_BAD_UTF8, 6 },
	{ "{\"a\":\"ok \xe2\x82x\"}", RV_ERR_BAD_UTF8, 9 },
	{ "{\"a\":\"\xc3\"}", RV_ERR_BAD_UTF8, 6 },
	{ "{\"a\":\"\xf0\x9f\x98\"}", RV_ERR_BAD_UTF8, 6 },
	/* invalid UTF-8 in a key and outside strings */
	{ "{\"\xc3\x28\":1}", RV_ERR_BAD_UTF8, 2 },
	{ "{\"a\":1,\xc3\xa9:1}", RV_ERR_SYNTAX, 7 },
	/* duplicates of known keys, also spelled with an escape */
	{ "{\"model\":\"a\",\"model\":\"b\"}", RV_ERR_DUPLICATE_KEY, 13 },
	{ "{\"model\":\"a\",\"mod\\u0065l\":\"b\"}", RV_ERR_DUPLICATE_KEY, 13 },
	{ "{\"stream\":true,\"stream\":null}", RV_ERR_DUPLICATE_KEY, 15 },
	{ "{\"messages\":[{\"role\":\"user\",\"role\":\"system\"}]}", RV_ERR_DUPLICATE_KEY, 28 },
	{ "{\"messages\":[{\"content\":[{\"type\":\"text\",\"type\":\"image_url\"}]}]}",
	  RV_ERR_DUPLICATE_KEY, 40 },
};

static void test_bad_bodies(void)
{
	size_t i;

	for (i = 0; i < sizeof(bad_chat) / sizeof(bad_chat[0]); i++) {
		int rc = chat(bad_chat[i].body);

		CU_ASSERT_EQUAL(rc, -(int)bad_chat[i].err);
		CU_ASSERT_EQUAL(v.err, bad_chat[i].err);
		CU_ASSERT_EQUAL(v.err_off, bad_chat[i].off);
		if (rc != -(int)bad_chat[i].err || v.err_off != bad_chat[i].off)
			fprintf(stderr, "\nbad_chat[%zu]: got %d (%s) at %u\n", i, rc,
				rv_strerror(v.err), v.err_off);
	}
}

static void test_escapes(void)
{
	static const struct {
		const char *esc;
		const char *want;
	} cases[] = {
		{ "\\\"", "\"" },
		{ "\\\\", "\\" },
		{ "\\/", "/" },
		{ "\\b", "\b" },
		{ "\\f", "\f" },
		{ "\\n", "\n" },
		{ "\\r", "\r" },
		{ "\\t", "\t" },
		{ "\\u0041", "A" },
		{ "\\u007f", "\x7f" },
		{ "\\u0080", "\xc2\x80" },
		{ "\\u00E9", "\xc3\xa9" },
		{ "\\u07ff", "\xdf\xbf" },
		{ "\\u0800", "\xe0\xa0\x80" },
		{ "\\u20AC", "\xe2\x82\xac" },
		{ "\\uffff", "\xef\xbf\xbf" },
		{ "\\ud800\\udc00", "\xf0\x90\x80\x80" },
		{ "\\uD83D\\uDE00", "\xf0\x9f\x98\x80" },
		{ "\\udbff\\udfff", "\xf4\x8f\xbf\xbf" },
		{ "a\\u0000b", "a\0b" },
	};
	char b[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t wl = i == sizeof(cases) / sizeof(cases[0]) - 1 ? 3 : strlen(cases[i].want);

		snprintf(b, sizeof(b), "{\"messages\":[{\"role\":\"user\",\"content\":\"<%s>\"}]}",
			 cases[i].esc);
		CU_ASSERT_EQUAL(chat(b), (int)strlen(b));
		CU_ASSERT_EQUAL(v.msgs[0].text.len, wl + 2);
		CU_ASSERT_EQUAL(memcmp(v.msgs[0].text.p + 1, cases[i].want, wl), 0);
	}
	/* valid raw UTF-8 of every length, passed through untouched */
	CU_ASSERT(chat("{\"messages\":[{\"content\":\"\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf"
		       "\xee\x80\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"}]}") > 0);
	CU_ASSERT_EQUAL(v.msgs[0].text.len, 1 + 2 + 2 + 3 + 3 + 3 + 3 + 4 + 4);
	/* short strings with escapes are unescaped too */
	CU_ASSERT(chat("{\"model\":\"gpt\\u002d4\",\"user\":\"a\\tb\",\"messages\":[{\"role\":"
		       "\"user\",\"name\":\"\\u00e9\",\"content\":\"x\"}]}") > 0);
	CU_ASSERT_TRUE(str_is(v.model, "gpt-4"));
	CU_ASSERT_TRUE(str_is(v.user, "a\tb"));
	CU_ASSERT_TRUE(str_is(v.msgs[0].name, "\xc3\xa9"));
	CU_ASSERT_TRUE(str_is(v.text, "x"));
	/* the span still covers the raw value */
	CU_ASSERT_EQUAL(v.model_span.off, 9);
	CU_ASSERT_EQUAL(v.model_span.len, 12);
}

/* UTF-8 sequences for the position sweep; bad_at: offset of the byte reported. */
static const struct {
	const char *seq;
	enum rv_err err;
	size_t bad_at;
} utf8_cases[] = {
	/* valid: every length, the edges of each range */
	{ "\xc2\x80", RV_OK, 0 },
	{ "\xdf\xbf", RV_OK, 0 },
	{ "\xc3\xa9", RV_OK, 0 },
	{ "\xe0\xa0\x80", RV_OK, 0 },
	{ "\xe2\x82\xac", RV_OK, 0 },
	{ "\xed\x9f\xbf", RV_OK, 0 },
	{ "\xee\x80\x80", RV_OK, 0 },
	{ "\xef\xbf\xbf", RV_OK, 0 },
	{ "\xf0\x90\x80\x80", RV_OK, 0 },
	{ "\xf0\x9f\x98\x80", RV_OK, 0 },
	{ "\xf4\x8f\xbf\xbf", RV_OK, 0 },
	/* stray continuations, extra continuations */
	{ "\x80", RV_ERR_BAD_UTF8, 0 },
	{ "\xbf", RV_ERR_BAD_UTF8, 0 },
	{ "\xc3\xa9\xa9", RV_ERR_BAD_UTF8, 2 },
	{ "\xe2\x82\xac\x80", RV_ERR_BAD_UTF8, 3 },
	{ "\xf0\x9f\x98\x80\x80", RV_ERR_BAD_UTF8, 4 },
	/* overlong 2, 3, 4 bytes */
	{ "\xc0\xaf", RV_ERR_BAD_UTF8, 0 },
	{ "\xc1\xbf", RV_ERR_BAD_UTF8, 0 },
	{ "\xe0\x80\xaf", RV_ERR_BAD_UTF8, 0 },
	{ "\xe0\x9f\xbf", RV_ERR_BAD_UTF8, 0 },
	{ "\xf0\x80\x80\xaf", RV_ERR_BAD_UTF8, 0 },
	{ "\xf0\x8f\xbf\xbf", RV_ERR_BAD_UTF8, 0 },
	/* UTF-16 surrogates encoded in UTF-8 */
	{ "\xed\xa0\x80", RV_ERR_BAD_UTF8, 0 },
	{ "\xed\xbf\xbf", RV_ERR_BAD_UTF8, 0 },
	/* above U+10FFFF, 5-byte forms, bytes never in UTF-8 */
	{ "\xf4\x90\x80\x80", RV_ERR_BAD_UTF8, 0 },
	{ "\xf5\x80\x80\x80", RV_ERR_BAD_UTF8, 0 },
	{ "\xf7\xbf\xbf\xbf", RV_ERR_BAD_UTF8, 0 },
	{ "\xf8\x88\x80\x80\x80", RV_ERR_BAD_UTF8, 0 },
	{ "\xfe", RV_ERR_BAD_UTF8, 0 },
	{ "\xff", RV_ERR_BAD_UTF8, 0 },
	/* a lead without its continuations, before ASCII, a lead, or the closing quote */
	{ "\xc3" "a", RV_ERR_BAD_UTF8, 0 },
	{ "\xe2\x82" "a", RV_ERR_BAD_UTF8, 0 },
	{ "\xf0\x9f\x98" "a", RV_ERR_BAD_UTF8, 0 },
	{ "\xc3\xc3\xa9", RV_ERR_BAD_UTF8, 0 },
	{ "\xe2\xe2\x82\xac", RV_ERR_BAD_UTF8, 0 },
	{ "\xf0\x9f\x98", RV_ERR_BAD_UTF8, 0 },
	{ "\xe2", RV_ERR_BAD_UTF8, 0 },
};

/*
 * Each sequence at every offset of a long string (so the vector check sees it in
 * every lane and across block edges), in text that is copied (content), skipped
 * (an unknown field) and in a short string (name), after ASCII or after CJK: the
 * same verdict and the same offset as the byte-wise decoder gives.
 */
static void test_utf8_every_position(void)
{
	static const char cjk3[] = "\xe4\xb8\xad";
	static const char *const fields[] = { "content", "x", "name" };
	char body[512], want[256];
	size_t c, f, off, ctx;

	for (c = 0; c < sizeof(utf8_cases) / sizeof(utf8_cases[0]); c++) {
		for (f = 0; f < 3; f++) {
			for (ctx = 0; ctx < 2; ctx++) {
				for (off = 0; off < 70; off++) {
					size_t n, pre, start, wl = 0, i;
					int rc;

					n = (size_t)sprintf(body, "{\"messages\":[{\"%s\":\"", fields[f]);
					start = n;
					/* padding: off bytes of ASCII, or of CJK then ASCII */
					for (i = 0; ctx == 1 && i + 3 <= off; i += 3) {
						memcpy(body + n, cjk3, 3);
						memcpy(want + wl, cjk3, 3);
						n += 3;
						wl += 3;
					}
					for (; i < off; i++) {
						body[n++] = 'a';
						want[wl++] = 'a';
					}
					pre = n;
					n += (size_t)sprintf(body + n, "%s", utf8_cases[c].seq);
					memcpy(want + wl, utf8_cases[c].seq, n - pre);
					wl += n - pre;
					for (i = 0; i < 40; i++) {
						body[n++] = 'b';
						want[wl++] = 'b';
					}
					n += (size_t)sprintf(body + n, "\"}]}");
					rc = parse_n(&dflt, RV_EP_CHAT, body, n);
					if (utf8_cases[c].err == RV_OK) {
						CU_ASSERT_EQUAL(rc, (int)n);
						CU_ASSERT_TRUE(f != 0 || (v.text.len == wl &&
								   memcmp(v.text.p, want, wl) == 0));
						CU_ASSERT_TRUE(f != 2 || (v.msgs[0].name.len == wl &&
								   memcmp(v.msgs[0].name.p, want, wl) == 0));
					} else {
						CU_ASSERT_EQUAL(rc, -(int)utf8_cases[c].err);
						CU_ASSERT_EQUAL(v.err_off, pre + utf8_cases[c].bad_at);
						if (v.err_off != pre + utf8_cases[c].bad_at)
							fprintf(stderr, "\ncase %zu field %zu ctx %zu off %zu: "
								"%d at %u, want %zu\n", c, f, ctx, off, rc,
								v.err_off, pre + utf8_cases[c].bad_at);
					}
					(void)start;
				}
			}
		}
	}
}

/* Reference: offset of the first byte not starting a well-formed sequence, or n. */
static size_t ref_first_bad(const uint8_t *b, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = b[i], lo = 0x80, hi = 0xBF;
		size_t len, j;

		if (c < 0x80) {
			i++;
			continue;
		}
		len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
		      : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
		if (len == 0)
			return i;
		lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
		hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
		for (j = 1; j < len; j++)
			if (i + j >= n || (j == 1 ? b[i + 1] < lo || b[i + 1] > hi
						  : (b[i + j] & 0xC0) != 0x80))
				return i;
		i += len;
	}
	return n;
}

/*
 * 20000 pseudo-random strings of ASCII, valid sequences and now and then a random
 * high byte, in content: the parser's verdict and offset must match the reference
 * decoder (deterministic xorshift, so a failure reproduces).
 */
static void test_utf8_random(void)
{
	static const char *const pieces[] = { "a", "bc", " ", "\xc3\xa9", "\xe4\xb8\xad",
					      "\xf0\x9f\x98\x80", "\xed\x9f\xbf", "\xf4\x8f\xbf\xbf",
					      "\xe0\xa0\x80", "\xdf\xbf" };
	uint64_t x = 0x9E3779B97F4A7C15ull;
	char body[1024];
	int it;

	for (it = 0; it < 20000; it++) {
		size_t n = (size_t)sprintf(body, "{\"messages\":[{\"content\":\""), start = n;
		size_t want_bad, len;
		int parts, k, rc;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		parts = (int)(x % 120);
		for (k = 0; k < parts; k++) {
			uint32_t r;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			r = (uint32_t)(x >> 32);
			if (r % 61 == 0) {
				body[n++] = (char)(0x80 | (r >> 8 & 0x7F));
			} else {
				const char *pc = pieces[r % 10];

				memcpy(body + n, pc, strlen(pc));
				n += strlen(pc);
			}
		}
		len = n - start;
		want_bad = ref_first_bad((const uint8_t *)body + start, len);
		n += (size_t)sprintf(body + n, "\"}]}");
		rc = parse_n(&dflt, RV_EP_CHAT, body, n);
		if (want_bad == len) {
			CU_ASSERT_EQUAL(rc, (int)n);
			CU_ASSERT_TRUE(v.text.len == len && memcmp(v.text.p, body + start, len) == 0);
		} else {
			CU_ASSERT_EQUAL(rc, -RV_ERR_BAD_UTF8);
			CU_ASSERT_EQUAL(v.err_off, start + want_bad);
		}
	}
}

/*
 * Every strict prefix of a valid body that stops before its final '}' is TRUNCATED,
 * and never reads past its end (guard page).
 */
static void sweep(enum rv_endpoint ep, const char *b)
{
	size_t n = strlen(b), last = n, cut;

	while (last > 0 && b[last - 1] != '}')
		last--;
	for (cut = 0; cut < last; cut++) {
		int rc = parse_n(&dflt, ep, b, cut);

		CU_ASSERT_EQUAL(rc, -RV_ERR_TRUNCATED);
		if (rc != -RV_ERR_TRUNCATED)
			fprintf(stderr, "\ncut %zu of '%s': %s\n", cut, b, rv_strerror(v.err));
	}
	for (cut = last; cut <= n; cut++)
		CU_ASSERT_EQUAL(parse_n(&dflt, ep, b, cut), (int)cut);
}

static void test_truncation_everywhere(void)
{
	size_t i;

	for (i = 0; i < sizeof(valid_chat) / sizeof(valid_chat[0]); i++)
		sweep(RV_EP_CHAT, valid_chat[i]);
	for (i = 0; i < sizeof(valid_compl) / sizeof(valid_compl[0]); i++)
		sweep(RV_EP_COMPLETIONS, valid_compl[i]);
	/* long non-ASCII strings: cuts inside sequences seen by the vector check */
	sweep(RV_EP_CHAT, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\""
			  "\xe4\xbb\x8a\xe6\x97\xa5\xe3\x81\xaf\xe3\x81\x84\xe3\x81\x84\xe5\xa4\xa9"
			  "\xe6\xb0\x97\xe3\x81\xa7\xe3\x81\x99\xe3\x81\xad\xe3\x80\x82 caf\xc3\xa9 "
			  "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80 \xe6\x95\xa3\xe6\xad\xa9"
			  "\xe3\x81\xab\xe8\xa1\x8c\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x97\xe3\x82\x87\"},"
			  "{\"role\":\"assistant\",\"x\":\"\xe3\x81\x86\xe3\x81\x8b\xef\xbc\x9f\xe3\x81"
			  "\x86\xe3\x81\x8b\xef\xbc\x9f\xe3\x81\x86\xe3\x81\x8b\xef\xbc\x9f\xe3\x81\x86"
			  "\xe3\x81\x8b\xef\xbc\x9f\"}]}");
	/* mid-escape and mid-UTF-8 cuts inside a string */
	sweep(RV_EP_CHAT, "{\"messages\":[{\"content\":\"\\ud83d\\ude00 \\u00e9 \xf0\x9f\x98\x80 "
			  "\xe2\x82\xac\"}]}");
}

/* Malformed bodies cut at every offset: an error (any), never a crash or overread. */
static void test_bad_truncated(void)
{
	size_t i, cut;

	for (i = 0; i < sizeof(bad_chat) / sizeof(bad_chat[0]); i++) {
		size_t n = strlen(bad_chat[i].body);

		for (cut = 0; cut < n; cut++)
			CU_ASSERT(parse_n(&dflt, RV_EP_CHAT, bad_chat[i].body, cut) < 0);
	}
}

static char *nest(size_t levels, const char *open, const char *close)
{
	size_t ol = strlen(open), cl = strlen(close);
	char *b = malloc(64 + levels * (ol + cl));
	size_t n = 0, i;

	if (b == NULL)
		return NULL;
	n += (size_t)sprintf(b, "{\"messages\":[{\"content\":\"x\"}],\"deep\":");
	for (i = 0; i < levels; i++, n += ol)
		memcpy(b + n, open, ol);
	b[n++] = '1';
	for (i = 0; i < levels; i++, n += cl)
		memcpy(b + n, close, cl);
	b[n++] = '}';
	b[n] = '\0';
	return b;
}

static void test_depth(void)
{
	char *b;

	/* small: max_depth 8; the body object is level 1, so 7 arrays fit */
	b = nest(7, "[", "]");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(parse_n(&small, RV_EP_CHAT, b, strlen(b)), (int)strlen(b));
	free(b);
	b = nest(8, "[", "]");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(parse_n(&small, RV_EP_CHAT, b, strlen(b)), -RV_ERR_DEPTH);
	CU_ASSERT_EQUAL(v.err_off, 44); /* the 8th '[' */
	free(b);
	b = nest(7, "{\"k\":", "}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(parse_n(&small, RV_EP_CHAT, b, strlen(b)), (int)strlen(b));
	free(b);
	b = nest(8, "{\"k\":", "}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(parse_n(&small, RV_EP_CHAT, b, strlen(b)), -RV_ERR_DEPTH);
	free(b);
	/* default 32, and far past it (no recursion: must not blow the stack) */
	b = nest(31, "[", "]");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(chat(b), (int)strlen(b));
	free(b);
	b = nest(32, "[", "]");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(chat(b), -RV_ERR_DEPTH);
	free(b);
	b = nest(500000, "[", "]");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(chat(b), -RV_ERR_DEPTH);
	free(b);
	/* the known structure counts too: content part objects sit at level 5 */
	{
		static const char ok[] = "{\"messages\":[{\"content\":[{\"type\":\"image_url\","
					 "\"image_url\":{\"u\":{\"v\":[1]}}}]}]}";
		static const char deep[] = "{\"messages\":[{\"content\":[{\"type\":\"image_url\","
					   "\"image_url\":{\"u\":{\"v\":[[1]]}}}]}]}";

		CU_ASSERT_EQUAL(parse_n(&small, RV_EP_CHAT, ok, sizeof(ok) - 1), (int)sizeof(ok) - 1);
		CU_ASSERT_EQUAL(parse_n(&small, RV_EP_CHAT, deep, sizeof(deep) - 1), -RV_ERR_DEPTH);
	}
}

static void test_limits(void)
{
	char *b = malloc(8192);
	size_t n;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	/* 3 messages fit, 4 do not */
	strcpy(b, "{\"messages\":[{},{},{}]}");
	CU_ASSERT(parse_n(&small, RV_EP_CHAT, b, strlen(b)) > 0);
	strcpy(b, "{\"messages\":[{},{},{},{}]}");
	CU_ASSERT_EQUAL(parse_n(&small, RV_EP_CHAT, b, strlen(b)), -RV_ERR_TOO_MANY_MESSAGES);
	CU_ASSERT_EQUAL(v.err_off, 22);
	strcpy(b, "{\"prompt\":[\"a\",\"b\",\"c\",\"d\"]}");
	CU_ASSERT_EQUAL(parse_n(&small, RV_EP_COMPLETIONS, b, strlen(b)),
			-RV_ERR_TOO_MANY_MESSAGES);
	/* 2 parts fit, 3 do not */
	strcpy(b, "{\"messages\":[{\"content\":[{},{}]}]}");
	CU_ASSERT(parse_n(&small, RV_EP_CHAT, b, strlen(b)) > 0);
	strcpy(b, "{\"messages\":[{\"content\":[{},{},{}]}]}");
	CU_ASSERT_EQUAL(parse_n(&small, RV_EP_CHAT, b, strlen(b)), -RV_ERR_TOO_MANY_PARTS);
	CU_ASSERT_EQUAL(v.err_off, 31);
	/* 2 tools fit, 3 do not; tool calls count over all messages */
	strcpy(b, "{\"tools\":[{},{}],\"messages\":[{}]}");
	CU_ASSERT(parse_n(&small, RV_EP_CHAT, b, strlen(b)) > 0);
	strcpy(b, "{\"tools\":[{},{},{}],\"messages\":[{}]}");
	CU_ASSERT_EQUAL(parse_n(&small, RV_EP_CHAT, b, strlen(b)), -RV_ERR_TOO_MANY_TOOLS);
	strcpy(b, "{\"messages\":[{\"tool_calls\":[{}]},{\"tool_calls\":[{},{}]}]}");
	CU_ASSERT_EQUAL(parse_n(&small, RV_EP_CHAT, b, strlen(b)), -RV_ERR_TOO_MANY_TOOLS);
	/* text: exactly max_text bytes of text fit (two messages: 511 + '\n' + 512) */
	n = (size_t)sprintf(b, "{\"messages\":[{\"content\":\"");
	memset(b + n, 'a', 511);
	n += 511;
	n += (size_t)sprintf(b + n, "\"},{\"content\":\"");
	memset(b + n, 'b', 512);
	n += 512;
	n += (size_t)sprintf(b + n, "\"}]}");
	CU_ASSERT_EQUAL(parse_n(&small, RV_EP_CHAT, b, n), (int)n);
	CU_ASSERT_EQUAL(v.text.len, 1024);
	CU_ASSERT_EQUAL(v.msgs[1].text.len, 512);
	CU_ASSERT_EQUAL(v.msgs[1].text.p[0], 'b');
	/* one more byte does not */
	n = (size_t)sprintf(b, "{\"messages\":[{\"content\":\"");
	memset(b + n, 'a', 1025);
	n += 1025;
	n += (size_t)sprintf(b + n, "\"}]}");
	CU_ASSERT_EQUAL(parse_n(&small, RV_EP_CHAT, b, n), -RV_ERR_TEXT_TOO_LARGE);
	/* escaped text counts unescaped: 1024 "\n" escapes are 1024 bytes */
	n = (size_t)sprintf(b, "{\"messages\":[{\"content\":\"");
	for (i = 0; i < 1024; i++, n += 2)
		memcpy(b + n, "\\n", 2);
	n += (size_t)sprintf(b + n, "\"}]}");
	CU_ASSERT_EQUAL(parse_n(&small, RV_EP_CHAT, b, n), (int)n);
	CU_ASSERT_EQUAL(v.text.len, 1024);
	/* the body limit is checked first, whatever the bytes */
	memset(b, 'x', 4097);
	CU_ASSERT_EQUAL(parse_n(&small, RV_EP_CHAT, b, 4097), -RV_ERR_BODY_TOO_LARGE);
	CU_ASSERT_EQUAL(v.err_off, 4096);
	free(b);
}

static void test_huge_string(void)
{
	/* a 3 MiB string: past the default 1 MiB text limit and body limit */
	size_t n = 3u << 20, i;
	char *b = malloc(n + 64);
	struct rv_limits lim = { .max_body = 4u << 20, .max_depth = 32, .max_messages = 4,
				 .max_text = 1u << 20, .max_parts = 4, .max_tools = 4 };
	struct rv_ctx big;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	i = (size_t)sprintf(b, "{\"messages\":[{\"content\":\"");
	memset(b + i, 'z', n - i - 4);
	memcpy(b + n - 4, "\"}]}", 4);
	CU_ASSERT_EQUAL(parse_n(&dflt, RV_EP_CHAT, b, n), -RV_ERR_BODY_TOO_LARGE);
	CU_ASSERT_EQUAL_FATAL(rv_ctx_init(&big, &lim), 0);
	CU_ASSERT_EQUAL(parse_n(&big, RV_EP_CHAT, b, n), -RV_ERR_TEXT_TOO_LARGE);
	/* the same string in an unknown field is only validated, never copied */
	i = (size_t)sprintf(b, "{\"messages\":[{\"content\":\"x\",\"junk\":\"");
	memset(b + i, 'z', n - i - 4);
	CU_ASSERT_EQUAL(parse_n(&big, RV_EP_CHAT, b, n), (int)n);
	rv_ctx_fini(&big);
	rv_ctx_fini(&big); /* idempotent */
	free(b);
}

static void test_ctx_and_config(void)
{
	struct rv_limits lim = small_lim;
	struct rv_ctx c;
	struct tsconf *tc = tsconf_create();
	char err[TSCONF_ERR_MAX];
	static const char conf[] = "[request]\nmax_body = 64K\nmax_messages = 10\n";

	CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
	lim.max_depth = RV_DEPTH_HARD_MAX + 1;
	CU_ASSERT_EQUAL(rv_ctx_init(&c, &lim), -EINVAL);
	lim = small_lim;
	lim.max_parts = 0;
	CU_ASSERT_EQUAL(rv_ctx_init(&c, &lim), -EINVAL);
	/* the defaults are production values and rv_ctx_init accepts them */
	CU_ASSERT_EQUAL(rv_conf_register(tc, &lim, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(lim.max_body, 1u << 20);
	CU_ASSERT_EQUAL(lim.max_depth, 32);
	CU_ASSERT_EQUAL(lim.max_messages, 1024);
	CU_ASSERT_EQUAL(lim.max_text, 1u << 20);
	CU_ASSERT_EQUAL(lim.max_parts, 64);
	CU_ASSERT_EQUAL(lim.max_tools, 128);
	CU_ASSERT_EQUAL(rv_ctx_init(&c, &lim), 0);
	rv_ctx_fini(&c);
	CU_ASSERT_EQUAL(tsconf_load_buf(tc, "r.conf", conf, sizeof(conf) - 1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(lim.max_body, 65536);
	CU_ASSERT_EQUAL(lim.max_messages, 10);
	CU_ASSERT_EQUAL(lim.max_depth, 32);
	/* every bound of the table is accepted by rv_ctx_init, one past it refused */
	{
		static const char lo[] = "[request]\nmax_body=1K\nmax_depth=8\nmax_messages=1\n"
					 "max_text=1K\nmax_parts=1\nmax_tools=1\n";
		static const char hi[] = "[request]\nmax_body=1G\nmax_depth=1024\n"
					 "max_messages=1048576\nmax_text=1K\nmax_parts=65535\n"
					 "max_tools=65535\n";

		CU_ASSERT_EQUAL(tsconf_load_buf(tc, "r", lo, sizeof(lo) - 1, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(rv_ctx_init(&c, &lim), 0);
		rv_ctx_fini(&c);
		CU_ASSERT_EQUAL(tsconf_load_buf(tc, "r", hi, sizeof(hi) - 1, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(rv_ctx_init(&c, &lim), 0);
		rv_ctx_fini(&c);
	}
	CU_ASSERT_EQUAL(tsconf_load_buf(tc, "r", "[request]\nmax_depth=7\n", 22, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "r:2: value '7' for 'max_depth' out of range [8, 1024]");
	tsconf_destroy(tc);
}

/* Whole file into a NUL-terminated malloc'd buffer, or NULL. */
static char *slurp(const char *path)
{
	char *buf;
	size_t len;

	return tsfile_read(path, 1u << 20, &buf, &len, NULL, 0) == 0 ? buf : NULL;
}

/* Text of tsconf_print_help(fmt) for the [request] table. */
static char *help_text(struct tsconf *tc, enum tsconf_help fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	tsconf_print_help(tc, fmt, f);
	fclose(f);
	return buf;
}

/*
 * The shipped conf/twospeed.conf and conf/README.md carry the generated [request]
 * text unchanged, and its [request] section loads to the production defaults.
 */
static void test_shipped_conf(void)
{
	struct tsconf *tc = tsconf_create();
	struct rv_limits lim;
	char err[TSCONF_ERR_MAX];
	char *conf = slurp(RV_CONF_DIR "/twospeed.conf");
	char *readme = slurp(RV_CONF_DIR "/README.md");
	char *gen_conf, *gen_md;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(readme);
	CU_ASSERT_EQUAL_FATAL(rv_conf_register(tc, &lim, err, sizeof(err)), 0);
	gen_conf = help_text(tc, TSCONF_HELP_CONF);
	gen_md = help_text(tc, TSCONF_HELP_MD);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gen_conf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gen_md);
	CU_ASSERT_PTR_NOT_NULL(strstr(conf, gen_conf));
	CU_ASSERT_PTR_NOT_NULL(strstr(readme, gen_md));
	/*
	 * The file holds other modules' sections too, which only the whole appliance
	 * registers: load the [request] section alone (up to the next header).
	 */
	{
		const char *sec = strstr(conf, "\n[request]\n");
		const char *next;

		CU_ASSERT_PTR_NOT_NULL_FATAL(sec);
		next = strstr(sec + 1, "\n[");
		lim.max_body = 0;
		CU_ASSERT_EQUAL(tsconf_load_buf(tc, "twospeed.conf", sec,
						next != NULL ? (size_t)(next - sec) : strlen(sec), err,
						sizeof(err)), 0);
		CU_ASSERT_EQUAL(lim.max_body, 1u << 20);
		CU_ASSERT_EQUAL(lim.max_tools, 128);
	}
	free(gen_md);
	free(gen_conf);
	free(readme);
	free(conf);
	tsconf_destroy(tc);
}

static void test_strerror(void)
{
	int e;

	for (e = 0; e < RV_ERR_COUNT; e++) {
		CU_ASSERT_PTR_NOT_NULL(rv_strerror((enum rv_err)e));
		CU_ASSERT(strlen(rv_strerror((enum rv_err)e)) > 0);
	}
	CU_ASSERT_STRING_EQUAL(rv_strerror(RV_ERR_BAD_UTF8),
			       "request body contains invalid UTF-8 in a string");
	CU_ASSERT_STRING_EQUAL(rv_strerror((enum rv_err)999), "unknown request error");
	/* no body at all is a body that ended before the first byte */
	CU_ASSERT_EQUAL(rv_parse(&dflt, RV_EP_CHAT, NULL, 0, &v), -RV_ERR_TRUNCATED);
	CU_ASSERT_EQUAL(v.err_off, 0);
}

/* The same parser built without AVX-512 and without AVX (rv_ref_*.c). */
int rv_parse_avx2(struct rv_ctx *ctx, enum rv_endpoint ep, const char *body, size_t len,
		  struct rv_view *out);
int rv_parse_sse2(struct rv_ctx *ctx, enum rv_endpoint ep, const char *body, size_t len,
		  struct rv_view *out);

/* Contexts of the reference parsers, with the limits of dflt and small. */
static struct rv_ctx ref_dflt[2], ref_small[2];

/* Counts bodies on which the builds disagreed; the first few are printed. */
static unsigned ndiffer;

/*
 * Parses body[0..n) (placed against the guard page) with the build under test and
 * both references, default and tight limits; returns the result of the build under
 * test (default limits) and leaves its view in v.
 */
static int parse3(enum rv_endpoint ep, const char *b, size_t n)
{
	static struct rv_view va, vb;
	const char *g = guarded(b, n);
	int r, ra, rb, k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	for (k = 1; k >= 0; k--) {
		struct rv_ctx *c = k ? &small : &dflt, *refs = k ? ref_small : ref_dflt;

		r = rv_parse(c, ep, g, n, &v);
		ra = rv_parse_avx2(&refs[0], ep, g, n, &va);
		rb = rv_parse_sse2(&refs[1], ep, g, n, &vb);
		CU_ASSERT_TRUE(same_view(r, &v, c, ra, &va, &refs[0], g, n));
		CU_ASSERT_TRUE(same_view(r, &v, c, rb, &vb, &refs[1], g, n));
		if ((!same_view(r, &v, c, ra, &va, &refs[0], g, n) ||
		     !same_view(r, &v, c, rb, &vb, &refs[1], g, n)) && ndiffer++ < 5)
			fprintf(stderr, "\n%s limits: %d/%s@%u avx2 %d/%s@%u sse2 %d/%s@%u: %.*s\n",
				k ? "tight" : "default", r, rv_err_name(v.err), v.err_off, ra,
				rv_err_name(va.err), va.err_off, rb, rv_err_name(vb.err),
				vb.err_off, (int)(n < 400 ? n : 400), b);
	}
	return r;
}

/*
 * Messages that start with the compact head '{"role":"<r>","content":' (read in one
 * compare) give the same view as the same message with a space after the ':' (read
 * member by member), for every role, near misses of the head, and what may follow it.
 */
static void test_message_heads(void)
{
	static const struct {
		const char *msg; /* a message in compact JSON; '@' marks where a space goes */
		enum rv_role role;
		int err;	  /* 0 or the error */
		const char *text;
	} cases[] = {
		{ "{\"role\":\"user\",\"content\":@\"hello there, this is a long one\"}",
		  RV_ROLE_USER, 0, "hello there, this is a long one" },
		{ "{\"role\":\"assistant\",\"content\":@\"sure\\nhere\"}", RV_ROLE_ASSISTANT, 0,
		  "sure\nhere" },
		{ "{\"role\":\"system\",\"content\":@\"be terse and kind to everyone\"}",
		  RV_ROLE_SYSTEM, 0, "be terse and kind to everyone" },
		{ "{\"role\":\"developer\",\"content\":@\"rules and more rules\"}",
		  RV_ROLE_DEVELOPER, 0, "rules and more rules" },
		{ "{\"role\":\"tool\",\"content\":@\"42 degrees in the shade\",\"tool_call_id\":\"c\"}",
		  RV_ROLE_TOOL, 0, "42 degrees in the shade" },
		/* near misses: read member by member either way */
		{ "{\"role\":\"users\",\"content\":@\"hello there, this is a long one\"}",
		  RV_ROLE_UNKNOWN, 0, "hello there, this is a long one" },
		{ "{\"role\":\"usex\",\"content\":@\"hello there, this is a long one\"}",
		  RV_ROLE_UNKNOWN, 0, "hello there, this is a long one" },
		{ "{\"role\":\"function\",\"content\":@\"hello there, this is a long one\"}",
		  RV_ROLE_FUNCTION, 0, "hello there, this is a long one" },
		{ "{\"role\":\"user\",\"contents\":@\"hello there, this is a long one\"}",
		  RV_ROLE_USER, 0, "" },
		/* what follows the head */
		{ "{\"role\":\"user\",\"content\":@null,\"name\":\"some-name-to-be-long\"}",
		  RV_ROLE_USER, 0, "" },
		{ "{\"role\":\"user\",\"content\":@[{\"type\":\"text\",\"text\":\"part\"}]}",
		  RV_ROLE_USER, 0, "part" },
		{ "{\"role\":\"user\",\"content\":@42,\"name\":\"some-name-to-be-long\"}",
		  RV_ROLE_USER, RV_ERR_BAD_TYPE, "" },
		{ "{\"role\":\"user\",\"content\":@nul,\"name\":\"some-name-to-be-long\"}",
		  RV_ROLE_USER, RV_ERR_SYNTAX, "" },
		{ "{\"role\":\"user\",\"content\":@\"a\",\"role\":\"assistant and more\"}",
		  RV_ROLE_USER, RV_ERR_DUPLICATE_KEY, "" },
		{ "{\"role\":\"user\",\"content\":@\"a\",\"content\":\"again and again\"}",
		  RV_ROLE_USER, RV_ERR_DUPLICATE_KEY, "" },
	};
	char b[512];
	size_t i, sp;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (sp = 0; sp < 2; sp++) {
			const char *at = strchr(cases[i].msg, '@');
			size_t n = (size_t)sprintf(b, "{\"messages\":[%.*s%s%s]}",
						   (int)(at - cases[i].msg), cases[i].msg,
						   sp ? " " : "", at + 1);
			int rc = parse3(RV_EP_CHAT, b, n);

			if (cases[i].err != 0) {
				CU_ASSERT_EQUAL(rc, -cases[i].err);
			} else {
				CU_ASSERT_EQUAL(rc, (int)n);
				CU_ASSERT_EQUAL(v.nmsgs, 1);
				CU_ASSERT_EQUAL(v.msgs[0].role, cases[i].role);
				CU_ASSERT_TRUE(str_is(v.text, cases[i].text));
			}
		}
	}
	/* the duplicate is reported at the second key, with or without the head */
	CU_ASSERT_EQUAL(chat("{\"messages\":[{\"role\":\"user\",\"content\":\"a\",\"role\":\"x"
			     "xxxxxxxxxxxxxxxxxxxxxx\"}]}"), -RV_ERR_DUPLICATE_KEY);
	CU_ASSERT_EQUAL(v.err_off, 42);
	/* a head cut short by the end of the body */
	CU_ASSERT_EQUAL(chat("{\"messages\":[{\"role\":\"user\",\"content\":"), -RV_ERR_TRUNCATED);
}

/* Escapes (one-letter, \u, pairs, runs of backslashes) and what they stand for. */
static const struct {
	const char *esc;
	const char *want;
	size_t wlen;
} esc_cases[] = {
	{ "\\n", "\n", 1 },
	{ "\\\"", "\"", 1 },
	{ "\\\\", "\\", 1 },
	{ "\\/", "/", 1 },
	{ "\\b\\f\\r\\t", "\b\f\r\t", 4 },
	{ "\\\\\\\\\\\"", "\\\\\"", 3 },
	{ "\\\\\\n", "\\\n", 2 },
	{ "\\\\\\\\", "\\\\", 2 },
	{ "\\u00e9", "\xc3\xa9", 2 },
	{ "\\u0000", "", 1 },
	{ "\\uD83D\\uDE00", "\xf0\x9f\x98\x80", 4 },
	{ "\\\\u0041", "\\u0041", 6 },
	{ "\\n\\n\\n\\n\\n\\n\\n\\n", "\n\n\n\n\n\n\n\n", 8 },
};

/*
 * Each escape at every offset 0..140 of a string (so it sits in every lane of a
 * 64-byte block and across the edges of two), after ASCII or CJK padding, in content
 * (copied), an unknown field (skipped) and a name (short string): every build gives
 * the same view, and the copied text is the unescaped string.
 */
static void test_escapes_every_position(void)
{
	static const char cjk3[] = "\xe4\xb8\xad";
	static const char *const fields[] = { "content", "x", "name" };
	char body[512], want[256];
	size_t c, f, off, pad;

	for (c = 0; c < sizeof(esc_cases) / sizeof(esc_cases[0]); c++) {
		for (f = 0; f < 3; f++) {
			for (pad = 0; pad < 2; pad++) {
				for (off = 0; off <= 140; off++) {
					size_t n, wl = 0, i;

					n = (size_t)sprintf(body, "{\"messages\":[{\"%s\":\"",
							    fields[f]);
					for (i = 0; pad == 1 && i + 3 <= off; i += 3) {
						memcpy(body + n, cjk3, 3);
						memcpy(want + wl, cjk3, 3);
						n += 3;
						wl += 3;
					}
					for (; i < off; i++) {
						body[n++] = 'a';
						want[wl++] = 'a';
					}
					n += (size_t)sprintf(body + n, "%s", esc_cases[c].esc);
					memcpy(want + wl, esc_cases[c].want, esc_cases[c].wlen);
					wl += esc_cases[c].wlen;
					for (i = 0; i < 70; i++) {
						body[n++] = 'b';
						want[wl++] = 'b';
					}
					n += (size_t)sprintf(body + n, "\"}]}");
					CU_ASSERT_EQUAL(parse3(RV_EP_CHAT, body, n), (int)n);
					CU_ASSERT_TRUE(f != 0 || (v.text.len == wl &&
						       memcmp(v.text.p, want, wl) == 0));
					CU_ASSERT_TRUE(f != 2 || (v.msgs[0].name.len == wl &&
						       memcmp(v.msgs[0].name.p, want, wl) == 0));
				}
			}
		}
	}
}

/* Bad escapes, controls and bad UTF-8 at every offset: the same error and offset. */
static void test_bad_string_every_position(void)
{
	static const char *const bad[] = {
		"\\x", "\\u12G4", "\\ud800x", "\\udc00", "\\ud83d\\u0041", "\x01", "\x1f",
		"\\\x01", "\xff", "\xc3\x61", "\xc3\\n", "\xe2\x82\\\"", "\\\xc3\xa9", "\\",
	};
	static const char *const fields[] = { "content", "x", "name" };
	char body[512];
	size_t c, f, off, tail;

	for (c = 0; c < sizeof(bad) / sizeof(bad[0]); c++) {
		for (f = 0; f < 3; f++) {
			for (off = 0; off <= 140; off++) {
				for (tail = 0; tail < 2; tail++) {
					size_t n = (size_t)sprintf(body, "{\"messages\":[{\"%s\":\"",
								   fields[f]);

					memset(body + n, 'a', off);
					n += off;
					n += (size_t)sprintf(body + n, "%s", bad[c]);
					/* tail 0: the body ends right after the bad bytes */
					if (tail == 1) {
						/* 'z': no escape letter, no hex digit */
						memset(body + n, 'z', 70);
						n += 70;
						n += (size_t)sprintf(body + n, "\"}]}");
					}
					CU_ASSERT(parse3(RV_EP_CHAT, body, n) < 0);
				}
			}
		}
	}
}

/*
 * 20000 pseudo-random bodies (deterministic xorshift): strings of words, one-letter
 * and \u escapes, backslash runs, valid and now and then invalid UTF-8, controls and
 * stray quotes, in content, text parts, names, the model and unknown fields, each
 * body also cut at a random length: every build gives the same view or error.
 */
static void test_builds_agree_random(void)
{
	static const char *const pieces[] = {
		"hello ", "a", "  ", "x = f(y);", "\\n", "\\\"", "\\\\", "\\/", "\\t", "\\u00e9",
		"\\uD83D\\uDE00", "\\\\\\\\", "\xc3\xa9", "\xe4\xb8\xad\xe6\x96\x87",
		"\xf0\x9f\x98\x80", "0123456789abcdef0123456789abcdef0123456789abcdef",
		/* rare: bad input */
		"\\q", "\x07", "\xc3", "\xed\xa0\x80", "\"", "\\ud800",
	};
	static const char *const fmt[] = {
		("{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"%s\"},"
		 "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"%s\"}]}]}"),
		"{\"messages\":[{\"name\":\"%s\",\"content\":\"%s\",\"%s\":1}],\"stream\":true}",
		"{\"user\":\"%s\",\"messages\":[{\"content\":\"%s\"}],\"metadata\":{\"k\":\"%s\"}}",
	};
	uint64_t x = 0x2545F4914F6CDD1Dull;
	static char str[3][2048], body[8192];
	int it, nok = 0;

	for (it = 0; it < 20000; it++) {
		size_t n, cut;
		int j, k;

		for (j = 0; j < 3; j++) {
			size_t len = 0;
			int parts;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			parts = (int)(x % 48);
			for (k = 0; k < parts; k++) {
				uint32_t r;
				size_t idx, pl;

				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				r = (uint32_t)(x >> 32);
				/* one piece in 150 is from the bad tail of the list */
				idx = r % 150 == 0 ? 16 + (r >> 8) % 6 : (r >> 8) % 16;
				pl = strlen(pieces[idx]);
				memcpy(str[j] + len, pieces[idx], pl);
				len += pl;
			}
			str[j][len] = '\0';
		}
		n = (size_t)snprintf(body, sizeof(body), fmt[it % 3], str[0], str[1], str[2]);
		nok += parse3(RV_EP_CHAT, body, n) > 0;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		cut = (size_t)(x % (n + 1));
		parse3(RV_EP_CHAT, body, cut);
	}
	CU_ASSERT_EQUAL(ndiffer, 0);
	/* both outcomes are well represented (about 3 in 5 whole bodies are valid) */
	CU_ASSERT(nok > 8000 && nok < 17000);
	printf("\n    %d of 20000 whole bodies valid ", nok);
}

/*
 * Text around the tight arena's edge (1024 bytes): strings of 900..1100 bytes with
 * escapes, so the block copy hands over to the byte-exact copy near the end.
 */
static void test_builds_agree_arena_edge(void)
{
	static char body[4096];
	size_t len, i;

	for (len = 900; len <= 1100; len++) {
		size_t n = (size_t)sprintf(body, "{\"messages\":[{\"content\":\"");

		for (i = 0; i < len; i++)
			body[n++] = i % 37 == 5 ? '\\' : (char)('a' + i % 26);
		/* a backslash before 'a'..'z' must form an escape: make it "\n" */
		for (i = 0; i < n; i++)
			if (body[i] == '\\')
				body[i + 1] = 'n';
		n += (size_t)sprintf(body + n, "\"}]}");
		parse3(RV_EP_CHAT, body, n);
	}
	CU_ASSERT_EQUAL(ndiffer, 0);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * A 2 KB chat body (short turns, three escapes each: a hard case), each call timed
 * alone: median printed for the record, never asserted.  bench_reqview has more.
 */
static void test_timing_print(void)
{
	enum { RUNS = 20001 };
	static uint64_t t[RUNS];
	char b[4096];
	size_t n = 0;
	int i;

	n += (size_t)sprintf(b, "{\"model\":\"gpt-4o-mini\",\"temperature\":0.2,\"messages\":["
				"{\"role\":\"system\",\"content\":\"You are terse.\"}");
	while (n < 1900)
		n += (size_t)sprintf(b + n, ",{\"role\":\"user\",\"content\":\"Explain the "
					    "difference between TCP and UDP, with \\\"examples\\\".\\n\"}");
	n += (size_t)sprintf(b + n, "]}");
	CU_ASSERT_EQUAL_FATAL(chat(b), (int)n);
	for (i = 0; i < RUNS; i++) {
		uint64_t t0 = mono_ns();

		rv_parse(&dflt, RV_EP_CHAT, body_of() - n, n, &v);
		t[i] = mono_ns() - t0;
	}
	qsort(t, RUNS, sizeof(t[0]), cmp_u64);
	printf("\n    timing: %zu-byte chat body, %u messages: median %llu ns, p99 %llu ns per "
	       "rv_parse (clock read included)\n", n, v.nmsgs, (unsigned long long)t[RUNS / 2],
	       (unsigned long long)t[RUNS * 99 / 100]);
}

static int suite_init(void)
{
	struct rv_limits lim = { .max_body = 1u << 20, .max_depth = 32, .max_messages = 1024,
				 .max_text = 1u << 20, .max_parts = 64, .max_tools = 128 };

	if (rv_ctx_init(&dflt, &lim) != 0 || rv_ctx_init(&small, &small_lim) != 0)
		return -1;
	if (rv_ctx_init(&ref_dflt[0], &lim) != 0 || rv_ctx_init(&ref_dflt[1], &lim) != 0 ||
	    rv_ctx_init(&ref_small[0], &small_lim) != 0 ||
	    rv_ctx_init(&ref_small[1], &small_lim) != 0)
		return -1;
	return 0;
}

static int suite_clean(void)
{
	rv_ctx_fini(&dflt);
	rv_ctx_fini(&small);
	rv_ctx_fini(&ref_dflt[0]);
	rv_ctx_fini(&ref_dflt[1]);
	rv_ctx_fini(&ref_small[0]);
	rv_ctx_fini(&ref_small[1]);
	if (gmap != NULL)
		munmap(gmap, gmap_len);
	gmap = NULL;
	return 0;
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{ "simple chat", test_simple_chat },
		{ "all fields", test_all_fields },
		{ "content parts", test_parts },
		{ "part text given back", test_part_text_given_back },
		{ "tools and tool calls", test_tools },
		{ "unknown fields and escapes", test_unknown_and_escapes },
		{ "roles", test_roles },
		{ "response formats", test_response_formats },
		{ "completions", test_completions },
		{ "numbers", test_numbers },
		{ "bad bodies", test_bad_bodies },
		{ "escapes", test_escapes },
		{ "UTF-8 at every position", test_utf8_every_position },
		{ "UTF-8 random against a reference", test_utf8_random },
		{ "truncation at every offset", test_truncation_everywhere },
		{ "bad bodies truncated", test_bad_truncated },
		{ "depth", test_depth },
		{ "limits", test_limits },
		{ "huge string", test_huge_string },
		{ "context and config", test_ctx_and_config },
		{ "shipped conf matches the table", test_shipped_conf },
		{ "strerror", test_strerror },
		{ "message heads", test_message_heads },
		{ "escapes at every position, all builds", test_escapes_every_position },
		{ "bad strings at every position, all builds", test_bad_string_every_position },
		{ "random bodies, all builds agree", test_builds_agree_random },
		{ "arena edge, all builds agree", test_builds_agree_arena_edge },
		{ "timing (printed)", test_timing_print },
	};
	CU_pSuite s;
	unsigned fails;
	size_t i;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("reqview", suite_init, suite_clean);
	if (s == NULL) {
		CU_cleanup_registry();
		return 1;
	}
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL) {
			CU_cleanup_registry();
			return 1;
		}
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	fails = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return fails == 0 ? 0 : 1;
}
