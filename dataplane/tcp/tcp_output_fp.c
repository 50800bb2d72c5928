/* SPDX-License-Identifier: proprietary */
/*
 * Per-core TCP stack: building and sending segments (fast path).
 *
 * Segments are built in fresh mbufs from ts->pool: TCP header, options, and a copy of
 * the payload from the connection's send queue (so the queue keeps its bytes for
 * retransmission and never shares an mbuf with the driver). Sender-side rules:
 * RFC 9293 3.8.6.2.1 (SWS avoidance: full segments, or the end of the queued data,
 * or half the largest window seen; no Nagle delay: the stream API is used with
 * whole messages), RFC 5681 / RFC 6582 windows, RFC 6298 timer start.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "tcp_int.h"
#include "tw.h"

uint8_t tcp_choose_wscale(const struct tcp_stack *ts)
{
	uint8_t s = 0;

	if (!ts->cfg.window_scaling)
		return 0;
	/* RFC 7323 2.3: the smallest shift that lets the field cover the buffer */
	while (s < TCP_WSCALE_MAX && (ts->cfg.rcv_buf >> s) > 65535)
		s++;
	return s;
}

void tcp_set_mss(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint32_t mss = c->peer_mss < ts->cfg.mss ? c->peer_mss : (uint32_t)ts->cfg.mss;

	if (mss < TCP_MIN_MSS)
		mss = TCP_MIN_MSS;
	/* RFC 6691: the MSS counts no options; leave room for the timestamp option
	 * every segment carries */
	if (c->flags & TCF_TS)
		mss -= 12;
	c->mss = (uint16_t)mss;
}

uint32_t tcp_rcv_space(const struct tcp_stack *ts, const struct tcp_conn *c)
{
	uint32_t space = c->rq_len >= ts->cfg.rcv_buf ? 0 : (uint32_t)ts->cfg.rcv_buf - c->rq_len;
	uint8_t sh = (c->flags & TCF_WS) ? c->rcv_wscale : 0;

	return space > (65535u << sh) ? (65535u << sh) : space;
}

uint16_t tcp_rcv_window(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint32_t space = tcp_rcv_space(ts, c);
	uint32_t old = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint8_t sh = (c->flags & TCF_WS) ? c->rcv_wscale : 0;
	uint32_t step = (uint32_t)ts->cfg.rcv_buf / 2 < c->mss ? (uint32_t)ts->cfg.rcv_buf / 2
							       : c->mss;
	uint32_t win, field;

	/* RFC 9293 3.8.6.2.2 receiver SWS avoidance: move the right edge only by
	 * min(RCV.BUFF / 2, MSS) or more; RFC 7323 2.4: never shrink it */
	if (space <= old || space - old < step)
		win = old;
	else
		win = space;
	field = win >> sh;
	if ((field << sh) < old)
		field++;
	if (field > 65535)
		field = 65535;
	if (seq_gt(c->rcv_nxt + (field << sh), c->rcv_adv))
		c->rcv_adv = c->rcv_nxt + (field << sh);
	return (uint16_t)field;
}

/* Copy len stream bytes starting at stream offset off (from snd_una's byte) of the
 * send queue to dst. */
static void tcp_sq_copy(const struct tcp_conn *c, uint32_t off, uint32_t len, uint8_t *dst)
{
	struct rte_mbuf *m = c->sq_head;

	off += c->sq_off;
	while (m != NULL && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	while (m != NULL && len > 0) {
		uint32_t k = m->data_len - off;

		if (k > len)
			k = len;
		memcpy(dst, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), k);
		dst += k;
		len -= k;
		off = 0;
		m = m->next;
	}
}

/* Pseudo-header sum (RFC 9293 3.1), not complemented, host order. */
static uint32_t tcp_phdr_sum(uint32_t saddr, uint32_t daddr, uint32_t len)
{
	uint32_t s = 0;

	s += (saddr >> 16) + (saddr & 0xffff);
	s += (daddr >> 16) + (daddr & 0xffff);
	s += rte_cpu_to_be_16(IPPROTO_TCP);
	s += rte_cpu_to_be_16((uint16_t)len);
	return s;
}

static uint16_t tcp_fold(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Finish the checksum of a built segment and hand it to the embedder. */
static int tcp_send_mbuf(struct tcp_stack *ts, struct rte_mbuf *m, uint32_t laddr,
			 uint32_t raddr, uint32_t payload)
{
	struct rte_tcp_hdr *th = rte_pktmbuf_mtod(m, struct rte_tcp_hdr *);
	uint32_t len = m->pkt_len;
	int rc;

	if (ts->cfg.tx_cksum_offload) {
		th->cksum = tcp_fold(tcp_phdr_sum(laddr, raddr, len));
		m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV4;
		m->l4_len = (uint64_t)((th->data_off >> 4) * 4);
	} else {
		uint32_t s = tcp_phdr_sum(laddr, raddr, len);

		th->cksum = 0;
		s += rte_raw_cksum(th, len);
		th->cksum = ~tcp_fold(s);
		if (th->cksum == 0)
			th->cksum = 0xffff;
	}
	tcp_cnt(ts, TCP_C_TX_SEGS);
	tcp_cnt_add(ts, TCP_C_TX_BYTES, payload);
	if (th->tcp_flags & TCP_RST)
		tcp_cnt(ts, TCP_C_RESETS_TX);
	rc = tcp_emit(ts, m, laddr, raddr);
	if (rc < 0)
		tcp_cnt(ts, TCP_C_TX_EMIT_FAIL);
	return rc;
}

/* Allocate an mbuf with a header of hlen bytes (+ payload room) zeroed, or NULL. */
static struct rte_tcp_hdr *tcp_hdr_alloc(struct tcp_stack *ts, struct rte_mbuf **mp,
					 uint32_t hlen, uint32_t payload)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ts->pool);
	struct rte_tcp_hdr *th;

	if (m == NULL) {
		tcp_cnt(ts, TCP_C_DROP_NO_MBUF);
		return NULL;
	}
	th = (struct rte_tcp_hdr *)rte_pktmbuf_append(m, (uint16_t)(hlen + payload));
	if (th == NULL) {
		rte_pktmbuf_free(m);
		tcp_cnt(ts, TCP_C_DROP_NO_MBUF);
		return NULL;
	}
	memset(th, 0, hlen);
	*mp = m;
	return th;
}

static uint8_t *tcp_put_ts(uint8_t *o, uint32_t val, uint32_t ecr)
{
	uint32_t v = rte_cpu_to_be_32(val), e = rte_cpu_to_be_32(ecr);

	*o++ = TCP_OPT_TS;
	*o++ = 10;
	memcpy(o, &v, 4);
	memcpy(o + 4, &e, 4);
	return o + 8;
}

/* SYN options in Linux's order: mss, sackOK + TS (or nop nop TS / nop nop sackOK),
 * nop wscale. Returns the option bytes written (multiple of 4). */
static uint32_t tcp_syn_opts(uint8_t *o, uint16_t mss, bool sack, bool ts, uint32_t tsval,
			     uint32_t tsecr, bool ws, uint8_t wscale)
{
	uint8_t *p = o;

	*p++ = TCP_OPT_MSS;
	*p++ = 4;
	*p++ = (uint8_t)(mss >> 8);
	*p++ = (uint8_t)mss;
	if (sack && ts) {
		*p++ = TCP_OPT_SACK_OK;
		*p++ = 2;
		p = tcp_put_ts(p, tsval, tsecr);
	} else if (ts) {
		*p++ = TCP_OPT_NOP;
		*p++ = TCP_OPT_NOP;
		p = tcp_put_ts(p, tsval, tsecr);
	} else if (sack) {
		*p++ = TCP_OPT_NOP;
		*p++ = TCP_OPT_NOP;
		*p++ = TCP_OPT_SACK_OK;
		*p++ = 2;
	}
	if (ws) {
		*p++ = TCP_OPT_NOP;
		*p++ = TCP_OPT_WS;
		*p++ = 3;
		*p++ = wscale;
	}
	return (uint32_t)(p - o);
}

/* SACK blocks we report (RFC 2018 4): the block holding the most recently received
 * segment first, then the others in sequence order. Returns blocks written. */
static unsigned int tcp_sack_blocks(const struct tcp_conn *c, struct tcp_sack_blk *b,
				    unsigned int max)
{
	struct tcp_sack_blk all[TCP_SACK_BLOCKS_RX + 1];
	unsigned int n = 0, first = 0, out = 0;
	const struct rte_mbuf *m = c->ooo_head;

	/* merge adjacent ooo segments into ranges; keep the first few */
	while (m != NULL && n <= TCP_SACK_BLOCKS_RX) {
		uint32_t s = m->hash.usr, e = s + m->data_len;

		if (n > 0 && seq_ge(all[n - 1].end, s)) {
			all[n - 1].end = seq_max(all[n - 1].end, e);
		} else {
			all[n].start = s;
			all[n].end = e;
			n++;
		}
		m = m->next;
	}
	if (n > TCP_SACK_BLOCKS_RX)
		n = TCP_SACK_BLOCKS_RX;
	for (unsigned int i = 0; i < n; i++)
		if (seq_ge(c->ooo_last, all[i].start) && seq_lt(c->ooo_last, all[i].end))
			first = i;
	if (n > 0 && max > 0)
		b[out++] = all[first];
	for (unsigned int i = 0; i < n && out < max; i++)
		if (i != first)
			b[out++] = all[i];
	return out;
}

int tcp_xmit(struct tcp_stack *ts, struct tcp_conn *c, uint32_t seq, uint32_t len,
	     uint8_t flags)
{
	uint8_t opts[40];
	uint32_t optlen = 0, hlen;
	struct rte_tcp_hdr *th;
	struct rte_mbuf *m;
	uint16_t win;

	if (flags & TCP_SYN) {
		optlen = tcp_syn_opts(opts, (uint16_t)ts->cfg.mss, ts->cfg.sack &&
				      (c->state == TCP_ST_SYN_SENT || (c->flags & TCF_SACK)),
				      ts->cfg.timestamps &&
				      (c->state == TCP_ST_SYN_SENT || (c->flags & TCF_TS)),
				      tcp_ts_now(ts), c->ts_recent,
				      c->state == TCP_ST_SYN_SENT ? ts->cfg.window_scaling
								  : (c->flags & TCF_WS) != 0,
				      c->rcv_wscale);
	} else if (!(flags & TCP_RST)) {
		if (c->flags & TCF_TS) {
			opts[0] = TCP_OPT_NOP;
			opts[1] = TCP_OPT_NOP;
			tcp_put_ts(opts + 2, tcp_ts_now(ts), c->ts_recent);
			optlen = 12;
		}
		if ((c->flags & TCF_SACK) && c->ooo_head != NULL) {
			struct tcp_sack_blk b[TCP_SACK_BLOCKS_RX];
			unsigned int room = (40 - optlen - 4) / 8, n;

			/* keep data segments within the peer's MSS */
			if (len > 0) {
				uint32_t fit = c->mss + ((c->flags & TCF_TS) ? 12u : 0u);

				room = fit > len + optlen + 4 ? (fit - len - optlen - 4) / 8 : 0;
			}
			n = tcp_sack_blocks(c, b, room < TCP_SACK_BLOCKS_RX ? room
									: TCP_SACK_BLOCKS_RX);
			if (n > 0) {
				uint8_t *p = opts + optlen;

				*p++ = TCP_OPT_NOP;
				*p++ = TCP_OPT_NOP;
				*p++ = TCP_OPT_SACK;
				*p++ = (uint8_t)(2 + 8 * n);
				for (unsigned int i = 0; i < n; i++) {
					uint32_t s = rte_cpu_to_be_32(b[i].start);
					uint32_t e = rte_cpu_to_be_32(b[i].end);

					memcpy(p, &s, 4);
					memcpy(p + 4, &e, 4);
					p += 8;
				}
				optlen = (uint32_t)(p - opts);
			}
		}
	}
	hlen = TCP_HDR_LEN + optlen;
	th = tcp_hdr_alloc(ts, &m, hlen, len);
	if (th == NULL)
		return -ENOBUFS;
	if (flags & TCP_SYN)
		win = (uint16_t)(ts->cfg.rcv_buf > 65535 ? 65535 : ts->cfg.rcv_buf);
	else if (flags & TCP_RST)
		win = 0;
	else
		win = tcp_rcv_window(ts, c);
	th->src_port = rte_cpu_to_be_16(c->lport);
	th->dst_port = rte_cpu_to_be_16(c->rport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = (flags & TCP_ACK) ? rte_cpu_to_be_32(c->rcv_nxt) : 0;
	th->data_off = (uint8_t)((hlen / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(win);
	memcpy(th + 1, opts, optlen);
	if (len > 0) {
		uint32_t off = seq - c->snd_una - (tcp_synchronized(c) ? 0u : 1u);

		tcp_sq_copy(c, off, len, (uint8_t *)th + hlen);
	}
	if (seq_lt(seq, c->snd_max) && (len > 0 || (flags & (TCP_SYN | TCP_FIN))) &&
	    !(flags & TCP_RST) && seq_ge(seq, c->snd_una)) {
		tcp_cnt(ts, TCP_C_RETRANSMITS);
		c->rtx_tsval = tcp_ts_now(ts);
		c->flags |= TCF_RTX_TS;
	}
	if (flags & TCP_ACK) {
		/* every segment carrying an ACK answers what is pending (RFC 9293 3.8.6.3) */
		c->last_ack_sent = c->rcv_nxt;
		c->delack_segs = 0;
		c->flags &= ~TCF_ACK_NOW;
		tw_cancel(&ts->wheel, &c->t_delack);
	}
	return tcp_send_mbuf(ts, m, c->laddr, c->raddr, len);
}

void tcp_send_ack(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint32_t seq = c->snd_nxt;

	/* after an RTO rewound snd_nxt, a pure ACK still carries the highest sequence */
	if (seq_lt(seq, c->snd_max) && !(c->flags & TCF_RECOVERY))
		seq = c->snd_max;
	tcp_xmit(ts, c, seq, 0, TCP_ACK);
}

void tcp_send_syn(struct tcp_stack *ts, struct tcp_conn *c)
{
	tcp_xmit(ts, c, c->iss, 0,
		 c->state == TCP_ST_SYN_SENT ? TCP_SYN : (uint8_t)(TCP_SYN | TCP_ACK));
	c->snd_nxt = c->iss + 1;
	c->snd_max = seq_max(c->snd_max, c->iss + 1);
	if (!(c->flags & TCF_RTT) && c->nrtx == 0) {
		c->flags |= TCF_RTT;
		c->rtt_seq = c->iss + 1;
		c->rtt_start_ns = ts->now_ns;
	}
}

void tcp_send_rst(struct tcp_stack *ts, struct tcp_conn *c)
{
	/* RFC 9293 3.10.5: <SEQ=SND.NXT><CTL=RST>; the highest sequence sent is the one
	 * the peer expects when an RTO rewound snd_nxt (RFC 5961 wants it exact) */
	tcp_xmit(ts, c, c->snd_max, 0,
		 tcp_synchronized(c) || c->state == TCP_ST_SYN_RCVD ? (uint8_t)(TCP_RST | TCP_ACK)
								      : TCP_RST);
}

void tcp_reply_rst(struct tcp_stack *ts, uint32_t laddr, uint16_t lport, uint32_t raddr,
		   uint16_t rport, const struct tcp_seg *s)
{
	struct rte_tcp_hdr *th;
	struct rte_mbuf *m;

	/* RFC 9293 3.10.7.1: never answer a RST */
	if (s->flags & TCP_RST)
		return;
	th = tcp_hdr_alloc(ts, &m, TCP_HDR_LEN, 0);
	if (th == NULL)
		return;
	th->src_port = rte_cpu_to_be_16(lport);
	th->dst_port = rte_cpu_to_be_16(rport);
	if (s->flags & TCP_ACK) {
		th->sent_seq = rte_cpu_to_be_32(s->ack);
		th->tcp_flags = TCP_RST;
	} else {
		uint32_t seglen = s->len + ((s->flags & TCP_SYN) ? 1u : 0u) +
				  ((s->flags & TCP_FIN) ? 1u : 0u);

		th->sent_seq = 0;
		th->recv_ack = rte_cpu_to_be_32(s->seq + seglen);
		th->tcp_flags = TCP_RST | TCP_ACK;
	}
	th->data_off = (uint8_t)((TCP_HDR_LEN / 4) << 4);
	tcp_send_mbuf(ts, m, laddr, raddr, 0);
}

void tcp_send_cookie_synack(struct tcp_stack *ts, uint32_t laddr, uint16_t lport,
			    uint32_t raddr, uint16_t rport, const struct tcp_seg *s,
			    uint32_t isn, uint16_t mss, uint8_t rcv_wscale)
{
	bool use_ts = ts->cfg.timestamps && s->has_ts;
	bool ws = ts->cfg.window_scaling && s->has_ws && use_ts;
	bool sack = ts->cfg.sack && s->has_sack_ok && use_ts;
	uint32_t tsval = tcp_ts_now(ts);
	struct rte_tcp_hdr *th;
	struct rte_mbuf *m;
	uint8_t opts[40];
	uint32_t optlen;

	/* Linux style: with timestamps, the low 5 bits of our TSval carry the options
	 * the client offered (4 bits its wscale, 0xf = none; 1 bit SACK); the client
	 * echoes them in TSecr. Without timestamps the conn gets neither. */
	if (use_ts) {
		uint32_t now = tsval;

		tsval = (tsval & ~0x1fu) | (ws ? (s->ws > TCP_WSCALE_MAX ? TCP_WSCALE_MAX : s->ws)
					       : 0xfu) |
			(sack ? 0x10u : 0u);
		/* never ahead of our clock (Linux's cookie_init_timestamp does the same):
		 * the peer's PAWS would drop our next segments, whose TSval is the clock,
		 * until the clock caught up */
		if (seq_gt(tsval, now))
			tsval -= 0x20u;
	}
	optlen = tcp_syn_opts(opts, mss, sack, use_ts, tsval, s->tsval, ws, rcv_wscale);
	th = tcp_hdr_alloc(ts, &m, TCP_HDR_LEN + optlen, 0);
	if (th == NULL)
		return;
	th->src_port = rte_cpu_to_be_16(lport);
	th->dst_port = rte_cpu_to_be_16(rport);
	th->sent_seq = rte_cpu_to_be_32(isn);
	th->recv_ack = rte_cpu_to_be_32(s->seq + 1);
	th->data_off = (uint8_t)(((TCP_HDR_LEN + optlen) / 4) << 4);
	th->tcp_flags = TCP_SYN | TCP_ACK;
	th->rx_win = rte_cpu_to_be_16((uint16_t)(ts->cfg.rcv_buf > 65535 ? 65535 : ts->cfg.rcv_buf));
	memcpy(th + 1, opts, optlen);
	tcp_cnt(ts, TCP_C_SYN_COOKIES_SENT);
	tcp_send_mbuf(ts, m, laddr, raddr, 0);
}

/* First byte at or after seq that no SACK block covers (RFC 6675 NextSeg rule 1,
 * simplified: the scoreboard is sorted and merged). */
static uint32_t tcp_next_hole(const struct tcp_conn *c, uint32_t seq)
{
	for (unsigned int i = 0; i < c->nsack; i++) {
		if (seq_lt(seq, c->sack[i].start))
			break;
		if (seq_lt(seq, c->sack[i].end))
			seq = c->sack[i].end;
	}
	return seq;
}

/* Retransmit one segment: the first un-SACKed hole at or after from. Returns the
 * sequence space sent (0 when nothing was left to retransmit there). */
static uint32_t tcp_rexmit_from(struct tcp_stack *ts, struct tcp_conn *c, uint32_t from)
{
	uint32_t end = tcp_data_end(c);
	uint32_t seq = tcp_next_hole(c, from);
	uint32_t len;
	uint8_t flags = TCP_ACK;

	if (seq_ge(seq, c->snd_max))
		return 0;
	len = seq_lt(seq, end) ? end - seq : 0;
	if (len > c->mss)
		len = c->mss;
	/* a retransmission never reaches past what was sent (snd_max stays the
	 * highest sequence sent; new data is tcp_output's business) */
	if (seq_gt(seq + len, c->snd_max))
		len = c->snd_max - seq;
	/* stop at the next SACKed block: those bytes arrived */
	for (unsigned int i = 0; i < c->nsack; i++)
		if (seq_gt(c->sack[i].start, seq) && seq_lt(c->sack[i].start, seq + len))
			len = c->sack[i].start - seq;
	if ((c->flags & TCF_FIN_QUEUED) && seq + len == end && seq_gt(c->snd_max, end))
		flags |= TCP_FIN;
	if (len == 0 && !(flags & TCP_FIN))
		return 0;
	if (len > 0 && seq + len == end)
		flags |= TCP_PSH;
	tcp_xmit(ts, c, seq, len, flags);
	return len + ((flags & TCP_FIN) ? 1u : 0u);
}

void tcp_send_tlp(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint32_t end = tcp_data_end(c);
	uint32_t top = seq_min(c->snd_max, end); /* end of the data sent */
	uint32_t len = top - c->snd_una;
	uint8_t flags = TCP_ACK;

	/* RFC 8985 7.3 (the "retransmit the most recently sent segment" branch; new
	 * data is not used as the probe here) */
	if (len > c->mss)
		len = c->mss;
	if ((c->flags & TCF_FIN_SENT) && seq_gt(c->snd_max, end))
		flags |= TCP_FIN;
	if (len > 0 && top - len + len == end)
		flags |= TCP_PSH;
	if (len == 0 && !(flags & TCP_FIN))
		return;
	tcp_xmit(ts, c, top - len, len, flags);
}

void tcp_retransmit_una(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint32_t sent;

	if (c->state == TCP_ST_SYN_SENT || c->state == TCP_ST_SYN_RCVD) {
		tcp_send_syn(ts, c);
		return;
	}
	if (c->flags & TCF_RECOVERY) {
		/* fast retransmit / partial ACK: the next hole, snd_nxt untouched */
		uint32_t from = seq_gt(c->high_rxt, c->snd_una) ? c->high_rxt : c->snd_una;

		/* RFC 6675 NextSeg: holes below HighRxt were retransmitted already */
		sent = tcp_rexmit_from(ts, c, from);
		if (sent != 0) {
			if (from == c->snd_una)
				c->rexmit_ns = ts->now_ns;
			c->high_rxt = tcp_next_hole(c, from) + sent;
		}
		return;
	}
	/* RTO: go back to snd_una (RFC 6298 5.4), later segments follow as ACKs come */
	sent = tcp_rexmit_from(ts, c, c->snd_una);
	c->snd_nxt = tcp_next_hole(c, c->snd_una) + sent;
	if (sent == 0)
		c->snd_nxt = c->snd_una;
}

void tcp_output(struct tcp_stack *ts, struct tcp_conn *c)
{
	if (!tcp_synchronized(c) || c->state == TCP_ST_TIME_WAIT || (c->flags & TCF_FIN_ACKED)) {
		if (c->flags & TCF_ACK_NOW)
			tcp_send_ack(ts, c);
		return;
	}
	for (;;) {
		uint32_t end = tcp_data_end(c);
		uint32_t cw = c->cwnd, wnd;

		/* RFC 3042 limited transmit: one new segment for each of the first two
		 * duplicate ACKs, so a small window still produces three */
		if (!(c->flags & TCF_RECOVERY) && c->dupacks > 0 && c->dupacks < 3)
			cw += c->dupacks * (uint32_t)c->mss;
		wnd = c->snd_wnd < cw ? c->snd_wnd : cw;
		uint32_t right = c->snd_una + wnd;
		uint32_t avail, usable, len;
		uint8_t flags = TCP_ACK;

		if (seq_gt(c->snd_nxt, end))
			break; /* FIN already sent */
		avail = end - c->snd_nxt;
		usable = seq_gt(right, c->snd_nxt) ? right - c->snd_nxt : 0;
		len = avail < usable ? avail : usable;
		if (len > c->mss)
			len = c->mss;
		/* RFC 9293 3.8.6.2.1 sender SWS avoidance holds back a small segment
		 * unless the persist timer expired (the override timeout) */
		if ((len == 0 && avail > 0) ||
		    (len > 0 && len < c->mss && len < avail && len < c->max_sndwnd / 2 &&
		     !(c->flags & TCF_FORCE))) {
			/* RFC 9293 3.8.6.1: data waiting, a window too small for it and
			 * nothing in flight (so no ACK will come to open it: a lost window
			 * update would stall us): the persist timer probes */
			if (tcp_flight(c) == 0 && !tw_timer_armed(&c->t_rtx)) {
				c->flags |= TCF_PERSIST;
				c->nrtx = 0;
				tcp_arm_rtx(ts, c);
			}
			break;
		}
		if (len == 0 && !(c->flags & TCF_FIN_QUEUED))
			break;
		if ((c->flags & TCF_FIN_QUEUED) && c->snd_nxt + len == end)
			flags |= TCP_FIN;
		if (len > 0 && c->snd_nxt + len == end)
			flags |= TCP_PSH;
		if (tcp_xmit(ts, c, c->snd_nxt, len, flags) < 0)
			break;
		if (!(c->flags & TCF_RTT) && c->snd_nxt == c->snd_max && !(c->flags & TCF_TS)) {
			/* Karn: time only new data; with timestamps every ACK is a sample */
			c->flags |= TCF_RTT;
			c->rtt_seq = c->snd_nxt + len;
			c->rtt_start_ns = ts->now_ns;
		}
		c->snd_nxt += len + ((flags & TCP_FIN) ? 1u : 0u);
		if (flags & TCP_FIN)
			c->flags |= TCF_FIN_SENT;
		c->snd_max = seq_max(c->snd_max, c->snd_nxt);
		/* RFC 6298 5.1: start the timer when sending data with none running; a
		 * tail loss probe moves with every new segment (RFC 8985 7.2) */
		if (c->flags & TCF_PERSIST) {
			c->flags &= ~TCF_PERSIST;
			tw_cancel(&ts->wheel, &c->t_rtx);
		}
		if (!tcp_arm_pto(ts, c) &&
		    (!tw_timer_armed(&c->t_rtx) || (c->flags & TCF_TLP_ARMED)))
			tcp_arm_rtx(ts, c);
		if (flags & TCP_FIN)
			break;
	}
	c->flags &= ~TCF_FORCE;
	if (c->flags & TCF_ACK_NOW)
		tcp_send_ack(ts, c);
}
