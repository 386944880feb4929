/*
 * server/terminal — the terminal manager and its I/O thread (see
 * terminal.h).
 *
 * One mutex guards everything here: the list of terminals, their rings,
 * their clients and every wslay context. The I/O thread holds it while it
 * handles a batch of epoll events; HTTP workers hold it briefly to list,
 * create, end or attach. Only the I/O thread frees a client or a terminal,
 * at the end of a batch, so that no later event of the same batch can
 * point at freed memory; other threads mark things ended and wake it.
 *
 * Flow control: output read from a PTY is queued to every client; while
 * any client has more than TERM_CLIENT_HIGH bytes unsent the PTY is not
 * read (the shell blocks on its writes, as on a slow ssh link), and a
 * client that stays that far behind for TERM_SLOW_MS is dropped so that
 * it cannot stall the others. Input waits in a per-terminal buffer when
 * the PTY is full; past TERM_INPUT_HIGH the clients' sockets are not
 * read until it drains.
 */
#include "server/terminal.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "exec/pty.h"
#include "lib/log.h"
#include "lib/ring.h"
#include "lib/xalloc.h"
#include "server/server.h"
#include "server/termctl.h"
#include "server/ws.h"

enum {
	TERM_READ_CHUNK = 64 * 1024,
	TERM_CLIENT_HIGH = 256 * 1024, /* unsent bytes that pause reading the PTY */
	TERM_SLOW_MS = 30 * 1000,      /* a client that far behind this long goes */
	TERM_INPUT_HIGH = 64 * 1024,   /* pending input that pauses reading clients */
	TERM_INPUT_MAX = 1024 * 1024,  /* pending input beyond this is dropped */
	TERM_KILL_MS = 2000,	       /* SIGHUP to SIGKILL */
	TERM_CLOSE_MS = 5000,	       /* a closing client that does not answer */
	TERM_PING_MS = 30 * 1000,      /* a silent client gets a ping this often */
	TERM_DEAD_MS = 75 * 1000,      /* and is dropped when silent this long */
	TERM_TICK_MS = 250,
	TERM_HUP_WAIT_MS = 1000, /* for the exit status of a hung-up shell */
	TERM_HUP_POLL_MS = 10,
};

enum term_kind { TERM_EV_WAKE, TERM_EV_PTY, TERM_EV_CLIENT };
enum term_state { TERM_STARTING, TERM_LIVE, TERM_ENDING };

struct term_ev {
	enum term_kind kind;
};

struct term;

struct term_client {
	struct term_ev ev; /* first: epoll data points here */
	struct term *t;
	struct ws *ws;
	struct http_upgrade *up;
	uint32_t events;    /* registered with epoll */
	int64_t closing_ms; /* close queued at; 0: open */
	int64_t slow_ms;    /* over TERM_CLIENT_HIGH since; 0: not */
	int64_t ping_ms;    /* last ping sent; 0: none */
	bool gone;	    /* to be freed at the end of the batch */
	struct term_client *next;
};

struct term {
	struct term_ev ev; /* first: epoll data points here */
	char id[TERMINAL_ID_LEN + 1];
	int64_t user_id;
	enum term_state state;
	pid_t pid;
	int master; /* -1 once closed */
	uint32_t events;
	int cols, rows;
	char shell[128];
	struct ring *scroll;
	struct term_client *clients;
	int nclients;
	uint8_t *in; /* input not yet written to the PTY */
	size_t in_len, in_cap;
	int64_t created_at;  /* Unix time */
	int64_t active_ms;   /* monotonic: last input or output */
	int64_t detached_ms; /* monotonic: since when no client */
	int64_t kill_ms;     /* monotonic: SIGKILL then (ending); 0: sent */
	int64_t hup_ms;	     /* monotonic: the PTY hung up (shell gone), not yet reaped */
	bool reaped;
	int status; /* exit status once reaped, else -1 */
	struct term *next;
};

struct terminals {
	pthread_mutex_t lock;
	int epfd, wakefd;
	struct term_ev wake_ev;
	pthread_t thread;
	bool running, stopping;
	int creating; /* terminal_create calls between their two locked parts */
	const struct config *cfg;
	struct term *list;
	int64_t last_tick_ms;
	/* Upgraded connections to hand back to http.c once the lock is
	 * released (libmicrohttpd takes its own locks there). */
	struct http_upgrade **to_close;
	size_t nclose, capclose;
};

static int64_t term_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void term_wake(struct terminals *ts)
{
	uint64_t one = 1;
	if (write(ts->wakefd, &one, sizeof one) < 0 && errno != EAGAIN)
		log_warn("terminal: cannot wake the I/O thread: %s", strerror(errno));
}

static void term_epoll_set(struct terminals *ts, int fd, void *ptr, uint32_t *cur, uint32_t want)
{
	if (*cur == want)
		return;
	struct epoll_event ev = {.events = want, .data.ptr = ptr};
	if (epoll_ctl(ts->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		log_error("terminal: epoll_ctl(MOD, %d) failed: %s", fd, strerror(errno));
	*cur = want;
}

/* ---- clients ----------------------------------------------------------- */

static void term_client_close(struct term_client *c, uint16_t code, const char *why)
{
	if (c->closing_ms)
		return;
	ws_close(c->ws, code, why);
	c->closing_ms = term_now_ms();
}

static void term_send_exit(struct term *t, struct term_client *c, const char *reason)
{
	char *msg = termctl_exit_json(reason, t->reaped ? t->status : -1);
	(void)ws_send(c->ws, WS_TEXT, msg, strlen(msg));
	free(msg);
	term_client_close(c, WS_CLOSE_NORMAL, reason);
}

/* ---- ending -------------------------------------------------------------- */

static void term_reap(struct term *t)
{
	if (t->reaped || t->pid <= 0)
		return;
	int status;
	pid_t r = waitpid(t->pid, &status, WNOHANG);
	if (r == t->pid) {
		t->reaped = true;
		t->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	} else if (r < 0 && errno == ECHILD) {
		t->reaped = true;
	}
}

static void term_close_master(struct terminals *ts, struct term *t)
{
	if (t->master < 0)
		return;
	(void)epoll_ctl(ts->epfd, EPOLL_CTL_DEL, t->master, NULL);
	close(t->master);
	t->master = -1;
}

/* End a live terminal: hang up its session, tell its clients why. The
 * I/O thread kills what is left after TERM_KILL_MS and frees it once
 * reaped and without clients. */
static void term_end(struct terminals *ts, struct term *t, const char *reason)
{
	if (t->state != TERM_LIVE)
		return;
	t->state = TERM_ENDING;
	term_reap(t);
	if (!t->reaped) {
		pty_signal_session(t->pid, SIGHUP);
		pty_signal_session(t->pid, SIGCONT); /* stopped jobs must see the HUP */
	}
	/* Closing the master hangs up the terminal for whatever holds it. */
	term_close_master(ts, t);
	t->kill_ms = term_now_ms() + TERM_KILL_MS;
	for (struct term_client *c = t->clients; c; c = c->next)
		if (!c->gone)
			term_send_exit(t, c, reason);
	log_info("terminal %s of user %lld ended (%s)", t->id, (long long)t->user_id, reason);
}

/* ---- I/O ------------------------------------------------------------------ */

/* Write pending input to the PTY as far as it takes it. */
static void term_flush_input(struct term *t)
{
	size_t off = 0;
	while (off < t->in_len && t->master >= 0) {
		ssize_t n = write(t->master, t->in + off, t->in_len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_debug("terminal %s: write to the PTY: %s", t->id,
					  strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	if (off >= t->in_len || t->master < 0) {
		t->in_len = 0;
	} else if (off) {
		memmove(t->in, t->in + off, t->in_len - off);
		t->in_len -= off;
	}
}

static void term_input(struct term *t, const uint8_t *data, size_t len)
{
	if (t->state != TERM_LIVE || len == 0)
		return;
	if (t->in_len + len > TERM_INPUT_MAX) {
		log_warn("terminal %s: input over %d bytes waiting; dropping %zu bytes", t->id,
			 TERM_INPUT_MAX, len);
		return;
	}
	if (t->in_len + len > t->in_cap) {
		t->in_cap = t->in_len + len < 4096 ? 4096 : (t->in_len + len) * 2;
		t->in = xrealloc(t->in, t->in_cap);
	}
	memcpy(t->in + t->in_len, data, len);
	t->in_len += len;
	t->active_ms = term_now_ms();
	term_flush_input(t);
}

static void term_on_message(void *ctx, int opcode, const uint8_t *data, size_t len)
{
	struct term_client *c = ctx;
	struct term *t = c->t;
	if (opcode == WS_BINARY) {
		term_input(t, data, len);
		return;
	}
	struct termctl msg;
	char *cause = NULL;
	if (termctl_parse((const char *)data, len, &msg, &cause) < 0) {
		log_debug("terminal %s: ignoring a control message: %s", t->id, cause);
		free(cause);
		return;
	}
	if (msg.type == TERMCTL_RESIZE && t->master >= 0 &&
	    (msg.cols != t->cols || msg.rows != t->rows)) {
		int rc = pty_resize(t->master, msg.cols, msg.rows);
		if (rc < 0)
			log_warn("terminal %s: resize to %dx%d: %s", t->id, msg.cols, msg.rows,
				 strerror(-rc));
		else
			t->cols = msg.cols, t->rows = msg.rows;
	}
}

/* Read one chunk of output and queue it to every client. */
static void term_read_pty(struct terminals *ts, struct term *t)
{
	uint8_t buf[TERM_READ_CHUNK];
	ssize_t n;
	do
		n = read(t->master, buf, sizeof buf);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		/* EIO: every holder of the slave is gone (the shell exited).
		 * Its exit status comes a moment later: the loop waits for it
		 * (at most TERM_HUP_WAIT_MS) so the exit message can carry it. */
		term_close_master(ts, t);
		term_reap(t);
		if (t->reaped)
			term_end(ts, t, "exited");
		else
			t->hup_ms = term_now_ms();
		return;
	}
	ring_write(t->scroll, buf, (size_t)n);
	t->active_ms = term_now_ms();
	for (struct term_client *c = t->clients; c; c = c->next)
		if (!c->gone && !c->closing_ms)
			(void)ws_send(c->ws, WS_BINARY, buf, (size_t)n);
}

static void term_client_read(struct term_client *c)
{
	if (ws_read(c->ws) < 0 && !c->closing_ms)
		c->closing_ms = term_now_ms(); /* peer closed or broke the protocol */
}

/* Bring a terminal's epoll registrations in line with its state, write
 * what its clients have queued, and mark finished clients gone. */
static void term_sync(struct terminals *ts, struct term *t)
{
	bool backlog = false;
	int64_t now = term_now_ms();
	for (struct term_client *c = t->clients; c; c = c->next) {
		if (c->gone)
			continue;
		if (ws_write(c->ws) < 0 || ws_done(c->ws)) {
			c->gone = true;
			continue;
		}
		if (ws_queued(c->ws) > TERM_CLIENT_HIGH) {
			if (!c->slow_ms)
				c->slow_ms = now;
			backlog = true;
		} else {
			c->slow_ms = 0;
		}
		uint32_t want = 0;
		if (ws_want_read(c->ws) && t->in_len < TERM_INPUT_HIGH)
			want |= EPOLLIN;
		if (ws_want_write(c->ws))
			want |= EPOLLOUT;
		term_epoll_set(ts, ws_fd(c->ws), c, &c->events, want);
	}
	if (t->master >= 0) {
		uint32_t want = (backlog ? 0 : EPOLLIN) | (t->in_len ? EPOLLOUT : 0);
		term_epoll_set(ts, t->master, t, &t->events, want);
	}
}

/* Called locked: the socket goes back to http.c after the unlock. */
static void term_client_free(struct terminals *ts, struct term_client *c)
{
	(void)epoll_ctl(ts->epfd, EPOLL_CTL_DEL, ws_fd(c->ws), NULL);
	ws_free(c->ws);
	if (ts->nclose == ts->capclose) {
		ts->capclose = ts->capclose ? ts->capclose * 2 : 16;
		ts->to_close = xrealloc(ts->to_close, ts->capclose * sizeof *ts->to_close);
	}
	ts->to_close[ts->nclose++] = c->up;
	free(c);
}

/* Unlock, then hand back the sockets term_client_free let go of. */
static void term_unlock(struct terminals *ts)
{
	struct http_upgrade *batch[64];
	for (;;) {
		size_t n = ts->nclose < 64 ? ts->nclose : 64;
		if (n) {
			memcpy(batch, ts->to_close + ts->nclose - n, n * sizeof *batch);
			ts->nclose -= n;
		}
		bool more = ts->nclose > 0;
		pthread_mutex_unlock(&ts->lock);
		for (size_t i = 0; i < n; i++)
			http_upgrade_close(batch[i]);
		if (!more)
			return;
		pthread_mutex_lock(&ts->lock);
	}
}

static void term_free(struct term *t)
{
	ring_free(t->scroll);
	free(t->in);
	free(t);
}

/* Timers: grace, idle, SIGKILL, reaping, clients that never finish. */
static void term_tick(struct terminals *ts, struct term *t, int64_t now)
{
	if (t->state == TERM_STARTING)
		return;
	if (t->state == TERM_LIVE) {
		term_reap(t);
		if (t->reaped)
			term_end(ts, t, "exited");
		else if (t->nclients == 0 && now - t->detached_ms >= ts->cfg->term_grace_s * 1000)
			term_end(ts, t, "grace");
		else if (ts->cfg->term_idle_s > 0 &&
			 now - t->active_ms >= ts->cfg->term_idle_s * 1000)
			term_end(ts, t, "idle");
	} else {
		term_reap(t);
		if (!t->reaped && t->kill_ms && now >= t->kill_ms) {
			pty_signal_session(t->pid, SIGKILL);
			t->kill_ms = 0;
		}
	}
	for (struct term_client *c = t->clients; c; c = c->next) {
		if (c->gone)
			continue;
		int64_t silent = now - ws_heard_ms(c->ws);
		if (c->closing_ms && now - c->closing_ms >= TERM_CLOSE_MS) {
			c->gone = true;
		} else if (silent >= TERM_DEAD_MS) {
			/* A peer gone without a word (a laptop closed, a network
			 * dropped) would otherwise hold the terminal forever. */
			log_info("terminal %s: dropping a client silent for %lld s", t->id,
				 (long long)silent / 1000);
			c->gone = true;
		} else if (silent >= TERM_PING_MS && now - c->ping_ms >= TERM_PING_MS &&
			   !c->closing_ms) {
			ws_ping(c->ws);
			c->ping_ms = now;
		}
		if (!c->gone && c->slow_ms && now - c->slow_ms >= TERM_SLOW_MS) {
			log_info("terminal %s: dropping a client %d KiB behind for %d s", t->id,
				 TERM_CLIENT_HIGH / 1024, TERM_SLOW_MS / 1000);
			c->gone = true;
		}
	}
}

/* End of a batch: free gone clients and finished terminals. */
static void term_collect(struct terminals *ts)
{
	int64_t now = term_now_ms();
	for (struct term **pt = &ts->list; *pt;) {
		struct term *t = *pt;
		for (struct term_client **pc = &t->clients; *pc;) {
			struct term_client *c = *pc;
			if (!c->gone) {
				pc = &c->next;
				continue;
			}
			*pc = c->next;
			term_client_free(ts, c);
			if (--t->nclients == 0)
				t->detached_ms = now;
		}
		if (t->state == TERM_ENDING && t->reaped && !t->clients) {
			*pt = t->next;
			term_free(t);
			continue;
		}
		pt = &t->next;
	}
}

static void *term_thread(void *arg)
{
	struct terminals *ts = arg;
	struct epoll_event evs[64];
	int timeout = TERM_TICK_MS;
	for (;;) {
		int n = epoll_wait(ts->epfd, evs, 64, timeout);
		if (n < 0 && errno != EINTR) {
			log_error("terminal: epoll_wait() failed: %s", strerror(errno));
			n = 0;
		}
		pthread_mutex_lock(&ts->lock);
		if (ts->stopping) {
			pthread_mutex_unlock(&ts->lock);
			break;
		}
		for (int i = 0; i < n; i++) {
			struct term_ev *ev = evs[i].data.ptr;
			uint32_t e = evs[i].events;
			if (ev->kind == TERM_EV_WAKE) {
				uint64_t v;
				(void)!read(ts->wakefd, &v, sizeof v);
			} else if (ev->kind == TERM_EV_PTY) {
				struct term *t = (struct term *)ev;
				if (t->master < 0)
					continue;
				if (e & EPOLLOUT)
					term_flush_input(t);
				if (e & (EPOLLIN | EPOLLHUP | EPOLLERR))
					term_read_pty(ts, t);
				term_sync(ts, t);
			} else {
				struct term_client *c = (struct term_client *)ev;
				if (c->gone)
					continue;
				if (e & (EPOLLIN | EPOLLHUP | EPOLLERR))
					term_client_read(c);
				term_sync(ts, c->t);
			}
		}
		int64_t now = term_now_ms();
		bool tick = now - ts->last_tick_ms >= TERM_TICK_MS;
		timeout = TERM_TICK_MS;
		for (struct term *t = ts->list; t; t = t->next) {
			if (t->state == TERM_LIVE && t->hup_ms) {
				term_reap(t);
				if (t->reaped || now - t->hup_ms >= TERM_HUP_WAIT_MS)
					term_end(ts, t, "exited");
				else
					timeout = TERM_HUP_POLL_MS;
			}
			if (tick)
				term_tick(ts, t, now);
			if (t->state != TERM_STARTING)
				term_sync(ts, t);
		}
		if (tick)
			ts->last_tick_ms = now;
		term_collect(ts);
		term_unlock(ts);
	}
	return NULL;
}

/* ---- public ------------------------------------------------------------- */

int terminal_start(struct server *srv, char **cause)
{
	struct terminals *ts = xcalloc(1, sizeof *ts);
	pthread_mutex_init(&ts->lock, NULL);
	ts->cfg = srv->cfg;
	ts->wake_ev.kind = TERM_EV_WAKE;
	ts->epfd = epoll_create1(EPOLL_CLOEXEC);
	ts->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &ts->wake_ev};
	if (ts->epfd < 0 || ts->wakefd < 0 ||
	    epoll_ctl(ts->epfd, EPOLL_CTL_ADD, ts->wakefd, &ev) < 0) {
		*cause = xasprintf("terminal: epoll or eventfd failed: %s", strerror(errno));
		goto fail;
	}
	int rc = pthread_create(&ts->thread, NULL, term_thread, ts);
	if (rc != 0) {
		*cause = xasprintf("terminal: cannot start the I/O thread: %s", strerror(rc));
		goto fail;
	}
	ts->running = true;
	srv->terms = ts;
	return 0;
fail:
	if (ts->epfd >= 0)
		close(ts->epfd);
	if (ts->wakefd >= 0)
		close(ts->wakefd);
	pthread_mutex_destroy(&ts->lock);
	free(ts);
	return -1;
}

void terminal_stop(struct server *srv)
{
	struct terminals *ts = srv->terms;
	if (!ts)
		return;
	pthread_mutex_lock(&ts->lock);
	ts->stopping = true;
	/* Creations in flight finish first (they see stopping and end what
	 * they started). */
	while (ts->creating > 0) {
		pthread_mutex_unlock(&ts->lock);
		usleep(10 * 1000);
		pthread_mutex_lock(&ts->lock);
	}
	for (struct term *t = ts->list; t; t = t->next) {
		term_end(ts, t, "shutdown");
		for (struct term_client *c = t->clients; c; c = c->next)
			(void)ws_write(c->ws); /* best effort: the exit message */
	}
	pthread_mutex_unlock(&ts->lock);
	term_wake(ts);
	if (ts->running)
		pthread_join(ts->thread, NULL);
	ts->running = false;

	/* Only this thread touches the terminals now. Give the shells a
	 * moment for their SIGHUP, then kill what remains and reap all. */
	pthread_mutex_lock(&ts->lock);
	int64_t deadline = term_now_ms() + TERM_KILL_MS;
	for (;;) {
		bool all = true;
		for (struct term *t = ts->list; t; t = t->next) {
			term_reap(t);
			all = all && t->reaped;
		}
		if (all || term_now_ms() >= deadline)
			break;
		usleep(20 * 1000);
	}
	while (ts->list) {
		struct term *t = ts->list;
		ts->list = t->next;
		while (t->clients) {
			struct term_client *c = t->clients;
			t->clients = c->next;
			term_client_free(ts, c);
		}
		if (t->pid > 0 && !t->reaped) {
			pty_signal_session(t->pid, SIGKILL);
			while (waitpid(t->pid, NULL, 0) < 0 && errno == EINTR)
				;
		}
		term_close_master(ts, t);
		term_free(t);
	}
	term_unlock(ts);
}

void terminal_free(struct server *srv)
{
	struct terminals *ts = srv->terms;
	if (!ts)
		return;
	close(ts->epfd);
	close(ts->wakefd);
	pthread_mutex_destroy(&ts->lock);
	free(ts->to_close);
	free(ts);
	srv->terms = NULL;
}

static struct term *term_find(struct terminals *ts, int64_t user_id, const char *id)
{
	for (struct term *t = ts->list; t; t = t->next)
		if (t->state == TERM_LIVE && t->user_id == user_id && strcmp(t->id, id) == 0)
			return t;
	return NULL;
}

static void term_info(const struct term *t, struct terminal_info *out)
{
	memset(out, 0, sizeof *out);
	memcpy(out->id, t->id, sizeof out->id);
	out->pid = t->pid;
	out->cols = t->cols;
	out->rows = t->rows;
	out->clients = t->nclients;
	memcpy(out->shell, t->shell, sizeof out->shell);
	out->created_at = t->created_at;
	out->last_active_at = (int64_t)time(NULL) - (term_now_ms() - t->active_ms) / 1000;
}

static void term_new_id(struct terminals *ts, char id[TERMINAL_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	for (;;) {
		uint8_t raw[TERMINAL_ID_LEN / 2];
		if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
			log_error("terminal: getrandom() failed: %s", strerror(errno));
			abort();
		}
		for (size_t i = 0; i < sizeof raw; i++) {
			id[2 * i] = hex[raw[i] >> 4];
			id[2 * i + 1] = hex[raw[i] & 15];
		}
		id[TERMINAL_ID_LEN] = '\0';
		bool taken = false;
		for (struct term *t = ts->list; t; t = t->next)
			taken = taken || strcmp(t->id, id) == 0;
		if (!taken)
			return;
	}
}

static void term_unlink(struct terminals *ts, struct term *t)
{
	for (struct term **pt = &ts->list; *pt; pt = &(*pt)->next)
		if (*pt == t) {
			*pt = t->next;
			return;
		}
}

int terminal_create(struct server *srv, const struct terminal_owner *owner, int64_t max, int cols,
		    int rows, struct terminal_info *out, char **cause)
{
	struct terminals *ts = srv->terms;
	pthread_mutex_lock(&ts->lock);
	if (ts->stopping) {
		pthread_mutex_unlock(&ts->lock);
		*cause = xstrdup("the server is shutting down");
		return -ESHUTDOWN;
	}
	int64_t have = 0;
	for (struct term *t = ts->list; t; t = t->next)
		if (t->user_id == owner->user_id && t->state != TERM_ENDING)
			have++;
	if (max >= 0 && have >= max) {
		pthread_mutex_unlock(&ts->lock);
		*cause = xasprintf("you have %lld open terminals, the most your group allows",
				   (long long)have);
		return -EUSERS;
	}
	/* A placeholder holds the slot while the shell starts, unlocked. */
	ts->creating++;
	struct term *t = xcalloc(1, sizeof *t);
	t->ev.kind = TERM_EV_PTY;
	t->state = TERM_STARTING;
	t->user_id = owner->user_id;
	t->master = -1;
	t->status = -1;
	term_new_id(ts, t->id);
	t->next = ts->list;
	ts->list = t;
	pthread_mutex_unlock(&ts->lock);

	char env_id[32 + TERMINAL_ID_LEN];
	snprintf(env_id, sizeof env_id, "KAON_TERMINAL_ID=%s", t->id);
	char *const extra_env[] = {env_id, NULL};
	struct pty_user pu = {owner->unix_user, owner->uid, owner->gid, owner->home};
	struct pty_plan *plan = NULL;
	int master = -1;
	pid_t pid = -1;
	int rc = pty_plan_new(&pu, extra_env, &plan, cause);
	if (rc == 0)
		rc = pty_spawn(plan, cols, rows, &master, &pid, cause);

	pthread_mutex_lock(&ts->lock);
	ts->creating--;
	if (rc < 0) {
		term_unlink(ts, t);
		pthread_mutex_unlock(&ts->lock);
		free(t);
		pty_plan_free(plan);
		return rc;
	}
	int64_t now = term_now_ms();
	t->pid = pid;
	t->master = master;
	t->cols = cols;
	t->rows = rows;
	snprintf(t->shell, sizeof t->shell, "%s", plan->shell);
	t->scroll = ring_new((size_t)ts->cfg->term_scrollback_kib * 1024);
	t->created_at = time(NULL);
	t->active_ms = t->detached_ms = now;
	t->state = TERM_LIVE;
	t->events = EPOLLIN;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = t};
	if (epoll_ctl(ts->epfd, EPOLL_CTL_ADD, master, &ev) < 0)
		log_error("terminal %s: epoll_ctl(ADD) failed: %s", t->id, strerror(errno));
	term_info(t, out);
	if (ts->stopping)
		term_end(ts, t, "shutdown");
	pthread_mutex_unlock(&ts->lock);
	log_info("terminal %s of user %lld: %s as uid %u, pid %ld", out->id,
		 (long long)owner->user_id, plan->shell,
		 (unsigned)(plan->setcreds ? plan->uid : getuid()), (long)pid);
	pty_plan_free(plan);
	term_wake(ts);
	return 0;
}

int terminal_list(struct server *srv, int64_t user_id, struct terminal_info **out, size_t *n)
{
	struct terminals *ts = srv->terms;
	pthread_mutex_lock(&ts->lock);
	size_t count = 0;
	for (struct term *t = ts->list; t; t = t->next)
		if (t->state == TERM_LIVE && t->user_id == user_id)
			count++;
	struct terminal_info *all = xcalloc(count ? count : 1, sizeof *all);
	/* The list is newest first: fill from the end, oldest first. */
	size_t i = count;
	for (struct term *t = ts->list; t; t = t->next)
		if (t->state == TERM_LIVE && t->user_id == user_id)
			term_info(t, &all[--i]);
	pthread_mutex_unlock(&ts->lock);
	*out = all;
	*n = count;
	return 0;
}

int terminal_get(struct server *srv, int64_t user_id, const char *id, struct terminal_info *out)
{
	struct terminals *ts = srv->terms;
	pthread_mutex_lock(&ts->lock);
	struct term *t = term_find(ts, user_id, id);
	if (t)
		term_info(t, out);
	pthread_mutex_unlock(&ts->lock);
	return t ? 0 : -ENOENT;
}

int terminal_end(struct server *srv, int64_t user_id, const char *id)
{
	struct terminals *ts = srv->terms;
	pthread_mutex_lock(&ts->lock);
	struct term *t = term_find(ts, user_id, id);
	if (t) {
		term_end(ts, t, "ended");
		term_sync(ts, t);
	}
	term_unlock(ts);
	if (t)
		term_wake(ts);
	return t ? 0 : -ENOENT;
}

/* Queue the scrollback to a new client, from a whole line when the ring
 * has wrapped, in frames no larger than a PTY read. */
static void term_replay(struct term *t, struct term_client *c)
{
	size_t total = ring_len(t->scroll);
	uint8_t *buf = xmalloc(TERM_READ_CHUNK);
	for (size_t off = ring_line_start(t->scroll); off < total;) {
		size_t n = ring_copy(t->scroll, off, buf, TERM_READ_CHUNK);
		(void)ws_send(c->ws, WS_BINARY, buf, n);
		off += n;
	}
	free(buf);
}

void terminal_attach(struct server *srv, int64_t user_id, const char *id, int fd, const char *extra,
		     size_t extra_len, struct http_upgrade *up)
{
	struct terminals *ts = srv->terms;
	pthread_mutex_lock(&ts->lock);
	struct term *t = ts->stopping ? NULL : term_find(ts, user_id, id);
	if (!t) {
		pthread_mutex_unlock(&ts->lock);
		http_upgrade_close(up);
		return;
	}
	struct term_client *c = xcalloc(1, sizeof *c);
	c->ev.kind = TERM_EV_CLIENT;
	c->t = t;
	c->up = up;
	c->ws = ws_new(fd, extra, extra_len, TERMINAL_MAX_FRAME, term_on_message, c);
	c->next = t->clients;
	t->clients = c;
	t->nclients++;
	c->events = EPOLLIN;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	if (epoll_ctl(ts->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_error("terminal %s: epoll_ctl(ADD) of a client failed: %s", t->id,
			  strerror(errno));
		c->gone = true;
	}
	term_replay(t, c);
	if (extra_len)
		term_client_read(c); /* frames sent along with the handshake */
	term_sync(ts, t);
	term_unlock(ts);
	term_wake(ts);
}
