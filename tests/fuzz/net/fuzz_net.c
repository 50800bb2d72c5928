/* SPDX-License-Identifier: proprietary */
/*
 * libFuzzer target: arbitrary Ethernet frames into the L2/L3 input path
 * (net_input: Ethernet, ARP, IPv4, ICMP), with the ARP cache, the resolution queue
 * and the periodic scan driven along. EAL runs without hugepages or shared files (--no-huge
 * --no-shconf) with an in-memory net_ring port whose TX ring is drained after every input.
 *
 * Input layout: byte 0 selects extras (bit 0: split the frame over two mbuf segments,
 * bit 1: also send a datagram to the address in bytes 1..4, bit 2: advance the clock
 * by 1 s), the rest is the frame.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "fuzz.h"
#include "net.h"
#include "port.h"
#include "tsconf.h"

static struct port *port;
static struct net_lcore *nl;
static struct rte_ring *txr;
static struct rte_mempool *pool;
static uint64_t now_ns = 1000000000;

static void *zalloc64(size_t size)
{
	size_t n = (size + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, n);

	if (p == NULL)
		abort();
	memset(p, 0, n);
	return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* A private file prefix and no telemetry socket: the replay test
	 * (replay_net) runs beside other EAL unit tests. */
	static char args[][32] = { "fuzz_net", "--no-huge", "--no-pci", "--no-shconf",
				   "--file-prefix", "ts_fuzz_net", "--no-telemetry", "-m", "128",
				   "-l", "0", "--log-level", "lib.eal:error" };
	char *eal[sizeof(args) / sizeof(args[0]) + 1];
	struct rte_ring *rxr;
	struct port_conf pc;
	struct net_conf conf;
	struct tsconf *c = tsconf_create();
	unsigned int lc[1];
	char err[256];
	int id;

	(void)argc;
	(void)argv;
	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++)
		eal[i] = args[i];
	eal[sizeof(args) / sizeof(args[0])] = NULL;
	if (rte_eal_init((int)(sizeof(args) / sizeof(args[0])), eal) < 0 || c == NULL ||
	    port_conf_register(c, &pc, err, sizeof(err)) != 0 ||
	    net_conf_register(c, &conf, err, sizeof(err)) != 0)
		abort();
	tsconf_destroy(c);
	rxr = rte_ring_create("fz_rx", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	txr = rte_ring_create("fz_tx", 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	pool = rte_pktmbuf_pool_create("fz_pool", 1023, 0, 0, 2176, SOCKET_ID_ANY);
	if (rxr == NULL || txr == NULL || pool == NULL)
		abort();
	id = rte_eth_from_rings("fz_p", &rxr, 1, &txr, 1, (unsigned int)rte_socket_id());
	if (id < 0)
		abort();
	pc.port_id = (uint64_t)id;
	pc.mbufs = 1023;
	pc.mbuf_cache = 0;
	lc[0] = rte_lcore_id();
	port = zalloc64(sizeof(*port));
	if (port_setup(port, &pc, 1, lc, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	conf.arp_queue = 16;
	if (net_conf_resolve(&conf, err, sizeof(err)) != 0)
		abort();
	nl = zalloc64(sizeof(*nl));
	if (net_lcore_init(nl, &conf, &port->w[0], NULL, now_ns) != 0)
		abort();
	net_poll(nl, now_ns);
	return 0;
}

static void drain_tx(void)
{
	void *m;

	port_tx_flush(nl->txq);
	while (rte_ring_dequeue(txr, &m) == 0)
		rte_pktmbuf_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rte_mbuf *m, *m2;
	struct net_l4 l4;
	uint8_t flags;
	size_t len, first;

	if (size < 1 || size > 4000)
		return 0;
	flags = data[0];
	data++;
	size--;
	len = size;
	m = rte_pktmbuf_alloc(pool);
	if (m == NULL)
		abort();
	first = (flags & 1) && len > 1 ? len / 2 : len;
	if (first > rte_pktmbuf_tailroom(m))
		first = rte_pktmbuf_tailroom(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)first), data, first);
	if (first < len) {
		m2 = rte_pktmbuf_alloc(pool);
		if (m2 == NULL)
			abort();
		if (len - first > rte_pktmbuf_tailroom(m2))
			len = first + rte_pktmbuf_tailroom(m2);
		memcpy(rte_pktmbuf_append(m2, (uint16_t)(len - first)), data + first, len - first);
		if (rte_pktmbuf_chain(m, m2) != 0)
			abort();
	}
	if (net_input(nl, m, &l4) == NET_RX_TCP) {
		/* what TCP gets: exactly the segment the IPv4 header announced */
		const uint8_t *ip = data + 14;
		uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
		uint32_t tot = ((uint32_t)ip[2] << 8) | ip[3];

		if (l4.daddr_be != nl->addr_be || m->pkt_len != tot - ihl)
			abort();
		rte_pktmbuf_free(m);
	}
	if ((flags & 2) && size >= 5) {
		struct rte_mbuf *o = rte_pktmbuf_alloc(pool);
		uint32_t dst;

		memcpy(&dst, data + 1, 4);
		if (o == NULL)
			abort();
		rte_pktmbuf_append(o, 20);
		net_ip_output(nl, o, nl->addr_be, dst, 6);
	}
	if (flags & 4)
		now_ns += 1000000000;
	net_poll(nl, now_ns);
	drain_tx();
	/* nothing leaks: only the resolution queue may hold mbufs between inputs */
	if (rte_mempool_in_use_count(pool) > nl->npending)
		abort();
	return 0;
}
