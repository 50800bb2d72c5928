/* SPDX-License-Identifier: proprietary */
/*
 * Per-core TCP stack: types and constants (see README.md).
 *
 * One struct tcp_stack per worker lcore: its connection pool, flow table, listeners,
 * timer wheel, secrets and counters. Nothing in here is shared with another lcore.
 * struct tcp_conn is private to the module (tcp_int-t.h); upper layers only hold
 * pointers to it and use the stream API of tcp.h.
 */
#ifndef TWOSPEED_TCP_T_H
#define TWOSPEED_TCP_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw-t.h"

struct rte_mbuf;
struct rte_mempool;
struct tcp_conn;
struct tcp_stack;

/* Most listeners per stack (a worker serves a handful of ports). */
#define TCP_LISTENERS_MAX 16
/* Most received segments tcp_peek() hands out per call is the caller's choice; this
 * is a convenient array size for callers. */
#define TCP_PEEK_MAX 32

/* Connection states, RFC 9293 3.3.2. */
enum tcp_state {
	TCP_ST_CLOSED = 0,
	TCP_ST_LISTEN = 1, /* listeners only; connections never hold it */
	TCP_ST_SYN_SENT = 2,
	TCP_ST_SYN_RCVD = 3,
	TCP_ST_ESTABLISHED = 4,
	TCP_ST_FIN_WAIT_1 = 5,
	TCP_ST_FIN_WAIT_2 = 6,
	TCP_ST_CLOSE_WAIT = 7,
	TCP_ST_CLOSING = 8,
	TCP_ST_LAST_ACK = 9,
	TCP_ST_TIME_WAIT = 10,
	TCP_ST_COUNT,
};

/*
 * Settings of one stack, the [tcp] section of the config (tcp_conf_keys) plus what
 * the embedder knows about its port. Durations in ns, sizes in bytes.
 */
struct tcp_cfg {
	/* from [tcp] */
	uint64_t max_conns;	     /* connection objects per worker, allocated at init */
	uint64_t syn_backlog;	     /* SYN_RCVD conns per listener before SYN cookies */
	uint64_t listen_max_conns;   /* default per-listener connection limit */
	uint64_t mss;		     /* MSS we announce and cap our segments at (bytes) */
	uint64_t rcv_buf;	     /* receive buffer per conn: window we offer (bytes) */
	uint64_t snd_buf;	     /* send buffer per conn: tcp_write back-pressure (bytes) */
	uint64_t ooo_max_segs;	     /* out-of-order segments kept per conn */
	uint64_t ooo_max_bytes;	     /* out-of-order payload bytes kept per conn */
	bool timestamps;	     /* offer/accept RFC 7323 timestamps */
	bool sack;		     /* offer/accept SACK (RFC 2018) */
	bool window_scaling;	     /* offer/accept RFC 7323 window scaling */
	bool syn_cookies;	     /* answer SYNs with cookies when the backlog is full */
	uint64_t rto_init_ns;	     /* RFC 6298 2.1 initial RTO (1 s) */
	uint64_t rto_min_ns;	     /* RFC 6298 2.4 lower bound */
	uint64_t rto_max_ns;	     /* upper bound of the backed-off RTO */
	uint64_t syn_retries;	     /* SYN / SYN-ACK retransmissions before giving up */
	uint64_t data_retries;	     /* RTO expiries in a row before resetting (R2) */
	uint64_t delack_ns;	     /* delayed-ACK timer, RFC 9293 3.8.6.3 (< 500 ms) */
	uint64_t msl_ns;	     /* TIME_WAIT lasts 2 * msl_ns */
	uint64_t handshake_timeout_ns; /* SYN_SENT/SYN_RCVD give up after this */
	uint64_t idle_timeout_ns;    /* established conn without traffic is reset (0: off) */
	uint64_t keepalive_idle_ns;  /* first keep-alive probe after this idle time (0: off) */
	uint64_t keepalive_intvl_ns; /* between keep-alive probes */
	uint64_t keepalive_probes;   /* unanswered probes before the conn is reset */
	uint64_t fin_wait2_ns;	     /* FIN_WAIT_2 of an app-closed conn is bounded */
	uint64_t tick_ns;	     /* timer wheel granularity */
	uint64_t local_port_min;     /* active-open ephemeral port range (host order) */
	uint64_t local_port_max;
	/* set by the embedder from the port's capabilities, not from the file */
	bool tx_cksum_offload; /* emit with pseudo-header sum + RTE_MBUF_F_TX_TCP_CKSUM */
	bool rx_cksum_offload; /* trust RTE_MBUF_F_RX_L4_CKSUM_GOOD/BAD in ol_flags */
};

/* Counters: one u64 per reason, lcore-local, names in tcp_counter_names[]. */
enum tcp_ctr {
	TCP_C_RX_SEGS = 0,	  /* segments given to tcp_input */
	TCP_C_TX_SEGS,		  /* segments handed to tcp_emit */
	TCP_C_TX_EMIT_FAIL,	  /* tcp_emit refused a segment */
	TCP_C_RX_BYTES,		  /* in-order payload bytes delivered */
	TCP_C_TX_BYTES,		  /* payload bytes sent (retransmissions included) */
	TCP_C_PASSIVE_OPENS,	  /* connections accepted (reached ESTABLISHED) */
	TCP_C_ACTIVE_OPENS,	  /* tcp_connect that sent a SYN */
	TCP_C_ACTIVE_ESTAB,	  /* active opens that reached ESTABLISHED */
	TCP_C_CLOSED,		  /* connections freed */
	TCP_C_RESETS_RX,	  /* acceptable RSTs received */
	TCP_C_RESETS_TX,	  /* RSTs sent */
	TCP_C_RETRANSMITS,	  /* segments retransmitted (any cause) */
	TCP_C_FAST_RETRANSMITS,	  /* fast retransmits (3 dup ACKs / SACK loss) */
	TCP_C_RTO_EXPIRIES,	  /* retransmission timer expiries */
	TCP_C_SYN_RETRANSMITS,	  /* SYN / SYN-ACK retransmissions */
	TCP_C_OOO_SEGS,		  /* out-of-order segments queued */
	TCP_C_OOO_DROPS,	  /* out-of-order segments dropped (queue bounds) */
	TCP_C_DUP_SEGS,		  /* wholly duplicate data segments */
	TCP_C_DUP_ACKS,		  /* duplicate ACKs received */
	TCP_C_CHALLENGE_ACKS,	  /* RFC 5961 challenge ACKs sent */
	TCP_C_SYN_COOKIES_SENT,	  /* SYN-ACKs carrying a cookie */
	TCP_C_SYN_COOKIES_OK,	  /* cookies validated into connections */
	TCP_C_SYN_COOKIES_BAD,	  /* ACKs to a listener with an invalid cookie */
	TCP_C_DELAYED_ACKS,	  /* ACKs sent by the delayed-ACK timer */
	TCP_C_ZWP_SENT,		  /* zero-window probes sent */
	TCP_C_KEEPALIVES_SENT,	  /* keep-alive probes sent */
	TCP_C_TIMEOUT_HANDSHAKE,  /* conns dropped: handshake timeout */
	TCP_C_TIMEOUT_IDLE,	  /* conns reset: idle timeout */
	TCP_C_TIMEOUT_KEEPALIVE,  /* conns reset: keep-alive unanswered */
	TCP_C_TIMEOUT_RTO,	  /* conns reset: too many RTO expiries */
	TCP_C_TIME_WAIT_REUSED,	  /* TIME_WAIT conns recycled by a new SYN (RFC 6191) */
	TCP_C_DROP_BAD_CSUM,	  /* drop: bad checksum */
	TCP_C_DROP_SHORT,	  /* drop: shorter than a TCP header */
	TCP_C_DROP_BAD_OFFSET,	  /* drop: data offset < 5 or past the segment */
	TCP_C_DROP_BAD_FLAGS,	  /* drop: nonsensical flags (SYN+FIN, no ACK...) */
	TCP_C_DROP_BAD_OPTIONS,	  /* drop: malformed options */
	TCP_C_DROP_BAD_ADDR,	  /* drop: broadcast/multicast/zero address or port */
	TCP_C_DROP_NO_LISTENER,	  /* drop (and RST): no connection, no listener */
	TCP_C_DROP_PAWS,	  /* drop: PAWS, RFC 7323 5.3 */
	TCP_C_DROP_OUT_OF_WINDOW, /* drop: sequence outside the receive window */
	TCP_C_DROP_BAD_ACK,	  /* drop: ACK of unsent data, or bad ACK in SYN states */
	TCP_C_DROP_POOL_EXHAUSTED,/* drop (and RST): connection pool empty */
	TCP_C_DROP_LISTEN_LIMIT,  /* drop (and RST): listener's connection limit */
	TCP_C_DROP_BACKLOG,	  /* drop: SYN backlog full and cookies off */
	TCP_C_DROP_RCV_CLOSED,	  /* data after the app closed: RST (RFC 9293 3.10.7.4) */
	TCP_C_DROP_RCV_BUF,	  /* payload beyond the offered window trimmed/dropped */
	TCP_C_DROP_MULTISEG,	  /* drop: chained mbuf that could not be linearized */
	TCP_C_DROP_NO_MBUF,	  /* output skipped: mbuf pool empty */
	TCP_C_RST_IGNORED,	  /* RSTs outside the window (silently dropped) */
	TCP_C_SYN_IN_WINDOW,	  /* SYNs on a synchronized conn (challenge ACKed) */
	TCP_C_CONN_ABORTED,	  /* conns aborted by the app (tcp_abort) */
	TCP_C_TIME_WAIT_RECYCLED, /* oldest TIME_WAIT conn freed early: pool was empty */
	TCP_C_TLP_PROBES,	  /* tail loss probes sent (RFC 8985 7) */
	TCP_C_RECOVERY_TIMEOUTS,  /* first hole resent by the recovery timer (lost rexmit) */
	TCP_C_SYN_RCVD_REPLACED,  /* half-open conns replaced by a SYN with a new ISN */
	TCP_C_COUNT,
};

/* Counter block of one stack; single writer (its lcore), cache-line aligned so a
 * reader (the exporter) never shares a line with another lcore's writer. */
struct tcp_counters {
	_Alignas(64) uint64_t v[TCP_C_COUNT];
};

/*
 * Upcalls of a listener (inherited by the connections it accepts) or of an active
 * open. They run inside tcp_input()/tcp_timers() or the stream calls of tcp.h. Any
 * of them may call the stream API on its conn; none may free the conn except via
 * tcp_close()/tcp_abort(). NULL members are skipped.
 */
struct tcp_ops {
	/* A passive open reached ESTABLISHED. lctx is the listener's context. Return 0
	 * to keep the conn (set its context with tcp_set_ctx()) or a negative errno to
	 * have it reset and freed (no closed upcall then). */
	int (*accepted)(struct tcp_conn *conn, void *lctx);
	/* An active open reached ESTABLISHED. */
	void (*connected)(struct tcp_conn *conn, void *ctx);
	/* New in-order bytes are readable, or the peer's FIN arrived (tcp_rx_eof()). */
	void (*readable)(struct tcp_conn *conn, void *ctx);
	/* Send space grew after having been short (tcp_write() accepted less than asked). */
	void (*writable)(struct tcp_conn *conn, void *ctx);
	/* The conn is gone for the app: err 0 after an orderly close in both directions
	 * (our FIN acked in LAST_ACK, or 2 MSL over in TIME_WAIT for an app that kept
	 * the conn to read its last bytes: it should tcp_close() at end of stream),
	 * -ECONNRESET (RST received), -ETIMEDOUT (retransmission, keep-alive, idle or
	 * handshake timeout), -ECONNREFUSED (active open answered with RST). The pointer
	 * is invalid once this returns. Not called after tcp_close()/tcp_abort(). */
	void (*closed)(struct tcp_conn *conn, void *ctx, int err);
};

/* A borrowed slice of received, in-order stream bytes, still in its mbuf. */
struct tcp_rx_seg {
	const uint8_t *data; /* first unread byte */
	uint32_t len;	     /* bytes */
};

/* Asked of the embedder for an active open: does the reply to this 4-tuple land on
 * this worker's RX queue (RSS reta lookup or software dispatch hash)? Ports host
 * order, addresses network order. */
typedef bool(tcp_port_ok_fn)(void *arg, uint32_t saddr_be, uint32_t daddr_be,
			     uint16_t sport, uint16_t dport);

/* A listening socket (slot of tcp_stack.listeners). */
struct tcp_listener {
	bool used;
	uint32_t addr_be;	 /* local address, network order; 0 = any */
	uint16_t port;		 /* local port, host order */
	uint32_t max_conns;	 /* connections (all states) allowed at once */
	uint32_t nconns;	 /* connections it owns now, SYN_RCVD included (not TIME_WAIT) */
	uint32_t nsynrcvd;	 /* of which SYN_RCVD (the backlog) */
	uint32_t syn_backlog;	 /* SYN_RCVD allowed before cookies */
	struct tcp_ops ops;
	void *ctx;		 /* passed to accepted() */
};

/*
 * The per-lcore TCP stack. Embed it in the lcore context; tcp_stack_init() sizes the
 * pools. All fields are lcore-local (single writer); counters are read by others.
 */
struct tcp_stack {
	/* lcore-local, read-mostly */
	struct tcp_cfg cfg;
	struct rte_mempool *pool;   /* mbufs for the segments we build */
	void *owner;		    /* embedder's context (the lcore) */
	tcp_port_ok_fn *port_ok;    /* may be NULL: every port is fine */
	void *port_ok_arg;
	uint64_t flow_seed;	    /* XXH3 seed of the flow table (random at init) */
	uint8_t isn_secret[32];	    /* RFC 6528 ISN secret */
	uint8_t cookie_secret[32];  /* RFC 4987 SYN cookie secret */
	uint64_t clock_base_ns;	    /* our TS clock = (now - base) / 1 ms */

	/* lcore-local, hot */
	uint64_t now_ns;	    /* clock of the last input/timers call */
	struct tcp_conn *conns;	    /* cfg.max_conns objects */
	uint32_t *buckets;	    /* flow table heads (conn index + 1; 0 = empty) */
	uint32_t bucket_mask;	    /* buckets - 1 (power of two) */
	uint32_t free_head;	    /* free conn list (index + 1; 0 = empty) */
	uint32_t nconns;	    /* conns in use */
	uint32_t tw_head;	    /* TIME_WAIT conns, oldest first (index + 1; 0 = none) */
	uint32_t tw_tail;
	uint32_t ntime_wait;	    /* of nconns, those in TIME_WAIT (nothing left to deliver) */
	uint16_t next_port;	    /* active-open port cursor (host order) */
	struct tcp_listener listeners[TCP_LISTENERS_MAX];
	struct tw_wheel wheel;	    /* every timer of every conn of this stack */
	struct tcp_counters ctr;
};

#endif /* TWOSPEED_TCP_T_H */
