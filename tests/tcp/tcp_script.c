/* SPDX-License-Identifier: proprietary */
/*
 * Packet-script harness for dataplane/tcp (see README.md for the script format).
 *
 * Each script runs against a fresh struct tcp_stack with fixed secrets and a
 * simulated clock: lines inject crafted segments (`<`), check the segments the stack
 * emitted through this file's tcp_emit() (`>`), drive the stream API (`app ...`) and
 * check counters. Any segment emitted and not expected by the script is a failure,
 * as is an mbuf not returned to the pool at the end (leak check).
 *
 * Usage: tcp_script [--expect-fail] FILE|DIR...   (a DIR runs its *.pkt in name
 * order; --expect-fail applies to the arguments after it: they must fail, which
 * proves the harness can fail.)
 * EAL runs with --no-huge --no-pci; no NIC.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include "tcp.h"
#include "tcp_int-t.h" /* white-box dump of conns in pair mode debugging */
#include "tw.h"
#include "tsconf.h"

/* 198.18.0.1 and .2 (benchmarking range), host order */
#define LOCAL_IP UINT32_C(0xc6120001)
#define REMOTE_IP UINT32_C(0xc6120002)
#define LOCAL_PORT 8080
#define REMOTE_PORT 40000
#define T0_NS 1000000000ull /* the simulated clock starts at 1 s */
#define CAP_MAX 256
#define FLOWS_MAX 16
#define LINE_MAX_LEN 512
#define NMBUFS 8191

/* A segment the stack emitted. */
struct cap {
	uint64_t t_ns;
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint16_t win;
	uint8_t flags;
	uint8_t optlen;
	uint8_t opts[40];
	uint32_t len;
	uint8_t data[9000];
	bool cksum_ok;
};

/* What the harness knows about one connection, keyed by the remote port. */
struct flow {
	bool used;
	uint16_t rport;
	uint16_t lport;
	bool have_lisn, have_risn;
	uint32_t lisn, risn; /* local ISN (outbound seqs are relative to it), remote ISN */
	uint64_t rx_off;     /* stream bytes the app read so far */
	uint64_t tx_off;     /* stream bytes the app wrote so far */
	struct tcp_conn *conn;
	bool closed;
	int closed_err;
	unsigned int readable, writable, accepted, connected;
	uint32_t last_tsval; /* last TSval the stack sent on this flow */
};

struct harness {
	const char *file;
	unsigned int line;
	uint64_t now;
	uint64_t tol_ns;
	bool started;
	char conf[4096];
	size_t conf_len;
	uint64_t seed;
	struct tcp_stack ts;
	struct tcp_listener *lst;
	struct flow flows[FLOWS_MAX];
	struct cap *caps;
	unsigned int ncap, capr;
	uint16_t cur_rport; /* default remote port of lines */
	bool tx_offload;    /* stack leaves the checksum to the "NIC" (this harness) */
	bool rx_offload;    /* inbound segments are flagged L4_CKSUM_GOOD/BAD */
	bool reject_accept;
};

static struct harness H;
struct lex;
static char *word(struct lex *x, char *out, size_t n);
static bool parse_u64(const char *w, uint64_t *v);
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool failed;
static uint8_t pat(uint64_t k);
static struct rte_mempool *pool;
static bool quiet;

static void fail(const char *fmt, ...)
{
	va_list ap;

	if (failed)
		return;
	failed = true;
	if (quiet)
		return;
	fprintf(stderr, "%s:%u: ", H.file, H.line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Stream byte k of either direction: 251 is prime, so shifted data never matches. */
static uint8_t pat(uint64_t k)
{
	return (uint8_t)(k % 251);
}

static struct flow *flow_get(uint16_t rport)
{
	struct flow *free_f = NULL;

	for (unsigned int i = 0; i < FLOWS_MAX; i++) {
		if (H.flows[i].used && H.flows[i].rport == rport)
			return &H.flows[i];
		if (!H.flows[i].used && free_f == NULL)
			free_f = &H.flows[i];
	}
	if (free_f == NULL) {
		fail("too many flows");
		return &H.flows[0];
	}
	memset(free_f, 0, sizeof(*free_f));
	free_f->used = true;
	free_f->rport = rport;
	free_f->lport = LOCAL_PORT;
	return free_f;
}

static struct flow *flow_of_conn(const struct tcp_conn *c)
{
	uint16_t rport;

	tcp_conn_tuple(c, NULL, NULL, NULL, &rport);
	return flow_get(rport);
}


/* ---- pair mode: two stacks over a lossy, delaying simulated link ----
 *
 * `pair BYTES [loss=PCT] [delay=MS] [jitter=MS] [seed=N] [limit=S]`: a second stack
 * (the peer, 198.18.0.2) connects to the script's listener on 8080 and sends BYTES
 * stream bytes; our side echoes everything back through a 64 KB buffer (so a slow
 * echo closes windows), both sides check every byte, the peer half-closes when done
 * and both close on end of stream. Segments are dropped with probability loss% and
 * delayed by delay + random(jitter) ms (jitter reorders). Fails unless everything
 * arrives intact and both connections close within `limit` simulated seconds.
 */
#define LINK_MAX 16384
#define ECHO_BUF (64 * 1024)

struct link_pkt {
	struct rte_mbuf *m;
	uint64_t due;
	struct tcp_stack *dst;
	uint32_t saddr, daddr;
};

struct pair {
	bool on;
	struct tcp_stack peer;
	struct link_pkt q[LINK_MAX];
	unsigned int nq;
	uint64_t rng;
	uint32_t loss_pct;
	uint64_t delay_ns, jitter_ns;
	uint64_t dropped, sent;
	struct tcp_conn *a, *b; /* a: our side (accepted), b: the peer's (connected) */
	bool a_closed, b_closed, b_connected;
	int a_err, b_err;
};

static struct pair *P;

static const char *const state_names[TCP_ST_COUNT] = {
	"CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1",
	"FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
};

static uint64_t pair_rand(void)
{
	/* xorshift64*: deterministic per seed */
	P->rng ^= P->rng >> 12;
	P->rng ^= P->rng << 25;
	P->rng ^= P->rng >> 27;
	return P->rng * 0x2545f4914f6cdd1dull;
}

static bool pair_emit(struct tcp_stack *ts, struct rte_mbuf *m, uint32_t saddr_be,
		      uint32_t daddr_be)
{
	struct link_pkt *p;

	if (P == NULL || !P->on)
		return false;
	P->sent++;
	if (P->nq >= LINK_MAX || pair_rand() % 100 < P->loss_pct) {
		P->dropped++;
		rte_pktmbuf_free(m);
		return true;
	}
	p = &P->q[P->nq++];
	p->m = m;
	p->due = H.now + P->delay_ns + (P->jitter_ns ? pair_rand() % P->jitter_ns : 0);
	p->dst = ts == &H.ts ? &P->peer : &H.ts;
	p->saddr = saddr_be;
	p->daddr = daddr_be;
	return true;
}

static int pa_accepted(struct tcp_conn *conn, void *lctx)
{
	(void)lctx;
	P->a = conn;
	tcp_set_ctx(conn, &P->a);
	return 0;
}

static void pa_closed(struct tcp_conn *conn, void *ctx, int err)
{
	(void)conn;
	if (ctx == &P->a) {
		P->a = NULL;
		P->a_closed = true;
		P->a_err = err;
	} else {
		P->b = NULL;
		P->b_closed = true;
		P->b_err = err;
	}
}

static void pb_connected(struct tcp_conn *conn, void *ctx)
{
	(void)conn;
	(void)ctx;
	P->b_connected = true;
}

static const struct tcp_ops pair_a_ops = { .accepted = pa_accepted, .closed = pa_closed };
static const struct tcp_ops pair_b_ops = { .connected = pb_connected, .closed = pa_closed };

static void pair_deliver(void)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < P->nq; i++) {
		struct link_pkt p = P->q[i];

		if (p.due > H.now) {
			P->q[k++] = p;
			continue;
		}
		tcp_input(p.dst, p.m, p.saddr, p.daddr, H.now);
	}
	P->nq = k;
}

static void do_pair(struct lex *x)
{
	static uint8_t echo[ECHO_BUF], buf[16384];
	uint64_t bytes = 0, limit_ns = 120000000000ull, seed = 1, v;
	uint64_t b_sent = 0, b_rcvd = 0, a_rcvd = 0, e_head = 0, e_len = 0, t_end;
	bool b_shut = false, b_done = false;
	struct tcp_listener *l;
	struct tcp_conn *b;
	char w[64];
	int rc;

	/* struct tcp_stack is cache-line aligned (its counters): so must P be */
	P = aligned_alloc(64, (sizeof(*P) + 63) & ~(size_t)63);
	if (P == NULL) {
		fail("pair: out of memory");
		return;
	}
	memset(P, 0, sizeof(*P));
	P->loss_pct = 0;
	P->delay_ns = 5000000;
	for (;;) {
		word(x, w, sizeof(w));
		if (w[0] == '\0')
			break;
		if (bytes == 0 && parse_u64(w, &bytes))
			continue;
		if (strncmp(w, "loss=", 5) == 0 && parse_u64(w + 5, &v) && v < 100)
			P->loss_pct = (uint32_t)v;
		else if (strncmp(w, "delay=", 6) == 0 && parse_u64(w + 6, &v))
			P->delay_ns = v * 1000000ull;
		else if (strncmp(w, "jitter=", 7) == 0 && parse_u64(w + 7, &v))
			P->jitter_ns = v * 1000000ull;
		else if (strncmp(w, "seed=", 5) == 0 && parse_u64(w + 5, &v))
			seed = v;
		else if (strncmp(w, "limit=", 6) == 0 && parse_u64(w + 6, &v))
			limit_ns = v * 1000000000ull;
		else {
			fail("pair BYTES [loss=PCT] [delay=MS] [jitter=MS] [seed=N] [limit=S]");
			goto free_p;
		}
	}
	if (bytes == 0) {
		fail("pair needs BYTES > 0");
		goto free_p;
	}
	P->rng = seed * 0x9e3779b97f4a7c15ull + 1;
	l = tcp_listen(&H.ts, 0, LOCAL_PORT, 0, &pair_a_ops, NULL);
	if (l == NULL) {
		fail("pair: listen failed (is 8080 already listened on?)");
		goto free_p;
	}
	rc = tcp_stack_init(&P->peer, &H.ts.cfg, pool, 0, H.now, NULL);
	if (rc < 0) {
		fail("pair: peer stack init %d", rc);
		goto unlisten;
	}
	tcp_stack_set_seed(&P->peer, seed + 1000);
	P->on = true;
	rc = tcp_connect(&P->peer, rte_cpu_to_be_32(REMOTE_IP), rte_cpu_to_be_32(LOCAL_IP),
			 LOCAL_PORT, &pair_b_ops, &P->b, H.now, &b);
	if (rc < 0) {
		fail("pair: connect %d", rc);
		goto fini_peer;
	}
	P->b = b;
	t_end = H.now + limit_ns;
	while (!(P->a_closed && P->b_closed) && H.now < t_end && !failed) {
		H.now += 100000; /* 100 us steps */
		tcp_timers(&H.ts, H.now);
		tcp_timers(&P->peer, H.now);
		pair_deliver();
		/* peer: send the stream, then half-close */
		while (P->b != NULL && P->b_connected && b_sent < bytes) {
			uint32_t n = (uint32_t)(bytes - b_sent < sizeof(buf) ? bytes - b_sent
									  : sizeof(buf));
			int32_t k;

			for (uint32_t i = 0; i < n; i++)
				buf[i] = pat(b_sent + i);
			k = tcp_write(&P->peer, P->b, buf, n);
			if (k <= 0)
				break;
			b_sent += (uint64_t)k;
		}
		if (P->b != NULL && b_sent == bytes && !b_shut) {
			tcp_shutdown(&P->peer, P->b);
			b_shut = true;
		}
		/* our side: zero-copy read into the echo buffer while it has room */
		if (P->a != NULL) {
			struct tcp_rx_seg segs[TCP_PEEK_MAX];
			unsigned int ns = tcp_peek(P->a, segs, TCP_PEEK_MAX);
			uint32_t took = 0;

			for (unsigned int i = 0; i < ns && e_len < ECHO_BUF; i++) {
				uint32_t k = segs[i].len;

				if (k > ECHO_BUF - e_len)
					k = (uint32_t)(ECHO_BUF - e_len);
				for (uint32_t j = 0; j < k; j++) {
					if (segs[i].data[j] != pat(a_rcvd + j)) {
						fail("pair: byte %" PRIu64 " received corrupt",
						     a_rcvd + j);
						break;
					}
					echo[(e_head + e_len + j) % ECHO_BUF] = segs[i].data[j];
				}
				a_rcvd += k;
				e_len += k;
				took += k;
				if (k < segs[i].len)
					break;
			}
			if (took > 0)
				tcp_consume(&H.ts, P->a, took);
		}
		while (P->a != NULL && e_len > 0) {
			uint32_t n = (uint32_t)(ECHO_BUF - e_head < e_len ? ECHO_BUF - e_head : e_len);
			int32_t k = tcp_write(&H.ts, P->a, echo + e_head, n);

			if (k <= 0)
				break;
			e_head = (e_head + (uint64_t)k) % ECHO_BUF;
			e_len -= (uint64_t)k;
		}
		if (P->a != NULL && e_len == 0 && tcp_rx_eof(P->a) && tcp_rx_avail(P->a) == 0) {
			struct tcp_conn *a = P->a;

			P->a = NULL;
			P->a_closed = true;
			tcp_close(&H.ts, a);
		}
		/* peer: check the echo, close at its end */
		if (P->b != NULL) {
			uint32_t n;

			while ((n = tcp_read(&P->peer, P->b, buf, sizeof(buf))) > 0) {
				for (uint32_t i = 0; i < n; i++)
					if (buf[i] != pat(b_rcvd + i)) {
						fail("pair: echo byte %" PRIu64 " corrupt", b_rcvd + i);
						break;
					}
				b_rcvd += n;
			}
			if (tcp_rx_eof(P->b) && !b_done) {
				struct tcp_conn *bc = P->b;

				b_done = true;
				P->b = NULL;
				P->b_closed = true;
				tcp_close(&P->peer, bc);
			}
		}
	}
	if (!failed && !(P->a_closed && P->b_closed))
		fail("pair: not done after the limit: sent %" PRIu64 ", echoed back %" PRIu64
		     " of %" PRIu64 " (a %s, b %s)", b_sent, b_rcvd, bytes,
		     P->a_closed ? "closed" : "open", P->b_closed ? "closed" : "open");
	else if (!failed && (b_rcvd != bytes || a_rcvd != bytes))
		fail("pair: %" PRIu64 " bytes in, %" PRIu64 " echoed, of %" PRIu64, a_rcvd, b_rcvd,
		     bytes);
	else if (!failed && (P->a_err != 0 || P->b_err != 0))
		fail("pair: closed with errors %d / %d", P->a_err, P->b_err);
	if (!quiet)
		printf("pair: %" PRIu64 " bytes echoed in %.3f s simulated, %" PRIu64
		       " segments, %" PRIu64 " dropped\n", b_rcvd, (double)(H.now - (t_end - limit_ns)) / 1e9,
		       P->sent, P->dropped);
	if (getenv("PAIR_DEBUG") != NULL)
		for (unsigned int i = 0; i < TCP_C_COUNT; i++)
			if (H.ts.ctr.v[i] || P->peer.ctr.v[i])
				printf("%-24s %12" PRIu64 " %12" PRIu64 "\n", tcp_counter_names[i],
				       H.ts.ctr.v[i], P->peer.ctr.v[i]);
	if (getenv("PAIR_DEBUG") != NULL) {
		struct tcp_stack *st[2] = { &H.ts, &P->peer };

		for (unsigned int k = 0; k < 2; k++)
			for (uint32_t i = 0; i < st[k]->cfg.max_conns; i++) {
				const struct tcp_conn *c = &st[k]->conns[i];

				if (c->state == TCP_ST_CLOSED)
					continue;
				printf("%s: %s una %u nxt %u max %u sq %u rcv_nxt %u rq %u ooo %u "
				       "wnd %u cwnd %u ssth %u nrtx %u flags %#x rtx %s %" PRIu64
				       " life %" PRIu64 " srtt %" PRIu64 " var %" PRIu64 " rto %" PRIu64 "\n",
				       k ? "peer" : "ours", state_names[c->state],
				       c->snd_una - c->iss, c->snd_nxt - c->iss, c->snd_max - c->iss,
				       c->sq_len, c->rcv_nxt - c->irs, c->rq_len, c->ooo_segs,
				       c->snd_wnd, c->cwnd, c->ssthresh, c->nrtx, c->flags,
				       tw_timer_armed(&c->t_rtx) ? "armed" : "idle",
				       tw_ticks_left(&st[k]->wheel, &c->t_rtx),
				       tw_ticks_left(&st[k]->wheel, &c->t_life), c->srtt_ns / 1000000, c->rttvar_ns / 1000000, c->rto_ns / 1000000);
			}
	}
fini_peer:
	P->on = false;
	for (unsigned int i = 0; i < P->nq; i++)
		rte_pktmbuf_free(P->q[i].m);
	P->nq = 0;
	tcp_stack_fini(&P->peer);
unlisten:
	tcp_unlisten(&H.ts, l);
free_p:
	free(P);
	P = NULL;
}

/* ---- the seam: capture what the stack sends ---- */

int tcp_emit(struct tcp_stack *ts, struct rte_mbuf *m, uint32_t saddr_be, uint32_t daddr_be)
{
	const struct rte_tcp_hdr *th = rte_pktmbuf_mtod(m, const struct rte_tcp_hdr *);
	struct cap *c;
	uint32_t hlen, s;

	if (pair_emit(ts, m, saddr_be, daddr_be))
		return 0;
	if (H.ncap >= CAP_MAX) {
		fail("more than %d segments captured", CAP_MAX);
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	if (rte_pktmbuf_headroom(m) < 64)
		fail("emitted segment with %u bytes of headroom", rte_pktmbuf_headroom(m));
	c = &H.caps[H.ncap++];
	memset(c, 0, offsetof(struct cap, data));
	hlen = (uint32_t)(th->data_off >> 4) * 4;
	c->t_ns = H.now;
	c->saddr = saddr_be;
	c->daddr = daddr_be;
	c->sport = rte_be_to_cpu_16(th->src_port);
	c->dport = rte_be_to_cpu_16(th->dst_port);
	c->seq = rte_be_to_cpu_32(th->sent_seq);
	c->ack = rte_be_to_cpu_32(th->recv_ack);
	c->win = rte_be_to_cpu_16(th->rx_win);
	c->flags = th->tcp_flags;
	c->optlen = (uint8_t)(hlen - 20);
	memcpy(c->opts, th + 1, c->optlen);
	if (m->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM) {
		/* what the NIC does: the field holds the pseudo-header sum; the checksum
		 * of the segment with it in place, complemented, is the final value */
		struct rte_tcp_hdr *wth = rte_pktmbuf_mtod(m, struct rte_tcp_hdr *);
		uint32_t sum = rte_raw_cksum(wth, m->pkt_len);

		if (!H.tx_offload || m->l4_len != hlen || !(m->ol_flags & RTE_MBUF_F_TX_IPV4))
			fail("offload flags set wrongly (l4_len %u)", (unsigned int)m->l4_len);
		sum = (sum & 0xffff) + (sum >> 16);
		wth->cksum = (uint16_t)~sum;
	} else if (H.tx_offload) {
		fail("tx checksum offload configured but the segment is not flagged");
	}
	c->len = m->pkt_len - hlen;
	if (c->len > sizeof(c->data))
		c->len = sizeof(c->data);
	memcpy(c->data, (const uint8_t *)th + hlen, c->len);
	/* the checksum must verify (software checksum: offload is off here) */
	s = (saddr_be >> 16) + (saddr_be & 0xffff) + (daddr_be >> 16) + (daddr_be & 0xffff);
	s += rte_cpu_to_be_16(IPPROTO_TCP) + rte_cpu_to_be_16((uint16_t)m->pkt_len);
	s += rte_raw_cksum(th, m->pkt_len);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	c->cksum_ok = s == 0xffff;
	rte_pktmbuf_free(m);
	return 0;
}

/* ---- upcalls ---- */

static int up_accepted(struct tcp_conn *conn, void *lctx)
{
	struct flow *f = flow_of_conn(conn);

	(void)lctx;
	if (H.reject_accept)
		return -ECONNREFUSED;
	f->conn = conn;
	f->accepted++;
	f->closed = false;
	tcp_set_ctx(conn, f);
	return 0;
}

static void up_connected(struct tcp_conn *conn, void *ctx)
{
	struct flow *f = ctx;

	(void)conn;
	f->connected++;
}

static void up_readable(struct tcp_conn *conn, void *ctx)
{
	struct flow *f = ctx;

	(void)conn;
	f->readable++;
}

static void up_writable(struct tcp_conn *conn, void *ctx)
{
	struct flow *f = ctx;

	(void)conn;
	f->writable++;
}

static void up_closed(struct tcp_conn *conn, void *ctx, int err)
{
	struct flow *f = ctx;

	(void)conn;
	f->closed = true;
	f->closed_err = err;
	f->conn = NULL;
}

static const struct tcp_ops ops = {
	.accepted = up_accepted,
	.connected = up_connected,
	.readable = up_readable,
	.writable = up_writable,
	.closed = up_closed,
};

/* ---- stack start and time ---- */

static int start_stack(void)
{
	struct tcp_cfg cfg;
	struct tsconf *tc;
	char err[TSCONF_ERR_MAX];
	char buf[sizeof(H.conf) + 16];
	int rc;

	if (H.started)
		return 0;
	/* the offload flags are not in the file: zero = software checksums */
	memset(&cfg, 0, sizeof(cfg));
	tc = tsconf_create();
	if (tc == NULL) {
		fail("tsconf_create");
		return -1;
	}
	rc = tsconf_register(tc, "tcp", tcp_conf_keys, tcp_conf_nkeys, &cfg, err, sizeof(err));
	if (rc == 0) {
		int n = snprintf(buf, sizeof(buf), "[tcp]\n%.*s", (int)H.conf_len, H.conf);

		rc = tsconf_load_buf(tc, H.file, buf, (size_t)n, err, sizeof(err));
	}
	tsconf_destroy(tc);
	if (rc < 0) {
		fail("config: %s", err);
		return -1;
	}
	cfg.tx_cksum_offload = H.tx_offload;
	cfg.rx_cksum_offload = H.rx_offload;
	rc = tcp_stack_init(&H.ts, &cfg, pool, 0, H.now, NULL);
	if (rc < 0) {
		fail("tcp_stack_init: %d", rc);
		return -1;
	}
	tcp_stack_set_seed(&H.ts, H.seed);
	H.started = true;
	return 0;
}

/* Move the simulated clock to t, running the timers tick by tick so each fires at
 * its own time (as a poll loop calling tcp_timers() constantly would). */
static void advance(uint64_t t)
{
	uint64_t tick = H.ts.cfg.tick_ns;

	if (!H.started || t <= H.now) {
		H.now = t > H.now ? t : H.now;
		return;
	}
	while (H.now + tick < t) {
		H.now += tick;
		tcp_timers(&H.ts, H.now);
	}
	H.now = t;
	tcp_timers(&H.ts, H.now);
}

/* ---- lexing ---- */

struct lex {
	char *p;
};

static void skip_ws(struct lex *x)
{
	while (*x->p == ' ' || *x->p == '\t')
		x->p++;
}

/* Next whitespace- or comma-delimited word (also stops at '<', '>', ','). */
static char *word(struct lex *x, char *out, size_t n)
{
	size_t i = 0;

	skip_ws(x);
	while (*x->p && !isspace((unsigned char)*x->p) && *x->p != ',' && *x->p != '>' &&
	       *x->p != '<' && i + 1 < n)
		out[i++] = *x->p++;
	out[i] = '\0';
	return out;
}

static bool is_star(const char *w)
{
	return strcmp(w, "*") == 0;
}

static bool parse_u64(const char *w, uint64_t *v)
{
	char *end;

	if (*w == '\0')
		return false;
	errno = 0;
	*v = strtoull(w, &end, 0);
	return errno == 0 && *end == '\0';
}

/* A time: "+0.200" relative, "1.5" absolute (seconds since start). */
static bool parse_time(const char *w, uint64_t *t)
{
	bool rel = *w == '+';
	char *end;
	double d = strtod(rel ? w + 1 : w, &end);

	if (*end != '\0' || d < 0)
		return false;
	*t = (uint64_t)(d * 1e9 + 0.5) + (rel ? H.now : T0_NS);
	return true;
}

/* ---- options ---- */

/* One option of a script's <...> list (value ~0u = wildcard). */
struct sopt {
	char kind[8]; /* mss sackOK TS nop wscale sack eol */
	uint64_t a, b;
	bool a_star, b_star;
	unsigned int nblk;
	uint32_t blk[8];
};

static int parse_opts(struct lex *x, struct sopt *o, unsigned int max)
{
	unsigned int n = 0;
	char w[64];

	skip_ws(x);
	if (*x->p != '<')
		return -1;
	x->p++;
	for (;;) {
		skip_ws(x);
		if (*x->p == '>') {
			x->p++;
			return (int)n;
		}
		if (*x->p == ',') {
			x->p++;
			continue;
		}
		if (n >= max || *x->p == '\0')
			return -2;
		memset(&o[n], 0, sizeof(o[n]));
		word(x, w, sizeof(w));
		if (strlen(w) >= sizeof(o[n].kind))
			return -2;
		memcpy(o[n].kind, w, strlen(w) + 1);
		if (strcmp(w, "mss") == 0 || strcmp(w, "wscale") == 0) {
			word(x, w, sizeof(w));
			o[n].a_star = is_star(w);
			if (!o[n].a_star && !parse_u64(w, &o[n].a))
				return -2;
		} else if (strcmp(w, "TS") == 0) {
			char k[16];

			word(x, k, sizeof(k));
			word(x, w, sizeof(w));
			o[n].a_star = is_star(w);
			if (strcmp(k, "val") != 0 || (!o[n].a_star && !parse_u64(w, &o[n].a)))
				return -2;
			word(x, k, sizeof(k));
			word(x, w, sizeof(w));
			o[n].b_star = is_star(w);
			if (strcmp(k, "ecr") != 0 || (!o[n].b_star && !parse_u64(w, &o[n].b)))
				return -2;
		} else if (strcmp(w, "sack") == 0) {
			/* sack S:E S:E ... */
			for (;;) {
				uint64_t s0, e0;
				char *colon;

				skip_ws(x);
				if (!isdigit((unsigned char)*x->p))
					break;
				word(x, w, sizeof(w));
				colon = strchr(w, ':');
				if (colon == NULL || o[n].nblk >= 8)
					return -2;
				*colon = '\0';
				if (!parse_u64(w, &s0) || !parse_u64(colon + 1, &e0))
					return -2;
				o[n].blk[o[n].nblk++] = (uint32_t)s0;
				o[n].blk[o[n].nblk++] = (uint32_t)e0;
			}
		} else if (strcmp(w, "nop") != 0 && strcmp(w, "sackOK") != 0 &&
			   strcmp(w, "eol") != 0) {
			return -2;
		}
		n++;
	}
}

/* ---- segment lines ---- */

struct sseg {
	uint8_t flags;
	bool seq_star, ack_star, win_star, has_ack, has_win, has_opts, badcsum, none;
	uint32_t seq, end, len;
	uint32_t ack;
	uint32_t win;
	uint16_t rport;
	int nopts;
	struct sopt opts[12];
	int raw_off;	/* raw data offset override (bad offset tests), -1 none */
	int trunc;	/* deliver only this many bytes of the segment, -1 none */
	bool raw_opts;	/* opts given as hex bytes */
	uint8_t rawopt[40];
	unsigned int rawoptlen;
};

static bool parse_flags(const char *w, uint8_t *f)
{
	*f = 0;
	for (; *w; w++) {
		switch (*w) {
		case 'S': *f |= RTE_TCP_SYN_FLAG; break;
		case 'F': *f |= RTE_TCP_FIN_FLAG; break;
		case 'R': *f |= RTE_TCP_RST_FLAG; break;
		case 'P': *f |= RTE_TCP_PSH_FLAG; break;
		case 'U': *f |= RTE_TCP_URG_FLAG; break;
		case '.': *f |= RTE_TCP_ACK_FLAG; break;
		case '0': break; /* "0": no flags at all */
		default: return false;
		}
	}
	return true;
}

static int parse_seg(struct lex *x, struct sseg *s)
{
	char w[64];

	memset(s, 0, sizeof(*s));
	s->raw_off = -1;
	s->trunc = -1;
	s->rport = H.cur_rport;
	word(x, w, sizeof(w));
	if (strcmp(w, "none") == 0) {
		s->none = true;
		return 0;
	}
	if (!parse_flags(w, &s->flags))
		return -1;
	/* seq: start:end(len) or * */
	word(x, w, sizeof(w));
	if (is_star(w)) {
		s->seq_star = true;
		skip_ws(x);
		if (*x->p == '(') {
			uint64_t l;

			x->p++;
			l = strtoull(x->p, &x->p, 10);
			if (*x->p != ')')
				return -1;
			x->p++;
			s->len = (uint32_t)l;
		}
	} else {
		uint64_t a, b, l;
		char *q = w, *e;

		a = strtoull(q, &e, 10);
		if (*e != ':')
			return -1;
		b = strtoull(e + 1, &e, 10);
		if (*e != '(')
			return -1;
		l = strtoull(e + 1, &e, 10);
		if (*e != ')' || (uint32_t)(b - a) != (uint32_t)l)
			return -1;
		s->seq = (uint32_t)a;
		s->end = (uint32_t)b;
		s->len = (uint32_t)l;
	}
	for (;;) {
		skip_ws(x);
		if (*x->p == '\0' || *x->p == '#')
			break;
		if (*x->p == '<') {
			s->nopts = parse_opts(x, s->opts, 12);
			if (s->nopts < 0)
				return -1;
			s->has_opts = true;
			continue;
		}
		word(x, w, sizeof(w));
		if (strcmp(w, "ack") == 0) {
			uint64_t v = 0;

			word(x, w, sizeof(w));
			s->has_ack = true;
			s->ack_star = is_star(w);
			if (!s->ack_star && !parse_u64(w, &v))
				return -1;
			s->ack = (uint32_t)v;
		} else if (strcmp(w, "win") == 0) {
			uint64_t v = 0;

			word(x, w, sizeof(w));
			s->has_win = true;
			s->win_star = is_star(w);
			if (!s->win_star && (!parse_u64(w, &v) || v > 65535))
				return -1;
			s->win = (uint32_t)v;
		} else if (strcmp(w, "badcsum") == 0) {
			s->badcsum = true;
		} else if (strncmp(w, "port=", 5) == 0) {
			uint64_t v;

			if (!parse_u64(w + 5, &v) || v == 0 || v > 65535)
				return -1;
			s->rport = (uint16_t)v;
		} else if (strncmp(w, "doff=", 5) == 0) {
			uint64_t v;

			if (!parse_u64(w + 5, &v) || v > 15)
				return -1;
			s->raw_off = (int)v;
		} else if (strncmp(w, "trunc=", 6) == 0) {
			uint64_t v;

			if (!parse_u64(w + 6, &v) || v > 2000)
				return -1;
			s->trunc = (int)v;
		} else if (strncmp(w, "rawopt=", 7) == 0) {
			/* hex bytes, e.g. rawopt=0201 (a malformed MSS option) */
			const char *h = w + 7;

			s->raw_opts = true;
			while (h[0] && h[1] && s->rawoptlen < 40) {
				char b[3] = { h[0], h[1], 0 };

				s->rawopt[s->rawoptlen++] = (uint8_t)strtoul(b, NULL, 16);
				h += 2;
			}
		} else {
			return -1;
		}
	}
	return 0;
}

static unsigned int build_opts(const struct sseg *s, struct flow *f, uint8_t *o)
{
	unsigned int n = 0;

	if (s->raw_opts) {
		memcpy(o, s->rawopt, s->rawoptlen);
		n = s->rawoptlen;
	}
	for (int i = 0; i < s->nopts; i++) {
		const struct sopt *p = &s->opts[i];

		if (strcmp(p->kind, "nop") == 0) {
			o[n++] = 1;
		} else if (strcmp(p->kind, "eol") == 0) {
			o[n++] = 0;
		} else if (strcmp(p->kind, "mss") == 0) {
			o[n++] = 2;
			o[n++] = 4;
			o[n++] = (uint8_t)(p->a >> 8);
			o[n++] = (uint8_t)p->a;
		} else if (strcmp(p->kind, "wscale") == 0) {
			o[n++] = 3;
			o[n++] = 3;
			o[n++] = (uint8_t)p->a;
		} else if (strcmp(p->kind, "sackOK") == 0) {
			o[n++] = 4;
			o[n++] = 2;
		} else if (strcmp(p->kind, "TS") == 0) {
			uint32_t v = rte_cpu_to_be_32((uint32_t)p->a);
			/* ecr * echoes the last TSval the stack sent on this flow */
			uint32_t e = rte_cpu_to_be_32(p->b_star ? f->last_tsval : (uint32_t)p->b);

			o[n++] = 8;
			o[n++] = 10;
			memcpy(o + n, &v, 4);
			memcpy(o + n + 4, &e, 4);
			n += 8;
		} else if (strcmp(p->kind, "sack") == 0) {
			o[n++] = 5;
			o[n++] = (uint8_t)(2 + 4 * p->nblk);
			for (unsigned int b = 0; b < p->nblk; b++) {
				/* inbound SACK blocks are in our sequence space: relative */
				uint32_t v = rte_cpu_to_be_32(p->blk[b] + f->lisn);

				memcpy(o + n, &v, 4);
				n += 4;
			}
		}
	}
	return n;
}

static void do_inbound(struct sseg *s)
{
	struct flow *f = flow_get(s->rport);
	uint8_t opts[40];
	unsigned int optlen = build_opts(s, f, opts), hlen;
	struct rte_tcp_hdr *th;
	struct rte_mbuf *m;
	uint32_t seq = s->seq, sum;
	uint8_t *pl;

	if (s->seq_star) {
		fail("inbound segments need a sequence number");
		return;
	}
	if (optlen % 4 != 0) {
		/* pad with EOL to a multiple of 4 */
		while (optlen % 4 != 0)
			opts[optlen++] = 0;
	}
	if (s->flags & RTE_TCP_SYN_FLAG) {
		f->risn = seq;
		f->have_risn = true;
	}
	hlen = 20 + optlen;
	m = rte_pktmbuf_alloc(pool);
	if (m == NULL) {
		fail("harness pool empty");
		return;
	}
	th = (struct rte_tcp_hdr *)rte_pktmbuf_append(m, (uint16_t)(hlen + s->len));
	memset(th, 0, hlen);
	th->src_port = rte_cpu_to_be_16(s->rport);
	th->dst_port = rte_cpu_to_be_16(f->lport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = (s->flags & RTE_TCP_ACK_FLAG) ? rte_cpu_to_be_32(s->ack + f->lisn) : 0;
	th->data_off = (uint8_t)(((s->raw_off >= 0) ? (unsigned int)s->raw_off : hlen / 4) << 4);
	th->tcp_flags = s->flags;
	th->rx_win = rte_cpu_to_be_16((uint16_t)(s->has_win ? s->win : 65535));
	memcpy(th + 1, opts, optlen);
	pl = (uint8_t *)th + hlen;
	for (uint32_t i = 0; i < s->len; i++) {
		/* stream offset of byte i: the remote ISN's SYN takes one number */
		uint32_t off = seq + i - f->risn - 1;

		pl[i] = pat(off);
	}
	sum = (rte_cpu_to_be_32(REMOTE_IP) >> 16) + (rte_cpu_to_be_32(REMOTE_IP) & 0xffff) +
	      (rte_cpu_to_be_32(LOCAL_IP) >> 16) + (rte_cpu_to_be_32(LOCAL_IP) & 0xffff);
	sum += rte_cpu_to_be_16(IPPROTO_TCP) + rte_cpu_to_be_16((uint16_t)(hlen + s->len));
	sum += rte_raw_cksum(th, hlen + s->len);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	th->cksum = (uint16_t)~sum;
	if (s->badcsum)
		th->cksum ^= 0x5a5a;
	/* with RX offload the "NIC" verified the checksum: the flag decides, the
	 * field is garbage so a software check would fail */
	if (H.rx_offload) {
		m->ol_flags |= s->badcsum ? RTE_MBUF_F_RX_L4_CKSUM_BAD : RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		th->cksum = 0x1234;
	}
	if (s->trunc >= 0 && (uint32_t)s->trunc < m->pkt_len)
		rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - (uint32_t)s->trunc));
	tcp_input(&H.ts, m, rte_cpu_to_be_32(REMOTE_IP), rte_cpu_to_be_32(LOCAL_IP), H.now);
}

static const char *flag_str(uint8_t f, char *b)
{
	char *p = b;

	if (f & RTE_TCP_SYN_FLAG)
		*p++ = 'S';
	if (f & RTE_TCP_FIN_FLAG)
		*p++ = 'F';
	if (f & RTE_TCP_RST_FLAG)
		*p++ = 'R';
	if (f & RTE_TCP_PSH_FLAG)
		*p++ = 'P';
	if (f & RTE_TCP_ACK_FLAG)
		*p++ = '.';
	if (p == b)
		*p++ = '0';
	*p = '\0';
	return b;
}

/* Compare the options of a captured segment with the script's list. */
static void check_opts(const struct cap *c, const struct sseg *s, struct flow *f)
{
	unsigned int i = 0;
	int k = 0;

	while (i < c->optlen) {
		uint8_t kind = c->opts[i];
		const struct sopt *p = k < s->nopts ? &s->opts[k] : NULL;

		if (p == NULL) {
			fail("unexpected option kind %u at byte %u", kind, i);
			return;
		}
		switch (kind) {
		case 0:
			if (strcmp(p->kind, "eol") != 0)
				fail("got eol, expected %s", p->kind);
			i = c->optlen;
			k++;
			continue;
		case 1:
			if (strcmp(p->kind, "nop") != 0)
				fail("got nop, expected %s", p->kind);
			i++;
			break;
		case 2: {
			uint32_t v = ((uint32_t)c->opts[i + 2] << 8) | c->opts[i + 3];

			if (strcmp(p->kind, "mss") != 0 || (!p->a_star && v != p->a))
				fail("got mss %u, expected %s %" PRIu64, v, p->kind, p->a);
			i += 4;
			break;
		}
		case 3:
			if (strcmp(p->kind, "wscale") != 0 || (!p->a_star && c->opts[i + 2] != p->a))
				fail("got wscale %u, expected %s %" PRIu64, c->opts[i + 2], p->kind,
				     p->a);
			i += 3;
			break;
		case 4:
			if (strcmp(p->kind, "sackOK") != 0)
				fail("got sackOK, expected %s", p->kind);
			i += 2;
			break;
		case 5: {
			unsigned int nb = (c->opts[i + 1] - 2u) / 4u;

			if (strcmp(p->kind, "sack") != 0 || nb != p->nblk) {
				fail("got sack with %u edges, expected %s with %u", nb, p->kind,
				     p->nblk);
				return;
			}
			for (unsigned int b = 0; b < nb; b++) {
				uint32_t v;

				memcpy(&v, c->opts + i + 2 + 4 * b, 4);
				/* our SACK blocks are in the peer's sequence space: absolute */
				if (rte_be_to_cpu_32(v) != p->blk[b])
					fail("sack edge %u: got %u, expected %u", b,
					     rte_be_to_cpu_32(v), p->blk[b]);
			}
			i += c->opts[i + 1];
			break;
		}
		case 8: {
			uint32_t v, e;

			memcpy(&v, c->opts + i + 2, 4);
			memcpy(&e, c->opts + i + 6, 4);
			v = rte_be_to_cpu_32(v);
			e = rte_be_to_cpu_32(e);
			f->last_tsval = v;
			if (strcmp(p->kind, "TS") != 0 || (!p->a_star && v != p->a) ||
			    (!p->b_star && e != p->b))
				fail("got TS val %u ecr %u, expected %s val %" PRIu64 " ecr %" PRIu64,
				     v, e, p->kind, p->a, p->b);
			i += 10;
			break;
		}
		default:
			fail("unknown option kind %u emitted", kind);
			return;
		}
		k++;
	}
	if (k != s->nopts)
		fail("got %d options, expected %d", k, s->nopts);
}

static void do_outbound(struct sseg *s)
{
	struct cap *c;
	struct flow *f;
	char fb[8], eb[8];
	uint32_t rel;

	if (s->none) {
		if (H.capr < H.ncap)
			fail("expected no segment, got %s seq %u",
			     flag_str(H.caps[H.capr].flags, fb), H.caps[H.capr].seq);
		return;
	}
	if (H.capr >= H.ncap) {
		fail("expected %s segment, none was sent", flag_str(s->flags, fb));
		return;
	}
	c = &H.caps[H.capr++];
	f = flow_get(c->dport);
	/* remember the local port / ISN of the flow from its first SYN */
	if ((c->flags & RTE_TCP_SYN_FLAG) && !f->have_lisn) {
		f->lisn = c->seq;
		f->have_lisn = true;
		f->lport = c->sport;
	}
	if (c->t_ns + H.tol_ns < H.now)
		fail("segment sent at %.3f s, expected at %.3f s", (c->t_ns - T0_NS) / 1e9,
		     (H.now - T0_NS) / 1e9);
	if (!c->cksum_ok)
		fail("emitted segment with a bad checksum");
	if (c->saddr != rte_cpu_to_be_32(LOCAL_IP) || c->daddr != rte_cpu_to_be_32(REMOTE_IP))
		fail("emitted segment with wrong addresses");
	if (c->dport != s->rport)
		fail("segment to port %u, expected %u", c->dport, s->rport);
	if (c->flags != s->flags)
		fail("flags %s, expected %s", flag_str(c->flags, fb), flag_str(s->flags, eb));
	rel = c->seq - f->lisn;
	if (!s->seq_star && (rel != s->seq || c->len != s->len))
		fail("seq %u:%u(%u), expected %u:%u(%u)", rel, rel + c->len, c->len, s->seq, s->end,
		     s->len);
	if (s->seq_star && c->len != s->len)
		fail("payload %u bytes, expected %u", c->len, s->len);
	if (s->has_ack && !s->ack_star && c->ack != s->ack)
		fail("ack %u, expected %u", c->ack, s->ack);
	if (s->has_win && !s->win_star && c->win != s->win)
		fail("win %u, expected %u", c->win, s->win);
	if (s->has_opts)
		check_opts(c, s, f);
	else
		for (unsigned int i = 0; i + 9 < c->optlen; i++)
			if (c->opts[i] == 8 && c->opts[i + 1] == 10) {
				uint32_t v;

				memcpy(&v, c->opts + i + 2, 4);
				f->last_tsval = rte_be_to_cpu_32(v);
				break;
			}
	/* payload bytes are the app's stream at their offsets */
	for (uint32_t i = 0; i < c->len; i++) {
		uint32_t off = rel - 1 + i;

		if (c->data[i] != pat(off)) {
			fail("payload byte %u (stream offset %u) is %u, expected %u", i, off,
			     c->data[i], pat(off));
			break;
		}
	}
}

/* ---- app and check lines ---- */

static struct flow *cur_flow(void)
{
	return flow_get(H.cur_rport);
}

static int cmp_op(const char *op, uint64_t a, uint64_t b)
{
	if (strcmp(op, "==") == 0)
		return a == b;
	if (strcmp(op, ">=") == 0)
		return a >= b;
	if (strcmp(op, "<=") == 0)
		return a <= b;
	if (strcmp(op, ">") == 0)
		return a > b;
	if (strcmp(op, "<") == 0)
		return a < b;
	if (strcmp(op, "!=") == 0)
		return a != b;
	return -1;
}


static int err_code(const char *w)
{
	if (strcmp(w, "0") == 0)
		return 0;
	if (strcmp(w, "ECONNRESET") == 0)
		return -ECONNRESET;
	if (strcmp(w, "ETIMEDOUT") == 0)
		return -ETIMEDOUT;
	if (strcmp(w, "ECONNREFUSED") == 0)
		return -ECONNREFUSED;
	if (strcmp(w, "EPIPE") == 0)
		return -EPIPE;
	if (strcmp(w, "ENOTCONN") == 0)
		return -ENOTCONN;
	return 1;
}

static void do_app(struct lex *x)
{
	char w[64], a1[64], a2[64], a3[64];
	struct flow *f = cur_flow();

	word(x, w, sizeof(w));
	word(x, a1, sizeof(a1));
	/* "->" (an arrow: '>' ends words elsewhere) */
	skip_ws(x);
	a2[0] = '\0';
	if (x->p[0] == '-' && x->p[1] == '>') {
		x->p += 2;
		strcpy(a2, "->");
	}
	word(x, a3, sizeof(a3));
	if (strcmp(w, "connect") == 0) {
		uint64_t port;
		struct tcp_conn *c;
		int rc;

		if (!parse_u64(a1, &port) || port == 0 || port > 65535) {
			fail("connect PORT");
			return;
		}
		H.cur_rport = (uint16_t)port;
		f = cur_flow();
		rc = tcp_connect(&H.ts, rte_cpu_to_be_32(LOCAL_IP), rte_cpu_to_be_32(REMOTE_IP),
				 (uint16_t)port, &ops, f, H.now, &c);
		if (rc < 0) {
			fail("tcp_connect: %d", rc);
			return;
		}
		f->conn = c;
		tcp_conn_tuple(c, NULL, &f->lport, NULL, NULL);
		return;
	}
	if (strcmp(w, "use") == 0) {
		uint64_t port;

		if (!parse_u64(a1, &port) || port == 0 || port > 65535)
			fail("use PORT");
		else
			H.cur_rport = (uint16_t)port;
		return;
	}
	if (strcmp(w, "reject") == 0) {
		H.reject_accept = true;
		return;
	}
	if (strcmp(w, "closed") == 0) {
		int e = err_code(a1);

		if (!f->closed)
			fail("expected the closed upcall, none came");
		else if (e != f->closed_err)
			fail("closed with %d, expected %d", f->closed_err, e);
		return;
	}
	if (strcmp(w, "open") == 0) {
		if (f->conn == NULL || f->closed)
			fail("expected an open connection");
		return;
	}
	if (f->conn == NULL) {
		fail("app %s: no connection on port %u", w, H.cur_rport);
		return;
	}
	if (strcmp(w, "write") == 0) {
		uint64_t n, want;
		static uint8_t buf[1 << 20];
		int32_t rc;

		if (!parse_u64(a1, &n) || n > sizeof(buf)) {
			fail("write N");
			return;
		}
		want = n;
		if (strcmp(a2, "->") == 0) {
			if (!parse_u64(a3, &want)) {
				int e = err_code(a3);

				if (e > 0) {
					fail("write N -> M|ERR");
					return;
				}
				want = (uint64_t)(int64_t)e;
			}
		}
		for (uint64_t i = 0; i < n; i++)
			buf[i] = pat(f->tx_off + i);
		rc = tcp_write(&H.ts, f->conn, buf, (uint32_t)n);
		if ((int64_t)rc != (int64_t)want)
			fail("tcp_write returned %d, expected %" PRId64, rc, (int64_t)want);
		if (rc > 0)
			f->tx_off += (uint64_t)rc;
		return;
	}
	if (strcmp(w, "read") == 0) {
		uint64_t n;
		static uint8_t buf[1 << 20];
		uint32_t got;

		if (!parse_u64(a1, &n) || n > sizeof(buf)) {
			fail("read N");
			return;
		}
		if (tcp_rx_avail(f->conn) < n) {
			fail("read %" PRIu64 ": only %u bytes readable", n, tcp_rx_avail(f->conn));
			return;
		}
		got = tcp_read(&H.ts, f->conn, buf, (uint32_t)n);
		if (got != n)
			fail("tcp_read returned %u", got);
		for (uint32_t i = 0; i < got; i++)
			if (buf[i] != pat(f->rx_off + i)) {
				fail("read byte %" PRIu64 " is %u, expected %u", f->rx_off + i, buf[i],
				     pat(f->rx_off + i));
				break;
			}
		f->rx_off += got;
		return;
	}
	if (strcmp(w, "avail") == 0) {
		uint64_t n;

		if (!parse_u64(a1, &n))
			fail("avail N");
		else if (tcp_rx_avail(f->conn) != n)
			fail("%u bytes readable, expected %" PRIu64, tcp_rx_avail(f->conn), n);
		return;
	}
	if (strcmp(w, "eof") == 0) {
		if (!tcp_rx_eof(f->conn))
			fail("expected end of stream");
		return;
	}
	if (strcmp(w, "state") == 0) {
		enum tcp_state st = tcp_conn_state(f->conn);

		if (strcmp(state_names[st], a1) != 0)
			fail("state %s, expected %s", state_names[st], a1);
		return;
	}
	if (strcmp(w, "dump") == 0) {
		/* white-box: RTT state, for writing scripts */
		printf("%s:%u: srtt %" PRIu64 " us rttvar %" PRIu64 " us rto %" PRIu64
		       " us cwnd %u ssthresh %u flags %#x nrtx %u rtx in %" PRIu64 " ticks\n",
		       H.file, H.line, f->conn->srtt_ns / 1000, f->conn->rttvar_ns / 1000,
		       f->conn->rto_ns / 1000, f->conn->cwnd, f->conn->ssthresh,
		       f->conn->flags, f->conn->nrtx,
		       tw_ticks_left(&H.ts.wheel, &f->conn->t_rtx));
		return;
	}
	if (strcmp(w, "shutdown") == 0) {
		tcp_shutdown(&H.ts, f->conn);
		return;
	}
	if (strcmp(w, "close") == 0) {
		struct tcp_conn *c = f->conn;

		f->conn = NULL;
		tcp_close(&H.ts, c);
		return;
	}
	if (strcmp(w, "abort") == 0) {
		struct tcp_conn *c = f->conn;

		f->conn = NULL;
		tcp_abort(&H.ts, c);
		return;
	}
	if (strcmp(w, "space") == 0) {
		uint64_t n;

		if (!parse_u64(a1, &n))
			fail("space N");
		else if (tcp_send_space(f->conn) != n)
			fail("send space %u, expected %" PRIu64, tcp_send_space(f->conn), n);
		return;
	}
	if (strcmp(w, "writable") == 0) {
		uint64_t n;

		if (!parse_u64(a1, &n))
			fail("writable N");
		else if (f->writable != n)
			fail("%u writable upcalls, expected %" PRIu64, f->writable, n);
		return;
	}
	fail("unknown app command '%s'", w);
}

static void do_counter(struct lex *x)
{
	char name[64], op[8], val[32];
	uint64_t v;
	int r;

	size_t n = 0;

	word(x, name, sizeof(name));
	/* the operator is made of < > = ! (which end a word elsewhere) */
	skip_ws(x);
	while (n + 1 < sizeof(op) && *x->p != '\0' && strchr("<>=!", *x->p) != NULL)
		op[n++] = *x->p++;
	op[n] = '\0';
	word(x, val, sizeof(val));
	if (!parse_u64(val, &v)) {
		fail("counter NAME OP VALUE");
		return;
	}
	for (unsigned int i = 0; i < TCP_C_COUNT; i++) {
		if (strcmp(tcp_counter_names[i], name) != 0)
			continue;
		r = cmp_op(op, tcp_counters(&H.ts)[i], v);
		if (r < 0)
			fail("bad operator %s", op);
		else if (r == 0)
			fail("counter %s is %" PRIu64 ", expected %s %" PRIu64, name,
			     tcp_counters(&H.ts)[i], op, v);
		return;
	}
	fail("no counter %s", name);
}

/* ---- one script ---- */

static void run_line(char *line)
{
	struct lex x = { .p = line };
	char w[64];
	uint64_t t = H.now;
	char *hash = NULL;

	/* comments: '#' at the start of a word */
	for (char *p = line; *p; p++)
		if (*p == '#' && (p == line || isspace((unsigned char)p[-1]))) {
			hash = p;
			break;
		}
	if (hash != NULL)
		*hash = '\0';
	skip_ws(&x);
	if (*x.p == '\0' || *x.p == '\n')
		return;
	for (char *p = x.p; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = '\0';
	if (*x.p == '+' || isdigit((unsigned char)*x.p)) {
		word(&x, w, sizeof(w));
		if (!parse_time(w, &t)) {
			fail("bad time '%s'", w);
			return;
		}
		skip_ws(&x);
	}
	if (strncmp(x.p, "set ", 4) == 0) {
		int n;

		if (H.started) {
			fail("'set' after the stack started");
			return;
		}
		x.p += 4;
		if (strncmp(x.p, "seed ", 5) == 0) {
			H.seed = strtoull(x.p + 5, NULL, 0);
			return;
		}
		if (strncmp(x.p, "offload", 7) == 0) {
			/* checksum offload both ways: we play the NIC */
			H.tx_offload = H.rx_offload = true;
			return;
		}
		if (strncmp(x.p, "tolerance ", 10) == 0) {
			H.tol_ns = (uint64_t)(strtod(x.p + 10, NULL) * 1e9);
			return;
		}
		n = snprintf(H.conf + H.conf_len, sizeof(H.conf) - H.conf_len, "%s\n", x.p);
		if (n < 0 || (size_t)n >= sizeof(H.conf) - H.conf_len)
			fail("config too long");
		else
			H.conf_len += (size_t)n;
		return;
	}
	if (start_stack() < 0)
		return;
	advance(t);
	if (*x.p == '>') {
		struct sseg s;

		x.p++;
		if (parse_seg(&x, &s) < 0) {
			fail("bad outbound segment line");
			return;
		}
		do_outbound(&s);
		return;
	}
	/* before anything else happens, every emitted segment must have been expected */
	if (H.capr < H.ncap) {
		char fb[8];

		fail("unexpected segment %s seq %u ack %u len %u (sent at %.3f s)",
		     flag_str(H.caps[H.capr].flags, fb), H.caps[H.capr].seq, H.caps[H.capr].ack,
		     H.caps[H.capr].len, (H.caps[H.capr].t_ns - T0_NS) / 1e9);
		return;
	}
	H.ncap = H.capr = 0;
	if (*x.p == '<') {
		struct sseg s;

		x.p++;
		if (parse_seg(&x, &s) < 0 || s.none) {
			fail("bad inbound segment line");
			return;
		}
		do_inbound(&s);
		return;
	}
	word(&x, w, sizeof(w));
	if (strcmp(w, "listen") == 0) {
		uint64_t port = LOCAL_PORT, lim = 0;
		char a[32], b[32];

		word(&x, a, sizeof(a));
		word(&x, b, sizeof(b));
		if (a[0] != '\0' && !parse_u64(a, &port))
			fail("listen [PORT [LIMIT]]");
		if (b[0] != '\0' && !parse_u64(b, &lim))
			fail("listen [PORT [LIMIT]]");
		H.lst = tcp_listen(&H.ts, 0, (uint16_t)port, (uint32_t)lim, &ops, NULL);
		if (H.lst == NULL)
			fail("tcp_listen failed");
		return;
	}
	if (strcmp(w, "unlisten") == 0) {
		tcp_unlisten(&H.ts, H.lst);
		H.lst = NULL;
		return;
	}
	if (strcmp(w, "app") == 0) {
		do_app(&x);
		return;
	}
	if (strcmp(w, "counter") == 0) {
		do_counter(&x);
		return;
	}
	if (strcmp(w, "pair") == 0) {
		do_pair(&x);
		return;
	}
	fail("unknown line");
}

/* Runs one script; returns true when it passed. */
static bool run_script(const char *path)
{
	unsigned int avail_before = rte_mempool_avail_count(pool);
	char line[LINE_MAX_LEN];
	FILE *fp = fopen(path, "r");
	bool ok;

	memset(&H, 0, offsetof(struct harness, caps));
	H.ncap = H.capr = 0;
	H.cur_rport = REMOTE_PORT;
	H.reject_accept = false;
	H.tx_offload = H.rx_offload = false;
	H.file = path;
	H.now = T0_NS;
	H.tol_ns = 2000000; /* 2 ms: a timer fires on the tick after its due time */
	H.seed = 1;
	failed = false;
	if (fp == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return false;
	}
	while (!failed && fgets(line, sizeof(line), fp) != NULL) {
		H.line++;
		run_line(line);
	}
	fclose(fp);
	if (!failed && H.capr < H.ncap) {
		char fb[8];

		H.line++;
		fail("unexpected segment %s seq %u len %u at the end",
		     flag_str(H.caps[H.capr].flags, fb), H.caps[H.capr].seq, H.caps[H.capr].len);
	}
	if (H.started)
		tcp_stack_fini(&H.ts);
	if (!failed && rte_mempool_avail_count(pool) != avail_before)
		fail("mbuf leak: %u mbufs not returned",
		     avail_before - rte_mempool_avail_count(pool));
	ok = !failed;
	return ok;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs one script, or every *.pkt of a directory in name order; counts results. */
static void run_arg(const char *arg, bool expect_fail, unsigned int *pass, unsigned int *nfail)
{
	DIR *d = opendir(arg);
	char *names[1024];
	size_t n = 0;
	struct dirent *e;

	if (d == NULL) {
		struct cap *caps = H.caps;
		bool ok;

		quiet = expect_fail;
		ok = run_script(arg);
		H.caps = caps;
		if (ok != expect_fail) {
			(*pass)++;
			printf("ok   %s%s\n", arg, expect_fail ? " (failed as expected)" : "");
		} else {
			(*nfail)++;
			printf("FAIL %s%s\n", arg, expect_fail ? " (passed but must fail)" : "");
		}
		return;
	}
	while ((e = readdir(d)) != NULL && n < sizeof(names) / sizeof(names[0])) {
		size_t l = strlen(e->d_name);

		if (l > 4 && strcmp(e->d_name + l - 4, ".pkt") == 0 &&
		    asprintf(&names[n], "%s/%s", arg, e->d_name) > 0)
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (size_t i = 0; i < n; i++) {
		run_arg(names[i], expect_fail, pass, nfail);
		free(names[i]);
	}
}

int main(int argc, char **argv)
{
	static char args[][32] = { "tcp_script", "--no-huge", "--no-pci", "-m", "256",
				   "--file-prefix", "ts_ut_tcp", "--no-shconf", "-l", "0", "--log-level",
				   "lib.eal:error" };
	char *eal[sizeof(args) / sizeof(args[0]) + 1];
	unsigned int pass = 0, nfail = 0;
	bool expect_fail = false;

	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++)
		eal[i] = args[i];
	eal[sizeof(args) / sizeof(args[0])] = NULL;
	if (rte_eal_init((int)(sizeof(args) / sizeof(args[0])), eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("tcp_script", NMBUFS, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	H.caps = calloc(CAP_MAX, sizeof(struct cap));
	if (pool == NULL || H.caps == NULL) {
		fprintf(stderr, "pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--expect-fail") == 0) {
			expect_fail = true;
			continue;
		}
		run_arg(argv[i], expect_fail, &pass, &nfail);
	}
	printf("%u passed, %u failed\n", pass, nfail);
	rte_mempool_free(pool);
	free(H.caps);
	rte_eal_cleanup();
	return nfail == 0 && pass > 0 ? 0 : 1;
}
