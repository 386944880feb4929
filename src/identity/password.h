/*
 * identity/password — argon2id password hashes (libsodium crypto_pwhash).
 *
 * Each hash takes about 64 MiB and tens of milliseconds, so at most
 * `slots` run at once; a caller that cannot get a slot within a few
 * seconds gets -EBUSY (the server answers 503) instead of piling up
 * memory. Verification of an unknown user runs against a dummy hash so
 * that the answer takes as long as for a real one.
 */
#ifndef KAON_IDENTITY_PASSWORD_H
#define KAON_IDENTITY_PASSWORD_H

#include <stdbool.h>

enum { PASSWORD_MIN_LEN = 8, PASSWORD_MAX_LEN = 1024 };

/* Set how many hashes may run at once (default 2). Call before use. */
void password_set_slots(int slots);
/* Hash password into a new string the caller frees; 0, -EBUSY or -ENOMEM. */
int password_hash(const char *password, char **out);
/* 1 when password matches hash, 0 when not, -EBUSY when no slot came
 * free. hash NULL: compare against the dummy hash and return 0. */
int password_verify(const char *hash, const char *password);
/* A readable random password for first start, into a new string. */
char *password_generate(void);

#endif
