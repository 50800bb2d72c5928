/* SPDX-License-Identifier: proprietary */
/*
 * Per-core TCP stack: module-private prototypes and helpers shared by its files.
 */
#ifndef TWOSPEED_TCP_INT_H
#define TWOSPEED_TCP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp.h"
#include "tcp_int-t.h"

/* Sequence arithmetic modulo 2^32, RFC 9293 3.4. */
static inline bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}
static inline bool seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}
static inline bool seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}
static inline bool seq_ge(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}
static inline uint32_t seq_max(uint32_t a, uint32_t b)
{
	return seq_gt(a, b) ? a : b;
}
static inline uint32_t seq_min(uint32_t a, uint32_t b)
{
	return seq_lt(a, b) ? a : b;
}

static inline void tcp_cnt(struct tcp_stack *ts, enum tcp_ctr c)
{
	ts->ctr.v[c]++;
}

static inline void tcp_cnt_add(struct tcp_stack *ts, enum tcp_ctr c, uint64_t n)
{
	ts->ctr.v[c] += n;
}

static inline uint32_t tcp_conn_index(const struct tcp_stack *ts, const struct tcp_conn *c)
{
	return (uint32_t)(c - ts->conns);
}

/* Our RFC 7323 timestamp clock (1 ms ticks). */
static inline uint32_t tcp_ts_now(const struct tcp_stack *ts)
{
	return (uint32_t)((ts->now_ns - ts->clock_base_ns) / TCP_TS_HZ_NS);
}

/* Bytes sent and not acknowledged (FIN/SYN count 1). */
static inline uint32_t tcp_flight(const struct tcp_conn *c)
{
	return c->snd_max - c->snd_una;
}

static inline bool tcp_synchronized(const struct tcp_conn *c)
{
	return c->state >= TCP_ST_ESTABLISHED;
}

/* First sequence number after the queued data (where our FIN goes): our SYN takes
 * one sequence number until it is acknowledged. */
static inline uint32_t tcp_data_end(const struct tcp_conn *c)
{
	return c->snd_una + (tcp_synchronized(c) ? 0u : 1u) + c->sq_len;
}

/* ---- tcp_conn_fp.c: pool, flow table, ISN, cookies, timers, upcalls ---- */
struct tcp_conn *tcp_conn_alloc(struct tcp_stack *ts);
void tcp_conn_free(struct tcp_stack *ts, struct tcp_conn *c);
struct tcp_conn *tcp_flow_lookup(struct tcp_stack *ts, uint32_t laddr, uint16_t lport,
				 uint32_t raddr, uint16_t rport);
void tcp_flow_insert(struct tcp_stack *ts, struct tcp_conn *c);
uint32_t tcp_isn(const struct tcp_stack *ts, uint32_t laddr, uint16_t lport, uint32_t raddr,
		 uint16_t rport);
uint32_t tcp_cookie_make(const struct tcp_stack *ts, uint32_t laddr, uint16_t lport,
			 uint32_t raddr, uint16_t rport, uint32_t peer_isn, unsigned int mss_idx);
int tcp_cookie_check(const struct tcp_stack *ts, uint32_t laddr, uint16_t lport,
		     uint32_t raddr, uint16_t rport, uint32_t peer_isn, uint32_t cookie);
extern const uint16_t tcp_cookie_mss[8];
unsigned int tcp_cookie_mss_idx(uint16_t mss);
/* Release the conn: closed(err) upcall when an app holds it, then free. */
void tcp_conn_drop(struct tcp_stack *ts, struct tcp_conn *c, int err);
/* Run pending upcalls. Returns false when the conn was freed by one of them. */
bool tcp_deliver(struct tcp_stack *ts, struct tcp_conn *c);
void tcp_enter_time_wait(struct tcp_stack *ts, struct tcp_conn *c);
void tcp_arm_rtx(struct tcp_stack *ts, struct tcp_conn *c);
/* Enter fast recovery: halve, retransmit the first hole (tcp_input_fp.c). */
void tcp_enter_recovery(struct tcp_stack *ts, struct tcp_conn *c);
/* Not in recovery, SACKed data above a hole: arm the reordering timer. */
void tcp_arm_reorder(struct tcp_stack *ts, struct tcp_conn *c);
/* In recovery: arm the lost-retransmission timer (or the RTO when not eligible). */
void tcp_arm_recovery_timer(struct tcp_stack *ts, struct tcp_conn *c);
/* Arm the tail loss probe in place of the RTO when eligible; true when armed. */
bool tcp_arm_pto(struct tcp_stack *ts, struct tcp_conn *c);
void tcp_arm_life(struct tcp_stack *ts, struct tcp_conn *c);
void tcp_arm_delack(struct tcp_stack *ts, struct tcp_conn *c);
/* Established-side settings once the handshake is done (cwnd, timers). */
void tcp_established(struct tcp_stack *ts, struct tcp_conn *c);
void tcp_free_chain(struct rte_mbuf **head, struct rte_mbuf **tail);

/* ---- tcp_output_fp.c ---- */
/* Send new data / FIN as the windows allow; sends a pure ACK when one is owed. */
void tcp_output(struct tcp_stack *ts, struct tcp_conn *c);
/* Send one segment of the conn: seq, len payload bytes from the send queue, flags. */
int tcp_xmit(struct tcp_stack *ts, struct tcp_conn *c, uint32_t seq, uint32_t len,
	     uint8_t flags);
void tcp_send_ack(struct tcp_stack *ts, struct tcp_conn *c);
void tcp_send_syn(struct tcp_stack *ts, struct tcp_conn *c);
void tcp_send_rst(struct tcp_stack *ts, struct tcp_conn *c);
/* RST for a segment that has no conn (RFC 9293 3.10.7.1). */
void tcp_reply_rst(struct tcp_stack *ts, uint32_t laddr, uint16_t lport, uint32_t raddr,
		   uint16_t rport, const struct tcp_seg *s);
/* SYN-ACK carrying a cookie; nothing kept. */
void tcp_send_cookie_synack(struct tcp_stack *ts, uint32_t laddr, uint16_t lport,
			    uint32_t raddr, uint16_t rport, const struct tcp_seg *s,
			    uint32_t isn, uint16_t mss, uint8_t rcv_wscale);
/* Receive space we could offer now (bytes, bounded by what the field can say). */
uint32_t tcp_rcv_space(const struct tcp_stack *ts, const struct tcp_conn *c);
/* Window field value to advertise now (and update rcv_adv). */
uint16_t tcp_rcv_window(struct tcp_stack *ts, struct tcp_conn *c);
/* Retransmit from snd_una (RTO) or the first hole (fast retransmit). */
void tcp_retransmit_una(struct tcp_stack *ts, struct tcp_conn *c);
/* The tail loss probe: retransmit the last segment sent (RFC 8985 7.3). */
void tcp_send_tlp(struct tcp_stack *ts, struct tcp_conn *c);
uint8_t tcp_choose_wscale(const struct tcp_stack *ts);
/* Effective MSS for our segments given the peer's MSS and our options. */
void tcp_set_mss(struct tcp_stack *ts, struct tcp_conn *c);

#endif /* TWOSPEED_TCP_INT_H */
