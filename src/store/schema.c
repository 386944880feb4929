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

/* Interactive sessions (store/sessions.h). A session is a job of kind
 * 'session' plus one sessions row keyed by the job id: how to reach its
 * backend (a unix socket path, or a loopback port), the per-session secret
 * the proxy presents to it, and the policy it was started under. Profiles
 * are the templates sessions are started from; built-in ones are seeded
 * by the daemon at start (server), not here, so they can follow the
 * machine (a profile whose program is missing is hidden, not deleted). */
static const char schema_v3[] =
	"ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'batch';"
	"CREATE TABLE profiles ("
	"  name TEXT PRIMARY KEY,"
	"  title TEXT NOT NULL,"
	"  description TEXT NOT NULL DEFAULT '',"
	"  kind TEXT NOT NULL,"
	"  command TEXT NOT NULL,"
	"  env TEXT NOT NULL DEFAULT '{}',"
	"  requires TEXT,"
	"  cpus INTEGER NOT NULL, mem_mb INTEGER NOT NULL, gpus INTEGER NOT NULL,"
	"  lifetime_s INTEGER NOT NULL, max_lifetime_s INTEGER NOT NULL,"
	"  idle_timeout_s INTEGER NOT NULL,"
	"  groups TEXT NOT NULL DEFAULT '[]',"
	"  position INTEGER NOT NULL DEFAULT 0,"
	"  source TEXT NOT NULL DEFAULT 'api',"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
	"CREATE TABLE sessions ("
	"  job_id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  profile TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  socket TEXT,"
	"  port INTEGER,"
	"  secret TEXT NOT NULL,"
	"  options TEXT NOT NULL DEFAULT '{}',"
	"  idle_timeout_s INTEGER NOT NULL,"
	"  max_lifetime_s INTEGER NOT NULL,"
	"  ready_at INTEGER,"
	"  last_activity INTEGER,"
	"  end_reason TEXT,"
	"  created_at INTEGER NOT NULL);"
	"CREATE INDEX sessions_user ON sessions(user_id, job_id);";

/* GPU reservations (store/reservations.h), the group policy for booking
 * them, the plan the scheduler explains to users, and page notifications.
 *
 * A reservation holds exact GPUs of one node (gpu_indices "0,1", chosen at
 * booking so the calendar can draw one row per GPU) plus the node's CPUs
 * and memory in proportion (cpus, mem_mb), for [start_time, end_time).
 * state: pending (awaiting an admin), approved, rejected, cancelled,
 * released (unused after it began; release_reason says why). A job that
 * runs inside one has jobs.reservation_id; jobs.reservation_req is what the
 * user asked for (a reservation id), NULL for "automatic".
 *
 * jobs.explain is the scheduler's last explanation of a pending job (JSON:
 * words, blocking jobs, what-if hints) and jobs.queue_position its rank
 * among the jobs competing for the same resources. Group booking limits
 * are NULL for "no limit"; resv_approval 1 makes every booking of the
 * group wait for an admin. */
static const char schema_v4[] =
	"CREATE TABLE reservations ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL,"
	"  username TEXT NOT NULL,"
	"  group_name TEXT NOT NULL,"
	"  node TEXT NOT NULL,"
	"  gpus INTEGER NOT NULL,"
	"  gpu_indices TEXT NOT NULL,"
	"  gpu_model TEXT,"
	"  cpus INTEGER NOT NULL, mem_mb INTEGER NOT NULL,"
	"  start_time INTEGER NOT NULL, end_time INTEGER NOT NULL,"
	"  note TEXT NOT NULL DEFAULT '',"
	"  state TEXT NOT NULL,"
	"  review_note TEXT, reviewed_by TEXT, reviewed_at INTEGER,"
	"  released_at INTEGER, release_reason TEXT,"
	"  first_used_at INTEGER,"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
	"CREATE INDEX reservations_time ON reservations(end_time, start_time);"
	"CREATE INDEX reservations_user ON reservations(user_id, id);"
	"ALTER TABLE jobs ADD COLUMN reservation_id INTEGER;"
	"ALTER TABLE jobs ADD COLUMN reservation_req INTEGER;"
	"ALTER TABLE jobs ADD COLUMN explain TEXT;"
	"ALTER TABLE jobs ADD COLUMN queue_position INTEGER;"
	"CREATE INDEX jobs_reservation ON jobs(reservation_id) WHERE reservation_id IS NOT NULL;"
	"ALTER TABLE groups ADD COLUMN resv_max_gpus INTEGER;"
	"ALTER TABLE groups ADD COLUMN resv_max_s INTEGER;"
	"ALTER TABLE groups ADD COLUMN resv_max_ahead_s INTEGER;"
	"ALTER TABLE groups ADD COLUMN resv_max_active INTEGER;"
	"ALTER TABLE groups ADD COLUMN resv_approval INTEGER NOT NULL DEFAULT 0;"
	/* Defaults per built-in group, documented in docs/reservations.md. */
	"UPDATE groups SET resv_max_gpus = 8, resv_max_s = 7 * 86400, resv_max_ahead_s = 90 * 86400,"
	"  resv_max_active = 4 WHERE name = 'researchers';"
	"UPDATE groups SET resv_max_gpus = 1, resv_max_s = 8 * 3600, resv_max_ahead_s = 14 * 86400,"
	"  resv_max_active = 1, resv_approval = 1 WHERE name = 'students';"
	"UPDATE groups SET resv_max_gpus = 0, resv_max_s = 0, resv_max_ahead_s = 0,"
	"  resv_max_active = 0 WHERE name = 'guests';"
	"CREATE TABLE notifications ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  text TEXT NOT NULL,"
	"  link TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  read_at INTEGER);"
	"CREATE INDEX notifications_user ON notifications(user_id, id);";

/* The model catalog and trainings (store/models.h). kind 'worker' and
 * 'training' jobs are the warm predict workers and the trainings. */
static const char schema_v5[] =
	"CREATE TABLE models ("
	"  name TEXT PRIMARY KEY,"
	"  version TEXT NOT NULL,"
	"  title TEXT NOT NULL,"
	"  summary TEXT NOT NULL DEFAULT '',"
	"  keywords TEXT NOT NULL DEFAULT '[]',"
	"  manifest TEXT NOT NULL,"
	"  describe TEXT NOT NULL,"
	"  dir TEXT NOT NULL,"
	"  owner_id INTEGER NOT NULL,"
	"  owner TEXT NOT NULL,"
	"  public_predict INTEGER NOT NULL DEFAULT 0,"
	"  predict_enabled INTEGER NOT NULL DEFAULT 1,"
	"  train_enabled INTEGER NOT NULL DEFAULT 1,"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
	"CREATE TABLE model_versions ("
	"  name TEXT NOT NULL,"
	"  version TEXT NOT NULL,"
	"  dir TEXT NOT NULL,"
	"  manifest TEXT NOT NULL,"
	"  describe TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY (name, version));"
	"CREATE TABLE trainings ("
	"  uuid TEXT PRIMARY KEY,"
	"  model TEXT NOT NULL,"
	"  version TEXT NOT NULL,"
	"  user_id INTEGER NOT NULL,"
	"  username TEXT NOT NULL,"
	"  job_id INTEGER NOT NULL UNIQUE,"
	"  args TEXT NOT NULL DEFAULT '{}',"
	"  created_at INTEGER NOT NULL,"
	"  deleted INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX trainings_model ON trainings(model, created_at);";

const char *const schema_migrations[] = { schema_v1, schema_v2, schema_v3, schema_v4, schema_v5 };
const size_t schema_migrations_count = sizeof schema_migrations / sizeof schema_migrations[0];
