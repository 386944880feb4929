/*
 * cli/sse — an incremental parser of Server-Sent Events (the
 * text/event-stream format of the HTML standard), for `kaon logs -f`.
 *
 * Bytes go in as they arrive from the network, cut anywhere (in the middle
 * of a line, between the \r and \n of a line end); each complete event
 * comes out through the handler. What the standard says, and this does:
 *
 *   - lines end with \r\n, \n or \r; a blank line dispatches the event;
 *   - "field: value" (one space after the colon is dropped), "field" alone
 *     is "field: "; a line starting with ':' is a comment (keep-alives);
 *   - `data` lines accumulate, joined with \n; an event with no data is
 *     not dispatched; `event` names the type ("message" when absent);
 *   - `id` sets the last event id, which stays for later events (and
 *     survives sse_reset: it is what a reconnect sends as Last-Event-ID);
 *     an id containing NUL is ignored; `retry` and unknown fields are
 *     ignored; a byte order mark at the very start is skipped.
 *
 * Memory is bounded: a line or an event's data over max_event bytes is an
 * error, not a bigger buffer. Not thread-safe; no I/O.
 */
#ifndef KAON_CLI_SSE_H
#define KAON_CLI_SSE_H

#include <stddef.h>

struct sse_event {
	const char *type; /* "message" when the event had no `event` field */
	const char *id;	  /* the last event id, or NULL when none was ever set */
	const char *data; /* NUL-terminated; may hold NUL bytes before data_len */
	size_t data_len;
};

/* Called for each event; a non-zero return stops sse_feed, which returns
 * it. The event's strings are only valid during the call. */
typedef int (*sse_handler)(void *ctx, const struct sse_event *ev);

struct sse;

struct sse *sse_new(size_t max_event, sse_handler fn, void *ctx);
void sse_free(struct sse *p);
/* Parse buf[0..len). 0; the handler's non-zero return; or -1 with *cause
 * when a line or an event is larger than max_event. */
int sse_feed(struct sse *p, const char *buf, size_t len, char **cause);
/* Forget a partial line and event (the connection broke); the last
 * event id stays. */
void sse_reset(struct sse *p);
/* The last event id, or NULL. */
const char *sse_last_id(const struct sse *p);

#endif
