/* SPDX-License-Identifier: proprietary */
/*
 * libFuzzer target: TCP segment input (dataplane/tcp).
 *
 * The input is a list of records driving one fresh stack with a listener on 8080:
 *   [op:1][len:1][len bytes]
 *   op % 8 == 0: the bytes are a TCP segment (header and payload) from 198.18.0.2,
 *                given to tcp_input with a correct checksum (unless len is odd and
 *                the first byte's top bit set: then as is)
 *   op % 8 == 1: same, but the ack field is taken relative to the last ISN the stack
 *                sent and seq relative to the peer's last SYN, so deep states are
 *                reachable without guessing the ISN
 *   op % 8 == 2: advance the clock by bytes[0] * 4 ms (tcp_timers every ms)
 *   op % 8 == 3: app: write len bytes on the last accepted connection
 *   op % 8 == 4: app: read everything readable
 *   op % 8 == 5: app: shutdown;  6: close;  7: abort
 * Every mbuf must be back in the pool after tcp_stack_fini (leak = crash).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include "fuzz.h"
#include "tcp.h"

#define LOCAL_IP UINT32_C(0xc6120001)
#define REMOTE_IP UINT32_C(0xc6120002)

static struct rte_mempool *pool;
static struct tcp_stack ts;
static struct tcp_conn *conn;
static uint32_t last_isn, peer_isn;

int tcp_emit(struct tcp_stack *s, struct rte_mbuf *m, uint32_t saddr_be, uint32_t daddr_be)
{
	const struct rte_tcp_hdr *th = rte_pktmbuf_mtod(m, const struct rte_tcp_hdr *);

	(void)s;
	(void)saddr_be;
	(void)daddr_be;
	if (th->tcp_flags & RTE_TCP_SYN_FLAG)
		last_isn = rte_be_to_cpu_32(th->sent_seq);
	rte_pktmbuf_free(m);
	return 0;
}

static int up_accepted(struct tcp_conn *c, void *lctx)
{
	(void)lctx;
	conn = c;
	return 0;
}

static void up_closed(struct tcp_conn *c, void *ctx, int err)
{
	(void)ctx;
	(void)err;
	if (c == conn)
		conn = NULL;
}

static const struct tcp_ops ops = { .accepted = up_accepted, .closed = up_closed };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char args[][32] = { "fuzz_tcp", "--no-huge", "--no-pci", "-m", "128",
				   "--file-prefix", "ts_fuzz_tcp", "--no-shconf", "-l", "0", "--log-level",
				   "lib.eal:error", "--no-telemetry" };
	static char *eal[sizeof(args) / sizeof(args[0]) + 1];

	(void)argc;
	(void)argv;
	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++)
		eal[i] = args[i];
	if (rte_eal_init((int)(sizeof(args) / sizeof(args[0])), eal) < 0)
		abort();
	pool = rte_pktmbuf_pool_create("fuzz_tcp", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (pool == NULL)
		abort();
	return 0;
}

static void inject(const uint8_t *p, size_t n, bool relative)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_tcp_hdr *th;
	uint8_t *d;
	uint32_t s;

	if (m == NULL)
		abort();
	d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);
	memcpy(d, p, n);
	if (n >= sizeof(*th)) {
		th = (struct rte_tcp_hdr *)d;
		th->dst_port = rte_cpu_to_be_16(8080);
		if (th->tcp_flags & RTE_TCP_SYN_FLAG)
			peer_isn = rte_be_to_cpu_32(th->sent_seq);
		if (relative) {
			th->recv_ack = rte_cpu_to_be_32(rte_be_to_cpu_32(th->recv_ack) + last_isn);
			if (!(th->tcp_flags & RTE_TCP_SYN_FLAG))
				th->sent_seq =
					rte_cpu_to_be_32(rte_be_to_cpu_32(th->sent_seq) + peer_isn);
		}
		if (!((n & 1) && (p[0] & 0x80))) {
			th->cksum = 0;
			s = (rte_cpu_to_be_32(REMOTE_IP) >> 16) + (rte_cpu_to_be_32(REMOTE_IP) & 0xffff) +
			    (rte_cpu_to_be_32(LOCAL_IP) >> 16) + (rte_cpu_to_be_32(LOCAL_IP) & 0xffff);
			s += rte_cpu_to_be_16(IPPROTO_TCP) + rte_cpu_to_be_16((uint16_t)n);
			s += rte_raw_cksum(d, n);
			s = (s & 0xffff) + (s >> 16);
			s = (s & 0xffff) + (s >> 16);
			th->cksum = (uint16_t)~s;
		}
	}
	tcp_input(&ts, m, rte_cpu_to_be_32(REMOTE_IP), rte_cpu_to_be_32(LOCAL_IP), ts.now_ns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int before = rte_mempool_avail_count(pool);
	struct tcp_cfg cfg;
	uint64_t now = 1000000000ull;
	static uint8_t buf[256];
	size_t i = 0;

	tcp_cfg_defaults(&cfg);
	cfg.max_conns = 8;
	cfg.syn_backlog = 2;
	cfg.rcv_buf = 8192;
	cfg.snd_buf = 8192;
	cfg.ooo_max_segs = 8;
	cfg.msl_ns = 100000000ull;
	if (tcp_stack_init(&ts, &cfg, pool, 0, now, NULL) < 0)
		abort();
	tcp_stack_set_seed(&ts, 1);
	conn = NULL;
	last_isn = peer_isn = 0;
	if (tcp_listen(&ts, 0, 8080, 4, &ops, NULL) == NULL)
		abort();
	while (i + 2 <= size) {
		uint8_t op = data[i] % 8, len = data[i + 1];
		const uint8_t *p = data + i + 2;

		if (i + 2 + len > size)
			len = (uint8_t)(size - i - 2);
		i += 2u + len;
		switch (op) {
		case 0:
		case 1:
			inject(p, len, op == 1);
			break;
		case 2: {
			uint64_t until = now + (len ? p[0] : 1) * 4000000ull;

			while (now < until) {
				now += 1000000ull;
				tcp_timers(&ts, now);
			}
			break;
		}
		case 3:
			if (conn != NULL) {
				memset(buf, 'x', sizeof(buf));
				tcp_write(&ts, conn, buf, len);
			}
			break;
		case 4:
			if (conn != NULL)
				while (tcp_read(&ts, conn, buf, sizeof(buf)) > 0)
					;
			break;
		case 5:
			if (conn != NULL)
				tcp_shutdown(&ts, conn);
			break;
		case 6:
			if (conn != NULL) {
				struct tcp_conn *c = conn;

				conn = NULL;
				tcp_close(&ts, c);
			}
			break;
		default:
			if (conn != NULL) {
				struct tcp_conn *c = conn;

				conn = NULL;
				tcp_abort(&ts, c);
			}
			break;
		}
	}
	tcp_stack_fini(&ts);
	if (rte_mempool_avail_count(pool) != before)
		abort(); /* an mbuf leaked */
	return 0;
}
