/*
 * server/http — libmicrohttpd glue: connections, bodies, dispatch,
 * responses, the request log. The only file that includes microhttpd.h.
 *
 * The daemon runs an epoll thread pool. libmicrohttpd calls the access
 * handler several times per request: first with the headers (we set up
 * the context and answer nothing, so keep-alive stays on), then once per
 * body chunk, then a last time with no data, when we dispatch and queue
 * the answer. Routes with a streamed body (ROUTE_STREAM_BODY) are
 * dispatched on the first call instead, and their sink takes the chunks.
 * A 101 answer (http_resp_upgrade) hands the socket to its new owner once
 * sent; the request is logged when that owner closes it.
 *
 * Parking (http_waker): a handler waiting on another server suspends its
 * connection (MHD_suspend_connection) from inside a callback and is
 * resumed by http_wake() from any thread. libmicrohttpd then calls the
 * same callback again: the access handler with the rest of the upload
 * data, or the final call of the request, or the content reader. Parking
 * is never done from the first call of a request: libmicrohttpd would
 * repeat that call as a first call.
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "lib/fsio.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/auth.h"
#include "server/routes.h"
#include "server/server.h"
#include "server/static.h"
#include "store/db.h"

/* Per-request state, from the URI-log callback (which sees the request
 * line before anything is decoded) to the completion callback. */
struct http_ctx {
	char *target; /* the request-target as sent */
	bool started; /* the access handler has seen the headers */
	bool sinking; /* a streamed body goes to sink */
	struct http_sink sink;
	struct http_req req; /* kept for sink.end() */
	char *body;
	size_t len, cap, max;
	bool too_large;
	bool answered; /* a response is queued; ignore further calls */
	struct timespec start;
	int status;
	char *what; /* "METHOD /path" for the request log */
	char user[STORE_NAME_MAX + 1];
	struct http_upgrade *upgrade; /* a 101 queued: freed at completion */
	struct http_waker *waker;     /* http_req_waker's, or NULL */
};

/* A request that may park. Every field is under http_wakers.lock. */
struct http_waker {
	struct MHD_Connection *conn;
	bool parked;			/* suspended until http_wake */
	bool kicked;			/* woken while not parked: the next park returns at once */
	struct http_waker *prev, *next; /* in http_wakers.parked */
};

/* The parked requests, so that http_stop() can resume them all (the
 * daemon refuses to stop with suspended connections). */
static struct {
	pthread_mutex_t lock;
	struct http_waker *parked;
	bool stopping;
} http_wakers = {PTHREAD_MUTEX_INITIALIZER, NULL, false};

/* A connection being upgraded. libmicrohttpd calls the upgrade handler
 * before it calls the completion callback, and calls the latter only once
 * the new owner has closed the connection (or when the handshake never
 * went out), so the completion frees this. */
struct http_upgrade {
	http_upgrade_fn fn;
	void (*release)(void *ctx);
	void *ctx;
	struct MHD_UpgradeResponseHandle *urh;
	bool taken; /* fn was called: ctx belongs to its owner */
};

/* Each worker thread opens its own store connection on first use; the
 * list lets http_stop() close them after the pool has been joined. */
struct http_stores {
	pthread_mutex_t lock;
	struct store **all;
	size_t n;
};
static struct http_stores http_stores = { PTHREAD_MUTEX_INITIALIZER, NULL, 0 };
static __thread struct store *http_thread_store;

static struct store *http_store_get(struct server *srv)
{
	if (http_thread_store)
		return http_thread_store;
	char *path = xasprintf("%s/kaon.db", srv->cfg->data_dir);
	char *cause = NULL;
	if (store_open(path, &http_thread_store, &cause) < 0) {
		log_error("http: cannot open store for worker thread: %s", cause);
		free(cause);
		http_thread_store = NULL;
	} else {
		store_autocheckpoint_off(http_thread_store); /* the scheduler checkpoints */
		pthread_mutex_lock(&http_stores.lock);
		http_stores.all = xrealloc(http_stores.all, (http_stores.n + 1) * sizeof *http_stores.all);
		http_stores.all[http_stores.n++] = http_thread_store;
		pthread_mutex_unlock(&http_stores.lock);
	}
	free(path);
	return http_thread_store;
}

/* ---- request accessors ---------------------------------------------- */

const char *http_req_header(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_req_query(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_req_cookie(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

struct http_req_headers_ctx {
	int (*fn)(void *ctx, const char *name, const char *value);
	void *ctx;
	int rc;
};

static enum MHD_Result http_req_headers_one(void *cls, enum MHD_ValueKind kind, const char *name,
					    const char *value)
{
	struct http_req_headers_ctx *c = cls;
	(void)kind;
	c->rc = c->fn(c->ctx, name, value ? value : "");
	return c->rc == 0 ? MHD_YES : MHD_NO;
}

int http_req_headers(const struct http_req *req,
		     int (*fn)(void *ctx, const char *name, const char *value), void *ctx)
{
	struct http_req_headers_ctx c = {fn, ctx, 0};
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, http_req_headers_one, &c);
	return c.rc;
}

json_t *http_req_json(struct http_req *req, struct http_resp *resp)
{
	const char *ctype = http_req_header(req, "Content-Type");
	/* "application/json", optionally with parameters ("; charset=utf-8"). */
	if (ctype && (strncasecmp(ctype, "application/json", 16) != 0 ||
		      (ctype[16] && ctype[16] != ';' && ctype[16] != ' '))) {
		http_resp_error(resp, 415, "unsupported_media_type",
				"request body must be application/json, not %s", ctype);
		return NULL;
	}
	if (req->body_len == 0) {
		http_resp_error(resp, 400, "malformed_json", "request body must be a JSON object");
		return NULL;
	}
	json_error_t err;
	json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &err);
	if (!j) {
		http_resp_error(resp, 400, "malformed_json", "malformed JSON at line %d column %d: %s",
				err.line, err.column, err.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		http_resp_error(resp, 400, "malformed_json", "request body must be a JSON object");
		return NULL;
	}
	return j;
}

void http_req_sink(struct http_req *req, const struct http_sink *sink)
{
	struct http_ctx *ctx = req->priv;
	ctx->sink = *sink;
	ctx->sinking = true;
}

struct http_waker *http_req_waker(struct http_req *req)
{
	struct http_ctx *ctx = req->priv;
	if (!ctx->waker) {
		ctx->waker = xcalloc(1, sizeof *ctx->waker);
		ctx->waker->conn = req->conn;
	}
	return ctx->waker;
}

/* Park w's connection unless a wake came since the last park. 1: parked
 * (the caller returns from its callback at once); 0: woken meanwhile, try
 * again now; -1: the daemon is stopping, do not wait. On the connection's
 * worker thread, inside a libmicrohttpd callback. */
static int http_waker_park(struct http_waker *w)
{
	int rc = 1;
	pthread_mutex_lock(&http_wakers.lock);
	if (http_wakers.stopping) {
		rc = -1;
	} else if (w->kicked) {
		w->kicked = false;
		rc = 0;
	} else {
		MHD_suspend_connection(w->conn);
		w->parked = true;
		w->prev = NULL;
		w->next = http_wakers.parked;
		if (w->next)
			w->next->prev = w;
		http_wakers.parked = w;
	}
	pthread_mutex_unlock(&http_wakers.lock);
	return rc;
}

/* Called with the lock held. */
static void http_waker_resume(struct http_waker *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		http_wakers.parked = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
	w->parked = false;
	MHD_resume_connection(w->conn);
}

void http_wake(struct http_waker *w)
{
	pthread_mutex_lock(&http_wakers.lock);
	if (w->parked)
		http_waker_resume(w);
	else
		w->kicked = true;
	pthread_mutex_unlock(&http_wakers.lock);
}

/* ---- form bodies ----------------------------------------------------- */

struct http_form {
	struct MHD_PostProcessor *pp;
	http_form_fn fn;
	void *ctx;
	bool failed; /* fn said stop */
};

static enum MHD_Result http_form_piece(void *cls, enum MHD_ValueKind kind, const char *key,
				       const char *filename, const char *content_type,
				       const char *transfer_encoding, const char *data, uint64_t off,
				       size_t size)
{
	struct http_form *f = cls;
	(void)kind;
	(void)transfer_encoding;
	if (f->fn(f->ctx, key ? key : "", filename, content_type, data ? data : "", off, size) < 0) {
		f->failed = true;
		return MHD_NO;
	}
	return MHD_YES;
}

struct http_form *http_form_new(struct http_req *req, http_form_fn fn, void *ctx)
{
	struct http_form *f = xcalloc(1, sizeof *f);
	f->fn = fn;
	f->ctx = ctx;
	/* The buffer bounds a field name plus a header line of a part; values
	 * of any length go through in pieces. */
	f->pp = MHD_create_post_processor(req->conn, 16 * 1024, http_form_piece, f);
	if (!f->pp) {
		free(f);
		return NULL;
	}
	return f;
}

int http_form_feed(struct http_form *f, const char *data, size_t len)
{
	if (f->failed)
		return -1;
	if (len == 0)
		return 0;
	return MHD_post_process(f->pp, data, len) == MHD_YES && !f->failed ? 0 : -1;
}

int http_form_free(struct http_form *f)
{
	if (!f)
		return 0;
	bool ok = MHD_destroy_post_processor(f->pp) == MHD_YES && !f->failed;
	free(f);
	return ok ? 0 : -1;
}

int http_req_client_fd(const struct http_req *req)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	return ci ? ci->connect_fd : -1;
}

/* ---- responses ------------------------------------------------------- */

void http_resp_header(struct http_resp *resp, const char *name, const char *value)
{
	if (resp->nheaders == HTTP_MAX_HEADERS) {
		log_error("http: more than %d response headers; dropping %s", HTTP_MAX_HEADERS, name);
		return;
	}
	if (resp->nheaders == resp->capheaders) {
		resp->capheaders = resp->capheaders ? resp->capheaders * 2 : 8;
		resp->headers = xrealloc(resp->headers, resp->capheaders * sizeof *resp->headers);
	}
	resp->headers[resp->nheaders].name = xstrdup(name);
	resp->headers[resp->nheaders].value = xstrdup(value);
	resp->nheaders++;
}

static void http_resp_set_body(struct http_resp *resp, char *body, size_t len, const char *type)
{
	free(resp->body);
	resp->body = body;
	resp->static_body = NULL;
	resp->len = len;
	resp->content_type = type;
}

void http_resp_json(struct http_resp *resp, int status, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(j);
	if (!s) {
		log_error("http: json_dumps() failed");
		abort();
	}
	size_t n = strlen(s);
	/* A trailing newline makes curl output readable in a terminal. */
	char *body = xmalloc(n + 2);
	memcpy(body, s, n);
	body[n] = '\n';
	body[n + 1] = '\0';
	free(s);
	resp->status = status;
	http_resp_set_body(resp, body, n + 1, "application/json");
}

void http_resp_error(struct http_resp *resp, int status, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
	free(msg);
	http_resp_json(resp, status, j);
}

void http_resp_wait(struct http_resp *resp)
{
	resp->wait = true;
}

void http_resp_empty(struct http_resp *resp, int status)
{
	resp->status = status;
	http_resp_set_body(resp, NULL, 0, NULL);
}

void http_resp_errno(struct http_resp *resp, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *what = xvasprintf(fmt, ap);
	va_end(ap);
	switch (err) {
	case -ENOENT:
		http_resp_error(resp, 404, "not_found", "%s not found", what);
		break;
	case -EEXIST:
		http_resp_error(resp, 409, "conflict", "%s already exists", what);
		break;
	case -EBUSY:
		http_resp_error(resp, 503, "busy", "the server is busy; try again");
		break;
	default:
		http_resp_error(resp, 500, "internal", "internal error while handling %s", what);
		break;
	}
	free(what);
}

void http_resp_file(struct http_resp *resp, int status, const char *content_type, int fd,
		    unsigned long long offset, unsigned long long len)
{
	http_resp_set_body(resp, NULL, len, content_type);
	resp->status = status;
	if (resp->has_fd)
		close(resp->fd);
	resp->has_fd = true;
	resp->fd = fd;
	resp->fd_offset = offset;
}

void http_resp_upgrade(struct http_resp *resp, http_upgrade_fn fn, void (*release)(void *ctx),
		       void *ctx)
{
	http_resp_set_body(resp, NULL, 0, NULL);
	resp->status = 101;
	resp->upgrade = fn;
	resp->upgrade_release = release;
	resp->upgrade_ctx = ctx;
}

void http_upgrade_close(struct http_upgrade *up)
{
	if (MHD_upgrade_action(up->urh, MHD_UPGRADE_ACTION_CLOSE) != MHD_YES)
		log_error("http: MHD_upgrade_action(CLOSE) failed");
}

static void http_upgrade_handler(void *cls, struct MHD_Connection *conn, void *con_cls,
				 const char *extra_in, size_t extra_in_size, MHD_socket sock,
				 struct MHD_UpgradeResponseHandle *urh)
{
	struct http_upgrade *up = cls;
	(void)conn;
	(void)con_cls;
	up->urh = urh;
	up->taken = true;
	up->fn(up->ctx, sock, extra_in, extra_in_size, up);
}

static void http_resp_release(struct http_resp *resp)
{
	if (resp->upgrade && resp->upgrade_release)
		resp->upgrade_release(resp->upgrade_ctx);
	if (resp->has_fd)
		close(resp->fd);
	if (resp->stream && resp->stream_release)
		resp->stream_release(resp->stream_ctx);
	free(resp->body);
	for (size_t i = 0; i < resp->nheaders; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	free(resp->headers);
}

/* ---- streams --------------------------------------------------------- */

/* A streamed response that has nothing to send suspends its connection
 * (so it holds no worker thread) and waits on the sleepers list; the
 * waker thread resumes every sleeper each tick or when woken, and the
 * reader then asks the stream again. */
struct http_stream {
	http_stream_fn next;
	void (*release)(void *ctx);
	void *ctx;
	struct server *srv;
	struct MHD_Connection *conn;
	bool sleeping;
	struct http_stream *sleep_next;
	struct http_waker *waker; /* http_resp_stream_woken: parks on it instead */
};

enum { HTTP_STREAM_TICK_MS = 100, HTTP_STREAM_BLOCK = 64 * 1024, HTTP_CONN_MEMORY = 64 * 1024 };

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct http_stream *sleepers;
	bool stopping, woken, running;
	pthread_t waker;
} http_streams = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, false, false, false, 0 };

void http_resp_stream(struct http_resp *resp, int status, const char *content_type,
		      http_stream_fn next, void (*release)(void *ctx), void *ctx)
{
	resp->status = status;
	resp->content_type = content_type;
	resp->stream = next;
	resp->stream_release = release;
	resp->stream_ctx = ctx;
	resp->stream_size = -1;
	resp->stream_waker = NULL;
}

void http_resp_stream_woken(struct http_resp *resp, int status, long long size, http_stream_fn next,
			    void (*release)(void *ctx), void *ctx, struct http_waker *w)
{
	http_resp_stream(resp, status, NULL, next, release, ctx);
	resp->stream_size = size;
	resp->stream_waker = w;
}

/* Resume every sleeper; called with the lock held. */
static void http_streams_resume_all(void)
{
	for (struct http_stream *st = http_streams.sleepers, *nx; st; st = nx) {
		nx = st->sleep_next;
		st->sleeping = false;
		st->sleep_next = NULL;
		MHD_resume_connection(st->conn);
	}
	http_streams.sleepers = NULL;
}

void http_stream_wake(struct server *srv)
{
	(void)srv;
	pthread_mutex_lock(&http_streams.lock);
	http_streams.woken = true;
	pthread_cond_signal(&http_streams.cond);
	pthread_mutex_unlock(&http_streams.lock);
}

static void *http_streams_waker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&http_streams.lock);
	while (!http_streams.stopping) {
		struct timespec deadline;
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_nsec += HTTP_STREAM_TICK_MS * 1000000L;
		if (deadline.tv_nsec >= 1000000000L)
			deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
		if (!http_streams.woken)
			pthread_cond_timedwait(&http_streams.cond, &http_streams.lock, &deadline);
		http_streams.woken = false;
		http_streams_resume_all();
	}
	pthread_mutex_unlock(&http_streams.lock);
	return NULL;
}

static ssize_t http_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_stream *st = cls;
	(void)pos;
	if (st->waker) {
		for (;;) {
			long n = st->next(st->ctx, NULL, buf, max);
			if (n > 0)
				return n;
			if (n == HTTP_STREAM_END)
				return MHD_CONTENT_READER_END_OF_STREAM;
			if (n < 0)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			int p = http_waker_park(st->waker);
			if (p > 0)
				return 0;
			if (p < 0)
				return MHD_CONTENT_READER_END_WITH_ERROR;
		}
	}
	struct store *store = http_store_get(st->srv);
	long n = store ? st->next(st->ctx, store, buf, max) : HTTP_STREAM_END;
	if (n > 0)
		return n;
	if (n == HTTP_STREAM_ERROR)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (n < 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	pthread_mutex_lock(&http_streams.lock);
	if (http_streams.stopping) {
		pthread_mutex_unlock(&http_streams.lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	MHD_suspend_connection(st->conn);
	st->sleeping = true;
	st->sleep_next = http_streams.sleepers;
	http_streams.sleepers = st;
	pthread_mutex_unlock(&http_streams.lock);
	return 0;
}

static void http_stream_free(void *cls)
{
	struct http_stream *st = cls;
	pthread_mutex_lock(&http_streams.lock);
	for (struct http_stream **pp = &http_streams.sleepers; *pp; pp = &(*pp)->sleep_next)
		if (*pp == st) {
			*pp = st->sleep_next;
			break;
		}
	pthread_mutex_unlock(&http_streams.lock);
	if (st->release)
		st->release(st->ctx);
	free(st);
}

/* ---- dispatch -------------------------------------------------------- */

/* Paths the route table answers; everything else is the web page. "/"
 * is routed for DEEPaaS's versions document (api/deepaas.h), which gives
 * browsers the page itself. */
static bool http_routed(const char *path)
{
	return strncmp(path, "/api/", 5) == 0 || strncmp(path, "/s/", 3) == 0 ||
	       strcmp(path, "/") == 0 || strcmp(path, "/v2") == 0 ||
	       strncmp(path, "/v2/", 4) == 0 || strcmp(path, "/swagger.json") == 0 ||
	       strcmp(path, "/ui") == 0 || strcmp(path, "/api") == 0 ||
	       strncmp(path, "//", 2) == 0; /* merged by a DEEPaaS redirect, or 404 */
}

/* 308 to the slash-normalized path of a DEEPaaS route, with the query
 * kept; false when path is not such a case. The method and body are the
 * client's to send again (308 says so). */
static bool http_deepaas_redirect(struct http_req *req, struct http_resp *resp)
{
	char *fixed;
	if (!routes_deepaas_redirect(req->path, &fixed))
		return false;
	/* The path is decoded: encode it again, so that nothing a client
	 * put in it (a CR LF) can leave the Location header. */
	static const char hex[] = "0123456789ABCDEF";
	const char *q = strchr(req->target, '?');
	size_t qn = q ? strlen(q) : 0;
	char *loc = xmalloc(strlen(fixed) * 3 + qn + 1), *o = loc;
	for (const unsigned char *p = (const unsigned char *)fixed; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p)) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	/* The query as sent, unless it holds control characters. */
	for (size_t i = 0; i < qn; i++)
		if ((unsigned char)q[i] < 0x20 || q[i] == 0x7f)
			qn = 0;
	memcpy(o, q ? q : "", qn);
	o[qn] = '\0';
	http_resp_header(resp, "Location", loc);
	http_resp_error(resp, 308, "moved", "see %s", fixed);
	free(loc);
	free(fixed);
	return true;
}

static void http_dispatch(struct server *srv, struct http_req *req, struct http_resp *resp)
{
	if (!http_routed(req->path)) {
		static_serve(req, resp);
		return;
	}
	bool path_known;
	char allow[64];
	const struct route *route =
		routes_match(req->method, req->path, req, &path_known, allow, sizeof allow);
	if (!route) {
		if (path_known) {
			http_resp_header(resp, "Allow", allow);
			http_resp_error(resp, 405, "method_not_allowed", "%s is not allowed on %s (allowed: %s)",
					req->method, req->path, allow);
		} else if (!http_deepaas_redirect(req, resp)) {
			http_resp_error(resp, 404, "not_found", "no such route: %s", req->path);
		}
		return;
	}
	req->store = http_store_get(srv);
	if (!req->store) {
		http_resp_error(resp, 503, "unavailable", "the store cannot be opened");
		return;
	}
	if (auth_identify(req, resp) < 0 || auth_authorize(route, req, resp) < 0)
		return;
	route->handler(req, resp);
}

static enum MHD_Result http_queue(struct server *srv, struct MHD_Connection *conn,
				  struct http_ctx *ctx, struct http_resp *resp, bool is_api)
{
	struct MHD_Response *r;
	if (resp->upgrade) {
		struct http_upgrade *up = xcalloc(1, sizeof *up);
		*up = (struct http_upgrade){ .fn = resp->upgrade, .release = resp->upgrade_release,
					     .ctx = resp->upgrade_ctx };
		r = MHD_create_response_for_upgrade(http_upgrade_handler, up);
		if (r) {
			resp->upgrade = NULL; /* the upgrade owns ctx now */
			free(ctx->upgrade);
			ctx->upgrade = up;
		} else {
			free(up);
		}
	} else if (resp->stream) {
		struct http_stream *st = xcalloc(1, sizeof *st);
		*st = (struct http_stream){ .next = resp->stream, .release = resp->stream_release,
					    .ctx = resp->stream_ctx, .srv = srv, .conn = conn,
					    .waker = resp->stream_waker };
		resp->stream = NULL; /* owned by the stream now */
		uint64_t size = resp->stream_waker && resp->stream_size >= 0
				    ? (uint64_t)resp->stream_size
				    : MHD_SIZE_UNKNOWN;
		r = MHD_create_response_from_callback(size, HTTP_STREAM_BLOCK, http_stream_read, st,
						      http_stream_free);
		if (!r)
			http_stream_free(st);
	} else if (resp->has_fd) {
		r = MHD_create_response_from_fd_at_offset64(resp->len, resp->fd, resp->fd_offset);
		if (r)
			resp->has_fd = false; /* owned by the response now */
	} else if (resp->static_body)
		r = MHD_create_response_from_buffer(resp->len, (void *)resp->static_body,
						    MHD_RESPMEM_PERSISTENT);
	else {
		r = MHD_create_response_from_buffer_with_free_callback(resp->len, resp->body, free);
		resp->body = NULL; /* owned by the response now */
	}
	if (!r) {
		log_error("http: MHD_create_response failed");
		return MHD_NO;
	}
	if (resp->content_type)
		MHD_add_response_header(r, "Content-Type", resp->content_type);
	for (size_t i = 0; i < resp->nheaders; i++)
		if (MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value) !=
		    MHD_YES)
			log_warn("http: header %s refused by libmicrohttpd", resp->headers[i].name);
	if (!resp->raw) {
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
		MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
		if (is_api)
			MHD_add_response_header(r, "Cache-Control", "no-store");
	}
	ctx->status = resp->status;
	enum MHD_Result ok = MHD_queue_response(conn, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ok;
}

static void http_client_addr(struct MHD_Connection *conn, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, len, "?");
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)len);
}

/* ---- streamed request bodies ----------------------------------------- */

static bool http_stream_route(const char *method, const char *url)
{
	if (!http_routed(url))
		return false;
	struct http_req probe = { 0 };
	bool known;
	char allow[64];
	const struct route *r = routes_match(method, url, &probe, &known, allow, sizeof allow);
	if (!r && !known) {
		/* A DEEPaaS path to redirect is answered before its body is
		 * read: the client sends it again to the new place. */
		char *fixed;
		bool redirect = routes_deepaas_redirect(url, &fixed);
		free(fixed);
		return redirect;
	}
	return r && (r->flags & ROUTE_STREAM_BODY);
}

/* The headers of a streamed-body request are in: route, authenticate and
 * let the handler choose to sink the body or answer now. */
static enum MHD_Result http_sink_begin(struct server *srv, struct MHD_Connection *conn,
				       struct http_ctx *ctx, const char *method, const char *url)
{
	ctx->req = (struct http_req){
		.method = method,
		.path = url,
		.target = ctx->target,
		.body = "",
		.srv = srv,
		.conn = conn,
		.priv = ctx,
		.tls = srv->cfg->tls_cert != NULL,
	};
	http_client_addr(conn, ctx->req.client_addr, sizeof ctx->req.client_addr);
	struct http_resp resp = { .status = 200 };
	http_dispatch(srv, &ctx->req, &resp);
	if (ctx->req.via != HTTP_AUTH_NONE)
		memcpy(ctx->user, ctx->req.who.username, sizeof ctx->user);
	if (ctx->sinking) {
		http_resp_release(&resp);
		return MHD_YES;
	}
	/* Answered before the body: libmicrohttpd skips "100 Continue" and
	 * closes the connection after the answer. */
	enum MHD_Result ok = http_queue(srv, conn, ctx, &resp, true);
	http_resp_release(&resp);
	ctx->answered = true;
	return ok;
}

static enum MHD_Result http_sink_feed(struct server *srv, struct MHD_Connection *conn,
				      struct http_ctx *ctx, const char *data, size_t *size)
{
	struct http_resp resp = { .status = 200 };
	if (*size > 0 && ctx->sink.take) {
		for (;;) {
			long n = ctx->sink.take(ctx->sink.ctx, data, *size, &resp);
			if (n < 0)
				break;
			*size -= (size_t)n;
			data += n;
			if (*size == 0)
				return MHD_YES;
			int p = http_waker_park(http_req_waker(&ctx->req));
			if (p > 0)
				return MHD_YES; /* libmicrohttpd keeps the rest for later */
			if (p < 0) {
				http_resp_error(&resp, 503, "unavailable", "the server is shutting down");
				break;
			}
		}
	} else if (*size > 0) {
		size_t n = *size;
		*size = 0;
		if (ctx->sink.write(ctx->sink.ctx, data, n, &resp) == 0)
			return MHD_YES;
	} else {
		ctx->req.store = http_store_get(srv);
		for (;;) {
			ctx->sink.end(ctx->sink.ctx, &ctx->req, &resp);
			if (!resp.wait)
				break;
			resp.wait = false;
			int p = http_waker_park(http_req_waker(&ctx->req));
			if (p > 0) {
				http_resp_release(&resp);
				return MHD_YES; /* end() again once woken */
			}
			if (p < 0) {
				http_resp_error(&resp, 503, "unavailable",
						"the server is shutting down");
				break;
			}
		}
	}
	enum MHD_Result ok = http_queue(srv, conn, ctx, &resp, true);
	http_resp_release(&resp);
	ctx->answered = true;
	return ok;
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
				   const char *method, const char *version, const char *upload_data,
				   size_t *upload_data_size, void **con_cls)
{
	struct server *srv = cls;
	struct http_ctx *ctx = *con_cls;

	if (!ctx) { /* no URI-log call: cannot happen, but stay safe */
		ctx = xcalloc(1, sizeof *ctx);
		ctx->target = xstrdup(url);
		*con_cls = ctx;
	}
	if (!ctx->started) {
		ctx->started = true;
		clock_gettime(CLOCK_MONOTONIC, &ctx->start);
		ctx->what = xasprintf("%s %s", method, url);
		ctx->max = (size_t)srv->cfg->max_body_kib * 1024;
		if (http_stream_route(method, url))
			return http_sink_begin(srv, conn, ctx, method, url);
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (!cl || strtoull(cl, NULL, 10) <= ctx->max)
			return MHD_YES; /* answer on a later call: keeps keep-alive */
		/* A declared body over the limit is refused before it is sent:
		 * answering now also suppresses "100 Continue". libmicrohttpd
		 * closes the connection afterwards, which is what we want. */
		ctx->too_large = true;
		struct http_resp resp = { .status = 413 };
		http_resp_error(&resp, 413, "too_large", "request body is over the limit of %lld KiB",
				(long long)srv->cfg->max_body_kib);
		enum MHD_Result ok = http_queue(srv, conn, ctx, &resp, true);
		http_resp_release(&resp);
		ctx->answered = true;
		return ok;
	}
	if (ctx->answered) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (ctx->sinking)
		return http_sink_feed(srv, conn, ctx, upload_data, upload_data_size);
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (ctx->too_large || ctx->len + n > ctx->max) {
			/* A chunked body that grew over the limit: drop the rest
			 * and answer 413 once it has all arrived. */
			ctx->too_large = true;
			return MHD_YES;
		}
		if (ctx->len + n + 1 > ctx->cap) {
			ctx->cap = (ctx->len + n + 1) * 2;
			if (ctx->cap > ctx->max + 1)
				ctx->cap = ctx->max + 1;
			ctx->body = xrealloc(ctx->body, ctx->cap);
		}
		memcpy(ctx->body + ctx->len, upload_data, n);
		ctx->len += n;
		return MHD_YES;
	}

	struct http_resp resp = { .status = 200 };
	bool is_api = strncmp(url, "/api/", 5) == 0;
	if (ctx->too_large) {
		http_resp_error(&resp, 413, "too_large", "request body is over the limit of %lld KiB",
				(long long)srv->cfg->max_body_kib);
	} else {
		/* In ctx, not on the stack: a handler that defers its answer
		 * (a sink given now, see http_req_sink) has it in end(). */
		ctx->req = (struct http_req){
			.method = method,
			.path = url,
			.target = ctx->target,
			.priv = ctx,
			.body = ctx->body ? ctx->body : "",
			.body_len = ctx->len,
			.srv = srv,
			.conn = conn,
			.tls = srv->cfg->tls_cert != NULL,
		};
		if (ctx->body)
			ctx->body[ctx->len] = '\0';
		http_client_addr(conn, ctx->req.client_addr, sizeof ctx->req.client_addr);
		http_dispatch(srv, &ctx->req, &resp);
		if (ctx->req.via != HTTP_AUTH_NONE)
			memcpy(ctx->user, ctx->req.who.username, sizeof ctx->user);
		if (ctx->sinking) { /* deferred: the sink's end() answers */
			http_resp_release(&resp);
			size_t none = 0;
			return http_sink_feed(srv, conn, ctx, NULL, &none);
		}
	}
	enum MHD_Result ok = http_queue(srv, conn, ctx, &resp, is_api);
	http_resp_release(&resp);
	(void)version;
	return ok;
}

static void *http_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_ctx *ctx = xcalloc(1, sizeof *ctx);
	ctx->target = xstrdup(uri);
	return ctx;
}

static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			   enum MHD_RequestTerminationCode toe)
{
	struct http_ctx *ctx = *con_cls;
	if (!ctx)
		return;
	if (!ctx->started) { /* refused by libmicrohttpd before our handler ran */
		free(ctx->target);
		free(ctx);
		*con_cls = NULL;
		return;
	}
	struct timespec end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	double ms = (double)(end.tv_sec - ctx->start.tv_sec) * 1e3 +
		    (double)(end.tv_nsec - ctx->start.tv_nsec) / 1e6;
	char addr[64];
	http_client_addr(conn, addr, sizeof addr);
	log_info("http: %s %s %d %.1fms user=%s%s", addr, ctx->what, ctx->status, ms,
		 ctx->user[0] ? ctx->user : "-",
		 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
	if (ctx->sinking && ctx->sink.release)
		ctx->sink.release(ctx->sink.ctx);
	if (ctx->upgrade) {
		if (!ctx->upgrade->taken && ctx->upgrade->release)
			ctx->upgrade->release(ctx->upgrade->ctx);
		free(ctx->upgrade);
	}
	/* A request completes only when it is not parked (libmicrohttpd does
	 * not look at suspended connections), so its waker is on no list.
	 * Not locked: libmicrohttpd may call this with its own lock held (an
	 * upgraded connection), and http_wake takes that lock under ours. */
	free(ctx->waker);
	free(ctx->target);
	free(ctx->what);
	free(ctx->body);
	free(ctx);
	*con_cls = NULL;
}

/* ---- start and stop -------------------------------------------------- */

static void http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char *msg = xvasprintf(fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warn("libmicrohttpd: %s", msg);
	free(msg);
}

/* Parse "ADDR:PORT" or "[V6ADDR]:PORT" into ss; 0 or -1. */
static int http_parse_listen(const char *listen, struct sockaddr_storage *ss, char **cause)
{
	memset(ss, 0, sizeof *ss);
	const char *colon = strrchr(listen, ':');
	if (!colon || colon == listen) {
		*cause = xasprintf("--listen %s: expected ADDR:PORT", listen);
		return -1;
	}
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 0 || port > 65535) {
		*cause = xasprintf("--listen %s: port must be 0 to 65535", listen);
		return -1;
	}
	char host[128];
	size_t hl = (size_t)(colon - listen);
	if (listen[0] == '[' && hl >= 2 && listen[hl - 1] == ']')
		listen++, hl -= 2;
	if (hl >= sizeof host) {
		*cause = xasprintf("--listen %s: address too long", listen);
		return -1;
	}
	memcpy(host, listen, hl);
	host[hl] = '\0';
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
	} else {
		*cause = xasprintf("--listen %s: '%s' is not an IPv4 or IPv6 address", listen, host);
		return -1;
	}
	return 0;
}

int http_start(struct server *srv, char **cause)
{
	const struct config *cfg = srv->cfg;
	struct sockaddr_storage ss;
	if (http_parse_listen(cfg->listen, &ss, cause) < 0)
		return -1;
	char *cert = NULL, *key = NULL;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (cfg->tls_cert) {
		int rc = fsio_read_file(cfg->tls_cert, 1 << 20, &cert, NULL);
		if (rc == 0 && (rc = fsio_read_file(cfg->tls_key, 1 << 20, &key, NULL)) < 0)
			free(cert), cert = NULL;
		if (rc < 0) {
			*cause = xasprintf("cannot read TLS certificate or key: %s", strerror(-rc));
			return -1;
		}
		flags |= MHD_USE_TLS;
	}
	struct MHD_OptionItem tls_opts[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, key },
		{ MHD_OPTION_END, 0, NULL },
	};
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, 0, NULL, NULL, http_access, srv,
		/* The logger first, so that errors about later options reach it. */
		MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
		MHD_OPTION_NOTIFY_COMPLETED, http_completed, srv,
		MHD_OPTION_URI_LOG_CALLBACK, http_uri_log, srv,
		MHD_OPTION_CONNECTION_TIMEOUT, 120u,
		/* Each connection's memory pool: half of it is the read buffer
		 * (bigger reads for uploads), and libmicrohttpd zeroes what it
		 * gives back, so all of it is touched: it is what every open
		 * connection costs, a proxied WebSocket included. */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
		MHD_OPTION_CONNECTION_LIMIT, 4096u,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
		MHD_OPTION_ARRAY, cert ? tls_opts : &tls_opts[2],
		MHD_OPTION_END);
	/* libmicrohttpd copies nothing: it keeps pointers to cert and key for
	 * the daemon's life, so they are freed in http_stop(). */
	if (!d) {
		free(cert);
		free(key);
		*cause = xasprintf("cannot listen on %s (address in use, or bad TLS files?)", cfg->listen);
		return -1;
	}
	srv->http = d;
	http_streams.stopping = false;
	http_wakers.stopping = false;
	if (pthread_create(&http_streams.waker, NULL, http_streams_waker, NULL) == 0)
		http_streams.running = true;
	else
		log_error("http: cannot start the stream waker thread; streams will stall");
	srv->tls_material[0] = cert;
	srv->tls_material[1] = key;
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	unsigned port = di ? di->port : 0;
	char host[64] = "?";
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
	log_info("listening on %s://%s%s%s:%u/ (%lld worker threads)", cert ? "https" : "http",
		 ss.ss_family == AF_INET6 ? "[" : "", host, ss.ss_family == AF_INET6 ? "]" : "", port,
		 (long long)cfg->threads);
	return 0;
}

void http_stop(struct server *srv)
{
	if (!srv->http)
		return;
	/* Suspended connections must be resumed before the daemon stops; the
	 * stopping flag makes their streams end instead of sleeping again. */
	pthread_mutex_lock(&http_streams.lock);
	http_streams.stopping = true;
	http_streams_resume_all();
	pthread_cond_signal(&http_streams.cond);
	pthread_mutex_unlock(&http_streams.lock);
	pthread_mutex_lock(&http_wakers.lock);
	http_wakers.stopping = true;
	while (http_wakers.parked)
		http_waker_resume(http_wakers.parked);
	pthread_mutex_unlock(&http_wakers.lock);
	if (http_streams.running)
		pthread_join(http_streams.waker, NULL);
	http_streams.running = false;
	MHD_stop_daemon(srv->http);
	srv->http = NULL;
	free(srv->tls_material[0]);
	free(srv->tls_material[1]);
	pthread_mutex_lock(&http_stores.lock);
	for (size_t i = 0; i < http_stores.n; i++)
		store_close(http_stores.all[i]);
	free(http_stores.all);
	http_stores.all = NULL;
	http_stores.n = 0;
	pthread_mutex_unlock(&http_stores.lock);
}
