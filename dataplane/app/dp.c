/* SPDX-License-Identifier: proprietary */
/*
 * twospeed-dataplane, init and control path: the [dataplane] and [http] config
 * tables, the clock, HTTP session pools, the counter dump, and the worker's run loop
 * with its idle back-off and shutdown drain.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include "dp.h"
#include "h1.h"
#include "net.h"
#include "port.h"
#include "tcp.h"
#include "tsconf.h"
#include "tw.h"

extern const struct tcp_ops dp_http_ops;

const char *const dp_ctr_names[DP_C_COUNT] = {
	[DP_C_LOOPS] = "loops",
	[DP_C_RX_BURSTS] = "rx_bursts",
	[DP_C_IDLE_SLEEPS] = "idle_sleeps",
	[DP_C_BUSY_CYCLES] = "busy_cycles",
	[DP_C_TX_EMIT_FAIL] = "tcp_emit_fail",
	[DP_C_HTTP_ACCEPTED] = "http_accepted",
	[DP_C_HTTP_NO_SESSION] = "http_503_no_session",
	[DP_C_HTTP_REQUESTS] = "http_requests",
	[DP_C_HTTP_HEALTHZ] = "http_healthz",
	[DP_C_HTTP_ECHO] = "http_echo",
	[DP_C_HTTP_ECHO_BYTES] = "http_echo_bytes",
	[DP_C_HTTP_NOT_FOUND] = "http_404",
	[DP_C_HTTP_BAD_METHOD] = "http_405",
	[DP_C_HTTP_CONTINUE] = "http_100_continue",
	[DP_C_HTTP_PARSE_ERROR] = "http_parse_error",
	[DP_C_HTTP_RESP_2XX] = "http_resp_2xx",
	[DP_C_HTTP_RESP_4XX] = "http_resp_4xx",
	[DP_C_HTTP_RESP_5XX] = "http_resp_5xx",
	[DP_C_HTTP_TIMEOUT_408] = "http_408_timeout",
	[DP_C_HTTP_IDLE_CLOSE] = "http_idle_close",
	[DP_C_HTTP_PEER_CLOSED] = "http_peer_closed",
	[DP_C_HTTP_CONN_LOST] = "http_conn_lost",
	[DP_C_HTTP_CLOSED] = "http_sessions_closed",
	[DP_C_HTTP_TX_BLOCKED] = "http_input_blocked_on_send",
	[DP_C_HTTP_SHORT_WRITE] = "http_short_write_abort",
	[DP_C_HTTP_STATUS_200] = "http_status_200",
	[DP_C_HTTP_STATUS_400] = "http_status_400",
	[DP_C_HTTP_STATUS_404] = "http_status_404",
	[DP_C_HTTP_STATUS_405] = "http_status_405",
	[DP_C_HTTP_STATUS_408] = "http_status_408",
	[DP_C_HTTP_STATUS_413] = "http_status_413",
	[DP_C_HTTP_STATUS_414] = "http_status_414",
	[DP_C_HTTP_STATUS_417] = "http_status_417",
	[DP_C_HTTP_STATUS_431] = "http_status_431",
	[DP_C_HTTP_STATUS_500] = "http_status_500",
	[DP_C_HTTP_STATUS_501] = "http_status_501",
	[DP_C_HTTP_STATUS_503] = "http_status_503",
	[DP_C_HTTP_STATUS_505] = "http_status_505",
	[DP_C_HTTP_STATUS_OTHER] = "http_status_other",
};

#define DK(k_, t_, f_, d_, lo_, hi_, doc_)                                                         \
	{                                                                                          \
		.section = "dataplane", .key = k_, .type = t_, TSCONF_FIELD(struct dp_conf, f_),   \
		.def = d_, .min = lo_, .max = hi_, .doc = doc_                                     \
	}
#define HK(k_, t_, f_, d_, lo_, hi_, doc_)                                                         \
	{                                                                                          \
		.section = "http", .key = k_, .type = t_, TSCONF_FIELD(struct dp_http_conf, f_),   \
		.def = d_, .min = lo_, .max = hi_, .doc = doc_                                     \
	}

static const struct tsconf_key dp_conf_keys[] = {
	DK("idle_pause", TSCONF_DURATION, idle_pause_ns, "50us", "0", "1s",
	   "a worker idle this long polls with rte_pause() between polls"),
	DK("idle_sleep", TSCONF_DURATION, idle_sleep_ns, "1ms", "0", "60s",
	   "a worker idle this long starts to sleep between polls (at least idle_pause)"),
	DK("idle_sleep_max", TSCONF_DURATION, idle_sleep_max_ns, "100us", "0", "10ms",
	   "longest sleep of an idle worker (the sleep doubles from 1us up to this); 0: busy-poll"),
	DK("drain_timeout", TSCONF_DURATION, drain_timeout_ns, "2s", "0", "60s",
	   "at SIGINT/SIGTERM, time given to open connections to close before they are reset"),
};

static const struct tsconf_key http_conf_keys[] = {
	HK("port", TSCONF_U64, port, "80", "0", "65535",
	   "TCP port of the plain HTTP/1.1 listener (GET /healthz, POST /echo); 0: none"),
	HK("max_conns", TSCONF_U64, max_conns, "1024", "1", "1048576",
	   "HTTP sessions per worker, allocated at start; a connection over it gets 503"),
	HK("max_body", TSCONF_SIZE, max_body, "1G", "0", "1T",
	   "largest request body accepted (413 above); /echo streams it back, never buffers it"),
	HK("head_max", TSCONF_SIZE, head_max, "16K", "1K", "64K",
	   "largest request header section in bytes (431 above); sizes each session's buffer"),
	HK("idle_timeout", TSCONF_DURATION, idle_timeout_ns, "60s", "1ms", "3600s",
	   "a connection silent for this long is closed (408 first if a request was started)"),
};

int dp_conf_register(struct tsconf *c, struct dp_conf *dc, struct dp_http_conf *hc, char *err,
		     size_t errlen)
{
	int rc = tsconf_register(c, "dataplane", dp_conf_keys,
				 sizeof(dp_conf_keys) / sizeof(dp_conf_keys[0]), dc, err, errlen);

	if (rc != 0)
		return rc;
	return tsconf_register(c, "http", http_conf_keys,
			       sizeof(http_conf_keys) / sizeof(http_conf_keys[0]), hc, err, errlen);
}

/* ---- clock ---- */

/* ns = cycles * tsc_mult >> 32: a multiply instead of two divisions per poll (the
 * divisions showed as 9 % of a saturated worker's profile). Read-only after init. */
static uint64_t tsc_mult;

void dp_clock_init(void)
{
	tsc_mult = (uint64_t)(((unsigned __int128)1000000000 << 32) / rte_get_tsc_hz());
}

uint64_t dp_now_ns(void)
{
	return dp_tsc_ns(rte_get_tsc_cycles());
}

uint64_t dp_tsc_ns(uint64_t tsc)
{
	return (uint64_t)(((unsigned __int128)tsc * tsc_mult) >> 32);
}

/* ---- HTTP sessions ---- */

int dp_http_init(struct dp_lcore *lc, int socket, uint64_t now_ns)
{
	const struct dp_http_conf *hc = lc->http_conf;
	size_t head;

	h1_limits_default(&lc->h1_lim);
	lc->h1_lim.body_max = hc->max_body;
	lc->h1_lim.head_max = (uint32_t)hc->head_max;
	if (lc->h1_lim.request_line_max > lc->h1_lim.head_max)
		lc->h1_lim.request_line_max = lc->h1_lim.head_max;
	head = h1_head_buf_size(&lc->h1_lim);
	lc->head_size = (uint32_t)RTE_ALIGN_CEIL(head, 64);
	if (tw_init(&lc->wheel, 10 * 1000 * 1000, now_ns, 0, lc) != 0)
		return -EINVAL;
	if (hc->port == 0)
		return 0;
	lc->sessions = rte_zmalloc_socket("dp_sessions", sizeof(lc->sessions[0]) * hc->max_conns,
					  RTE_CACHE_LINE_SIZE, socket);
	lc->heads = rte_malloc_socket("dp_heads", (size_t)lc->head_size * hc->max_conns,
				      RTE_CACHE_LINE_SIZE, socket);
	if (lc->sessions == NULL || lc->heads == NULL) {
		dp_http_fini(lc);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < hc->max_conns; i++) {
		lc->sessions[i].lc = lc;
		lc->sessions[i].next_free = i + 1 < hc->max_conns ? i + 2 : 0;
	}
	lc->free_head = 1;
	lc->refused.lc = lc;
	lc->refused.refused = true;
	lc->listener = tcp_listen(&lc->tcp, 0, (uint16_t)hc->port, (uint32_t)hc->max_conns + 64,
				  &dp_http_ops, lc);
	if (lc->listener == NULL) {
		dp_http_fini(lc);
		return -EADDRINUSE;
	}
	return 0;
}

void dp_http_fini(struct dp_lcore *lc)
{
	rte_free(lc->sessions);
	lc->sessions = NULL;
	rte_free(lc->heads);
	lc->heads = NULL;
	lc->free_head = 0;
}

/* ---- counters ---- */

static uint64_t rd(const uint64_t *v)
{
	/* another lcore is the single writer; an aligned u64 load is never torn */
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

/* Prints one block of counters: totals, then per-worker lines when n > 1. */
static void print_block(FILE *out, struct dp_lcore *const *lcs, uint16_t n, const char *module,
			const char *const *names, size_t count,
			const uint64_t *(*get)(const struct dp_lcore *lc))
{
	for (size_t i = 0; i < count; i++) {
		uint64_t total = 0;

		for (uint16_t w = 0; w < n; w++)
			total += rd(&get(lcs[w])[i]);
		if (total == 0)
			continue;
		fprintf(out, "%s.%s %" PRIu64 "\n", module, names[i], total);
		for (uint16_t w = 0; n > 1 && w < n; w++) {
			uint64_t v = rd(&get(lcs[w])[i]);

			if (v != 0)
				fprintf(out, "%s.%s %" PRIu64 " @lcore%u\n", module, names[i], v,
					lcs[w]->lcore_id);
		}
	}
}

static const uint64_t *get_port(const struct dp_lcore *lc)
{
	return lc->pw->ctr.v;
}

static const uint64_t *get_net(const struct dp_lcore *lc)
{
	return lc->net.ctr.v;
}

static const uint64_t *get_tcp(const struct dp_lcore *lc)
{
	return tcp_counters(&lc->tcp);
}

static const uint64_t *get_dp(const struct dp_lcore *lc)
{
	return lc->ctr.v;
}

static const uint64_t *get_h1(const struct dp_lcore *lc)
{
	return lc->ctr.h1_err;
}

/* The driver's own port totals: frames the NIC or the kernel dropped before any
 * worker saw them (imissed, rx_nombuf) are only visible here. */
static void print_ethdev(FILE *out, const struct port *p)
{
	struct rte_eth_stats st;
	const struct {
		const char *name;
		const uint64_t *v;
	} f[] = {
		{"ipackets", &st.ipackets}, {"opackets", &st.opackets},	  {"ibytes", &st.ibytes},
		{"obytes", &st.obytes},	    {"imissed", &st.imissed},	  {"ierrors", &st.ierrors},
		{"oerrors", &st.oerrors},   {"rx_nombuf", &st.rx_nombuf},
	};

	if (!p->started || rte_eth_stats_get(p->port_id, &st) != 0)
		return;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (*f[i].v != 0)
			fprintf(out, "ethdev.%s %" PRIu64 "\n", f[i].name, *f[i].v);
}

void dp_counters_print(FILE *out, struct dp_lcore *const *lcs, uint16_t n, const char *why)
{
	static char h1_names[DP_H1_ERR_MAX][40];
	static const char *h1_ptrs[DP_H1_ERR_MAX];

	for (int i = 0; i < DP_H1_ERR_MAX; i++) {
		snprintf(h1_names[i], sizeof(h1_names[i]), "parse_%s", h1_rc_name(-i));
		h1_ptrs[i] = h1_names[i];
	}
	fprintf(out, "--- twospeed-dataplane counters (%s), %u workers ---\n", why, n);
	print_block(out, lcs, n, "port", port_ctr_names, PORT_C_COUNT, get_port);
	print_block(out, lcs, n, "net", net_ctr_names, NET_C_COUNT, get_net);
	print_block(out, lcs, n, "tcp", tcp_counter_names, TCP_C_COUNT, get_tcp);
	print_block(out, lcs, n, "app", dp_ctr_names, DP_C_COUNT, get_dp);
	print_block(out, lcs, n, "http", h1_ptrs, DP_H1_ERR_MAX, get_h1);
	if (n > 0)
		print_ethdev(out, lcs[0]->pw->port);
	fprintf(out, "--- end of counters ---\n");
	fflush(out);
}

/* ---- the run loop ---- */

/* Idle back-off by idle time (poll costs vary): spin, then rte_pause, then sleeps
 * doubling from 1 us to the configured maximum (the one syscall of a worker, and only
 * when idle). */
static void idle_backoff(struct dp_lcore *lc)
{
	const struct dp_conf *c = lc->conf;
	uint64_t idle = lc->now_ns - lc->busy_ns;

	if (idle < c->idle_pause_ns)
		return;
	if (idle < c->idle_sleep_ns || c->idle_sleep_max_ns == 0) {
		rte_pause();
		return;
	}
	lc->sleep_ns = lc->sleep_ns == 0 ? 1000 : lc->sleep_ns * 2;
	if (lc->sleep_ns > c->idle_sleep_max_ns)
		lc->sleep_ns = c->idle_sleep_max_ns;
	lc->ctr.v[DP_C_IDLE_SLEEPS]++;
	rte_delay_us_sleep((unsigned int)(lc->sleep_ns / 1000 > 0 ? lc->sleep_ns / 1000 : 1));
}

void dp_run(struct dp_lcore *lc)
{
	struct dp_ctl *ctl = lc->ctl;
	uint64_t deadline;

	while (atomic_load_explicit(&ctl->stop, memory_order_relaxed) == 0) {
		if (dp_poll(lc) != 0) {
			lc->busy_ns = lc->now_ns;
			lc->sleep_ns = 0;
		} else {
			idle_backoff(lc);
		}
		if (lc->idx == 0 &&
		    atomic_exchange_explicit(&ctl->dump, 0, memory_order_relaxed) != 0)
			dp_counters_print(stdout, ctl->lcs, ctl->nworkers, "SIGUSR1");
	}
	/* drain: no new connections, FIN on every session, then wait for the peers;
	 * conns in TIME_WAIT are over (both FINs sent and acked), so once only they
	 * are left there is nothing to wait for */
	dp_http_stop(lc);
	deadline = dp_now_ns() + lc->conf->drain_timeout_ns;
	while (lc->tcp.nconns > lc->tcp.ntime_wait && dp_now_ns() < deadline)
		dp_poll(lc);
	tcp_abort_all(&lc->tcp);
	for (int i = 0; i < 100 && port_tx_flush(&lc->pw->txq) > 0; i++)
		rte_delay_us_sleep(100);
}
