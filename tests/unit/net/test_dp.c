/* SPDX-License-Identifier: proprietary */
/*
 * In-memory end-to-end tests of the dataplane app: a server worker (port, net, TCP,
 * the HTTP listener) and a client worker (port, net, TCP active opens) on two net_ring
 * ports wired back to back, both driven by dp_poll() from this one thread. The
 * client speaks raw bytes over tcp_connect()/tcp_write()/tcp_read(), so the tests
 * see exactly what the listener sends. EAL --no-huge --no-pci, no NIC.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "ut_eal.h"
#include "dp.h"
#include "net.h"
#include "port.h"
#include "tcp.h"
#include "tsconf.h"

#define SERVER_ADDR "198.18.0.1/24"
#define CLIENT_ADDR "198.18.0.2/24"
#define RX_MAX (1u << 20)

struct side {
	struct port *port;
	struct dp_lcore *lc;
	struct dp_lcore *lc2; /* second worker of a two-worker side, else NULL */
	struct net_shared sh;
	struct net_conf net;
	struct tcp_cfg tcp;
	struct dp_conf dp;
	struct dp_http_conf http;
};

static struct side srv, cli, srv2, cli2;
static struct dp_ctl ctl;
/* the pair the client helpers talk through (suite app: srv/cli, app-2: srv2/cli2) */
static struct side *S = &srv, *C = &cli;

/* One client connection's view. */
struct client {
	struct tcp_conn *conn;
	bool connected, closed;
	int err;
	uint8_t *rx;
	uint32_t rx_len;
};

static void *zalloc64(size_t size)
{
	size_t n = (size + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, n);

	if (p != NULL)
		memset(p, 0, n);
	return p;
}

static struct dp_lcore *lcore_new(struct side *s, uint16_t w)
{
	struct dp_lcore *lc = zalloc64(sizeof(*lc));

	if (lc == NULL)
		return NULL;
	lc->idx = w;
	lc->pw = &s->port->w[w];
	lc->conf = &s->dp;
	lc->http_conf = &s->http;
	lc->ctl = &ctl;
	lc->lcore_id = rte_lcore_id();
	if (net_lcore_init(&lc->net, &s->net, lc->pw, s->sh.nworkers > 1 ? &s->sh : NULL,
			   dp_now_ns()) != 0 ||
	    tcp_stack_init(&lc->tcp, &s->tcp, lc->pw->pool, 0, dp_now_ns(), lc) != 0 ||
	    dp_http_init(lc, 0, dp_now_ns()) != 0)
		return NULL;
	return lc;
}

static int side_init(struct side *s, const char *name, struct rte_ring *rx, struct rte_ring *tx,
		     const char *addr, uint64_t http_port, uint64_t max_conns, uint64_t idle_ns,
		     uint16_t nworkers)
{
	struct tsconf *c = tsconf_create();
	struct port_conf pc;
	unsigned int lc[2] = {rte_lcore_id(), rte_lcore_id()};
	char err[256];
	int id;

	if (c == NULL || port_conf_register(c, &pc, err, sizeof(err)) != 0 ||
	    net_conf_register(c, &s->net, err, sizeof(err)) != 0 ||
	    tsconf_register(c, "tcp", tcp_conf_keys, tcp_conf_nkeys, &s->tcp, err, sizeof(err)) !=
		    0 ||
	    dp_conf_register(c, &s->dp, &s->http, err, sizeof(err)) != 0)
		return -1;
	tsconf_destroy(c);
	snprintf(s->net.address, sizeof(s->net.address), "%s", addr);
	s->net.garp = false;
	if (net_conf_resolve(&s->net, err, sizeof(err)) != 0)
		return -1;
	s->http.port = http_port;
	s->http.max_conns = max_conns;
	s->http.idle_timeout_ns = idle_ns;
	s->dp.drain_timeout_ns = 0;
	s->tcp.max_conns = 64;
	id = rte_eth_from_rings(name, &rx, 1, &tx, 1, (unsigned int)rte_socket_id());
	if (id < 0)
		return -1;
	pc.port_id = (uint64_t)id;
	pc.mbufs = 4095;
	pc.mbuf_cache = 32;
	s->port = zalloc64(sizeof(*s->port));
	if (s->port == NULL || port_setup(s->port, &pc, nworkers, lc, err, sizeof(err)) != 0 ||
	    net_shared_create(&s->sh, nworkers, err, sizeof(err)) != 0)
		return -1;
	s->lc = lcore_new(s, 0);
	if (s->lc == NULL)
		return -1;
	if (nworkers == 2) {
		s->lc2 = lcore_new(s, 1);
		if (s->lc2 == NULL)
			return -1;
	}
	return 0;
}

static int suite_init(void)
{
	struct rte_ring *ab = rte_ring_create("dp_ab", 1024, SOCKET_ID_ANY, 0);
	struct rte_ring *ba = rte_ring_create("dp_ba", 1024, SOCKET_ID_ANY, 0);

	dp_clock_init();
	if (ab == NULL || ba == NULL)
		return -1;
	/* server max 2 sessions, 200 ms idle timeout; the client serves nothing */
	if (side_init(&srv, "dp_srv", ba, ab, SERVER_ADDR, 80, 2, 200 * 1000 * 1000, 1) != 0 ||
	    side_init(&cli, "dp_cli", ab, ba, CLIENT_ADDR, 0, 1, 60ULL * 1000000000, 1) != 0)
		return -1;
	ctl.nworkers = 1;
	S = &srv;
	C = &cli;
	return 0;
}

/* Suite app-2: a server with two workers on a port with one RX and one TX ring
 * (software dispatch in, TX forwarding out), against its own client. The dispatch
 * and TCP seeds are fixed so which flow lands where is reproducible. */
static int suite2_init(void)
{
	struct rte_ring *ab = rte_ring_create("dp_ab2", 1024, SOCKET_ID_ANY, 0);
	struct rte_ring *ba = rte_ring_create("dp_ba2", 1024, SOCKET_ID_ANY, 0);

	if (ab == NULL || ba == NULL ||
	    side_init(&srv2, "dp_srv2", ba, ab, "198.18.0.3/24", 80, 16, 60ULL * 1000000000, 2) !=
		    0 ||
	    side_init(&cli2, "dp_cli2", ab, ba, "198.18.0.4/24", 0, 1, 60ULL * 1000000000, 1) != 0)
		return -1;
	srv2.port->dispatch_seed = 0x5eed;
	tcp_stack_set_seed(&cli2.lc->tcp, 7);
	S = &srv2;
	C = &cli2;
	return 0;
}

static void side_fini(struct side *s)
{
	struct dp_lcore *lcs[2] = {s->lc, s->lc2};

	for (int i = 0; i < 2; i++) {
		if (lcs[i] == NULL)
			continue;
		tcp_abort_all(&lcs[i]->tcp);
		dp_http_fini(lcs[i]);
		tcp_stack_fini(&lcs[i]->tcp);
		net_lcore_fini(&lcs[i]->net);
	}
	port_close(s->port);
	net_shared_free(&s->sh);
}

static int suite_fini(void)
{
	side_fini(&srv);
	side_fini(&cli);
	return 0;
}

static int suite2_fini(void)
{
	side_fini(&srv2);
	side_fini(&cli2);
	return 0;
}

static void poll_both(void)
{
	dp_poll(S->lc);
	if (S->lc2 != NULL)
		dp_poll(S->lc2);
	dp_poll(C->lc);
}

/* ---- the client ---- */

static void cl_connected(struct tcp_conn *conn, void *ctx)
{
	(void)conn;
	((struct client *)ctx)->connected = true;
}

static void cl_closed(struct tcp_conn *conn, void *ctx, int err)
{
	struct client *c = ctx;

	(void)conn;
	c->closed = true;
	c->err = err;
	c->conn = NULL;
}

static const struct tcp_ops cl_ops = {.connected = cl_connected, .closed = cl_closed};

static void cl_read(struct client *c)
{
	if (c->conn == NULL)
		return;
	while (tcp_rx_avail(c->conn) > 0 && c->rx_len < RX_MAX)
		c->rx_len += tcp_read(&C->lc->tcp, c->conn, c->rx + c->rx_len, RX_MAX - c->rx_len);
}

/* Polls both sides until pred(c) holds or `limit` iterations passed; reads for the
 * client when read is true. Returns whether pred held. */
static bool run_until(struct client *c, bool (*pred)(const struct client *), bool read,
		      unsigned long limit)
{
	for (unsigned long i = 0; i < limit; i++) {
		poll_both();
		if (read)
			cl_read(c);
		if (pred(c))
			return true;
	}
	return false;
}

static bool is_connected(const struct client *c)
{
	return c->connected || c->closed;
}

static bool is_closed(const struct client *c)
{
	return c->closed || (c->conn != NULL && tcp_rx_eof(c->conn) && tcp_rx_avail(c->conn) == 0);
}

static uint32_t want_len;

static bool has_want(const struct client *c)
{
	return c->rx_len >= want_len;
}

static bool client_open(struct client *c)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->rx = malloc(RX_MAX);
	rc = tcp_connect(&C->lc->tcp, C->net.addr, S->net.addr, 80, &cl_ops, c, dp_now_ns(),
			 &c->conn);
	return c->rx != NULL && rc == 0 && run_until(c, is_connected, false, 200000) &&
	       c->connected;
}

/* Writes all of buf, polling while the send buffer is full. With read, the client
 * reads only when its own write is stuck: a client that reads late, so the server
 * meets a full send buffer (back-pressure) before the client drains it. */
static bool client_send(struct client *c, const void *buf, uint32_t len, bool read)
{
	uint32_t done = 0;

	for (unsigned long i = 0; i < 2000000 && done < len && c->conn != NULL; i++) {
		int32_t n =
			tcp_write(&C->lc->tcp, c->conn, (const uint8_t *)buf + done, len - done);

		if (n < 0)
			return false;
		done += (uint32_t)n;
		poll_both();
		if (read && n == 0)
			cl_read(c);
	}
	return done == len;
}

static void client_done(struct client *c)
{
	if (c->conn != NULL)
		tcp_abort(&C->lc->tcp, c->conn);
	c->conn = NULL;
	free(c->rx);
	c->rx = NULL;
	/* let the server see the RST and free its session */
	for (int i = 0; i < 2000; i++)
		poll_both();
}

static bool rx_has(const struct client *c, const char *s)
{
	size_t n = strlen(s);

	for (uint32_t i = 0; i + n <= c->rx_len; i++)
		if (memcmp(c->rx + i, s, n) == 0)
			return true;
	return false;
}

/* ---- tests ---- */

static void test_healthz(void)
{
	struct client c;
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
	static const char resp_start[] = "HTTP/1.1 200 OK\r\n";

	CU_ASSERT_FATAL(client_open(&c));
	CU_ASSERT(client_send(&c, req, sizeof(req) - 1, true));
	want_len = 40;
	CU_ASSERT(run_until(&c, has_want, true, 200000));
	CU_ASSERT(c.rx_len > sizeof(resp_start) &&
		  memcmp(c.rx, resp_start, sizeof(resp_start) - 1) == 0);
	CU_ASSERT(c.rx_len >= 3 && memcmp(c.rx + c.rx_len - 3, "ok\n", 3) == 0);
	CU_ASSERT(rx_has(&c, "Content-Length: 3\r\n"));
	/* keep-alive: the connection stays open */
	CU_ASSERT_FALSE(c.closed);
	client_done(&c);
	CU_ASSERT(srv.lc->ctr.v[DP_C_HTTP_HEALTHZ] == 1);
}

static void test_pipelined(void)
{
	struct client c;
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
				  "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"
				  "DELETE /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	const uint8_t *p404, *p405;
	/* per-status counters, as deltas: earlier tests used the same server */
	const uint64_t *v = srv.lc->ctr.v;
	uint64_t s200 = v[DP_C_HTTP_STATUS_200], s404 = v[DP_C_HTTP_STATUS_404];
	uint64_t s405 = v[DP_C_HTTP_STATUS_405], other = v[DP_C_HTTP_STATUS_OTHER];

	CU_ASSERT_FATAL(client_open(&c));
	CU_ASSERT(client_send(&c, req, sizeof(req) - 1, true));
	CU_ASSERT(run_until(&c, is_closed, true, 400000));
	cl_read(&c);
	p404 = memmem(c.rx, c.rx_len, "HTTP/1.1 404", 12);
	p405 = memmem(c.rx, c.rx_len, "HTTP/1.1 405", 12);
	CU_ASSERT(c.rx_len > 12 && memcmp(c.rx, "HTTP/1.1 200", 12) == 0);
	CU_ASSERT(p404 != NULL && p405 != NULL && p404 < p405);
	CU_ASSERT(rx_has(&c, "Allow: POST, PUT\r\n"));
	CU_ASSERT(rx_has(&c, "Connection: close\r\n"));
	CU_ASSERT(v[DP_C_HTTP_STATUS_200] == s200 + 1);
	CU_ASSERT(v[DP_C_HTTP_STATUS_404] == s404 + 1);
	CU_ASSERT(v[DP_C_HTTP_STATUS_405] == s405 + 1);
	CU_ASSERT(v[DP_C_HTTP_STATUS_OTHER] == other);
	client_done(&c);
}

/* A 600 KB body, more than the send and receive buffers: the listener stops parsing
 * while its send buffer is full and resumes as the client reads. */
static void echo_case(bool chunked)
{
	struct client c;
	const uint32_t len = 600 * 1024;
	uint8_t *body = malloc(len);
	char head[160];
	int hl;
	const uint8_t *start;

	CU_ASSERT_FATAL(body != NULL);
	for (uint32_t i = 0; i < len; i++)
		body[i] = (uint8_t)(i * 131 + (i >> 8));
	CU_ASSERT_FATAL(client_open(&c));
	if (chunked)
		hl = snprintf(
			head, sizeof(head),
			"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
	else
		hl = snprintf(head, sizeof(head),
			      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %u\r\n\r\n", len);
	CU_ASSERT(client_send(&c, head, (uint32_t)hl, true));
	if (chunked) {
		/* 60 chunks of 10 KiB */
		for (uint32_t off = 0; off < len; off += 10240) {
			char ch[16];
			int cl = snprintf(ch, sizeof(ch), "%x\r\n", 10240);

			CU_ASSERT(client_send(&c, ch, (uint32_t)cl, true));
			CU_ASSERT(client_send(&c, body + off, 10240, true));
			CU_ASSERT(client_send(&c, "\r\n", 2, true));
		}
		CU_ASSERT(client_send(&c, "0\r\n\r\n", 5, true));
	} else {
		CU_ASSERT(client_send(&c, body, len, true));
	}
	want_len = len;
	CU_ASSERT(run_until(&c, has_want, true, 2000000));
	start = memmem(c.rx, c.rx_len, "\r\n\r\n", 4);
	CU_ASSERT_FATAL(start != NULL);
	start += 4;
	if (!chunked) {
		CU_ASSERT(rx_has(&c, "Content-Length: 614400\r\n"));
		CU_ASSERT((uint32_t)(c.rx + c.rx_len - start) == len);
		CU_ASSERT(memcmp(start, body, len) == 0);
	} else {
		/* de-chunk the response and compare */
		uint8_t *out = malloc(len);
		uint32_t got = 0;
		const uint8_t *p = start, *end;
		bool ok = out != NULL, last = false;

		want_len = 0;
		for (int i = 0; i < 200000 && ok && !memmem(c.rx, c.rx_len, "\r\n0\r\n\r\n", 7);
		     i++) {
			poll_both();
			cl_read(&c);
		}
		end = c.rx + c.rx_len;
		while (ok && p < end && !last) {
			unsigned long n = strtoul((const char *)p, NULL, 16);
			const uint8_t *d = memmem(p, (size_t)(end - p), "\r\n", 2);

			ok = d != NULL && got + n <= len && d + 2 + n + 2 <= end;
			if (!ok)
				break;
			memcpy(out + got, d + 2, n);
			got += (uint32_t)n;
			last = n == 0;
			p = d + 2 + n + 2;
		}
		CU_ASSERT(ok && last);
		CU_ASSERT(got == len);
		CU_ASSERT(ok && memcmp(out, body, len) == 0);
		free(out);
	}
	CU_ASSERT(srv.lc->ctr.v[DP_C_HTTP_TX_BLOCKED] > 0);
	client_done(&c);
	free(body);
}

static void test_echo_length(void)
{
	echo_case(false);
}

static void test_echo_chunked(void)
{
	echo_case(true);
}

static void test_parse_error(void)
{
	struct client c;
	static const char req[] = "GET / HTTP/2.0\r\nHost: t\r\n\r\n";

	CU_ASSERT_FATAL(client_open(&c));
	CU_ASSERT(client_send(&c, req, sizeof(req) - 1, true));
	CU_ASSERT(run_until(&c, is_closed, true, 400000));
	cl_read(&c);
	CU_ASSERT(c.rx_len > 12 && memcmp(c.rx, "HTTP/1.1 505", 12) == 0);
	CU_ASSERT(srv.lc->ctr.h1_err[-H1_E_VERSION] == 1);
	client_done(&c);
}

/* Two sessions per worker: a third connection is answered 503 and closed. */
static void test_sessions_exhausted(void)
{
	struct client a, b, c;

	CU_ASSERT_FATAL(client_open(&a));
	CU_ASSERT_FATAL(client_open(&b));
	CU_ASSERT_FATAL(client_open(&c));
	/* the refused client sends its request anyway: it must still read the 503 (a
	 * lingering close, not a RST over its unread request) */
	CU_ASSERT(client_send(&c, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", 35, false));
	CU_ASSERT(run_until(&c, is_closed, true, 400000));
	cl_read(&c);
	CU_ASSERT(c.rx_len > 12 && memcmp(c.rx, "HTTP/1.1 503", 12) == 0);
	CU_ASSERT(c.err == 0);
	CU_ASSERT(srv.lc->ctr.v[DP_C_HTTP_NO_SESSION] == 1);
	CU_ASSERT(srv.lc->ctr.v[DP_C_HTTP_STATUS_503] == 1);
	client_done(&c);
	client_done(&b);
	client_done(&a);
	CU_ASSERT(srv.lc->nsessions == 0);
}

/* A request started and then silent: 408 after the idle timeout (200 ms). */
static void test_idle_408(void)
{
	struct client c;
	static const char req[] = "GET /healthz HTTP/1.1\r\nHo";
	uint64_t t0;

	CU_ASSERT_FATAL(client_open(&c));
	CU_ASSERT(client_send(&c, req, sizeof(req) - 1, true));
	t0 = dp_now_ns();
	while (!is_closed(&c) && dp_now_ns() - t0 < 3ULL * 1000000000) {
		poll_both();
		cl_read(&c);
	}
	cl_read(&c);
	CU_ASSERT(dp_now_ns() - t0 >= 150ULL * 1000000);
	CU_ASSERT(c.rx_len > 12 && memcmp(c.rx, "HTTP/1.1 408", 12) == 0);
	CU_ASSERT(srv.lc->ctr.v[DP_C_HTTP_TIMEOUT_408] == 1);
	CU_ASSERT(srv.lc->ctr.v[DP_C_HTTP_STATUS_408] == 1);
	client_done(&c);
}

/* 16 connections to a two-worker server: both workers serve some (dispatch), the
 * second one's frames leave through the first one's TX queue (forwarding), and the
 * second one learned the client's MAC from the first (ARP sharing). */
static void test_two_workers(void)
{
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
	uint32_t ok = 0;

	for (int i = 0; i < 16; i++) {
		struct client c;

		if (!client_open(&c))
			continue;
		if (client_send(&c, req, sizeof(req) - 1, true)) {
			want_len = 40;
			if (run_until(&c, has_want, true, 200000) && c.rx_len >= 3 &&
			    memcmp(c.rx + c.rx_len - 3, "ok\n", 3) == 0)
				ok++;
		}
		client_done(&c);
	}
	CU_ASSERT(ok == 16);
	CU_ASSERT(srv2.lc->ctr.v[DP_C_HTTP_HEALTHZ] + srv2.lc2->ctr.v[DP_C_HTTP_HEALTHZ] == 16);
	CU_ASSERT(srv2.lc->ctr.v[DP_C_HTTP_HEALTHZ] > 0);
	CU_ASSERT(srv2.lc2->ctr.v[DP_C_HTTP_HEALTHZ] > 0);
	CU_ASSERT(srv2.port->w[0].ctr.v[PORT_C_DISPATCH_OUT] > 0);
	CU_ASSERT(srv2.port->w[1].ctr.v[PORT_C_TX_FWD_OUT] > 0);
	CU_ASSERT(srv2.lc2->net.ctr.v[NET_C_ARP_SHARE_RX] > 0);
	CU_ASSERT(srv2.lc2->net.ctr.v[NET_C_ARP_REQ_TX] == 0);
}

int main(int argc, char **argv)
{
	CU_pSuite s;
	unsigned int fails;

	(void)argc;
	(void)argv;
	if (ut_eal_init("test_dp", "512", "ts_ut_dp") != 0)
		return 1;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("app", suite_init, suite_fini);
	if (s == NULL || !CU_add_test(s, "healthz", test_healthz) ||
	    !CU_add_test(s, "pipelined", test_pipelined) ||
	    !CU_add_test(s, "echo_length", test_echo_length) ||
	    !CU_add_test(s, "echo_chunked", test_echo_chunked) ||
	    !CU_add_test(s, "parse_error", test_parse_error) ||
	    !CU_add_test(s, "sessions_exhausted", test_sessions_exhausted) ||
	    !CU_add_test(s, "idle_408", test_idle_408)) {
		CU_cleanup_registry();
		return 1;
	}
	s = CU_add_suite("app-2workers", suite2_init, suite2_fini);
	if (s == NULL || !CU_add_test(s, "two_workers", test_two_workers)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed() +
		CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	rte_eal_cleanup();
	return fails == 0 ? 0 : 1;
}
