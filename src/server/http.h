/*
 * server/http — the HTTP layer every handler sees.
 *
 * http.c is the only file that includes microhttpd.h. It reads the whole
 * request body (up to the configured maximum, else 413), matches the route
 * table (routes.c), authenticates (auth.c), and calls the handler with a
 * request and an empty response to fill. Handlers never see libmicrohttpd.
 *
 * Routes flagged ROUTE_STREAM_BODY (uploads) are different: their handler
 * runs as soon as the headers are in, after routing and authentication
 * and before any byte of the body is read. It either answers at once (an
 * error: the body is then never read) or hands a sink to http_req_sink(),
 * which takes the body chunk by chunk at constant memory and answers at
 * the end.
 *
 * A handler may also answer 101 and take the connection over for another
 * protocol (WebSocket: see ws.h) with http_resp_upgrade().
 *
 * A handler that waits on another server (the sessions proxy) does not
 * hold a worker thread while it waits: its sink may take only part of a
 * chunk (take), its end() may answer "not yet" (http_resp_wait) and its
 * stream may have nothing yet; http.c then parks the connection until
 * someone calls http_wake() on the request's waker (http_req_waker).
 *
 * Handlers run on a worker thread of the pool and may block briefly (a
 * store query, a password hash). req->store is that thread's own database
 * connection.
 */
#ifndef KAON_SERVER_HTTP_H
#define KAON_SERVER_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/credentials.h"

struct server;
struct store;

/* HTTP_MAX_HEADERS bounds what one answer may carry: the proxy passes on
 * the headers of the server behind it. */
enum { HTTP_MAX_PARAMS = 4, HTTP_MAX_HEADERS = 128 };

enum http_auth_via { HTTP_AUTH_NONE, HTTP_AUTH_COOKIE, HTTP_AUTH_TOKEN };

struct http_req {
	const char *method;
	const char *path;   /* percent-decoded by libmicrohttpd */
	const char *target; /* the request-target as sent: not decoded, with the query */
	const char *body; /* NUL-terminated; body_len excludes the NUL */
	size_t body_len;
	char client_addr[64];
	bool tls;
	const char *params[HTTP_MAX_PARAMS]; /* values of {name} path segments */
	size_t nparams;
	enum http_auth_via via;
	struct store_principal who; /* valid when via != HTTP_AUTH_NONE */
	struct store *store;
	struct server *srv;
	void *conn; /* the libmicrohttpd connection, for http.c only */
	void *priv; /* http.c's per-request state */
};

struct http_resp;
struct http_upgrade;
struct http_waker;
typedef void (*http_handler)(struct http_req *req, struct http_resp *resp);
typedef void (*http_upgrade_fn)(void *ctx, int fd, const char *extra, size_t extra_len,
				struct http_upgrade *up);
typedef long (*http_stream_fn)(void *ctx, struct store *st, char *buf, size_t len);

struct http_header {
	char *name;
	char *value;
};

struct http_resp {
	int status;
	http_stream_fn stream; /* set by http_resp_stream */
	void (*stream_release)(void *ctx);
	void *stream_ctx;
	char *body; /* owned; or static_body */
	const void *static_body;
	size_t len;
	const char *content_type;
	struct http_header *headers; /* owned, nheaders of them */
	size_t nheaders, capheaders;
	bool raw;  /* another server's answer (the proxy): none of kaon's own headers added */
	bool wait; /* set by http_resp_wait */
	long long stream_size;		 /* the stream's length when known, else -1 */
	struct http_waker *stream_waker; /* set by http_resp_stream_woken */
	bool has_fd; /* set by http_resp_file: send len bytes of fd from offset */
	int fd;
	unsigned long long fd_offset;
	http_upgrade_fn upgrade; /* set by http_resp_upgrade */
	void (*upgrade_release)(void *ctx);
	void *upgrade_ctx;
};


/* Request accessors; NULL when absent. */
const char *http_req_header(const struct http_req *req, const char *name);
const char *http_req_query(const struct http_req *req, const char *name);
const char *http_req_cookie(const struct http_req *req, const char *name);
/* Call fn for every request header in the order received; stops when fn
 * returns non-zero, and returns that. */
int http_req_headers(const struct http_req *req,
		     int (*fn)(void *ctx, const char *name, const char *value), void *ctx);

/* Parse the body as a JSON object. On failure answer 400 (or 415 for a
 * non-JSON content type) and return NULL. The caller owns the result. */
json_t *http_req_json(struct http_req *req, struct http_resp *resp);

/* Answer with JSON (takes the reference to j). */
void http_resp_json(struct http_resp *resp, int status, json_t *j);
/* Answer {"error":{"code","message"}}. */
void http_resp_error(struct http_resp *resp, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Answer with no body (204 and the like). */
void http_resp_empty(struct http_resp *resp, int status);
/* Add a header; the strings are copied. */
void http_resp_header(struct http_resp *resp, const char *name, const char *value);
/* Map a negative store/accounts error to a status and error answer;
 * the format names the object ("user 'alice'"). */
void http_resp_errno(struct http_resp *resp, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A streamed answer (Server-Sent Events, long downloads). `next` is
 * called on a worker thread whenever the client can take more: it writes
 * up to len bytes into buf and returns how many; 0 when nothing is ready
 * (the connection sleeps until http_stream_wake() or the next tick, a
 * tenth of a second, without holding the thread); HTTP_STREAM_END at the
 * end. `release` frees ctx when the connection is done, however it ends. */
enum { HTTP_STREAM_END = -1, HTTP_STREAM_ERROR = -2 /* cut short: the client must see it */ };
void http_resp_stream(struct http_resp *resp, int status, const char *content_type,
		      http_stream_fn next, void (*release)(void *ctx), void *ctx);
/* Wake every sleeping stream now (something they may wait for changed). */
void http_stream_wake(struct server *srv);
/* A stream whose producer knows when it has more: `next` returning 0
 * parks the connection until http_wake(w) (w: the request's waker), with
 * no tick. size: the body's length when known (sent as Content-Length;
 * `next` must produce exactly that much), else -1 (chunked, or until
 * close for HTTP/1.0). HTTP_STREAM_ERROR ends the answer abruptly (the
 * connection is closed), so a client never takes a cut-short body for a
 * whole one. release may be NULL. */
void http_resp_stream_woken(struct http_resp *resp, int status, long long size, http_stream_fn next,
			    void (*release)(void *ctx), void *ctx, struct http_waker *w);

/* Answer with len bytes of the open file fd from offset (sendfile where
 * the connection allows). The response owns fd from here on, and closes
 * it however the request ends. */
void http_resp_file(struct http_resp *resp, int status, const char *content_type, int fd,
		    unsigned long long offset, unsigned long long len);

/* A streamed request body (ROUTE_STREAM_BODY routes). write() gets each
 * chunk as it arrives and returns 0, or -1 after filling resp with an
 * error (the rest of the body is then dropped and the connection closed).
 * end() runs once the whole body is in and fills resp. release() runs
 * last however the request ends (a client gone mid-body included), so it
 * is where a half-written upload is undone. */
struct http_sink {
	int (*write)(void *ctx, const char *data, size_t len, struct http_resp *resp);
	/* Instead of write, for a sink that must not block: take what it can
	 * of data and return how much (0..len), or -1 after filling resp.
	 * Taking less than len parks the request until http_wake(); the rest
	 * comes again then. (An answer given before the whole body is in
	 * closes the connection: libmicrohttpd cannot answer mid-body.) */
	long (*take)(void *ctx, const char *data, size_t len, struct http_resp *resp);
	void (*end)(void *ctx, struct http_req *req, struct http_resp *resp);
	void (*release)(void *ctx);
	void *ctx;
};
/* From a ROUTE_STREAM_BODY handler: take the body through sink instead of
 * answering now. From any other handler (its body already in): answer
 * later; the sink's end() is called at once and may wait
 * (http_resp_wait), and release() runs last. A sink's end() must not use
 * req->params (they point into the dispatcher's stack). */
void http_req_sink(struct http_req *req, const struct http_sink *sink);
/* From a sink's end(): no answer yet. The request parks until
 * http_wake(), then end() is called again. */
void http_resp_wait(struct http_resp *resp);

/* The request's waker, for a ROUTE_STREAM_BODY handler that parks (see
 * above). Valid until the sink's release() runs. */
struct http_waker *http_req_waker(struct http_req *req);
/* Let a parked request go on: its parked call (take, end, or the
 * stream's next) is made again on a worker thread. A wake that comes
 * while the request is not parked is kept, and the next park returns at
 * once, so no wake is lost. Any thread; never blocks for long. Must not
 * be called after the sink's release() has begun. */
void http_wake(struct http_waker *w);

/* Answer 101 Switching Protocols (resp->status and the protocol's
 * headers, Upgrade included, are the caller's: see ws_handshake) and hand
 * the connection over. Once the answer is sent, `fn` is called on a
 * libmicrohttpd thread (it must not block) with the raw socket, the bytes
 * already read past the request, and the handle; from then on the socket
 * belongs to whoever got it, until it calls http_upgrade_close(up). If
 * the connection fails before that, `release` frees ctx instead. */
void http_resp_upgrade(struct http_resp *resp, http_upgrade_fn fn, void (*release)(void *ctx),
		       void *ctx);
/* Done with an upgraded connection: libmicrohttpd closes the socket (never
 * close() it yourself) and logs the request. Stop using fd before this;
 * up is gone after it. Any thread. */
void http_upgrade_close(struct http_upgrade *up);

/* Form bodies (application/x-www-form-urlencoded and multipart/form-data),
 * decoded as they arrive by libmicrohttpd's post processor, so an upload
 * streams to wherever fn puts it at constant memory. fn gets each field's
 * value in pieces: off is where the piece starts in the value, so off == 0
 * opens a new field (a repeated name opens a new one each time); filename
 * and content_type are the part's (NULL when absent; filename non-NULL
 * marks a file). An empty value may come as one piece of length 0. fn
 * returns 0, or -1 to stop (the feed then fails). */
typedef int (*http_form_fn)(void *ctx, const char *name, const char *filename,
			    const char *content_type, const char *data, unsigned long long off,
			    size_t len);
struct http_form;
/* A decoder for req's body; NULL when its Content-Type is neither form
 * encoding (or a multipart body lacks its boundary). Works on a whole body
 * (fed once from a handler) and on a streamed one (fed from a sink). */
struct http_form *http_form_new(struct http_req *req, http_form_fn fn, void *ctx);
/* 0, or -1 when the body is malformed or fn said stop. */
int http_form_feed(struct http_form *f, const char *data, size_t len);
/* Free the decoder; 0 when the body ended where a form may end, -1 when it
 * was cut short or malformed. f may be NULL. */
int http_form_free(struct http_form *f);

/* The client's socket, only to poll it for a hang-up while a handler
 * blocks (a prediction): never read, write or close it. -1 when unknown. */
int http_req_client_fd(const struct http_req *req);

/* Start serving per srv's config; 0 or -1 with *cause. */
int http_start(struct server *srv, char **cause);
/* Stop accepting, finish requests in flight, release the pool. */
void http_stop(struct server *srv);

#endif
