/*
 * server/proxy — /s/{id}/... to a session's backend (see proxy.h).
 *
 * One request, from the worker's point of view:
 *
 *   proxy_handle   checks, connects (non-blocking), writes the request
 *                  head as far as the socket takes it, and hands the body
 *                  to a sink;
 *   proxy_take     writes body chunks to the backend as far as it takes
 *                  them (re-chunked when the client's body was chunked);
 *                  what it cannot take waits in libmicrohttpd's buffer
 *                  while the request is parked;
 *   proxy_end      finishes the request, reads the response head (parked
 *                  until it is whole), and answers: the backend's status
 *                  and headers, then a stream of its body (proxy_next:
 *                  Content-Length, chunked, or until close; chunked bodies
 *                  are decoded and libmicrohttpd re-chunks for the client),
 *                  or, for an accepted WebSocket upgrade, a 101 after
 *                  which server/relay owns both sockets;
 *   proxy_release  at completion, however it ended.
 *
 * Every wait is a park (http.h) on a relay watch of the backend socket:
 * EAGAIN arms the watch first, then the call returns "not yet".
 *
 * Backend connections are kept alive between requests (a few idle ones
 * per session, PROXY_IDLE_*): a new connection costs the backend an
 * accept and a connection object (in Python, more than the rest of a
 * small request). A request without a body that finds its reused
 * connection closed before any byte of an answer is sent again once on a
 * new connection; a request with a body always gets a new connection, as
 * it could not be replayed.
 */
#include "server/proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "identity/fsident.h"
#include "lib/httpmsg.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/auth.h"
#include "server/relay.h"
#include "server/sessprobe.h"
#include "server/ws.h"
#include "store/sessions.h"
#include "store/users.h"

enum {
	PROXY_HEAD_INITIAL = 4096,
	PROXY_STATS_BUCKETS = 256,
	PROXY_RETRY_AFTER_S = 2,    /* what a 503 asks a client to wait */
	PROXY_NOFILE = 65536,	    /* open files wanted: two per proxied WebSocket */
	PROXY_IDLE_PER_SESSION = 8, /* idle backend connections kept per session */
	PROXY_IDLE_MAX = 256,	    /* and in all */
	PROXY_IDLE_MS = 15 * 1000,  /* and for how long */
	PROXY_OWNER_MS = 60 * 1000, /* an owner's identity (groups) is read again after */
};

/* ---- per-session activity ------------------------------------------------------ */

/* One entry per session proxied since the daemon started; never freed
 * (a few dozen bytes each), so relays and monitors may keep pointers. */
struct proxy_stats {
	int64_t session_id;
	struct relay_stats relay; /* WebSockets: open count, last byte */
	_Atomic int64_t active_s; /* HTTP: last request or body chunk */
	atomic_int requests;
	/* The owner's file-system identity, for connecting to the socket:
	 * cached (under proxy_table.lock), since loading it reads the group
	 * database. */
	bool have_owner;
	int64_t owner_user, owner_ms;
	struct fsident owner;
	struct proxy_stats *next;
};

static struct {
	pthread_mutex_t lock;
	struct proxy_stats *buckets[PROXY_STATS_BUCKETS];
} proxy_table = {.lock = PTHREAD_MUTEX_INITIALIZER};

static struct proxy_stats *proxy_stats_find(int64_t id, bool create)
{
	size_t b = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ull >> 56) % PROXY_STATS_BUCKETS;
	pthread_mutex_lock(&proxy_table.lock);
	struct proxy_stats *s = proxy_table.buckets[b];
	while (s && s->session_id != id)
		s = s->next;
	if (!s && create) {
		s = xcalloc(1, sizeof *s);
		s->session_id = id;
		s->active_s = -1;
		s->relay.active_s = -1;
		s->next = proxy_table.buckets[b];
		proxy_table.buckets[b] = s;
	}
	pthread_mutex_unlock(&proxy_table.lock);
	return s;
}

void proxy_session_stats(int64_t session_id, struct proxy_session_stats *out)
{
	*out = (struct proxy_session_stats){.last_activity = -1};
	struct proxy_stats *s = proxy_stats_find(session_id, false);
	if (!s)
		return;
	int64_t a = atomic_load(&s->active_s), r = atomic_load(&s->relay.active_s);
	out->last_activity = a > r ? a : r;
	out->requests = atomic_load(&s->requests);
	out->websockets = atomic_load(&s->relay.open);
}

int64_t proxy_last_activity(int64_t session_id)
{
	struct proxy_session_stats st;
	proxy_session_stats(session_id, &st);
	return st.last_activity;
}

/* ---- a growing byte buffer --------------------------------------------------------- */

struct proxy_buf {
	char *p;
	size_t len, cap;
};

static void proxy_buf_add(struct proxy_buf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 > 512 ? (b->len + n) * 2 : 512;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void proxy_buf_str(struct proxy_buf *b, const char *s)
{
	proxy_buf_add(b, s, strlen(s));
}

static void proxy_buf_header(struct proxy_buf *b, const char *name, const char *value)
{
	proxy_buf_str(b, name);
	proxy_buf_add(b, ": ", 2);
	proxy_buf_str(b, value);
	proxy_buf_add(b, "\r\n", 2);
}

/* ---- idle backend connections ------------------------------------------------------ */

struct proxy_idle {
	int fd;
	int64_t id;
	char addr[128]; /* where it goes: a socket path, or 127.0.0.1:PORT */
	int64_t since_ms;
	struct proxy_idle *next;
};

static struct {
	pthread_mutex_t lock;
	struct proxy_idle *list; /* newest first */
	size_t n;
} proxy_pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int64_t proxy_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An idle connection of session id to addr that still looks open, or -1. */
static int proxy_pool_take(int64_t id, const char *addr)
{
	int64_t now = proxy_now_ms();
	for (;;) {
		pthread_mutex_lock(&proxy_pool.lock);
		struct proxy_idle **pp = &proxy_pool.list, *e = NULL;
		for (; *pp; pp = &(*pp)->next)
			if ((*pp)->id == id && strcmp((*pp)->addr, addr) == 0) {
				e = *pp;
				*pp = e->next;
				proxy_pool.n--;
				break;
			}
		pthread_mutex_unlock(&proxy_pool.lock);
		if (!e)
			return -1;
		int fd = e->fd;
		bool fresh = now - e->since_ms < PROXY_IDLE_MS;
		free(e);
		/* Closed by the backend meanwhile, or saying something unasked:
		 * either way not for a new request. */
		char c;
		if (fresh && recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK))
			return fd;
		close(fd);
	}
}

static void proxy_pool_put(int64_t id, const char *addr, int fd)
{
	struct proxy_idle *e = xcalloc(1, sizeof *e), *drop = NULL;
	e->fd = fd;
	e->id = id;
	snprintf(e->addr, sizeof e->addr, "%s", addr);
	e->since_ms = proxy_now_ms();
	pthread_mutex_lock(&proxy_pool.lock);
	e->next = proxy_pool.list;
	proxy_pool.list = e;
	proxy_pool.n++;
	/* Over a limit, or too old: the oldest of the session's go first. */
	size_t mine = 0;
	for (struct proxy_idle **pp = &proxy_pool.list; *pp;) {
		struct proxy_idle *x = *pp;
		if (x->id == id)
			mine++;
		if ((x->id == id && mine > PROXY_IDLE_PER_SESSION) ||
		    e->since_ms - x->since_ms >= PROXY_IDLE_MS ||
		    (proxy_pool.n > PROXY_IDLE_MAX && !x->next)) {
			*pp = x->next;
			proxy_pool.n--;
			x->next = drop;
			drop = x;
			continue;
		}
		pp = &x->next;
	}
	pthread_mutex_unlock(&proxy_pool.lock);
	while (drop) {
		struct proxy_idle *x = drop;
		drop = x->next;
		close(x->fd);
		free(x);
	}
}

/* ---- the owner's identity ----------------------------------------------------------- */

/* A session's socket lives in a directory its owner controls, who could
 * swap it for a link to any other socket of the machine: kaon connects
 * with the owner's file-system identity (identity/fsident.h), so the
 * kernel allows only what the owner could reach anyway. 0 with *out, or
 * -errno (the user or its Unix account is gone). */
static int proxy_owner(struct store *st, struct proxy_stats *s, int64_t user_id,
		       struct fsident *out)
{
	int64_t now = proxy_now_ms();
	pthread_mutex_lock(&proxy_table.lock);
	bool hit = s->have_owner && s->owner_user == user_id && now - s->owner_ms < PROXY_OWNER_MS;
	if (hit)
		*out = s->owner;
	pthread_mutex_unlock(&proxy_table.lock);
	if (hit)
		return 0;
	struct store_user u = {0};
	int rc = store_user_get_by_id(st, user_id, &u);
	if (rc == 0)
		rc = fsident_load(u.unix_user, (uid_t)u.uid, (gid_t)u.gid, out);
	store_user_clear(&u);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&proxy_table.lock);
	s->owner = *out;
	s->owner_user = user_id;
	s->owner_ms = now;
	s->have_owner = true;
	pthread_mutex_unlock(&proxy_table.lock);
	return 0;
}

/* ---- one proxied request ----------------------------------------------------------- */

enum proxy_body { PROXY_BODY_NONE, PROXY_BODY_LENGTH, PROXY_BODY_CHUNKED, PROXY_BODY_CLOSE };

struct proxy_conn {
	int64_t id;
	int fd;		/* the backend connection; -1 once the relay has it */
	char addr[128]; /* where it goes (proxy_pool) */
	bool reused;	/* fd came from the pool */
	bool bodyless;	/* the request has no body: it can be sent again */
	bool keep;	/* the backend keeps the connection open after this answer */
	bool reusable;	/* the answer was read exactly to its end: fd may go back */
	bool extra;	/* the backend sent bytes past the end of its answer */
	struct store_session_route route; /* for a resend on a new connection */
	struct fsident owner;		  /* the same */
	char *head;			  /* the request head, kept while a resend may be needed */
	size_t head_len;
	struct http_waker *waker;
	struct relay_watch *watch;
	struct proxy_stats *stats;
	bool upgrade;	/* the client asked for a WebSocket */
	bool head_only; /* HEAD: the answer has no body */
	bool failed;	/* the backend stopped taking the request: the rest is dropped */
	int failed_errno;
	/* Towards the backend: bytes not yet written (the head, chunk framing). */
	struct proxy_buf out;
	size_t out_off;
	bool chunked_up; /* the body goes chunked (the client's was) */
	uint64_t chunk_left;
	bool body_ended;
	/* From the backend: the response head while it arrives, then the
	 * body bytes that came with it (from in_off). */
	char *in;
	size_t in_len, in_cap, in_off;
	enum proxy_body body;
	uint64_t left; /* PROXY_BODY_LENGTH: bytes still to come */
	struct httpmsg_chunked ch;
	bool ch_done;
};

static void proxy_touch(struct proxy_conn *pc)
{
	atomic_store_explicit(&pc->stats->active_s, (int64_t)time(NULL), memory_order_relaxed);
}

static void proxy_arm(struct proxy_conn *pc, bool out)
{
	relay_watch_arm(pc->watch, out);
}

/* The backend takes no more of the request now. When it has begun to
 * answer (or closed) meanwhile, it will not read the rest: stop sending
 * (pc->failed; the answer is read all the same) and return -1. Else wait
 * until it takes more, or answers, and return 0. */
static int proxy_blocked(struct proxy_conn *pc)
{
	char c;
	ssize_t n = recv(pc->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		pc->failed = true;
		pc->failed_errno = n < 0 ? errno : 0;
		return -1;
	}
	relay_watch_arm(pc->watch, true); /* writable, or readable: see relay.h */
	return 0;
}

/* Write what waits in pc->out. 1: all written; 0: the socket is full (a
 * watch is armed); -1: the backend stopped taking it (pc->failed). */
static int proxy_flush(struct proxy_conn *pc)
{
	while (pc->out_off < pc->out.len) {
		ssize_t n = write(pc->fd, pc->out.p + pc->out_off, pc->out.len - pc->out_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return proxy_blocked(pc);
		if (n < 0) {
			pc->failed = true;
			pc->failed_errno = errno;
			return -1;
		}
		pc->out_off += (size_t)n;
	}
	pc->out.len = pc->out_off = 0;
	return 1;
}

static long proxy_take(void *ctx, const char *data, size_t len, struct http_resp *resp)
{
	struct proxy_conn *pc = ctx;
	(void)resp;
	proxy_touch(pc);
	size_t done = 0;
	while (done < len && !pc->failed) {
		int rc = proxy_flush(pc);
		if (rc == 0)
			return (long)done;
		if (rc < 0)
			break;
		if (pc->chunked_up && pc->chunk_left == 0) {
			char line[32];
			int n = snprintf(line, sizeof line, "%zx\r\n", len - done);
			proxy_buf_add(&pc->out, line, (size_t)n);
			pc->chunk_left = len - done;
			continue;
		}
		size_t n = len - done;
		if (pc->chunked_up && n > pc->chunk_left)
			n = (size_t)pc->chunk_left;
		ssize_t w = write(pc->fd, data + done, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (proxy_blocked(pc) < 0)
				break;
			return (long)done;
		}
		if (w < 0) {
			pc->failed = true;
			pc->failed_errno = errno;
			break;
		}
		done += (size_t)w;
		if (pc->chunked_up && (pc->chunk_left -= (uint64_t)w) == 0)
			proxy_buf_add(&pc->out, "\r\n", 2);
	}
	/* Failed: the rest of the body is read and dropped, so that the
	 * answer (the backend's, or a 502) can be sent once it is all in. */
	return (long)len;
}

/* ---- the response head ---------------------------------------------------------------- */

static const char *const proxy_hop_by_hop[] = {
    "Connection", "Keep-Alive",		"Proxy-Connection",    "TE", "Trailer", "Transfer-Encoding",
    "Upgrade",	  "Proxy-Authenticate", "Proxy-Authorization",
};

static bool proxy_is_hop(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof proxy_hop_by_hop / sizeof proxy_hop_by_hop[0]; i++)
		if (strlen(proxy_hop_by_hop[i]) == len &&
		    strncasecmp(proxy_hop_by_hop[i], name, len) == 0)
			return true;
	return false;
}

/* Whether the name is one of the tokens of a Connection header value
 * (those headers are for this hop only too). */
static bool proxy_in_connection(const char *connection, size_t clen, const char *name, size_t len)
{
	char tok[64];
	if (!connection || len >= sizeof tok)
		return false;
	memcpy(tok, name, len);
	tok[len] = '\0';
	return httpmsg_has_token(connection, clen, tok);
}

static void proxy_fail(struct http_resp *resp, int64_t id, const char *fmt, const char *detail)
{
	log_warn("proxy: session %" PRId64 ": %s%s%s", id, fmt, detail ? ": " : "",
		 detail ? detail : "");
	http_resp_error(resp, 502, "bad_gateway", "session %" PRId64 ": its server %s%s%s", id, fmt,
			detail ? ": " : "", detail ? detail : "");
}

/* Content-Length: digits, or a list of the same digits (RFC 9112 6.3). */
static int proxy_content_length(const struct httpmsg_field *f, uint64_t *out)
{
	uint64_t v = 0;
	bool have = false, digit = false;
	uint64_t cur = 0;
	for (size_t i = 0; i <= f->value_len; i++) {
		char c = i < f->value_len ? f->value[i] : ',';
		if (c >= '0' && c <= '9') {
			if (cur > (UINT64_MAX - 9) / 10)
				return -1;
			cur = cur * 10 + (uint64_t)(c - '0');
			digit = true;
		} else if (c == ',') {
			if (!digit || (have && cur != v))
				return -1;
			v = cur, have = true, cur = 0, digit = false;
		} else if (c != ' ' && c != '\t') {
			return -1;
		}
	}
	*out = v;
	return 0;
}

static long proxy_next(void *ctx, struct store *st, char *buf, size_t len);
static int proxy_connect(const struct store_session_route *r, const struct fsident *owner);
static void proxy_upgraded(void *ctx, int fd, const char *extra, size_t extra_len,
			   struct http_upgrade *up);

/* Turn the backend's head into our answer. */
static void proxy_answer(struct proxy_conn *pc, const struct httpmsg_head *h,
			 struct http_resp *resp)
{
	const char *connection = NULL;
	size_t clen = 0;
	bool have_length = false, chunked = false, other_coding = false;
	uint64_t length = 0;
	for (size_t i = 0; i < h->nfields; i++) {
		const struct httpmsg_field *f = &h->fields[i];
		if (httpmsg_name_is(f, "Connection"))
			connection = f->value, clen = f->value_len;
	}
	for (size_t i = 0; i < h->nfields; i++) {
		const struct httpmsg_field *f = &h->fields[i];
		if (httpmsg_name_is(f, "Transfer-Encoding")) {
			/* Chunked must be the last coding; anything else means
			 * "until close" (RFC 9112 6.3). */
			if (httpmsg_has_token(f->value, f->value_len, "chunked"))
				chunked = true;
			else
				other_coding = true;
			continue;
		}
		if (httpmsg_name_is(f, "Content-Length")) {
			uint64_t v;
			if (proxy_content_length(f, &v) < 0 || (have_length && v != length)) {
				proxy_fail(resp, pc->id, "answered a bad Content-Length", NULL);
				return;
			}
			have_length = true, length = v;
			continue;
		}
		/* The 101's Upgrade is what the client switches to (its
		 * Connection header, which names it, libmicrohttpd adds). */
		bool upgrade_hdr = pc->upgrade && h->status == 101 && httpmsg_name_is(f, "Upgrade");
		if (!upgrade_hdr && (proxy_is_hop(f->name, f->name_len) ||
				     proxy_in_connection(connection, clen, f->name, f->name_len)))
			continue;
		if (httpmsg_name_is(f, "Set-Cookie") && f->value_len > strlen(AUTH_COOKIE) &&
		    strncmp(f->value, AUTH_COOKIE "=", strlen(AUTH_COOKIE) + 1) == 0) {
			/* A backend must not set (or fix) kaon's own session. */
			log_warn("proxy: session %" PRId64 ": dropped a Set-Cookie of %s", pc->id,
				 AUTH_COOKIE);
			continue;
		}
		char *name = xstrndup(f->name, f->name_len),
		     *value = xstrndup(f->value, f->value_len);
		http_resp_header(resp, name, value);
		free(name);
		free(value);
	}
	resp->raw = true;
	pc->keep = h->minor >= 1 && !(connection && httpmsg_has_token(connection, clen, "close"));
	if (h->status == 101) {
		if (!pc->upgrade) {
			proxy_fail(resp, pc->id, "switched protocols unasked", NULL);
			return;
		}
		http_resp_upgrade(resp, proxy_upgraded, NULL, pc);
		return;
	}
	if (chunked && !other_coding)
		pc->body = PROXY_BODY_CHUNKED;
	else if (chunked || other_coding)
		pc->body = PROXY_BODY_CLOSE;
	else if (have_length)
		pc->body = PROXY_BODY_LENGTH, pc->left = length;
	else
		pc->body = PROXY_BODY_CLOSE;
	bool framed = pc->body != PROXY_BODY_CLOSE;
	if (h->status == 204 || h->status == 304 || h->status < 200) {
		pc->body = PROXY_BODY_NONE;
		pc->reusable = pc->keep && pc->in_len == h->len;
		http_resp_empty(resp, h->status);
		return;
	}
	long long size = pc->body == PROXY_BODY_LENGTH ? (long long)length : -1;
	if (pc->head_only) {
		/* libmicrohttpd sends no body for HEAD and never asks for one;
		 * the length still goes out as Content-Length. */
		pc->body = PROXY_BODY_NONE;
		pc->reusable = pc->keep && framed && pc->in_len == h->len;
		if (size < 0) {
			http_resp_empty(resp, h->status);
			return;
		}
	} else if (size == 0) {
		pc->reusable = pc->keep && pc->in_len == h->len;
		http_resp_empty(resp, h->status);
		return;
	}
	http_resp_stream_woken(resp, h->status, size, proxy_next, NULL, pc, pc->waker);
}

/* A kept connection turned out closed before it answered: the request
 * (without a body) goes again on a new one. 0, or -1 when that fails. */
static int proxy_resend(struct proxy_conn *pc)
{
	relay_watch_free(pc->watch);
	pc->watch = NULL;
	close(pc->fd);
	pc->reused = false;
	pc->failed = false;
	pc->failed_errno = 0;
	pc->fd = proxy_connect(&pc->route, &pc->owner);
	if (pc->fd < 0) {
		pc->failed_errno = -pc->fd;
		pc->failed = true;
		return -1;
	}
	pc->watch = relay_watch_new(pc->fd, pc->waker);
	if (!pc->watch)
		return -1;
	pc->out.len = pc->out_off = 0;
	proxy_buf_add(&pc->out, pc->head, pc->head_len);
	return proxy_flush(pc) < 0 ? -1 : 0;
}

/* Read until the response head is whole. 1: answered (resp filled);
 * 0: parked for more. */
static int proxy_read_head(struct proxy_conn *pc, struct http_resp *resp)
{
	for (;;) {
		if (pc->in_len > 0) {
			struct httpmsg_head h;
			int rc = httpmsg_parse_response(pc->in, pc->in_len, &h);
			if (rc < 0) {
				proxy_fail(resp, pc->id, "answered something that is not HTTP/1.1",
					   NULL);
				return 1;
			}
			if (rc > 0 && h.status < 200 && h.status != 101) {
				/* 100 Continue, 103 Early Hints: not passed on. */
				memmove(pc->in, pc->in + h.len, pc->in_len - h.len);
				pc->in_len -= h.len;
				continue;
			}
			if (rc > 0) {
				proxy_answer(pc, &h, resp);
				pc->in_off = h.len;
				return 1;
			}
			if (pc->in_len >= PROXY_HEAD_MAX) {
				char what[64];
				snprintf(what, sizeof what, "over %d KiB", PROXY_HEAD_MAX / 1024);
				proxy_fail(resp, pc->id, "answered a head too large", what);
				return 1;
			}
		}
		if (pc->in_len == pc->in_cap) {
			pc->in_cap = pc->in_cap ? pc->in_cap * 2 : PROXY_HEAD_INITIAL;
			if (pc->in_cap > PROXY_HEAD_MAX)
				pc->in_cap = PROXY_HEAD_MAX;
			pc->in = xrealloc(pc->in, pc->in_cap);
		}
		ssize_t n = read(pc->fd, pc->in + pc->in_len, pc->in_cap - pc->in_len);
		if (n > 0) {
			pc->in_len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			proxy_arm(pc, false);
			return 0;
		}
		int err = n < 0 ? errno : pc->failed_errno;
		if (pc->reused && pc->in_len == 0 && proxy_resend(pc) == 0)
			continue;
		proxy_fail(resp, pc->id, "closed the connection without an answer",
			   err ? strerror(err) : NULL);
		return 1;
	}
}

static void proxy_end(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct proxy_conn *pc = ctx;
	(void)req;
	if (!pc->failed) {
		if (pc->chunked_up && !pc->body_ended) {
			proxy_buf_str(&pc->out, "0\r\n\r\n");
			pc->body_ended = true;
		}
		if (proxy_flush(pc) == 0) {
			http_resp_wait(resp);
			return;
		}
	}
	if (proxy_read_head(pc, resp) == 0)
		http_resp_wait(resp);
}

/* ---- the response body -------------------------------------------------------------- */

static long proxy_next(void *ctx, struct store *st, char *buf, size_t len)
{
	struct proxy_conn *pc = ctx;
	(void)st;
	for (;;) {
		if (pc->body == PROXY_BODY_NONE ||
		    (pc->body == PROXY_BODY_LENGTH && pc->left == 0) ||
		    (pc->body == PROXY_BODY_CHUNKED && pc->ch_done)) {
			/* Read exactly to its end: the connection may serve again. */
			pc->reusable = pc->keep && pc->body != PROXY_BODY_NONE && !pc->extra &&
				       pc->in_off >= pc->in_len;
			return HTTP_STREAM_END;
		}
		size_t want = len;
		if (pc->body == PROXY_BODY_LENGTH && pc->left < want)
			want = (size_t)pc->left;
		ssize_t n;
		if (pc->in_off < pc->in_len) {
			n = (ssize_t)(pc->in_len - pc->in_off < want ? pc->in_len - pc->in_off
								     : want);
			memcpy(buf, pc->in + pc->in_off, (size_t)n);
			pc->in_off += (size_t)n;
			if (pc->in_off ==
			    pc->in_len) { /* the head's buffer is not needed any more */
				free(pc->in);
				pc->in = NULL;
				pc->in_len = pc->in_off = pc->in_cap = 0;
			}
		} else {
			n = read(pc->fd, buf, want);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				proxy_arm(pc, false);
				return 0;
			}
			if (n <= 0) {
				if (n == 0 && pc->body == PROXY_BODY_CLOSE)
					return HTTP_STREAM_END;
				log_warn("proxy: session %" PRId64 ": the body was cut short%s%s",
					 pc->id, n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
				return HTTP_STREAM_ERROR;
			}
		}
		proxy_touch(pc);
		if (pc->body == PROXY_BODY_CHUNKED) {
			size_t used, out;
			int rc = httpmsg_chunked_decode(&pc->ch, buf, (size_t)n, &used, &out);
			if (rc < 0) {
				log_warn("proxy: session %" PRId64 ": bad chunked encoding",
					 pc->id);
				return HTTP_STREAM_ERROR;
			}
			pc->ch_done = rc > 0;
			pc->extra = pc->extra || used < (size_t)n;
			if (out > 0)
				return (long)out;
			continue; /* framing only */
		}
		/* With a known length libmicrohttpd asks for no more once it has
		 * it all, so the end is noticed here. */
		if (pc->body == PROXY_BODY_LENGTH && (pc->left -= (uint64_t)n) == 0)
			pc->reusable = pc->keep && pc->in_off >= pc->in_len;
		return (long)n;
	}
}

/* ---- WebSockets ---------------------------------------------------------------------- */

static void proxy_upgraded(void *ctx, int fd, const char *extra, size_t extra_len,
			   struct http_upgrade *up)
{
	struct proxy_conn *pc = ctx;
	relay_watch_free(pc->watch);
	pc->watch = NULL;
	const char *to_client = pc->in ? pc->in + pc->in_off : NULL;
	relay_pipe(fd, up, pc->fd, extra, extra_len, to_client, pc->in_len - pc->in_off,
		   &pc->stats->relay);
	pc->fd = -1;
	free(pc->in);
	pc->in = NULL;
	pc->in_len = pc->in_off = pc->in_cap = 0;
	free(pc->out.p);
	pc->out = (struct proxy_buf){0};
}

static void proxy_release(void *ctx)
{
	struct proxy_conn *pc = ctx;
	/* For an upgraded connection this runs with a lock of libmicrohttpd
	 * held; the watch is long gone then (proxy_upgraded). */
	relay_watch_free(pc->watch);
	if (pc->fd >= 0 && pc->reusable && !pc->failed)
		proxy_pool_put(pc->id, pc->addr, pc->fd);
	else if (pc->fd >= 0)
		close(pc->fd);
	atomic_fetch_sub(&pc->stats->requests, 1);
	free(pc->in);
	free(pc->out.p);
	free(pc->head);
	free(pc);
}

/* ---- the request ----------------------------------------------------------------------- */

struct proxy_head_ctx {
	struct proxy_buf *b;
	const char *connection;
	bool upgrade;
};

/* The Cookie header without kaon's own session cookie; NULL when nothing
 * is left. */
static char *proxy_cookie_filter(const char *value)
{
	struct proxy_buf b = {0};
	const char *p = value;
	size_t kl = strlen(AUTH_COOKIE);
	while (*p) {
		while (*p == ' ' || *p == ';')
			p++;
		const char *e = strchrnul(p, ';');
		size_t n = (size_t)(e - p);
		while (n && p[n - 1] == ' ')
			n--;
		bool ours =
		    n > kl && strncmp(p, AUTH_COOKIE, kl) == 0 && (p[kl] == '=' || p[kl] == ' ');
		if (n && !ours) {
			if (b.len)
				proxy_buf_add(&b, "; ", 2);
			proxy_buf_add(&b, p, n);
		}
		p = e;
	}
	if (!b.len)
		return NULL;
	proxy_buf_add(&b, "", 1);
	return b.p;
}

static int proxy_copy_header(void *ctx, const char *name, const char *value)
{
	struct proxy_head_ctx *c = ctx;
	static const char *const dropped[] = {
	    /* Replaced by ours, or decided here. */
	    "Authorization",   "Content-Length",    "Expect",		"Forwarded",
	    "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Real-IP",
	};
	size_t len = strlen(name);
	if (proxy_is_hop(name, len) ||
	    proxy_in_connection(c->connection, c->connection ? strlen(c->connection) : 0, name,
				len))
		return 0;
	for (size_t i = 0; i < sizeof dropped / sizeof dropped[0]; i++)
		if (strcasecmp(name, dropped[i]) == 0)
			return 0;
	if (strcasecmp(name, "Cookie") == 0) {
		char *kept = proxy_cookie_filter(value);
		if (kept)
			proxy_buf_header(c->b, name, kept);
		free(kept);
		return 0;
	}
	proxy_buf_header(c->b, name, value);
	return 0;
}

static void proxy_build_head(struct proxy_conn *pc, struct http_req *req,
			     const struct store_session_route *route, const char *length)
{
	struct proxy_buf *b = &pc->out;
	proxy_buf_str(b, req->method);
	proxy_buf_add(b, " ", 1);
	proxy_buf_str(b, req->target);
	proxy_buf_str(b, " HTTP/1.1\r\n");
	struct proxy_head_ctx c = {b, http_req_header(req, "Connection"), pc->upgrade};
	http_req_headers(req, proxy_copy_header, &c);
	/* Otherwise no Connection header: HTTP/1.1 keeps it open (the pool). */
	if (pc->upgrade) {
		proxy_buf_header(b, "Connection", "Upgrade");
		proxy_buf_header(b, "Upgrade", http_req_header(req, "Upgrade"));
	}
	if (length)
		proxy_buf_header(b, "Content-Length", length);
	else if (pc->chunked_up)
		proxy_buf_header(b, "Transfer-Encoding", "chunked");
	proxy_buf_str(b, "Authorization: token ");
	proxy_buf_str(b, route->secret);
	proxy_buf_str(b, "\r\n");
	proxy_buf_header(b, "X-Forwarded-For", req->client_addr);
	proxy_buf_header(b, "X-Forwarded-Proto", req->tls ? "https" : "http");
	const char *host = http_req_header(req, "Host");
	if (host)
		proxy_buf_header(b, "X-Forwarded-Host", host);
	proxy_buf_add(b, "\r\n", 2);
}

/* Where the backend listens, as the pool and messages name it. */
static void proxy_addr(const struct store_session_route *r, char *out, size_t len)
{
	if (r->socket[0])
		snprintf(out, len, "unix:%s", r->socket);
	else
		snprintf(out, len, "127.0.0.1:%d", r->port);
}

/* A non-blocking connection to the backend: the fd, or -errno (see
 * sessprobe_connect). */
static int proxy_connect(const struct store_session_route *r, const struct fsident *owner)
{
	struct sessprobe_target t = {
		.socket = r->socket[0] ? r->socket : NULL,
		.port = r->port,
		.secret = r->secret,
		.owner = r->socket[0] ? owner : NULL,
	};
	return sessprobe_connect(&t);
}

/* A browser navigating (rather than a script or the CLI): it gets pages. */
static bool proxy_wants_page(struct http_req *req)
{
	const char *accept = http_req_header(req, "Accept");
	return (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) && accept &&
	       strstr(accept, "text/html");
}

static void proxy_page(struct http_resp *resp, int status, const char *title, const char *text,
		       bool reload)
{
	char *body = xasprintf("<!doctype html>\n<html><head><meta charset=\"utf-8\">%s"
			       "<title>%s · kaon</title></head>\n<body><h1>%s</h1>\n<p>%s</p>\n"
			       "<p><a href=\"/\">kaon</a></p></body></html>\n",
			       reload ? "<meta http-equiv=\"refresh\" content=\"2\">" : "", title,
			       title, text);
	resp->status = status;
	free(resp->body);
	resp->body = body;
	resp->static_body = NULL;
	resp->len = strlen(body);
	resp->content_type = "text/html; charset=utf-8";
	http_resp_header(resp, "Content-Security-Policy", "default-src 'none'");
}

/* The session exists and is the caller's, but cannot take requests. */
static void proxy_not_ready(struct http_req *req, struct http_resp *resp, int64_t id,
			    const struct store_session_route *route)
{
	char *state = NULL;
	if (!route->running) {
		struct store_session s;
		if (store_session_get(req->store, id, &s) == 0) {
			state = s.state ? xstrdup(s.state) : NULL;
			store_session_clear(&s);
		}
	}
	bool page = proxy_wants_page(req);
	char text[160];
	if (!route->running && state && strcmp(state, "pending") != 0) {
		snprintf(text, sizeof text, "Session %" PRId64 " has ended (%s).", id, state);
		if (page)
			proxy_page(resp, 410, "Session ended", text, false);
		else
			http_resp_error(resp, 410, "session_ended", "%s", text);
		free(state);
		return;
	}
	if (!route->running)
		snprintf(text, sizeof text, "Session %" PRId64 " is waiting in the queue.", id);
	else
		snprintf(text, sizeof text,
			 "Session %" PRId64 " is starting: its server has not answered yet.", id);
	char retry[16];
	snprintf(retry, sizeof retry, "%d", PROXY_RETRY_AFTER_S);
	if (page)
		proxy_page(resp, 503, "Session starting", text, true);
	else
		http_resp_error(resp, 503, route->running ? "session_starting" : "session_pending",
				"%s", text);
	http_resp_header(resp, "Retry-After", retry);
	free(state);
}

/* A cookie-authenticated request that changes something, or opens a
 * WebSocket, from a page of another origin: refused. (The cookie is
 * SameSite=Lax, which already keeps it off most of them.) */
static bool proxy_cross_site(struct http_req *req, bool upgrade)
{
	if (req->via != HTTP_AUTH_COOKIE)
		return false;
	if (!upgrade && (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0 ||
			 strcmp(req->method, "OPTIONS") == 0))
		return false;
	const char *origin = http_req_header(req, "Origin");
	return origin && !ws_origin_allowed(origin, http_req_header(req, "Host"));
}

/* Session ids are canonical decimal, so that /s/012/ is not /s/12/. */
static int proxy_parse_id(const char *s, int64_t *id)
{
	if (!s || *s < '1' || *s > '9')
		return -1;
	int64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*id = v;
	return 0;
}

void proxy_handle(struct http_req *req, struct http_resp *resp)
{
	int64_t id;
	if (proxy_parse_id(req->params[0], &id) < 0) {
		http_resp_error(resp, 404, "not_found", "no session '%.40s'", req->params[0]);
		return;
	}
	struct store_session_route route;
	int rc = store_session_route(req->store, id, &route);
	if (rc < 0) {
		http_resp_errno(resp, rc, "session %" PRId64, id);
		return;
	}
	if (route.user_id != req->who.user_id && !req->who.admin) {
		http_resp_error(resp, 403, "forbidden", "session %" PRId64 " is another user's",
				id);
		return;
	}
	/* A session's pages are served on kaon's own origin, so whatever
	 * script they hold runs with the rights of the browser that shows
	 * them. An admin's browser must not run another user's pages: that
	 * user could plant a script that acts as the admin. Admins reach
	 * others' sessions with an API token (the CLI, curl), which a page
	 * cannot borrow. */
	if (route.user_id != req->who.user_id && req->via == HTTP_AUTH_COOKIE) {
		http_resp_error(resp, 403, "forbidden",
				"session %" PRId64 " is another user's: its pages would run with "
				"your rights in this browser; use an API token to reach it",
				id);
		return;
	}
	char prefix[32];
	int pl = snprintf(prefix, sizeof prefix, "/s/%" PRId64, id);
	if (req->nparams < 2) {
		/* The backend serves everything below /s/ID/. */
		const char *q = strchr(req->target, '?');
		char *loc = xasprintf("%s/%s", prefix, q ? q : "");
		http_resp_header(resp, "Location", loc);
		free(loc);
		http_resp_empty(resp, 301);
		return;
	}
	if (strncmp(req->target, prefix, (size_t)pl) != 0 || req->target[pl] != '/') {
		http_resp_error(resp, 400, "bad_request", "the request-target must start with %s/",
				prefix);
		return;
	}
	if (!route.running || !route.ready) {
		proxy_not_ready(req, resp, id, &route);
		return;
	}
	const char *upgrade = http_req_header(req, "Upgrade");
	const char *connection = http_req_header(req, "Connection");
	bool ws = upgrade && connection &&
		  httpmsg_has_token(upgrade, strlen(upgrade), "websocket") &&
		  httpmsg_has_token(connection, strlen(connection), "upgrade");
	if (proxy_cross_site(req, ws)) {
		http_resp_error(
		    resp, 403, "forbidden_origin",
		    "a request from origin '%.200s' with a kaon cookie is refused: only "
		    "pages of this server may send one",
		    http_req_header(req, "Origin"));
		return;
	}
	const char *length = http_req_header(req, "Content-Length");
	const char *te = http_req_header(req, "Transfer-Encoding");
	if (ws && (length || te)) {
		http_resp_error(resp, 400, "bad_request", "a WebSocket handshake has no body");
		return;
	}

	struct proxy_stats *stats = proxy_stats_find(id, true);
	struct fsident owner = {0};
	rc = route.socket[0] ? proxy_owner(req->store, stats, route.user_id, &owner) : 0;
	if (rc < 0) {
		log_warn("proxy: session %" PRId64 ": no identity for its owner (user %" PRId64
			 "): %s",
			 id, route.user_id, strerror(-rc));
		http_resp_error(resp, 502, "bad_gateway",
				"session %" PRId64 ": its owner's account cannot be used", id);
		return;
	}
	char addr[128];
	proxy_addr(&route, addr, sizeof addr);
	/* Only a request without a body can go again on a new connection,
	 * should a kept one turn out closed. */
	bool bodyless = !ws && !te && (!length || strcmp(length, "0") == 0);
	int fd = bodyless ? proxy_pool_take(id, addr) : -1;
	bool reused = fd >= 0;
	if (!reused)
		fd = proxy_connect(&route, &owner);
	if (fd < 0) {
		log_warn("proxy: session %" PRId64 ": cannot connect to %s: %s", id, addr,
			 strerror(-fd));
		http_resp_error(resp, 502, "bad_gateway",
				"session %" PRId64
				": its server does not take connections (%s: %s)",
				id, addr, strerror(-fd));
		return;
	}
	struct proxy_conn *pc = xcalloc(1, sizeof *pc);
	pc->id = id;
	pc->fd = fd;
	memcpy(pc->addr, addr, sizeof pc->addr);
	pc->reused = reused;
	pc->bodyless = bodyless;
	pc->route = route;
	pc->owner = owner;
	pc->upgrade = ws;
	pc->head_only = strcmp(req->method, "HEAD") == 0;
	pc->chunked_up = !length && te && httpmsg_has_token(te, strlen(te), "chunked");
	pc->body = PROXY_BODY_NONE;
	pc->stats = stats;
	atomic_fetch_add(&pc->stats->requests, 1);
	proxy_touch(pc);
	pc->waker = http_req_waker(req);
	pc->watch = relay_watch_new(fd, pc->waker);
	if (!pc->watch) {
		proxy_release(pc);
		http_resp_error(resp, 503, "unavailable", "the server is shutting down");
		return;
	}
	proxy_build_head(pc, req, &route, length);
	if (pc->reused) { /* kept for a resend, should the connection be stale */
		pc->head = xmalloc(pc->out.len);
		memcpy(pc->head, pc->out.p, pc->out.len);
		pc->head_len = pc->out.len;
	}
	/* As far as the socket takes it now; proxy_take and proxy_end write
	 * the rest. Never parks here (libmicrohttpd would repeat this call
	 * as a first call): a wake this arms is kept for their first park. */
	(void)proxy_flush(pc);
	struct http_sink sink = {
	    .take = proxy_take, .end = proxy_end, .release = proxy_release, .ctx = pc};
	http_req_sink(req, &sink);
}

int proxy_start(struct server *srv, char **cause)
{
	(void)srv;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < PROXY_NOFILE) {
		rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > PROXY_NOFILE
				  ? PROXY_NOFILE
				  : rl.rlim_max;
		if (want > rl.rlim_cur) {
			rl.rlim_cur = want;
			if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
				log_warn("proxy: setrlimit(RLIMIT_NOFILE, %llu) failed: %s",
					 (unsigned long long)want, strerror(errno));
		}
	}
	return relay_start(cause);
}

void proxy_stop(struct server *srv)
{
	(void)srv;
	relay_stop();
}
