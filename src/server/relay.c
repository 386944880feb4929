/*
 * server/relay — watches and pipes on one epoll thread (see relay.h).
 *
 * One mutex guards the lists and every pipe; the loop holds it while it
 * handles a batch of events. Watches are level-less: each is registered
 * EPOLLONESHOT and re-armed by its owner, so an event is reported once
 * and the owner decides whether to wait again. Pipes are registered
 * level-triggered with the events they want now: a side is read only
 * while the other side has nothing pending, and is written only while it
 * has something pending; that is the whole flow control.
 */
#include "server/relay.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"

enum relay_kind { RELAY_EV_WAKE, RELAY_EV_WATCH, RELAY_EV_CLIENT, RELAY_EV_BACKEND };

struct relay_watch {
	enum relay_kind kind; /* first: epoll data points here */
	int fd;
	struct http_waker *w;
	bool added; /* registered with epoll (owner's thread only) */
	bool dead;
	struct relay_watch *next_dead;
};

/* One end of a pipe: a socket, what waits to be written to it, and
 * whether its peer has finished sending. */
struct relay_side {
	enum relay_kind kind; /* first: epoll data points here */
	int fd;
	uint32_t events; /* registered with epoll */
	bool eof;	 /* read returned 0: nothing more comes from here */
	bool shut;	 /* writing to it is shut down */
	bool removed;	 /* hung up and out of epoll: neither read nor written */
	char *pend;	 /* bytes from the other side not yet written here */
	size_t pend_len, pend_off;
};

struct relay_pipe {
	struct relay_side c, b; /* the client's connection, the backend's */
	struct http_upgrade *up;
	struct relay_stats *stats;
	bool gone; /* to be closed and freed at the end of the batch */
	struct relay_pipe *prev, *next;
};

static struct {
	pthread_mutex_t lock;
	int epfd, wakefd;
	enum relay_kind wake_ev;
	pthread_t thread;
	bool running, stopping;
	struct relay_pipe *pipes;
	struct relay_watch *dead; /* freed watches, released at the end of a batch */
	struct http_upgrade **to_close;
	size_t nclose, capclose;
	char buf[RELAY_BUF]; /* the loop's read buffer */
} relay = {.lock = PTHREAD_MUTEX_INITIALIZER, .epfd = -1, .wakefd = -1, .wake_ev = RELAY_EV_WAKE};

/* ---- watches ------------------------------------------------------------------ */

struct relay_watch *relay_watch_new(int fd, struct http_waker *w)
{
	pthread_mutex_lock(&relay.lock);
	bool ok = relay.running && !relay.stopping;
	pthread_mutex_unlock(&relay.lock);
	if (!ok)
		return NULL;
	struct relay_watch *rw = xcalloc(1, sizeof *rw);
	rw->kind = RELAY_EV_WATCH;
	rw->fd = fd;
	rw->w = w;
	return rw;
}

void relay_watch_arm(struct relay_watch *rw, bool out)
{
	struct epoll_event ev = {.events = (out ? EPOLLOUT | EPOLLIN : EPOLLIN) | EPOLLONESHOT,
				 .data.ptr = rw};
	if (epoll_ctl(relay.epfd, rw->added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, rw->fd, &ev) < 0) {
		/* Cannot wait: wake now, so the owner finds out by trying. */
		log_error("relay: epoll_ctl(fd %d) failed: %s", rw->fd, strerror(errno));
		http_wake(rw->w);
		return;
	}
	rw->added = true;
}

void relay_watch_free(struct relay_watch *rw)
{
	if (!rw)
		return;
	pthread_mutex_lock(&relay.lock);
	if (rw->added)
		(void)epoll_ctl(relay.epfd, EPOLL_CTL_DEL, rw->fd, NULL);
	rw->dead = true;
	if (relay.running) {
		rw->next_dead = relay.dead;
		relay.dead = rw;
		rw = NULL;
	}
	pthread_mutex_unlock(&relay.lock);
	free(rw); /* no loop: no event can point at it */
}

/* ---- pipes -------------------------------------------------------------------- */

static struct relay_pipe *relay_pipe_of(struct relay_side *s)
{
	return s->kind == RELAY_EV_CLIENT
		   ? (struct relay_pipe *)((char *)s - offsetof(struct relay_pipe, c))
		   : (struct relay_pipe *)((char *)s - offsetof(struct relay_pipe, b));
}

static struct relay_side *relay_other(struct relay_pipe *p, struct relay_side *s)
{
	return s == &p->c ? &p->b : &p->c;
}

static void relay_touch(struct relay_pipe *p)
{
	if (p->stats)
		atomic_store_explicit(&p->stats->active_s, (int64_t)time(NULL),
				      memory_order_relaxed);
}

/* Write what is pending to side d; once drained, pass on the other
 * side's end of stream. 0, or -1 when d cannot be written any more. */
static int relay_flush(struct relay_pipe *p, struct relay_side *d)
{
	while (d->pend_off < d->pend_len) {
		ssize_t n = write(d->fd, d->pend + d->pend_off, d->pend_len - d->pend_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return -1;
		d->pend_off += (size_t)n;
	}
	free(d->pend);
	d->pend = NULL;
	d->pend_len = d->pend_off = 0;
	if (relay_other(p, d)->eof && !d->shut) {
		(void)shutdown(d->fd, SHUT_WR);
		d->shut = true;
	}
	return 0;
}

/* Queue len bytes for side d and write what it takes now. */
static int relay_send(struct relay_pipe *p, struct relay_side *d, const void *data, size_t len)
{
	if (len == 0 || d->removed) /* a side that hung up takes nothing more */
		return 0;
	size_t off = 0;
	while (d->pend_len == 0 && off < len) {
		ssize_t n = write(d->fd, (const char *)data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0)
			return -1;
		off += (size_t)n;
	}
	if (off < len) {
		/* Appended (only the initial bytes can meet a non-empty queue). */
		d->pend = xrealloc(d->pend, d->pend_len + (len - off));
		memcpy(d->pend + d->pend_len, (const char *)data + off, len - off);
		d->pend_len += len - off;
	}
	(void)p;
	return 0;
}

/* Read from s once and pass it to the other side. */
static int relay_read(struct relay_pipe *p, struct relay_side *s)
{
	struct relay_side *d = relay_other(p, s);
	ssize_t n;
	do
		n = read(s->fd, relay.buf, sizeof relay.buf);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	if (n == 0) {
		s->eof = true;
		if (d->pend_len == 0 && !d->shut) {
			(void)shutdown(d->fd, SHUT_WR);
			d->shut = true;
		}
		return 0;
	}
	relay_touch(p);
	return relay_send(p, d, relay.buf, (size_t)n);
}

static uint32_t relay_want(struct relay_pipe *p, struct relay_side *s)
{
	uint32_t want = 0;
	if (!s->eof && relay_other(p, s)->pend_len == 0)
		want |= EPOLLIN;
	if (s->pend_len)
		want |= EPOLLOUT;
	return want;
}

/* Bring the epoll registrations in line; mark the pipe gone when done. */
static void relay_sync(struct relay_pipe *p)
{
	if (p->gone)
		return;
	if (p->c.eof && p->b.eof && !p->c.pend_len && !p->b.pend_len) {
		p->gone = true;
		return;
	}
	struct relay_side *sides[2] = {&p->c, &p->b};
	for (int i = 0; i < 2; i++) {
		struct relay_side *s = sides[i];
		uint32_t want = relay_want(p, s);
		if (s->removed || want == s->events)
			continue;
		struct epoll_event ev = {.events = want, .data.ptr = s};
		if (epoll_ctl(relay.epfd, EPOLL_CTL_MOD, s->fd, &ev) < 0) {
			log_error("relay: epoll_ctl(MOD, %d) failed: %s", s->fd, strerror(errno));
			p->gone = true;
			return;
		}
		s->events = want;
	}
}

static void relay_on_event(struct relay_side *s, uint32_t e)
{
	struct relay_pipe *p = relay_pipe_of(s);
	if (p->gone)
		return;
	if (e & EPOLLERR) {
		p->gone = true;
		return;
	}
	if ((e & EPOLLOUT) && relay_flush(p, s) < 0) {
		p->gone = true;
		return;
	}
	if ((e & (EPOLLIN | EPOLLHUP)) && !s->eof && relay_read(p, s) < 0) {
		p->gone = true;
		return;
	}
	/* A full hang-up of a side that has sent everything: nothing it is
	 * owed can reach it any more, and nothing more comes from it; what it
	 * sent may still be on its way to the other side. Out of epoll, since
	 * even with no events asked for EPOLLHUP would fire forever. */
	if ((e & EPOLLHUP) && s->eof && !s->removed) {
		(void)epoll_ctl(relay.epfd, EPOLL_CTL_DEL, s->fd, NULL);
		s->removed = s->shut = true;
		free(s->pend);
		s->pend = NULL;
		s->pend_len = s->pend_off = 0;
	}
	relay_sync(p);
}

static void relay_pipe_close(struct relay_pipe *p)
{
	(void)epoll_ctl(relay.epfd, EPOLL_CTL_DEL, p->c.fd, NULL);
	(void)epoll_ctl(relay.epfd, EPOLL_CTL_DEL, p->b.fd, NULL);
	close(p->b.fd);
	if (relay.nclose == relay.capclose) {
		relay.capclose = relay.capclose ? relay.capclose * 2 : 16;
		relay.to_close = xrealloc(relay.to_close, relay.capclose * sizeof *relay.to_close);
	}
	relay.to_close[relay.nclose++] = p->up;
	if (p->stats)
		atomic_fetch_sub(&p->stats->open, 1);
	if (p->prev)
		p->prev->next = p->next;
	else
		relay.pipes = p->next;
	if (p->next)
		p->next->prev = p->prev;
	free(p->c.pend);
	free(p->b.pend);
	free(p);
}

/* Unlock, then hand back the client connections of closed pipes (http.c
 * takes libmicrohttpd's locks there). */
static void relay_unlock(void)
{
	struct http_upgrade *batch[64];
	for (;;) {
		size_t n = relay.nclose < 64 ? relay.nclose : 64;
		if (n) {
			memcpy(batch, relay.to_close + relay.nclose - n, n * sizeof *batch);
			relay.nclose -= n;
		}
		bool more = relay.nclose > 0;
		pthread_mutex_unlock(&relay.lock);
		for (size_t i = 0; i < n; i++)
			http_upgrade_close(batch[i]);
		if (!more)
			return;
		pthread_mutex_lock(&relay.lock);
	}
}

void relay_pipe(int cfd, struct http_upgrade *up, int bfd, const void *to_backend, size_t tb_len,
		const void *to_client, size_t tc_len, struct relay_stats *stats)
{
	struct relay_pipe *p = xcalloc(1, sizeof *p);
	p->c = (struct relay_side){.kind = RELAY_EV_CLIENT, .fd = cfd};
	p->b = (struct relay_side){.kind = RELAY_EV_BACKEND, .fd = bfd};
	p->up = up;
	p->stats = stats;
	if (stats)
		atomic_fetch_add(&stats->open, 1);
	pthread_mutex_lock(&relay.lock);
	p->next = relay.pipes;
	if (p->next)
		p->next->prev = p;
	relay.pipes = p;
	int fl = fcntl(cfd, F_GETFL);
	bool ok = relay.running && !relay.stopping && fl >= 0 &&
		  fcntl(cfd, F_SETFL, fl | O_NONBLOCK) == 0;
	/* Registered with no events first, so relay_sync's MOD works. */
	struct epoll_event ev = {.events = 0, .data.ptr = &p->c};
	ok = ok && epoll_ctl(relay.epfd, EPOLL_CTL_ADD, cfd, &ev) == 0;
	ev.data.ptr = &p->b;
	ok = ok && epoll_ctl(relay.epfd, EPOLL_CTL_ADD, bfd, &ev) == 0;
	if (ok && (relay_send(p, &p->b, to_backend, tb_len) < 0 ||
		   relay_send(p, &p->c, to_client, tc_len) < 0))
		ok = false;
	if (ok) {
		relay_touch(p);
		relay_sync(p);
	}
	if (!ok || p->gone)
		relay_pipe_close(p);
	relay_unlock();
}

/* ---- the loop ----------------------------------------------------------------- */

static void *relay_thread(void *arg)
{
	(void)arg;
	struct epoll_event evs[128];
	for (;;) {
		int n = epoll_wait(relay.epfd, evs, 128, -1);
		if (n < 0 && errno != EINTR) {
			log_error("relay: epoll_wait() failed: %s", strerror(errno));
			n = 0;
		}
		pthread_mutex_lock(&relay.lock);
		if (relay.stopping) {
			pthread_mutex_unlock(&relay.lock);
			break;
		}
		for (int i = 0; i < n; i++) {
			enum relay_kind *k = evs[i].data.ptr;
			if (*k == RELAY_EV_WAKE) {
				uint64_t v;
				(void)!read(relay.wakefd, &v, sizeof v);
			} else if (*k == RELAY_EV_WATCH) {
				struct relay_watch *rw = (struct relay_watch *)k;
				if (!rw->dead)
					http_wake(rw->w);
			} else {
				relay_on_event((struct relay_side *)k, evs[i].events);
			}
		}
		/* End of the batch: nothing below can be pointed at by an event
		 * still to be handled. */
		for (struct relay_pipe *p = relay.pipes, *nx; p; p = nx) {
			nx = p->next;
			if (p->gone)
				relay_pipe_close(p);
		}
		while (relay.dead) {
			struct relay_watch *rw = relay.dead;
			relay.dead = rw->next_dead;
			free(rw);
		}
		relay_unlock();
	}
	return NULL;
}

int relay_start(char **cause)
{
	relay.epfd = epoll_create1(EPOLL_CLOEXEC);
	relay.wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &relay.wake_ev};
	if (relay.epfd < 0 || relay.wakefd < 0 ||
	    epoll_ctl(relay.epfd, EPOLL_CTL_ADD, relay.wakefd, &ev) < 0) {
		*cause = xasprintf("relay: epoll or eventfd failed: %s", strerror(errno));
		goto fail;
	}
	relay.stopping = false;
	int rc = pthread_create(&relay.thread, NULL, relay_thread, NULL);
	if (rc != 0) {
		*cause = xasprintf("relay: cannot start the proxy's I/O thread: %s", strerror(rc));
		goto fail;
	}
	relay.running = true;
	return 0;
fail:
	if (relay.epfd >= 0)
		close(relay.epfd);
	if (relay.wakefd >= 0)
		close(relay.wakefd);
	relay.epfd = relay.wakefd = -1;
	return -1;
}

void relay_stop(void)
{
	pthread_mutex_lock(&relay.lock);
	if (!relay.running) {
		pthread_mutex_unlock(&relay.lock);
		return;
	}
	relay.stopping = true;
	pthread_mutex_unlock(&relay.lock);
	uint64_t one = 1;
	if (write(relay.wakefd, &one, sizeof one) < 0)
		log_error("relay: cannot wake the I/O thread: %s", strerror(errno));
	pthread_join(relay.thread, NULL);
	pthread_mutex_lock(&relay.lock);
	relay.running = false;
	while (relay.pipes)
		relay_pipe_close(relay.pipes);
	while (relay.dead) {
		struct relay_watch *rw = relay.dead;
		relay.dead = rw->next_dead;
		free(rw);
	}
	relay_unlock();
	/* epfd stays open: requests still parked may arm watches until
	 * http_stop() has let them go; no thread reads it any more. */
}
