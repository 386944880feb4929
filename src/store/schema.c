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

/* Jobs, per-user decayed usage, and per-job defaults of each group. The
 * jobs table keeps the owner's name as well as the id, so history stays
 * readable after a user is deleted. after and env are JSON; alloc_gpus is
 * "0,1". Partial index: the scheduler reads only live jobs. */
static const char schema_v2[] =
	"ALTER TABLE groups ADD COLUMN default_cpus INTEGER NOT NULL DEFAULT 1;"
	"ALTER TABLE groups ADD COLUMN default_mem_mb INTEGER NOT NULL DEFAULT 2048;"
	"ALTER TABLE groups ADD COLUMN default_walltime_s INTEGER NOT NULL DEFAULT 3600;"
	"UPDATE groups SET default_walltime_s = 600, default_mem_mb = 1024 WHERE name = 'guests';"
	"CREATE TABLE jobs ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL,"
	"  username TEXT NOT NULL,"
	"  group_name TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  command TEXT,"
	"  script TEXT,"
	"  workdir TEXT NOT NULL,"
	"  env TEXT NOT NULL DEFAULT '{}',"
	"  cpus INTEGER NOT NULL, mem_mb INTEGER NOT NULL, gpus INTEGER NOT NULL,"
	"  walltime_s INTEGER NOT NULL,"
	"  array_id INTEGER, array_index INTEGER, array_limit INTEGER NOT NULL DEFAULT 0,"
	"  after TEXT NOT NULL DEFAULT '[]',"
	"  hold INTEGER NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL,"
	"  reason TEXT,"
	"  priority REAL NOT NULL DEFAULT 0,"
	"  est_start INTEGER,"
	"  submit_time INTEGER NOT NULL, start_time INTEGER, end_time INTEGER,"
	"  exit_code INTEGER, signal INTEGER,"
	"  node TEXT, alloc_gpus TEXT,"
	"  cpu_seconds REAL, max_rss_kb INTEGER);"
	"CREATE INDEX jobs_live ON jobs(state) WHERE state IN ('pending', 'running');"
	"CREATE INDEX jobs_user ON jobs(user_id, id);"
	"CREATE TABLE usage ("
	"  user_id INTEGER PRIMARY KEY,"
	"  usage REAL NOT NULL,"
	"  updated_at INTEGER NOT NULL);";

const char *const schema_migrations[] = { schema_v1, schema_v2 };
const size_t schema_migrations_count = sizeof schema_migrations / sizeof schema_migrations[0];
