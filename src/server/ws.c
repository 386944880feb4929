/*
 * server/ws — WebSocket handshake checks and framing with wslay (see
 * ws.h). The handshake half runs on an HTTP worker; struct ws runs on the
 * thread that owns the upgraded socket.
 */
#include "server/ws.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <fcntl.h>
#include <wslay/wslay.h>

#include "lib/log.h"
#include "lib/xalloc.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* ---- handshake ------------------------------------------------------- */

int ws_accept_key(const char *key, char out[WS_ACCEPT_LEN + 1])
{
	/* 16 bytes in base64: 22 characters and "==". */
	if (!key || strlen(key) != 24 || key[22] != '=' || key[23] != '=')
		return -1;
	unsigned char raw[18];
	if (EVP_DecodeBlock(raw, (const unsigned char *)key, 24) != 18)
		return -1;
	char buf[24 + sizeof ws_guid];
	memcpy(buf, key, 24);
	memcpy(buf + 24, ws_guid, sizeof ws_guid);
	unsigned char digest[SHA_DIGEST_LENGTH];
	SHA1((const unsigned char *)buf, 24 + sizeof ws_guid - 1, digest);
	EVP_EncodeBlock((unsigned char *)out, digest, SHA_DIGEST_LENGTH);
	out[WS_ACCEPT_LEN] = '\0';
	return 0;
}

/* Whether a comma-separated header value holds token (case-insensitive). */
static bool ws_header_has(const char *value, const char *token)
{
	size_t tl = strlen(token);
	for (const char *p = value; p && *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *end = strchrnul(p, ',');
		const char *e = end;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - p) == tl && strncasecmp(p, token, tl) == 0)
			return true;
		p = end;
	}
	return false;
}

/* Split "host[:port]" (host may be "[v6]") into host and port; the port
 * is dflt when absent. false when malformed. */
static bool ws_split_hostport(const char *s, size_t len, const char **host, size_t *hlen,
			      long *port, long dflt)
{
	const char *colon = NULL;
	if (len && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (!close)
			return false;
		if ((size_t)(close - s) + 1 < len) {
			if (close[1] != ':')
				return false;
			colon = close + 1;
		}
	} else {
		colon = memchr(s, ':', len);
	}
	*host = s;
	*hlen = colon ? (size_t)(colon - s) : len;
	*port = dflt;
	if (colon) {
		const char *p = colon + 1, *end = s + len;
		if (p == end || end - p > 5)
			return false;
		long v = 0;
		for (; p < end; p++) {
			if (*p < '0' || *p > '9')
				return false;
			v = v * 10 + (*p - '0');
		}
		*port = v;
	}
	return *hlen > 0;
}

bool ws_origin_allowed(const char *origin, const char *host)
{
	if (!origin || !host)
		return false;
	long dflt;
	const char *rest;
	if (strncasecmp(origin, "http://", 7) == 0)
		dflt = 80, rest = origin + 7;
	else if (strncasecmp(origin, "https://", 8) == 0)
		dflt = 443, rest = origin + 8;
	else
		return false; /* "null", file:, other schemes */
	if (strchr(rest, '/') || strchr(rest, '@') || strchr(rest, '?') || strchr(rest, '#'))
		return false;
	const char *oh, *hh;
	size_t ohl, hhl;
	long op, hp;
	if (!ws_split_hostport(rest, strlen(rest), &oh, &ohl, &op, dflt) ||
	    !ws_split_hostport(host, strlen(host), &hh, &hhl, &hp, dflt))
		return false;
	return ohl == hhl && strncasecmp(oh, hh, ohl) == 0 && op == hp;
}

int ws_handshake_check(const struct ws_handshake_in *in, char accept[WS_ACCEPT_LEN + 1],
		       struct ws_refusal *why)
{
	memset(why, 0, sizeof *why);
	if (!in->method || strcmp(in->method, "GET") != 0 || !in->upgrade ||
	    !ws_header_has(in->upgrade, "websocket") || !in->connection ||
	    !ws_header_has(in->connection, "upgrade")) {
		*why = (struct ws_refusal){ .status = 426, .code = "upgrade_required",
					    .header = "Upgrade", .header_value = "websocket" };
		snprintf(why->message, sizeof why->message,
			 "this route speaks WebSocket only (GET with Upgrade: websocket)");
		return -1;
	}
	if (!in->version || strcmp(in->version, "13") != 0) {
		*why = (struct ws_refusal){ .status = 426, .code = "upgrade_required",
					    .header = "Sec-WebSocket-Version", .header_value = "13" };
		snprintf(why->message, sizeof why->message, "only WebSocket version 13 is spoken");
		return -1;
	}
	/* Browsers always send Origin with a WebSocket; another site's page
	 * must not ride on this user's cookie (cross-site WebSocket
	 * hijacking). Clients that are not browsers send none. */
	if (in->origin && !ws_origin_allowed(in->origin, in->host)) {
		*why = (struct ws_refusal){ .status = 403, .code = "forbidden_origin" };
		snprintf(why->message, sizeof why->message,
			 "WebSocket from origin '%.200s' refused: only pages of this server may "
			 "open one",
			 in->origin);
		return -1;
	}
	if (ws_accept_key(in->key, accept) < 0) {
		*why = (struct ws_refusal){ .status = 400, .code = "bad_handshake" };
		snprintf(why->message, sizeof why->message,
			 "Sec-WebSocket-Key must be 16 bytes in base64");
		return -1;
	}
	return 0;
}

int ws_handshake(struct http_req *req, struct http_resp *resp)
{
	struct ws_handshake_in in = {
		.method = req->method,
		.upgrade = http_req_header(req, "Upgrade"),
		.connection = http_req_header(req, "Connection"),
		.version = http_req_header(req, "Sec-WebSocket-Version"),
		.key = http_req_header(req, "Sec-WebSocket-Key"),
		.origin = http_req_header(req, "Origin"),
		.host = http_req_header(req, "Host"),
	};
	char accept[WS_ACCEPT_LEN + 1];
	struct ws_refusal why;
	if (ws_handshake_check(&in, accept, &why) < 0) {
		if (why.header)
			http_resp_header(resp, why.header, why.header_value);
		http_resp_error(resp, why.status, why.code, "%s", why.message);
		return -1;
	}
	resp->status = 101;
	http_resp_header(resp, "Upgrade", "websocket");
	http_resp_header(resp, "Sec-WebSocket-Accept", accept);
	return 0;
}

/* ---- connection ------------------------------------------------------ */

struct ws {
	int fd;
	wslay_event_context_ptr ctx;
	uint8_t *extra; /* bytes read by the HTTP layer past the request */
	size_t extra_len, extra_off;
	bool failed; /* an I/O error: nothing more can be read or written */
	/* A close asked for, queued once the messages before it are out:
	 * wslay sends control frames ahead of queued messages. */
	bool close_pending;
	uint16_t close_code;
	char close_reason[124];
	ws_message_fn on_message;
	void *cb_ctx;
	int64_t heard_ms; /* CLOCK_MONOTONIC: the start of the last frame received */
};

static int64_t ws_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void ws_frame_cb(wslay_event_context_ptr ctx,
			const struct wslay_event_on_frame_recv_start_arg *arg, void *user)
{
	struct ws *ws = user;
	(void)ctx;
	(void)arg;
	ws->heard_ms = ws_now_ms();
}

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
			  void *user)
{
	struct ws *ws = user;
	(void)flags;
	if (ws->extra_off < ws->extra_len) {
		size_t n =
		    ws->extra_len - ws->extra_off < len ? ws->extra_len - ws->extra_off : len;
		memcpy(buf, ws->extra + ws->extra_off, n);
		ws->extra_off += n;
		return (ssize_t)n;
	}
	ssize_t n;
	do
		n = recv(ws->fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		return n;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
	} else {
		/* 0 is the peer's end of stream: nothing more will come. */
		ws->failed = n < 0;
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	}
	return -1;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
			  void *user)
{
	struct ws *ws = user;
	int sflags = MSG_NOSIGNAL | ((flags & WSLAY_MSG_MORE) ? MSG_MORE : 0);
	ssize_t n;
	do
		n = send(ws->fd, data, len, sflags);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
	} else {
		ws->failed = true;
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	}
	return -1;
}

static void ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
		      void *user)
{
	struct ws *ws = user;
	(void)ctx;
	if (arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME)
		ws->on_message(ws->cb_ctx, arg->opcode == WSLAY_TEXT_FRAME ? WS_TEXT : WS_BINARY,
			       arg->msg, arg->msg_length);
}

struct ws *ws_new(int fd, const void *extra, size_t extra_len, size_t max_message,
		  ws_message_fn on_message, void *ctx)
{
	static const struct wslay_event_callbacks cbs = {
	    .recv_callback = ws_recv_cb,
	    .send_callback = ws_send_cb,
	    .on_frame_recv_start_callback = ws_frame_cb,
	    .on_msg_recv_callback = ws_msg_cb,
	};
	struct ws *ws = xcalloc(1, sizeof *ws);
	ws->heard_ms = ws_now_ms();
	ws->fd = fd;
	ws->on_message = on_message;
	ws->cb_ctx = ctx;
	if (extra_len) {
		ws->extra = xmalloc(extra_len);
		memcpy(ws->extra, extra, extra_len);
		ws->extra_len = extra_len;
	}
	if (wslay_event_context_server_init(&ws->ctx, &cbs, ws) != 0) {
		log_error("ws: wslay_event_context_server_init() failed: out of memory");
		abort();
	}
	wslay_event_config_set_max_recv_msg_length(ws->ctx, max_message);
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		log_warn("ws: cannot make socket %d non-blocking: %s", fd, strerror(errno));
	/* libmicrohttpd turns Nagle back on for an upgraded socket; keystroke
	 * echo must not wait for the peer's delayed ACK. Fails harmlessly
	 * on the socketpair that stands for a TLS connection. */
	int one = 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return ws;
}

void ws_free(struct ws *ws)
{
	if (!ws)
		return;
	wslay_event_context_free(ws->ctx);
	free(ws->extra);
	free(ws);
}

int ws_fd(const struct ws *ws)
{
	return ws->fd;
}

int ws_read(struct ws *ws)
{
	if (ws->failed || !wslay_event_want_read(ws->ctx))
		return -1;
	if (wslay_event_recv(ws->ctx) != 0) {
		wslay_event_shutdown_read(ws->ctx);
		return -1;
	}
	return wslay_event_want_read(ws->ctx) ? 0 : -1;
}

int ws_write(struct ws *ws)
{
	if (ws->failed)
		return -1;
	if (wslay_event_want_write(ws->ctx) && wslay_event_send(ws->ctx) != 0) {
		ws->failed = true;
		return -1;
	}
	if (ws->close_pending && !wslay_event_want_write(ws->ctx)) {
		ws->close_pending = false;
		(void)wslay_event_queue_close(ws->ctx, ws->close_code,
					      (const uint8_t *)ws->close_reason,
					      strlen(ws->close_reason));
		if (wslay_event_send(ws->ctx) != 0) {
			ws->failed = true;
			return -1;
		}
	}
	return 0;
}

bool ws_want_read(const struct ws *ws)
{
	return !ws->failed && wslay_event_want_read(ws->ctx);
}

bool ws_want_write(const struct ws *ws)
{
	return !ws->failed && (ws->close_pending || wslay_event_want_write(ws->ctx));
}

bool ws_done(const struct ws *ws)
{
	return ws->failed || (!ws->close_pending && !wslay_event_want_read(ws->ctx) &&
			      !wslay_event_want_write(ws->ctx));
}

int ws_send(struct ws *ws, int opcode, const void *data, size_t len)
{
	if (ws->close_pending)
		return -1;
	struct wslay_event_msg msg = {
	    .opcode = opcode == WS_TEXT ? WSLAY_TEXT_FRAME : WSLAY_BINARY_FRAME,
	    .msg = data,
	    .msg_length = len,
	};
	return wslay_event_queue_msg(ws->ctx, &msg) == 0 ? 0 : -1;
}

void ws_ping(struct ws *ws)
{
	struct wslay_event_msg msg = {.opcode = WSLAY_PING, .msg = NULL, .msg_length = 0};
	(void)wslay_event_queue_msg(ws->ctx, &msg);
}

int64_t ws_heard_ms(const struct ws *ws)
{
	return ws->heard_ms;
}

size_t ws_queued(const struct ws *ws)
{
	return wslay_event_get_queued_msg_length(ws->ctx);
}

void ws_close(struct ws *ws, uint16_t code, const char *reason)
{
	if (ws->close_pending || wslay_event_get_close_sent(ws->ctx))
		return;
	ws->close_pending = true;
	ws->close_code = code;
	snprintf(ws->close_reason, sizeof ws->close_reason, "%s", reason ? reason : "");
}
