/* SPDX-License-Identifier: proprietary */
/*
 * Port setup (init path) and per-worker RX/TX (fast path). See README.md.
 *
 * Init: port_conf_register() for the [port] section, then port_setup() after
 * rte_eal_init(); port_close() at exit. Fast path, on the worker's own lcore only:
 * port_rx() / port_tx() / port_tx_flush().
 */
#ifndef TWOSPEED_PORT_H
#define TWOSPEED_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port-t.h"
#include "tsconf-t.h"

struct tsconf;

/* ---- init path ---- */

/* The [port] keys; registered by port_conf_register(). */
extern const struct tsconf_key port_conf_keys[];
extern const size_t port_conf_nkeys;

/* Registers [port] against c with conf as the settings struct (defaults written). */
int port_conf_register(struct tsconf *c, struct port_conf *conf, char *err, size_t errlen);

/*
 * Configures and starts ethdev conf->port_id for nworkers workers running on
 * lcore_ids[0..nworkers): one per-worker mbuf pool on the lcore's socket, one TX
 * queue per worker (when the port has fewer, the extra workers forward their frames
 * over an SP/SC ring to the worker owning queue i % queues), and RX either by RSS (one queue per
 * worker, when the port offers RSS for TCP/IPv4 and enough queues) or by software dispatch
 * (min(nworkers, queues offered) RX queues whose pollers hash flows to their owners over SP/SC
 * rings). Checksum offloads are enabled when offered and conf->offloads. Records MAC, MTU, RSS key
 * and RETA. Returns 0 or -errno with a reason in err; on failure nothing is left allocated (the
 * ethdev may stay configured). Init path.
 */
int port_setup(struct port *p, const struct port_conf *conf, uint16_t nworkers,
	       const unsigned int *lcore_ids, char *err, size_t errlen);

/* Stops and closes the ethdev, frees the TX buffers' frames, rings and pools. Safe on a
 * port whose setup failed or that was zeroed. Init path. */
void port_close(struct port *p);

/* One line about the port (driver, mode, queues, offloads) for the start-up log. */
void port_describe(const struct port *p, char *buf, size_t len);

/* Names of the port counters, indexed by enum port_ctr. */
extern const char *const port_ctr_names[PORT_C_COUNT];

/* ---- fast path (the worker's own lcore) ---- */

/*
 * Receives up to n (<= PORT_BURST) frames owned by this worker into pkts: first the
 * frames other workers dispatched to it, then its own RX queue (if it polls one). In
 * PORT_MODE_SW (and PORT_MODE_RSS with rss_verify) frames of flows owned by another
 * worker are handed over (and counted, or dropped and counted when that ring is full). Returns the
 * frames now owned by the caller. Fast path.
 */
uint16_t port_rx(struct port_worker *pw, struct rte_mbuf **pkts, uint16_t n);

/* Queues one frame for transmission. Consumes m: when the buffer stays full after a
 * flush the frame is dropped and counted. Fast path. */
void port_tx(struct port_txq *q, struct rte_mbuf *m);

/* Hands buffered frames (and those forwarded by workers without a TX queue) to
 * rte_eth_tx_burst, or to the forwarding ring; the ones not accepted stay buffered,
 * in order. Returns frames still buffered. Fast path. */
uint16_t port_tx_flush(struct port_txq *q);

/*
 * Worker that receives a TCP/UDP IPv4 packet with these header fields (addresses
 * network order, ports host order), by the port's RSS key and RETA or the dispatch
 * hash: what an active open asks to make its replies land on its own worker.
 */
uint16_t port_flow_owner(const struct port *p, uint32_t src_be, uint32_t dst_be, uint16_t sport,
			 uint16_t dport);

#endif /* TWOSPEED_PORT_H */
