/*
 * server/modelio — one request to a predict worker and its answer, over
 * the worker's persistent unix-socket connection (one JSON object per
 * line each way: docs/models.md). Every wait polls the worker, the
 * client and a stop eventfd with the request's deadline, so nothing here
 * outlasts the client, the deadline or the daemon.
 *
 * The caller owns the worker: only its thread uses the connection while
 * the request runs (server/modelpool.c's locking rule), so nothing here
 * takes a lock.
 */
#ifndef KAON_SERVER_MODELIO_H
#define KAON_SERVER_MODELIO_H

#include <stddef.h>
#include <stdint.h>

#include "server/modelpool.h"

struct fsident;

enum modelio_result {
	MODELIO_OK,
	MODELIO_BROKEN,	  /* no connection, or it broke: the worker died */
	MODELIO_TIMEOUT,  /* the deadline passed */
	MODELIO_GONE,	  /* the client went away */
	MODELIO_STOPPING, /* stop_fd became readable */
	MODELIO_TOOBIG,	  /* the answer line is over max */
};

/* The worker, as the pool knows it. */
struct modelio_worker {
	const char *socket;	     /* its unix socket */
	const struct fsident *owner; /* connect with this identity; NULL: cannot */
	int64_t job_id;		     /* for messages */
	int *fd;		     /* the persistent connection, -1 none (opened here) */
};

struct modelio_call {
	const char *req; /* one line, its newline included */
	size_t reqlen;
	int stop_fd;	     /* readable: the daemon stops */
	int *cancel_fd;	     /* the client's socket; set to -1 once it is only sending more */
	int64_t deadline_ms; /* on modelio_now_ms()'s clock */
	size_t max;	     /* the longest answer line taken */
};

/* Milliseconds on a monotonic clock. */
int64_t modelio_now_ms(void);
/* After poll says cancel_fd has something: 1 the client went away (or,
 * for a pipe or eventfd, the caller cancelled), 0 it only sent more (a
 * pipelined request: stop watching), -1 nothing after all. */
int modelio_client_gone(int fd, short revents);
/* Send c->req on w's connection (connecting when it has none, and once
 * more when a kept connection proves broken before the worker can have
 * read anything) and read the answer line (new string, its newline
 * dropped). *why (new string) says why on MODELIO_BROKEN. */
enum modelio_result modelio_exchange(const struct modelio_worker *w, struct modelio_call *c,
				     char **line, size_t *len, char **why);
/* Turn the worker's answer line into out: the JSON it gave, or the bytes
 * of the file it wrote (read as the owner, at most max bytes, then
 * removed). 0, or -1 and *why (new string) for a 502. */
int modelio_answer(const struct modelio_worker *w, const char *line, size_t len, size_t max,
		   struct modelpool_response *out, char **why);

#endif
