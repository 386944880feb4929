/*
 * identity/accounts — the operations on accounts that more than one entry
 * point needs (the API, `kaon admin --data`, first start): creating a
 * user with its Unix account, issuing API tokens, validating names.
 *
 * Errors: -EINVAL (bad input, *cause says which), -EEXIST (name taken),
 * -ENOENT (a named group does not exist), -EPERM (refused Unix account),
 * -EBUSY (no password-hash slot), -EIO (store or system failure).
 */
#ifndef KAON_IDENTITY_ACCOUNTS_H
#define KAON_IDENTITY_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct store;
struct store_user;
struct store_token;

enum { ACCOUNTS_TOKEN_PREFIX_LEN = 12 };

struct accounts_new_user {
	const char *username;
	const char *display_name; /* NULL: "" */
	const char *email;        /* NULL: "" */
	bool admin;
	const char *password;  /* NULL: no password login (tokens or OIDC only) */
	const char *unix_user; /* NULL: same as username */
	const char *const *groups;
	size_t ngroups; /* 0: the configured default group */
};

/* Usernames, Unix account names and group names: [a-z][a-z0-9_-]{0,31}. */
bool accounts_name_valid(const char *s);
/* NULL when acceptable, else a static message. */
const char *accounts_password_problem(const char *password);

/* Create the user, its Unix account (see unixacct.h) and memberships in
 * one transaction; on any failure nothing remains. Fills *out. */
int accounts_user_create(struct store *st, const struct config *cfg,
			 const struct accounts_new_user *in, struct store_user *out, char **cause);

/* Issue an API token: *secret (caller frees) is shown once and never
 * stored. expires_in_s <= 0: never expires. */
int accounts_token_issue(struct store *st, int64_t user_id, const char *name, int64_t expires_in_s,
			 char **secret, struct store_token *out);

/* First start: with no user at all, create "admin" with a random password
 * written to DATA/initial-admin-password (0600). 1 when created, 0 when
 * users existed, negative on failure. */
int accounts_bootstrap(struct store *st, const struct config *cfg, char **cause);

#endif
