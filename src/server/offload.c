/*
 * server/offload — a blocking call on a thread of its own (offload.h).
 */
#include "server/offload.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/http.h"

struct offload {
	void (*fn)(void *arg);
	void *arg;
	struct http_waker *waker;
	pthread_t thread;
	bool threaded;
	atomic_bool done;
};

static void *offload_main(void *v)
{
	struct offload *o = v;
	o->fn(o->arg);
	atomic_store(&o->done, true);
	/* The waker stays valid until offload_join() has returned (it is
	 * freed after the sink's release(), which joins), so this wake can
	 * never reach a freed request. A wake after the request has stopped
	 * waiting is kept by http.c and harmless. */
	http_wake(o->waker);
	return NULL;
}

struct offload *offload_start(struct http_waker *w, void (*fn)(void *arg), void *arg)
{
	struct offload *o = xcalloc(1, sizeof *o);
	o->fn = fn;
	o->arg = arg;
	o->waker = w;
	atomic_init(&o->done, false);
	int rc = pthread_create(&o->thread, NULL, offload_main, o);
	if (rc == 0) {
		o->threaded = true;
		return o;
	}
	log_warn("offload: no thread (%s); the call blocks its HTTP thread", strerror(rc));
	fn(arg);
	atomic_store(&o->done, true);
	return o;
}

bool offload_done(struct offload *o)
{
	return atomic_load(&o->done);
}

void offload_join(struct offload *o)
{
	if (!o)
		return;
	if (o->threaded)
		pthread_join(o->thread, NULL);
	free(o);
}
