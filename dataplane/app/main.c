/* SPDX-License-Identifier: proprietary */
/*
 * twospeed-dataplane: the DPDK primary process.
 *
 *   twospeed-dataplane [EAL options] -- [--config FILE] [--help-config]
 *
 * One worker per EAL lcore (the main lcore included), each polling its own queue
 * pair of the configured port. SIGINT/SIGTERM: drain and exit 0 after printing the
 * counters; SIGUSR1: print the counters. See README.md.
 */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dp.h"
#include "net.h"
#include "port.h"
#include "reqview.h"
#include "tcp.h"
#include "tsconf.h"

/* Everything the process configures; lives for the whole run. */
struct dp_settings {
	struct port_conf port;
	struct net_conf net;
	struct tcp_cfg tcp;
	struct dp_conf dp;
	struct dp_http_conf http;
	struct rv_limits request; /* [request]: used by the front door; checked here */
};

static struct dp_settings settings;
static struct dp_ctl ctl;
static struct dp_lcore *lc_of_lcore[RTE_MAX_LCORE];

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		atomic_store_explicit(&ctl.dump, 1, memory_order_relaxed);
	else
		atomic_store_explicit(&ctl.stop, 1, memory_order_relaxed);
}

static int register_all(struct tsconf *c, char *err, size_t errlen)
{
	int rc;

	rc = port_conf_register(c, &settings.port, err, errlen);
	if (rc == 0)
		rc = net_conf_register(c, &settings.net, err, errlen);
	if (rc == 0)
		rc = tsconf_register(c, "tcp", tcp_conf_keys, tcp_conf_nkeys, &settings.tcp, err,
				     errlen);
	if (rc == 0)
		rc = dp_conf_register(c, &settings.dp, &settings.http, err, errlen);
	if (rc == 0)
		rc = rv_conf_register(c, &settings.request, err, errlen);
	return rc;
}

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: %s [EAL options] -- [--config FILE] [--help-config]\n"
		"  --config FILE   appliance config (conf/twospeed.conf); without it the defaults\n"
		"  --help-config   list every config key with its type, default and range\n"
		"                  (--help-config=md: Markdown rows, =conf: a commented config)\n"
		"example: %s -l 1 --no-pci --vdev net_af_packet0,iface=veth0 -- --config dp.conf\n",
		prog, prog);
}

static int worker_main(void *arg)
{
	struct dp_lcore *lc = lc_of_lcore[rte_lcore_id()];

	(void)arg;
	if (lc != NULL)
		dp_run(lc);
	return 0;
}

/* Builds worker idx's context on its lcore's socket. */
static struct dp_lcore *lcore_create(struct port *p, uint16_t idx, struct net_shared *sh,
				     uint64_t now, char *err, size_t errlen)
{
	struct port_worker *pw = &p->w[idx];
	struct dp_lcore *lc;
	struct tcp_cfg cfg = settings.tcp;
	int rc;

	lc = rte_zmalloc_socket("dp_lcore", sizeof(*lc), RTE_CACHE_LINE_SIZE, pw->socket);
	if (lc == NULL) {
		snprintf(err, errlen, "worker %u: out of memory for its context", idx);
		return NULL;
	}
	lc->idx = idx;
	lc->lcore_id = pw->lcore_id;
	lc->pw = pw;
	lc->conf = &settings.dp;
	lc->http_conf = &settings.http;
	lc->ctl = &ctl;
	lc->now_ns = now;
	rc = net_lcore_init(&lc->net, &settings.net, pw, sh, now);
	if (rc != 0) {
		snprintf(err, errlen, "worker %u: net init: %s", idx, strerror(-rc));
		goto free_lc;
	}
	cfg.tx_cksum_offload = p->tx_tcp_cksum;
	cfg.rx_cksum_offload = p->rx_tcp_cksum;
	rc = tcp_stack_init(&lc->tcp, &cfg, pw->pool, pw->socket, now, lc);
	if (rc != 0) {
		snprintf(err, errlen, "worker %u: TCP stack (%lu conns): %s", idx,
			 (unsigned long)cfg.max_conns, strerror(-rc));
		goto fini_net;
	}
	rc = dp_http_init(lc, pw->socket, now);
	if (rc != 0) {
		snprintf(err, errlen, "worker %u: HTTP listener on port %lu (%lu sessions): %s",
			 idx, (unsigned long)settings.http.port,
			 (unsigned long)settings.http.max_conns, strerror(-rc));
		goto fini_tcp;
	}
	return lc;

fini_tcp:
	tcp_stack_fini(&lc->tcp);
fini_net:
	net_lcore_fini(&lc->net);
free_lc:
	rte_free(lc);
	return NULL;
}

static void lcore_destroy(struct dp_lcore *lc)
{
	if (lc == NULL)
		return;
	dp_http_fini(lc);
	tcp_stack_fini(&lc->tcp);
	net_lcore_fini(&lc->net);
	rte_free(lc);
}

static bool port_ok(void *arg, uint32_t saddr_be, uint32_t daddr_be, uint16_t sport, uint16_t dport)
{
	const struct dp_lcore *lc = arg;

	/* the reply comes from daddr:dport to saddr:sport */
	return port_flow_owner(lc->pw->port, daddr_be, saddr_be, dport, sport) == lc->idx;
}

/* A config error found after loading: "file:line: section.key: reason", or
 * "file: ..." / "defaults: ..." when the key kept its default. */
static void conf_error(const struct tsconf *c, const char *section, const char *key,
		       const char *why)
{
	unsigned line = tsconf_key_line(c, section, key);
	const char *src = tsconf_source(c);

	if (src[0] == '\0')
		src = "defaults";
	if (line != 0)
		fprintf(stderr, "%s:%u: %s.%s: %s\n", src, line, section, key, why);
	else
		fprintf(stderr, "%s: %s.%s: %s\n", src, section, key, why);
}

int main(int argc, char **argv)
{
	static struct port port;
	static struct net_shared shared;
	struct dp_lcore *lcs[PORT_WORKERS_MAX] = {NULL};
	unsigned int lcore_ids[PORT_WORKERS_MAX];
	const char *config = NULL;
	struct tsconf *conf;
	char err[TSCONF_ERR_MAX], desc[256];
	uint16_t nworkers = 0;
	unsigned int lcore;
	uint64_t now;
	int rc, n, status = EXIT_FAILURE;

	conf = tsconf_create();
	if (conf == NULL || register_all(conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "config tables: %s\n", conf == NULL ? "out of memory" : err);
		return EXIT_FAILURE;
	}
	/* --help-config needs no EAL (no hugepages, no root) */
	for (int i = 1; i < argc; i++) {
		enum tsconf_help fmt = TSCONF_HELP_TEXT;

		if (strcmp(argv[i], "--help-config=md") == 0)
			fmt = TSCONF_HELP_MD;
		else if (strcmp(argv[i], "--help-config=conf") == 0)
			fmt = TSCONF_HELP_CONF;
		else if (strcmp(argv[i], "--help-config") != 0)
			continue;
		tsconf_print_help(conf, fmt, stdout);
		tsconf_destroy(conf);
		return EXIT_SUCCESS;
	}
	/* the idle back-off sleeps for 1..100 us: the default 50 us timer slack would
	 * stretch every sleep; lcore threads inherit it from here */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "EAL init failed: %s\n", rte_strerror(rte_errno));
		tsconf_destroy(conf);
		return EXIT_FAILURE;
	}
	for (int i = n + 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0) {
			if (i + 1 == argc) {
				fprintf(stderr, "--config needs a file name\n");
				goto cleanup_eal;
			}
			config = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout, argv[0]);
			status = EXIT_SUCCESS;
			goto cleanup_eal;
		} else {
			fprintf(stderr, "unknown argument '%s'\n", argv[i]);
			usage(stderr, argv[0]);
			goto cleanup_eal;
		}
	}
	if (config != NULL && tsconf_load_file(conf, config, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		goto cleanup_eal;
	}
	/* Checks across keys, reported as file:line of the key at fault (the
	 * same form tsconf uses for every other config error). */
	{
		const char *key;

		if (net_conf_check(&settings.net, &key, err, sizeof(err)) != 0) {
			conf_error(conf, "net", key, err);
			goto cleanup_eal;
		}
	}
	if (settings.tcp.mss + 40 > settings.port.mtu) {
		bool mss_set = tsconf_key_line(conf, "tcp", "mss") != 0;

		snprintf(err, sizeof(err), "tcp.mss %lu does not fit port.mtu %lu (at most mtu - 40)",
			 (unsigned long)settings.tcp.mss, (unsigned long)settings.port.mtu);
		conf_error(conf, mss_set ? "tcp" : "port", mss_set ? "mss" : "mtu", err);
		goto cleanup_eal;
	}
	RTE_LCORE_FOREACH(lcore)
	{
		if (nworkers == PORT_WORKERS_MAX) {
			fprintf(stderr, "at most %u worker lcores\n", PORT_WORKERS_MAX);
			goto cleanup_eal;
		}
		lcore_ids[nworkers++] = lcore;
	}
	dp_clock_init();
	rc = port_setup(&port, &settings.port, nworkers, lcore_ids, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "%s\n", err);
		goto cleanup_eal;
	}
	port_describe(&port, desc, sizeof(desc));
	printf("twospeed-dataplane: %s\n", desc);
	rc = net_shared_create(&shared, nworkers, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "%s\n", err);
		goto close_port;
	}
	now = dp_now_ns();
	for (uint16_t w = 0; w < nworkers; w++) {
		lcs[w] = lcore_create(&port, w, &shared, now, err, sizeof(err));
		if (lcs[w] == NULL) {
			fprintf(stderr, "%s\n", err);
			goto destroy_lcores;
		}
		tcp_set_port_filter(&lcs[w]->tcp, port_ok, lcs[w]);
		lc_of_lcore[lcore_ids[w]] = lcs[w];
	}
	ctl.lcs = lcs;
	ctl.nworkers = nworkers;
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGUSR1, &sa, NULL);
	}
	printf("twospeed-dataplane: %s on %u worker(s), HTTP port %lu; SIGUSR1 prints counters\n",
	       settings.net.address, nworkers, (unsigned long)settings.http.port);
	fflush(stdout);
	rte_eal_mp_remote_launch(worker_main, NULL, CALL_MAIN);
	rte_eal_mp_wait_lcore();
	dp_counters_print(stdout, lcs, nworkers, "exit");
	status = EXIT_SUCCESS;

destroy_lcores:
	for (uint16_t w = 0; w < nworkers; w++)
		lcore_destroy(lcs[w]);
	net_shared_free(&shared);
close_port:
	port_close(&port);
cleanup_eal:
	tsconf_destroy(conf);
	rte_eal_cleanup();
	return status;
}
