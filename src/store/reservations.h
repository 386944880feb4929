/*
 * store/reservations — GPU reservations (bookings on the calendar) and
 * the page notifications that tell a user what kaon did with them.
 *
 * A reservation holds exact GPUs of one node (gpu_indices, "0,1", chosen
 * at booking by sched/calendar so the calendar draws one row per GPU) and
 * the node's CPUs and memory in proportion to them, for [start_time,
 * end_time). States: "pending" (awaiting an admin's approval), "approved",
 * "rejected", "cancelled", "released" (it began and nothing used it within
 * the configured time; release_reason says so). Only pending and approved
 * reservations hold GPUs; only approved ones are enforced by the
 * scheduler (a pending one still blocks other bookings, so approving it
 * can never collide).
 *
 * Structs own their strings; *_clear frees them. Times are Unix seconds,
 * -1 when unset. Errors: -ENOENT, or a store error.
 */
#ifndef KAON_STORE_RESERVATIONS_H
#define KAON_STORE_RESERVATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

struct store_reservation {
	int64_t id;
	int64_t user_id;
	char *username;
	char *group_name;
	char *node;
	int gpus;
	char *gpu_indices; /* "0,1" */
	char *gpu_model;   /* asked model, or NULL */
	int cpus;
	int64_t mem_mb;
	int64_t start_time, end_time;
	char *note;
	char *state; /* pending, approved, rejected, cancelled, released */
	char *review_note, *reviewed_by; /* NULL until reviewed */
	int64_t reviewed_at;
	int64_t released_at;
	char *release_reason;
	int64_t first_used_at; /* first job started inside it, -1 never */
	int64_t created_at, updated_at;
};

void store_reservation_clear(struct store_reservation *r);
void store_reservations_free(struct store_reservation *rs, size_t n);

/* Insert; sets r->id, created_at and updated_at. */
int store_reservation_insert(struct store *st, struct store_reservation *r);
int store_reservation_get(struct store *st, int64_t id, struct store_reservation *out);
/* Rewrite every field of the row with r->id (updated_at set to now). */
int store_reservation_update(struct store *st, struct store_reservation *r);
/* Reservations overlapping [from, to), by start time then id: states a
 * comma list ("pending,approved") or NULL for all, user_id -1 for all
 * users, node NULL for all nodes. */
int store_reservations_list(struct store *st, int64_t from, int64_t to, const char *states,
			    int64_t user_id, const char *node, struct store_reservation **out,
			    size_t *n);
/* How many of the user's reservations in the given states end after now
 * (the group's "how many at once" counts these). */
int store_reservations_count_live(struct store *st, int64_t user_id, const char *states,
				  int64_t now, int64_t *count);

/* The scheduler's writes. */
/* A job started inside the reservation: first_used_at = now unless set. */
int store_reservation_mark_used(struct store *st, int64_t id, int64_t now);
/* approved → released with the reason; -ENOENT when not approved. */
int store_reservation_release(struct store *st, int64_t id, const char *reason, int64_t now);
/* Jobs that ran (or run) inside the reservation: how many, and their
 * GPU-seconds inside its window as of now. */
int store_reservation_use(struct store *st, int64_t id, int64_t now, int64_t *jobs,
			  double *gpu_seconds);

/* Notifications shown in the page (a bell with the unread count). */
struct store_notification {
	int64_t id;
	int64_t user_id;
	char *kind; /* reservation_released, reservation_approved, reservation_rejected, ... */
	char *text;
	char *link; /* page path, e.g. "/calendar?r=12", or NULL */
	int64_t created_at;
	int64_t read_at; /* -1 unread */
};

void store_notifications_free(struct store_notification *ns, size_t n);
int store_notify(struct store *st, int64_t user_id, const char *kind, const char *text,
		 const char *link, int64_t now);
/* Newest first, at most limit; *unread counts all unread ones. */
int store_notifications_list(struct store *st, int64_t user_id, int limit,
			     struct store_notification **out, size_t *n, int64_t *unread);
/* Mark the user's notifications read: ids[0..n), or all when ids is NULL. */
int store_notifications_read(struct store *st, int64_t user_id, const int64_t *ids, size_t n,
			     int64_t now);

#endif
