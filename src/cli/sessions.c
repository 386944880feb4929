/*
 * cli/sessions — interactive sessions from the command line:
 *
 *   kaon profiles [--all] [--json]         what you may launch
 *   kaon sessions [--ended] [--all|--user U] [--json]
 *   kaon open PROFILE|ID|NAME [--name N] [--folder F] [--lifetime 4h]
 *             [--no-wait] [--json]
 *   kaon stop ID|NAME... [--json]
 *   kaon extend ID|NAME DURATION [--json]
 *
 * `open` is idempotent, like opening a bookmark: an id, or the name of a
 * live session of yours (names default to the profile's), opens that
 * session; anything else is a profile to start a new one from. It waits
 * until the session is ready, telling on stderr where it is (queued and
 * at which position, starting), then prints the full URL on stdout.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "lib/xalloc.h"

static const char sessions_profiles_usage[] = "profiles [--all] [--json]";
static const char sessions_list_usage[] = "sessions [--ended] [--all|--user USER] [--json]";
static const char sessions_open_usage[] =
    "open PROFILE|ID|NAME [--name NAME] [--folder FOLDER] [--lifetime DURATION] [--no-wait] "
    "[--json]";
static const char sessions_stop_usage[] = "stop ID|NAME... [--json]";
static const char sessions_extend_usage[] = "extend ID|NAME DURATION [--json]";

enum { SESSIONS_POLL_MS = 250 };

static int64_t sessions_int(const json_t *obj, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(obj, key));
}

static bool sessions_is_id(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* The full URL of a session: the server's base and its url. */
static char *sessions_url(struct client *c, const json_t *s)
{
	const char *url = output_str(s, "url");
	return xasprintf("%s%s", client_url(c), url ? url : "/");
}

/* Seconds until an API time, or -1. */
static int64_t sessions_until(const char *t, time_t now)
{
	time_t when;
	if (!t || output_parse_time(t, &when) < 0)
		return -1;
	return when > now ? (int64_t)(when - now) : 0;
}

/* "pending (#3, resources)", "ready", "cancelled (stopped)". */
static char *sessions_state_text(const json_t *s)
{
	const char *state = output_str(s, "state"), *end = output_str(s, "end_reason");
	json_t *pos = json_object_get(s, "queue_position");
	if (state && strcmp(state, "pending") == 0) {
		const char *reason = output_str(s, "reason");
		if (json_is_integer(pos))
			return xasprintf("pending (#%lld%s%s)", (long long)json_integer_value(pos),
					 reason ? ", " : "", reason ? reason : "");
		return xasprintf("pending%s%s%s", reason ? " (" : "", reason ? reason : "",
				 reason ? ")" : "");
	}
	if (end)
		return xasprintf("%s (%s)", state ? state : "-", end);
	return xstrdup(state ? state : "-");
}

/* The live session of mine with this id or name: 0 and *out, or the exit
 * status after the error line. */
static int sessions_find(struct client *c, const char *what, json_t **out)
{
	char *cause = NULL, *path;
	json_t *ans = NULL;
	if (sessions_is_id(what)) {
		path = xasprintf("/api/v1/sessions/%s", what);
		int rc = client_call(c, "GET", path, NULL, &ans, NULL, &cause);
		free(path);
		if (rc < 0)
			return output_fail_cause(cause);
		*out = ans;
		return 0;
	}
	if (client_call(c, "GET", "/api/v1/sessions", NULL, &ans, NULL, &cause) < 0)
		return output_fail_cause(cause);
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(ans, "sessions"), i, s)
	{
		const char *name = output_str(s, "name");
		if (name && strcmp(name, what) == 0) {
			*out = json_incref(s);
			json_decref(ans);
			return 0;
		}
	}
	json_decref(ans);
	return output_fail("you have no live session named '%s'", what);
}

/* ---- kaon profiles --------------------------------------------------------- */

static void sessions_profiles_table(const json_t *ps, bool details)
{
	static const char *const headers[] = { "NAME", "TITLE", "CPUS", "MEM", "GPUS", "LIFETIME",
					       "MAX", "IDLE", "OPTIONS", "SOURCE", "AVAILABLE" };
	struct output_table *t = output_table_new(headers, details ? 11 : 9);
	size_t i;
	json_t *p;
	json_array_foreach(ps, i, p)
	{
		char b1[OUTPUT_UNIT_LEN], b2[OUTPUT_UNIT_LEN], b3[OUTPUT_UNIT_LEN], b4[OUTPUT_UNIT_LEN];
		json_t *res = json_object_get(p, "resources");
		int64_t idle = sessions_int(p, "idle_timeout_s");
		char *opts = output_join(json_object_get(p, "options"), ",");
		output_table_add(t, output_str(p, "name"));
		output_table_add(t, output_str(p, "title"));
		output_table_addf(t, "%lld", (long long)sessions_int(res, "cpus"));
		output_table_add(t, output_size_mb(sessions_int(res, "mem_mb"), b1));
		output_table_addf(t, "%lld", (long long)sessions_int(res, "gpus"));
		output_table_add(t, output_duration(sessions_int(p, "lifetime_s"), b2));
		output_table_add(t, output_duration(sessions_int(p, "max_lifetime_s"), b3));
		output_table_add(t, idle > 0 ? output_duration(idle, b4) : "never");
		output_table_add(t, opts);
		free(opts);
		if (details) {
			output_table_add(t, output_str(p, "source"));
			output_table_add(t, json_is_true(json_object_get(p, "available")) ? "yes" : "no");
		}
	}
	output_table_print(t, stdout);
}

int cli_profiles(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false, as_json = false;
	int ch;
	optind = 0;
	while ((ch = output_getopt(argc, argv, opts)) != -1) {
		if (ch == 'a')
			all = true;
		else if (ch == 'j')
			as_json = true;
		else if (ch == 'h')
			return printf("usage: kaon %s\n", sessions_profiles_usage), 0;
		else
			return output_usage(sessions_profiles_usage, NULL);
	}
	if (optind < argc)
		return output_usage(sessions_profiles_usage, "too many arguments");
	json_t *ans = NULL;
	char *cause = NULL;
	if (client_call_once("GET", all ? "/api/v1/profiles?all=1" : "/api/v1/profiles", NULL, &ans,
			     &cause) < 0)
		return output_fail_cause(cause);
	if (as_json)
		output_json(ans);
	else
		sessions_profiles_table(json_object_get(ans, "profiles"), all);
	json_decref(ans);
	return 0;
}

/* ---- kaon sessions --------------------------------------------------------- */

static void sessions_table(struct client *c, const json_t *ss)
{
	static const char *const headers[] = { "ID",	      "NAME",	     "PROFILE", "USER",
					       "STATE",	      "EXPIRES IN", "URL" };
	struct output_table *t = output_table_new(headers, 7);
	time_t now = time(NULL);
	size_t i;
	json_t *s;
	json_array_foreach(ss, i, s)
	{
		char buf[OUTPUT_UNIT_LEN];
		char *state = sessions_state_text(s), *url = sessions_url(c, s);
		output_table_addf(t, "%lld", (long long)sessions_int(s, "id"));
		output_table_add(t, output_str(s, "name"));
		output_table_add(t, output_str(s, "profile"));
		output_table_add(t, output_str(s, "user"));
		output_table_add(t, state);
		output_table_add(t, output_duration(sessions_until(output_str(s, "expires_at"), now), buf));
		output_table_add(t, url);
		free(state);
		free(url);
	}
	output_table_print(t, stdout);
}

int cli_sessions(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ended", no_argument, NULL, 'e' },
		{ "all", no_argument, NULL, 'a' },
		{ "user", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool ended = false, all = false, as_json = false;
	const char *user = NULL;
	int ch;
	optind = 0;
	while ((ch = output_getopt(argc, argv, opts)) != -1) {
		switch (ch) {
		case 'e':
			ended = true;
			break;
		case 'a':
			all = true;
			break;
		case 'u':
			user = optarg;
			break;
		case 'j':
			as_json = true;
			break;
		case 'h':
			printf("usage: kaon %s\n", sessions_list_usage);
			return 0;
		default:
			return output_usage(sessions_list_usage, NULL);
		}
	}
	if (optind < argc)
		return output_usage(sessions_list_usage, "too many arguments");
	if (all && user)
		return output_usage(sessions_list_usage, "--all and --user contradict each other");
	char *esc = user ? client_escape(user) : NULL;
	char *path = xasprintf("/api/v1/sessions?ended=%d%s%s%s", ended ? 1 : 0, all ? "&all=1" : "",
			       esc ? "&user=" : "", esc ? esc : "");
	free(esc);
	struct client *c = NULL;
	json_t *ans = NULL;
	char *cause = NULL;
	int rc = 0;
	if (client_open(&c, &cause) < 0 || client_call(c, "GET", path, NULL, &ans, NULL, &cause) < 0) {
		rc = output_fail_cause(cause);
	} else if (as_json) {
		output_json(ans);
	} else {
		sessions_table(c, json_object_get(ans, "sessions"));
	}
	json_decref(ans);
	client_free(c);
	free(path);
	return rc;
}

/* ---- kaon open ----------------------------------------------------------------- */

static volatile sig_atomic_t sessions_interrupted;

static void sessions_on_sigint(int sig)
{
	(void)sig;
	sessions_interrupted = 1;
}

/* Poll the session until it is ready (0, *s the last answer) or has
 * ended (the exit status after the error line), saying on stderr what it
 * is doing whenever that changes. */
static int sessions_wait(struct client *c, json_t **s, bool quiet)
{
	char *last = NULL, *cause = NULL;
	int64_t id = sessions_int(*s, "id");
	struct sigaction sa = { .sa_handler = sessions_on_sigint }, old;
	sigaction(SIGINT, &sa, &old);
	int rc = 0;
	for (;;) {
		const char *state = output_str(*s, "state");
		char *text = sessions_state_text(*s);
		if (!quiet && (!last || strcmp(last, text) != 0)) {
			if (state && strcmp(state, "pending") == 0 &&
			    json_is_integer(json_object_get(*s, "queue_position")))
				fprintf(stderr, "session %lld: queued, position %lld%s%s\n", (long long)id,
					(long long)sessions_int(*s, "queue_position"),
					output_str(*s, "reason_text") ? ": " : "",
					output_str(*s, "reason_text") ? output_str(*s, "reason_text") : "");
			else if (state && strcmp(state, "starting") == 0)
				fprintf(stderr, "session %lld: starting\n", (long long)id);
		}
		free(last);
		last = text;
		if (json_is_true(json_object_get(*s, "ready")))
			break;
		if (state && strcmp(state, "pending") != 0 && strcmp(state, "starting") != 0) {
			rc = output_fail("session %lld is %s; see 'kaon logs --stderr %lld'",
					 (long long)id, last, (long long)id);
			break;
		}
		if (sessions_interrupted) {
			rc = output_fail("stopped waiting; session %lld goes on ('kaon open %lld' "
					 "waits again, 'kaon stop %lld' ends it)",
					 (long long)id, (long long)id, (long long)id);
			break;
		}
		usleep(SESSIONS_POLL_MS * 1000);
		char path[64];
		json_t *next = NULL;
		snprintf(path, sizeof path, "/api/v1/sessions/%lld", (long long)id);
		if (client_call(c, "GET", path, NULL, &next, NULL, &cause) < 0) {
			rc = output_fail_cause(cause);
			break;
		}
		json_decref(*s);
		*s = next;
	}
	sigaction(SIGINT, &old, NULL);
	free(last);
	return rc;
}

int cli_open(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "folder", required_argument, NULL, 'f' },
		{ "lifetime", required_argument, NULL, 'l' },
		{ "no-wait", no_argument, NULL, 'W' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *folder = NULL;
	int64_t lifetime = 0;
	bool wait = true, as_json = false;
	int ch;
	optind = 0;
	while ((ch = output_getopt(argc, argv, opts)) != -1) {
		switch (ch) {
		case 'n':
			name = optarg;
			break;
		case 'f':
			folder = optarg;
			break;
		case 'l':
			if (output_parse_duration(optarg, &lifetime) < 0 || lifetime <= 0)
				return output_usage(sessions_open_usage,
						    "--lifetime: '%s' is not a duration like 4h or 90m",
						    optarg);
			break;
		case 'W':
			wait = false;
			break;
		case 'j':
			as_json = true;
			break;
		case 'h':
			printf("usage: kaon %s\n", sessions_open_usage);
			return 0;
		default:
			return output_usage(sessions_open_usage, NULL);
		}
	}
	if (argc - optind != 1)
		return output_usage(sessions_open_usage,
				    argc - optind ? "too many arguments" : "missing PROFILE, ID or NAME");
	const char *what = argv[optind];
	struct client *c = NULL;
	json_t *s = NULL, *list = NULL;
	char *cause = NULL;
	int rc = 0;
	if (client_open(&c, &cause) < 0) {
		rc = output_fail_cause(cause);
		goto out;
	}
	/* An existing session: by id, by --name, or by the name given. */
	const char *existing = sessions_is_id(what) ? what : name ? name : what;
	if (sessions_is_id(existing)) {
		if ((rc = sessions_find(c, existing, &s)) != 0)
			goto out;
	} else if (client_call(c, "GET", "/api/v1/sessions", NULL, &list, NULL, &cause) < 0) {
		rc = output_fail_cause(cause);
		goto out;
	} else {
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(list, "sessions"), i, v)
		{
			const char *n = output_str(v, "name");
			if (!s && n && strcmp(n, existing) == 0)
				s = json_incref(v);
		}
	}
	if (!s) {
		json_t *body = json_pack("{s:s}", "profile", what);
		if (name)
			json_object_set_new(body, "name", json_string(name));
		if (folder)
			json_object_set_new(body, "options", json_pack("{s:s}", "folder", folder));
		if (lifetime > 0)
			json_object_set_new(body, "lifetime_s", json_integer(lifetime));
		rc = client_call(c, "POST", "/api/v1/sessions", body, &s, NULL, &cause);
		json_decref(body);
		if (rc < 0) {
			rc = output_fail_cause(cause);
			goto out;
		}
		if (!as_json)
			fprintf(stderr, "session %lld (%s) started from profile %s\n",
				(long long)sessions_int(s, "id"), output_str(s, "name"), what);
	}
	if (wait && (rc = sessions_wait(c, &s, as_json)) != 0)
		goto out;
	if (as_json) {
		output_json(s);
	} else {
		char *url = sessions_url(c, s);
		printf("%s\n", url);
		free(url);
	}
out:
	json_decref(list);
	json_decref(s);
	client_free(c);
	return rc;
}

/* ---- kaon stop | extend --------------------------------------------------------- */

int cli_stop(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool as_json = false;
	int ch;
	optind = 0;
	while ((ch = output_getopt(argc, argv, opts)) != -1) {
		if (ch == 'j')
			as_json = true;
		else if (ch == 'h')
			return printf("usage: kaon %s\n", sessions_stop_usage), 0;
		else
			return output_usage(sessions_stop_usage, NULL);
	}
	if (optind == argc)
		return output_usage(sessions_stop_usage, "missing the session's ID or NAME");
	struct client *c = NULL;
	char *cause = NULL;
	if (client_open(&c, &cause) < 0)
		return output_fail_cause(cause);
	json_t *done = json_array();
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		json_t *s = NULL, *ans = NULL;
		if (sessions_find(c, argv[i], &s) != 0) {
			rc = 1;
			continue;
		}
		char path[96];
		snprintf(path, sizeof path, "/api/v1/sessions/%lld/stop", (long long)sessions_int(s, "id"));
		if (client_call(c, "POST", path, NULL, &ans, NULL, &cause) < 0) {
			output_fail_cause(cause);
			cause = NULL;
			rc = 1;
		} else if (!as_json) {
			printf("Stopping session %lld (%s).\n", (long long)sessions_int(ans, "id"),
			       output_str(ans, "name"));
		}
		if (ans)
			json_array_append(done, ans);
		json_decref(ans);
		json_decref(s);
	}
	if (as_json) {
		json_t *out = json_pack("{s:O}", "sessions", done);
		output_json(out);
		json_decref(out);
	}
	json_decref(done);
	client_free(c);
	return rc;
}

int cli_extend(int argc, char **argv)
{
	bool as_json = false;
	int rc = output_args(argc, argv, sessions_extend_usage, 2, &as_json);
	if (rc >= 0)
		return rc;
	int64_t add;
	if (output_parse_duration(argv[optind + 1], &add) < 0 || add <= 0)
		return output_usage(sessions_extend_usage, "'%s' is not a duration like 2h or 30m",
				    argv[optind + 1]);
	struct client *c = NULL;
	json_t *s = NULL, *ans = NULL;
	char *cause = NULL;
	if (client_open(&c, &cause) < 0)
		return output_fail_cause(cause);
	if ((rc = sessions_find(c, argv[optind], &s)) != 0)
		goto out;
	char path[96];
	snprintf(path, sizeof path, "/api/v1/sessions/%lld/extend", (long long)sessions_int(s, "id"));
	json_t *body = json_pack("{s:I}", "seconds", (json_int_t)add);
	rc = client_call(c, "POST", path, body, &ans, NULL, &cause);
	json_decref(body);
	if (rc < 0) {
		rc = output_fail_cause(cause);
		goto out;
	}
	if (as_json) {
		output_json(ans);
	} else {
		char b1[OUTPUT_UNIT_LEN], b2[OUTPUT_UNIT_LEN];
		const char *exp = output_str(ans, "expires_at");
		printf("Session %lld (%s) extended: lifetime %s%s%s.\n",
		       (long long)sessions_int(ans, "id"), output_str(ans, "name"),
		       output_duration(sessions_int(ans, "lifetime_s"), b1),
		       exp ? ", it now ends at " : " from its start",
		       exp ? output_time(exp, b2) : "");
	}
out:
	json_decref(ans);
	json_decref(s);
	client_free(c);
	return rc;
}
