/* SPDX-License-Identifier: proprietary */
/*
 * twospeed-dataplane: the per-lcore context and the plain HTTP/1.1 listener (types).
 *
 * One struct dp_lcore per worker lcore, allocated on its socket at start-up. It
 * embeds the lcore's network layer, TCP stack, HTTP sessions, timer wheel and
 * counters; after start-up only that lcore writes it. The one exception is the
 * counter blocks, which the printing lcore reads (single writer, u64 reads).
 */
#ifndef TWOSPEED_DP_T_H
#define TWOSPEED_DP_T_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "h1-t.h"
#include "net-t.h"
#include "port-t.h"
#include "tcp-t.h"
#include "tw-t.h"

/* The [dataplane] section: the poll loop. */
struct dp_conf {
	uint64_t idle_pause_ns;	    /* idle this long (ns): spin with rte_pause() */
	uint64_t idle_sleep_ns;	    /* idle this long (ns): start sleeping */
	uint64_t idle_sleep_max_ns; /* longest sleep of an idle worker, ns (0: never sleep) */
	uint64_t drain_timeout_ns;  /* at SIGTERM, wait this long for connections to close */
};

/* The [http] section: the plain HTTP/1.1 listener (GET /healthz, POST /echo). */
struct dp_http_conf {
	uint64_t port;		  /* TCP port, host order; 0 disables the listener */
	uint64_t max_conns;	  /* sessions per worker (allocated at start); over it: 503 */
	uint64_t max_body;	  /* largest request body accepted, bytes (413 above) */
	uint64_t head_max;	  /* largest request head, bytes (431 above) */
	uint64_t idle_timeout_ns; /* a session without input for this long is closed (408
				     when a request was started) */
};

/* Counters of the app and its HTTP listener; names in dp_ctr_names[]. */
enum dp_ctr {
	DP_C_LOOPS = 0,	       /* poll-loop iterations */
	DP_C_RX_BURSTS,	       /* iterations that received at least one frame */
	DP_C_IDLE_SLEEPS,      /* sleeps of the idle back-off */
	DP_C_BUSY_CYCLES,      /* TSC cycles spent in iterations that received or sent frames */
	DP_C_TX_EMIT_FAIL,     /* tcp_emit: net_ip_output refused the segment */
	DP_C_HTTP_ACCEPTED,    /* connections given a session */
	DP_C_HTTP_NO_SESSION,  /* connections answered 503: session pool empty */
	DP_C_HTTP_REQUESTS,    /* request heads parsed */
	DP_C_HTTP_HEALTHZ,     /* GET/HEAD /healthz */
	DP_C_HTTP_ECHO,	       /* POST /echo */
	DP_C_HTTP_ECHO_BYTES,  /* body bytes echoed */
	DP_C_HTTP_NOT_FOUND,   /* 404 */
	DP_C_HTTP_BAD_METHOD,  /* 405 */
	DP_C_HTTP_CONTINUE,    /* 100 Continue sent */
	DP_C_HTTP_PARSE_ERROR, /* requests refused by the parser (4xx/5xx, then close) */
	DP_C_HTTP_RESP_2XX,    /* responses by class */
	DP_C_HTTP_RESP_4XX,
	DP_C_HTTP_RESP_5XX,
	DP_C_HTTP_TIMEOUT_408, /* idle timeout with a request started: 408 and close */
	DP_C_HTTP_IDLE_CLOSE,  /* idle timeout between requests: close */
	DP_C_HTTP_PEER_CLOSED, /* sessions ended by the peer's FIN */
	DP_C_HTTP_CONN_LOST,   /* sessions ended by reset or TCP timeout */
	DP_C_HTTP_CLOSED,      /* sessions freed */
	DP_C_HTTP_TX_BLOCKED,  /* input left unread because the send buffer was full */
	DP_C_HTTP_SHORT_WRITE, /* tcp_write took fewer bytes than needed: conn aborted */
	/* responses by status, each code this listener can send; others in _OTHER */
	DP_C_HTTP_STATUS_200,
	DP_C_HTTP_STATUS_400,
	DP_C_HTTP_STATUS_404,
	DP_C_HTTP_STATUS_405,
	DP_C_HTTP_STATUS_408,
	DP_C_HTTP_STATUS_413,
	DP_C_HTTP_STATUS_414,
	DP_C_HTTP_STATUS_417,
	DP_C_HTTP_STATUS_431,
	DP_C_HTTP_STATUS_500,
	DP_C_HTTP_STATUS_501,
	DP_C_HTTP_STATUS_503,
	DP_C_HTTP_STATUS_505,
	DP_C_HTTP_STATUS_OTHER,
	DP_C_COUNT,
};

/* Parser errors are counted by kind, indexed by -rc (H1_E_SYNTAX .. H1_E_STATE). */
#define DP_H1_ERR_MAX 19

struct dp_counters {
	_Alignas(64) uint64_t v[DP_C_COUNT];
	uint64_t h1_err[DP_H1_ERR_MAX]; /* names from h1_rc_name(-i) */
};

/* What the current request is being answered with (decided at its head). */
enum dp_route {
	DP_ROUTE_NONE = 0,
	DP_ROUTE_HEALTHZ = 1,
	DP_ROUTE_ECHO = 2,
	DP_ROUTE_NOT_FOUND = 3,
	DP_ROUTE_BAD_METHOD = 4,
};

struct dp_lcore;

/* Process-wide control, written by signal handlers, read by every worker. */
struct dp_ctl {
	atomic_int stop;       /* SIGINT/SIGTERM: leave the poll loops */
	atomic_int dump;       /* SIGUSR1: worker 0 prints the counters */
	struct dp_lcore **lcs; /* every worker's context, for the counter dump */
	uint16_t nworkers;
};

/* One HTTP connection. Pool objects of a worker; head buffers beside them. */
struct dp_session {
	struct dp_lcore *lc;
	struct tcp_conn *conn; /* NULL when the slot is free */
	struct tw_timer idle;  /* idle timeout */
	struct h1_parser parser;
	enum dp_route route;
	bool echo_chunked;     /* echoing with chunked framing (chunked request) */
	bool closing;	       /* FIN sent after the last response: lingering close */
	bool in_process;       /* re-entrancy guard for upcalls during our writes */
	bool blocked;	       /* input waits for send space (on lc's blocked list) */
	bool refused;	       /* lc->refused: the shared context of 503'd conns */
	uint32_t next_free;    /* free list (index + 1; 0 = end) */
	uint32_t bnext, bprev; /* blocked list links (index + 1; 0 = none) */
};

/* The per-lcore context. */
struct dp_lcore {
	/* read-mostly, set at start-up */
	uint16_t idx; /* worker index */
	unsigned int lcore_id;
	struct port_worker *pw;
	const struct dp_conf *conf;
	const struct dp_http_conf *http_conf;
	struct dp_ctl *ctl;
	struct h1_limits h1_lim;
	struct tcp_listener *listener;
	struct dp_session *sessions; /* http_conf->max_conns of them */
	struct dp_session refused;   /* context of connections refused with 503 */
	uint8_t *heads;		     /* their head buffers, head_size bytes each */
	uint32_t head_size;
	/* lcore-local, hot */
	uint64_t now_ns;
	uint32_t free_head;    /* free session list (index + 1; 0 = empty) */
	uint32_t nsessions;    /* in use */
	uint32_t blocked_head; /* sessions waiting for send space (index + 1) */
	uint64_t busy_ns;      /* clock of the last poll that had work */
	uint64_t sleep_ns;     /* current back-off sleep */
	struct tw_wheel wheel; /* HTTP idle timers */
	struct dp_counters ctr;
	struct net_lcore net;
	struct tcp_stack tcp;
};

#endif /* TWOSPEED_DP_T_H */
