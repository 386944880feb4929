/*
 * server/terminal — the web terminals: login shells on PTYs that outlive
 * their WebSockets.
 *
 * Each terminal belongs to one kaon user and runs that user's login shell
 * (exec/pty) as their Unix account. Its output goes into a scrollback
 * ring ([terminal] scrollback_kib) and to every WebSocket attached to it;
 * input from any of them goes to the PTY. A terminal with no client lives
 * on for [terminal] grace_s, so a reloaded page or a dropped connection
 * reattaches to the same shell and gets the scrollback replayed; after
 * that, after [terminal] idle_s without input or output (when set), when
 * the shell exits, or when deleted, it ends: SIGHUP to its session, the
 * PTY closed, SIGKILL two seconds later, then reaped. Terminals do not
 * survive a restart of the daemon.
 *
 * One I/O thread owns every PTY and WebSocket (epoll); the calls below
 * may come from any thread and block only on the manager's lock, except
 * terminal_create, which forks. The protocol on the socket is described
 * in termctl.h and docs/terminal.md.
 */
#ifndef KAON_SERVER_TERMINAL_H
#define KAON_SERVER_TERMINAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "server/http.h"

struct server;

enum {
	TERMINAL_ID_LEN = 16,		/* hex characters */
	TERMINAL_MAX_FRAME = 64 * 1024, /* largest message a client may send */
	TERMINAL_DEFAULT_COLS = 80,
	TERMINAL_DEFAULT_ROWS = 24,
};

struct terminal_info {
	char id[TERMINAL_ID_LEN + 1];
	pid_t pid;
	int cols, rows;
	int clients; /* WebSockets attached now */
	char shell[128];
	int64_t created_at, last_active_at; /* Unix times */
};

/* Whose terminal, and as whom it runs. */
struct terminal_owner {
	int64_t user_id;
	const char *unix_user;
	uid_t uid;
	gid_t gid;
	const char *home;
};

/* Start the I/O thread; 0 or -1 with *cause. */
int terminal_start(struct server *srv, char **cause);
/* End every terminal (clients get an exit message), close every socket,
 * reap every shell. Before http_stop(), so that the sockets go back to
 * http.c; calls that come after it find no terminal. */
void terminal_stop(struct server *srv);
/* Free the manager; after http_stop(), when no handler can call in. */
void terminal_free(struct server *srv);

/* Open a terminal of cols x rows. max: how many the owner may have open
 * (< 0: no limit). 0 with *out, or -EUSERS (at the limit), -ESHUTDOWN, or
 * another negative error with *cause. */
int terminal_create(struct server *srv, const struct terminal_owner *owner, int64_t max, int cols,
		    int rows, struct terminal_info *out, char **cause);
/* The owner's open terminals, oldest first; the caller frees *out. */
int terminal_list(struct server *srv, int64_t user_id, struct terminal_info **out, size_t *n);
/* One of the owner's open terminals; -ENOENT when none (or another's). */
int terminal_get(struct server *srv, int64_t user_id, const char *id, struct terminal_info *out);
/* End one of the owner's terminals; -ENOENT when none. */
int terminal_end(struct server *srv, int64_t user_id, const char *id);
/* Hand an upgraded WebSocket (see http_resp_upgrade) to the owner's
 * terminal: the scrollback is replayed, then output is live. When the
 * terminal has ended meanwhile the connection is closed. Never blocks. */
void terminal_attach(struct server *srv, int64_t user_id, const char *id, int fd, const char *extra,
		     size_t extra_len, struct http_upgrade *up);

#endif
