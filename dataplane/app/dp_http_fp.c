/* SPDX-License-Identifier: proprietary */
/*
 * The plain HTTP/1.1 listener on the TCP stream API (fast path): GET /healthz and
 * POST /echo (the request body streamed back as it arrives, never buffered whole).
 *
 * Back-pressure: input is only fed to the parser while the connection's send
 * buffer has room for what it can produce (a response head, or the echoed body
 * bytes plus chunk framing), so unread bytes stay in TCP's receive queue, the
 * window closes, and the client slows down; writable() resumes.
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>

#include "dp.h"
#include "h1.h"
#include "tcp.h"
#include "tw.h"

/* Send space kept free before parsing more: a response head or an error response,
 * and chunk framing around echoed bytes, always fit. */
#define DP_HTTP_RESERVE 1024u
/* Longest lingering close, ns. */
#define DP_HTTP_LINGER_NS (2ull * 1000 * 1000 * 1000)

static const char healthz_body[] = "ok\n";

static void session_process(struct dp_session *s);

static inline uint32_t sess_idx(const struct dp_session *s)
{
	return (uint32_t)(s - s->lc->sessions) + 1;
}

/*
 * Sessions whose input waits for send space. TCP's writable() only follows a short
 * tcp_write(), and we stop before writing short, so the poll loop looks at these
 * instead (dp_http_poll_blocked).
 */
static void block(struct dp_session *s)
{
	struct dp_lcore *lc = s->lc;

	if (s->blocked)
		return;
	s->blocked = true;
	s->bprev = 0;
	s->bnext = lc->blocked_head;
	if (lc->blocked_head != 0)
		lc->sessions[lc->blocked_head - 1].bprev = sess_idx(s);
	lc->blocked_head = sess_idx(s);
}

static void unblock(struct dp_session *s)
{
	struct dp_lcore *lc = s->lc;

	if (!s->blocked)
		return;
	if (s->bprev != 0)
		lc->sessions[s->bprev - 1].bnext = s->bnext;
	else
		lc->blocked_head = s->bnext;
	if (s->bnext != 0)
		lc->sessions[s->bnext - 1].bprev = s->bprev;
	s->blocked = false;
	s->bnext = s->bprev = 0;
}

static void session_free(struct dp_session *s)
{
	struct dp_lcore *lc = s->lc;

	unblock(s);
	tw_cancel(&lc->wheel, &s->idle);
	s->conn = NULL;
	s->next_free = lc->free_head;
	lc->free_head = (uint32_t)(s - lc->sessions) + 1;
	lc->nsessions--;
	lc->ctr.v[DP_C_HTTP_CLOSED]++;
}

/* The app is done: FIN after what is queued; no upcall follows. */
static void session_close(struct dp_session *s)
{
	tcp_close(&s->lc->tcp, s->conn);
	session_free(s);
}

static void idle_expired(struct tw_wheel *w, struct tw_timer *t);

/*
 * Lingering close (RFC 9112 9.6): after a response that ends the connection, send
 * FIN but keep reading and discarding until the peer closes or DP_HTTP_LINGER_NS
 * passes. Closing with unread input would answer it with RST, and a RST can destroy
 * the response before the client has read it.
 */
static void session_linger(struct dp_session *s)
{
	struct dp_lcore *lc = s->lc;

	s->closing = true;
	if (tcp_shutdown(&lc->tcp, s->conn) != 0) {
		/* not synchronized: TCP dropped the conn */
		s->conn = NULL;
		session_free(s);
		return;
	}
	tw_arm_ns(&lc->wheel, &s->idle, DP_HTTP_LINGER_NS, idle_expired);
}

static void session_abort(struct dp_session *s)
{
	tcp_abort(&s->lc->tcp, s->conn);
	session_free(s);
}

/* Writes all len bytes or aborts the connection (the caller checked the space, so a
 * short write means TCP ran out of mbufs). Returns false when the session is gone. */
static bool session_write(struct dp_session *s, const void *buf, size_t len)
{
	int32_t n = tcp_write(&s->lc->tcp, s->conn, buf, (uint32_t)len);

	if (n == (int32_t)len)
		return true;
	s->lc->ctr.v[DP_C_HTTP_SHORT_WRITE]++;
	session_abort(s);
	return false;
}

static void count_status(struct dp_lcore *lc, uint16_t status)
{
	enum dp_ctr by_code;

	switch (status) {
	case 200:
		by_code = DP_C_HTTP_STATUS_200;
		break;
	case 400:
		by_code = DP_C_HTTP_STATUS_400;
		break;
	case 404:
		by_code = DP_C_HTTP_STATUS_404;
		break;
	case 405:
		by_code = DP_C_HTTP_STATUS_405;
		break;
	case 408:
		by_code = DP_C_HTTP_STATUS_408;
		break;
	case 413:
		by_code = DP_C_HTTP_STATUS_413;
		break;
	case 414:
		by_code = DP_C_HTTP_STATUS_414;
		break;
	case 417:
		by_code = DP_C_HTTP_STATUS_417;
		break;
	case 431:
		by_code = DP_C_HTTP_STATUS_431;
		break;
	case 500:
		by_code = DP_C_HTTP_STATUS_500;
		break;
	case 501:
		by_code = DP_C_HTTP_STATUS_501;
		break;
	case 503:
		by_code = DP_C_HTTP_STATUS_503;
		break;
	case 505:
		by_code = DP_C_HTTP_STATUS_505;
		break;
	default:
		by_code = DP_C_HTTP_STATUS_OTHER;
		break;
	}
	lc->ctr.v[by_code]++;
	if (status >= 500)
		lc->ctr.v[DP_C_HTTP_RESP_5XX]++;
	else if (status >= 400)
		lc->ctr.v[DP_C_HTTP_RESP_4XX]++;
	else if (status >= 200)
		lc->ctr.v[DP_C_HTTP_RESP_2XX]++;
}

static enum h1_conn_hdr conn_hdr(const struct h1_request *req)
{
	if (!req->keep_alive)
		return H1_CONN_CLOSE;
	return req->version_minor == 0 ? H1_CONN_KEEP_ALIVE : H1_CONN_DEFAULT;
}

/* An error response, then a lingering close. Returns false (parse no more). */
static bool session_fail(struct dp_session *s, uint16_t status)
{
	uint8_t buf[256];
	ssize_t n = h1_write_error(buf, sizeof(buf), status, true);

	count_status(s->lc, status);
	if (n > 0 && !session_write(s, buf, (size_t)n))
		return false;
	session_linger(s);
	return false;
}

static bool str_is(const struct h1_str *v, const char *lit, size_t len)
{
	return v->len == len && memcmp(v->p, lit, len) == 0;
}

/* Path of the target without its query. */
static struct h1_str target_path(const struct h1_str *t)
{
	struct h1_str p = *t;
	const char *q = memchr(t->p, '?', t->len);

	if (q != NULL)
		p.len = (uint32_t)(q - t->p);
	return p;
}

/* A request head arrived: choose the answer, send 100 Continue and, for /echo, the
 * response head. Returns false when the session is gone. */
static bool on_head(struct dp_session *s)
{
	struct dp_lcore *lc = s->lc;
	const struct h1_request *req = h1_parser_request(&s->parser);
	struct h1_str path = target_path(&req->target);
	uint8_t buf[512];
	ssize_t n;

	lc->ctr.v[DP_C_HTTP_REQUESTS]++;
	if (str_is(&path, "/healthz", 8))
		s->route = req->method == H1_M_GET || req->method == H1_M_HEAD
				   ? DP_ROUTE_HEALTHZ
				   : DP_ROUTE_BAD_METHOD;
	else if (str_is(&path, "/echo", 5))
		s->route = req->method == H1_M_POST || req->method == H1_M_PUT
				   ? DP_ROUTE_ECHO
				   : DP_ROUTE_BAD_METHOD;
	else
		s->route = DP_ROUTE_NOT_FOUND;
	if (req->expect_continue) {
		/* RFC 9110 10.1.1: the body is read either way (echoed or discarded) */
		n = h1_write_continue(buf, sizeof(buf));
		if (n > 0 && !session_write(s, buf, (size_t)n))
			return false;
		lc->ctr.v[DP_C_HTTP_CONTINUE]++;
	}
	if (s->route != DP_ROUTE_ECHO)
		return true;
	lc->ctr.v[DP_C_HTTP_ECHO]++;
	{
		struct h1_response r = {
			.status = 200,
			.content_type = "application/octet-stream",
			.connection = conn_hdr(req),
		};

		s->echo_chunked = req->body_kind == H1_BODY_CHUNKED;
		r.framing = s->echo_chunked ? H1_FRAME_CHUNKED : H1_FRAME_LENGTH;
		r.content_length = req->body_kind == H1_BODY_LENGTH ? req->content_length : 0;
		n = h1_write_head(buf, sizeof(buf), &r);
		if (n < 0) {
			session_abort(s);
			return false;
		}
		count_status(lc, 200);
		return session_write(s, buf, (size_t)n);
	}
}

static bool on_body(struct dp_session *s, const uint8_t *data, size_t len)
{
	uint8_t hdr[H1_CHUNK_HDR_MAX];

	if (s->route != DP_ROUTE_ECHO || len == 0)
		return true; /* discarded */
	s->lc->ctr.v[DP_C_HTTP_ECHO_BYTES] += len;
	if (!s->echo_chunked)
		return session_write(s, data, len);
	{
		struct iovec iov[3];

		h1_chunk_iov(hdr, data, len, iov);
		return session_write(s, iov[0].iov_base, iov[0].iov_len) &&
		       session_write(s, iov[1].iov_base, iov[1].iov_len) &&
		       session_write(s, iov[2].iov_base, iov[2].iov_len);
	}
}

/* The request is complete: finish its response; close when it said so. Returns false
 * when the session is gone. */
static bool on_done(struct dp_session *s)
{
	struct dp_lcore *lc = s->lc;
	const struct h1_request *req = h1_parser_request(&s->parser);
	struct h1_response r = {.connection = conn_hdr(req)};
	static const struct h1_wheader allow_get = {"Allow", "GET, HEAD"};
	static const struct h1_wheader allow_post = {"Allow", "POST, PUT"};
	const struct h1_str path = target_path(&req->target);
	uint8_t buf[512];
	ssize_t n = 0;

	switch (s->route) {
	case DP_ROUTE_HEALTHZ:
		lc->ctr.v[DP_C_HTTP_HEALTHZ]++;
		r.status = 200;
		r.content_type = "text/plain";
		if (req->method == H1_M_HEAD) {
			r.content_length = sizeof(healthz_body) - 1;
			n = h1_write_head(buf, sizeof(buf), &r);
		} else {
			n = h1_write_response(buf, sizeof(buf), &r, healthz_body,
					      sizeof(healthz_body) - 1);
		}
		break;
	case DP_ROUTE_ECHO:
		n = s->echo_chunked ? h1_write_last_chunk(buf, sizeof(buf)) : 0;
		break;
	case DP_ROUTE_BAD_METHOD:
		lc->ctr.v[DP_C_HTTP_BAD_METHOD]++;
		r.status = 405;
		r.content_type = "text/plain";
		r.extra = str_is(&path, "/healthz", 8) ? &allow_get : &allow_post;
		r.n_extra = 1;
		n = h1_write_response(buf, sizeof(buf), &r, "405 Method Not Allowed\n", 23);
		break;
	case DP_ROUTE_NOT_FOUND:
	case DP_ROUTE_NONE:
		lc->ctr.v[DP_C_HTTP_NOT_FOUND]++;
		r.status = 404;
		r.content_type = "text/plain";
		n = h1_write_response(buf, sizeof(buf), &r, "404 Not Found\n", 14);
		break;
	}
	if (n < 0) {
		session_abort(s);
		return false;
	}
	if (s->route != DP_ROUTE_ECHO)
		count_status(lc, r.status);
	if (n > 0 && !session_write(s, buf, (size_t)n))
		return false;
	s->route = DP_ROUTE_NONE;
	s->echo_chunked = false;
	if (!req->keep_alive) {
		session_linger(s);
		return false;
	}
	h1_next(&s->parser);
	return true;
}

/* A parser error: the answer its status names when no response is under way, else
 * the connection is reset (the client already has a 200 head). */
static bool on_parse_error(struct dp_session *s, int rc)
{
	struct dp_lcore *lc = s->lc;

	lc->ctr.v[DP_C_HTTP_PARSE_ERROR]++;
	if (-rc > 0 && -rc < DP_H1_ERR_MAX)
		lc->ctr.h1_err[-rc]++;
	if (s->route == DP_ROUTE_ECHO) {
		session_abort(s);
		return false;
	}
	return session_fail(s, h1_rc_status(rc));
}

/*
 * Feeds one borrowed slice to the parser as far as send space allows. *used gets the
 * bytes consumed. Returns 1 when the slice was used up, 0 when stopped (send space,
 * or the connection is closing), -1 when the session is gone (aborted).
 */
static int feed_slice(struct dp_session *s, const uint8_t *p, uint32_t len, uint32_t *used)
{
	bool call = true;

	*used = 0;
	while (call) {
		uint32_t space = tcp_send_space(s->conn), feed = len - *used;
		struct h1_event ev;
		int rc;

		if (space <= DP_HTTP_RESERVE) {
			s->lc->ctr.v[DP_C_HTTP_TX_BLOCKED]++;
			block(s);
			return 0;
		}
		/* echoed bytes come out of this slice: no more than fits */
		if (s->route == DP_ROUTE_ECHO && feed > space - DP_HTTP_RESERVE)
			feed = space - DP_HTTP_RESERVE;
		rc = h1_parse(&s->parser, p + *used, feed, &ev);
		if (rc == H1_AGAIN) {
			*used += feed;
			call = *used < len;
			continue;
		}
		if (rc < 0) {
			on_parse_error(s, rc);
			return s->conn == NULL ? -1 : 0;
		}
		*used += (uint32_t)rc;
		switch (ev.type) {
		case H1_EV_HEAD:
			if (!on_head(s))
				return s->conn == NULL ? -1 : 0;
			break;
		case H1_EV_BODY:
			if (!on_body(s, ev.data, ev.len))
				return s->conn == NULL ? -1 : 0;
			break;
		case H1_EV_DONE:
			if (!on_done(s))
				return s->conn == NULL ? -1 : 0;
			call = *used < len;
			break;
		case H1_EV_NONE:
			break;
		}
	}
	return 1;
}

/* A closing session reads and discards until the peer's FIN, then closes. Returns
 * false when the session is gone. */
static bool linger_input(struct dp_session *s)
{
	struct dp_lcore *lc = s->lc;
	uint32_t avail = tcp_rx_avail(s->conn);

	if (avail > 0)
		tcp_consume(&lc->tcp, s->conn, avail);
	if (tcp_rx_eof(s->conn)) {
		session_close(s);
		return false;
	}
	return true;
}

static void session_process(struct dp_session *s)
{
	struct dp_lcore *lc = s->lc;
	struct tcp_rx_seg segs[TCP_PEEK_MAX];
	bool blocked = false;

	if (s->in_process)
		return;
	s->in_process = true;
	while (!blocked && !s->closing && tcp_rx_avail(s->conn) > 0) {
		unsigned int n = tcp_peek(s->conn, segs, TCP_PEEK_MAX);
		uint32_t consumed = 0;

		for (unsigned int i = 0; i < n; i++) {
			uint32_t used;
			int rc = feed_slice(s, segs[i].data, segs[i].len, &used);

			consumed += used;
			if (rc < 0)
				return; /* s is free (aborted): no consume on a dead conn */
			if (rc == 0) {
				blocked = true;
				break;
			}
		}
		if (consumed > 0)
			tcp_consume(&lc->tcp, s->conn, consumed);
		if (consumed == 0)
			break;
	}
	if (s->closing) {
		if (linger_input(s))
			s->in_process = false;
		return;
	}
	if (!blocked && tcp_rx_eof(s->conn) && tcp_rx_avail(s->conn) == 0) {
		/* the peer will send no more: answer nothing further, close our side */
		lc->ctr.v[DP_C_HTTP_PEER_CLOSED]++;
		session_close(s);
		return;
	}
	s->in_process = false;
}

/* ---- upcalls ---- */

static void idle_expired(struct tw_wheel *w, struct tw_timer *t)
{
	struct dp_session *s = container_of(t, struct dp_session, idle);

	(void)w;
	if (s->closing) {
		session_close(s);
		return;
	}
	if (h1_parser_started(&s->parser) && s->route != DP_ROUTE_ECHO) {
		s->lc->ctr.v[DP_C_HTTP_TIMEOUT_408]++;
		session_fail(s, 408);
		return;
	}
	s->lc->ctr.v[DP_C_HTTP_IDLE_CLOSE]++;
	session_close(s);
}

/* A connection refused with 503 has no session of its own (its ctx is the lcore's
 * shared `refused` marker): it lingers the same way,
 * discarding input until the peer's FIN; TCP's idle timeout and the listener's
 * connection limit bound how many and how long. */
static void refused_readable(struct dp_lcore *lc, struct tcp_conn *conn)
{
	uint32_t avail = tcp_rx_avail(conn);

	if (avail > 0)
		tcp_consume(&lc->tcp, conn, avail);
	if (tcp_rx_eof(conn))
		tcp_close(&lc->tcp, conn);
}

static void http_readable(struct tcp_conn *conn, void *ctx)
{
	struct dp_session *s = ctx;

	if (s->refused) {
		refused_readable(s->lc, conn);
		return;
	}
	if (!s->closing)
		tw_arm_ns(&s->lc->wheel, &s->idle, s->lc->http_conf->idle_timeout_ns, idle_expired);
	session_process(s);
}

static void http_writable(struct tcp_conn *conn, void *ctx)
{
	struct dp_session *s = ctx;

	(void)conn;
	if (!s->refused)
		session_process(s);
}

static void http_closed(struct tcp_conn *conn, void *ctx, int err)
{
	struct dp_session *s = ctx;

	(void)conn;
	if (s->refused)
		return; /* a refused (503) connection */
	s->lc->ctr.v[err == 0 ? DP_C_HTTP_PEER_CLOSED : DP_C_HTTP_CONN_LOST]++;
	session_free(s);
}

static int http_accepted(struct tcp_conn *conn, void *lctx)
{
	struct dp_lcore *lc = lctx;
	struct dp_session *s;

	if (lc->free_head == 0) {
		/* out of sessions: a normal, counted outcome (STYLE 8); FIN after the 503,
		 * then discard input until the peer closes (see refused_readable) */
		uint8_t buf[256];
		ssize_t n = h1_write_error(buf, sizeof(buf), 503, true);

		lc->ctr.v[DP_C_HTTP_NO_SESSION]++;
		count_status(lc, 503);
		if (n > 0)
			tcp_write(&lc->tcp, conn, buf, (uint32_t)n);
		tcp_set_ctx(conn, &lc->refused);
		return tcp_shutdown(&lc->tcp, conn) == 0 ? 0 : -ENOTCONN;
	}
	s = &lc->sessions[lc->free_head - 1];
	lc->free_head = s->next_free;
	lc->nsessions++;
	s->next_free = 0;
	s->conn = conn;
	s->route = DP_ROUTE_NONE;
	s->echo_chunked = false;
	s->in_process = false;
	s->closing = false;
	s->blocked = false;
	h1_parser_init(&s->parser, &lc->h1_lim,
		       lc->heads + (size_t)(s - lc->sessions) * lc->head_size, lc->head_size);
	tcp_set_ctx(conn, s);
	tw_arm_ns(&lc->wheel, &s->idle, lc->http_conf->idle_timeout_ns, idle_expired);
	lc->ctr.v[DP_C_HTTP_ACCEPTED]++;
	return 0;
}

const struct tcp_ops dp_http_ops = {
	.accepted = http_accepted,
	.readable = http_readable,
	.writable = http_writable,
	.closed = http_closed,
};

void dp_http_poll_blocked(struct dp_lcore *lc)
{
	uint32_t i = lc->blocked_head;

	while (i != 0) {
		struct dp_session *s = &lc->sessions[i - 1];

		i = s->bnext;
		/* resume once a few segments' worth is free, not byte by byte */
		if (tcp_send_space(s->conn) >= 4 * DP_HTTP_RESERVE) {
			unblock(s);
			session_process(s);
		}
	}
}

void dp_http_stop(struct dp_lcore *lc)
{
	if (lc->listener != NULL) {
		tcp_unlisten(&lc->tcp, lc->listener);
		lc->listener = NULL;
	}
	for (uint32_t i = 0; i < lc->http_conf->max_conns && lc->sessions != NULL; i++) {
		struct dp_session *s = &lc->sessions[i];

		if (s->conn == NULL)
			continue;
		/* A request in progress (an upload mid-body, an echo mid-stream) will
		 * not be answered: reset it now. A FIN would only truncate it silently,
		 * and the peer's next segment would draw a RST anyway (input to a
		 * closed conn), so the drain would just wait for that segment. */
		if (h1_parser_started(&s->parser) && !s->closing)
			session_abort(s);
		else
			session_close(s);
	}
}
