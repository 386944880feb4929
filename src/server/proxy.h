/*
 * server/proxy — kaon's reverse proxy for interactive sessions:
 * /s/{id}/... reaches session {id}'s backend (a notebook server, a
 * TensorBoard, a shell) for its owner and for admins only.
 *
 * Per request (any method): the caller is authenticated as on any route
 * (cookie or bearer token; an anonymous browser asking for a page is sent
 * to the login page), the session's route is read from the store in one
 * indexed query (store_session_route), and the request goes to the
 * backend over its unix socket (or 127.0.0.1:port) with the request-target
 * as sent, the client's headers minus the hop-by-hop ones, minus kaon's
 * own session cookie and the client's Authorization header, plus
 * `Authorization: token SECRET` (the session's secret, which the backend
 * requires) and X-Forwarded-For/-Proto/-Host. Bodies are streamed both
 * ways and never held whole; a WebSocket upgrade the backend accepts
 * becomes a byte relay (server/relay).
 *
 * Answers of kaon's own: 401 (no credentials), 403 (another user's
 * session, or a cross-site request), 404 (no such session), 410 (the
 * session has ended), 503 (not running yet, or its server has not
 * answered kaon's readiness probe yet: with Retry-After, and a page that
 * reloads itself for a browser), 502 (the backend refused the connection,
 * closed it without an answer, or answered something that is not HTTP or
 * whose head is over PROXY_HEAD_MAX).
 *
 * No request holds a worker thread while the backend thinks: the handler
 * connects and writes without blocking, and parks in http.c until the
 * relay thread sees the socket ready (http.h: parking).
 */
#ifndef KAON_SERVER_PROXY_H
#define KAON_SERVER_PROXY_H

#include <stdint.h>

#include "server/http.h"

struct server;

enum {
	PROXY_HEAD_MAX = 64 * 1024, /* a backend's response head, status line included */
};

/* Start the relay thread and raise the open-files limit (two sockets per
 * proxied WebSocket); 0 or -1 with *cause. */
int proxy_start(struct server *srv, char **cause);
/* Close every relayed connection; before http_stop(). */
void proxy_stop(struct server *srv);

/* The route handler of /s/{id} and /s/{id}/{path} (ROUTE_STREAM_BODY). */
void proxy_handle(struct http_req *req, struct http_resp *resp);

/* Unix time (seconds) of the last proxied request or relayed byte of the
 * session, or -1 when there was none since the daemon started. Cheap (no
 * store access, no lock held for long); any thread. */
int64_t proxy_last_activity(int64_t session_id);

struct proxy_session_stats {
	int64_t last_activity; /* as proxy_last_activity */
	int requests;	       /* HTTP requests in flight now */
	int websockets;	       /* relayed (upgraded) connections open now */
};
/* All of it at once; zeros and last_activity -1 for a session never seen. */
void proxy_session_stats(int64_t session_id, struct proxy_session_stats *out);

#endif
