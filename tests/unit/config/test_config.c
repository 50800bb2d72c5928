/* SPDX-License-Identifier: Proprietary */
/*
 * Unit tests of the tsconf parser: every type, defaults, sections, buffer and file
 * loading, and every error with its exact "file:line: reason".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include <CUnit/Basic.h>

#include "tsconf.h"
#include "tsfile.h"

struct demo {
	uint64_t workers;
	int64_t offset;
	double ratio;
	bool enabled;
	char name[16];
	uint64_t buf;
	uint64_t timeout;
	uint32_t addr;
	struct tsconf_cidr4 net;
};

struct other {
	uint64_t queues;
};

#define F(f) TSCONF_FIELD(struct demo, f)

static const struct tsconf_key demo_keys[] = {
	{ "demo", "workers", TSCONF_U64, F(workers), "4", "1", "64", "worker lcores" },
	{ "demo", "offset", TSCONF_I64, F(offset), "-5", "-100", "100", "a signed offset" },
	{ "demo", "ratio", TSCONF_DOUBLE, F(ratio), "0.5", "0", "1", "a ratio" },
	{ "demo", "enabled", TSCONF_BOOL, F(enabled), "true", NULL, NULL, "switch" },
	{ "demo", "name", TSCONF_STRING, F(name), "edge", NULL, NULL, "a name" },
	{ "demo.sub", "buf", TSCONF_SIZE, F(buf), "64K", "1K", "1G", "buffer bytes" },
	{ "demo.sub", "timeout", TSCONF_DURATION, F(timeout), "20ms", "1us", "10s", "timeout" },
	{ "demo.sub", "addr", TSCONF_IPV4, F(addr), "192.0.2.1", NULL, NULL, "an address" },
	{ "demo.sub", "net", TSCONF_CIDR4, F(net), "10.0.0.0/8", NULL, NULL, "a prefix" },
};

static const struct tsconf_key other_keys[] = {
	{ "port", "queues", TSCONF_U64, TSCONF_FIELD(struct other, queues), "2", "1", "16",
	  "queues per port" },
};

static struct tsconf *cf;
static struct demo d;
static struct other o;
static char err[TSCONF_ERR_MAX];

static void setup_conf(void)
{
	memset(&d, 0xAA, sizeof(d));
	memset(&o, 0xAA, sizeof(o));
	cf = tsconf_create();
	CU_ASSERT_PTR_NOT_NULL_FATAL(cf);
	CU_ASSERT_EQUAL_FATAL(tsconf_register(cf, "demo", demo_keys,
					      sizeof(demo_keys) / sizeof(demo_keys[0]), &d, err,
					      sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(tsconf_register(cf, "other", other_keys, 1, &o, err, sizeof(err)),
			      0);
}

static void teardown_conf(void)
{
	tsconf_destroy(cf);
	cf = NULL;
}

static int load(const char *text)
{
	err[0] = '\0';
	return tsconf_load_buf(cf, "t.conf", text, strlen(text), err, sizeof(err));
}

static void check_defaults(void)
{
	CU_ASSERT_EQUAL(d.workers, 4);
	CU_ASSERT_EQUAL(d.offset, -5);
	CU_ASSERT_DOUBLE_EQUAL(d.ratio, 0.5, 1e-12);
	CU_ASSERT_TRUE(d.enabled);
	CU_ASSERT_STRING_EQUAL(d.name, "edge");
	CU_ASSERT_EQUAL(d.buf, 65536);
	CU_ASSERT_EQUAL(d.timeout, 20000000);
	CU_ASSERT_EQUAL(d.addr, htonl(0xC0000201));
	CU_ASSERT_EQUAL(d.net.addr, htonl(0x0A000000));
	CU_ASSERT_EQUAL(d.net.prefix, 8);
	CU_ASSERT_EQUAL(o.queues, 2);
}

static void test_defaults_on_register(void)
{
	setup_conf();
	check_defaults();
	teardown_conf();
}

static void test_empty_buffer_keeps_defaults(void)
{
	setup_conf();
	CU_ASSERT_EQUAL(load(""), 0);
	check_defaults();
	CU_ASSERT_EQUAL(load("# only a comment\n\n   \n\t# another\n"), 0);
	check_defaults();
	teardown_conf();
}

static void test_every_type(void)
{
	setup_conf();
	CU_ASSERT_EQUAL(load("[demo]\n"
			     "workers = 0x10\n"
			     "offset = -100\n"
			     "ratio = 2.5e-1\n"
			     "enabled = off\n"
			     "name = \"a b # c\"  # trailing comment\n"
			     "[demo.sub]\n"
			     "buf = 2M\n"
			     "timeout = 1500us\n"
			     "addr = 198.51.100.7\n"
			     "net = 172.16.0.0/12\n"
			     "[port]\n"
			     "queues = 16\n"),
			0);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_EQUAL(d.workers, 16);
	CU_ASSERT_EQUAL(d.offset, -100);
	CU_ASSERT_DOUBLE_EQUAL(d.ratio, 0.25, 1e-12);
	CU_ASSERT_FALSE(d.enabled);
	CU_ASSERT_STRING_EQUAL(d.name, "a b # c");
	CU_ASSERT_EQUAL(d.buf, 2u << 20);
	CU_ASSERT_EQUAL(d.timeout, 1500000);
	CU_ASSERT_EQUAL(d.addr, htonl(0xC6336407));
	CU_ASSERT_EQUAL(d.net.addr, htonl(0xAC100000));
	CU_ASSERT_EQUAL(d.net.prefix, 12);
	CU_ASSERT_EQUAL(o.queues, 16);
	teardown_conf();
}

static void test_value_forms(void)
{
	setup_conf();
	/* sizes: bare, B, K, KiB, lower case, G; durations: ns, ms, s, 0 */
	CU_ASSERT_EQUAL(load("[demo.sub]\nbuf = 4096\n"), 0);
	CU_ASSERT_EQUAL(d.buf, 4096);
	CU_ASSERT_EQUAL(load("[demo.sub]\nbuf = 2048B\n"), 0);
	CU_ASSERT_EQUAL(d.buf, 2048);
	CU_ASSERT_EQUAL(load("[demo.sub]\nbuf = 3KiB\n"), 0);
	CU_ASSERT_EQUAL(d.buf, 3072);
	CU_ASSERT_EQUAL(load("[demo.sub]\nbuf = 5k\n"), 0);
	CU_ASSERT_EQUAL(d.buf, 5120);
	CU_ASSERT_EQUAL(load("[demo.sub]\nbuf = 1G\n"), 0);
	CU_ASSERT_EQUAL(d.buf, 1u << 30);
	CU_ASSERT_EQUAL(load("[demo.sub]\ntimeout = 1000ns\n"), 0);
	CU_ASSERT_EQUAL(d.timeout, 1000);
	CU_ASSERT_EQUAL(load("[demo.sub]\ntimeout = 10s\n"), 0);
	CU_ASSERT_EQUAL(d.timeout, 10000000000ull);
	/* bools in every spelling */
	CU_ASSERT_EQUAL(load("[demo]\nenabled = no\n"), 0);
	CU_ASSERT_FALSE(d.enabled);
	CU_ASSERT_EQUAL(load("[demo]\nenabled = YES\n"), 0);
	CU_ASSERT_TRUE(d.enabled);
	CU_ASSERT_EQUAL(load("[demo]\nenabled = 0\n"), 0);
	CU_ASSERT_FALSE(d.enabled);
	CU_ASSERT_EQUAL(load("[demo]\nenabled = on\n"), 0);
	CU_ASSERT_TRUE(d.enabled);
	/* quoted escapes; unquoted strings keep inner spaces; CRLF lines */
	CU_ASSERT_EQUAL(load("[demo]\nname = \"q\\\"\\\\\\tx\"\n"), 0);
	CU_ASSERT_STRING_EQUAL(d.name, "q\"\\\tx");
	CU_ASSERT_EQUAL(load("[demo]\r\nname =  two words  \r\n"), 0);
	CU_ASSERT_STRING_EQUAL(d.name, "two words");
	CU_ASSERT_EQUAL(load("[demo]\nname = \"\"\n"), 0);
	CU_ASSERT_STRING_EQUAL(d.name, "");
	/* a 15-byte string fits char[16] */
	CU_ASSERT_EQUAL(load("[demo]\nname = 123456789012345\n"), 0);
	CU_ASSERT_STRING_EQUAL(d.name, "123456789012345");
	/* section headers with spaces inside the brackets and a comment after */
	CU_ASSERT_EQUAL(load("[ demo ] # c\nworkers=7\n"), 0);
	CU_ASSERT_EQUAL(d.workers, 7);
	/* a section may appear twice; keys are still unique */
	CU_ASSERT_EQUAL(load("[demo]\nworkers=3\n[port]\nqueues=4\n[demo]\noffset=9\n"), 0);
	CU_ASSERT_EQUAL(d.workers, 3);
	CU_ASSERT_EQUAL(d.offset, 9);
	/* no trailing newline */
	CU_ASSERT_EQUAL(load("[demo]\nworkers = 9"), 0);
	CU_ASSERT_EQUAL(d.workers, 9);
	/* i64 extremes within a wider table are checked separately below */
	CU_ASSERT_EQUAL(load("[demo]\noffset = +100\n"), 0);
	CU_ASSERT_EQUAL(d.offset, 100);
	teardown_conf();
}

static void test_reload_resets_to_defaults(void)
{
	setup_conf();
	CU_ASSERT_EQUAL(load("[demo]\nworkers = 8\n"), 0);
	CU_ASSERT_EQUAL(d.workers, 8);
	CU_ASSERT_EQUAL(load("[demo]\noffset = 1\n"), 0);
	CU_ASSERT_EQUAL(d.workers, 4);
	CU_ASSERT_EQUAL(d.offset, 1);
	teardown_conf();
}

static void test_failed_load_changes_nothing(void)
{
	setup_conf();
	CU_ASSERT_EQUAL(load("[demo]\nworkers = 8\n"), 0);
	CU_ASSERT_EQUAL(load("[demo]\noffset = 3\nworkers = 99\n"), -EINVAL);
	CU_ASSERT_EQUAL(d.workers, 8);
	CU_ASSERT_EQUAL(d.offset, -5);
	teardown_conf();
}

struct err_case {
	const char *text;
	const char *msg;
};

static const struct err_case err_cases[] = {
	{ "[nope]\n", "t.conf:1: unknown section [nope]" },
	{ "[demo]\nbogus = 1\n", "t.conf:2: unknown key 'bogus' in [demo]" },
	{ "[demo]\nbuf = 1K\n", "t.conf:2: unknown key 'buf' in [demo]" },
	{ "workers = 1\n", "t.conf:1: key 'workers' outside any section" },
	{ "[demo\n", "t.conf:1: missing ']'" },
	{ "[demo!]\n", "t.conf:1: bad character '!' in section name" },
	{ "[]\n", "t.conf:1: empty section name" },
	{ "[demo] x\n", "t.conf:1: unexpected text after ']'" },
	{ "[demo]\nworkers\n", "t.conf:2: expected '=' after key 'workers'" },
	{ "[demo]\n= 3\n", "t.conf:2: expected 'key = value' or '[section]'" },
	{ "[demo]\nworkers =\n", "t.conf:2: missing value" },
	{ "[demo]\nworkers = # nothing\n", "t.conf:2: missing value" },
	{ "[demo]\nworkers = 1\n\nworkers = 2\n",
	  "t.conf:4: duplicate key 'workers' in [demo] (first set on line 2)" },
	{ "[demo]\nworkers = 1\n[demo]\nworkers = 2\n",
	  "t.conf:4: duplicate key 'workers' in [demo] (first set on line 2)" },
	{ "[demo]\nworkers = ten\n",
	  "t.conf:2: bad value 'ten' for 'workers': expected an unsigned integer" },
	{ "[demo]\nworkers = -1\n",
	  "t.conf:2: bad value '-1' for 'workers': expected an unsigned integer" },
	{ "[demo]\nworkers = 18446744073709551616\n",
	  "t.conf:2: bad value '18446744073709551616' for 'workers': expected an unsigned integer" },
	{ "[demo]\nworkers = 65\n", "t.conf:2: value '65' for 'workers' out of range [1, 64]" },
	{ "[demo]\nworkers = 0\n", "t.conf:2: value '0' for 'workers' out of range [1, 64]" },
	{ "[demo]\noffset = -101\n", "t.conf:2: value '-101' for 'offset' out of range [-100, 100]" },
	{ "[demo]\noffset = 1.5\n", "t.conf:2: bad value '1.5' for 'offset': expected an integer" },
	{ "[demo]\nratio = 1.01\n", "t.conf:2: value '1.01' for 'ratio' out of range [0, 1]" },
	{ "[demo]\nratio = nan\n", "t.conf:2: bad value 'nan' for 'ratio': expected a finite number" },
	{ "[demo]\nratio = 0x1p-1\n",
	  "t.conf:2: bad value '0x1p-1' for 'ratio': expected a finite number" },
	{ "[demo]\nenabled = maybe\n",
	  "t.conf:2: bad value 'maybe' for 'enabled': expected true/false, yes/no, on/off or 1/0" },
	{ "[demo]\nname = 1234567890123456\n", "t.conf:2: value for 'name' longer than 15 bytes" },
	{ "[demo]\nname = \"abc\n", "t.conf:2: missing closing '\"'" },
	{ "[demo]\nname = \"abc\" x\n", "t.conf:2: unexpected text after closing '\"'" },
	{ "[demo]\nname = \"a\\qb\"\n", "t.conf:2: bad escape '\\q' in quoted value" },
	{ "[demo]\nname = a\x01" "b\n", "t.conf:2: control character in value" },
	{ "[demo.sub]\nbuf = 12Q\n",
	  "t.conf:2: bad value '12Q' for 'buf': expected a size such as 4096, 64K, 1M or 2G" },
	{ "[demo.sub]\nbuf = 2G\n", "t.conf:2: value '2G' for 'buf' out of range [1K, 1G]" },
	{ "[demo.sub]\nbuf = 100000000000000000T\n",
	  "t.conf:2: bad value '100000000000000000T' for 'buf': expected a size such as 4096, "
	  "64K, 1M or 2G" },
	{ "[demo.sub]\ntimeout = 5\n",
	  "t.conf:2: bad value '5' for 'timeout': expected a duration such as 500us, 20ms or 3s" },
	{ "[demo.sub]\ntimeout = 11s\n",
	  "t.conf:2: value '11s' for 'timeout' out of range [1us, 10s]" },
	{ "[demo.sub]\naddr = 256.1.1.1\n",
	  "t.conf:2: bad value '256.1.1.1' for 'addr': expected an IPv4 address such as 192.0.2.1" },
	{ "[demo.sub]\naddr = 010.1.1.1\n",
	  "t.conf:2: bad value '010.1.1.1' for 'addr': expected an IPv4 address such as 192.0.2.1" },
	{ "[demo.sub]\naddr = 1.2.3\n",
	  "t.conf:2: bad value '1.2.3' for 'addr': expected an IPv4 address such as 192.0.2.1" },
	{ "[demo.sub]\nnet = 10.0.0.1/8\n",
	  "t.conf:2: bad value '10.0.0.1/8' for 'net': expected an IPv4 prefix such as 10.0.0.0/8 "
	  "with no host bits set" },
	{ "[demo.sub]\nnet = 10.0.0.0/33\n",
	  "t.conf:2: bad value '10.0.0.0/33' for 'net': expected an IPv4 prefix such as 10.0.0.0/8 "
	  "with no host bits set" },
	{ "[demo.sub]\nnet = 10.0.0.0\n",
	  "t.conf:2: bad value '10.0.0.0' for 'net': expected an IPv4 prefix such as 10.0.0.0/8 "
	  "with no host bits set" },
};

static void test_errors(void)
{
	size_t i;

	setup_conf();
	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		int rc = load(err_cases[i].text);

		CU_ASSERT_EQUAL(rc, -EINVAL);
		CU_ASSERT_STRING_EQUAL(err, err_cases[i].msg);
		if (strcmp(err, err_cases[i].msg) != 0)
			fprintf(stderr, "\ncase %zu: got '%s'\n", i, err);
	}
	check_defaults();
	teardown_conf();
}

static void test_line_and_file_limits(void)
{
	size_t n = TSCONF_LINE_MAX + 1;
	char *big = malloc(TSCONF_FILE_MAX + 2);

	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	setup_conf();
	/* a comment line of exactly TSCONF_LINE_MAX bytes is fine, one more is not */
	memset(big, '#', n);
	big[TSCONF_LINE_MAX] = '\n';
	CU_ASSERT_EQUAL(tsconf_load_buf(cf, "t.conf", big, TSCONF_LINE_MAX + 1, err, sizeof(err)),
			0);
	memcpy(big, "[demo]\n", 7);
	memset(big + 7, '#', n);
	CU_ASSERT_EQUAL(tsconf_load_buf(cf, "t.conf", big, 7 + n, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "t.conf:2: line too long (max 1024 bytes)");
	/* NUL inside a line */
	CU_ASSERT_EQUAL(tsconf_load_buf(cf, "t.conf", "[demo]\nwo\0rkers=1\n", 18, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "t.conf:2: NUL byte in line");
	/* over the file limit */
	memset(big, '\n', TSCONF_FILE_MAX + 1);
	CU_ASSERT_EQUAL(tsconf_load_buf(cf, "t.conf", big, TSCONF_FILE_MAX + 1, err, sizeof(err)),
			-EFBIG);
	CU_ASSERT_STRING_EQUAL(err, "t.conf:0: larger than 1048576 bytes");
	/* the limit itself is fine */
	CU_ASSERT_EQUAL(tsconf_load_buf(cf, "t.conf", big, TSCONF_FILE_MAX, err, sizeof(err)), 0);
	teardown_conf();
	free(big);
}

static void test_buffer_not_terminated(void)
{
	/* "workers = 12" cut after "1": the parser must not read the "2" */
	static const char text[] = "[demo]\nworkers = 12";

	setup_conf();
	CU_ASSERT_EQUAL(tsconf_load_buf(cf, "t.conf", text, sizeof(text) - 2, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(d.workers, 1);
	teardown_conf();
}

/* tsconf_key_line/tsconf_source: where a value came from, for checks across keys. */
static void test_key_line(void)
{
	/* line 3 sets demo.workers, line 5 demo.sub.buf; demo.offset keeps its default */
	static const char cfg[] = "# c\n[demo]\nworkers = 8\n[demo.sub]\nbuf = 1M\n";
	static const char bad[] = "[demo]\nworkers = 0\n";

	setup_conf();
	CU_ASSERT_STRING_EQUAL(tsconf_source(cf), "");
	CU_ASSERT_EQUAL(tsconf_key_line(cf, "demo", "workers"), 0);
	CU_ASSERT_EQUAL(tsconf_load_buf(cf, "a.conf", cfg, strlen(cfg), err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(tsconf_source(cf), "a.conf");
	CU_ASSERT_EQUAL(tsconf_key_line(cf, "demo", "workers"), 3);
	CU_ASSERT_EQUAL(tsconf_key_line(cf, "demo.sub", "buf"), 5);
	CU_ASSERT_EQUAL(tsconf_key_line(cf, "demo", "offset"), 0);
	CU_ASSERT_EQUAL(tsconf_key_line(cf, "demo", "nosuchkey"), 0);
	/* a refused load changes nothing, lines and source included */
	CU_ASSERT_EQUAL(tsconf_load_buf(cf, "b.conf", bad, strlen(bad), err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(tsconf_source(cf), "a.conf");
	CU_ASSERT_EQUAL(tsconf_key_line(cf, "demo", "workers"), 3);
	/* reset forgets the lines with the values */
	tsconf_reset(cf);
	CU_ASSERT_EQUAL(tsconf_key_line(cf, "demo", "workers"), 0);
	teardown_conf();
}

static void test_file(void)
{
	char path[] = "/tmp/tsconf-test-XXXXXX";
	const char *text = "# test\n[demo]\nworkers = 12\n[port]\nqueues = x\n";
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	setup_conf();
	CU_ASSERT_EQUAL(tsconf_load_file(cf, path, err, sizeof(err)), -EINVAL);
	{
		char want[256];

		snprintf(want, sizeof(want),
			 "%s:5: bad value 'x' for 'queues': expected an unsigned integer", path);
		CU_ASSERT_STRING_EQUAL(err, want);
	}
	fd = open(path, O_WRONLY | O_TRUNC);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, text, strlen(text) - 2), (ssize_t)strlen(text) - 2);
	CU_ASSERT_EQUAL(write(fd, "5\n", 2), 2);
	close(fd);
	CU_ASSERT_EQUAL(tsconf_load_file(cf, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(d.workers, 12);
	CU_ASSERT_EQUAL(o.queues, 5);
	unlink(path);
	CU_ASSERT_EQUAL(tsconf_load_file(cf, path, err, sizeof(err)), -ENOENT);
	{
		char want[256];

		snprintf(want, sizeof(want), "%s:0: No such file or directory", path);
		CU_ASSERT_STRING_EQUAL(err, want);
	}
	CU_ASSERT_EQUAL(tsconf_load_file(cf, "/tmp", err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "/tmp:0: not a regular file");
	teardown_conf();
}

/* The bounded whole-file reader every loader shares: contents, bounds, refusals. */
static void test_tsfile_read(void)
{
	char dir[] = "/tmp/tsfile-XXXXXX", path[64], fifo[64], why[128];
	size_t len = 1;
	char *buf;
	int fd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	snprintf(fifo, sizeof(fifo), "%s/p", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "abc\0de", 6), 6);
	close(fd);

	/* whole contents, NUL bytes kept, a NUL after them; the bound itself is fine */
	CU_ASSERT_EQUAL(tsfile_read(path, 6, &buf, &len, why, sizeof(why)), 0);
	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_EQUAL(len, 6);
	CU_ASSERT_EQUAL(memcmp(buf, "abc\0de", 7), 0);
	free(buf);
	/* one byte over the bound is refused before anything is allocated */
	CU_ASSERT_EQUAL(tsfile_read(path, 5, &buf, &len, why, sizeof(why)), -EFBIG);
	CU_ASSERT_PTR_NULL(buf);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_STRING_EQUAL(why, "larger than 5 bytes (6)");
	/* a directory and a FIFO (no writer: must not block) are not regular files */
	CU_ASSERT_EQUAL(tsfile_read(dir, 1024, &buf, &len, why, sizeof(why)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(why, "not a regular file");
	CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
	CU_ASSERT_EQUAL(tsfile_read(fifo, 1024, &buf, &len, NULL, 0), -EINVAL);
	CU_ASSERT_PTR_NULL(buf);
	unlink(fifo);
	/* an empty file is an empty buffer, still NUL-terminated */
	fd = open(path, O_WRONLY | O_TRUNC);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT_EQUAL(tsfile_read(path, 0, &buf, &len, why, sizeof(why)), 0);
	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_EQUAL(buf[0], '\0');
	free(buf);
	unlink(path);
	CU_ASSERT_EQUAL(tsfile_read(path, 1024, &buf, &len, why, sizeof(why)), -ENOENT);
	CU_ASSERT_STRING_EQUAL(why, "No such file or directory");
	rmdir(dir);
}

struct bad_table {
	const struct tsconf_key key;
	const char *msg;
};

static void test_table_checks(void)
{
	static const struct bad_table bad[] = {
		{ { "demo", "workers", TSCONF_U64, F(workers), "1", NULL, NULL, "dup" },
		  "bad: demo.workers: key already registered by another table" },
		{ { "x", "a", TSCONF_U64, F(offset), "abc", NULL, NULL, "d" },
		  "bad: x.a: default does not parse" },
		{ { "x", "a", TSCONF_U64, F(enabled), "1", NULL, NULL, "d" },
		  "bad: x.a: field size does not match the type" },
		{ { "x", "a", TSCONF_U64, F(workers), "100", "1", "10", "d" },
		  "bad: x.a: default out of range" },
		{ { "x", "a", TSCONF_U64, F(workers), "5", "10", "1", "d" },
		  "bad: x.a: default out of range" },
		{ { "x", "a", TSCONF_U64, F(workers), "5", "1", "zz", "d" },
		  "bad: x.a: max does not parse" },
		{ { "x", "a", TSCONF_BOOL, F(enabled), "true", "0", NULL, "d" },
		  "bad: x.a: min/max given for a type without a range" },
		{ { "x", "a", TSCONF_STRING, F(name), "this default is too long", NULL, NULL, "d" },
		  "bad: x.a: default longer than the field" },
		{ { "x", "a", TSCONF_U64, F(workers), NULL, NULL, NULL, "d" },
		  "bad: x.a: default and doc are mandatory" },
		{ { "x y", "a", TSCONF_U64, F(workers), "1", NULL, NULL, "d" },
		  "bad: entry 0: bad section or key name" },
	};
	struct demo scratch;
	size_t i;

	setup_conf();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(tsconf_register(cf, "bad", &bad[i].key, 1, &scratch, err,
						sizeof(err)), -EINVAL);
		CU_ASSERT_STRING_EQUAL(err, bad[i].msg);
	}
	/* nothing of the refused tables was registered */
	CU_ASSERT_EQUAL(load("[x]\na = 1\n"), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "t.conf:1: unknown section [x]");
	teardown_conf();
}

static void test_i64_and_u64_extremes(void)
{
	static const struct tsconf_key keys[] = {
		{ "ext", "i", TSCONF_I64, F(offset), "0", NULL, NULL, "i" },
		{ "ext", "u", TSCONF_U64, F(workers), "0", NULL, NULL, "u" },
	};
	struct demo x;

	cf = tsconf_create();
	CU_ASSERT_PTR_NOT_NULL_FATAL(cf);
	CU_ASSERT_EQUAL(tsconf_register(cf, "ext", keys, 2, &x, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(load("[ext]\ni = -9223372036854775808\nu = 18446744073709551615\n"), 0);
	CU_ASSERT_EQUAL(x.offset, INT64_MIN);
	CU_ASSERT_EQUAL(x.workers, UINT64_MAX);
	CU_ASSERT_EQUAL(load("[ext]\ni = 9223372036854775807\n"), 0);
	CU_ASSERT_EQUAL(x.offset, INT64_MAX);
	CU_ASSERT_EQUAL(load("[ext]\ni = 9223372036854775808\n"), -EINVAL);
	teardown_conf();
}

static void test_help(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	setup_conf();
	f = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	tsconf_print_help(cf, TSCONF_HELP_TEXT, f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "[demo.sub]\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "buf"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "range 1K .. 1G"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "up to 15 bytes"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "queues per port"));
	free(buf);
	f = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	tsconf_print_help(cf, TSCONF_HELP_MD, f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "| `[demo]` | `workers` | u64 | `4` | 1 .. 64 | worker lcores |"));
	free(buf);
	/* the commented config output loads back, and uncommented gives the defaults */
	f = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	tsconf_print_help(cf, TSCONF_HELP_CONF, f);
	fclose(f);
	CU_ASSERT_EQUAL(tsconf_load_buf(cf, "gen", buf, len, err, sizeof(err)), 0);
	{
		char *q;

		for (q = buf; (q = strstr(q, "\n#")) != NULL; q++)
			if (q[2] != ' ' && q[2] != '\n')
				q[1] = ' ';
	}
	CU_ASSERT_EQUAL(tsconf_load_buf(cf, "gen", buf, len, err, sizeof(err)), 0);
	check_defaults();
	free(buf);
	teardown_conf();
}

int main(void)
{
	CU_pSuite s;
	unsigned fails;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("config", NULL, NULL);
	if (s == NULL || !CU_add_test(s, "defaults on register", test_defaults_on_register) ||
	    !CU_add_test(s, "empty buffer keeps defaults", test_empty_buffer_keeps_defaults) ||
	    !CU_add_test(s, "every type", test_every_type) ||
	    !CU_add_test(s, "value forms", test_value_forms) ||
	    !CU_add_test(s, "reload resets to defaults", test_reload_resets_to_defaults) ||
	    !CU_add_test(s, "failed load changes nothing", test_failed_load_changes_nothing) ||
	    !CU_add_test(s, "errors", test_errors) ||
	    !CU_add_test(s, "line and file limits", test_line_and_file_limits) ||
	    !CU_add_test(s, "buffer not terminated", test_buffer_not_terminated) ||
	    !CU_add_test(s, "key line", test_key_line) ||
	    !CU_add_test(s, "file", test_file) ||
	    !CU_add_test(s, "tsfile read", test_tsfile_read) ||
	    !CU_add_test(s, "table checks", test_table_checks) ||
	    !CU_add_test(s, "i64 and u64 extremes", test_i64_and_u64_extremes) ||
	    !CU_add_test(s, "help", test_help)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	fails = CU_get_number_of_failures();
	CU_cleanup_registry();
	return fails == 0 ? 0 : 1;
}
