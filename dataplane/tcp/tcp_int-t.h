/* SPDX-License-Identifier: proprietary */
/*
 * Per-core TCP stack: module-private types (the connection object, parsed segments).
 * Not for upper layers: they hold struct tcp_conn pointers only.
 */
#ifndef TWOSPEED_TCP_INT_T_H
#define TWOSPEED_TCP_INT_T_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp-t.h"
#include "tw-t.h"

/* TCP header flags, RFC 9293 3.1. */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

/* Option kinds, RFC 9293 3.2, RFC 7323, RFC 2018. */
#define TCP_OPT_EOL 0
#define TCP_OPT_NOP 1
#define TCP_OPT_MSS 2
#define TCP_OPT_WS 3
#define TCP_OPT_SACK_OK 4
#define TCP_OPT_SACK 5
#define TCP_OPT_TS 8

#define TCP_HDR_LEN 20u	     /* bytes without options */
#define TCP_HDR_MAX 60u	     /* bytes with the most options */
#define TCP_WSCALE_MAX 14    /* RFC 7323 2.3 */
#define TCP_SACK_BLOCKS_RX 4 /* SACK blocks of a received segment we use */
#define TCP_SACK_SB_MAX 8    /* SACKed ranges the sender scoreboard keeps */
#define TCP_DEFAULT_MSS 536u /* RFC 9293 3.7.1 when the peer sends no MSS */
#define TCP_MIN_MSS 88u	     /* peer MSS below this is raised to it */
/* Our timestamp clock ticks every 1 ms (RFC 7323 5.4: 1 ms .. 1 s). */
#define TCP_TS_HZ_NS 1000000ull
/* PAWS: ts_recent older than 24 days is invalid (RFC 7323 5.5). */
#define TCP_PAWS_IDLE_NS (24ull * 24 * 3600 * 1000000000ull)
/* SYN cookie time counter period (ns) and accepted age (periods). */
#define TCP_COOKIE_PERIOD_NS (64ull * 1000000000ull)
#define TCP_COOKIE_MAX_AGE 2u
/* RFC 8985 7.2: a lone segment's ACK may be delayed this long (WCDelAckT). RFC
 * 8985 says 200 ms, which puts the probe behind rto_min so it never fires; Linux
 * and most peers ACK a pushed lone segment within 40 ms, so 50 ms (a late ACK only
 * costs a spurious one-segment probe). And the smallest probe timeout we arm. */
#define TCP_TLP_DELACK_NS 50000000ull
#define TCP_TLP_MIN_NS 2000000ull /* Linux's TCP_TIMEOUT_MIN: 2 ticks of 1 ms */
/* Smallest reordering window before a hole under SACKed data is declared lost (one
 * tick; the window is SRTT / 4 when that is longer, RFC 8985 6.2.1). */
#define TCP_REO_MIN_NS 1000000ull
/* Most due timers run per tcp_timers() call. */
#define TCP_TIMER_BUDGET 256u

/* struct tcp_conn.flags */
#define TCF_APP 0x0001u	       /* an app holds the conn (upcalls may be made) */
#define TCF_TS 0x0002u	       /* timestamps negotiated */
#define TCF_SACK 0x0004u       /* SACK permitted both ways */
#define TCF_WS 0x0008u	       /* window scaling negotiated */
#define TCF_FIN_QUEUED 0x0010u /* app shut down sending: FIN after the queue */
#define TCF_FIN_SENT 0x0020u   /* our FIN has been sent (at fin_seq) */
#define TCF_FIN_RCVD 0x0040u   /* peer's FIN processed (rcv_nxt is past it) */
#define TCF_PASSIVE 0x0080u    /* created from a listener */
#define TCF_RECOVERY 0x0100u   /* in fast recovery (RFC 6582 / 6675) */
#define TCF_RTT 0x0200u	       /* an RTT sample is being timed (rtt_seq) */
#define TCF_ACK_NOW 0x0400u    /* send an ACK at the end of input processing */
#define TCF_WANT_WRITE 0x0800u /* tcp_write() fell short: writable() owed */
#define TCF_PERSIST 0x1000u    /* t_rtx is the persist timer (zero window) */
#define TCF_CLOSED_APP 0x2000u /* app called tcp_close(): receive side is dead */
#define TCF_FIN_ACKED 0x4000u  /* our FIN is acknowledged: nothing more to send */
#define TCF_RTX_TS 0x8000u     /* rtx_tsval holds the TSval of our last retransmission */
#define TCF_FORCE 0x10000u     /* persist expired: send what the window takes, SWS aside */
#define TCF_TLP_ARMED 0x20000u /* t_rtx is the tail loss probe timer (PTO) */
#define TCF_TLP_SENT 0x40000u  /* a probe is out: no other until snd_una moves */
#define TCF_RACK_ARMED 0x80000u /* t_rtx is the recovery (lost retransmission) timer */
/* Recovery-timer retransmissions of the first hole per recovery episode before the
 * RTO takes over. */
#define TCP_RACK_TRIES 3

/* Pending upcalls, delivered at the end of the step that raised them. */
#define TCE_ACCEPTED 0x01u
#define TCE_CONNECTED 0x02u
#define TCE_READABLE 0x04u
#define TCE_WRITABLE 0x08u

/* A SACKed sequence range [start, end). */
struct tcp_sack_blk {
	uint32_t start;
	uint32_t end;
};

/* A connection (RFC 9293 3.3.1 TCB). Lives in the stack's pool. */
struct tcp_conn {
	/* identity and flow table */
	uint32_t hnext;	  /* next conn in the bucket or free list (index + 1; 0 = end) */
	uint32_t gen;	  /* bumped on every free: detects a conn freed by an upcall */
	uint32_t tw_next; /* TIME_WAIT list links (index + 1; 0 = none) */
	uint32_t tw_prev;
	uint32_t laddr;	  /* network order */
	uint32_t raddr;	  /* network order */
	uint16_t lport;	  /* host order */
	uint16_t rport;	  /* host order */
	uint8_t state;	  /* enum tcp_state */
	uint8_t events;	  /* TCE_* pending upcalls */
	uint32_t flags;	  /* TCF_* */
	uint16_t lidx;	  /* owning listener index + 1 (0: active open) */
	struct tcp_ops ops;
	void *ctx;

	/* send sequence space, RFC 9293 3.3.1 */
	uint32_t iss;
	uint32_t snd_una;
	uint32_t snd_nxt;	/* next sequence to send (rewound by RTO) */
	uint32_t snd_max;	/* highest sequence sent + 1 */
	uint32_t snd_wnd;	/* peer's window, bytes (scaled) */
	uint32_t snd_wl1;	/* seq of the segment that last updated snd_wnd */
	uint32_t snd_wl2;	/* ack of that segment */
	uint32_t max_sndwnd;	/* largest window the peer offered, bytes */
	uint16_t mss;		/* payload bytes per segment we send (options excluded) */
	uint16_t peer_mss;	/* MSS the peer announced */
	uint8_t snd_wscale;	/* shift of the peer's window field */
	uint8_t rcv_wscale;	/* shift of our window field */
	uint8_t nrtx;		/* RTO expiries in a row */
	uint8_t ka_probes;	/* keep-alive probes unanswered */
	struct rte_mbuf *sq_head; /* unacked+unsent stream bytes, chained by m->next */
	struct rte_mbuf *sq_tail;
	uint32_t sq_off;	/* bytes of sq_head already acknowledged */
	uint32_t sq_len;	/* bytes queued from snd_una on (FIN excluded) */
	uint32_t snd_buf;	/* bytes the send queue may hold (cfg.snd_buf) */

	/* receive sequence space */
	uint32_t irs;
	uint32_t rcv_nxt;
	uint32_t rcv_adv;	/* right edge of the window we advertised last */
	uint32_t last_ack_sent; /* RFC 7323 4.3 */
	struct rte_mbuf *rq_head; /* in-order unread bytes, payload-trimmed mbufs */
	struct rte_mbuf *rq_tail;
	uint32_t rq_len;	/* bytes readable */
	struct rte_mbuf *ooo_head; /* out-of-order segments, sorted, seq in hash.usr */
	uint16_t ooo_segs;
	uint32_t ooo_bytes;
	uint32_t ooo_last;	/* seq of the most recently queued ooo segment (SACK order) */
	uint8_t delack_segs;	/* full-sized segments received and not ACKed yet */

	/* timestamps, RFC 7323 */
	uint32_t ts_recent;
	uint64_t ts_recent_ns;	/* when ts_recent was set (PAWS idle check) */
	uint32_t rtx_tsval;	/* our TSval when we last retransmitted (TCF_RTX_TS) */

	/* RTT and RTO, RFC 6298 (ns) */
	uint64_t srtt_ns;	/* 0: no sample yet */
	uint64_t rttvar_ns;
	uint64_t rto_ns;	/* current RTO before back-off */
	uint32_t rtt_seq;	/* sample completes when this is acked (Karn) */
	uint64_t rtt_start_ns;

	/* congestion control: NewReno (RFC 5681, RFC 6582), bytes */
	uint32_t cwnd;
	uint32_t ssthresh;
	uint32_t bytes_acked;	/* appropriate byte counting in avoidance (RFC 3465) */
	uint32_t recover;	/* RFC 6582 "recover" */
	uint32_t high_rxt;	/* RFC 6675 HighRxt: retransmitted up to here in recovery */
	uint64_t rexmit_ns;	/* when the first hole was last retransmitted in recovery */
	uint8_t rack_tries;	/* recovery-timer retransmissions this episode */
	uint16_t dupacks;
	uint8_t nsack;		/* ranges in sack[] */
	struct tcp_sack_blk sack[TCP_SACK_SB_MAX]; /* scoreboard, sorted, above snd_una */

	/* timers and liveness */
	uint64_t last_rx_ns;	/* last segment accepted from the peer */
	uint64_t born_ns;
	struct tw_timer t_rtx;	  /* RTO, SYN retransmit or persist */
	struct tw_timer t_delack; /* delayed ACK */
	struct tw_timer t_life;	  /* handshake / idle / keep-alive / FIN_WAIT_2 / TIME_WAIT */
};

/* A received segment, parsed and validated (host order). */
struct tcp_seg {
	uint32_t seq;
	uint32_t ack;
	uint32_t wnd;	   /* raw window field */
	uint32_t len;	   /* payload bytes (SYN/FIN not counted) */
	uint8_t flags;
	uint8_t hlen;	   /* header bytes with options */
	/* options seen */
	bool has_mss, has_ws, has_sack_ok, has_ts;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	uint8_t nsack;
	struct tcp_sack_blk sack[TCP_SACK_BLOCKS_RX];
};

#endif /* TWOSPEED_TCP_INT_T_H */
