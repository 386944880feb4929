/*
 * store/groups — groups and their limits.
 *
 * A limit of STORE_NO_LIMIT (-1) means "no limit" (NULL in the table,
 * null in JSON). Strings in a struct store_group are owned by it and freed
 * by store_group_clear().
 */
#ifndef KAON_STORE_GROUPS_H
#define KAON_STORE_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

enum { STORE_NO_LIMIT = -1 };

struct store_group {
	int64_t id;
	char *name;
	char *description;
	int64_t max_gpus, max_cpus, max_mem_mb, max_walltime_s, max_jobs, max_sessions;
	double fairshare_weight;
	/* What a job of the group's users gets when it does not ask. */
	int64_t default_cpus, default_mem_mb, default_walltime_s;
	/* Booking GPU reservations (docs/reservations.md): GPUs per
	 * reservation, its length, how far ahead it may start, how many
	 * pending or approved ones a user may hold at once; STORE_NO_LIMIT
	 * for none. resv_approval: every booking waits for an admin. */
	int64_t resv_max_gpus, resv_max_s, resv_max_ahead_s, resv_max_active;
	bool resv_approval;
	bool builtin;
	int64_t created_at;
	int64_t members; /* filled by get and list */
};

void store_group_clear(struct store_group *g);
void store_groups_free(struct store_group *gs, size_t n);

/* 0, -ENOENT, or a store error. */
int store_group_get(struct store *st, const char *name, struct store_group *out);
/* All groups by name. */
int store_groups_list(struct store *st, struct store_group **out, size_t *n);
/* Insert; sets g->id and g->created_at. -EEXIST when the name is taken. */
int store_group_insert(struct store *st, struct store_group *g);
/* Update every field of the group with g->id. -EEXIST on a name clash. */
int store_group_update(struct store *st, const struct store_group *g);
/* -ENOENT, or -EXDEV while users still belong to it. */
int store_group_delete(struct store *st, const char *name);

#endif
