/* SPDX-License-Identifier: proprietary */
/*
 * Benchmark (not a test): cost of the receive path of dataplane/tcp per in-order
 * 1448-byte data segment (tcp_input: checksum, lookup, acceptability, queueing,
 * delayed ACKs every second segment; then the app's zero-copy peek + consume),
 * with software checksums and with RX checksum offload flagged GOOD. Printed beside
 * a baseline measured in the same run: rte_raw_cksum over the same bytes.
 *
 * Usage: bench_tcp [SEGMENTS]   (EAL --no-huge, one lcore)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include "tcp.h"

#define LOCAL_IP UINT32_C(0xc6120001)
#define REMOTE_IP UINT32_C(0xc6120002)
#define PAYLOAD 1448u

static struct rte_mempool *pool;
static uint32_t our_isn;
static uint64_t acks;
static struct tcp_conn *conn;

int tcp_emit(struct tcp_stack *ts, struct rte_mbuf *m, uint32_t saddr_be, uint32_t daddr_be)
{
	const struct rte_tcp_hdr *th = rte_pktmbuf_mtod(m, const struct rte_tcp_hdr *);

	(void)ts;
	(void)saddr_be;
	(void)daddr_be;
	if (th->tcp_flags & RTE_TCP_SYN_FLAG)
		our_isn = rte_be_to_cpu_32(th->sent_seq);
	acks++;
	rte_pktmbuf_free(m);
	return 0;
}

static int accepted(struct tcp_conn *c, void *lctx)
{
	(void)lctx;
	conn = c;
	return 0;
}

static const struct tcp_ops ops = { .accepted = accepted };

static struct rte_mbuf *segment(uint32_t seq, uint32_t ack, uint8_t flags, uint32_t len,
				bool offload)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_tcp_hdr *th;
	uint8_t *p;
	uint32_t s;

	if (m == NULL) {
		fprintf(stderr, "pool empty\n");
		exit(1);
	}
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(20 + len));
	if (p == NULL) {
		fprintf(stderr, "mbuf too small\n");
		exit(1);
	}
	memset(p, 0, 20);
	memset(p + 20, 'a', len);
	th = (struct rte_tcp_hdr *)p;
	th->src_port = rte_cpu_to_be_16(40000);
	th->dst_port = rte_cpu_to_be_16(8080);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = 5 << 4;
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(65535);
	s = (rte_cpu_to_be_32(REMOTE_IP) >> 16) + (rte_cpu_to_be_32(REMOTE_IP) & 0xffff) +
	    (rte_cpu_to_be_32(LOCAL_IP) >> 16) + (rte_cpu_to_be_32(LOCAL_IP) & 0xffff) +
	    rte_cpu_to_be_16(IPPROTO_TCP) + rte_cpu_to_be_16((uint16_t)(20 + len));
	s += rte_raw_cksum(th, 20 + len);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	th->cksum = (uint16_t)~s;
	if (offload)
		m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	return m;
}

#define BATCH 512

/* ns per segment for nseg in-order segments (tcp_input + peek/consume). */
static double run(uint64_t nseg, bool offload, double *base_ns)
{
	struct tcp_stack *ts = rte_zmalloc("bench_ts", sizeof(*ts), 64);
	struct rte_mbuf *batch[BATCH];
	uint64_t cyc = 0, base = 0, now = 1000000000ull;
	uint32_t seq = 1;
	struct tcp_cfg cfg;
	volatile uint32_t sink = 0;

	tcp_cfg_defaults(&cfg);
	cfg.rx_cksum_offload = offload;
	if (ts == NULL || tcp_stack_init(ts, &cfg, pool, 0, now, NULL) < 0 ||
	    tcp_listen(ts, 0, 8080, 0, &ops, NULL) == NULL) {
		fprintf(stderr, "stack init failed\n");
		exit(1);
	}
	conn = NULL;
	tcp_input(ts, segment(0, 0, RTE_TCP_SYN_FLAG, 0, offload), rte_cpu_to_be_32(REMOTE_IP),
		  rte_cpu_to_be_32(LOCAL_IP), now);
	tcp_input(ts, segment(1, our_isn + 1, RTE_TCP_ACK_FLAG, 0, offload),
		  rte_cpu_to_be_32(REMOTE_IP), rte_cpu_to_be_32(LOCAL_IP), now);
	if (conn == NULL) {
		fprintf(stderr, "handshake failed\n");
		exit(1);
	}
	for (uint64_t done = 0; done < nseg; done += BATCH) {
		uint64_t t0;

		for (unsigned int i = 0; i < BATCH; i++) {
			batch[i] = segment(seq, our_isn + 1, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG,
					   PAYLOAD, offload);
			seq += PAYLOAD;
		}
		t0 = rte_rdtsc();
		for (unsigned int i = 0; i < BATCH; i++)
			sink += rte_raw_cksum(rte_pktmbuf_mtod(batch[i], void *), batch[i]->pkt_len);
		base += rte_rdtsc() - t0;
		t0 = rte_rdtsc();
		for (unsigned int i = 0; i < BATCH; i++) {
			struct tcp_rx_seg segs[TCP_PEEK_MAX];
			unsigned int n;
			uint32_t got = 0;

			tcp_input(ts, batch[i], rte_cpu_to_be_32(REMOTE_IP),
				  rte_cpu_to_be_32(LOCAL_IP), now);
			n = tcp_peek(conn, segs, TCP_PEEK_MAX);
			for (unsigned int k = 0; k < n; k++)
				got += segs[k].len;
			tcp_consume(ts, conn, got);
		}
		cyc += rte_rdtsc() - t0;
		now += 100000;
		tcp_timers(ts, now);
	}
	if (getenv("BENCH_COUNTERS") != NULL)
		for (unsigned int i = 0; i < TCP_C_COUNT; i++)
			if (tcp_counters(ts)[i] != 0)
				printf("  %-24s %" PRIu64 "\n", tcp_counter_names[i], tcp_counters(ts)[i]);
	tcp_stack_fini(ts);
	rte_free(ts);
	(void)sink;
	*base_ns = (double)base * 1e9 / (double)rte_get_tsc_hz() / (double)nseg;
	return (double)cyc * 1e9 / (double)rte_get_tsc_hz() / (double)nseg;
}

int main(int argc, char **argv)
{
	static char args[][32] = { "bench_tcp", "--no-huge", "--no-pci", "-m", "256",
				   "--no-shconf", "-l", "0", "--log-level", "lib.eal:error" };
	char *eal[sizeof(args) / sizeof(args[0]) + 1];
	uint64_t nseg = argc > 1 ? strtoull(argv[1], NULL, 0) : 200000;
	double sw, hw, base_sw, base_hw;

	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++)
		eal[i] = args[i];
	if (rte_eal_init((int)(sizeof(args) / sizeof(args[0])), eal) < 0)
		return 1;
	pool = rte_pktmbuf_pool_create("bench_tcp", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (pool == NULL || nseg == 0)
		return 1;
	nseg = (nseg + BATCH - 1) / BATCH * BATCH;
	/* the machine is shared: best of 5 runs of each */
	sw = hw = base_sw = base_hw = 1e30;
	for (int r = 0; r < 5; r++) {
		double b, t;

		acks = 0;
		t = run(nseg, false, &b);
		sw = t < sw ? t : sw;
		base_sw = b < base_sw ? b : base_sw;
		t = run(nseg, true, &b);
		hw = t < hw ? t : hw;
		base_hw = b < base_hw ? b : base_hw;
	}
	printf("segments %" PRIu64 " x %u B per run, ACKs sent per run %" PRIu64
	       " (delayed ACK: one per two segments)\n", nseg, PAYLOAD, acks / 2);
	printf("rx path, software checksum:   %7.1f ns/segment (%5.2f Gbit/s payload)\n", sw,
	       PAYLOAD * 8 / sw);
	printf("rx path, checksum offloaded:  %7.1f ns/segment (%5.2f Gbit/s payload)\n", hw,
	       PAYLOAD * 8 / hw);
	printf("baseline rte_raw_cksum alone: %7.1f ns/segment\n",
	       base_sw < base_hw ? base_sw : base_hw);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}
