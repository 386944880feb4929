/*
 * store/db — SQLite connection, pragmas, migrations, query helpers.
 * See db.h for the contract.
 */
#include "store/db.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/schema.h"

/* Every distinct statement a connection runs stays prepared: room for all
 * of them (the store modules hold under 100 today; running out aborts). */
enum { STORE_STMT_CACHE = 256, STORE_BUSY_TIMEOUT_MS = 5000 };

struct store_q {
	const char *sql; /* cache key: the literal's address */
	sqlite3_stmt *stmt;
	struct store *st;
};

/*
 * Group commit. With synchronous=FULL every commit fsyncs the write-ahead
 * log while it still holds SQLite's write lock, so concurrent writers
 * queue behind each other's fsyncs: with 4 clients submitting jobs the
 * p99 of a submit was 4 fsyncs long. Instead the connections run with
 * synchronous=NORMAL (a commit only write()s the log: in WAL mode that is
 * consistent after a crash, but a power loss may drop the last commits)
 * and a writer, after its commit and before it acknowledges anything,
 * waits until an fdatasync() of the log that began after its commit has
 * returned. One fdatasync covers every commit registered before it began,
 * so writers that commit together share it, and none holds the lock
 * while it waits. Durability is the same as FULL's: nothing is
 * acknowledged before its log frames are on disk.
 *
 * There is no syncing thread: the first waiter that finds no sync running
 * runs one itself (leader), the others wait for its result. One syncer per
 * database file, shared by all its connections in this process.
 */
struct store_syncer {
	char *wal_path;
	int refs;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t registered; /* commits that asked to be made durable */
	uint64_t synced;     /* all commits up to this one are on disk */
	uint64_t failed;     /* a sync covering up to this one failed */
	bool syncing;
	struct store_syncer *next;
};

static pthread_mutex_t store_syncers_mu = PTHREAD_MUTEX_INITIALIZER;
static struct store_syncer *store_syncers;

struct store {
	sqlite3 *db;
	struct store_syncer *syncer;
	struct store_q cache[STORE_STMT_CACHE];
	size_t ncached;
};

static struct store_syncer *store_syncer_get(const char *db_path)
{
	char *wal = xasprintf("%s-wal", db_path);
	pthread_mutex_lock(&store_syncers_mu);
	struct store_syncer *s = store_syncers;
	while (s && strcmp(s->wal_path, wal) != 0)
		s = s->next;
	if (s) {
		free(wal);
	} else {
		s = xcalloc(1, sizeof *s);
		s->wal_path = wal;
		pthread_mutex_init(&s->mu, NULL);
		pthread_cond_init(&s->cv, NULL);
		s->next = store_syncers;
		store_syncers = s;
	}
	s->refs++;
	pthread_mutex_unlock(&store_syncers_mu);
	return s;
}

static void store_syncer_put(struct store_syncer *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&store_syncers_mu);
	if (--s->refs == 0) {
		struct store_syncer **pp = &store_syncers;
		while (*pp != s)
			pp = &(*pp)->next;
		*pp = s->next;
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		free(s->wal_path);
		free(s);
	}
	pthread_mutex_unlock(&store_syncers_mu);
}

/* fdatasync the log by path: the log can be recreated while connections
 * come and go, and syncing the inode through any descriptor flushes the
 * frames every connection wrote. No log file: nothing to sync. */
static int store_syncer_flush(const char *wal_path)
{
	int fd = open(wal_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	int rc = fdatasync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

/* Call after a commit has returned: returns once it is on disk. */
static int store_syncer_wait(struct store_syncer *s)
{
	pthread_mutex_lock(&s->mu);
	uint64_t mine = ++s->registered;
	int rc = 0;
	while (s->synced < mine) {
		if (s->failed >= mine) {
			rc = -EIO;
			break;
		}
		if (s->syncing) {
			pthread_cond_wait(&s->cv, &s->mu);
			continue;
		}
		/* Lead: every commit registered so far was written before
		 * this sync begins, so it covers them all. */
		s->syncing = true;
		uint64_t upto = s->registered;
		pthread_mutex_unlock(&s->mu);
		int err = store_syncer_flush(s->wal_path);
		pthread_mutex_lock(&s->mu);
		s->syncing = false;
		if (err < 0) {
			log_error("store: fdatasync(%s) failed: %s", s->wal_path, strerror(-err));
			if (s->failed < upto)
				s->failed = upto;
		} else if (s->synced < upto) {
			s->synced = upto;
		}
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int store_err(struct store *st, int rc, const char *what)
{
	int ext = sqlite3_extended_errcode(st->db);
	if (rc == SQLITE_CONSTRAINT &&
	    (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY))
		return -EEXIST;
	/* ON DELETE RESTRICT reports itself as a trigger constraint. */
	if (rc == SQLITE_CONSTRAINT &&
	    (ext == SQLITE_CONSTRAINT_FOREIGNKEY || ext == SQLITE_CONSTRAINT_TRIGGER))
		return -EXDEV; /* still referenced */
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
		log_warn("store: %s: database busy: %s", what, sqlite3_errmsg(st->db));
		return -EBUSY;
	}
	log_error("store: %s failed: %s", what, sqlite3_errmsg(st->db));
	return -EIO;
}

int store_exec_sql(struct store *st, const char *sql)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : store_err(st, rc, "exec");
}

static int store_user_version(struct store *st)
{
	sqlite3_stmt *s;
	int v = -1;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

int store_schema_version(void)
{
	return (int)schema_migrations_count;
}

static int store_migrate(struct store *st, char **cause)
{
	int have = store_user_version(st);
	int want = store_schema_version();
	if (have < 0) {
		*cause = xasprintf("cannot read schema version: %s", sqlite3_errmsg(st->db));
		return -EIO;
	}
	if (have > want) {
		*cause = xasprintf("database schema version %d is newer than this kaon (%d)", have, want);
		return -EPROTO;
	}
	for (int v = have; v < want; v++) {
		/* Each step and its version bump commit together, so a crash
		 * mid-migration leaves the previous version intact. */
		char *sql = xasprintf("BEGIN IMMEDIATE;\n%s\nPRAGMA user_version = %d;\nCOMMIT;",
				      schema_migrations[v], v + 1);
		char *err = NULL;
		int rc = sqlite3_exec(st->db, sql, NULL, NULL, &err);
		free(sql);
		if (rc != SQLITE_OK) {
			*cause = xasprintf("migration to schema version %d failed: %s", v + 1,
					   err ? err : sqlite3_errstr(rc));
			sqlite3_free(err);
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return -EIO;
		}
		if (v + 1 == want || have == 0)
			log_debug("store: migrated schema to version %d", v + 1);
	}
	return 0;
}

/*
 * SQLite's own busy handler (sqlite3_busy_timeout) sleeps 1, 2, 5, 10, 15,
 * 20, 25 ... ms between tries, so a writer that finds the lock taken for a
 * fraction of a millisecond (another thread's commit) waits 10 ms or more:
 * that was the tail of submit latency under load. Writers here hold the
 * lock for well under a millisecond, so poll every 100 us for the first
 * 20 ms, then every millisecond, up to the same total timeout.
 */
static int store_busy_wait(void *ctx, int count)
{
	(void)ctx;
	enum { FAST_TRIES = 200, FAST_US = 100, SLOW_US = 1000 };
	int64_t waited_us = count < FAST_TRIES ? (int64_t)count * FAST_US
					       : (int64_t)FAST_TRIES * FAST_US +
							 (int64_t)(count - FAST_TRIES) * SLOW_US;
	if (waited_us >= (int64_t)STORE_BUSY_TIMEOUT_MS * 1000)
		return 0;
	struct timespec ts = { 0, (count < FAST_TRIES ? FAST_US : SLOW_US) * 1000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return 1;
}

int store_open(const char *path, struct store **out, char **cause)
{
	struct store *st = xcalloc(1, sizeof *st);
	int rc = sqlite3_open_v2(path, &st->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		*cause = xasprintf("cannot open database %s: %s", path,
				   st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_handler(st->db, store_busy_wait, NULL);
	/* WAL: readers never block the writer. synchronous=NORMAL plus the
	 * group commit above: a commit that acknowledged a request survives
	 * power loss, and concurrent commits share their fsync. */
	static const char pragmas[] = "PRAGMA journal_mode = WAL;"
				      "PRAGMA synchronous = NORMAL;"
				      "PRAGMA foreign_keys = ON;"
				      "PRAGMA temp_store = MEMORY;";
	char *err = NULL;
	if (sqlite3_exec(st->db, pragmas, NULL, NULL, &err) != SQLITE_OK) {
		*cause = xasprintf("cannot configure database %s: %s", path, err ? err : "?");
		sqlite3_free(err);
		goto fail;
	}
	st->syncer = store_syncer_get(path);
	if (store_migrate(st, cause) < 0 || store_syncer_wait(st->syncer) < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	sqlite3_close(st->db);
	store_syncer_put(st->syncer);
	free(st);
	return -EIO;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->ncached; i++)
		sqlite3_finalize(st->cache[i].stmt);
	sqlite3_close(st->db);
	store_syncer_put(st->syncer);
	free(st);
}

void store_autocheckpoint_off(struct store *st)
{
	sqlite3_wal_autocheckpoint(st->db, 0);
}

int store_checkpoint(struct store *st)
{
	int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return rc == SQLITE_OK ? 0 : store_err(st, rc, "checkpoint");
}

int store_begin(struct store *st)
{
	return store_exec_sql(st, "BEGIN IMMEDIATE");
}

int store_commit(struct store *st)
{
	int rc = store_exec_sql(st, "COMMIT");
	return rc < 0 ? rc : store_syncer_wait(st->syncer);
}

void store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

struct store_q *store_q(struct store *st, const char *sql)
{
	for (size_t i = 0; i < st->ncached; i++)
		if (st->cache[i].sql == sql)
			return &st->cache[i];
	if (st->ncached == STORE_STMT_CACHE) {
		log_error("store: statement cache full (%d); raise STORE_STMT_CACHE", STORE_STMT_CACHE);
		abort();
	}
	struct store_q *q = &st->cache[st->ncached];
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q->stmt, NULL) != SQLITE_OK) {
		log_error("store: bad SQL (a bug): %s\n%s", sqlite3_errmsg(st->db), sql);
		abort();
	}
	q->sql = sql;
	q->st = st;
	st->ncached++;
	return q;
}

void store_q_done(struct store_q *q)
{
	sqlite3_reset(q->stmt);
	sqlite3_clear_bindings(q->stmt);
}

void store_q_text(struct store_q *q, int idx, const char *s)
{
	if (s)
		sqlite3_bind_text(q->stmt, idx, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q->stmt, idx);
}

void store_q_int(struct store_q *q, int idx, int64_t v)
{
	sqlite3_bind_int64(q->stmt, idx, v);
}

void store_q_real(struct store_q *q, int idx, double v)
{
	sqlite3_bind_double(q->stmt, idx, v);
}

void store_q_blob(struct store_q *q, int idx, const void *data, size_t len)
{
	sqlite3_bind_blob(q->stmt, idx, data, (int)len, SQLITE_TRANSIENT);
}

void store_q_null(struct store_q *q, int idx)
{
	sqlite3_bind_null(q->stmt, idx);
}

int store_q_step(struct store_q *q)
{
	int rc = sqlite3_step(q->stmt);
	if (rc == SQLITE_ROW)
		return STORE_ROW;
	/* A write outside BEGIN ... COMMIT committed as it finished. */
	if (rc == SQLITE_DONE && !sqlite3_stmt_readonly(q->stmt) &&
	    sqlite3_get_autocommit(q->st->db) && store_syncer_wait(q->st->syncer) < 0)
		return -EIO;
	if (rc == SQLITE_DONE)
		return STORE_DONE;
	return store_err(q->st, rc, "step");
}

int store_q_exec(struct store_q *q)
{
	int rc = store_q_step(q);
	store_q_done(q);
	return rc < 0 ? rc : 0;
}

const char *store_col_text(struct store_q *q, int col)
{
	return (const char *)sqlite3_column_text(q->stmt, col);
}

int64_t store_col_int(struct store_q *q, int col)
{
	return sqlite3_column_int64(q->stmt, col);
}

double store_col_real(struct store_q *q, int col)
{
	return sqlite3_column_double(q->stmt, col);
}

bool store_col_null(struct store_q *q, int col)
{
	return sqlite3_column_type(q->stmt, col) == SQLITE_NULL;
}

int64_t store_last_id(struct store *st)
{
	return sqlite3_last_insert_rowid(st->db);
}

int store_changes(struct store *st)
{
	return sqlite3_changes(st->db);
}
