/*
 * store/users — kaon accounts and their group memberships.
 *
 * groups[] is ordered: the first group is the user's primary group, whose
 * limits and defaults apply to the user's work. Strings are owned by the
 * struct and freed by store_user_clear().
 */
#ifndef KAON_STORE_USERS_H
#define KAON_STORE_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

struct store_user {
	int64_t id;
	char *username;
	char *display_name;
	char *email;
	bool admin;
	bool disabled;
	char *password_hash; /* argon2id string, NULL when password login is off */
	char *unix_user;     /* the Unix account the user's work runs as */
	int64_t uid, gid;
	char *home;
	int64_t created_at;
	char **groups;
	size_t ngroups;
};

void store_user_clear(struct store_user *u);
void store_users_free(struct store_user *us, size_t n);
/* Replace u's groups with a copy of names[0..n). */
void store_user_set_groups(struct store_user *u, char *const *names, size_t n);

int store_user_get(struct store *st, const char *username, struct store_user *out);
int store_user_get_by_id(struct store *st, int64_t id, struct store_user *out);
int store_users_list(struct store *st, struct store_user **out, size_t *n);
int64_t store_users_count(struct store *st);
/* Every user's primary group, as parallel arrays the caller frees. */
int store_users_primary(struct store *st, int64_t **user_ids, int64_t **group_ids, size_t *n);

/* Insert the user and its memberships (run inside a transaction); sets
 * u->id and u->created_at. -EEXIST when the username is taken, -ENOENT
 * when a group does not exist. */
int store_user_insert(struct store *st, struct store_user *u);
/* Update every field of the user with u->id and replace its memberships. */
int store_user_update(struct store *st, const struct store_user *u);
int store_user_delete(struct store *st, const char *username);

#endif
