/* SPDX-License-Identifier: proprietary */
/*
 * Per-core TCP stack: segment arrival (fast path), RFC 9293 3.10.7 step by step,
 * with RFC 7323 (PAWS, timestamps), RFC 5961 (challenge ACKs), RFC 4987 (SYN
 * cookies), RFC 5681/6582 (congestion control, NewReno recovery), RFC 2018 (SACK),
 * RFC 6298 (RTO).
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "tcp_int.h"
#include "tw.h"

/* ---- parsing ---- */

/* Parse the options of a header of hlen bytes. Returns false when they are malformed
 * (length below 2 or running past the header): RFC 9293 3.1 lets us drop those. A
 * known option with a wrong length is ignored. */
static bool tcp_parse_opts(const uint8_t *o, uint32_t n, struct tcp_seg *s, bool syn)
{
	uint32_t i = 0;

	while (i < n) {
		uint8_t kind = o[i], len;

		if (kind == TCP_OPT_EOL)
			break;
		if (kind == TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= n)
			return false;
		len = o[i + 1];
		if (len < 2 || i + len > n)
			return false;
		switch (kind) {
		case TCP_OPT_MSS:
			if (len == 4 && syn) {
				s->has_mss = true;
				s->mss = (uint16_t)((o[i + 2] << 8) | o[i + 3]);
			}
			break;
		case TCP_OPT_WS:
			if (len == 3 && syn) {
				s->has_ws = true;
				s->ws = o[i + 2];
			}
			break;
		case TCP_OPT_SACK_OK:
			if (len == 2 && syn)
				s->has_sack_ok = true;
			break;
		case TCP_OPT_SACK:
			if (len >= 10 && (len - 2) % 8 == 0 && !syn) {
				unsigned int nb = (len - 2u) / 8u;

				s->nsack = 0;
				for (unsigned int b = 0; b < nb && b < TCP_SACK_BLOCKS_RX; b++) {
					uint32_t st, en;

					memcpy(&st, o + i + 2 + 8 * b, 4);
					memcpy(&en, o + i + 6 + 8 * b, 4);
					s->sack[b].start = rte_be_to_cpu_32(st);
					s->sack[b].end = rte_be_to_cpu_32(en);
					s->nsack++;
				}
			}
			break;
		case TCP_OPT_TS:
			if (len == 10) {
				uint32_t v, e;

				memcpy(&v, o + i + 2, 4);
				memcpy(&e, o + i + 6, 4);
				s->has_ts = true;
				s->tsval = rte_be_to_cpu_32(v);
				s->tsecr = rte_be_to_cpu_32(e);
			}
			break;
		default:
			break;
		}
		i += len;
	}
	return true;
}

static bool tcp_cksum_ok(const struct tcp_stack *ts, const struct rte_mbuf *m, uint32_t saddr,
			 uint32_t daddr)
{
	uint32_t s;

	if (ts->cfg.rx_cksum_offload) {
		uint64_t f = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

		if (f == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
			return true;
		if (f == RTE_MBUF_F_RX_L4_CKSUM_BAD)
			return false;
	}
	s = (saddr >> 16) + (saddr & 0xffff) + (daddr >> 16) + (daddr & 0xffff);
	s += rte_cpu_to_be_16(IPPROTO_TCP) + rte_cpu_to_be_16((uint16_t)m->pkt_len);
	s += rte_raw_cksum(rte_pktmbuf_mtod(m, const void *), m->pkt_len);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

static bool tcp_addr_bad(uint32_t a_be)
{
	uint32_t a = rte_be_to_cpu_32(a_be);

	/* 0.0.0.0/8, limited broadcast, multicast 224/4 (RFC 1122 4.2.3.10) */
	return (a >> 24) == 0 || a == 0xffffffffu || (a >> 28) == 0xe;
}

/* ---- helpers ---- */

static void tcp_challenge_ack(struct tcp_stack *ts, struct tcp_conn *c)
{
	/* RFC 5961 3.2, 4.2, 5.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> */
	tcp_cnt(ts, TCP_C_CHALLENGE_ACKS);
	tcp_send_ack(ts, c);
}

/* RFC 6298 2.2 / 2.3 with a sample of rtt ns. */
static void tcp_rtt_sample(struct tcp_stack *ts, struct tcp_conn *c, uint64_t rtt)
{
	uint64_t rto;

	if (rtt == 0)
		rtt = 1;
	if (c->srtt_ns == 0) {
		c->srtt_ns = rtt;
		c->rttvar_ns = rtt / 2;
	} else {
		uint64_t d = c->srtt_ns > rtt ? c->srtt_ns - rtt : rtt - c->srtt_ns;

		c->rttvar_ns = (3 * c->rttvar_ns + d) / 4; /* beta = 1/4 */
		c->srtt_ns = (7 * c->srtt_ns + rtt) / 8;   /* alpha = 1/8 */
	}
	/* RTO = SRTT + max(G, 4 * RTTVAR), G the timer tick */
	rto = c->srtt_ns + (4 * c->rttvar_ns > ts->cfg.tick_ns ? 4 * c->rttvar_ns : ts->cfg.tick_ns);
	if (rto < ts->cfg.rto_min_ns) /* 2.4 */
		rto = ts->cfg.rto_min_ns;
	if (rto > ts->cfg.rto_max_ns) /* 2.5 */
		rto = ts->cfg.rto_max_ns;
	c->rto_ns = rto;
}

/* Drop n acked bytes from the head of the send queue (a FIN's sequence number is
 * not in the queue: n may exceed sq_len by one). */
static void tcp_sq_advance(struct tcp_conn *c, uint32_t n)
{
	uint32_t off;

	if (n > c->sq_len)
		n = c->sq_len;
	c->sq_len -= n;
	off = c->sq_off + n;
	while (c->sq_head != NULL && off >= c->sq_head->data_len) {
		struct rte_mbuf *m = c->sq_head;

		off -= m->data_len;
		c->sq_head = m->next;
		if (c->sq_head == NULL)
			c->sq_tail = NULL;
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free(m);
	}
	c->sq_off = c->sq_head != NULL ? off : 0;
}

/* Merge received SACK blocks above snd_una into the sorted scoreboard. */
static void tcp_sack_update(struct tcp_conn *c, const struct tcp_seg *s)
{
	for (unsigned int b = 0; b < s->nsack; b++) {
		struct tcp_sack_blk nb = s->sack[b];
		struct tcp_sack_blk out[TCP_SACK_SB_MAX + 1];
		unsigned int n = 0, i = 0;

		/* RFC 2018 / RFC 6675: ignore blocks that are invalid or below snd_una */
		if (!seq_lt(nb.start, nb.end) || seq_le(nb.end, c->snd_una) ||
		    seq_gt(nb.end, c->snd_max))
			continue;
		if (seq_lt(nb.start, c->snd_una))
			nb.start = c->snd_una;
		while (i < c->nsack && seq_lt(c->sack[i].end, nb.start))
			out[n++] = c->sack[i++];
		while (i < c->nsack && seq_le(c->sack[i].start, nb.end)) {
			nb.start = seq_min(nb.start, c->sack[i].start);
			nb.end = seq_max(nb.end, c->sack[i].end);
			i++;
		}
		out[n++] = nb;
		while (i < c->nsack && n < TCP_SACK_SB_MAX)
			out[n++] = c->sack[i++];
		if (n > TCP_SACK_SB_MAX)
			n = TCP_SACK_SB_MAX;
		memcpy(c->sack, out, n * sizeof(out[0]));
		c->nsack = (uint8_t)n;
	}
}

static void tcp_sack_prune(struct tcp_conn *c)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < c->nsack; i++) {
		if (seq_le(c->sack[i].end, c->snd_una))
			continue;
		c->sack[n] = c->sack[i];
		if (seq_lt(c->sack[n].start, c->snd_una))
			c->sack[n].start = c->snd_una;
		n++;
	}
	c->nsack = (uint8_t)n;
}

static void tcp_negotiate(struct tcp_stack *ts, struct tcp_conn *c, const struct tcp_seg *s)
{
	if (ts->cfg.timestamps && s->has_ts) {
		c->flags |= TCF_TS;
		c->ts_recent = s->tsval;
		c->ts_recent_ns = ts->now_ns;
	}
	if (ts->cfg.sack && s->has_sack_ok)
		c->flags |= TCF_SACK;
	/* RFC 7323 2.2: scaling is on only when both sides sent the option */
	if (ts->cfg.window_scaling && s->has_ws) {
		c->flags |= TCF_WS;
		c->snd_wscale = s->ws > TCP_WSCALE_MAX ? TCP_WSCALE_MAX : s->ws;
	} else {
		c->snd_wscale = 0;
		c->rcv_wscale = 0;
	}
	c->peer_mss = s->has_mss ? s->mss : TCP_DEFAULT_MSS;
	tcp_set_mss(ts, c);
}

static struct tcp_listener *tcp_find_listener(struct tcp_stack *ts, uint32_t daddr,
					      uint16_t dport)
{
	struct tcp_listener *any = NULL;

	for (unsigned int i = 0; i < TCP_LISTENERS_MAX; i++) {
		struct tcp_listener *l = &ts->listeners[i];

		if (!l->used || l->port != dport)
			continue;
		if (l->addr_be == daddr)
			return l;
		if (l->addr_be == 0)
			any = l;
	}
	return any;
}

static void tcp_conn_input(struct tcp_stack *ts, struct tcp_conn *c, struct tcp_seg *s,
			   struct rte_mbuf *m);

/* ---- LISTEN, RFC 9293 3.10.7.2, and SYN cookies ---- */

static void tcp_listen_input(struct tcp_stack *ts, struct tcp_listener *l, struct tcp_seg *s,
			     struct rte_mbuf *m, uint32_t laddr, uint16_t lport, uint32_t raddr,
			     uint16_t rport)
{
	struct tcp_conn *c;

	if (s->flags & TCP_RST)
		goto drop;
	if (s->flags & TCP_ACK) {
		int idx = -1;

		if (!(s->flags & TCP_SYN) && ts->cfg.syn_cookies)
			idx = tcp_cookie_check(ts, laddr, lport, raddr, rport, s->seq - 1,
					       s->ack - 1);
		if (idx < 0) {
			/* RFC 9293 3.10.7.2: an ACK to a listener gets <SEQ=SEG.ACK><RST> */
			if (!(s->flags & TCP_SYN) && ts->cfg.syn_cookies)
				tcp_cnt(ts, TCP_C_SYN_COOKIES_BAD);
			else
				tcp_cnt(ts, TCP_C_DROP_BAD_ACK);
			tcp_reply_rst(ts, laddr, lport, raddr, rport, s);
			goto drop;
		}
		if (l->nconns >= l->max_conns) {
			tcp_cnt(ts, TCP_C_DROP_LISTEN_LIMIT);
			tcp_reply_rst(ts, laddr, lport, raddr, rport, s);
			goto drop;
		}
		c = tcp_conn_alloc(ts);
		if (c == NULL) {
			tcp_cnt(ts, TCP_C_DROP_POOL_EXHAUSTED);
			tcp_reply_rst(ts, laddr, lport, raddr, rport, s);
			goto drop;
		}
		tcp_cnt(ts, TCP_C_SYN_COOKIES_OK);
		c->laddr = laddr;
		c->lport = lport;
		c->raddr = raddr;
		c->rport = rport;
		c->lidx = (uint16_t)(l - ts->listeners + 1);
		c->ops = l->ops;
		c->flags = TCF_PASSIVE;
		c->irs = s->seq - 1;
		c->rcv_nxt = s->seq;
		c->iss = s->ack - 1;
		c->snd_una = s->ack;
		c->snd_nxt = s->ack;
		c->snd_max = s->ack;
		c->peer_mss = tcp_cookie_mss[idx];
		if (ts->cfg.timestamps && s->has_ts) {
			/* the option bits our SYN-ACK's TSval carried come back in TSecr */
			uint32_t wsb = s->tsecr & 0xfu;

			c->flags |= TCF_TS;
			c->ts_recent = s->tsval;
			c->ts_recent_ns = ts->now_ns;
			if (wsb != 0xfu && ts->cfg.window_scaling) {
				c->flags |= TCF_WS;
				c->snd_wscale = (uint8_t)wsb;
				c->rcv_wscale = tcp_choose_wscale(ts);
			}
			if ((s->tsecr & 0x10u) && ts->cfg.sack)
				c->flags |= TCF_SACK;
		}
		tcp_set_mss(ts, c);
		c->snd_wnd = s->wnd << c->snd_wscale;
		c->max_sndwnd = c->snd_wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		c->rcv_adv = c->rcv_nxt + (uint32_t)(ts->cfg.rcv_buf > 65535 ? 65535 : ts->cfg.rcv_buf);
		c->state = TCP_ST_SYN_RCVD; /* no backlog slot taken: lidx counts below */
		l->nconns++;
		l->nsynrcvd++;
		tcp_flow_insert(ts, c);
		tcp_established(ts, c);
		tcp_cnt(ts, TCP_C_PASSIVE_OPENS);
		c->events |= TCE_ACCEPTED;
		/* the ACK may carry data (and FIN): process it as an established conn */
		tcp_conn_input(ts, c, s, m);
		return;
	}
	if (!(s->flags & TCP_SYN))
		goto drop;
	if (l->nconns >= l->max_conns) {
		tcp_cnt(ts, TCP_C_DROP_LISTEN_LIMIT);
		tcp_reply_rst(ts, laddr, lport, raddr, rport, s);
		goto drop;
	}
	if (l->nsynrcvd >= l->syn_backlog) {
		if (ts->cfg.syn_cookies) {
			uint16_t mss = s->has_mss ? s->mss : TCP_DEFAULT_MSS;
			unsigned int idx = tcp_cookie_mss_idx(mss < ts->cfg.mss ? mss
										  : (uint16_t)ts->cfg.mss);
			uint32_t isn = tcp_cookie_make(ts, laddr, lport, raddr, rport, s->seq, idx);

			tcp_send_cookie_synack(ts, laddr, lport, raddr, rport, s, isn,
					       (uint16_t)ts->cfg.mss, tcp_choose_wscale(ts));
		} else {
			tcp_cnt(ts, TCP_C_DROP_BACKLOG);
		}
		goto drop;
	}
	c = tcp_conn_alloc(ts);
	if (c == NULL) {
		tcp_cnt(ts, TCP_C_DROP_POOL_EXHAUSTED);
		tcp_reply_rst(ts, laddr, lport, raddr, rport, s);
		goto drop;
	}
	c->laddr = laddr;
	c->lport = lport;
	c->raddr = raddr;
	c->rport = rport;
	c->lidx = (uint16_t)(l - ts->listeners + 1);
	c->ops = l->ops;
	c->flags = TCF_PASSIVE;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_wscale = tcp_choose_wscale(ts);
	tcp_negotiate(ts, c, s);
	c->snd_wnd = s->wnd; /* RFC 7323 2.2: a SYN's window is never scaled */
	c->max_sndwnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->iss = tcp_isn(ts, laddr, lport, raddr, rport);
	c->snd_una = c->iss;
	c->snd_nxt = c->iss;
	c->snd_max = c->iss;
	c->snd_wl2 = c->iss;
	c->rcv_adv = c->rcv_nxt + (uint32_t)(ts->cfg.rcv_buf > 65535 ? 65535 : ts->cfg.rcv_buf);
	c->state = TCP_ST_SYN_RCVD;
	l->nconns++;
	l->nsynrcvd++;
	tcp_flow_insert(ts, c);
	/* data in a SYN is not queued (RFC 9293 3.10.7.2 allows it; the peer resends) */
	tcp_send_syn(ts, c);
	tcp_arm_rtx(ts, c);
	tcp_arm_life(ts, c);
drop:
	rte_pktmbuf_free(m);
}

/* ---- SYN-SENT, RFC 9293 3.10.7.3 ---- */

static void tcp_syn_sent_input(struct tcp_stack *ts, struct tcp_conn *c, struct tcp_seg *s,
			       struct rte_mbuf *m)
{
	if (s->flags & TCP_ACK) {
		if (seq_le(s->ack, c->iss) || seq_gt(s->ack, c->snd_max)) {
			tcp_cnt(ts, TCP_C_DROP_BAD_ACK);
			tcp_reply_rst(ts, c->laddr, c->lport, c->raddr, c->rport, s);
			goto drop;
		}
	}
	if (s->flags & TCP_RST) {
		if (s->flags & TCP_ACK) {
			tcp_cnt(ts, TCP_C_RESETS_RX);
			rte_pktmbuf_free(m);
			tcp_conn_drop(ts, c, -ECONNREFUSED);
			return;
		}
		goto drop;
	}
	if (!(s->flags & TCP_SYN))
		goto drop;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	tcp_negotiate(ts, c, s);
	c->snd_wnd = s->wnd;
	c->max_sndwnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	c->rcv_adv = c->rcv_nxt;
	if (s->flags & TCP_ACK) {
		c->snd_una = s->ack;
		if (c->flags & TCF_RTT) {
			tcp_rtt_sample(ts, c, ts->now_ns - c->rtt_start_ns);
			c->flags &= ~TCF_RTT;
		}
		tcp_established(ts, c);
		tcp_cnt(ts, TCP_C_ACTIVE_ESTAB);
		c->last_rx_ns = ts->now_ns;
		c->events |= TCE_CONNECTED;
		tcp_send_ack(ts, c);
		if (c->flags & TCF_FIN_QUEUED) {
			c->state = TCP_ST_FIN_WAIT_1;
			tcp_output(ts, c);
		}
		rte_pktmbuf_free(m);
		tcp_deliver(ts, c);
		return;
	}
	/* simultaneous open: SYN_RCVD and a SYN-ACK */
	c->state = TCP_ST_SYN_RCVD;
	c->nrtx = 0;
	tcp_send_syn(ts, c);
	tcp_arm_rtx(ts, c);
drop:
	rte_pktmbuf_free(m);
}

/* ---- receive queue ---- */

static void tcp_rq_append(struct tcp_stack *ts, struct tcp_conn *c, struct rte_mbuf *m)
{
	m->next = NULL;
	if (c->rq_tail != NULL)
		c->rq_tail->next = m;
	else
		c->rq_head = m;
	c->rq_tail = m;
	c->rq_len += m->data_len;
	c->rcv_nxt += m->data_len;
	tcp_cnt_add(ts, TCP_C_RX_BYTES, m->data_len);
	c->events |= TCE_READABLE;
}

/* Move ooo segments that became contiguous to the receive queue. Returns true when
 * one or more did (a hole was filled). */
static bool tcp_ooo_drain(struct tcp_stack *ts, struct tcp_conn *c)
{
	bool moved = false;

	while (c->ooo_head != NULL) {
		struct rte_mbuf *m = c->ooo_head;
		uint32_t seq = m->hash.usr, end = seq + m->data_len;

		if (seq_gt(seq, c->rcv_nxt))
			break;
		c->ooo_head = m->next;
		m->next = NULL;
		c->ooo_segs--;
		c->ooo_bytes -= m->data_len;
		if (seq_le(end, c->rcv_nxt)) {
			rte_pktmbuf_free(m);
			continue;
		}
		rte_pktmbuf_adj(m, (uint16_t)(c->rcv_nxt - seq));
		tcp_rq_append(ts, c, m);
		moved = true;
	}
	return moved;
}

/* Queue an out-of-order segment (payload mbuf, seq) sorted, trimming overlaps so the
 * queue holds each byte once. Consumes m. */
static void tcp_ooo_insert(struct tcp_stack *ts, struct tcp_conn *c, struct rte_mbuf *m,
			   uint32_t seq)
{
	struct rte_mbuf **pp = &c->ooo_head, *prev = NULL;
	uint32_t end = seq + m->data_len;

	while (*pp != NULL && seq_le((*pp)->hash.usr, seq)) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	/* front overlap with the previous segment */
	if (prev != NULL) {
		uint32_t pend = prev->hash.usr + prev->data_len;

		if (seq_ge(pend, end)) {
			tcp_cnt(ts, TCP_C_DUP_SEGS);
			c->ooo_last = seq;
			rte_pktmbuf_free(m);
			return;
		}
		if (seq_gt(pend, seq)) {
			rte_pktmbuf_adj(m, (uint16_t)(pend - seq));
			seq = pend;
		}
	}
	/* following segments wholly covered go; a partial overlap trims our tail */
	while (*pp != NULL) {
		struct rte_mbuf *n = *pp;
		uint32_t ns = n->hash.usr, ne = ns + n->data_len;

		if (seq_ge(ns, end))
			break;
		if (seq_le(ne, end)) {
			*pp = n->next;
			n->next = NULL;
			c->ooo_segs--;
			c->ooo_bytes -= n->data_len;
			rte_pktmbuf_free(n);
			continue;
		}
		rte_pktmbuf_trim(m, (uint16_t)(end - ns));
		end = ns;
		break;
	}
	if (c->ooo_segs >= ts->cfg.ooo_max_segs ||
	    c->ooo_bytes + m->data_len > ts->cfg.ooo_max_bytes) {
		tcp_cnt(ts, TCP_C_OOO_DROPS);
		rte_pktmbuf_free(m);
		return;
	}
	m->hash.usr = seq;
	m->next = *pp;
	*pp = m;
	c->ooo_segs++;
	c->ooo_bytes += m->data_len;
	c->ooo_last = seq;
	tcp_cnt(ts, TCP_C_OOO_SEGS);
}

/*
 * Enough evidence to enter fast recovery on this duplicate ACK: the third one
 * (RFC 5681 3.2), or with SACK three segments' worth SACKed above SND.UNA (RFC 6675
 * IsLost(SND.UNA), for when duplicate ACKs were lost), or, when fewer than four
 * segments are outstanding and nothing new can be sent, one less duplicate ACK than
 * the segments outstanding (RFC 5827 early retransmit).
 */
/* Loss shown by the SACK scoreboard alone: three segments' worth SACKed above
 * SND.UNA (RFC 6675 IsLost(SND.UNA)), or the tail loss probe (our last segment)
 * SACKed while what precedes it is still missing (RFC 8985 7.4 with RACK's time
 * order: those were sent before the probe that arrived). Unlike a count of
 * duplicate ACKs this cannot be faked by our own go-back-N duplicates after an RTO,
 * so it may start recovery even below "recover". */
static bool tcp_sack_loss(const struct tcp_conn *c)
{
	uint32_t sacked = 0;

	if (!(c->flags & TCF_SACK) || c->nsack == 0)
		return false;
	if ((c->flags & TCF_TLP_SENT) &&
	    seq_ge(c->sack[c->nsack - 1].end, seq_min(c->snd_max, tcp_data_end(c))))
		return true;
	for (unsigned int i = 0; i < c->nsack; i++)
		sacked += c->sack[i].end - c->sack[i].start;
	return sacked >= 3u * c->mss;
}

static bool tcp_loss_detected(const struct tcp_stack *ts, const struct tcp_conn *c,
			      uint32_t ack)
{
	uint32_t segs;

	(void)ts;
	if (tcp_sack_loss(c))
		return true;
	/* RFC 6582 3.2 step 2: duplicate ACKs count only above "recover" */
	if (!seq_gt(ack, c->recover))
		return false;
	if (c->dupacks >= 3)
		return true;
	segs = (tcp_flight(c) + c->mss - 1) / c->mss;
	return segs < 4 && seq_ge(c->snd_nxt, tcp_data_end(c)) && segs >= 2 &&
	       c->dupacks >= segs - 1;
}

/* RFC 6582 3.2 step 2 (after the "recover" check), RFC 5681 eq. 4: halve, retransmit
 * the first hole, inflate by the three segments that left the network. */
void tcp_enter_recovery(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint32_t half = tcp_flight(c) / 2;

	c->ssthresh = half > 2u * c->mss ? half : 2u * c->mss;
	c->recover = c->snd_max;
	c->cwnd = c->ssthresh + 3u * c->mss;
	c->flags |= TCF_RECOVERY;
	c->flags &= ~(TCF_RTT | TCF_TLP_ARMED);
	c->high_rxt = c->snd_una;
	c->rack_tries = 0;
	tcp_cnt(ts, TCP_C_FAST_RETRANSMITS);
	tcp_retransmit_una(ts, c);
	tcp_arm_recovery_timer(ts, c);
}

/* ---- ACK processing, RFC 9293 3.10.7.4 fifth; returns false when c was freed ---- */

static bool tcp_ack_input(struct tcp_stack *ts, struct tcp_conn *c, const struct tcp_seg *s)
{
	uint32_t acked, old_wnd = c->snd_wnd;
	uint32_t swnd = s->wnd << c->snd_wscale;

	/* RFC 5961 5.2: acceptable if SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT */
	if (seq_gt(s->ack, c->snd_max)) {
		tcp_cnt(ts, TCP_C_DROP_BAD_ACK);
		tcp_send_ack(ts, c);
		return false;
	}
	if (seq_lt(s->ack, c->snd_una - (c->max_sndwnd > 0 ? c->max_sndwnd : 1))) {
		tcp_cnt(ts, TCP_C_DROP_BAD_ACK);
		tcp_challenge_ack(ts, c);
		return false;
	}
	if (s->nsack > 0 && (c->flags & TCF_SACK))
		tcp_sack_update(c, s);
	acked = seq_gt(s->ack, c->snd_una) ? s->ack - c->snd_una : 0;
	if (acked > 0) {
		bool fin_acked;

		tcp_sq_advance(c, acked);
		c->snd_una = s->ack;
		if (seq_lt(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		tcp_sack_prune(c);
		c->nrtx = 0;
		/* RTT: RFC 7323 4.1 with timestamps (only for ACKs of new data), else the
		 * timed segment (Karn: never a retransmitted one) */
		if ((c->flags & TCF_TS) && s->has_ts && s->tsecr != 0) {
			uint32_t d = tcp_ts_now(ts) - s->tsecr;

			/* an echo older than our last retransmission times the original
			 * transmission plus the RTO wait (a lost ACK, or a duplicate the
			 * peer answered with a stale TS.Recent): feeding that back would
			 * inflate the RTO without bound, so skip it (Karn's idea applied
			 * to timestamps) */
			if (d < 0x7fffffffu && !((c->flags & TCF_RTX_TS) &&
						 seq_lt(s->tsecr, c->rtx_tsval)))
				tcp_rtt_sample(ts, c, (uint64_t)d * TCP_TS_HZ_NS);
		} else if ((c->flags & TCF_RTT) && seq_ge(s->ack, c->rtt_seq)) {
			tcp_rtt_sample(ts, c, ts->now_ns - c->rtt_start_ns);
			c->flags &= ~TCF_RTT;
		}
		if (c->flags & TCF_RECOVERY) {
			if (seq_ge(s->ack, c->recover)) {
				/* RFC 6582 3.2 step 3: full ACK, deflate */
				uint32_t fl = tcp_flight(c) + c->mss;

				c->cwnd = c->ssthresh < fl ? c->ssthresh : fl;
				c->flags &= ~TCF_RECOVERY;
				c->dupacks = 0;
			} else {
				/* step 4: partial ACK, retransmit the next hole, deflate by the
				 * amount acked, add back one MSS */
				tcp_retransmit_una(ts, c);
				c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
				if (acked >= c->mss)
					c->cwnd += c->mss;
				if (c->cwnd < c->mss)
					c->cwnd = c->mss;
			}
		} else {
			c->dupacks = 0;
			if (c->cwnd < c->ssthresh) {
				/* RFC 5681 3.1 slow start, RFC 3465 L = 2 MSS */
				c->cwnd += acked < 2u * c->mss ? acked : 2u * c->mss;
			} else {
				/* congestion avoidance by byte counting (RFC 3465 2.1) */
				c->bytes_acked += acked;
				if (c->bytes_acked >= c->cwnd) {
					c->bytes_acked -= c->cwnd;
					c->cwnd += c->mss;
				}
			}
			if (c->cwnd > (1u << 30))
				c->cwnd = 1u << 30;
		}
		/* RFC 6298 5.2 / 5.3 (or the tail loss probe, RFC 8985 7.2) */
		c->flags &= ~TCF_TLP_SENT;
		if (tcp_flight(c) == 0) {
			c->flags &= ~(TCF_TLP_ARMED | TCF_RACK_ARMED);
			tw_cancel(&ts->wheel, &c->t_rtx);
		} else if (c->flags & TCF_RECOVERY) {
			tcp_arm_recovery_timer(ts, c);
		} else if (!tcp_arm_pto(ts, c)) {
			tcp_arm_rtx(ts, c);
		}
		/* SACK evidence on a cumulative ACK can show a loss too (the tail probe's
		 * SACK, or three segments SACKed above the new SND.UNA) */
		if (!(c->flags & TCF_RECOVERY) && c->nsack > 0 && tcp_flight(c) > 0 &&
		    tcp_loss_detected(ts, c, s->ack))
			tcp_enter_recovery(ts, c);
		if ((c->flags & TCF_WANT_WRITE) &&
		    tcp_send_space(c) >= (c->snd_buf / 4 > 0 ? c->snd_buf / 4 : 1))
			c->events |= TCE_WRITABLE;
		fin_acked = (c->flags & TCF_FIN_SENT) && c->snd_una == c->snd_max &&
			    c->sq_len == 0;
		if (fin_acked) {
			c->flags |= TCF_FIN_ACKED;
			switch (c->state) {
			case TCP_ST_FIN_WAIT_1:
				c->state = TCP_ST_FIN_WAIT_2;
				tcp_arm_life(ts, c);
				break;
			case TCP_ST_CLOSING:
				tcp_enter_time_wait(ts, c);
				break;
			case TCP_ST_LAST_ACK:
				c->events = 0;
				tcp_conn_drop(ts, c, 0);
				return false;
			default:
				break;
			}
		}
	} else if (s->ack == c->snd_una && s->len == 0 && !(s->flags & (TCP_SYN | TCP_FIN)) &&
		   tcp_flight(c) > 0 && swnd == old_wnd) {
		/* RFC 5681 2: a duplicate ACK */
		tcp_cnt(ts, TCP_C_DUP_ACKS);
		c->dupacks++;
		if (c->flags & TCF_RECOVERY) {
			/* RFC 6582 3.2 step 5: inflate; with SACK also fill the next hole
			 * below the highest SACKed byte, one segment per dup ACK */
			c->cwnd += c->mss;
			if (c->nsack > 0 && c->srtt_ns != 0 &&
			    ts->now_ns - c->rexmit_ns > c->srtt_ns + c->srtt_ns / 4 + ts->cfg.tick_ns) {
				/* lost retransmission (RACK's idea, RFC 8985 6.2): SACKs keep
				 * coming more than an RTT after we retransmitted the first
				 * hole, so that retransmission is lost too: start over from
				 * SND.UNA instead of waiting for the RTO */
				c->high_rxt = c->snd_una;
				tcp_retransmit_una(ts, c);
			} else if (c->nsack > 0 &&
				   seq_lt(c->high_rxt, c->sack[c->nsack - 1].start)) {
				tcp_retransmit_una(ts, c);
			}
		} else if (tcp_loss_detected(ts, c, s->ack)) {
			tcp_enter_recovery(ts, c);
		}
	}
	/* SACKed data above a hole that is not (yet) called lost: small flights never
	 * get three duplicate ACKs, so give the hole a reordering window and then
	 * call it lost (RFC 8985 6.2's idea, without per-segment send times) */
	if (!(c->flags & (TCF_RECOVERY | TCF_RACK_ARMED)) && (c->flags & TCF_SACK) &&
	    c->nsack > 0 && tcp_flight(c) > 0 && c->srtt_ns != 0) {
		tcp_arm_reorder(ts, c);
	}
	/* send window update, RFC 9293 3.10.7.4 */
	if (seq_lt(c->snd_wl1, s->seq) || (c->snd_wl1 == s->seq && seq_le(c->snd_wl2, s->ack))) {
		c->snd_wnd = swnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		if (swnd > c->max_sndwnd)
			c->max_sndwnd = swnd;
		if (swnd > 0 && (c->flags & TCF_PERSIST)) {
			c->flags &= ~TCF_PERSIST;
			c->nrtx = 0;
			tw_cancel(&ts->wheel, &c->t_rtx);
		}
	}
	return true;
}

/* ---- synchronized states and SYN-RECEIVED, RFC 9293 3.10.7.4 ---- */

static void tcp_conn_input(struct tcp_stack *ts, struct tcp_conn *c, struct tcp_seg *s,
			   struct rte_mbuf *m)
{
	uint32_t wnd, seglen = s->len + ((s->flags & TCP_SYN) ? 1u : 0u) +
			       ((s->flags & TCP_FIN) ? 1u : 0u);
	bool acceptable, had_ooo, fin;

	if (c->state == TCP_ST_SYN_SENT) {
		tcp_syn_sent_input(ts, c, s, m);
		return;
	}
	/* a retransmitted SYN in SYN-RECEIVED: our SYN-ACK was lost */
	if (c->state == TCP_ST_SYN_RCVD && (s->flags & TCP_SYN) && !(s->flags & TCP_ACK) &&
	    s->seq == c->irs) {
		tcp_send_syn(ts, c);
		goto drop;
	}
	/* RFC 7323 5.3 PAWS */
	if ((c->flags & TCF_TS) && s->has_ts && (int32_t)(s->tsval - c->ts_recent) < 0) {
		if (ts->now_ns - c->ts_recent_ns > TCP_PAWS_IDLE_NS) {
			c->ts_recent = s->tsval; /* 5.5: TS.Recent too old to be valid */
		} else {
			tcp_cnt(ts, TCP_C_DROP_PAWS);
			if (!(s->flags & TCP_RST))
				tcp_send_ack(ts, c);
			goto drop;
		}
	}
	/* first: sequence acceptability (window is what we advertised) */
	wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	if (seglen == 0)
		acceptable = wnd == 0 ? s->seq == c->rcv_nxt
				      : seq_ge(s->seq, c->rcv_nxt) &&
						seq_lt(s->seq, c->rcv_nxt + wnd);
	else
		acceptable = wnd != 0 && ((seq_ge(s->seq, c->rcv_nxt) &&
					   seq_lt(s->seq, c->rcv_nxt + wnd)) ||
					  (seq_ge(s->seq + seglen - 1, c->rcv_nxt) &&
					   seq_lt(s->seq + seglen - 1, c->rcv_nxt + wnd)));
	/* "If the RCV.WND is zero, no segments will be acceptable, but special allowance
	 * should be made to accept valid ACKs, URGs, and RSTs" (RFC 9293 3.10.7.4): a
	 * segment at RCV.NXT is processed, its data trimmed below. Without this, two
	 * peers whose windows are both closed never learn of each other's ACKs. */
	if (!acceptable && wnd == 0 && s->seq == c->rcv_nxt)
		acceptable = true;
	if (!acceptable) {
		if (s->flags & TCP_RST) {
			tcp_cnt(ts, TCP_C_RST_IGNORED);
			goto drop;
		}
		if (seglen > 0 && seq_le(s->seq + seglen, c->rcv_nxt))
			tcp_cnt(ts, TCP_C_DUP_SEGS);
		else
			tcp_cnt(ts, TCP_C_DROP_OUT_OF_WINDOW);
		/* an ACK tells the peer where we are (this answers zero-window probes
		 * and keep-alives too); TIME-WAIT keeps answering a retransmitted FIN */
		if (c->state == TCP_ST_SYN_RCVD)
			tcp_send_syn(ts, c);
		else
			tcp_send_ack(ts, c);
		if (c->state == TCP_ST_TIME_WAIT && (s->flags & TCP_FIN))
			tcp_arm_life(ts, c); /* restart 2 MSL */
		goto drop;
	}
	/* second: RST, RFC 5961 3.2 */
	if (s->flags & TCP_RST) {
		if (s->seq != c->rcv_nxt) {
			tcp_challenge_ack(ts, c);
			goto drop;
		}
		if (c->state == TCP_ST_TIME_WAIT) {
			/* RFC 1337: no TIME-WAIT assassination, let 2 MSL run out */
			tcp_cnt(ts, TCP_C_RST_IGNORED);
			goto drop;
		}
		tcp_cnt(ts, TCP_C_RESETS_RX);
		rte_pktmbuf_free(m);
		tcp_conn_drop(ts, c, -ECONNRESET);
		return;
	}
	/* fourth: SYN in a synchronized state, RFC 5961 4.2 */
	if (s->flags & TCP_SYN) {
		tcp_cnt(ts, TCP_C_SYN_IN_WINDOW);
		if (c->state == TCP_ST_SYN_RCVD)
			tcp_send_syn(ts, c);
		else
			tcp_challenge_ack(ts, c);
		goto drop;
	}
	/* fifth: ACK */
	if (!(s->flags & TCP_ACK))
		goto drop;
	/* RFC 7323 4.3: remember the timestamp of the segment covering Last.ACK.sent */
	if ((c->flags & TCF_TS) && s->has_ts && seq_le(s->seq, c->last_ack_sent) &&
	    (int32_t)(s->tsval - c->ts_recent) >= 0) {
		c->ts_recent = s->tsval;
		c->ts_recent_ns = ts->now_ns;
	}
	c->last_rx_ns = ts->now_ns;
	c->ka_probes = 0;
	if (c->state == TCP_ST_SYN_RCVD) {
		if (!seq_gt(s->ack, c->snd_una) || seq_gt(s->ack, c->snd_max)) {
			tcp_cnt(ts, TCP_C_DROP_BAD_ACK);
			tcp_reply_rst(ts, c->laddr, c->lport, c->raddr, c->rport, s);
			goto drop;
		}
		c->snd_una = s->ack;
		if (c->flags & TCF_RTT) {
			tcp_rtt_sample(ts, c, ts->now_ns - c->rtt_start_ns);
			c->flags &= ~TCF_RTT;
		}
		c->snd_wnd = s->wnd << c->snd_wscale;
		c->max_sndwnd = c->snd_wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		tcp_established(ts, c);
		if (c->flags & TCF_PASSIVE) {
			tcp_cnt(ts, TCP_C_PASSIVE_OPENS);
			c->events |= TCE_ACCEPTED;
		} else {
			tcp_cnt(ts, TCP_C_ACTIVE_ESTAB);
			c->events |= TCE_CONNECTED;
		}
		if (c->flags & TCF_FIN_QUEUED)
			c->state = TCP_ST_FIN_WAIT_1;
	} else if (!tcp_ack_input(ts, c, s)) {
		/* freed (LAST-ACK done) or a refused ACK already answered */
		if (m != NULL)
			rte_pktmbuf_free(m);
		return;
	}
	/* seventh: segment text */
	fin = (s->flags & TCP_FIN) != 0;
	had_ooo = c->ooo_head != NULL;
	if (s->len > 0) {
		uint32_t seq = s->seq;

		if (c->state != TCP_ST_ESTABLISHED && c->state != TCP_ST_FIN_WAIT_1 &&
		    c->state != TCP_ST_FIN_WAIT_2) {
			/* the peer's FIN came before: nothing more can be data */
			goto out;
		}
		if (c->flags & TCF_CLOSED_APP) {
			/* RFC 9293 3.10.7.4 / RFC 2525 2.17: nobody reads any more */
			tcp_cnt(ts, TCP_C_DROP_RCV_CLOSED);
			rte_pktmbuf_free(m);
			tcp_send_rst(ts, c);
			tcp_conn_drop(ts, c, -ECONNRESET);
			return;
		}
		if (seq_lt(seq, c->rcv_nxt)) {
			rte_pktmbuf_adj(m, (uint16_t)(c->rcv_nxt - seq));
			seq = c->rcv_nxt;
		}
		if (seq_gt(seq + m->data_len, c->rcv_adv)) {
			/* beyond the window we offered: trim (a FIN there is not ours yet) */
			uint32_t over = seq + m->data_len - c->rcv_adv;

			tcp_cnt(ts, TCP_C_DROP_RCV_BUF);
			rte_pktmbuf_trim(m, (uint16_t)(over < m->data_len ? over : m->data_len));
			fin = false;
		}
		if (m->data_len == 0) {
			c->flags |= TCF_ACK_NOW;
		} else if (seq == c->rcv_nxt) {
			tcp_rq_append(ts, c, m);
			m = NULL;
			if (had_ooo) {
				tcp_ooo_drain(ts, c);
				/* RFC 5681 4.2: ACK at once when a hole is (being) filled */
				c->flags |= TCF_ACK_NOW;
			} else if (++c->delack_segs >= 2) {
				/* RFC 9293 3.8.6.3: ACK at least every second segment */
				c->flags |= TCF_ACK_NOW;
			} else {
				tcp_arm_delack(ts, c);
			}
		} else {
			/* out of order: keep it, and a duplicate ACK with SACK at once */
			tcp_ooo_insert(ts, c, m, seq);
			m = NULL;
			fin = false;
			c->flags |= TCF_ACK_NOW;
		}
	}
	/* eighth: FIN, in sequence only */
	if (fin && s->seq + s->len == c->rcv_nxt && !(c->flags & TCF_FIN_RCVD)) {
		c->rcv_nxt++;
		c->flags |= TCF_FIN_RCVD | TCF_ACK_NOW;
		c->events |= TCE_READABLE;
		switch (c->state) {
		case TCP_ST_ESTABLISHED:
			c->state = TCP_ST_CLOSE_WAIT;
			break;
		case TCP_ST_FIN_WAIT_1:
			if ((c->flags & TCF_FIN_SENT) && c->snd_una == c->snd_max)
				tcp_enter_time_wait(ts, c);
			else
				c->state = TCP_ST_CLOSING;
			break;
		case TCP_ST_FIN_WAIT_2:
			tcp_enter_time_wait(ts, c);
			break;
		default:
			break;
		}
	} else if (fin && c->state == TCP_ST_TIME_WAIT) {
		c->flags |= TCF_ACK_NOW;
		tcp_arm_life(ts, c); /* RFC 9293 3.10.7.4: restart the 2 MSL timeout */
	}
out:
	if (m != NULL)
		rte_pktmbuf_free(m);
	tcp_output(ts, c);
	/* in TIME_WAIT an app still attached keeps the conn (and its unread bytes)
	 * until it closes it or 2 MSL run out (closed(0) then) */
	tcp_deliver(ts, c);
	return;
drop:
	rte_pktmbuf_free(m);
}

/* ---- entry ---- */

void tcp_input(struct tcp_stack *ts, struct rte_mbuf *m, uint32_t saddr_be, uint32_t daddr_be,
	       uint64_t now_ns)
{
	const struct rte_tcp_hdr *th;
	struct tcp_seg s;
	struct tcp_conn *c;
	uint16_t sport, dport;
	uint32_t hlen;

	ts->now_ns = now_ns;
	tcp_cnt(ts, TCP_C_RX_SEGS);
	if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) < 0) {
		tcp_cnt(ts, TCP_C_DROP_MULTISEG);
		goto drop;
	}
	if (m->data_len > m->pkt_len)
		m->data_len = (uint16_t)m->pkt_len; /* trimmed by pkt_len only: be exact */
	if (m->pkt_len < TCP_HDR_LEN) {
		tcp_cnt(ts, TCP_C_DROP_SHORT);
		goto drop;
	}
	th = rte_pktmbuf_mtod(m, const struct rte_tcp_hdr *);
	hlen = (uint32_t)(th->data_off >> 4) * 4;
	if (hlen < TCP_HDR_LEN || hlen > m->pkt_len) {
		tcp_cnt(ts, TCP_C_DROP_BAD_OFFSET);
		goto drop;
	}
	if (!tcp_cksum_ok(ts, m, saddr_be, daddr_be)) {
		tcp_cnt(ts, TCP_C_DROP_BAD_CSUM);
		goto drop;
	}
	sport = rte_be_to_cpu_16(th->src_port);
	dport = rte_be_to_cpu_16(th->dst_port);
	if (sport == 0 || dport == 0 || tcp_addr_bad(saddr_be) || tcp_addr_bad(daddr_be)) {
		tcp_cnt(ts, TCP_C_DROP_BAD_ADDR);
		goto drop;
	}
	memset(&s, 0, sizeof(s));
	s.seq = rte_be_to_cpu_32(th->sent_seq);
	s.ack = rte_be_to_cpu_32(th->recv_ack);
	s.wnd = rte_be_to_cpu_16(th->rx_win);
	s.flags = th->tcp_flags;
	s.hlen = (uint8_t)hlen;
	s.len = m->pkt_len - hlen;
	/* SYN with FIN or RST is nonsense (scans); anything else but a SYN or RST must
	 * carry ACK (RFC 9293 3.10.7.4 fifth: "if the ACK bit is off, drop") */
	if (((s.flags & TCP_SYN) && (s.flags & (TCP_FIN | TCP_RST))) ||
	    !(s.flags & (TCP_SYN | TCP_RST | TCP_ACK))) {
		tcp_cnt(ts, TCP_C_DROP_BAD_FLAGS);
		goto drop;
	}
	if (!tcp_parse_opts((const uint8_t *)(th + 1), hlen - TCP_HDR_LEN, &s,
			    (s.flags & TCP_SYN) != 0)) {
		tcp_cnt(ts, TCP_C_DROP_BAD_OPTIONS);
		goto drop;
	}
	rte_pktmbuf_adj(m, (uint16_t)hlen); /* m now holds the payload only */
	c = tcp_flow_lookup(ts, daddr_be, dport, saddr_be, sport);
	if (c != NULL && c->state == TCP_ST_SYN_RCVD && (c->flags & TCF_PASSIVE) &&
	    (s.flags & TCP_SYN) && !(s.flags & TCP_ACK) && s.seq != c->irs) {
		/* RFC 9293 3.10.7.4: a SYN in SYN-RECEIVED of a passive open returns it to
		 * LISTEN. A new ISN means the peer started over (its earlier attempt's
		 * SYN-ACK was lost or refused); the half-open conn holds no app state,
		 * so the new SYN replaces it instead of waiting for its timeout */
		tcp_cnt(ts, TCP_C_SYN_RCVD_REPLACED);
		tcp_conn_free(ts, c);
		c = NULL;
	}
	if (c != NULL && c->state == TCP_ST_TIME_WAIT && (s.flags & TCP_SYN) &&
	    !(s.flags & TCP_ACK)) {
		/* RFC 6191: a new incarnation may reuse the tuple when its timestamp (or,
		 * without timestamps, its sequence number) is newer */
		bool newer = ((c->flags & TCF_TS) && s.has_ts)
				     ? (int32_t)(s.tsval - c->ts_recent) > 0
				     : seq_gt(s.seq, c->rcv_nxt);

		if (newer) {
			tcp_cnt(ts, TCP_C_TIME_WAIT_REUSED);
			tcp_conn_free(ts, c);
			c = NULL;
		}
	}
	if (c == NULL) {
		struct tcp_listener *l = tcp_find_listener(ts, daddr_be, dport);

		if (l == NULL) {
			tcp_cnt(ts, TCP_C_DROP_NO_LISTENER);
			tcp_reply_rst(ts, daddr_be, dport, saddr_be, sport, &s);
			goto drop;
		}
		tcp_listen_input(ts, l, &s, m, daddr_be, dport, saddr_be, sport);
		return;
	}
	tcp_conn_input(ts, c, &s, m);
	return;
drop:
	rte_pktmbuf_free(m);
}
