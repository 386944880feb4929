/* identity/ratelimit — a small, bounded failure table (see ratelimit.h). */
#include "identity/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

enum { RATELIMIT_KEY_MAX = 96 };

struct ratelimit_entry {
	char key[RATELIMIT_KEY_MAX];
	int failures;
	int64_t first_at;
	int64_t locked_until;
	int64_t touched_at;
};

struct ratelimit {
	pthread_mutex_t lock;
	struct ratelimit_entry *entries;
	size_t capacity;
	int max_failures;
	int window_s;
};

struct ratelimit *ratelimit_new(size_t capacity, int max_failures, int window_s)
{
	struct ratelimit *rl = xcalloc(1, sizeof *rl);
	pthread_mutex_init(&rl->lock, NULL);
	rl->entries = xcalloc(capacity, sizeof *rl->entries);
	rl->capacity = capacity;
	rl->max_failures = max_failures;
	rl->window_s = window_s;
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl->entries);
	free(rl);
}

/* Linear scan: the table is small (hundreds of entries) and only login
 * attempts, which each cost an argon2id hash, come here. */
static struct ratelimit_entry *ratelimit_find(struct ratelimit *rl, const char *key, int create)
{
	struct ratelimit_entry *oldest = &rl->entries[0];
	for (size_t i = 0; i < rl->capacity; i++) {
		struct ratelimit_entry *e = &rl->entries[i];
		if (e->key[0] && strncmp(e->key, key, RATELIMIT_KEY_MAX - 1) == 0)
			return e;
		if (e->touched_at < oldest->touched_at)
			oldest = e;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof *oldest);
	size_t n = strlen(key);
	if (n >= RATELIMIT_KEY_MAX)
		n = RATELIMIT_KEY_MAX - 1;
	memcpy(oldest->key, key, n);
	return oldest;
}

int ratelimit_wait(struct ratelimit *rl, const char *key, int64_t now)
{
	pthread_mutex_lock(&rl->lock);
	struct ratelimit_entry *e = ratelimit_find(rl, key, 0);
	int wait = e && e->locked_until > now ? (int)(e->locked_until - now) : 0;
	pthread_mutex_unlock(&rl->lock);
	return wait;
}

void ratelimit_fail(struct ratelimit *rl, const char *key, int64_t now)
{
	pthread_mutex_lock(&rl->lock);
	struct ratelimit_entry *e = ratelimit_find(rl, key, 1);
	if (now - e->first_at >= rl->window_s) {
		e->failures = 0;
		e->first_at = now;
	}
	e->touched_at = now;
	if (++e->failures >= rl->max_failures) {
		e->locked_until = now + rl->window_s;
		e->failures = 0;
		e->first_at = now;
	}
	pthread_mutex_unlock(&rl->lock);
}

void ratelimit_clear(struct ratelimit *rl, const char *key)
{
	pthread_mutex_lock(&rl->lock);
	struct ratelimit_entry *e = ratelimit_find(rl, key, 0);
	if (e)
		memset(e, 0, sizeof *e);
	pthread_mutex_unlock(&rl->lock);
}
