/* SPDX-License-Identifier: proprietary */
/*
 * One poll-loop iteration of a worker, and the tcp_emit() seam (fast path: no
 * allocation, no locks, no syscalls).
 */
#include <netinet/in.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "dp.h"
#include "net.h"
#include "port.h"
#include "tcp.h"
#include "tw.h"

/* Frames ahead whose headers are prefetched while the current one is handled. */
#define DP_PREFETCH 4

/* The embedder's half of the TCP seam: IPv4 output on this worker's port queue.
 * Consumes m in every case (net_ip_output counts whatever it drops). */
int tcp_emit(struct tcp_stack *ts, struct rte_mbuf *m, uint32_t saddr_be, uint32_t daddr_be)
{
	struct dp_lcore *lc = ts->owner;
	int rc = net_ip_output(&lc->net, m, saddr_be, daddr_be, IPPROTO_TCP);

	if (rc != 0)
		lc->ctr.v[DP_C_TX_EMIT_FAIL]++;
	return rc;
}

unsigned int dp_poll(struct dp_lcore *lc)
{
	struct rte_mbuf *pkts[PORT_BURST];
	const uint64_t *txc = lc->pw->txq.ctr->v;
	uint64_t t0 = rte_get_tsc_cycles();
	uint64_t now = dp_tsc_ns(t0);
	uint64_t tx0 = txc[PORT_C_TX_PKTS] + txc[PORT_C_TX_FWD_OUT];
	unsigned int work;
	uint16_t n, i;

	lc->now_ns = now;
	lc->ctr.v[DP_C_LOOPS]++;
	net_poll(&lc->net, now);
	n = port_rx(lc->pw, pkts, PORT_BURST);
	if (n > 0) {
		lc->ctr.v[DP_C_RX_BURSTS]++;
		for (i = 0; i < n && i < DP_PREFETCH; i++)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
		for (i = 0; i < n; i++) {
			struct net_l4 l4;

			if (i + DP_PREFETCH < n)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i + DP_PREFETCH], void *));
			if (net_input(&lc->net, pkts[i], &l4) == NET_RX_TCP)
				tcp_input(&lc->tcp, pkts[i], l4.saddr_be, l4.daddr_be, now);
		}
	}
	tcp_timers(&lc->tcp, now);
	tw_advance(&lc->wheel, now, 64);
	if (lc->blocked_head != 0)
		dp_http_poll_blocked(lc);
	work = n + port_tx_flush(&lc->pw->txq);
	/* The one extra TSC read is taken only by iterations that received or sent
	 * frames, so an empty poll costs what it did, and busy cycles / requests is
	 * the cost of the path per request whatever share of the core was idle.
	 * Polls that only retried a full TX ring (work != 0, nothing sent) are
	 * waiting, not working: they do not count. */
	if (n != 0 || txc[PORT_C_TX_PKTS] + txc[PORT_C_TX_FWD_OUT] != tx0)
		lc->ctr.v[DP_C_BUSY_CYCLES] += rte_get_tsc_cycles() - t0;
	return work;
}
