/*
 * identity/secret — random secrets and their hashes.
 *
 * Secrets (API tokens, session cookies, CSRF tokens) are 32 random bytes
 * from libsodium, written in unpadded base64url. They are stored only as
 * SHA-256 hashes; comparison of secrets happens through those hashes in
 * the store, never with memcmp on the secret.
 */
#ifndef KAON_IDENTITY_SECRET_H
#define KAON_IDENTITY_SECRET_H

#include <stddef.h>

enum {
	SECRET_BYTES = 32,
	SECRET_HASH_LEN = 32,
	SECRET_B64_LEN = 43, /* base64url of 32 bytes, no padding */
};

/* Initialise libsodium; 0 or -1. Call once at start. */
int secret_init(void);
/* A new random secret as base64url into out[SECRET_B64_LEN + 1]. */
void secret_random(char out[SECRET_B64_LEN + 1]);
/* SHA-256 of s. */
void secret_hash(const char *s, size_t len, unsigned char out[SECRET_HASH_LEN]);
/* Constant-time equality of two strings of equal length; 0 when equal. */
int secret_compare(const char *a, const char *b);

#endif
