/*
 * api/sessions — interactive sessions (docs/sessions.md): start one from a
 * profile, list, look at, stop and extend them.
 *
 * A session is a job of kind 'session' plus a sessions row keyed by the
 * job id, inserted in one transaction together with the checks that must
 * not race (the group's max_sessions, the name among the user's live
 * sessions). The job then queues like any other; the sessions monitor
 * (server/sessionmon.c) notices when its backend answers, culls it when
 * idle and records why it ended.
 *
 * Where the backend listens is decided here, once: a unix socket in the
 * job's own directory (owned by the user, mode 0700: only the owner and
 * root can reach the socket), or, when that path would not fit in
 * sun_path, in a per-user directory of the same mode under /run/kaon
 * (multi-user daemon) or /tmp (single account). A profile that asks for
 * {port} gets a free loopback port instead.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/fields.h"
#include "api/files.h"
#include "config/config.h"
#include "exec/executor.h"
#include "identity/secret.h"
#include "identity/unixacct.h"
#include "lib/fsio.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "sched/explain.h"
#include "server/jobenv.h"
#include "server/profiles.h"
#include "server/scheduler.h"
#include "server/server.h"
#include "server/sessionmon.h"
#include "store/db.h"
#include "store/groups.h"
#include "store/jobs.h"
#include "store/reservations.h"
#include "store/sessions.h"
#include "store/users.h"

enum {
	API_SESSIONS_NAME_MAX = 32,
	API_SESSIONS_MAX_LIFETIME_S = 366 * 86400,
	API_SESSIONS_ENDED_SHOWN = 100,
};

static const struct fields_spec api_sessions_fields[] = {
	{ "profile", FIELDS_STRING, true, 1, 64 },
	{ "name", FIELDS_STRING, false, 1, 64 },
	{ "options", FIELDS_OBJECT, false, 0, 8 },
	{ "lifetime_s", FIELDS_INT, false, 1, API_SESSIONS_MAX_LIFETIME_S },
};

static const struct fields_spec api_sessions_extend_fields[] = {
	{ "seconds", FIELDS_INT, true, 1, API_SESSIONS_MAX_LIFETIME_S },
};

/* ---- the session as the API shows it ------------------------------------- */

static bool api_sessions_live(const struct store_session *s)
{
	return strcmp(s->state, "pending") == 0 || strcmp(s->state, "running") == 0;
}

/* pending | starting | ready | ending, or the job's end state. */
static const char *api_sessions_state(const struct store_session *s)
{
	if (strcmp(s->state, "running") != 0)
		return s->state;
	if (s->end_reason)
		return "ending";
	return s->ready_at >= 0 ? "ready" : "starting";
}

/* The owner's primary group, for the limits that apply; 0 (g zeroed and
 * *have false when the owner has none), or a store error. */
static int api_sessions_owner_group(struct store *st, int64_t user_id, struct store_group *g,
				    bool *have)
{
	struct store_user u = { 0 };
	*have = false;
	int rc = store_user_get_by_id(st, user_id, &u);
	if (rc == 0 && u.ngroups > 0) {
		rc = store_group_get(st, u.groups[0], g);
		*have = rc == 0;
	}
	store_user_clear(&u);
	return rc == -ENOENT ? 0 : rc;
}

/* The lifetime a session may be extended to: its profile's ceiling and
 * its owner's group's wall time, whichever is lower. */
static int64_t api_sessions_ceiling(const struct store_session *s, const struct store_group *g,
				    bool have_group)
{
	int64_t max = s->max_lifetime_s;
	if (have_group && g->max_walltime_s >= 0 && g->max_walltime_s < max)
		max = g->max_walltime_s;
	return max;
}

static json_t *api_sessions_json(struct http_req *req, const struct store_session *s)
{
	struct store_job j = { 0 };
	struct store_group g = { 0 };
	bool have_group = false;
	int64_t pos = -1;
	if (store_job_get(req->store, s->job_id, &j) < 0)
		j.submit_time = j.est_start = -1;
	(void)api_sessions_owner_group(req->store, s->user_id, &g, &have_group);
	bool pending = strcmp(s->state, "pending") == 0;
	if (pending && store_job_queue_position(req->store, s->job_id, &pos) < 0)
		pos = -1;
	const char *state = api_sessions_state(s);
	char url[64];
	snprintf(url, sizeof url, "/s/%lld/%s", (long long)s->job_id,
		 strcmp(s->kind, "jupyter") == 0 ? "tree" : "");
	bool running = strcmp(s->state, "running") == 0;
	json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "id", (json_int_t)s->job_id,
			      "name", s->name, "profile", s->profile, "kind", s->kind, "user",
			      s->username, "state", state, "url", url, "ready",
			      strcmp(state, "ready") == 0);
	json_object_set_new(o, "reason", pending ? api_jobs_reason(j.reason, false) : json_null());
	json_object_set_new(o, "reason_text", pending ? api_job_reason_words(&j) : json_null());
	json_object_set_new(o, "queue_position", pos > 0 ? json_integer(pos) : json_null());
	json_object_set_new(o, "est_start", pending ? api_time_json(j.est_start) : json_null());
	json_object_set_new(o, "resources",
			    json_pack("{s:i,s:I,s:i}", "cpus", j.cpus, "mem_mb",
				      (json_int_t)j.mem_mb, "gpus", j.gpus));
	json_t *options = json_loads(s->options ? s->options : "{}", 0, NULL);
	json_object_set_new(o, "options", json_is_object(options) ? options : json_object());
	if (!json_is_object(options))
		json_decref(options);
	json_object_set_new(o, "submit_time", api_time_json(j.submit_time));
	json_object_set_new(o, "start_time", api_time_json(s->start_time));
	json_object_set_new(o, "expires_at",
			    running && s->start_time >= 0 ? api_time_json(s->start_time + s->walltime_s)
							  : json_null());
	json_object_set_new(o, "lifetime_s", json_integer(s->walltime_s));
	json_object_set_new(o, "max_lifetime_s",
			    json_integer(api_sessions_ceiling(s, &g, have_group)));
	json_object_set_new(o, "idle_timeout_s", json_integer(s->idle_timeout_s));
	json_object_set_new(o, "ready_at", api_time_json(s->ready_at));
	json_object_set_new(o, "last_activity", api_time_json(s->last_activity));
	/* The monitor records the reason just after the job's end is
	 * committed; until it has, the reason follows from the end state. */
	const char *end_reason = s->end_reason ? s->end_reason
			       : api_sessions_live(s) ? NULL
						      : store_session_end_reason_of(s->state);
	json_object_set_new(o, "end_reason", end_reason ? json_string(end_reason) : json_null());
	json_object_set_new(o, "end_time", api_time_json(s->end_time));
	store_group_clear(&g);
	store_job_clear(&j);
	return o;
}

static void api_sessions_answer(struct http_req *req, struct http_resp *resp, int status,
				int64_t id)
{
	struct store_session s = { 0 };
	int rc = store_session_get(req->store, id, &s);
	if (rc < 0)
		http_resp_errno(resp, rc, "session %lld", (long long)id);
	else
		http_resp_json(resp, status, api_sessions_json(req, &s));
	store_session_clear(&s);
}

/* ---- where the backend listens ------------------------------------------- */

/* Where the session's socket goes: in the job directory when the path
 * fits in sun_path, else in the per-user directory. *dir_out gets the
 * per-user directory, or "" for the job directory. */
static int api_sessions_socket_dir(struct http_req *req, const struct store_user *u,
				   char *dir_out, size_t len)
{
	struct sockaddr_un sa;
	/* DATA/jobs/<id>/kaon.sock with the longest id there can be. */
	size_t need = strlen(req->srv->cfg->data_dir) + strlen("/jobs/") + 19 + strlen("/kaon.sock");
	dir_out[0] = '\0';
	if (need < sizeof sa.sun_path)
		return 0;
	uid_t uid = unixacct_multiuser() ? (uid_t)u->uid : getuid();
	gid_t gid = unixacct_multiuser() ? (gid_t)u->gid : getgid();
	return unixacct_rundir("sessions", uid, gid, dir_out, len);
}

/* A loopback port free now. It may be taken again before the session
 * starts (JupyterHub's LocalProcessSpawner has the same race); profiles
 * should prefer {socket}. */
static int api_sessions_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sa;
	int rc = 0;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
		rc = -errno;
	close(fd);
	return rc < 0 ? rc : ntohs(sa.sin_port);
}

/* ---- create ---------------------------------------------------------------- */

struct api_sessions_new {
	struct store_user user;
	struct store_group group;
	struct store_profile profile;
	char *name;    /* NULL: chosen in the transaction */
	char *folder;  /* absolute */
	char *options; /* JSON text */
	int64_t lifetime_s;
	char rundir[PATH_MAX]; /* "" for the job directory */
	int port;
	char secret[SECRET_B64_LEN + 1];
};

static void api_sessions_new_clear(struct api_sessions_new *n)
{
	store_user_clear(&n->user);
	store_group_clear(&n->group);
	store_profile_clear(&n->profile);
	free(n->name);
	free(n->folder);
	free(n->options);
	explicit_bzero(n->secret, sizeof n->secret);
}

/* A session name: [a-z][a-z0-9-]{0,31}; it starts with a letter so that
 * `kaon open NAME` never mistakes it for an id. */
static bool api_sessions_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > API_SESSIONS_NAME_MAX || s[0] < 'a' || s[0] > 'z')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* The owner, their primary group and the profile, fitted: 0, or -1 after
 * answering. */
static int api_sessions_load(struct http_req *req, struct http_resp *resp, json_t *body,
			     struct api_sessions_new *n)
{
	const char *profile = json_string_value(json_object_get(body, "profile"));
	int rc = store_user_get_by_id(req->store, req->who.user_id, &n->user);
	if (rc == 0 && n->user.ngroups == 0) {
		http_resp_error(resp, 422, "invalid", "you belong to no group; ask an admin to add you");
		return -1;
	}
	if (rc == 0)
		rc = store_group_get(req->store, n->user.groups[0], &n->group);
	if (rc < 0) {
		http_resp_errno(resp, rc, "account of %s", req->who.username);
		return -1;
	}
	rc = store_profile_get(req->store, profile, &n->profile);
	if (rc < 0) {
		http_resp_errno(resp, rc, "profile '%s'", profile);
		return -1;
	}
	if (!profiles_allowed(&n->profile, n->user.groups, n->user.ngroups)) {
		http_resp_error(resp, 403, "forbidden", "profile '%s' is not offered to your groups",
				profile);
		return -1;
	}
	if (!profiles_available(&n->profile)) {
		http_resp_error(resp, 422, "invalid",
				"profile '%s' needs '%s', which is not installed on this machine",
				profile, n->profile.requires);
		return -1;
	}
	int64_t profile_max = n->profile.max_lifetime_s;
	char *why = NULL;
	if (api_profiles_fit(&n->profile, &req->srv->inv, &n->group, &why) < 0) {
		http_resp_error(resp, 422, "invalid", "%s", why);
		free(why);
		return -1;
	}
	json_t *v = json_object_get(body, "lifetime_s");
	n->lifetime_s = v ? json_integer_value(v) : n->profile.lifetime_s;
	if (n->lifetime_s < 60) {
		http_resp_error(resp, 422, "invalid", "field 'lifetime_s' must be at least 60");
		return -1;
	}
	if (n->lifetime_s > profile_max) {
		http_resp_error(resp, 422, "invalid",
				"a lifetime of %lld s is over profile '%s''s max_lifetime_s (%lld s)",
				(long long)n->lifetime_s, profile, (long long)profile_max);
		return -1;
	}
	if (n->lifetime_s > n->profile.max_lifetime_s) {
		http_resp_error(resp, 422, "invalid",
				"a lifetime of %lld s is over group '%s''s max_walltime_s (%lld s)",
				(long long)n->lifetime_s, n->group.name,
				(long long)n->group.max_walltime_s);
		return -1;
	}
	/* The ceiling the row keeps is the profile's own: the group's limit
	 * is applied when the session is shown or extended, so a change of
	 * the group's policy applies to running sessions too. */
	n->profile.max_lifetime_s = profile_max;
	const char *name = json_string_value(json_object_get(body, "name"));
	if (name && !api_sessions_name_ok(name)) {
		http_resp_error(resp, 422, "invalid",
				"field 'name' must match [a-z][a-z0-9-]{0,%d}", API_SESSIONS_NAME_MAX - 1);
		return -1;
	}
	n->name = name ? xstrdup(name) : NULL;
	return 0;
}

/* The options the user chose, checked against what the profile takes;
 * {folder} resolved under the home as the user. 0, or -1 after answering. */
static int api_sessions_options(struct http_req *req, struct http_resp *resp, json_t *body,
				struct api_sessions_new *n)
{
	json_t *opts = json_object_get(body, "options");
	unsigned uses = profiles_uses(&n->profile);
	const char *k;
	json_t *v;
	json_object_foreach(opts, k, v)
	{
		if (strcmp(k, "folder") != 0 || !(uses & PROFILES_USES_FOLDER)) {
			http_resp_error(resp, 422, "invalid", "profile '%s' takes no option '%.64s'",
					n->profile.name, k);
			return -1;
		}
		if (!json_is_string(v) || json_string_length(v) > 4096) {
			http_resp_error(resp, 422, "invalid", "option 'folder' must be a path in your home");
			return -1;
		}
	}
	const char *folder = json_string_value(json_object_get(opts, "folder"));
	n->options = opts ? json_dumps(opts, JSON_COMPACT) : xstrdup("{}");
	if (!folder || !*folder || strcmp(folder, "/") == 0) {
		n->folder = xstrdup(n->user.home);
		return 0;
	}
	/* The folder as the user sees it in the Files app: a path under the
	 * home, resolved without following links, as the user. */
	if (*folder == '/')
		folder++;
	size_t len = strlen(folder);
	while (len > 0 && folder[len - 1] == '/')
		len--;
	struct files_root root;
	if (files_home_open(req, resp, &root) < 0)
		return -1;
	struct path_ref ref;
	int rc = files_resolve(&root, folder, len, &ref, resp);
	if (rc == 0) {
		struct stat st;
		if (fstatat(ref.dirfd, ref.name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				http_resp_error(resp, 404, "not_found",
						"option 'folder': '%.*s' does not exist", (int)len, folder);
			else
				files_answer_errno(resp, -errno, "");
			rc = -1;
		} else if (!S_ISDIR(st.st_mode)) {
			http_resp_error(resp, 422, "invalid", "option 'folder': '%.*s' is not a folder",
					(int)len, folder);
			rc = -1;
		}
		path_ref_close(&ref);
	}
	files_root_close(&root);
	if (rc < 0)
		return -1;
	n->folder = xasprintf("%s/%.*s", n->user.home, (int)len, folder);
	return 0;
}

/* Inside the transaction: the limits that must not race, then the job,
 * then its launch (which needs the id), then the row. 0, or -1 after
 * answering (the caller rolls back). */
static int api_sessions_insert(struct http_req *req, struct http_resp *resp,
			       struct api_sessions_new *n, int64_t *id)
{
	int64_t live = 0, other;
	int rc = store_sessions_count_live(req->store, n->user.id, &live);
	if (rc == 0 && n->group.max_sessions >= 0 && live >= n->group.max_sessions) {
		http_resp_error(resp, 422, "invalid",
				"you have %lld live sessions, the most group '%s' allows "
				"(max_sessions %lld); stop one first",
				(long long)live, n->group.name, (long long)n->group.max_sessions);
		return -1;
	}
	if (rc == 0 && n->name && store_session_find_live(req->store, n->user.id, n->name, &other) == 0) {
		http_resp_error(resp, 409, "conflict",
				"you already have a live session named '%s' (id %lld)", n->name,
				(long long)other);
		return -1;
	}
	/* No name given: the profile's, or the first of NAME-2, NAME-3... free. */
	for (int i = 1; rc == 0 && !n->name; i++) {
		char *cand = i == 1 ? xstrdup(n->profile.name) : xasprintf("%s-%d", n->profile.name, i);
		if (!api_sessions_name_ok(cand) || strlen(cand) > API_SESSIONS_NAME_MAX) {
			free(cand);
			cand = xasprintf("s%d", i);
		}
		if (store_session_find_live(req->store, n->user.id, cand, &other) == 0)
			free(cand);
		else
			n->name = cand;
	}
	struct store_job j = {
		.user_id = n->user.id, .username = n->user.username, .group_name = n->group.name,
		.name = n->name, .workdir = n->user.home, .cpus = n->profile.cpus,
		.mem_mb = n->profile.mem_mb, .gpus = n->profile.gpus, .walltime_s = n->lifetime_s,
		.array_id = -1, .array_index = -1, .kind = (char *)"session",
	};
	if (rc == 0)
		rc = store_job_insert(req->store, &j);
	if (rc < 0) {
		http_resp_errno(resp, rc, "session");
		return -1;
	}
	*id = j.id;
	char *sock = NULL, *base = xasprintf("/s/%lld/", (long long)j.id), *cmd = NULL, *env = NULL,
	     *why = NULL;
	if (!n->port && n->rundir[0]) {
		/* Daemons on one machine share the per-user directory: a random
		 * tag keeps their job ids apart. */
		char tag[SECRET_B64_LEN + 1];
		secret_random(tag);
		sock = xasprintf("%s/%lld-%.8s.sock", n->rundir, (long long)j.id, tag);
	} else if (!n->port) {
		sock = xasprintf("%s/jobs/%lld/kaon.sock", req->srv->cfg->data_dir, (long long)j.id);
	}
	char exe[PATH_MAX];
	ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[el > 0 ? el : 0] = '\0';
	char *libexec = xasprintf("%s/libexec", req->srv->cfg->data_dir);
	struct profiles_values vals = {
		.socket = sock, .port = n->port, .base_url = base, .secret = n->secret,
		.home = n->user.home, .workdir = n->user.home, .folder = n->folder,
		.kaon = el > 0 ? exe : NULL, .libexec = libexec,
	};
	rc = profiles_launch(&n->profile, &vals, &cmd, &env, &why);
	if (rc < 0) {
		http_resp_error(resp, 422, "invalid", "%s", why);
		goto out;
	}
	struct store_session s = {
		.job_id = j.id, .user_id = n->user.id, .name = n->name, .profile = n->profile.name,
		.kind = n->profile.kind, .socket = sock, .port = n->port, .secret = n->secret,
		.options = n->options, .idle_timeout_s = n->profile.idle_timeout_s,
		.max_lifetime_s = n->profile.max_lifetime_s,
	};
	if ((rc = store_job_set_launch(req->store, j.id, cmd, env)) == 0)
		rc = store_session_insert(req->store, &s);
	if (rc < 0)
		http_resp_errno(resp, rc, "session");
out:
	if (env)
		explicit_bzero(env, strlen(env));
	free(env);
	free(cmd);
	free(why);
	free(libexec);
	free(base);
	free(sock);
	return rc < 0 ? -1 : 0;
}

void api_sessions_create(struct http_req *req, struct http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	struct api_sessions_new n = { 0 };
	if (fields_check(body, api_sessions_fields, FIELDS_COUNT(api_sessions_fields), resp) < 0 ||
	    api_sessions_load(req, resp, body, &n) < 0 || api_sessions_options(req, resp, body, &n) < 0)
		goto out;
	if (profiles_uses(&n.profile) & PROFILES_USES_PORT) {
		n.port = api_sessions_free_port();
		if (n.port < 0) {
			log_error("sessions: no free loopback port: %s", strerror(-n.port));
			http_resp_error(resp, 503, "busy", "no free loopback port for the session");
			goto out;
		}
	} else {
		int rc = api_sessions_socket_dir(req, &n.user, n.rundir, sizeof n.rundir);
		if (rc < 0) {
			log_error("sessions: cannot prepare %s for the socket of a session of %s: %s",
				  n.rundir, n.user.username, strerror(-rc));
			http_resp_error(resp, 500, "internal", "cannot prepare the session's socket");
			goto out;
		}
	}
	secret_random(n.secret);
	int64_t id = 0;
	int rc = store_begin(req->store);
	if (rc < 0) {
		http_resp_errno(resp, rc, "session");
		goto out;
	}
	if (api_sessions_insert(req, resp, &n, &id) < 0) {
		store_rollback(req->store);
		goto out;
	}
	if ((rc = store_commit(req->store)) < 0) {
		store_rollback(req->store);
		http_resp_errno(resp, rc, "session");
		goto out;
	}
	log_info("session %lld (%s, profile %s) created for %s", (long long)id, n.name,
		 n.profile.name, n.user.username);
	scheduler_kick(req->srv);
	sessionmon_kick(req->srv);
	api_sessions_answer(req, resp, 201, id);
out:
	api_sessions_new_clear(&n);
	json_decref(body);
}

/* ---- read ------------------------------------------------------------------- */

void api_sessions_list(struct http_req *req, struct http_resp *resp)
{
	const char *user = http_req_query(req, "user"), *all = http_req_query(req, "all");
	const char *ended = http_req_query(req, "ended");
	int64_t user_id = req->who.user_id;
	if (all && strcmp(all, "1") == 0) {
		if (!req->who.admin) {
			http_resp_error(resp, 403, "forbidden", "only admins see everyone's sessions");
			return;
		}
		user_id = -1;
	} else if (user && strcmp(user, req->who.username) != 0) {
		if (!req->who.admin) {
			http_resp_error(resp, 403, "forbidden", "only admins see other users' sessions");
			return;
		}
		struct store_user u = { 0 };
		int rc = store_user_get(req->store, user, &u);
		user_id = u.id;
		store_user_clear(&u);
		if (rc < 0) {
			http_resp_errno(resp, rc, "user '%s'", user);
			return;
		}
	}
	bool with_ended = ended && strcmp(ended, "1") == 0;
	struct store_session *ss;
	size_t n;
	int rc = store_sessions_list(req->store, user_id, !with_ended, &ss, &n);
	if (rc < 0) {
		http_resp_errno(resp, rc, "sessions");
		return;
	}
	json_t *arr = json_array();
	size_t shown_ended = 0;
	for (size_t i = 0; i < n; i++) {
		if (!api_sessions_live(&ss[i]) && shown_ended++ >= API_SESSIONS_ENDED_SHOWN)
			continue;
		json_array_append_new(arr, api_sessions_json(req, &ss[i]));
	}
	store_sessions_free(ss, n);
	http_resp_json(resp, 200, json_pack("{s:o}", "sessions", arr));
}

/* The session of the path's {id}, the caller's own or an admin's: 0, or
 * -1 after answering. */
static int api_sessions_load_owned(struct http_req *req, struct http_resp *resp,
				   struct store_session *s)
{
	char *end;
	long long id = strtoll(req->params[0], &end, 10);
	int rc = *end || id <= 0 ? -ENOENT : store_session_get(req->store, id, s);
	if (rc == -ENOENT) {
		http_resp_error(resp, 404, "not_found", "session %.32s not found", req->params[0]);
		return -1;
	}
	if (rc < 0) {
		http_resp_errno(resp, rc, "session %lld", id);
		return -1;
	}
	if (s->user_id != req->who.user_id && !req->who.admin) {
		http_resp_error(resp, 403, "forbidden", "session %lld belongs to %s", id, s->username);
		store_session_clear(s);
		return -1;
	}
	return 0;
}

void api_sessions_get(struct http_req *req, struct http_resp *resp)
{
	struct store_session s = { 0 };
	if (api_sessions_load_owned(req, resp, &s) < 0)
		return;
	http_resp_json(resp, 200, api_sessions_json(req, &s));
	store_session_clear(&s);
}

/* ---- change ------------------------------------------------------------------ */

void api_sessions_stop(struct http_req *req, struct http_resp *resp)
{
	struct store_session s = { 0 };
	if (api_sessions_load_owned(req, resp, &s) < 0)
		return;
	if (!api_sessions_live(&s)) {
		http_resp_error(resp, 409, "conflict", "session %lld has already ended (%s)",
				(long long)s.job_id, s.state);
		goto out;
	}
	/* The reason first: the monitor, seeing the job end, must find it. */
	int rc = store_session_set_end_reason(req->store, s.job_id, "stopped");
	if (rc == 0)
		rc = scheduler_cancel(req->srv, req->store, s.job_id);
	if (rc == -EALREADY)
		rc = 0; /* it ended meanwhile: what it ended as is recorded */
	if (rc < 0) {
		http_resp_errno(resp, rc, "session %lld", (long long)s.job_id);
		goto out;
	}
	log_info("session %lld stopped by %s", (long long)s.job_id, req->who.username);
	sessionmon_kick(req->srv);
	api_sessions_answer(req, resp, 200, s.job_id);
out:
	store_session_clear(&s);
}

/*
 * Reservations bound an extension of a running session: inside one, it
 * must end by the reservation's end; outside, it must not run into a
 * window that holds its GPUs (someone booked them, and a booking is a
 * promise). 0 when `want` fits, else -1 after answering 422/409 with how
 * far it can go.
 */
static int api_sessions_extend_fits_reservations(struct http_req *req, struct http_resp *resp,
						 const struct store_session *s, int64_t want)
{
	struct store_job j = { 0 };
	if (store_job_get(req->store, s->job_id, &j) < 0 || strcmp(j.state, "running") != 0 ||
	    j.start_time < 0) {
		store_job_clear(&j);
		return 0; /* pending: the scheduler plans around reservations */
	}
	int64_t old_end = j.start_time + j.walltime_s, new_end = j.start_time + want;
	struct store_reservation *rs = NULL;
	size_t n = 0;
	int rc = 0;
	char at[48];
	if (new_end <= old_end ||
	    store_reservations_list(req->store, j.reservation_id > 0 ? j.start_time : old_end,
				    new_end, "pending,approved", -1, NULL, &rs, &n) < 0)
		goto out;
	uint64_t mine = jobenv_gpu_mask(&req->srv->inv, j.alloc_gpus);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct store_reservation *r = &rs[i];
		if (r->id == j.reservation_id) {
			if (new_end <= r->end_time)
				continue;
			explain_time(r->end_time, time(NULL), at, sizeof at);
			http_resp_error(resp, 422, "invalid",
					"session %lld runs in reservation %lld, which ends at %s; it "
					"can be extended by %lld s at most",
					(long long)s->job_id, (long long)r->id, at,
					(long long)(r->end_time - old_end > 0 ? r->end_time - old_end : 0));
			rc = -1;
		} else if (r->id != j.reservation_id && j.node && strcmp(r->node, j.node) == 0 &&
			   (jobenv_gpu_mask(&req->srv->inv, r->gpu_indices) & mine) &&
			   r->start_time < new_end && r->end_time > old_end) {
			explain_time(r->start_time, time(NULL), at, sizeof at);
			http_resp_error(resp, 409, "conflict",
					"session %lld's GPUs are reserved from %s (reservation %lld); "
					"it can be extended by %lld s at most",
					(long long)s->job_id, at, (long long)r->id,
					(long long)(r->start_time - old_end > 0 ? r->start_time - old_end : 0));
			rc = -1;
		}
	}
out:
	store_reservations_free(rs, n);
	store_job_clear(&j);
	return rc;
}

void api_sessions_extend(struct http_req *req, struct http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	struct store_session s = { 0 };
	struct store_group g = { 0 };
	bool have_group = false;
	if (fields_check(body, api_sessions_extend_fields, FIELDS_COUNT(api_sessions_extend_fields),
			 resp) < 0 ||
	    api_sessions_load_owned(req, resp, &s) < 0)
		goto out;
	if (!api_sessions_live(&s) || s.end_reason) {
		http_resp_error(resp, 409, "conflict", "session %lld has %s", (long long)s.job_id,
				s.end_reason ? "been stopped" : "already ended");
		goto out;
	}
	int rc = api_sessions_owner_group(req->store, s.user_id, &g, &have_group);
	if (rc < 0) {
		http_resp_errno(resp, rc, "session %lld", (long long)s.job_id);
		goto out;
	}
	int64_t add = json_integer_value(json_object_get(body, "seconds"));
	int64_t want = s.walltime_s + add;
	if (want > s.max_lifetime_s) {
		http_resp_error(resp, 422, "invalid",
				"a lifetime of %lld s would be over the max_lifetime_s of profile "
				"'%s' (%lld s); it can be extended by %lld s at most",
				(long long)want, s.profile, (long long)s.max_lifetime_s,
				(long long)(api_sessions_ceiling(&s, &g, have_group) - s.walltime_s));
		goto out;
	}
	if (have_group && g.max_walltime_s >= 0 && want > g.max_walltime_s) {
		http_resp_error(resp, 422, "invalid",
				"a lifetime of %lld s would be over the max_walltime_s of group "
				"'%s' (%lld s); it can be extended by %lld s at most",
				(long long)want, g.name, (long long)g.max_walltime_s,
				(long long)(api_sessions_ceiling(&s, &g, have_group) - s.walltime_s));
		goto out;
	}
	if (api_sessions_extend_fits_reservations(req, resp, &s, want) < 0)
		goto out;
	/* Committed first, then the supervisor told: its wall-time file is
	 * the contract that survives restarts, the row is what we show. */
	rc = store_job_set_walltime(req->store, s.job_id, want);
	if (rc == 0 && strcmp(s.state, "running") == 0) {
		char *dir = scheduler_job_dir(req->srv, s.job_id);
		rc = exec_local_set_walltime(dir, want);
		free(dir);
		if (rc < 0 && store_job_set_walltime(req->store, s.job_id, s.walltime_s) < 0)
			log_error("sessions: session %lld: could not restore its wall time",
				  (long long)s.job_id);
	}
	if (rc == -ENOENT || rc == -ESRCH) {
		http_resp_error(resp, 409, "conflict", "session %lld has already ended",
				(long long)s.job_id);
		goto out;
	}
	if (rc < 0) {
		log_error("sessions: cannot extend session %lld: %s", (long long)s.job_id,
			  strerror(-rc));
		http_resp_error(resp, 500, "internal", "cannot extend session %lld",
				(long long)s.job_id);
		goto out;
	}
	log_info("session %lld extended by %lld s to %lld s by %s", (long long)s.job_id,
		 (long long)add, (long long)want, req->who.username);
	api_sessions_answer(req, resp, 200, s.job_id);
out:
	store_group_clear(&g);
	store_session_clear(&s);
	json_decref(body);
}
