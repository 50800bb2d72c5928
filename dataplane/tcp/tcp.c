/* SPDX-License-Identifier: proprietary */
/*
 * Per-core TCP stack: configuration table, start-up and tear-down, listeners.
 * Init/control path (allocates with rte_zmalloc_socket).
 */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "tcp_int.h"
#include "tsconf-t.h"
#include "tw.h"

#define K(f) TSCONF_FIELD(struct tcp_cfg, f)

const struct tsconf_key tcp_conf_keys[] = {
	{ "tcp", "max_conns", TSCONF_U64, K(max_conns), "4096", "1", "4194304",
	  "connection objects per worker, allocated at start (out of them: RST, counted)" },
	{ "tcp", "syn_backlog", TSCONF_U64, K(syn_backlog), "256", "1", "1048576",
	  "half-open (SYN_RCVD) connections per listener before SYN cookies are used" },
	{ "tcp", "listen_max_conns", TSCONF_U64, K(listen_max_conns), "4096", "1", "4194304",
	  "default limit of connections a listener owns at once (over it: RST, counted)" },
	{ "tcp", "mss", TSCONF_U64, K(mss), "1460", "536", "8960",
	  "MSS announced and largest payload per segment sent, in bytes (MTU - 40)" },
	{ "tcp", "rcv_buf", TSCONF_SIZE, K(rcv_buf), "256K", "4K", "64M",
	  "receive buffer per connection in bytes: the window offered to the peer" },
	{ "tcp", "snd_buf", TSCONF_SIZE, K(snd_buf), "256K", "4K", "64M",
	  "send buffer per connection in bytes: unacknowledged + unsent data accepted" },
	{ "tcp", "ooo_max_segs", TSCONF_U64, K(ooo_max_segs), "256", "0", "4096",
	  "out-of-order segments kept per connection for reassembly" },
	{ "tcp", "ooo_max_bytes", TSCONF_SIZE, K(ooo_max_bytes), "256K", "0", "64M",
	  "out-of-order payload bytes kept per connection for reassembly" },
	{ "tcp", "timestamps", TSCONF_BOOL, K(timestamps), "true", NULL, NULL,
	  "offer and accept RFC 7323 timestamps (RTT measurement, PAWS)" },
	{ "tcp", "sack", TSCONF_BOOL, K(sack), "true", NULL, NULL,
	  "offer and accept selective acknowledgements (RFC 2018)" },
	{ "tcp", "window_scaling", TSCONF_BOOL, K(window_scaling), "true", NULL, NULL,
	  "offer and accept RFC 7323 window scaling" },
	{ "tcp", "syn_cookies", TSCONF_BOOL, K(syn_cookies), "true", NULL, NULL,
	  "answer SYNs with RFC 4987 cookies when a listener's backlog is full" },
	{ "tcp", "rto_init", TSCONF_DURATION, K(rto_init_ns), "1s", "10ms", "60s",
	  "initial retransmission timeout (RFC 6298 2.1)" },
	{ "tcp", "rto_min", TSCONF_DURATION, K(rto_min_ns), "200ms", "1ms", "60s",
	  "lower bound of the retransmission timeout (RFC 6298 2.4)" },
	{ "tcp", "rto_max", TSCONF_DURATION, K(rto_max_ns), "60s", "10ms", "600s",
	  "upper bound of the backed-off retransmission timeout" },
	{ "tcp", "syn_retries", TSCONF_U64, K(syn_retries), "5", "0", "16",
	  "SYN / SYN-ACK retransmissions before the handshake is given up" },
	{ "tcp", "data_retries", TSCONF_U64, K(data_retries), "12", "1", "32",
	  "retransmission timeouts in a row before the connection is reset" },
	{ "tcp", "delack", TSCONF_DURATION, K(delack_ns), "40ms", "1ms", "500ms",
	  "delayed ACK timer (an ACK is sent at least every second full segment)" },
	{ "tcp", "msl", TSCONF_DURATION, K(msl_ns), "30s", "1ms", "240s",
	  "maximum segment lifetime: TIME_WAIT lasts twice this" },
	{ "tcp", "handshake_timeout", TSCONF_DURATION, K(handshake_timeout_ns), "30s", "10ms",
	  "600s", "a connection not established after this is dropped" },
	{ "tcp", "idle_timeout", TSCONF_DURATION, K(idle_timeout_ns), "600s", "0", "86400s",
	  "an established connection without any segment for this long is reset (0: never)" },
	{ "tcp", "keepalive_idle", TSCONF_DURATION, K(keepalive_idle_ns), "0", "0", "86400s",
	  "idle time before the first keep-alive probe (0: no keep-alive)" },
	{ "tcp", "keepalive_intvl", TSCONF_DURATION, K(keepalive_intvl_ns), "10s", "10ms",
	  "3600s", "interval between unanswered keep-alive probes" },
	{ "tcp", "keepalive_probes", TSCONF_U64, K(keepalive_probes), "5", "1", "64",
	  "unanswered keep-alive probes before the connection is reset" },
	{ "tcp", "fin_wait2_timeout", TSCONF_DURATION, K(fin_wait2_ns), "30s", "10ms", "3600s",
	  "FIN_WAIT_2 of a connection the application closed ends after this" },
	{ "tcp", "tick", TSCONF_DURATION, K(tick_ns), "1ms", "100us", "100ms",
	  "granularity of the TCP timer wheel" },
	{ "tcp", "local_port_min", TSCONF_U64, K(local_port_min), "32768", "1024", "65535",
	  "lowest local port of active opens" },
	{ "tcp", "local_port_max", TSCONF_U64, K(local_port_max), "60999", "1024", "65535",
	  "highest local port of active opens" },
};
const size_t tcp_conf_nkeys = sizeof(tcp_conf_keys) / sizeof(tcp_conf_keys[0]);

const char *const tcp_counter_names[TCP_C_COUNT] = {
	[TCP_C_RX_SEGS] = "rx_segs",
	[TCP_C_TX_SEGS] = "tx_segs",
	[TCP_C_TX_EMIT_FAIL] = "tx_emit_fail",
	[TCP_C_RX_BYTES] = "rx_bytes",
	[TCP_C_TX_BYTES] = "tx_bytes",
	[TCP_C_PASSIVE_OPENS] = "passive_opens",
	[TCP_C_ACTIVE_OPENS] = "active_opens",
	[TCP_C_ACTIVE_ESTAB] = "active_established",
	[TCP_C_CLOSED] = "closed",
	[TCP_C_RESETS_RX] = "resets_rx",
	[TCP_C_RESETS_TX] = "resets_tx",
	[TCP_C_RETRANSMITS] = "retransmits",
	[TCP_C_FAST_RETRANSMITS] = "fast_retransmits",
	[TCP_C_RTO_EXPIRIES] = "rto_expiries",
	[TCP_C_SYN_RETRANSMITS] = "syn_retransmits",
	[TCP_C_OOO_SEGS] = "ooo_segs",
	[TCP_C_OOO_DROPS] = "ooo_drops",
	[TCP_C_DUP_SEGS] = "dup_segs",
	[TCP_C_DUP_ACKS] = "dup_acks",
	[TCP_C_CHALLENGE_ACKS] = "challenge_acks",
	[TCP_C_SYN_COOKIES_SENT] = "syn_cookies_sent",
	[TCP_C_SYN_COOKIES_OK] = "syn_cookies_ok",
	[TCP_C_SYN_COOKIES_BAD] = "syn_cookies_bad",
	[TCP_C_DELAYED_ACKS] = "delayed_acks",
	[TCP_C_ZWP_SENT] = "zero_window_probes",
	[TCP_C_KEEPALIVES_SENT] = "keepalives_sent",
	[TCP_C_TIMEOUT_HANDSHAKE] = "timeout_handshake",
	[TCP_C_TIMEOUT_IDLE] = "timeout_idle",
	[TCP_C_TIMEOUT_KEEPALIVE] = "timeout_keepalive",
	[TCP_C_TIMEOUT_RTO] = "timeout_rto",
	[TCP_C_TIME_WAIT_REUSED] = "time_wait_reused",
	[TCP_C_DROP_BAD_CSUM] = "drop_bad_csum",
	[TCP_C_DROP_SHORT] = "drop_short",
	[TCP_C_DROP_BAD_OFFSET] = "drop_bad_offset",
	[TCP_C_DROP_BAD_FLAGS] = "drop_bad_flags",
	[TCP_C_DROP_BAD_OPTIONS] = "drop_bad_options",
	[TCP_C_DROP_BAD_ADDR] = "drop_bad_addr",
	[TCP_C_DROP_NO_LISTENER] = "drop_no_listener",
	[TCP_C_DROP_PAWS] = "drop_paws",
	[TCP_C_DROP_OUT_OF_WINDOW] = "drop_out_of_window",
	[TCP_C_DROP_BAD_ACK] = "drop_bad_ack",
	[TCP_C_DROP_POOL_EXHAUSTED] = "drop_pool_exhausted",
	[TCP_C_DROP_LISTEN_LIMIT] = "drop_listen_limit",
	[TCP_C_DROP_BACKLOG] = "drop_backlog",
	[TCP_C_DROP_RCV_CLOSED] = "drop_rcv_closed",
	[TCP_C_DROP_RCV_BUF] = "drop_rcv_buf",
	[TCP_C_DROP_MULTISEG] = "drop_multiseg",
	[TCP_C_DROP_NO_MBUF] = "drop_no_mbuf",
	[TCP_C_RST_IGNORED] = "rst_ignored",
	[TCP_C_SYN_IN_WINDOW] = "syn_in_window",
	[TCP_C_CONN_ABORTED] = "conn_aborted",
	[TCP_C_TIME_WAIT_RECYCLED] = "time_wait_recycled",
	[TCP_C_TLP_PROBES] = "tail_loss_probes",
	[TCP_C_RECOVERY_TIMEOUTS] = "recovery_timeouts",
	[TCP_C_SYN_RCVD_REPLACED] = "syn_rcvd_replaced",
};

void tcp_cfg_defaults(struct tcp_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_conns = 4096;
	cfg->syn_backlog = 256;
	cfg->listen_max_conns = 4096;
	cfg->mss = 1460;
	cfg->rcv_buf = 256 * 1024;
	cfg->snd_buf = 256 * 1024;
	cfg->ooo_max_segs = 256;
	cfg->ooo_max_bytes = 256 * 1024;
	cfg->timestamps = true;
	cfg->sack = true;
	cfg->window_scaling = true;
	cfg->syn_cookies = true;
	cfg->rto_init_ns = 1000000000ull;
	cfg->rto_min_ns = 200000000ull;
	cfg->rto_max_ns = 60000000000ull;
	cfg->syn_retries = 5;
	cfg->data_retries = 12;
	cfg->delack_ns = 40000000ull;
	cfg->msl_ns = 30000000000ull;
	cfg->handshake_timeout_ns = 30000000000ull;
	cfg->idle_timeout_ns = 600000000000ull;
	cfg->keepalive_idle_ns = 0;
	cfg->keepalive_intvl_ns = 10000000000ull;
	cfg->keepalive_probes = 5;
	cfg->fin_wait2_ns = 30000000000ull;
	cfg->tick_ns = 1000000ull;
	cfg->local_port_min = 32768;
	cfg->local_port_max = 60999;
}

static bool tcp_cfg_valid(const struct tcp_cfg *cfg)
{
	if (cfg->max_conns == 0 || cfg->max_conns > (1u << 22) || cfg->tick_ns == 0)
		return false;
	if (cfg->mss < TCP_DEFAULT_MSS || cfg->mss > 8960)
		return false;
	if (cfg->rcv_buf < 4096 || cfg->rcv_buf > (64u << 20) || cfg->snd_buf < 4096 ||
	    cfg->snd_buf > (64u << 20))
		return false;
	if (cfg->rto_min_ns == 0 || cfg->rto_min_ns > cfg->rto_max_ns ||
	    cfg->rto_init_ns < cfg->rto_min_ns)
		return false;
	if (cfg->local_port_min == 0 || cfg->local_port_min > cfg->local_port_max ||
	    cfg->local_port_max > 65535)
		return false;
	if (cfg->ooo_max_segs > 0xffff)
		return false;
	return true;
}

static void tcp_secret_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t r = rte_rand();

		memcpy(p + i, &r, n - i < 8 ? n - i : 8);
	}
}

int tcp_stack_init(struct tcp_stack *ts, const struct tcp_cfg *cfg, struct rte_mempool *pool,
		   int socket, uint64_t now_ns, void *owner)
{
	uint32_t nb;
	int rc;

	if (ts == NULL || cfg == NULL || pool == NULL || !tcp_cfg_valid(cfg))
		return -EINVAL;
	/* every segment we build is one mbuf: headroom for IP + Ethernet, then the
	 * largest header and a full MSS of payload */
	if (rte_pktmbuf_data_room_size(pool) < RTE_PKTMBUF_HEADROOM + TCP_HDR_MAX + cfg->mss ||
	    RTE_PKTMBUF_HEADROOM < 64)
		return -EINVAL;
	memset(ts, 0, sizeof(*ts));
	ts->cfg = *cfg;
	ts->pool = pool;
	ts->owner = owner;
	ts->now_ns = now_ns;
	ts->clock_base_ns = now_ns;
	ts->flow_seed = rte_rand();
	tcp_secret_fill(ts->isn_secret, sizeof(ts->isn_secret));
	tcp_secret_fill(ts->cookie_secret, sizeof(ts->cookie_secret));
	/* start the TS clock at a random point: RFC 7323 5.4 allows any origin and a
	 * random one does not leak uptime */
	ts->clock_base_ns -= (rte_rand() & 0x3fffffffull) * TCP_TS_HZ_NS;

	/* a power of two of buckets, at least 2 per conn: short chains */
	nb = 1;
	while (nb < 2 * cfg->max_conns)
		nb <<= 1;
	ts->bucket_mask = nb - 1;
	ts->buckets = rte_zmalloc_socket("tcp_buckets", sizeof(uint32_t) * nb, 64, socket);
	if (ts->buckets == NULL) {
		rc = -ENOMEM;
		goto err;
	}
	ts->conns = rte_zmalloc_socket("tcp_conns", sizeof(struct tcp_conn) * cfg->max_conns, 64,
				       socket);
	if (ts->conns == NULL) {
		rc = -ENOMEM;
		goto free_buckets;
	}
	/* free list in index order so the first conns used are the first in memory */
	for (uint32_t i = 0; i < cfg->max_conns; i++)
		ts->conns[i].hnext = (i + 1 < cfg->max_conns) ? i + 2 : 0;
	ts->free_head = 1;
	ts->next_port = (uint16_t)(cfg->local_port_min +
				   rte_rand_max(cfg->local_port_max - cfg->local_port_min + 1));
	rc = tw_init(&ts->wheel, cfg->tick_ns, now_ns, 0, ts);
	if (rc < 0)
		goto free_conns;
	return 0;

free_conns:
	rte_free(ts->conns);
	ts->conns = NULL;
free_buckets:
	rte_free(ts->buckets);
	ts->buckets = NULL;
err:
	return rc;
}

void tcp_stack_set_seed(struct tcp_stack *ts, uint64_t seed)
{
	uint64_t x = seed;

	/* splitmix64: distinct, reproducible secrets from one seed */
	for (size_t i = 0; i < sizeof(ts->isn_secret) + sizeof(ts->cookie_secret) + 16; i += 8) {
		uint64_t z = (x += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		if (i < sizeof(ts->isn_secret))
			memcpy(ts->isn_secret + i, &z, 8);
		else if (i < sizeof(ts->isn_secret) + sizeof(ts->cookie_secret))
			memcpy(ts->cookie_secret + (i - sizeof(ts->isn_secret)), &z, 8);
		else if (i == sizeof(ts->isn_secret) + sizeof(ts->cookie_secret))
			ts->flow_seed = z;
		else
			ts->next_port = (uint16_t)(ts->cfg.local_port_min +
						   z % (ts->cfg.local_port_max -
							ts->cfg.local_port_min + 1));
	}
	ts->clock_base_ns = ts->now_ns;
}

void tcp_set_port_filter(struct tcp_stack *ts, tcp_port_ok_fn *fn, void *arg)
{
	ts->port_ok = fn;
	ts->port_ok_arg = arg;
}

void tcp_stack_fini(struct tcp_stack *ts)
{
	if (ts == NULL)
		return;
	if (ts->conns != NULL) {
		for (uint32_t i = 0; i < ts->cfg.max_conns; i++) {
			struct tcp_conn *c = &ts->conns[i];

			if (c->state == TCP_ST_CLOSED)
				continue;
			c->flags &= ~TCF_APP;
			tcp_conn_free(ts, c);
		}
		rte_free(ts->conns);
		ts->conns = NULL;
	}
	rte_free(ts->buckets);
	ts->buckets = NULL;
	memset(ts->listeners, 0, sizeof(ts->listeners));
}

void tcp_abort_all(struct tcp_stack *ts)
{
	for (unsigned int i = 0; i < TCP_LISTENERS_MAX; i++)
		ts->listeners[i].used = false;
	for (uint32_t i = 0; i < ts->cfg.max_conns; i++) {
		struct tcp_conn *c = &ts->conns[i];

		if (c->state == TCP_ST_CLOSED)
			continue;
		if (c->state != TCP_ST_TIME_WAIT && c->state != TCP_ST_SYN_SENT)
			tcp_send_rst(ts, c);
		tcp_conn_drop(ts, c, -ECONNRESET);
	}
}

struct tcp_listener *tcp_listen(struct tcp_stack *ts, uint32_t addr_be, uint16_t port,
				uint32_t max_conns, const struct tcp_ops *ops, void *lctx)
{
	struct tcp_listener *free_slot = NULL;

	if (ts == NULL || ops == NULL || port == 0)
		return NULL;
	for (unsigned int i = 0; i < TCP_LISTENERS_MAX; i++) {
		struct tcp_listener *l = &ts->listeners[i];

		if (!l->used) {
			if (free_slot == NULL)
				free_slot = l;
			continue;
		}
		if (l->port == port && (l->addr_be == addr_be || l->addr_be == 0 || addr_be == 0))
			return NULL;
	}
	if (free_slot == NULL)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->used = true;
	free_slot->addr_be = addr_be;
	free_slot->port = port;
	free_slot->max_conns =
		max_conns ? max_conns : (uint32_t)ts->cfg.listen_max_conns;
	free_slot->syn_backlog = (uint32_t)ts->cfg.syn_backlog;
	free_slot->ops = *ops;
	free_slot->ctx = lctx;
	return free_slot;
}

void tcp_unlisten(struct tcp_stack *ts, struct tcp_listener *l)
{
	uint16_t lidx;

	if (ts == NULL || l == NULL || !l->used)
		return;
	lidx = (uint16_t)(l - ts->listeners + 1);
	for (uint32_t i = 0; i < ts->cfg.max_conns; i++) {
		struct tcp_conn *c = &ts->conns[i];

		if (c->state == TCP_ST_CLOSED || c->lidx != lidx)
			continue;
		if (c->state == TCP_ST_SYN_RCVD) {
			tcp_send_rst(ts, c);
			tcp_conn_drop(ts, c, -ECONNRESET);
			continue;
		}
		c->lidx = 0; /* the conn outlives its listener */
	}
	memset(l, 0, sizeof(*l));
}
