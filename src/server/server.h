/*
 * server/server — the daemon: its shared state and its main loop.
 *
 * One struct server lives for the whole run; worker threads read it and
 * never change the config. Mutable shared pieces (the login rate limits)
 * carry their own locks.
 */
#ifndef KAON_SERVER_SERVER_H
#define KAON_SERVER_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "exec/inventory.h"

struct config;
struct modelpool;
struct ratelimit;
struct scheduler;
struct sessionmon;
struct terminals;

struct server {
	const struct config *cfg;
	struct ratelimit *login_user_limit; /* keyed by username */
	struct ratelimit *login_addr_limit; /* keyed by client address */
	bool multiuser;
	int64_t started_at;
	struct inventory inv;     /* this machine, discovered at start */
	struct scheduler *sched;  /* owned by scheduler.c */
	struct terminals *terms;  /* owned by terminal.c */
	struct sessionmon *smon;  /* owned by sessionmon.c */
	struct modelpool *pool;   /* owned by modelpool.c */
	struct modelseed *seed;   /* owned by modelseed.c */
	void *http;            /* owned by http.c */
	char *tls_material[2]; /* certificate and key PEM, owned by http.c */
};

/* `kaon server`: serve until SIGTERM or SIGINT; the process exit status. */
int server_run(struct config *cfg);

#endif
