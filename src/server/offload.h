/*
 * server/offload — run one blocking call on a thread of its own while
 * the HTTP request that needs it is parked, and wake the request when the
 * call returns.
 *
 * Why: libmicrohttpd's thread pool serves many connections on each
 * thread, so a handler that blocks (a prediction waiting for a model's
 * worker) stalls every other connection that landed on its thread,
 * however many threads there are. A sink's end() (http.h) starts the
 * call and answers http_resp_wait(); end() runs again once woken and
 * finds the call finished.
 *
 * Ownership: `arg` stays the caller's; it must stay valid until
 * offload_join() returns. The offload is freed by offload_join(), which
 * the sink's release() must call (it waits for the call to return, so
 * nothing the call uses is freed under it).
 */
#ifndef KAON_SERVER_OFFLOAD_H
#define KAON_SERVER_OFFLOAD_H

#include <stdbool.h>

struct http_waker;
struct offload;

/* Start fn(arg) on a new thread; when it returns, http_wake(w). When no
 * thread can be had, fn runs here and now (the request then blocks its
 * thread, as before, rather than failing). Never NULL. */
struct offload *offload_start(struct http_waker *w, void (*fn)(void *arg), void *arg);
/* Whether fn has returned (its results may be read). */
bool offload_done(struct offload *o);
/* Wait for fn to return, then free o. NULL is fine. */
void offload_join(struct offload *o);

#endif
