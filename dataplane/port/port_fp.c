/* SPDX-License-Identifier: proprietary */
/*
 * Per-worker RX with software dispatch, buffered TX, flow ownership (fast path:
 * no allocation, no locks, no syscalls).
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_thash.h>

#include <xxhash.h>

#include "port.h"

uint16_t port_flow_owner(const struct port *p, uint32_t src_be, uint32_t dst_be, uint16_t sport,
			 uint16_t dport)
{
	if (p->mode == PORT_MODE_RSS) {
		/* Toeplitz over the tuple in host order, as the NIC hashes it */
		uint32_t t[3] = {rte_be_to_cpu_32(src_be), rte_be_to_cpu_32(dst_be),
				 ((uint32_t)sport << 16) | dport};
		uint32_t h = rte_softrss(t, 3, p->rss_key);
		uint16_t q = p->reta[h % p->reta_size];

		return q < p->nworkers ? q : 0;
	}
	if (p->mode == PORT_MODE_SW) {
		/* secret seed: a client cannot aim many flows at one worker */
		struct {
			uint32_t src, dst;
			uint16_t sport, dport;
		} k = {src_be, dst_be, sport, dport};
		uint64_t h = XXH3_64bits_withSeed(&k, sizeof(k), p->dispatch_seed);

		return (uint16_t)(((h >> 32) * p->nworkers) >> 32);
	}
	return 0;
}

/*
 * Owner of a received frame in software-dispatch mode. Frames that are not
 * unfragmented IPv4 TCP/UDP with their ports in the first segment (ARP, ICMP,
 * fragments, runts) stay with the lcore that polled them: those are handled
 * statelessly by the net layer on any worker.
 */
static uint16_t frame_owner(const struct port *p, const struct rte_mbuf *m,
			    uint16_t self) /* borrows m */
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip;
	const uint16_t *ports;
	uint32_t ihl;

	if (m->data_len < sizeof(*eh) + sizeof(*ip) + 4 ||
	    eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return self;
	ip = (const struct rte_ipv4_hdr *)(eh + 1);
	ihl = (uint32_t)(ip->version_ihl & 0x0f) * 4;
	if (ihl < sizeof(*ip) || m->data_len < sizeof(*eh) + ihl + 4 ||
	    (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) !=
		    0 ||
	    (ip->next_proto_id != IPPROTO_TCP && ip->next_proto_id != IPPROTO_UDP))
		return self;
	ports = (const uint16_t *)((const uint8_t *)ip + ihl);
	return port_flow_owner(p, ip->src_addr, ip->dst_addr, rte_be_to_cpu_16(ports[0]),
			       rte_be_to_cpu_16(ports[1]));
}

/* Hands the frames of a burst that belong to other workers to them (consumed: sent
 * over the ring, or freed and counted when it is full); returns how many stay, still
 * the caller's (compacted at the front of pkts). */
static uint16_t dispatch(struct port_worker *pw, struct rte_mbuf **pkts, uint16_t n)
{
	const struct port *p = pw->port;
	struct rte_mbuf *to[PORT_WORKERS_MAX][PORT_BURST];
	uint16_t cnt[PORT_WORKERS_MAX];
	uint16_t keep = 0;

	memset(cnt, 0, sizeof(cnt[0]) * p->nworkers);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint16_t o;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		o = frame_owner(p, m, pw->idx);
		if (o == pw->idx)
			pkts[keep++] = m;
		else
			to[o][cnt[o]++] = m;
	}
	for (uint16_t o = 0; o < p->nworkers; o++) {
		unsigned int sent;

		if (cnt[o] == 0)
			continue;
		sent = rte_ring_sp_enqueue_burst(pw->out[o], (void *const *)to[o], cnt[o], NULL);
		pw->ctr.v[PORT_C_DISPATCH_OUT] += sent;
		if (p->mode == PORT_MODE_RSS)
			pw->ctr.v[PORT_C_RSS_MISMATCH] += cnt[o];
		if (sent < cnt[o]) {
			pw->ctr.v[PORT_C_DISPATCH_DROP] += cnt[o] - sent;
			rte_pktmbuf_free_bulk(&to[o][sent], cnt[o] - sent);
		}
	}
	return keep;
}

uint16_t port_rx(struct port_worker *pw, struct rte_mbuf **pkts, uint16_t n)
{
	const struct port *p = pw->port;
	uint16_t got = 0, nb;

	if (n > PORT_BURST)
		n = PORT_BURST; /* dispatch() sorts at most one burst */
	if (p->mode != PORT_MODE_SINGLE) {
		for (uint16_t j = 0; j < p->nworkers && got < n; j++) {
			if (pw->in[j] != NULL)
				got += (uint16_t)rte_ring_sc_dequeue_burst(
					pw->in[j], (void **)(pkts + got), n - got, NULL);
		}
		pw->ctr.v[PORT_C_DISPATCH_IN] += got;
	}
	if (pw->rxq == UINT16_MAX || got == n)
		return got;
	nb = rte_eth_rx_burst(p->port_id, pw->rxq, pkts + got, n - got);
	if (nb == 0)
		return got;
	pw->ctr.v[PORT_C_RX_PKTS] += nb;
	pw->ctr.v[PORT_C_RX_BURSTS]++;
	if (p->mode == PORT_MODE_SINGLE || (p->mode == PORT_MODE_RSS && !p->conf.rss_verify))
		return got + nb;
	return got + dispatch(pw, pkts + got, nb);
}

uint16_t port_tx_flush(struct port_txq *q)
{
	uint16_t sent;

	if (q->fwd != NULL) {
		/* no TX queue of our own: hand the frames to the worker that has one */
		if (q->len == 0)
			return 0;
		sent = (uint16_t)rte_ring_sp_enqueue_burst(q->fwd, (void *const *)q->pkts, q->len,
							   NULL);
		q->ctr->v[PORT_C_TX_FWD_OUT] += sent;
		if (sent < q->len) {
			q->ctr->v[PORT_C_TX_SHORT]++;
			memmove(q->pkts, q->pkts + sent,
				(size_t)(q->len - sent) * sizeof(q->pkts[0]));
		}
		q->len -= sent;
		return q->len;
	}
	for (uint16_t j = 0; j < q->ntxin && q->len < PORT_TXBUF_MAX; j++) {
		unsigned int n = rte_ring_sc_dequeue_burst(q->txin[j], (void **)(q->pkts + q->len),
							   PORT_TXBUF_MAX - q->len, NULL);

		q->len += (uint16_t)n;
		q->ctr->v[PORT_C_TX_FWD_IN] += n;
	}
	if (q->len == 0)
		return 0;
	sent = rte_eth_tx_burst(q->port_id, q->queue_id, q->pkts, q->len);
	q->ctr->v[PORT_C_TX_PKTS] += sent;
	if (sent > 0)
		q->ctr->v[PORT_C_TX_BURSTS]++;
	if (sent < q->len) {
		/* the ring is full: keep the rest, in order, for the next flush */
		q->ctr->v[PORT_C_TX_SHORT]++;
		memmove(q->pkts, q->pkts + sent, (size_t)(q->len - sent) * sizeof(q->pkts[0]));
	}
	q->len -= sent;
	return q->len;
}

void port_tx(struct port_txq *q, struct rte_mbuf *m)
{
	if (q->len == PORT_TXBUF_MAX && port_tx_flush(q) == PORT_TXBUF_MAX) {
		q->ctr->v[PORT_C_TX_DROP_FULL]++;
		rte_pktmbuf_free(m);
		return;
	}
	q->pkts[q->len++] = m;
	/* a full burst goes out at once; the poll loop flushes the remainder */
	if (q->len >= PORT_BURST && q->len % PORT_BURST == 0)
		port_tx_flush(q);
}
