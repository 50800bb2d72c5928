/* SPDX-License-Identifier: Proprietary */
/*
 * libFuzzer target: tsconf_load_buf() on arbitrary bytes against tables with every
 * key type ([fz], [fz.sub]) and the real [request] table.  On error the message must
 * be "name:line: reason"; a failed load must leave the values as they were; after
 * success every value must be within its table range.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "reqview.h"
#include "tsconf.h"

struct fz {
	uint64_t u;
	int64_t i;
	double d;
	bool b;
	char s[8];
	uint64_t size;
	uint64_t dur;
	uint32_t ip;
	struct tsconf_cidr4 net;
};

#define F(f) TSCONF_FIELD(struct fz, f)

static const struct tsconf_key fz_keys[] = {
	{ "fz", "u", TSCONF_U64, F(u), "5", "1", "100", "u" },
	{ "fz", "i", TSCONF_I64, F(i), "0", "-10", "10", "i" },
	{ "fz", "d", TSCONF_DOUBLE, F(d), "0.5", "0", "1", "d" },
	{ "fz", "b", TSCONF_BOOL, F(b), "no", NULL, NULL, "b" },
	{ "fz", "s", TSCONF_STRING, F(s), "abc", NULL, NULL, "s" },
	{ "fz.sub", "size", TSCONF_SIZE, F(size), "4K", "1K", "1M", "size" },
	{ "fz.sub", "dur", TSCONF_DURATION, F(dur), "1ms", "1us", "1s", "dur" },
	{ "fz.sub", "ip", TSCONF_IPV4, F(ip), "127.0.0.1", NULL, NULL, "ip" },
	{ "fz.sub", "net", TSCONF_CIDR4, F(net), "10.0.0.0/8", NULL, NULL, "net" },
};

static struct tsconf *cf;
static struct fz val;
static struct rv_limits lim;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[TSCONF_ERR_MAX];
	struct fz before;
	struct rv_limits lim_before;
	char *buf;
	int rc;

	if (cf == NULL) {
		cf = tsconf_create();
		if (cf == NULL ||
		    tsconf_register(cf, "fz", fz_keys, sizeof(fz_keys) / sizeof(fz_keys[0]), &val,
				    err, sizeof(err)) != 0 ||
		    rv_conf_register(cf, &lim, err, sizeof(err)) != 0)
			abort();
	}
	buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	memcpy(&before, &val, sizeof(val));
	memcpy(&lim_before, &lim, sizeof(lim));
	err[0] = '\0';
	rc = tsconf_load_buf(cf, "fz.conf", buf, size, err, sizeof(err));
	if (rc < 0) {
		if (strncmp(err, "fz.conf:", 8) != 0 || strchr(err + 8, ':') == NULL)
			abort();
		if (memcmp(&before, &val, sizeof(val)) != 0 ||
		    memcmp(&lim_before, &lim, sizeof(lim)) != 0)
			abort();
	} else {
		if (val.u < 1 || val.u > 100 || val.i < -10 || val.i > 10 || !(val.d >= 0) ||
		    val.d > 1 || memchr(val.s, '\0', sizeof(val.s)) == NULL ||
		    val.size < 1024 || val.size > (1u << 20) || val.dur < 1000 ||
		    val.dur > 1000000000 || val.net.prefix > 32 || lim.max_depth < 8 ||
		    lim.max_depth > 1024)
			abort();
	}
	free(buf);
	return 0;
}
