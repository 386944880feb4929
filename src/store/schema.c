/*
 * store/schema — the SQL of every migration.
 *
 * Limits are NULL for "no limit". Times are Unix seconds (UTC).
 * The built-in groups and their default limits are documented in
 * docs/accounts.md; keep the two in step.
 */
#include "store/schema.h"

static const char schema_v1[] =
	"CREATE TABLE groups ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  description TEXT NOT NULL DEFAULT '',"
	"  max_gpus INTEGER, max_cpus INTEGER, max_mem_mb INTEGER,"
	"  max_walltime_s INTEGER, max_jobs INTEGER, max_sessions INTEGER,"
	"  fairshare_weight REAL NOT NULL DEFAULT 1,"
	"  builtin INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  username TEXT NOT NULL UNIQUE,"
	"  display_name TEXT NOT NULL DEFAULT '',"
	"  email TEXT NOT NULL DEFAULT '',"
	"  admin INTEGER NOT NULL DEFAULT 0,"
	"  disabled INTEGER NOT NULL DEFAULT 0,"
	"  password_hash TEXT,"
	"  unix_user TEXT NOT NULL,"
	"  uid INTEGER NOT NULL, gid INTEGER NOT NULL,"
	"  home TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE user_groups ("
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE RESTRICT,"
	"  position INTEGER NOT NULL,"
	"  PRIMARY KEY (user_id, group_id));"
	"CREATE INDEX user_groups_group ON user_groups(group_id);"
	"CREATE TABLE api_tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  hash BLOB NOT NULL UNIQUE,"
	"  prefix TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER,"
	"  last_used_at INTEGER);"
	"CREATE INDEX api_tokens_user ON api_tokens(user_id);"
	"CREATE TABLE web_sessions ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  hash BLOB NOT NULL UNIQUE,"
	"  csrf TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL);"
	"CREATE INDEX web_sessions_user ON web_sessions(user_id);"
	/* Built-in groups: name, description, GPUs, CPUs, memory MiB, wall time
	 * s, concurrent jobs, concurrent sessions, fair-share weight. */
	"INSERT INTO groups (name, description, max_gpus, max_cpus, max_mem_mb, max_walltime_s,"
	"  max_jobs, max_sessions, fairshare_weight, builtin, created_at) VALUES"
	" ('researchers', 'Research staff: long GPU trainings', 8, 64, 262144, 604800, 100, 4, 10, 1,"
	"   strftime('%s','now')),"
	" ('students', 'Students: course work and theses', 1, 8, 32768, 86400, 10, 2, 3, 1,"
	"   strftime('%s','now')),"
	" ('guests', 'Guests: short CPU work and model trials', 0, 2, 4096, 3600, 2, 1, 1, 1,"
	"   strftime('%s','now'));";

const char *const schema_migrations[] = { schema_v1 };
const size_t schema_migrations_count = sizeof schema_migrations / sizeof schema_migrations[0];
