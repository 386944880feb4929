/*
 * server/sessionshell — `kaon session-shell` (see sessionshell.h).
 *
 * Everything happens on one thread in one poll() loop. The daemon's
 * terminal manager (server/terminal.c) could not be reused as a whole: it
 * lives inside the daemon (its config, libmicrohttpd's upgraded sockets,
 * an I/O thread beside the HTTP pool). What it is built from is reused:
 * exec/pty starts the shell, server/ws frames the WebSocket and checks the
 * handshake, server/termctl parses and builds the control messages,
 * lib/ring keeps the scrollback, lib/httphead reads request heads. The
 * policies are the terminal's, with its numbers (docs/terminal.md): the
 * PTY is not read while any client has more than SHELL_CLIENT_HIGH bytes
 * unsent, a client that stays that far behind for SHELL_SLOW_MS is
 * dropped, input waits in a bounded buffer when the PTY is full.
 *
 * A connection is first an HTTP request (its head read whole, at most
 * SHELL_HEAD_MAX bytes within SHELL_HEAD_MS), then either one answer
 * followed by a close (no keep-alive: the only plain requests are
 * readiness probes and errors) or, for {base_url}tty, a WebSocket attached
 * to the shell until either side closes.
 *
 * The Origin of a WebSocket is not checked here: browsers cannot reach
 * this socket, only kaon's proxy can, and that is where the browser's
 * credentials (the cookie) are checked against the Origin. What this side
 * requires is the session secret, which no browser holds.
 */
#include "server/sessionshell.h"

#include <errno.h>
#include <jansson.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec/pty.h"
#include "identity/secret.h"
#include "lib/httphead.h"
#include "lib/log.h"
#include "lib/ring.h"
#include "lib/xalloc.h"
#include "server/terminal.h"
#include "server/termctl.h"
#include "server/ws.h"

extern char **environ;

enum {
	SHELL_MAX_CONNS = 64,	   /* connections at once; more wait in the backlog */
	SHELL_HEAD_MAX = 8192,	   /* an HTTP request head */
	SHELL_HEAD_MS = 10 * 1000, /* to send it */
	SHELL_LINGER_MS = 2000,	   /* reading what follows a refusal before closing */
	SHELL_READ_CHUNK = 64 * 1024,
	SHELL_CLIENT_HIGH = 256 * 1024, /* unsent bytes that pause reading the PTY */
	SHELL_SLOW_MS = 30 * 1000,	/* a client that far behind this long goes */
	SHELL_INPUT_HIGH = 64 * 1024,	/* pending input that pauses reading clients */
	SHELL_INPUT_MAX = 1024 * 1024,	/* pending input beyond this is dropped */
	SHELL_SCROLLBACK = 256 * 1024,	/* the terminal's default scrollback_kib */
	SHELL_PING_MS = 30 * 1000,	/* a silent client gets a ping this often */
	SHELL_DEAD_MS = 75 * 1000,	/* and is dropped when silent this long */
	SHELL_CLOSE_MS = 5000,		/* a closing client that does not answer */
	SHELL_KILL_MS = 2000,		/* SIGHUP to SIGKILL */
	SHELL_HUP_WAIT_MS = 1000,	/* for the exit status of a shell gone */
	SHELL_TICK_MS = 250,
};

enum shell_conn_state {
	SHELL_CONN_HEAD,  /* reading the request head */
	SHELL_CONN_REPLY, /* writing an answer, then lingering, then closing */
	SHELL_CONN_WS,	  /* attached to the shell */
};

struct shell;

struct shell_conn {
	struct shell *sh;
	int fd;
	enum shell_conn_state state;
	char *head; /* SHELL_HEAD_MAX + 1 bytes while reading the head */
	size_t head_len;
	char *out; /* bytes to write before anything else (an answer, a 101) */
	size_t out_len, out_off;
	bool lingering; /* answer sent, write side shut: draining input */
	struct ws *ws;
	int64_t since_ms;   /* accepted (HEAD), answered (REPLY) */
	int64_t slow_ms;    /* over SHELL_CLIENT_HIGH since; 0: not */
	int64_t ping_ms;    /* last ping sent; 0: none */
	int64_t closing_ms; /* close queued at; 0: open */
	bool gone;
	struct shell_conn *next;
};

struct shell {
	const char *secret;
	const char *base_url; /* "/s/ID/" */
	char *tty_path;	      /* base_url + "tty" */
	int listen_fd;
	char *sock_path; /* to unlink at the end; NULL for a port */
	int sig_fd;
	pid_t pid;
	int master; /* -1 once closed */
	char shell_path[128];
	bool reaped;
	int status; /* once reaped: exit status, or 128 + signal */
	struct ring *scroll;
	uint8_t *in; /* input not yet written to the PTY */
	size_t in_len, in_cap;
	struct shell_conn *conns;
	int nconns;
	const char *ending; /* why, once ending; NULL while live */
	int64_t kill_ms;    /* SIGKILL due then; 0: none due */
	int exit_code;
};

static int64_t shell_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the shell ---------------------------------------------------------- */

static void shell_reap(struct shell *sh)
{
	if (sh->reaped || sh->pid <= 0)
		return;
	int status;
	pid_t r;
	do
		r = waitpid(sh->pid, &status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == sh->pid) {
		sh->reaped = true;
		sh->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	} else if (r < 0) {
		sh->reaped = true; /* ECHILD: not ours to wait for any more */
		sh->status = -1;
	}
}

static void shell_close_master(struct shell *sh)
{
	if (sh->master >= 0)
		close(sh->master);
	sh->master = -1;
}

static void shell_send_all(struct shell *sh, const void *data, size_t len)
{
	for (struct shell_conn *c = sh->conns; c; c = c->next)
		if (c->state == SHELL_CONN_WS && !c->gone && !c->closing_ms)
			(void)ws_send(c->ws, WS_BINARY, data, len);
}

/* Read one chunk of output into the scrollback and to every client. 1 when
 * something was read, 0 when nothing was there, -1 when the PTY hung up
 * (every holder of the slave is gone). */
static int shell_read_pty(struct shell *sh)
{
	uint8_t buf[SHELL_READ_CHUNK];
	ssize_t n;
	do
		n = read(sh->master, buf, sizeof buf);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0)
		return -1;
	ring_write(sh->scroll, buf, (size_t)n);
	shell_send_all(sh, buf, (size_t)n);
	return 1;
}

/* The PTY hung up: the shell has exited, and its exit status follows a
 * moment later. Wait that moment (at most SHELL_HUP_WAIT_MS, as the
 * terminals do) so that the exit message can carry it. */
static void shell_await_exit(struct shell *sh)
{
	for (int waited = 0; waited < SHELL_HUP_WAIT_MS; waited += 10) {
		shell_reap(sh);
		if (sh->reaped)
			return;
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* End the session: hang up the shell's session (its background jobs
 * included), close the PTY, tell every client why, stop listening. The
 * loop then SIGKILLs what is left after SHELL_KILL_MS and exits once the
 * shell is reaped and the clients have had their exit message. */
static void shell_end(struct shell *sh, const char *reason)
{
	if (sh->ending)
		return;
	sh->ending = reason;
	shell_reap(sh);
	/* What the shell printed last (its "logout") still goes out. */
	for (int i = 0; i < 64 && sh->master >= 0 && shell_read_pty(sh) > 0; i++)
		;
	/* Also when the shell has been reaped: what it left in its session
	 * (background jobs) ends with it, as when a terminal closes. Their
	 * session id keeps the pid from being reused meanwhile. */
	pty_signal_session(sh->pid, SIGHUP);
	pty_signal_session(sh->pid, SIGCONT); /* stopped jobs must see the HUP */
	if (!sh->reaped)
		sh->kill_ms = shell_now_ms() + SHELL_KILL_MS;
	shell_close_master(sh);
	if (sh->listen_fd >= 0) {
		close(sh->listen_fd);
		sh->listen_fd = -1;
		if (sh->sock_path)
			(void)unlink(sh->sock_path);
	}
	for (struct shell_conn *c = sh->conns; c; c = c->next) {
		if (c->gone)
			continue;
		if (c->state == SHELL_CONN_HEAD || (c->state == SHELL_CONN_REPLY && c->lingering)) {
			c->gone = true;
		} else if (c->state == SHELL_CONN_WS && !c->closing_ms) {
			char *msg = termctl_exit_json(reason, sh->reaped ? sh->status : -1);
			(void)ws_send(c->ws, WS_TEXT, msg, strlen(msg));
			free(msg);
			ws_close(c->ws, WS_CLOSE_NORMAL, reason);
			c->closing_ms = shell_now_ms();
		}
	}
	log_info("session-shell: ending (%s)", reason);
}

/* Write pending input to the PTY as far as it takes it. */
static void shell_flush_input(struct shell *sh)
{
	size_t off = 0;
	while (off < sh->in_len && sh->master >= 0) {
		ssize_t n = write(sh->master, sh->in + off, sh->in_len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break; /* EAGAIN: the PTY is full; later */
		}
		off += (size_t)n;
	}
	if (off >= sh->in_len || sh->master < 0) {
		sh->in_len = 0;
	} else if (off) {
		memmove(sh->in, sh->in + off, sh->in_len - off);
		sh->in_len -= off;
	}
}

static void shell_input(struct shell *sh, const uint8_t *data, size_t len)
{
	if (sh->ending || len == 0)
		return;
	if (sh->in_len + len > SHELL_INPUT_MAX) {
		log_warn("session-shell: input over %d bytes waiting; dropping %zu bytes",
			 SHELL_INPUT_MAX, len);
		return;
	}
	if (sh->in_len + len > sh->in_cap) {
		sh->in_cap = sh->in_len + len < 4096 ? 4096 : (sh->in_len + len) * 2;
		sh->in = xrealloc(sh->in, sh->in_cap);
	}
	memcpy(sh->in + sh->in_len, data, len);
	sh->in_len += len;
	shell_flush_input(sh);
}

static void shell_on_message(void *ctx, int opcode, const uint8_t *data, size_t len)
{
	struct shell_conn *c = ctx;
	struct shell *sh = c->sh;
	if (opcode == WS_BINARY) {
		shell_input(sh, data, len);
		return;
	}
	struct termctl msg;
	char *cause = NULL;
	if (termctl_parse((const char *)data, len, &msg, &cause) < 0) {
		log_debug("session-shell: ignoring a control message: %s", cause);
		free(cause);
		return;
	}
	if (msg.type == TERMCTL_RESIZE && sh->master >= 0) {
		int rc = pty_resize(sh->master, msg.cols, msg.rows);
		if (rc < 0)
			log_warn("session-shell: resize to %dx%d: %s", msg.cols, msg.rows,
				 strerror(-rc));
	}
}

/* ---- HTTP ------------------------------------------------------------------ */

static const struct {
	int status;
	const char *phrase;
} shell_phrases[] = {
	{ 200, "OK" },
	{ 400, "Bad Request" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 426, "Upgrade Required" },
	{ 431, "Request Header Fields Too Large" },
};

static const char *shell_reason_phrase(int status)
{
	for (size_t i = 0; i < sizeof shell_phrases / sizeof shell_phrases[0]; i++)
		if (shell_phrases[i].status == status)
			return shell_phrases[i].phrase;
	return "Error";
}

/* j as one line of compact JSON (takes the reference). */
static char *shell_json_line(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!s)
		abort(); /* out of memory: the x* wrappers' policy */
	char *line = xasprintf("%s\n", s);
	free(s);
	return line;
}

/* Queue a whole answer (JSON body) and close after it. */
static void shell_reply(struct shell_conn *c, int status, const char *extra_header,
			const char *body, bool head_only)
{
	size_t blen = strlen(body);
	char *text = xasprintf("HTTP/1.1 %d %s\r\n"
			       "Content-Type: application/json\r\n"
			       "Content-Length: %zu\r\n"
			       "Cache-Control: no-store\r\n"
			       "X-Content-Type-Options: nosniff\r\n"
			       "Connection: close\r\n"
			       "%s"
			       "\r\n"
			       "%s",
			       status, shell_reason_phrase(status), blen,
			       extra_header ? extra_header : "", head_only ? "" : body);
	free(c->out);
	c->out = text;
	c->out_len = strlen(text);
	c->out_off = 0;
	c->state = SHELL_CONN_REPLY;
	c->since_ms = shell_now_ms();
	free(c->head);
	c->head = NULL;
}

/* An error answer in kaon's JSON error shape. */
static void shell_reply_error(struct shell_conn *c, int status, const char *extra_header,
			      const char *code, const char *message)
{
	json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
	char *body = shell_json_line(j);
	shell_reply(c, status, extra_header, body, false);
	free(body);
}

/* Whether the request carries the session secret. */
static bool shell_authorized(const struct shell *sh, const struct httphead *h)
{
	const char *v = httphead_get(h, "Authorization");
	if (!v || strncasecmp(v, "token", 5) != 0 || (v[5] != ' ' && v[5] != '\t'))
		return false;
	v += 5;
	while (*v == ' ' || *v == '\t')
		v++;
	return secret_compare(v, sh->secret) == 0;
}

/* Replay the scrollback to a new client, from a whole line when the ring
 * has wrapped, in frames no larger than a PTY read. */
static void shell_replay(struct shell *sh, struct shell_conn *c)
{
	size_t total = ring_len(sh->scroll);
	uint8_t *buf = xmalloc(SHELL_READ_CHUNK);
	for (size_t off = ring_line_start(sh->scroll); off < total;) {
		size_t n = ring_copy(sh->scroll, off, buf, SHELL_READ_CHUNK);
		(void)ws_send(c->ws, WS_BINARY, buf, n);
		off += n;
	}
	free(buf);
}

static void shell_conn_ws_read(struct shell_conn *c)
{
	if (ws_read(c->ws) < 0 && !c->closing_ms)
		c->closing_ms = shell_now_ms(); /* peer closed or broke the protocol */
}

static void shell_upgrade(struct shell *sh, struct shell_conn *c, const struct httphead *h,
			  const char *extra, size_t extra_len)
{
	struct ws_handshake_in in = {
	    .method = h->method,
	    .upgrade = httphead_get(h, "Upgrade"),
	    .connection = httphead_get(h, "Connection"),
	    .version = httphead_get(h, "Sec-WebSocket-Version"),
	    .key = httphead_get(h, "Sec-WebSocket-Key"),
	};
	char accept[WS_ACCEPT_LEN + 1];
	struct ws_refusal why;
	if (ws_handshake_check(&in, accept, &why) < 0) {
		char *hdr =
		    why.header ? xasprintf("%s: %s\r\n", why.header, why.header_value) : NULL;
		shell_reply_error(c, why.status, hdr, why.code, why.message);
		free(hdr);
		return;
	}
	c->out = xasprintf("HTTP/1.1 101 Switching Protocols\r\n"
			   "Upgrade: websocket\r\n"
			   "Connection: Upgrade\r\n"
			   "Sec-WebSocket-Accept: %s\r\n"
			   "\r\n",
			   accept);
	c->out_len = strlen(c->out);
	c->out_off = 0;
	c->state = SHELL_CONN_WS;
	c->ws = ws_new(c->fd, extra, extra_len, TERMINAL_MAX_FRAME, shell_on_message, c);
	shell_replay(sh, c);
	free(c->head);
	c->head = NULL;
	if (extra_len)
		shell_conn_ws_read(c); /* frames sent along with the handshake */
}

static void shell_route(struct shell *sh, struct shell_conn *c, const struct httphead *h,
			const char *extra, size_t extra_len)
{
	if (!shell_authorized(sh, h)) {
		shell_reply_error(c, 403, NULL, "forbidden",
				  "this session's backend answers kaon's proxy only "
				  "(Authorization: token SECRET)");
		return;
	}
	size_t plen = strcspn(h->target, "?");
	bool head = strcmp(h->method, "HEAD") == 0;
	if (plen == strlen(sh->base_url) && strncmp(h->target, sh->base_url, plen) == 0) {
		if (strcmp(h->method, "GET") != 0 && !head) {
			shell_reply_error(c, 405, "Allow: GET, HEAD\r\n", "method_not_allowed",
					  "only GET and HEAD are allowed here");
			return;
		}
		int clients = 0;
		for (struct shell_conn *o = sh->conns; o; o = o->next)
			clients += o->state == SHELL_CONN_WS && !o->gone;
		char *body = shell_json_line(json_pack("{s:s,s:s,s:s,s:i}", "kind", "shell", "tty",
						       sh->tty_path, "shell", sh->shell_path,
						       "clients", clients));
		shell_reply(c, 200, NULL, body, head);
		free(body);
		return;
	}
	if (plen == strlen(sh->tty_path) && strncmp(h->target, sh->tty_path, plen) == 0) {
		shell_upgrade(sh, c, h, extra, extra_len);
		return;
	}
	shell_reply_error(c, 404, NULL, "not_found", "no such path in a shell session");
}

static void shell_conn_read_head(struct shell *sh, struct shell_conn *c)
{
	ssize_t n;
	do
		n = recv(c->fd, c->head + c->head_len, SHELL_HEAD_MAX - c->head_len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		c->gone = true;
		return;
	}
	c->head_len += (size_t)n;
	c->head[c->head_len] = '\0';
	struct httphead h;
	long len = httphead_parse(c->head, c->head_len, &h);
	if (len < 0)
		shell_reply_error(c, 400, NULL, "bad_request", "malformed HTTP request");
	else if (len == 0 && c->head_len == SHELL_HEAD_MAX)
		shell_reply_error(c, 431, NULL, "too_large", "request head over 8 KiB");
	else if (len > 0)
		shell_route(sh, c, &h, c->head + len, c->head_len - (size_t)len);
}

/* Write c->out; 0 when all of it is out, 1 when some waits, -1 on error. */
static int shell_conn_flush_out(struct shell_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
		}
		c->out_off += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	return 0;
}

/* After an answer: read and drop what the client still sends until it
 * closes (or SHELL_LINGER_MS), so that closing with unread bytes does not
 * reset the connection before the answer is read. */
static void shell_conn_linger(struct shell_conn *c)
{
	char buf[4096];
	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof buf, 0);
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		c->gone = true;
		return;
	}
}

/* Whatever can be written now; then what the connection waits for. */
static void shell_conn_sync(struct shell *sh, struct shell_conn *c, bool *backlog, int64_t now)
{
	if (c->gone)
		return;
	if (c->state == SHELL_CONN_REPLY && !c->lingering) {
		int rc = shell_conn_flush_out(c);
		if (rc < 0) {
			c->gone = true;
		} else if (rc == 0) {
			(void)shutdown(c->fd, SHUT_WR);
			c->lingering = true;
			c->since_ms = now;
		}
		return;
	}
	if (c->state != SHELL_CONN_WS)
		return;
	if (c->out) {
		int rc = shell_conn_flush_out(c);
		if (rc != 0) {
			c->gone = rc < 0;
			return;
		}
	}
	if (ws_write(c->ws) < 0 || ws_done(c->ws)) {
		c->gone = true;
		return;
	}
	if (ws_queued(c->ws) > SHELL_CLIENT_HIGH) {
		if (!c->slow_ms)
			c->slow_ms = now;
		*backlog = true;
	} else {
		c->slow_ms = 0;
	}
	(void)sh;
}

static short shell_conn_events(const struct shell *sh, const struct shell_conn *c)
{
	switch (c->state) {
	case SHELL_CONN_HEAD:
		return POLLIN;
	case SHELL_CONN_REPLY:
		return c->lingering ? POLLIN : POLLOUT;
	case SHELL_CONN_WS:
		if (c->out)
			return POLLOUT;
		return (short)((ws_want_read(c->ws) && sh->in_len < SHELL_INPUT_HIGH ? POLLIN : 0) |
			       (ws_want_write(c->ws) ? POLLOUT : 0));
	}
	return 0;
}

static void shell_conn_free(struct shell_conn *c)
{
	ws_free(c->ws);
	close(c->fd);
	free(c->head);
	free(c->out);
	free(c);
}

static void shell_accept(struct shell *sh)
{
	while (sh->nconns < SHELL_MAX_CONNS) {
		int fd = accept4(sh->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("session-shell: accept() failed: %s", strerror(errno));
			return;
		}
		struct shell_conn *c = xcalloc(1, sizeof *c);
		c->sh = sh;
		c->fd = fd;
		c->state = SHELL_CONN_HEAD;
		c->head = xmalloc(SHELL_HEAD_MAX + 1);
		c->since_ms = shell_now_ms();
		c->next = sh->conns;
		sh->conns = c;
		sh->nconns++;
	}
}

/* Timers: request heads that do not come, answers that are not read,
 * silent and slow clients, closes without an answer, the SIGKILL. */
static void shell_tick(struct shell *sh, int64_t now)
{
	for (struct shell_conn *c = sh->conns; c; c = c->next) {
		if (c->gone)
			continue;
		if (c->state == SHELL_CONN_HEAD && now - c->since_ms >= SHELL_HEAD_MS) {
			c->gone = true;
		} else if (c->state == SHELL_CONN_REPLY &&
			   now - c->since_ms >= (c->lingering ? SHELL_LINGER_MS : SHELL_HEAD_MS)) {
			c->gone = true;
		} else if (c->state == SHELL_CONN_WS) {
			int64_t silent = now - ws_heard_ms(c->ws);
			if (c->closing_ms && now - c->closing_ms >= SHELL_CLOSE_MS) {
				c->gone = true;
			} else if (silent >= SHELL_DEAD_MS) {
				log_info("session-shell: dropping a client silent for %lld s",
					 (long long)silent / 1000);
				c->gone = true;
			} else if (silent >= SHELL_PING_MS && now - c->ping_ms >= SHELL_PING_MS &&
				   !c->closing_ms) {
				ws_ping(c->ws);
				c->ping_ms = now;
			}
			if (!c->gone && c->slow_ms && now - c->slow_ms >= SHELL_SLOW_MS) {
				log_info("session-shell: dropping a client %d KiB behind for %d s",
					 SHELL_CLIENT_HIGH / 1024, SHELL_SLOW_MS / 1000);
				c->gone = true;
			}
		}
	}
	if (sh->ending && !sh->reaped && sh->kill_ms && now >= sh->kill_ms) {
		pty_signal_session(sh->pid, SIGKILL);
		sh->kill_ms = 0;
	}
}

static void shell_collect(struct shell *sh)
{
	for (struct shell_conn **pc = &sh->conns; *pc;) {
		struct shell_conn *c = *pc;
		if (!c->gone) {
			pc = &c->next;
			continue;
		}
		*pc = c->next;
		shell_conn_free(c);
		sh->nconns--;
	}
}

/* ---- the loop ---------------------------------------------------------- */

static void shell_signal(struct shell *sh)
{
	struct signalfd_siginfo si;
	while (read(sh->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD) {
			/* The shell gone while something else (a background job)
			 * still holds the PTY: its end is the session's. */
			shell_reap(sh);
			if (sh->reaped)
				shell_end(sh, "exited");
		} else if (!sh->ending) {
			log_info("session-shell: %s received", strsignal((int)si.ssi_signo));
			shell_end(sh, "ended");
		}
	}
}

static int shell_loop(struct shell *sh)
{
	struct pollfd *pfds = xcalloc(SHELL_MAX_CONNS + 3, sizeof *pfds);
	struct shell_conn **pconn = xcalloc(SHELL_MAX_CONNS + 3, sizeof *pconn);
	int64_t last_tick = shell_now_ms();
	for (;;) {
		int64_t now = shell_now_ms();
		bool backlog = false;
		for (struct shell_conn *c = sh->conns; c; c = c->next)
			shell_conn_sync(sh, c, &backlog, now);
		shell_collect(sh);
		if (sh->ending && sh->reaped && !sh->conns)
			break;

		size_t n = 0;
		pfds[n++] = (struct pollfd){.fd = sh->sig_fd, .events = POLLIN};
		int ipty = -1, ilisten = -1;
		if (sh->master >= 0) {
			ipty = (int)n;
			pfds[n++] = (struct pollfd){
			    .fd = sh->master,
			    .events = (short)((backlog ? 0 : POLLIN) | (sh->in_len ? POLLOUT : 0)),
			};
		}
		if (sh->listen_fd >= 0 && sh->nconns < SHELL_MAX_CONNS) {
			ilisten = (int)n;
			pfds[n++] = (struct pollfd){.fd = sh->listen_fd, .events = POLLIN};
		}
		size_t first_conn = n;
		for (struct shell_conn *c = sh->conns; c; c = c->next) {
			pconn[n] = c;
			pfds[n++] =
			    (struct pollfd){.fd = c->fd, .events = shell_conn_events(sh, c)};
		}
		int rc = poll(pfds, n, SHELL_TICK_MS);
		if (rc < 0 && errno != EINTR) {
			log_error("session-shell: poll() failed: %s", strerror(errno));
			break;
		}
		if (rc > 0) {
			if (pfds[0].revents)
				shell_signal(sh);
			if (ipty >= 0 && sh->master >= 0) {
				short re = pfds[ipty].revents;
				if (re & POLLOUT)
					shell_flush_input(sh);
				if ((re & (POLLIN | POLLHUP | POLLERR)) && shell_read_pty(sh) < 0) {
					/* Every holder of the slave is gone: the shell
					 * has exited; its status comes a moment later. */
					shell_close_master(sh);
					shell_await_exit(sh);
					shell_end(sh, "exited");
				}
			}
			for (size_t i = first_conn; i < n; i++) {
				struct shell_conn *c = pconn[i];
				short re = pfds[i].revents;
				if (!re || c->gone)
					continue;
				if (c->state == SHELL_CONN_HEAD)
					shell_conn_read_head(sh, c);
				else if (c->state == SHELL_CONN_REPLY && c->lingering)
					shell_conn_linger(c);
				else if (c->state == SHELL_CONN_WS && !c->out &&
					 (re & (POLLIN | POLLHUP | POLLERR)))
					shell_conn_ws_read(c);
			}
			if (ilisten >= 0 && (pfds[ilisten].revents & POLLIN) && sh->listen_fd >= 0)
				shell_accept(sh);
		}
		now = shell_now_ms();
		if (sh->ending && !sh->reaped)
			shell_reap(sh);
		if (now - last_tick >= SHELL_TICK_MS) {
			shell_tick(sh, now);
			last_tick = now;
		}
	}
	free(pfds);
	free(pconn);
	return sh->ending && strcmp(sh->ending, "exited") == 0 && sh->status >= 0 ? sh->status : 0;
}

/* ---- start ----------------------------------------------------------------- */

static int shell_listen_unix(struct shell *sh, const char *path, char **cause)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		*cause = xasprintf("socket path too long (%zu bytes, at most %zu): %s",
				   strlen(path), sizeof sa.sun_path - 1, path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* A socket left by an earlier run of this session goes; anything else
	 * at that path is not ours to remove. */
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			*cause = xasprintf("%s exists and is not a socket", path);
			return -EEXIST;
		}
		(void)unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*cause = xasprintf("socket() failed: %s", strerror(errno));
		return -errno;
	}
	/* Created 0600 (the umask applies to bind; one thread, so no other
	 * file is created meanwhile), then set again whatever umask did. */
	mode_t old = umask(0177);
	int brc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	int berr = errno;
	umask(old);
	if (brc < 0 || chmod(path, 0600) < 0 || listen(fd, SHELL_MAX_CONNS) < 0) {
		int err = brc < 0 ? berr : errno;
		*cause = xasprintf("cannot listen on %s: %s", path, strerror(err));
		close(fd);
		return -err;
	}
	sh->listen_fd = fd;
	sh->sock_path = xstrdup(path);
	return 0;
}

static int shell_listen_port(struct shell *sh, const char *text, char **cause)
{
	char *end;
	long port = strtol(text, &end, 10);
	if (end == text || *end || port < 1 || port > 65535) {
		*cause =
		    xasprintf("KAON_SESSION_PORT must be a port from 1 to 65535, not '%s'", text);
		return -EINVAL;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, SHELL_MAX_CONNS) < 0) {
		int err = errno;
		*cause = xasprintf("cannot listen on 127.0.0.1:%ld: %s", port, strerror(err));
		if (fd >= 0)
			close(fd);
		return -err;
	}
	sh->listen_fd = fd;
	return 0;
}

/* The shell's environment: the job's, less what the PTY plan sets itself
 * and less the session secret, which belongs to this backend only. */
static char **shell_child_env(void)
{
	static const char *const drop[] = {"TERM",  "HOME", "USER", "LOGNAME",
					   "SHELL", "PATH", "LANG", "KAON_SESSION_SECRET"};
	size_t n = 0;
	for (char **e = environ; e && *e; e++)
		n++;
	char **out = xcalloc(n + 1, sizeof *out);
	size_t k = 0;
	for (char **e = environ; e && *e; e++) {
		size_t nl = strcspn(*e, "=");
		bool keep = (*e)[nl] == '=';
		for (size_t i = 0; keep && i < sizeof drop / sizeof drop[0]; i++)
			keep = !(strlen(drop[i]) == nl && strncmp(*e, drop[i], nl) == 0);
		if (keep)
			out[k++] = *e; /* borrowed from environ */
	}
	return out;
}

static int shell_spawn(struct shell *sh, char **cause)
{
	char **env = shell_child_env();
	const char *home = getenv("HOME");
	struct pty_user u = {getenv("USER"), getuid(), getgid(), home && *home ? home : NULL};
	struct pty_plan *plan = NULL;
	int rc = pty_plan_new(&u, env, &plan, cause);
	free(env);
	if (rc == 0)
		rc = pty_spawn(plan, TERMINAL_DEFAULT_COLS, TERMINAL_DEFAULT_ROWS, &sh->master,
			       &sh->pid, cause);
	if (rc == 0)
		snprintf(sh->shell_path, sizeof sh->shell_path, "%s", plan->shell);
	pty_plan_free(plan);
	return rc;
}

/* "/s/ID/": absolute, ends with a slash, nothing that would need escaping
 * in JSON or could end a path early. */
static bool shell_base_url_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 1 || s[0] != '/' || s[n - 1] != '/' || n > 512)
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\\' || *p == '?' || *p == '#' ||
		    *p == 0x7f)
			return false;
	return true;
}

int sessionshell_main(int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "usage: kaon session-shell (started by kaon as a session's job; "
				"see docs/sessions-backends.md)\n");
		return 2;
	}
	(void)argv;
	const char *secret = getenv("KAON_SESSION_SECRET");
	const char *base = getenv("KAON_BASE_URL");
	const char *sock = getenv("KAON_SESSION_SOCKET");
	const char *port = getenv("KAON_SESSION_PORT");
	if (!secret || !*secret || !shell_base_url_ok(base) ||
	    (!(sock && *sock) && !(port && *port))) {
		fprintf(stderr, "kaon session-shell: needs KAON_SESSION_SECRET, KAON_BASE_URL "
				"(\"/s/ID/\") and KAON_SESSION_SOCKET or KAON_SESSION_PORT in its "
				"environment\n");
		return 2;
	}
	if (secret_init() < 0) {
		log_error("session-shell: sodium_init() failed");
		return 1;
	}
	struct shell sh = {.secret = secret,
			   .base_url = base,
			   .listen_fd = -1,
			   .master = -1,
			   .sig_fd = -1,
			   .status = -1};
	sh.tty_path = xasprintf("%stty", base);
	sh.scroll = ring_new(SHELL_SCROLLBACK);
	char *cause = NULL;
	int status = 1;

	/* Signals are read from a signalfd in the loop, so they are blocked
	 * before the shell is forked (pty_spawn unblocks them in the child). */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (sh.sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		log_error("session-shell: signalfd() failed: %s", strerror(errno));
		goto out;
	}
	int rc = sock && *sock ? shell_listen_unix(&sh, sock, &cause)
			       : shell_listen_port(&sh, port, &cause);
	if (rc == 0)
		rc = shell_spawn(&sh, &cause);
	if (rc < 0) {
		log_error("session-shell: %s", cause);
		free(cause);
		goto out;
	}
	log_info("session-shell: %s (pid %ld) on %s%s, serving %s", sh.shell_path, (long)sh.pid,
		 sh.sock_path ? sh.sock_path : "127.0.0.1:", sh.sock_path ? "" : port, base);
	status = shell_loop(&sh);
	log_info("session-shell: done, exit status %d", status);
out:
	while (sh.conns) {
		struct shell_conn *c = sh.conns;
		sh.conns = c->next;
		shell_conn_free(c);
	}
	shell_close_master(&sh);
	if (sh.listen_fd >= 0) {
		close(sh.listen_fd);
		if (sh.sock_path)
			(void)unlink(sh.sock_path);
	}
	if (sh.sig_fd >= 0)
		close(sh.sig_fd);
	ring_free(sh.scroll);
	free(sh.in);
	free(sh.sock_path);
	free(sh.tty_path);
	return status;
}
