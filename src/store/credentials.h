/*
 * store/credentials — API tokens and browser sessions.
 *
 * Only hashes are stored (SHA-256 of the secret): the secrets themselves
 * are high-entropy random strings, so a fast hash is enough and a stolen
 * database reveals no usable credential. Lookups skip expired rows.
 */
#ifndef KAON_STORE_CREDENTIALS_H
#define KAON_STORE_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

enum { STORE_HASH_LEN = 32, STORE_NAME_MAX = 32, STORE_CSRF_MAX = 64 };

/* Who a credential belongs to: fixed-size so the per-request path
 * allocates nothing. */
struct store_principal {
	int64_t user_id;
	char username[STORE_NAME_MAX + 1];
	bool admin;
	bool disabled;
	int64_t cred_id;      /* token or session row id */
	int64_t last_used_at; /* tokens: -1 when never used */
	char csrf[STORE_CSRF_MAX + 1]; /* sessions only */
};

struct store_token {
	int64_t id;
	char *name;
	char *prefix; /* the first characters of the secret, to recognise it */
	int64_t created_at;
	int64_t expires_at;   /* -1: never */
	int64_t last_used_at; /* -1: never */
};

void store_tokens_free(struct store_token *ts, size_t n);

/* expires_at -1 for never. Sets out->id and out->created_at. */
int store_token_insert(struct store *st, int64_t user_id, const char *name,
		       const unsigned char hash[STORE_HASH_LEN], const char *prefix, int64_t expires_at,
		       struct store_token *out);
int store_token_lookup(struct store *st, const unsigned char hash[STORE_HASH_LEN], int64_t now,
		       struct store_principal *out);
int store_token_touch(struct store *st, int64_t id, int64_t now);
int store_tokens_list(struct store *st, int64_t user_id, struct store_token **out, size_t *n);
/* -ENOENT unless the token exists and belongs to user_id. */
int store_token_delete(struct store *st, int64_t user_id, int64_t id);

int store_websession_insert(struct store *st, int64_t user_id,
			    const unsigned char hash[STORE_HASH_LEN], const char *csrf,
			    int64_t expires_at);
int store_websession_lookup(struct store *st, const unsigned char hash[STORE_HASH_LEN], int64_t now,
			    struct store_principal *out);
int store_websession_delete(struct store *st, const unsigned char hash[STORE_HASH_LEN]);
/* Drop expired sessions and tokens; returns how many or an error. */
int store_credentials_purge(struct store *st, int64_t now);
/* Log the user out everywhere (password change, disable, delete), except
 * from session keep_id (-1: none). */
int store_websessions_delete_user(struct store *st, int64_t user_id, int64_t keep_id);

#endif
