/* SPDX-License-Identifier: proprietary */
/*
 * Per-core TCP stack: the seams with the IPv4 layer and the stream API for upper
 * layers (HTTP, later TLS). See README.md for the RFCs implemented.
 *
 * Conventions: addresses are IPv4 in network byte order (`_be`), ports in host
 * order, times in ns of the caller's monotonic clock (TSC-derived in production,
 * simulated in tests). Everything here runs on the lcore that owns the stack, except
 * tcp_stack_init()/tcp_stack_fini() and the config table (init path).
 */
#ifndef TWOSPEED_TCP_H
#define TWOSPEED_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp-t.h"
#include "tsconf-t.h"

/* ---- configuration (init path) ---- */

/* The [tcp] section: register with tsconf_register(c, "tcp", tcp_conf_keys,
 * tcp_conf_nkeys, &cfg, ...). tx/rx_cksum_offload are not in the file. */
extern const struct tsconf_key tcp_conf_keys[];
extern const size_t tcp_conf_nkeys;

/* Writes the built-in defaults into cfg (same values as the config table). */
void tcp_cfg_defaults(struct tcp_cfg *cfg);

/*
 * Sizes and allocates the stack's pools on NUMA socket `socket` (rte_zmalloc_socket,
 * so EAL must be up; --no-huge is fine) and seeds the flow-hash, ISN and cookie
 * secrets from rte_rand(). pool provides the mbufs of the segments we build (data
 * room >= RTE_PKTMBUF_HEADROOM + 60 + mss, headroom >= 64). cfg comes from
 * tcp_cfg_defaults() or the config table, with tx/rx_cksum_offload set by the
 * embedder; ts must be 64-byte aligned (its counters are). Returns 0, -EINVAL (bad
 * cfg or pool), -ENOMEM. Init path.
 */
int tcp_stack_init(struct tcp_stack *ts, const struct tcp_cfg *cfg, struct rte_mempool *pool,
		   int socket, uint64_t now_ns, void *owner);

/* Test hook: replace the secrets with ones derived from seed, so ISNs, cookies and
 * the flow hash are reproducible. Call right after tcp_stack_init(). */
void tcp_stack_set_seed(struct tcp_stack *ts, uint64_t seed);

/* Frees every conn (without emitting anything: call tcp_shutdown_all() first for a
 * graceful stop), queued mbufs and the pools. Safe on a zeroed stack. Init path. */
void tcp_stack_fini(struct tcp_stack *ts);

/* Sends RST on every conn and frees them (closed upcalls with -ECONNRESET), and
 * closes every listener. For SIGTERM handling. */
void tcp_abort_all(struct tcp_stack *ts);

/* Set the active-open port filter (see tcp_port_ok_fn). NULL: any port. */
void tcp_set_port_filter(struct tcp_stack *ts, tcp_port_ok_fn *fn, void *arg);

/* ---- seams with IPv4 (fast path) ---- */

/*
 * Handle one received segment. Consumes m: data starts at the TCP header, pkt_len is
 * exactly the TCP segment (IP padding trimmed), the IPv4 header checksum is already
 * checked; the TCP checksum is checked here (honouring RX offload flags in
 * m->ol_flags when cfg.rx_cksum_offload). saddr_be is the peer, daddr_be us.
 */
void tcp_input(struct tcp_stack *ts, struct rte_mbuf *m, uint32_t saddr_be,
	       uint32_t daddr_be, uint64_t now_ns);

/*
 * Provided by the embedder, not by this module (link-time seam): send one segment
 * from saddr_be (us) to daddr_be. Consumes m in every case: data starts at the TCP
 * header with the checksum complete (software), or with the pseudo-header sum set
 * and RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV4 in ol_flags (l4_len set) when
 * ts->cfg.tx_cksum_offload; headroom >= 64 bytes for IP + Ethernet. Returns 0 or a
 * negative errno (counted as TCP_C_TX_EMIT_FAIL; TCP recovers by retransmitting).
 */
int tcp_emit(struct tcp_stack *ts, struct rte_mbuf *m, uint32_t saddr_be, uint32_t daddr_be);

/* Advance the stack's timer wheel to now_ns and run due timers (bounded work per
 * call; call it every poll loop iteration). Fast path. */
void tcp_timers(struct tcp_stack *ts, uint64_t now_ns);

/* ---- listeners ---- */

/*
 * Listen on addr_be (0 = any local address) : port. max_conns bounds the conns the
 * listener owns at once (0: cfg.listen_max_conns); over it a SYN is answered with RST
 * and counted. ops/lctx are copied/kept for every conn it accepts. Returns the
 * listener, or NULL with no free slot, a port already listened on, or bad args.
 */
struct tcp_listener *tcp_listen(struct tcp_stack *ts, uint32_t addr_be, uint16_t port,
				uint32_t max_conns, const struct tcp_ops *ops, void *lctx);

/* Stop listening. Established conns stay; half-open ones are reset. */
void tcp_unlisten(struct tcp_stack *ts, struct tcp_listener *l);

/* ---- active open ---- */

/*
 * Open a connection from saddr_be to daddr_be:dport, with a local port from
 * cfg.local_port_min..max that is free for this 4-tuple and accepted by the port
 * filter (so replies land on this worker). Sends the SYN now. On success *out is the
 * conn (state SYN_SENT; connected() or closed() follows) and 0 is returned; errors:
 * -EADDRNOTAVAIL (no usable port), -ENOBUFS (conn pool empty), -EINVAL.
 */
int tcp_connect(struct tcp_stack *ts, uint32_t saddr_be, uint32_t daddr_be, uint16_t dport,
		const struct tcp_ops *ops, void *ctx, uint64_t now_ns, struct tcp_conn **out);

/* ---- stream API (fast path; conn must be live: not after closed()/close/abort) ---- */

void tcp_set_ctx(struct tcp_conn *conn, void *ctx);
void *tcp_get_ctx(const struct tcp_conn *conn);
enum tcp_state tcp_conn_state(const struct tcp_conn *conn);
/* The 4-tuple; any pointer may be NULL. l = local, r = remote. */
void tcp_conn_tuple(const struct tcp_conn *conn, uint32_t *laddr_be, uint16_t *lport,
		    uint32_t *raddr_be, uint16_t *rport);

/* In-order bytes received and not consumed yet. */
uint32_t tcp_rx_avail(const struct tcp_conn *conn);
/* True when the peer's FIN has been received and every byte before it is consumed
 * or visible in tcp_rx_avail() (no more bytes will come). */
bool tcp_rx_eof(const struct tcp_conn *conn);

/*
 * Borrow up to max slices of the readable bytes, in order, still in their mbufs
 * (zero copy). Returns the number of slices filled. The slices stay valid until the
 * next tcp_consume() or until control returns to the poll loop, whichever is first.
 */
unsigned int tcp_peek(const struct tcp_conn *conn, struct tcp_rx_seg *segs, unsigned int max);

/*
 * Mark n readable bytes consumed (n <= tcp_rx_avail()). Frees the mbufs wholly
 * consumed and opens the receive window, sending a window update when it grew
 * enough (RFC 9293 3.8.6.2.2 receiver SWS avoidance). Returns 0 or -EINVAL.
 */
int tcp_consume(struct tcp_stack *ts, struct tcp_conn *conn, uint32_t n);

/* Copy up to n readable bytes into buf and consume them; returns bytes copied. */
uint32_t tcp_read(struct tcp_stack *ts, struct tcp_conn *conn, void *buf, uint32_t n);

/* Bytes tcp_write() would accept now (send buffer space). */
uint32_t tcp_send_space(const struct tcp_conn *conn);

/*
 * Queue up to len bytes for sending (copied into mbufs from the stack's pool) and
 * send what the windows allow. Returns the bytes accepted (0..len; less than len when
 * the send buffer is full or mbufs ran out: writable() follows when space opens), or
 * -EPIPE after tcp_shutdown()/close or once the conn is closing, -ENOTCONN before
 * the handshake completed.
 */
int32_t tcp_write(struct tcp_stack *ts, struct tcp_conn *conn, const void *buf, uint32_t len);

/* Half-close: a FIN follows the queued bytes (RFC 9293 3.10.4). Reading goes on.
 * Returns 0, or -ENOTCONN when not synchronized (the conn is then dropped). */
int tcp_shutdown(struct tcp_stack *ts, struct tcp_conn *conn);

/*
 * The app is done with conn: shutdown the sending side (queued bytes still go out)
 * and detach the app; no upcall follows and the pointer is invalid on return. Bytes
 * received afterwards are answered with RST (RFC 9293 3.10.7.4 / RFC 2525 2.17).
 */
void tcp_close(struct tcp_stack *ts, struct tcp_conn *conn);

/* Send RST and free conn now (RFC 9293 3.10.5 ABORT). No upcall; pointer invalid. */
void tcp_abort(struct tcp_stack *ts, struct tcp_conn *conn);

/* ---- counters ---- */

/* Names of the counters, indexed by enum tcp_ctr ("rx_segs", "drop_paws", ...). */
extern const char *const tcp_counter_names[TCP_C_COUNT];

static inline const uint64_t *tcp_counters(const struct tcp_stack *ts)
{
	return ts->ctr.v;
}

#endif /* TWOSPEED_TCP_H */
