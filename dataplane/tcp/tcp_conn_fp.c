/* SPDX-License-Identifier: proprietary */
/*
 * Per-core TCP stack: connection pool, flow table, ISNs and SYN cookies, timers,
 * upcall delivery and the stream API. Fast path: no heap, no locks, no syscalls.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <rte_mbuf.h>
#include <xxhash.h>

#include "tcp_int.h"
#include "tw.h"

#define container_of_conn(t, member) \
	((struct tcp_conn *)(void *)((char *)(t) - offsetof(struct tcp_conn, member)))

/* ---- pool and flow table ---- */

struct tcp_flow_key {
	uint32_t laddr;
	uint32_t raddr;
	uint16_t lport;
	uint16_t rport;
};

/* Bucket of a 4-tuple: XXH3 with the stack's random seed, never the NIC's RSS hash,
 * so a client cannot aim collisions at one chain. */
static uint32_t tcp_flow_bucket(const struct tcp_stack *ts, uint32_t laddr, uint16_t lport,
				uint32_t raddr, uint16_t rport)
{
	struct tcp_flow_key k = { .laddr = laddr, .raddr = raddr, .lport = lport, .rport = rport };

	return (uint32_t)XXH3_64bits_withSeed(&k, sizeof(k), ts->flow_seed) & ts->bucket_mask;
}

struct tcp_conn *tcp_flow_lookup(struct tcp_stack *ts, uint32_t laddr, uint16_t lport,
				 uint32_t raddr, uint16_t rport)
{
	uint32_t i = ts->buckets[tcp_flow_bucket(ts, laddr, lport, raddr, rport)];

	while (i != 0) {
		struct tcp_conn *c = &ts->conns[i - 1];

		if (c->laddr == laddr && c->raddr == raddr && c->lport == lport &&
		    c->rport == rport)
			return c;
		i = c->hnext;
	}
	return NULL;
}

void tcp_flow_insert(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint32_t b = tcp_flow_bucket(ts, c->laddr, c->lport, c->raddr, c->rport);

	c->hnext = ts->buckets[b];
	ts->buckets[b] = tcp_conn_index(ts, c) + 1;
}

static void tcp_flow_remove(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint32_t *pp = &ts->buckets[tcp_flow_bucket(ts, c->laddr, c->lport, c->raddr, c->rport)];
	uint32_t me = tcp_conn_index(ts, c) + 1;

	while (*pp != 0) {
		if (*pp == me) {
			*pp = c->hnext;
			c->hnext = 0;
			return;
		}
		pp = &ts->conns[*pp - 1].hnext;
	}
}

struct tcp_conn *tcp_conn_alloc(struct tcp_stack *ts)
{
	struct tcp_conn *c;
	uint32_t gen;

	if (ts->free_head == 0 && ts->tw_head != 0) {
		/* pool empty: a TIME_WAIT conn is the cheapest to give up (Linux does not
		 * even create one when its TIME_WAIT buckets run out); the oldest goes */
		tcp_cnt(ts, TCP_C_TIME_WAIT_RECYCLED);
		tcp_conn_drop(ts, &ts->conns[ts->tw_head - 1], 0);
	}
	if (ts->free_head == 0)
		return NULL;
	c = &ts->conns[ts->free_head - 1];
	ts->free_head = c->hnext;
	gen = c->gen;
	memset(c, 0, sizeof(*c));
	c->gen = gen;
	c->born_ns = ts->now_ns;
	c->last_rx_ns = ts->now_ns;
	c->rto_ns = ts->cfg.rto_init_ns;
	c->mss = TCP_DEFAULT_MSS;
	c->peer_mss = TCP_DEFAULT_MSS;
	c->snd_buf = (uint32_t)ts->cfg.snd_buf;
	ts->nconns++;
	return c;
}

void tcp_free_chain(struct rte_mbuf **head, struct rte_mbuf **tail)
{
	struct rte_mbuf *m = *head;

	while (m != NULL) {
		struct rte_mbuf *n = m->next;

		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free(m);
		m = n;
	}
	*head = NULL;
	if (tail != NULL)
		*tail = NULL;
}

static void tcp_tw_unlink(struct tcp_stack *ts, struct tcp_conn *c)
{
	if (c->tw_prev != 0)
		ts->conns[c->tw_prev - 1].tw_next = c->tw_next;
	else
		ts->tw_head = c->tw_next;
	if (c->tw_next != 0)
		ts->conns[c->tw_next - 1].tw_prev = c->tw_prev;
	else
		ts->tw_tail = c->tw_prev;
	c->tw_next = 0;
	c->tw_prev = 0;
	ts->ntime_wait--;
}

void tcp_conn_free(struct tcp_stack *ts, struct tcp_conn *c)
{
	if (c->state == TCP_ST_CLOSED)
		return;
	tw_cancel(&ts->wheel, &c->t_rtx);
	tw_cancel(&ts->wheel, &c->t_delack);
	tw_cancel(&ts->wheel, &c->t_life);
	tcp_free_chain(&c->sq_head, &c->sq_tail);
	tcp_free_chain(&c->rq_head, &c->rq_tail);
	tcp_free_chain(&c->ooo_head, NULL);
	tcp_flow_remove(ts, c);
	if (c->state == TCP_ST_TIME_WAIT)
		tcp_tw_unlink(ts, c);
	if (c->lidx != 0) {
		struct tcp_listener *l = &ts->listeners[c->lidx - 1];

		if (l->nconns > 0)
			l->nconns--;
		if (c->state == TCP_ST_SYN_RCVD && l->nsynrcvd > 0)
			l->nsynrcvd--;
	}
	c->state = TCP_ST_CLOSED;
	c->flags = 0;
	c->events = 0;
	c->gen++;
	c->hnext = ts->free_head;
	ts->free_head = tcp_conn_index(ts, c) + 1;
	ts->nconns--;
	tcp_cnt(ts, TCP_C_CLOSED);
}

void tcp_conn_drop(struct tcp_stack *ts, struct tcp_conn *c, int err)
{
	if ((c->flags & TCF_APP) && c->ops.closed != NULL) {
		void *ctx = c->ctx;
		uint32_t gen = c->gen;

		c->flags &= ~TCF_APP;
		c->ops.closed(c, ctx, err);
		if (c->gen != gen)
			return; /* the app aborted it from inside closed() */
	}
	tcp_conn_free(ts, c);
}

bool tcp_deliver(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint32_t gen = c->gen;

	while (c->events != 0 && c->gen == gen && c->state != TCP_ST_CLOSED) {
		uint8_t ev = c->events;

		if (!(c->flags & TCF_APP) && !(ev & TCE_ACCEPTED)) {
			c->events = 0;
			break;
		}
		if (ev & TCE_ACCEPTED) {
			struct tcp_listener *l = c->lidx ? &ts->listeners[c->lidx - 1] : NULL;
			int rc = 0;

			c->events &= (uint8_t)~TCE_ACCEPTED;
			c->flags |= TCF_APP;
			if (c->ops.accepted != NULL)
				rc = c->ops.accepted(c, l ? l->ctx : NULL);
			if (c->gen != gen)
				return false;
			if (rc < 0) {
				c->flags &= ~TCF_APP;
				tcp_send_rst(ts, c);
				tcp_conn_free(ts, c);
				return false;
			}
		} else if (ev & TCE_CONNECTED) {
			c->events &= (uint8_t)~TCE_CONNECTED;
			if (c->ops.connected != NULL)
				c->ops.connected(c, c->ctx);
			else if (c->ops.writable != NULL)
				c->ops.writable(c, c->ctx);
		} else if (ev & TCE_READABLE) {
			c->events &= (uint8_t)~TCE_READABLE;
			if (c->ops.readable != NULL)
				c->ops.readable(c, c->ctx);
		} else if (ev & TCE_WRITABLE) {
			c->events &= (uint8_t)~TCE_WRITABLE;
			c->flags &= ~TCF_WANT_WRITE;
			if (c->ops.writable != NULL)
				c->ops.writable(c, c->ctx);
		}
	}
	return c->gen == gen && c->state != TCP_ST_CLOSED;
}

/* ---- ISN (RFC 6528) and SYN cookies (RFC 4987) ---- */

struct tcp_isn_in {
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint8_t secret[24];
};

uint32_t tcp_isn(const struct tcp_stack *ts, uint32_t laddr, uint16_t lport, uint32_t raddr,
		 uint16_t rport)
{
	struct tcp_isn_in in = { .laddr = laddr, .raddr = raddr, .lport = lport, .rport = rport };
	uint64_t seed;

	memcpy(in.secret, ts->isn_secret + 8, sizeof(in.secret));
	memcpy(&seed, ts->isn_secret, sizeof(seed));
	/* RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
	 * M a 4 us timer */
	return (uint32_t)(ts->now_ns / 4000) + (uint32_t)XXH3_64bits_withSeed(&in, sizeof(in), seed);
}

/* MSS values a cookie can carry (3 bits); an index stands for the largest entry not
 * above the client's MSS (as Linux's msstab). */
const uint16_t tcp_cookie_mss[8] = { 536, 1220, 1300, 1400, 1440, 1460, 4312, 8960 };

unsigned int tcp_cookie_mss_idx(uint16_t mss)
{
	unsigned int i = 7;

	while (i > 0 && tcp_cookie_mss[i] > mss)
		i--;
	return i;
}

struct tcp_cookie_in {
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint32_t peer_isn;
	uint64_t count;
	uint8_t secret[24];
};

static uint32_t tcp_cookie_hash(const struct tcp_stack *ts, uint32_t laddr, uint16_t lport,
				uint32_t raddr, uint16_t rport, uint32_t peer_isn, uint64_t count)
{
	struct tcp_cookie_in in;
	uint64_t seed;

	memset(&in, 0, sizeof(in));
	in.laddr = laddr;
	in.raddr = raddr;
	in.lport = lport;
	in.rport = rport;
	in.peer_isn = peer_isn;
	in.count = count;
	memcpy(in.secret, ts->cookie_secret + 8, sizeof(in.secret));
	memcpy(&seed, ts->cookie_secret, sizeof(seed));
	return (uint32_t)XXH3_64bits_withSeed(&in, sizeof(in), seed) & 0xffffffu;
}

/*
 * RFC 4987 3.6 layout: top 5 bits a 64 s counter, next 3 bits the MSS index, low 24
 * bits a keyed hash of the 4-tuple, the client's ISN and the counter.
 */
uint32_t tcp_cookie_make(const struct tcp_stack *ts, uint32_t laddr, uint16_t lport,
			 uint32_t raddr, uint16_t rport, uint32_t peer_isn, unsigned int mss_idx)
{
	uint64_t count = ts->now_ns / TCP_COOKIE_PERIOD_NS;

	return ((uint32_t)(count & 0x1f) << 27) | ((uint32_t)(mss_idx & 7) << 24) |
	       tcp_cookie_hash(ts, laddr, lport, raddr, rport, peer_isn, count);
}

/* Returns the MSS index the cookie carries, or -1 when it is not ours or too old. */
int tcp_cookie_check(const struct tcp_stack *ts, uint32_t laddr, uint16_t lport,
		     uint32_t raddr, uint16_t rport, uint32_t peer_isn, uint32_t cookie)
{
	uint64_t count = ts->now_ns / TCP_COOKIE_PERIOD_NS;

	for (unsigned int age = 0; age <= TCP_COOKIE_MAX_AGE && age <= count; age++) {
		uint64_t t = count - age;

		if ((t & 0x1f) != (cookie >> 27))
			continue;
		if (tcp_cookie_hash(ts, laddr, lport, raddr, rport, peer_isn, t) ==
		    (cookie & 0xffffffu))
			return (int)((cookie >> 24) & 7);
	}
	return -1;
}

/* ---- timers ---- */

static uint64_t tcp_backed_off_rto(const struct tcp_stack *ts, const struct tcp_conn *c)
{
	uint64_t rto = c->rto_ns;

	/* RFC 6298 5.5: back off the timer (double it) per expiry, bounded */
	for (unsigned int i = 0; i < c->nrtx && rto < ts->cfg.rto_max_ns; i++)
		rto <<= 1;
	return rto < ts->cfg.rto_max_ns ? rto : ts->cfg.rto_max_ns;
}

static void tcp_rtx_expire(struct tw_wheel *w, struct tw_timer *t);
static void tcp_delack_expire(struct tw_wheel *w, struct tw_timer *t);
static void tcp_life_expire(struct tw_wheel *w, struct tw_timer *t);

void tcp_arm_rtx(struct tcp_stack *ts, struct tcp_conn *c)
{
	c->flags &= ~(TCF_TLP_ARMED | TCF_RACK_ARMED);
	tw_arm_ns(&ts->wheel, &c->t_rtx, tcp_backed_off_rto(ts, c), tcp_rtx_expire);
}

/*
 * In fast recovery with SACK, a retransmission that is itself lost leaves nothing to
 * clock the sender once every other segment is SACKed: RFC 8985's reordering timer
 * idea, simplified: when the first hole is not repaired within 2 * SRTT (at least
 * 10 ms) of its retransmission, send it again, up to TCP_RACK_TRIES times per
 * episode; then the RTO (with its back-off) takes over.
 */
void tcp_arm_recovery_timer(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint64_t t = 2 * c->srtt_ns;

	if (t < TCP_TLP_MIN_NS)
		t = TCP_TLP_MIN_NS;
	if (!(c->flags & TCF_SACK) || !(c->flags & TCF_RECOVERY) || c->srtt_ns == 0 ||
	    c->rack_tries >= TCP_RACK_TRIES || t >= tcp_backed_off_rto(ts, c)) {
		tcp_arm_rtx(ts, c);
		return;
	}
	c->flags &= ~TCF_TLP_ARMED;
	c->flags |= TCF_RACK_ARMED;
	tw_arm_ns(&ts->wheel, &c->t_rtx, t, tcp_rtx_expire);
}

void tcp_arm_reorder(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint64_t t = c->srtt_ns / 4;

	if (t < TCP_REO_MIN_NS)
		t = TCP_REO_MIN_NS;
	if (t >= tcp_backed_off_rto(ts, c))
		return;
	c->flags &= ~TCF_TLP_ARMED;
	c->flags |= TCF_RACK_ARMED;
	tw_arm_ns(&ts->wheel, &c->t_rtx, t, tcp_rtx_expire);
}

/*
 * RFC 8985 7.2: with SACK and an RTT estimate, data in flight and no recovery, RTO
 * episode or probe already out, schedule a tail loss probe after 2 * SRTT (plus the
 * peer's worst delayed-ACK time when one segment is out) when that comes before
 * the RTO: a lost tail then costs about two RTTs instead of rto_min.
 */
bool tcp_arm_pto(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint64_t pto;

	if (!(c->flags & TCF_SACK) || c->srtt_ns == 0 || c->nrtx != 0 || tcp_flight(c) == 0 ||
	    !tcp_synchronized(c) || (c->flags & (TCF_RECOVERY | TCF_TLP_SENT | TCF_PERSIST)))
		return false;
	pto = 2 * c->srtt_ns;
	if (tcp_flight(c) <= c->mss)
		pto += TCP_TLP_DELACK_NS;
	if (pto < TCP_TLP_MIN_NS)
		pto = TCP_TLP_MIN_NS;
	if (pto >= tcp_backed_off_rto(ts, c))
		return false;
	c->flags &= ~TCF_RACK_ARMED;
	c->flags |= TCF_TLP_ARMED;
	tw_arm_ns(&ts->wheel, &c->t_rtx, pto, tcp_rtx_expire);
	return true;
}

void tcp_arm_delack(struct tcp_stack *ts, struct tcp_conn *c)
{
	if (!tw_timer_armed(&c->t_delack))
		tw_arm_ns(&ts->wheel, &c->t_delack, ts->cfg.delack_ns, tcp_delack_expire);
}

/* Earliest idle / keep-alive deadline of a synchronized conn, in ns from now (0: none). */
static uint64_t tcp_life_delay(const struct tcp_stack *ts, const struct tcp_conn *c)
{
	uint64_t idle = ts->now_ns - c->last_rx_ns;
	uint64_t best = 0;

	if (ts->cfg.idle_timeout_ns != 0)
		best = ts->cfg.idle_timeout_ns > idle ? ts->cfg.idle_timeout_ns - idle : 1;
	if (ts->cfg.keepalive_idle_ns != 0) {
		uint64_t due = ts->cfg.keepalive_idle_ns + c->ka_probes * ts->cfg.keepalive_intvl_ns;
		uint64_t d = due > idle ? due - idle : 1;

		if (best == 0 || d < best)
			best = d;
	}
	return best;
}

void tcp_arm_life(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint64_t d = 0;

	switch (c->state) {
	case TCP_ST_SYN_SENT:
	case TCP_ST_SYN_RCVD:
		d = ts->cfg.handshake_timeout_ns;
		break;
	case TCP_ST_FIN_WAIT_2:
		if (c->flags & TCF_CLOSED_APP) {
			d = ts->cfg.fin_wait2_ns;
			break;
		}
		d = tcp_life_delay(ts, c);
		break;
	case TCP_ST_TIME_WAIT:
		d = 2 * ts->cfg.msl_ns;
		break;
	default:
		d = tcp_life_delay(ts, c);
		break;
	}
	if (d != 0)
		tw_arm_ns(&ts->wheel, &c->t_life, d, tcp_life_expire);
	else
		tw_cancel(&ts->wheel, &c->t_life);
}

void tcp_enter_time_wait(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint32_t me = tcp_conn_index(ts, c) + 1;

	/* the listener's limit counts live conns, not TIME_WAIT ones */
	if (c->lidx != 0) {
		struct tcp_listener *l = &ts->listeners[c->lidx - 1];

		if (l->nconns > 0)
			l->nconns--;
		c->lidx = 0;
	}
	c->tw_prev = ts->tw_tail;
	c->tw_next = 0;
	if (ts->tw_tail != 0)
		ts->conns[ts->tw_tail - 1].tw_next = me;
	else
		ts->tw_head = me;
	ts->tw_tail = me;
	ts->ntime_wait++;
	c->state = TCP_ST_TIME_WAIT;
	tw_cancel(&ts->wheel, &c->t_rtx);
	c->flags &= ~(TCF_TLP_ARMED | TCF_RACK_ARMED | TCF_PERSIST);
	tw_cancel(&ts->wheel, &c->t_delack);
	tcp_free_chain(&c->sq_head, &c->sq_tail);
	c->sq_len = 0;
	c->sq_off = 0;
	tcp_free_chain(&c->ooo_head, NULL);
	c->ooo_segs = 0;
	c->ooo_bytes = 0;
	/* RFC 9293 3.10.7.4: TIME-WAIT lasts 2 MSL */
	tw_arm_ns(&ts->wheel, &c->t_life, 2 * ts->cfg.msl_ns, tcp_life_expire);
}

void tcp_established(struct tcp_stack *ts, struct tcp_conn *c)
{
	if (c->state == TCP_ST_SYN_RCVD && c->lidx != 0) {
		struct tcp_listener *l = &ts->listeners[c->lidx - 1];

		if (l->nsynrcvd > 0)
			l->nsynrcvd--;
	}
	c->state = TCP_ST_ESTABLISHED;
	c->nrtx = 0;
	/* RFC 5681 3.1 / RFC 6928: IW = min(10 * MSS, max(2 * MSS, 14600)) */
	c->cwnd = 10u * c->mss < (2u * c->mss > 14600 ? 2u * c->mss : 14600)
			  ? 10u * c->mss
			  : (2u * c->mss > 14600 ? 2u * c->mss : 14600);
	if (c->nrtx == 0 && c->srtt_ns == 0 && c->rto_ns > ts->cfg.rto_init_ns)
		c->rto_ns = ts->cfg.rto_init_ns;
	c->ssthresh = 0x7fffffff;
	c->recover = c->iss; /* RFC 6582 3.2 step 1 */
	tw_cancel(&ts->wheel, &c->t_rtx);
	c->flags &= ~(TCF_TLP_ARMED | TCF_RACK_ARMED | TCF_PERSIST);
	tcp_arm_life(ts, c);
}

static void tcp_rtx_expire(struct tw_wheel *w, struct tw_timer *t)
{
	struct tcp_stack *ts = w->owner;
	struct tcp_conn *c = container_of_conn(t, t_rtx);

	if (c->state == TCP_ST_SYN_SENT || c->state == TCP_ST_SYN_RCVD) {
		if (c->nrtx >= ts->cfg.syn_retries) {
			tcp_cnt(ts, TCP_C_TIMEOUT_HANDSHAKE);
			tcp_conn_drop(ts, c, -ETIMEDOUT);
			return;
		}
		c->nrtx++;
		tcp_cnt(ts, TCP_C_SYN_RETRANSMITS);
		tcp_cnt(ts, TCP_C_RETRANSMITS);
		c->flags &= ~TCF_RTT; /* Karn: no sample from a retransmitted SYN */
		tcp_send_syn(ts, c);
		tcp_arm_rtx(ts, c);
		return;
	}
	if (c->flags & TCF_PERSIST) {
		if (c->snd_wnd > 0) {
			/* a small window held back by SWS avoidance: the override
			 * timeout, send what fits (RFC 9293 3.8.6.2.1) */
			c->flags &= ~TCF_PERSIST;
			c->flags |= TCF_FORCE;
			tcp_output(ts, c);
			return;
		}
		/* RFC 9293 3.8.6.1: probe the zero window; RFC 1122 4.2.2.17: keep probing
		 * while the peer answers. The probe is an ACK one below snd_una (the peer
		 * answers with its current window without us sending data beyond it). */
		tcp_cnt(ts, TCP_C_ZWP_SENT);
		if (c->nrtx < 16)
			c->nrtx++;
		tcp_xmit(ts, c, c->snd_una - 1, 0, TCP_ACK);
		tcp_arm_rtx(ts, c);
		return;
	}
	if (tcp_flight(c) == 0)
		return;
	if (c->flags & TCF_RACK_ARMED) {
		c->flags &= ~TCF_RACK_ARMED;
		if (c->flags & TCF_RECOVERY) {
			/* the first hole's retransmission is presumed lost */
			tcp_cnt(ts, TCP_C_RECOVERY_TIMEOUTS);
			c->rack_tries++;
			c->high_rxt = c->snd_una;
			tcp_retransmit_una(ts, c);
			tcp_arm_recovery_timer(ts, c);
			return;
		}
		if ((c->flags & TCF_SACK) && c->nsack > 0 && tcp_flight(c) > 0) {
			/* the reordering window passed and the hole under the SACKed
			 * data is still there: it is lost */
			tcp_enter_recovery(ts, c);
			return;
		}
		tcp_arm_rtx(ts, c);
		return;
	}
	if (c->flags & TCF_TLP_ARMED) {
		/* RFC 8985 7.3: one probe, then the RTO runs from now */
		c->flags &= ~TCF_TLP_ARMED;
		c->flags |= TCF_TLP_SENT;
		tcp_cnt(ts, TCP_C_TLP_PROBES);
		tcp_send_tlp(ts, c);
		tcp_arm_rtx(ts, c);
		return;
	}
	tcp_cnt(ts, TCP_C_RTO_EXPIRIES);
	if (c->nrtx >= ts->cfg.data_retries) {
		tcp_cnt(ts, TCP_C_TIMEOUT_RTO);
		tcp_send_rst(ts, c);
		tcp_conn_drop(ts, c, -ETIMEDOUT);
		return;
	}
	/* RFC 5681 eq. 4 and 3.1: ssthresh = max(FlightSize / 2, 2 * SMSS), cwnd = LW */
	if (c->nrtx == 0) {
		uint32_t half = tcp_flight(c) / 2;

		c->ssthresh = half > 2u * c->mss ? half : 2u * c->mss;
	}
	c->cwnd = c->mss;
	c->bytes_acked = 0;
	c->nrtx++;
	c->dupacks = 0;
	c->flags &= ~(TCF_RECOVERY | TCF_RTT | TCF_TLP_SENT); /* Karn (RFC 6298 5) */
	c->recover = c->snd_max;			   /* RFC 6582 4 after a timeout */
	c->nsack = 0; /* RFC 6675 5.1: the scoreboard may be stale after an RTO */
	c->snd_nxt = c->snd_una;
	c->high_rxt = c->snd_una;
	tcp_retransmit_una(ts, c);
	tcp_arm_rtx(ts, c);
}

static void tcp_delack_expire(struct tw_wheel *w, struct tw_timer *t)
{
	struct tcp_stack *ts = w->owner;
	struct tcp_conn *c = container_of_conn(t, t_delack);

	if (c->delack_segs == 0 && !(c->flags & TCF_ACK_NOW))
		return;
	tcp_cnt(ts, TCP_C_DELAYED_ACKS);
	tcp_send_ack(ts, c);
}

static void tcp_life_expire(struct tw_wheel *w, struct tw_timer *t)
{
	struct tcp_stack *ts = w->owner;
	struct tcp_conn *c = container_of_conn(t, t_life);
	uint64_t idle;

	switch (c->state) {
	case TCP_ST_SYN_SENT:
	case TCP_ST_SYN_RCVD:
		tcp_cnt(ts, TCP_C_TIMEOUT_HANDSHAKE);
		tcp_conn_drop(ts, c, -ETIMEDOUT);
		return;
	case TCP_ST_TIME_WAIT:
		tcp_conn_drop(ts, c, 0); /* closed(0) when the app never closed it */
		return;
	case TCP_ST_FIN_WAIT_2:
		if (c->flags & TCF_CLOSED_APP) {
			tcp_conn_free(ts, c);
			return;
		}
		break;
	default:
		break;
	}
	idle = ts->now_ns - c->last_rx_ns;
	if (ts->cfg.idle_timeout_ns != 0 && idle >= ts->cfg.idle_timeout_ns) {
		tcp_cnt(ts, TCP_C_TIMEOUT_IDLE);
		tcp_send_rst(ts, c);
		tcp_conn_drop(ts, c, -ETIMEDOUT);
		return;
	}
	if (ts->cfg.keepalive_idle_ns != 0 &&
	    idle >= ts->cfg.keepalive_idle_ns + c->ka_probes * ts->cfg.keepalive_intvl_ns) {
		if (c->ka_probes >= ts->cfg.keepalive_probes) {
			tcp_cnt(ts, TCP_C_TIMEOUT_KEEPALIVE);
			tcp_send_rst(ts, c);
			tcp_conn_drop(ts, c, -ETIMEDOUT);
			return;
		}
		/* RFC 9293 3.8.4 / RFC 1122 4.2.3.6: a keep-alive is an ACK with SEG.SEQ =
		 * SND.NXT - 1 that the peer must answer; skipped while data is in flight
		 * (the retransmission timer watches the peer then) */
		if (tcp_flight(c) == 0) {
			tcp_cnt(ts, TCP_C_KEEPALIVES_SENT);
			tcp_xmit(ts, c, c->snd_nxt - 1, 0, TCP_ACK);
		}
		c->ka_probes++;
	}
	tcp_arm_life(ts, c);
}

void tcp_timers(struct tcp_stack *ts, uint64_t now_ns)
{
	ts->now_ns = now_ns;
	/* timer callbacks make their closed() upcalls themselves; none raises others */
	tw_advance(&ts->wheel, now_ns, TCP_TIMER_BUDGET);
}

/* ---- stream API ---- */

void tcp_set_ctx(struct tcp_conn *conn, void *ctx)
{
	conn->ctx = ctx;
}

void *tcp_get_ctx(const struct tcp_conn *conn)
{
	return conn->ctx;
}

enum tcp_state tcp_conn_state(const struct tcp_conn *conn)
{
	return (enum tcp_state)conn->state;
}

void tcp_conn_tuple(const struct tcp_conn *conn, uint32_t *laddr_be, uint16_t *lport,
		    uint32_t *raddr_be, uint16_t *rport)
{
	if (laddr_be != NULL)
		*laddr_be = conn->laddr;
	if (lport != NULL)
		*lport = conn->lport;
	if (raddr_be != NULL)
		*raddr_be = conn->raddr;
	if (rport != NULL)
		*rport = conn->rport;
}

uint32_t tcp_rx_avail(const struct tcp_conn *conn)
{
	return conn->rq_len;
}

bool tcp_rx_eof(const struct tcp_conn *conn)
{
	return (conn->flags & TCF_FIN_RCVD) != 0;
}

unsigned int tcp_peek(const struct tcp_conn *conn, struct tcp_rx_seg *segs, unsigned int max)
{
	unsigned int n = 0;

	for (struct rte_mbuf *m = conn->rq_head; m != NULL && n < max; m = m->next) {
		segs[n].data = rte_pktmbuf_mtod(m, const uint8_t *);
		segs[n].len = m->data_len;
		n++;
	}
	return n;
}

int tcp_consume(struct tcp_stack *ts, struct tcp_conn *conn, uint32_t n)
{
	uint32_t before;

	if (n > conn->rq_len)
		return -EINVAL;
	before = conn->rcv_adv - conn->rcv_nxt;
	conn->rq_len -= n;
	while (n > 0) {
		struct rte_mbuf *m = conn->rq_head;

		if (n < m->data_len) {
			rte_pktmbuf_adj(m, (uint16_t)n);
			break;
		}
		n -= m->data_len;
		conn->rq_head = m->next;
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free(m);
	}
	if (conn->rq_head == NULL)
		conn->rq_tail = NULL;
	/* Window update after reading (RFC 9293 3.8.6.2.2 with Linux's rule against
	 * chatty updates): only when the window we could offer now is at least twice
	 * the one the peer knows and at least one MSS larger (this reopens a closed
	 * window at once) */
	if (tcp_synchronized(conn) && !(conn->flags & TCF_FIN_RCVD)) {
		uint32_t now_wnd = tcp_rcv_space(ts, conn);

		if (now_wnd >= 2 * before && now_wnd - before >= conn->mss)
			tcp_send_ack(ts, conn);
	}
	return 0;
}

uint32_t tcp_read(struct tcp_stack *ts, struct tcp_conn *conn, void *buf, uint32_t n)
{
	uint32_t done = 0;
	uint8_t *out = buf;

	for (struct rte_mbuf *m = conn->rq_head; m != NULL && done < n; m = m->next) {
		uint32_t k = m->data_len < n - done ? m->data_len : n - done;

		memcpy(out + done, rte_pktmbuf_mtod(m, const uint8_t *), k);
		done += k;
	}
	tcp_consume(ts, conn, done);
	return done;
}

uint32_t tcp_send_space(const struct tcp_conn *conn)
{
	return conn->sq_len >= conn->snd_buf ? 0 : conn->snd_buf - conn->sq_len;
}

int32_t tcp_write(struct tcp_stack *ts, struct tcp_conn *conn, const void *buf, uint32_t len)
{
	const uint8_t *p = buf;
	uint32_t room, done = 0, asked = len;

	if (conn->state == TCP_ST_SYN_SENT || conn->state == TCP_ST_SYN_RCVD)
		return -ENOTCONN;
	if ((conn->state != TCP_ST_ESTABLISHED && conn->state != TCP_ST_CLOSE_WAIT) ||
	    (conn->flags & TCF_FIN_QUEUED))
		return -EPIPE;
	room = tcp_send_space(conn);
	if (len > room)
		len = room;
	while (done < len) {
		struct rte_mbuf *m = conn->sq_tail;
		uint32_t tail = m ? rte_pktmbuf_tailroom(m) : 0;
		uint32_t k;
		char *dst;

		if (tail == 0) {
			m = rte_pktmbuf_alloc(ts->pool);
			if (m == NULL) {
				tcp_cnt(ts, TCP_C_DROP_NO_MBUF);
				break;
			}
			if (conn->sq_tail != NULL)
				conn->sq_tail->next = m;
			else
				conn->sq_head = m;
			conn->sq_tail = m;
			tail = rte_pktmbuf_tailroom(m);
		}
		k = len - done < tail ? len - done : tail;
		dst = rte_pktmbuf_append(m, (uint16_t)k);
		memcpy(dst, p + done, k);
		done += k;
	}
	conn->sq_len += done;
	if (done < asked)
		conn->flags |= TCF_WANT_WRITE;
	tcp_output(ts, conn);
	return (int32_t)done;
}

int tcp_shutdown(struct tcp_stack *ts, struct tcp_conn *conn)
{
	switch (conn->state) {
	case TCP_ST_SYN_SENT:
		tcp_conn_free(ts, conn);
		return -ENOTCONN;
	case TCP_ST_SYN_RCVD:
		/* RFC 9293 3.10.4: the FIN goes once established (tcp_input moves the
		 * conn to FIN_WAIT_1 then) */
		conn->flags |= TCF_FIN_QUEUED;
		return 0;
	case TCP_ST_ESTABLISHED:
		conn->state = TCP_ST_FIN_WAIT_1; /* RFC 9293 3.10.4 CLOSE */
		break;
	case TCP_ST_CLOSE_WAIT:
		conn->state = TCP_ST_LAST_ACK;
		break;
	default:
		return 0; /* already closing */
	}
	conn->flags |= TCF_FIN_QUEUED;
	tcp_output(ts, conn);
	return 0;
}

void tcp_close(struct tcp_stack *ts, struct tcp_conn *conn)
{
	conn->flags &= ~(TCF_APP | TCF_WANT_WRITE);
	conn->flags |= TCF_CLOSED_APP;
	conn->events = 0;
	/* RFC 2525 2.17: closing with unread data is an abort */
	if (conn->rq_len != 0) {
		tcp_abort(ts, conn);
		return;
	}
	tcp_shutdown(ts, conn);
	if (conn->state == TCP_ST_FIN_WAIT_2)
		tcp_arm_life(ts, conn);
}

void tcp_abort(struct tcp_stack *ts, struct tcp_conn *conn)
{
	conn->flags &= ~TCF_APP;
	tcp_cnt(ts, TCP_C_CONN_ABORTED);
	/* RFC 9293 3.10.5: RST in SYN-RECEIVED and the synchronized states */
	if (conn->state != TCP_ST_SYN_SENT && conn->state != TCP_ST_TIME_WAIT &&
	    conn->state != TCP_ST_CLOSED)
		tcp_send_rst(ts, conn);
	tcp_conn_free(ts, conn);
}

int tcp_connect(struct tcp_stack *ts, uint32_t saddr_be, uint32_t daddr_be, uint16_t dport,
		const struct tcp_ops *ops, void *ctx, uint64_t now_ns, struct tcp_conn **out)
{
	uint32_t range = (uint32_t)(ts->cfg.local_port_max - ts->cfg.local_port_min + 1);
	struct tcp_conn *c;
	uint16_t port = 0;

	if (ops == NULL || out == NULL || dport == 0 || daddr_be == 0 || saddr_be == 0)
		return -EINVAL;
	ts->now_ns = now_ns;
	for (uint32_t i = 0; i < range; i++) {
		uint16_t p = ts->next_port;

		ts->next_port = (p >= ts->cfg.local_port_max) ? (uint16_t)ts->cfg.local_port_min
							      : (uint16_t)(p + 1);
		if (ts->port_ok != NULL && !ts->port_ok(ts->port_ok_arg, saddr_be, daddr_be, p, dport))
			continue;
		if (tcp_flow_lookup(ts, saddr_be, p, daddr_be, dport) != NULL)
			continue;
		port = p;
		break;
	}
	if (port == 0)
		return -EADDRNOTAVAIL;
	c = tcp_conn_alloc(ts);
	if (c == NULL) {
		tcp_cnt(ts, TCP_C_DROP_POOL_EXHAUSTED);
		return -ENOBUFS;
	}
	c->laddr = saddr_be;
	c->lport = port;
	c->raddr = daddr_be;
	c->rport = dport;
	c->ops = *ops;
	c->ctx = ctx;
	c->flags = TCF_APP;
	c->state = TCP_ST_SYN_SENT;
	c->iss = tcp_isn(ts, saddr_be, port, daddr_be, dport);
	c->snd_una = c->iss;
	c->snd_nxt = c->iss;
	c->snd_max = c->iss;
	c->rcv_wscale = tcp_choose_wscale(ts);
	tcp_flow_insert(ts, c);
	tcp_cnt(ts, TCP_C_ACTIVE_OPENS);
	tcp_send_syn(ts, c);
	tcp_arm_rtx(ts, c);
	tcp_arm_life(ts, c);
	*out = c;
	return 0;
}
