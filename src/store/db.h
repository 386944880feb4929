/*
 * store/db — the SQLite store: the single source of truth.
 *
 * Only this file includes sqlite3.h. Everything else speaks to the database
 * through the small query API below, so the rest of the store reads as SQL
 * plus typed binds and columns.
 *
 * A `struct store` is one connection and must be used by one thread at a
 * time; the server gives each worker thread its own (WAL lets readers run
 * beside the writer). Opening runs the migrations: the schema version lives
 * in PRAGMA user_version, and each step upgrades by one in its own
 * transaction.
 *
 * Errors are negative errno values: -EEXIST for a uniqueness violation,
 * -EBUSY when the database stayed locked past the busy timeout, -EIO for
 * anything else (logged here with SQLite's message).
 */
#ifndef KAON_STORE_DB_H
#define KAON_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct store_q;

/* Open (creating if needed) the database at path and migrate it. */
int store_open(const char *path, struct store **out, char **cause);
void store_close(struct store *st);
/* The schema version this binary migrates to. */
int store_schema_version(void);

/* Checkpoints copy the write-ahead log back into the database and sync
 * it: tens of milliseconds on a slow disk, paid by whichever commit
 * crosses the threshold. Connections that answer requests turn automatic
 * checkpoints off so no request pays for one; the scheduler's connection
 * keeps them and also calls store_checkpoint() when idle (PASSIVE: never
 * waits for readers or writers). */
void store_autocheckpoint_off(struct store *st);
int store_checkpoint(struct store *st);

/* BEGIN IMMEDIATE: take the write lock now, so a transaction never fails
 * half-way with SQLITE_BUSY on its first write. */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/* Prepared statements are cached per connection, keyed by the address of
 * the SQL text: pass string literals. The statement is reset and its
 * bindings cleared by store_q_done(). A syntax error aborts: it is a bug. */
struct store_q *store_q(struct store *st, const char *sql);
void store_q_done(struct store_q *q);

void store_q_text(struct store_q *q, int idx, const char *s); /* NULL binds NULL */
void store_q_int(struct store_q *q, int idx, int64_t v);
void store_q_blob(struct store_q *q, int idx, const void *data, size_t len);
void store_q_null(struct store_q *q, int idx);
void store_q_real(struct store_q *q, int idx, double v);

enum { STORE_DONE = 0, STORE_ROW = 1 };
/* STORE_ROW, STORE_DONE, or a negative error. */
int store_q_step(struct store_q *q);
/* Step a statement that returns no rows, then reset it; 0 or error. */
int store_q_exec(struct store_q *q);

const char *store_col_text(struct store_q *q, int col); /* NULL for NULL */
int64_t store_col_int(struct store_q *q, int col);
double store_col_real(struct store_q *q, int col);
bool store_col_null(struct store_q *q, int col);

int64_t store_last_id(struct store *st);
int store_changes(struct store *st);

/* Run SQL with no parameters and no rows (migrations, pragmas); 0 or error. */
int store_exec_sql(struct store *st, const char *sql);

#endif
