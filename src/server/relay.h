/*
 * server/relay — the sessions proxy's I/O thread.
 *
 * One epoll loop does two jobs for server/proxy:
 *
 *   watches  An HTTP request forwarded to a session's backend parks in
 *            http.c while the backend socket is not ready (see http.h,
 *            http_wake). A watch wakes that request, exactly once per
 *            arm, when its socket becomes readable or writable, so a
 *            proxied request waits without holding a worker thread and
 *            without a polling tick.
 *   pipes    An upgraded connection (WebSocket) is relayed byte for byte
 *            between the client and the backend until both sides have
 *            closed, without parsing frames. Idle pipes cost a small
 *            struct each: bytes go through one buffer of the thread, and
 *            a pipe holds memory of its own only while one peer reads
 *            slower than the other writes (at most RELAY_BUF per way; the
 *            fast side is not read meanwhile).
 *
 * Only the loop thread frees a watch or a pipe, at the end of a batch of
 * events, so that no later event of the batch points at freed memory.
 * Locking order: the relay lock, then http.c's (http_wake), then
 * libmicrohttpd's; upgraded connections go back to http.c
 * (http_upgrade_close) after the relay lock is released.
 */
#ifndef KAON_SERVER_RELAY_H
#define KAON_SERVER_RELAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/http.h"

enum { RELAY_BUF = 64 * 1024 };

/* Start the thread; 0 or -1 with *cause. */
int relay_start(char **cause);
/* Close every pipe (both sides), stop the thread. Before http_stop():
 * the upgraded sockets go back to http.c. Watches may still be freed
 * afterwards; new ones are refused. */
void relay_stop(void);

struct relay_watch;
/* Watch fd (the caller's; it stays open) for the parked request w. NULL
 * when the relay is not running (the daemon is stopping). */
struct relay_watch *relay_watch_new(int fd, struct http_waker *w);
/* Wake w once fd is readable (out: or writable), has hung up or failed.
 * A writer waits for readable too: a server that answers early stops
 * reading, and its answer is what the writer must see. */
void relay_watch_arm(struct relay_watch *rw, bool out);
/* Stop watching. No wake reaches w once this returns. Any thread except
 * one holding a libmicrohttpd lock. */
void relay_watch_free(struct relay_watch *rw);

/* What one session's pipes did, for the sessions monitor: updated by the
 * loop, read by anyone. */
struct relay_stats {
	_Atomic int64_t active_s; /* Unix time of the last byte relayed, either way */
	atomic_int open;	  /* pipes open now */
};

/* Relay between the upgraded client connection cfd (handle up) and the
 * backend socket bfd, both non-blocking from here on. to_backend: what
 * the client sent past its request; to_client: what the backend sent
 * past its 101 answer; both copied. The relay owns bfd (it closes it)
 * and up (http_upgrade_close) from here on, even when it is stopping.
 * stats, when not NULL, must outlive the pipe. Never blocks. */
void relay_pipe(int cfd, struct http_upgrade *up, int bfd, const void *to_backend, size_t tb_len,
		const void *to_client, size_t tc_len, struct relay_stats *stats);

#endif
