/*
 * identity/ratelimit — lock out a key (a username or an address) after
 * repeated login failures.
 *
 * After max_failures failures within window_s seconds the key is locked
 * for window_s seconds. The table has a fixed capacity; when full, the
 * entry that was touched longest ago is reused, so memory stays bounded
 * under a flood of made-up usernames. Thread-safe.
 */
#ifndef KAON_IDENTITY_RATELIMIT_H
#define KAON_IDENTITY_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

struct ratelimit;

struct ratelimit *ratelimit_new(size_t capacity, int max_failures, int window_s);
void ratelimit_free(struct ratelimit *rl);
/* Seconds until key may try again; 0 when it may try now. */
int ratelimit_wait(struct ratelimit *rl, const char *key, int64_t now);
void ratelimit_fail(struct ratelimit *rl, const char *key, int64_t now);
void ratelimit_clear(struct ratelimit *rl, const char *key);

#endif
