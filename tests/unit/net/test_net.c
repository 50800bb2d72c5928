/* SPDX-License-Identifier: proprietary */
/*
 * Unit tests of dataplane/port and dataplane/net: crafted frames go into the RX ring
 * of an in-memory net_ring port, what the worker transmits is read back from its TX
 * ring. EAL runs with --no-huge --no-pci; no NIC, no thread besides main.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "ut_eal.h"
#include "net.h"
#include "port.h"
#include "tsconf.h"

#define MS (UINT64_C(1000000))
#define SEC (UINT64_C(1000000000))

/* RTE_IPV4 shifts a signed int into the sign bit for 128.0.0.0 and up. */
#define IP4(a, b, c, d)                                                                            \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

/* Addresses of the test network 198.18.0.0/24 (RFC 2544 benchmarking range). */
#define OUR_IP IP4(198, 18, 0, 1)
#define PEER_IP IP4(198, 18, 0, 2)
#define PEER2_IP IP4(198, 18, 0, 3)
#define GW_IP IP4(198, 18, 0, 254)
#define FAR_IP IP4(203, 0, 113, 9)

static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t peer2_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x03};
static const uint8_t gw_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xfe};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* Port 1: one worker (1 RX ring, 1 TX ring). Port 2: two workers sharing one RX
 * ring (software dispatch), one TX ring each. */
static struct rte_ring *rx1, *tx1, *rx2, *tx2a, *tx2b, *txs, *rx3, *tx3;
static struct port *p1, *p2, *psmall, *p3;
static struct net_conf nconf;
static struct net_lcore *nl;
static struct rte_mempool *tpool; /* frames the test builds */

/* The lcore structs hold cache-line aligned counters: calloc's 16 bytes are not
 * enough once the compiler uses aligned 64-byte stores. */
static void *zalloc64(size_t size)
{
	size_t n = (size + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, n);

	if (p != NULL)
		memset(p, 0, n);
	return p;
}

static struct rte_ring *mkring(const char *name, unsigned int n)
{
	return rte_ring_create(name, n, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
}

static int mkport(struct port **pp, const char *name, struct rte_ring **rx, unsigned int nrx,
		  struct rte_ring **tx, unsigned int ntx, uint16_t nworkers, uint64_t txdesc)
{
	struct port_conf pc;
	struct tsconf *c = tsconf_create();
	unsigned int lc[PORT_WORKERS_MAX];
	char err[256];
	int id, rc;

	if (c == NULL || port_conf_register(c, &pc, err, sizeof(err)) != 0)
		return -1;
	tsconf_destroy(c);
	id = rte_eth_from_rings(name, rx, nrx, tx, ntx, (unsigned int)rte_socket_id());
	if (id < 0)
		return -1;
	pc.port_id = (uint64_t)id;
	pc.mbufs = 1023;
	pc.mbuf_cache = 32;
	pc.tx_desc = txdesc;
	for (unsigned int i = 0; i < PORT_WORKERS_MAX; i++)
		lc[i] = rte_lcore_id();
	*pp = zalloc64(sizeof(**pp));
	if (*pp == NULL)
		return -1;
	rc = port_setup(*pp, &pc, nworkers, lc, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "port_setup: %s\n", err);
	return rc;
}

static int suite_init(void)
{
	struct tsconf *c = tsconf_create();
	char err[256];

	rx1 = mkring("ut_rx1", 256);
	tx1 = mkring("ut_tx1", 256);
	rx2 = mkring("ut_rx2", 256);
	tx2a = mkring("ut_tx2a", 256);
	tx2b = mkring("ut_tx2b", 256);
	txs = mkring("ut_txs", 8);
	rx3 = mkring("ut_rx3", 64);
	tx3 = mkring("ut_tx3", 256);
	tpool = rte_pktmbuf_pool_create("ut_pool", 1023, 0, 0, 2176, SOCKET_ID_ANY);
	if (!rx1 || !tx1 || !rx2 || !tx2a || !tx2b || !txs || !rx3 || !tx3 || !tpool || c == NULL)
		return -1;
	if (net_conf_register(c, &nconf, err, sizeof(err)) != 0)
		return -1;
	tsconf_destroy(c);
	if (net_conf_resolve(&nconf, err, sizeof(err)) != 0 ||
	    nconf.addr != rte_cpu_to_be_32(OUR_IP) || nconf.prefix != 24)
		return -1;
	nconf.arp_retry = 1 * SEC;
	nconf.arp_retries = 3;
	nconf.arp_queue = 4;
	nconf.garp = false;
	if (mkport(&p1, "ut_p1", &rx1, 1, &tx1, 1, 1, 256) != 0)
		return -1;
	{
		struct rte_ring *t2[2] = {tx2a, tx2b};

		if (mkport(&p2, "ut_p2", &rx2, 1, t2, 2, 2, 256) != 0)
			return -1;
	}
	{
		struct rte_ring *r = mkring("ut_rxs", 64);

		if (r == NULL || mkport(&psmall, "ut_ps", &r, 1, &txs, 1, 1, 64) != 0)
			return -1;
	}
	/* Port 3: two workers, one RX and one TX ring: worker 1 forwards its TX */
	if (mkport(&p3, "ut_p3", &rx3, 1, &tx3, 1, 2, 256) != 0)
		return -1;
	nl = zalloc64(sizeof(*nl));
	return nl == NULL ? -1 : 0;
}

static void drain(struct rte_ring *r)
{
	void *m;

	while (rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
}

/* A fresh worker on port 1 at time 1 s; nothing left in the rings. */
static void reset_nl(void)
{
	net_lcore_fini(nl);
	CU_ASSERT_FATAL(net_lcore_init(nl, &nconf, &p1->w[0], NULL, SEC) == 0);
	drain(tx1);
	net_poll(nl, 1 * SEC);
}

static void flush(void)
{
	port_tx_flush(nl->txq);
}

static struct rte_mbuf *pop_tx(void)
{
	void *m = NULL;

	flush();
	if (rte_ring_dequeue(tx1, &m) != 0)
		return NULL;
	return m;
}

static uint64_t ctr(enum net_ctr c)
{
	return nl->ctr.v[c];
}

/* Ethernet header into m; returns the pointer past it. */
static uint8_t *put_eth(struct rte_mbuf *m, const uint8_t *dst, const uint8_t *src, uint16_t type,
			uint32_t payload)
{
	struct rte_ether_hdr *eh =
		(struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)(sizeof(*eh) + payload));

	memcpy(eh->dst_addr.addr_bytes, dst, 6);
	memcpy(eh->src_addr.addr_bytes, src, 6);
	eh->ether_type = rte_cpu_to_be_16(type);
	return (uint8_t *)(eh + 1);
}

static struct rte_mbuf *mk_arp(const uint8_t *edst, uint16_t op, const uint8_t *sha, uint32_t sip,
			       uint32_t tip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(tpool);
	struct rte_arp_hdr *ah =
		(struct rte_arp_hdr *)put_eth(m, edst, sha, RTE_ETHER_TYPE_ARP, sizeof(*ah));

	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = 6;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(op);
	memcpy(ah->arp_data.arp_sha.addr_bytes, sha, 6);
	ah->arp_data.arp_sip = rte_cpu_to_be_32(sip);
	memset(ah->arp_data.arp_tha.addr_bytes, 0, 6);
	ah->arp_data.arp_tip = rte_cpu_to_be_32(tip);
	return m;
}

/* IPv4 datagram from src to dst, protocol proto, with plen payload bytes of pattern
 * (i * 7) and pad bytes of Ethernet padding after it. */
static struct rte_mbuf *mk_ip(uint32_t src, uint32_t dst, uint8_t proto, uint32_t plen,
			      uint32_t pad)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(tpool);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)put_eth(
		m, p1->mac, peer_mac, RTE_ETHER_TYPE_IPV4, sizeof(*ip) + plen + pad);
	uint8_t *pl = (uint8_t *)(ip + 1);

	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + plen));
	ip->packet_id = rte_cpu_to_be_16(0x1234);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	for (uint32_t i = 0; i < plen + pad; i++)
		pl[i] = (uint8_t)(i * 7);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return m;
}

static struct rte_ipv4_hdr *ip_of(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
}

/* An ICMP echo request of n data bytes from PEER_IP to us. */
static struct rte_mbuf *mk_echo(uint32_t n)
{
	struct rte_mbuf *m =
		mk_ip(PEER_IP, OUR_IP, IPPROTO_ICMP, sizeof(struct rte_icmp_hdr) + n, 0);
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ip_of(m) + 1);

	ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	ic->icmp_code = 0;
	ic->icmp_ident = rte_cpu_to_be_16(77);
	ic->icmp_seq_nb = rte_cpu_to_be_16(5);
	ic->icmp_cksum = 0;
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, sizeof(*ic) + n);
	return m;
}

/* Feeds m; asserts it was consumed. */
static void feed_done(struct rte_mbuf *m)
{
	struct net_l4 l4;

	CU_ASSERT(net_input(nl, m, &l4) == NET_RX_DONE);
}

/* ---- ARP ---- */

static void test_arp_request_answered(void)
{
	struct rte_mbuf *m;
	struct rte_ether_hdr *eh;
	struct rte_arp_hdr *ah;
	uint8_t mac[6];

	reset_nl();
	CU_ASSERT_FALSE(net_arp_lookup(nl, rte_cpu_to_be_32(PEER_IP), mac));
	feed_done(mk_arp(bcast, RTE_ARP_OP_REQUEST, peer_mac, PEER_IP, OUR_IP));
	m = pop_tx();
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT(m->pkt_len == sizeof(*eh) + sizeof(*ah));
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ah = (struct rte_arp_hdr *)(eh + 1);
	CU_ASSERT(memcmp(eh->dst_addr.addr_bytes, peer_mac, 6) == 0);
	CU_ASSERT(memcmp(eh->src_addr.addr_bytes, p1->mac, 6) == 0);
	CU_ASSERT(eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP));
	CU_ASSERT(ah->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REPLY));
	CU_ASSERT(memcmp(ah->arp_data.arp_sha.addr_bytes, p1->mac, 6) == 0);
	CU_ASSERT(ah->arp_data.arp_sip == rte_cpu_to_be_32(OUR_IP));
	CU_ASSERT(memcmp(ah->arp_data.arp_tha.addr_bytes, peer_mac, 6) == 0);
	CU_ASSERT(ah->arp_data.arp_tip == rte_cpu_to_be_32(PEER_IP));
	rte_pktmbuf_free(m);
	/* RFC 826: the asker is learned since the request was for us */
	CU_ASSERT(net_arp_lookup(nl, rte_cpu_to_be_32(PEER_IP), mac));
	CU_ASSERT(memcmp(mac, peer_mac, 6) == 0);
	CU_ASSERT(ctr(NET_C_ARP_REQ_RX) == 1);
	CU_ASSERT(ctr(NET_C_ARP_REPLY_TX) == 1);
	CU_ASSERT(ctr(NET_C_ARP_LEARNED) == 1);
	CU_ASSERT(pop_tx() == NULL);
}

static void test_arp_not_for_us(void)
{
	uint8_t mac[6];

	reset_nl();
	feed_done(mk_arp(bcast, RTE_ARP_OP_REQUEST, peer_mac, PEER_IP, PEER2_IP));
	CU_ASSERT(pop_tx() == NULL);
	/* unknown sender, not for us: not learned (RFC 826) */
	CU_ASSERT_FALSE(net_arp_lookup(nl, rte_cpu_to_be_32(PEER_IP), mac));
	CU_ASSERT(ctr(NET_C_ARP_NOT_FOR_US) == 1);
	/* a known sender is updated from any ARP packet */
	feed_done(mk_arp(bcast, RTE_ARP_OP_REQUEST, peer_mac, PEER_IP, OUR_IP));
	rte_pktmbuf_free(pop_tx());
	feed_done(mk_arp(bcast, RTE_ARP_OP_REQUEST, peer2_mac, PEER_IP, PEER2_IP));
	CU_ASSERT(net_arp_lookup(nl, rte_cpu_to_be_32(PEER_IP), mac));
	CU_ASSERT(memcmp(mac, peer2_mac, 6) == 0);
	CU_ASSERT(ctr(NET_C_ARP_UPDATED) == 1);
	CU_ASSERT(pop_tx() == NULL);
}

static void test_arp_malformed(void)
{
	struct rte_mbuf *m;
	struct rte_arp_hdr *ah;

	reset_nl();
	/* protocol length 6: not IPv4-over-Ethernet ARP */
	m = mk_arp(bcast, RTE_ARP_OP_REQUEST, peer_mac, PEER_IP, OUR_IP);
	ah = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, sizeof(struct rte_ether_hdr));
	ah->arp_plen = 6;
	feed_done(m);
	/* truncated: 10 bytes of ARP */
	m = mk_arp(bcast, RTE_ARP_OP_REQUEST, peer_mac, PEER_IP, OUR_IP);
	rte_pktmbuf_trim(m, sizeof(struct rte_arp_hdr) - 10);
	feed_done(m);
	/* opcode 9 */
	m = mk_arp(bcast, 9, peer_mac, PEER_IP, OUR_IP);
	feed_done(m);
	/* someone else claims our address */
	feed_done(mk_arp(bcast, RTE_ARP_OP_REPLY, peer_mac, OUR_IP, OUR_IP));
	/* sender outside our prefix */
	feed_done(mk_arp(bcast, RTE_ARP_OP_REQUEST, peer_mac, FAR_IP, OUR_IP));
	CU_ASSERT(ctr(NET_C_ARP_BAD) == 2);
	CU_ASSERT(ctr(NET_C_ARP_BAD_OP) == 1);
	CU_ASSERT(ctr(NET_C_ARP_CONFLICT) == 1);
	CU_ASSERT(ctr(NET_C_ARP_OFFLINK) == 1);
	CU_ASSERT(ctr(NET_C_ARP_LEARNED) == 0);
	/* the off-link asker still gets its answer (it asked for us) */
	rte_pktmbuf_free(pop_tx());
	CU_ASSERT(pop_tx() == NULL);
}

static void test_garp_at_start(void)
{
	struct net_conf c = nconf;
	struct rte_mbuf *m;
	struct rte_arp_hdr *ah;

	net_lcore_fini(nl);
	c.garp = true;
	CU_ASSERT_FATAL(net_lcore_init(nl, &c, &p1->w[0], NULL, SEC) == 0);
	drain(tx1);
	net_poll(nl, SEC);
	net_poll(nl, 2 * SEC);
	m = pop_tx();
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT(memcmp(rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr.addr_bytes, bcast,
			 6) == 0);
	ah = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, sizeof(struct rte_ether_hdr));
	CU_ASSERT(ah->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST));
	CU_ASSERT(ah->arp_data.arp_sip == rte_cpu_to_be_32(OUR_IP));
	CU_ASSERT(ah->arp_data.arp_tip == rte_cpu_to_be_32(OUR_IP));
	rte_pktmbuf_free(m);
	CU_ASSERT(pop_tx() == NULL); /* once only */
	CU_ASSERT(ctr(NET_C_ARP_GARP_TX) == 1);
}

/* ---- ICMP ---- */

static void test_icmp_echo(void)
{
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *ic;
	const uint8_t *data;
	bool same = true;

	reset_nl();
	feed_done(mk_echo(56));
	m = pop_tx();
	CU_ASSERT_FATAL(m != NULL);
	ip = ip_of(m);
	ic = (struct rte_icmp_hdr *)(ip + 1);
	CU_ASSERT(memcmp(rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr.addr_bytes, peer_mac,
			 6) == 0);
	CU_ASSERT(ip->src_addr == rte_cpu_to_be_32(OUR_IP));
	CU_ASSERT(ip->dst_addr == rte_cpu_to_be_32(PEER_IP));
	CU_ASSERT(rte_raw_cksum(ip, sizeof(*ip)) == 0xffff);
	CU_ASSERT(ic->icmp_type == RTE_IP_ICMP_ECHO_REPLY);
	CU_ASSERT(ic->icmp_ident == rte_cpu_to_be_16(77));
	CU_ASSERT(ic->icmp_seq_nb == rte_cpu_to_be_16(5));
	CU_ASSERT(rte_raw_cksum(ic, sizeof(*ic) + 56) == 0xffff);
	data = (const uint8_t *)(ic + 1);
	for (uint32_t i = 0; i < 56; i++)
		same = same && data[i] == (uint8_t)((i + sizeof(*ic)) * 7);
	CU_ASSERT(same);
	rte_pktmbuf_free(m);
	CU_ASSERT(ctr(NET_C_ICMP_ECHO_RX) == 1);
	CU_ASSERT(ctr(NET_C_ICMP_ECHO_TX) == 1);
}

/* Every echo size from 0 to 300 data bytes gets a reply with a valid checksum (the
 * incremental update across the carry). */
static void test_icmp_echo_sizes(void)
{
	uint32_t ok = 0;

	reset_nl();
	for (uint32_t n = 0; n <= 300; n++) {
		struct rte_mbuf *m = mk_echo(n), *r;
		struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ip_of(m) + 1);

		ic->icmp_seq_nb = rte_cpu_to_be_16((uint16_t)(n * 977));
		ic->icmp_cksum = 0;
		ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, sizeof(*ic) + n);
		feed_done(m);
		r = pop_tx();
		if (r != NULL && rte_raw_cksum(ip_of(r) + 1, sizeof(*ic) + n) == 0xffff)
			ok++;
		rte_pktmbuf_free(r);
	}
	CU_ASSERT(ok == 301);
}

static void test_icmp_bad(void)
{
	struct rte_mbuf *m;
	struct rte_icmp_hdr *ic;

	reset_nl();
	m = mk_echo(8);
	ic = (struct rte_icmp_hdr *)(ip_of(m) + 1);
	ic->icmp_cksum ^= 0x0100;
	feed_done(m);
	/* 4 bytes of ICMP */
	feed_done(mk_ip(PEER_IP, OUR_IP, IPPROTO_ICMP, 4, 0));
	/* destination unreachable: counted, no answer */
	m = mk_echo(8);
	ic = (struct rte_icmp_hdr *)(ip_of(m) + 1);
	ic->icmp_type = 3;
	ic->icmp_cksum = 0;
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, sizeof(*ic) + 8);
	feed_done(m);
	CU_ASSERT(pop_tx() == NULL);
	CU_ASSERT(ctr(NET_C_ICMP_BAD_CKSUM) == 1);
	CU_ASSERT(ctr(NET_C_ICMP_TOO_SHORT) == 1);
	CU_ASSERT(ctr(NET_C_ICMP_UNREACH_RX) == 1);
	CU_ASSERT(ctr(NET_C_ICMP_ECHO_TX) == 0);
}

/* ---- IPv4 input ---- */

static void test_ip_drops(void)
{
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ip;

	reset_nl();
	m = mk_ip(PEER_IP, OUR_IP, IPPROTO_TCP, 20, 0);
	ip_of(m)->hdr_checksum ^= 0xff;
	feed_done(m);
	m = mk_ip(PEER_IP, OUR_IP, IPPROTO_TCP, 20, 0);
	ip = ip_of(m);
	ip->version_ihl = 0x65;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	feed_done(m);
	m = mk_ip(PEER_IP, OUR_IP, IPPROTO_TCP, 20, 0);
	ip = ip_of(m);
	ip->version_ihl = 0x44;
	feed_done(m);
	/* total length past the frame */
	m = mk_ip(PEER_IP, OUR_IP, IPPROTO_TCP, 20, 0);
	ip = ip_of(m);
	ip->total_length = rte_cpu_to_be_16(200);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	feed_done(m);
	/* fragments: more-fragments, and a non-zero offset */
	m = mk_ip(PEER_IP, OUR_IP, IPPROTO_TCP, 20, 0);
	ip = ip_of(m);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	feed_done(m);
	m = mk_ip(PEER_IP, OUR_IP, IPPROTO_TCP, 20, 0);
	ip = ip_of(m);
	ip->fragment_offset = rte_cpu_to_be_16(185);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	feed_done(m);
	feed_done(mk_ip(PEER_IP, PEER2_IP, IPPROTO_TCP, 20, 0));
	feed_done(mk_ip(IP4(127, 0, 0, 1), OUR_IP, IPPROTO_TCP, 20, 0));
	feed_done(mk_ip(IP4(224, 0, 0, 1), OUR_IP, IPPROTO_TCP, 20, 0));
	feed_done(mk_ip(IP4(198, 18, 0, 255), OUR_IP, IPPROTO_TCP, 20, 0));
	feed_done(mk_ip(PEER_IP, OUR_IP, IPPROTO_UDP, 20, 0));
	feed_done(mk_ip(PEER_IP, OUR_IP, 47, 20, 0));
	m = mk_ip(PEER_IP, OUR_IP, IPPROTO_TCP, 0, 0);
	rte_pktmbuf_trim(m, 8);
	feed_done(m);
	CU_ASSERT(ctr(NET_C_IP_BAD_CKSUM) == 1);
	CU_ASSERT(ctr(NET_C_IP_BAD_VERSION) == 1);
	CU_ASSERT(ctr(NET_C_IP_BAD_IHL) == 1);
	CU_ASSERT(ctr(NET_C_IP_BAD_LEN) == 1);
	CU_ASSERT(ctr(NET_C_IP_FRAG) == 2);
	CU_ASSERT(ctr(NET_C_IP_NOT_FOR_US) == 1);
	CU_ASSERT(ctr(NET_C_IP_BAD_SRC) == 3);
	CU_ASSERT(ctr(NET_C_IP_UDP) == 1);
	CU_ASSERT(ctr(NET_C_IP_PROTO_OTHER) == 1);
	CU_ASSERT(ctr(NET_C_IP_TOO_SHORT) == 1);
	CU_ASSERT(ctr(NET_C_IP_TCP) == 0);
	CU_ASSERT(pop_tx() == NULL);
	CU_ASSERT(rte_mempool_in_use_count(tpool) == 0);
}

static void test_ip_rx_offload_flags(void)
{
	struct rte_mbuf *m;
	struct net_l4 l4;

	reset_nl();
	/* a driver that checked the header says BAD: dropped though the sum is right */
	m = mk_ip(PEER_IP, OUR_IP, IPPROTO_TCP, 20, 0);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
	feed_done(m);
	/* GOOD: trusted without recomputing (the sum here is wrong on purpose) */
	m = mk_ip(PEER_IP, OUR_IP, IPPROTO_TCP, 20, 0);
	ip_of(m)->hdr_checksum ^= 0x5555;
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	CU_ASSERT(net_input(nl, m, &l4) == NET_RX_TCP);
	rte_pktmbuf_free(m);
	CU_ASSERT(ctr(NET_C_IP_BAD_CKSUM) == 1);
}

static void test_ip_tcp_up(void)
{
	struct rte_mbuf *m;
	struct net_l4 l4;
	const uint8_t *d;

	reset_nl();
	/* 20-byte TCP segment in a frame padded to the 60-byte Ethernet minimum */
	m = mk_ip(PEER_IP, OUR_IP, IPPROTO_TCP, 20, 6);
	CU_ASSERT_FATAL(net_input(nl, m, &l4) == NET_RX_TCP);
	CU_ASSERT(m->pkt_len == 20);
	CU_ASSERT(m->data_len == 20);
	CU_ASSERT(l4.saddr_be == rte_cpu_to_be_32(PEER_IP));
	CU_ASSERT(l4.daddr_be == rte_cpu_to_be_32(OUR_IP));
	d = rte_pktmbuf_mtod(m, const uint8_t *);
	CU_ASSERT(d[0] == 0 && d[1] == 7 && d[19] == (uint8_t)(19 * 7));
	CU_ASSERT(m->l3_len == 20);
	rte_pktmbuf_free(m);
	CU_ASSERT(ctr(NET_C_IP_PADDING) == 1);
	CU_ASSERT(ctr(NET_C_IP_TCP) == 1);
}

/* Splits frame m after `first` bytes into a two-segment chain. */
static struct rte_mbuf *split2(struct rte_mbuf *m, uint16_t first)
{
	struct rte_mbuf *t = rte_pktmbuf_alloc(tpool);
	uint16_t rest = (uint16_t)(m->data_len - first);

	memcpy(rte_pktmbuf_append(t, rest), rte_pktmbuf_mtod_offset(m, uint8_t *, first), rest);
	rte_pktmbuf_trim(m, rest);
	CU_ASSERT_FATAL(rte_pktmbuf_chain(m, t) == 0);
	return m;
}

static void test_ip_tcp_two_segments(void)
{
	struct rte_mbuf *m;
	struct net_l4 l4;

	reset_nl();
	/* 14 + 20 + 20 TCP + 6 padding; the second segment holds 4 segment bytes and the
	 * padding: trimmed, 20 bytes handed up over both segments */
	m = split2(mk_ip(PEER_IP, OUR_IP, IPPROTO_TCP, 20, 6), 50);
	CU_ASSERT_FATAL(net_input(nl, m, &l4) == NET_RX_TCP);
	CU_ASSERT(m->pkt_len == 20 && m->nb_segs == 2);
	rte_pktmbuf_free(m);
	/* the second segment holds only 3 of the 6 padding bytes: refused, not handed up
	 * with a wrong length */
	m = split2(mk_ip(PEER_IP, OUR_IP, IPPROTO_TCP, 20, 6), 57);
	feed_done(m);
	CU_ASSERT(ctr(NET_C_IP_BAD_LEN) == 1);
	CU_ASSERT(ctr(NET_C_IP_TCP) == 1);
	/* an echo request split at an odd offset of its data: checksum verified over both
	 * segments (rte_raw_cksum_mbuf of DPDK 22.11 gets this one wrong) */
	m = split2(mk_echo(40), 14 + 20 + 8 + 13);
	feed_done(m);
	CU_ASSERT(ctr(NET_C_ICMP_ECHO_TX) == 1);
	m = pop_tx();
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT(m->pkt_len == 14 + 20 + 8 + 40);
	rte_pktmbuf_free(m);
	CU_ASSERT(rte_mempool_in_use_count(tpool) == 0);
}

/* ---- Ethernet ---- */

static void test_eth_drops(void)
{
	struct rte_mbuf *m;

	reset_nl();
	m = rte_pktmbuf_alloc(tpool);
	rte_pktmbuf_append(m, 10);
	feed_done(m);
	m = rte_pktmbuf_alloc(tpool);
	put_eth(m, peer2_mac, peer_mac, RTE_ETHER_TYPE_IPV4, 40);
	feed_done(m);
	m = rte_pktmbuf_alloc(tpool);
	put_eth(m, p1->mac, peer_mac, RTE_ETHER_TYPE_VLAN, 40);
	feed_done(m);
	m = rte_pktmbuf_alloc(tpool);
	put_eth(m, bcast, peer_mac, RTE_ETHER_TYPE_IPV6, 40);
	feed_done(m);
	m = rte_pktmbuf_alloc(tpool);
	put_eth(m, bcast, peer_mac, 0x88cc, 40);
	feed_done(m);
	CU_ASSERT(ctr(NET_C_ETH_RUNT) == 1);
	CU_ASSERT(ctr(NET_C_ETH_NOT_FOR_US) == 1);
	CU_ASSERT(ctr(NET_C_ETH_VLAN) == 1);
	CU_ASSERT(ctr(NET_C_ETH_IPV6) == 1);
	CU_ASSERT(ctr(NET_C_ETH_TYPE_OTHER) == 1);
	CU_ASSERT(rte_mempool_in_use_count(tpool) == 0);
}

/* ---- IPv4 output and resolution ---- */

/* An mbuf with n payload bytes and headroom for the headers, as TCP builds them. */
static struct rte_mbuf *mk_l4(uint32_t n, uint8_t fill)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(tpool);
	uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);

	memset(d, fill, n);
	return m;
}

static void check_ip_out(struct rte_mbuf *m, const uint8_t *dmac, uint32_t dst, uint32_t n,
			 uint8_t fill)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = ip_of(m);

	CU_ASSERT(memcmp(eh->dst_addr.addr_bytes, dmac, 6) == 0);
	CU_ASSERT(memcmp(eh->src_addr.addr_bytes, p1->mac, 6) == 0);
	CU_ASSERT(eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4));
	CU_ASSERT(ip->version_ihl == 0x45);
	CU_ASSERT(rte_be_to_cpu_16(ip->total_length) == 20 + n);
	CU_ASSERT(ip->dst_addr == rte_cpu_to_be_32(dst));
	CU_ASSERT(ip->src_addr == rte_cpu_to_be_32(OUR_IP));
	CU_ASSERT(ip->time_to_live == 64);
	CU_ASSERT(ip->next_proto_id == IPPROTO_TCP);
	CU_ASSERT(ip->fragment_offset == rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG));
	CU_ASSERT(rte_raw_cksum(ip, 20) == 0xffff);
	CU_ASSERT(m->pkt_len == 14 + 20 + n);
	CU_ASSERT(((uint8_t *)(ip + 1))[n - 1] == fill);
}

static void test_output_resolves(void)
{
	struct rte_mbuf *m;
	struct rte_arp_hdr *ah;

	reset_nl();
	CU_ASSERT(net_ip_output(nl, mk_l4(100, 0xa1), rte_cpu_to_be_32(OUR_IP),
				rte_cpu_to_be_32(PEER_IP), IPPROTO_TCP) == 0);
	CU_ASSERT(net_ip_output(nl, mk_l4(50, 0xa2), rte_cpu_to_be_32(OUR_IP),
				rte_cpu_to_be_32(PEER_IP), IPPROTO_TCP) == 0);
	/* one request for both */
	m = pop_tx();
	CU_ASSERT_FATAL(m != NULL);
	ah = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, sizeof(struct rte_ether_hdr));
	CU_ASSERT(ah->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST));
	CU_ASSERT(ah->arp_data.arp_tip == rte_cpu_to_be_32(PEER_IP));
	CU_ASSERT(ah->arp_data.arp_sip == rte_cpu_to_be_32(OUR_IP));
	rte_pktmbuf_free(m);
	CU_ASSERT(pop_tx() == NULL);
	CU_ASSERT(ctr(NET_C_ARP_QUEUED) == 2);
	/* the reply releases both, in order */
	feed_done(mk_arp(p1->mac, RTE_ARP_OP_REPLY, peer_mac, PEER_IP, OUR_IP));
	m = pop_tx();
	CU_ASSERT_FATAL(m != NULL);
	check_ip_out(m, peer_mac, PEER_IP, 100, 0xa1);
	rte_pktmbuf_free(m);
	m = pop_tx();
	CU_ASSERT_FATAL(m != NULL);
	check_ip_out(m, peer_mac, PEER_IP, 50, 0xa2);
	rte_pktmbuf_free(m);
	CU_ASSERT(pop_tx() == NULL);
	/* now resolved: straight out */
	CU_ASSERT(net_ip_output(nl, mk_l4(10, 0xa3), rte_cpu_to_be_32(OUR_IP),
				rte_cpu_to_be_32(PEER_IP), IPPROTO_TCP) == 0);
	m = pop_tx();
	CU_ASSERT_FATAL(m != NULL);
	check_ip_out(m, peer_mac, PEER_IP, 10, 0xa3);
	CU_ASSERT(rte_be_to_cpu_16(ip_of(m)->packet_id) == 2);
	rte_pktmbuf_free(m);
	CU_ASSERT(ctr(NET_C_ARP_QUEUE_SENT) == 2);
	CU_ASSERT(ctr(NET_C_IP_TX) == 3);
}

static void test_output_gateway_and_no_route(void)
{
	struct net_conf c = nconf;
	struct rte_mbuf *m;
	struct rte_arp_hdr *ah;

	reset_nl();
	CU_ASSERT(net_ip_output(nl, mk_l4(10, 1), rte_cpu_to_be_32(OUR_IP),
				rte_cpu_to_be_32(FAR_IP), IPPROTO_TCP) == -ENETUNREACH);
	CU_ASSERT(ctr(NET_C_IP_TX_NO_ROUTE) == 1);
	net_lcore_fini(nl);
	c.gateway = rte_cpu_to_be_32(GW_IP);
	CU_ASSERT_FATAL(net_lcore_init(nl, &c, &p1->w[0], NULL, SEC) == 0);
	net_poll(nl, SEC);
	CU_ASSERT(net_ip_output(nl, mk_l4(10, 2), rte_cpu_to_be_32(OUR_IP),
				rte_cpu_to_be_32(FAR_IP), IPPROTO_TCP) == 0);
	m = pop_tx();
	CU_ASSERT_FATAL(m != NULL);
	ah = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, sizeof(struct rte_ether_hdr));
	CU_ASSERT(ah->arp_data.arp_tip == rte_cpu_to_be_32(GW_IP));
	rte_pktmbuf_free(m);
	feed_done(mk_arp(p1->mac, RTE_ARP_OP_REPLY, gw_mac, GW_IP, OUR_IP));
	m = pop_tx();
	CU_ASSERT_FATAL(m != NULL);
	check_ip_out(m, gw_mac, FAR_IP, 10, 2);
	rte_pktmbuf_free(m);
	/* too big for the MTU, no headroom */
	CU_ASSERT(net_ip_output(nl, mk_l4(1481, 3), rte_cpu_to_be_32(OUR_IP),
				rte_cpu_to_be_32(PEER_IP), IPPROTO_TCP) == -EMSGSIZE);
	m = mk_l4(10, 4);
	rte_pktmbuf_prepend(m, (uint16_t)(rte_pktmbuf_headroom(m) - 20));
	CU_ASSERT(net_ip_output(nl, m, rte_cpu_to_be_32(OUR_IP), rte_cpu_to_be_32(PEER_IP),
				IPPROTO_TCP) == -ENOSPC);
	CU_ASSERT(ctr(NET_C_IP_TX_TOO_BIG) == 1);
	CU_ASSERT(ctr(NET_C_IP_TX_NO_HEADROOM) == 1);
	CU_ASSERT(pop_tx() == NULL);
}

static void test_resolution_timeout(void)
{
	uint64_t t = SEC;
	uint32_t requests = 0;
	struct rte_mbuf *m;

	reset_nl();
	for (int i = 0; i < 6; i++) {
		int rc = net_ip_output(nl, mk_l4(10, 1), rte_cpu_to_be_32(OUR_IP),
				       rte_cpu_to_be_32(PEER2_IP), IPPROTO_TCP);

		CU_ASSERT(rc == (i < 4 ? 0 : -ENOBUFS));
	}
	/* 10 simulated seconds in 10 ms steps */
	for (int i = 0; i < 1000; i++) {
		t += 10 * MS;
		net_poll(nl, t);
	}
	while ((m = pop_tx()) != NULL) {
		requests++;
		rte_pktmbuf_free(m);
	}
	CU_ASSERT(requests == 3);
	CU_ASSERT(ctr(NET_C_ARP_REQ_TX) == 3);
	CU_ASSERT(ctr(NET_C_ARP_QUEUE_FULL) == 2);
	CU_ASSERT(ctr(NET_C_ARP_QUEUE_TIMEOUT) == 4);
	CU_ASSERT(ctr(NET_C_ARP_FAILED) == 1);
	CU_ASSERT(nl->npending == 0);
	CU_ASSERT(rte_mempool_in_use_count(tpool) == 0);
}

/* ---- port ---- */

/* A TX queue of 64 descriptors behind an 8-slot ring: a flush that cannot place
 * everything keeps the rest in order and sends it on a later flush. */
static void test_tx_short_count(void)
{
	struct port_txq *q = &psmall->w[0].txq;
	uint32_t seen = 0, in_order = 0;
	void *m;

	for (uint32_t i = 0; i < 12; i++) {
		struct rte_mbuf *b = mk_l4(1, 0);

		b->hash.usr = i;
		port_tx(q, b);
	}
	CU_ASSERT(port_tx_flush(q) == 12 - 7);
	CU_ASSERT(psmall->w[0].ctr.v[PORT_C_TX_SHORT] == 1);
	while (rte_ring_dequeue(txs, &m) == 0) {
		in_order += ((struct rte_mbuf *)m)->hash.usr == seen;
		seen++;
		rte_pktmbuf_free(m);
	}
	CU_ASSERT(port_tx_flush(q) == 0);
	while (rte_ring_dequeue(txs, &m) == 0) {
		in_order += ((struct rte_mbuf *)m)->hash.usr == seen;
		seen++;
		rte_pktmbuf_free(m);
	}
	CU_ASSERT(seen == 12);
	CU_ASSERT(in_order == 12);
	CU_ASSERT(psmall->w[0].ctr.v[PORT_C_TX_PKTS] == 12);
}

/* A TCP frame from src:sport to us:dport. */
static struct rte_mbuf *mk_tcp_frame(uint32_t src, uint16_t sport, uint16_t dport)
{
	struct rte_mbuf *m = mk_ip(src, OUR_IP, IPPROTO_TCP, 20, 0);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip_of(m) + 1);

	th->src_port = rte_cpu_to_be_16(sport);
	th->dst_port = rte_cpu_to_be_16(dport);
	return m;
}

static void test_sw_dispatch(void)
{
	struct rte_mbuf *pk[PORT_BURST];
	uint32_t want[2] = {0, 0}, got[2] = {0, 0}, right = 0;
	uint16_t n;

	CU_ASSERT_FATAL(p2->mode == PORT_MODE_SW);
	CU_ASSERT(p2->nb_rxq == 1);
	CU_ASSERT(p2->w[0].rxq == 0 && p2->w[1].rxq == UINT16_MAX);
	for (uint16_t i = 0; i < 32; i++) {
		uint16_t sport = (uint16_t)(40000 + i * 13);
		struct rte_mbuf *m = mk_tcp_frame(PEER_IP, sport, 80);

		want[port_flow_owner(p2, rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_32(OUR_IP), sport,
				     80)]++;
		m->hash.usr = sport;
		CU_ASSERT(rte_ring_enqueue(rx2, m) == 0);
	}
	/* an ARP frame stays with the poller */
	CU_ASSERT(rte_ring_enqueue(rx2, mk_arp(bcast, 1, peer_mac, PEER_IP, OUR_IP)) == 0);
	want[0]++;
	CU_ASSERT(want[0] > 0 && want[1] > 0); /* 32 flows land on both (secret seed) */
	for (int w = 0; w < 2; w++) {
		for (int round = 0; round < 4; round++) {
			n = port_rx(&p2->w[w], pk, PORT_BURST);
			for (uint16_t i = 0; i < n; i++) {
				const struct rte_ether_hdr *eh =
					rte_pktmbuf_mtod(pk[i], const struct rte_ether_hdr *);

				got[w]++;
				if (eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
				    port_flow_owner(p2, rte_cpu_to_be_32(PEER_IP),
						    rte_cpu_to_be_32(OUR_IP),
						    (uint16_t)pk[i]->hash.usr, 80) == w)
					right++;
				rte_pktmbuf_free(pk[i]);
			}
		}
	}
	CU_ASSERT(got[0] == want[0]);
	CU_ASSERT(got[1] == want[1]);
	CU_ASSERT(right == 33);
	CU_ASSERT(p2->w[0].ctr.v[PORT_C_DISPATCH_OUT] == want[1]);
	CU_ASSERT(p2->w[1].ctr.v[PORT_C_DISPATCH_IN] == want[1]);
}

/* A port with one TX queue for two workers: worker 1's frames go out through
 * worker 0's queue, all of them, once worker 0 flushes. */
static void test_tx_forwarding(void)
{
	uint32_t out = 0;
	void *m;

	CU_ASSERT_FATAL(p3->nb_txq == 1);
	CU_ASSERT(p3->w[1].txq.fwd != NULL && p3->w[0].txq.ntxin == 1);
	for (int i = 0; i < 40; i++)
		port_tx(&p3->w[1].txq, mk_l4(1, 0));
	port_tx_flush(&p3->w[1].txq);
	CU_ASSERT(rte_ring_count(tx3) == 0);
	port_tx(&p3->w[0].txq, mk_l4(1, 0));
	CU_ASSERT(port_tx_flush(&p3->w[0].txq) == 0);
	while (rte_ring_dequeue(tx3, &m) == 0) {
		out++;
		rte_pktmbuf_free(m);
	}
	CU_ASSERT(out == 41);
	CU_ASSERT(p3->w[1].ctr.v[PORT_C_TX_FWD_OUT] == 40);
	CU_ASSERT(p3->w[0].ctr.v[PORT_C_TX_FWD_IN] == 40);
	CU_ASSERT(p3->w[0].ctr.v[PORT_C_TX_PKTS] == 41);
}

/* A learning on worker 0 reaches worker 1's cache through the shared ring. */
static void test_arp_shared(void)
{
	struct net_shared sh;
	struct net_lcore *a = zalloc64(sizeof(*a)), *b = zalloc64(sizeof(*b));
	char err[128];
	uint8_t mac[6];

	CU_ASSERT_FATAL(a != NULL && b != NULL);
	CU_ASSERT_FATAL(net_shared_create(&sh, 2, err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(net_lcore_init(a, &nconf, &p2->w[0], &sh, SEC) == 0);
	CU_ASSERT_FATAL(net_lcore_init(b, &nconf, &p2->w[1], &sh, SEC) == 0);
	net_poll(a, SEC);
	net_poll(b, SEC);
	/* b waits for PEER_IP */
	CU_ASSERT(net_ip_output(b, mk_l4(10, 9), rte_cpu_to_be_32(OUR_IP),
				rte_cpu_to_be_32(PEER_IP), IPPROTO_TCP) == 0);
	CU_ASSERT(b->npending == 1);
	{
		struct net_l4 l4;

		/* the reply lands on a */
		CU_ASSERT(net_input(a, mk_arp(p2->mac, RTE_ARP_OP_REPLY, peer_mac, PEER_IP, OUR_IP),
				    &l4) == NET_RX_DONE);
	}
	CU_ASSERT(a->ctr.v[NET_C_ARP_SHARE_TX] == 1);
	net_poll(b, SEC + MS);
	CU_ASSERT(b->ctr.v[NET_C_ARP_SHARE_RX] == 1);
	CU_ASSERT(net_arp_lookup(b, rte_cpu_to_be_32(PEER_IP), mac));
	CU_ASSERT(memcmp(mac, peer_mac, 6) == 0);
	CU_ASSERT(b->npending == 0);
	CU_ASSERT(b->ctr.v[NET_C_ARP_QUEUE_SENT] == 1);
	port_tx_flush(&p2->w[0].txq);
	port_tx_flush(&p2->w[1].txq);
	drain(tx2a);
	drain(tx2b);
	net_lcore_fini(a);
	net_lcore_fini(b);
	net_shared_free(&sh);
	free(a);
	free(b);
}

static int resolve(const char *address, uint32_t gw)
{
	struct net_conf c = nconf;
	char err[128];

	snprintf(c.address, sizeof(c.address), "%s", address);
	c.gateway = gw;
	return net_conf_resolve(&c, err, sizeof(err));
}

static void test_conf_resolve(void)
{
	struct net_conf c = nconf;
	char err[128];

	snprintf(c.address, sizeof(c.address), "10.1.2.3");
	CU_ASSERT(net_conf_resolve(&c, err, sizeof(err)) == 0);
	CU_ASSERT(c.addr == rte_cpu_to_be_32(IP4(10, 1, 2, 3)) && c.prefix == 32);
	CU_ASSERT(resolve("198.18.0.1/24", rte_cpu_to_be_32(GW_IP)) == 0);
	CU_ASSERT(resolve("198.18.0.1/24", rte_cpu_to_be_32(FAR_IP)) == -EINVAL);
	CU_ASSERT(resolve("198.18.0.1/24", rte_cpu_to_be_32(OUR_IP)) == -EINVAL);
	CU_ASSERT(resolve("224.1.1.1/24", 0) == -EINVAL);
	CU_ASSERT(resolve("127.0.0.1/8", 0) == -EINVAL);
	CU_ASSERT(resolve("0.0.0.0/8", 0) == -EINVAL);
	CU_ASSERT(resolve("1.2.3.256/24", 0) == -EINVAL);
	CU_ASSERT(resolve("1.2.3/24", 0) == -EINVAL);
	CU_ASSERT(resolve("1.2.3.4/0", 0) == -EINVAL);
	CU_ASSERT(resolve("1.2.3.4/33", 0) == -EINVAL);
	CU_ASSERT(resolve("1.2.3.4/", 0) == -EINVAL);
	CU_ASSERT(resolve("1.2.3.4 /24", 0) == -EINVAL);
	CU_ASSERT(resolve("01234.2.3.4/24", 0) == -EINVAL);
	CU_ASSERT(resolve("", 0) == -EINVAL);
}

int main(int argc, char **argv)
{
	CU_pSuite s;
	unsigned int fails;

	(void)argc;
	(void)argv;
	if (ut_eal_init("test_net", "256", "ts_ut_net") != 0)
		return 1;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("net", suite_init, NULL);
	if (s == NULL || !CU_add_test(s, "arp_request_answered", test_arp_request_answered) ||
	    !CU_add_test(s, "arp_not_for_us", test_arp_not_for_us) ||
	    !CU_add_test(s, "arp_malformed", test_arp_malformed) ||
	    !CU_add_test(s, "garp_at_start", test_garp_at_start) ||
	    !CU_add_test(s, "icmp_echo", test_icmp_echo) ||
	    !CU_add_test(s, "icmp_echo_sizes", test_icmp_echo_sizes) ||
	    !CU_add_test(s, "icmp_bad", test_icmp_bad) ||
	    !CU_add_test(s, "ip_drops", test_ip_drops) ||
	    !CU_add_test(s, "ip_rx_offload_flags", test_ip_rx_offload_flags) ||
	    !CU_add_test(s, "ip_tcp_up", test_ip_tcp_up) ||
	    !CU_add_test(s, "ip_tcp_two_segments", test_ip_tcp_two_segments) ||
	    !CU_add_test(s, "eth_drops", test_eth_drops) ||
	    !CU_add_test(s, "output_resolves", test_output_resolves) ||
	    !CU_add_test(s, "output_gateway_and_no_route", test_output_gateway_and_no_route) ||
	    !CU_add_test(s, "resolution_timeout", test_resolution_timeout) ||
	    !CU_add_test(s, "tx_short_count", test_tx_short_count) ||
	    !CU_add_test(s, "sw_dispatch", test_sw_dispatch) ||
	    !CU_add_test(s, "tx_forwarding", test_tx_forwarding) ||
	    !CU_add_test(s, "arp_shared", test_arp_shared) ||
	    !CU_add_test(s, "conf_resolve", test_conf_resolve)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed() +
		CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	if (nl != NULL)
		net_lcore_fini(nl);
	port_close(p1);
	port_close(p2);
	port_close(psmall);
	port_close(p3);
	rte_eal_cleanup();
	return fails == 0 ? 0 : 1;
}
