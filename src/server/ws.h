/*
 * server/ws — WebSocket (RFC 6455) over a connection that http.c has
 * upgraded. The only file that includes wslay.h.
 *
 * Two halves:
 *
 *   ws_handshake()  on an HTTP worker, in a route handler: checks that the
 *                   request is a WebSocket upgrade (version 13, a key),
 *                   that its Origin (when a browser sent one) is this
 *                   server's own, and fills the 101 answer's headers. The
 *                   handler then hands the connection over with
 *                   http_resp_upgrade().
 *   struct ws       on whatever thread owns the socket afterwards: frames
 *                   in and out through wslay's event API on a non-blocking
 *                   socket. Not thread-safe: its owner serializes calls.
 *                   Nothing here blocks.
 *
 * Every message received has a hard maximum size set at ws_new(); a larger
 * one closes the connection with 1009 (message too big). Messages queued
 * for sending are copied; ws_queued() tells how much waits, so the owner
 * can stop producing for a slow reader.
 */
#ifndef KAON_SERVER_WS_H
#define KAON_SERVER_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/http.h"

enum ws_opcode { WS_TEXT = 1, WS_BINARY = 2 };
enum ws_close_code {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_POLICY = 1008,
	WS_CLOSE_TOO_BIG = 1009,
	WS_CLOSE_ERROR = 1011,
	WS_CLOSE_TRY_LATER = 1013,
};
enum { WS_ACCEPT_LEN = 28 };

/* The header values of an upgrade request (any may be NULL). */
struct ws_handshake_in {
	const char *method, *upgrade, *connection, *version, *key;
	const char *origin, *host; /* origin NULL: no Origin check */
};
/* Why an upgrade request was refused. */
struct ws_refusal {
	int status;        /* 400, 403 or 426 */
	const char *code;  /* the error code of kaon's JSON errors */
	char message[320];
	const char *header, *header_value; /* to add to the answer, or NULL */
};
/* ws_handshake's checks on plain values, for servers that parse requests
 * themselves (kaon session-shell). 0 with accept set, or -1 with *why.
 * Pure. */
int ws_handshake_check(const struct ws_handshake_in *in, char accept[WS_ACCEPT_LEN + 1],
		       struct ws_refusal *why);
/* Check an upgrade request. 0: resp is now a 101 with the handshake
 * headers, ready for http_resp_upgrade(). -1: resp holds the error
 * (400 bad handshake, 403 foreign Origin, 426 not a WebSocket request). */
int ws_handshake(struct http_req *req, struct http_resp *resp);
/* Whether a browser's Origin header names this server, given the Host
 * header it was sent to: same host and port (default ports count), scheme
 * http or https. Pure; unit tested. */
bool ws_origin_allowed(const char *origin, const char *host);
/* Sec-WebSocket-Accept for a Sec-WebSocket-Key; -1 when the key is not
 * base64 of 16 bytes. */
int ws_accept_key(const char *key, char out[WS_ACCEPT_LEN + 1]);

struct ws;
/* A whole message received: WS_TEXT or WS_BINARY. */
typedef void (*ws_message_fn)(void *ctx, int opcode, const uint8_t *data, size_t len);

/* Take over the upgraded socket fd (made non-blocking, TCP_NODELAY); extra
 * is what the HTTP layer had already read past the request, consumed
 * first. fd stays open: its owner (http.c) closes it. */
struct ws *ws_new(int fd, const void *extra, size_t extra_len, size_t max_message,
		  ws_message_fn on_message, void *ctx);
void ws_free(struct ws *ws);
int ws_fd(const struct ws *ws);
/* Read and dispatch what the socket holds; 0, or -1 when the connection
 * can no longer read (peer gone, protocol error, message too big). */
int ws_read(struct ws *ws);
/* Send what is queued, as far as the socket takes it; 0 or -1 on error. */
int ws_write(struct ws *ws);
bool ws_want_read(const struct ws *ws);
bool ws_want_write(const struct ws *ws);
/* Neither side has anything more to say: the owner may let go. */
bool ws_done(const struct ws *ws);
/* Queue a message (copied); 0, or -1 after a close was queued. */
int ws_send(struct ws *ws, int opcode, const void *data, size_t len);
/* Queue a ping (the peer answers with a pong). */
void ws_ping(struct ws *ws);
/* CLOCK_MONOTONIC milliseconds when the last frame (pongs included) came
 * in, or when the connection began: how long the peer has been silent. */
int64_t ws_heard_ms(const struct ws *ws);
/* Bytes of queued messages not yet written. */
size_t ws_queued(const struct ws *ws);
/* Close: the close frame goes once every message queued before it is
 * out (ws_write sends it); nothing can be queued after it. */
void ws_close(struct ws *ws, uint16_t code, const char *reason);

#endif
