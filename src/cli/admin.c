/*
 * cli/admin — `kaon admin users ...` and `kaon admin groups ...`: account
 * management over the REST API, for admins.
 *
 * `kaon admin --data DIR ...` works on the data directory directly, with
 * no server (the first admin, a lost password); that is admin_offline.c,
 * reached from here so that both live under one verb.
 *
 * Flags map one to one onto the fields of POST/PATCH bodies; limits go
 * through the same unit parsers that print them (output.h), so "32G" in
 * a listing can be typed back as a flag.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "lib/xalloc.h"

static const char admin_users_list_usage[] = "admin users list [--json]";
static const char admin_users_show_usage[] = "admin users show NAME [--json]";
static const char admin_users_create_usage[] =
    "admin users create NAME [--password-stdin] [--admin] [--group G]... "
    "[--display-name S] [--email S] [--unix-user U]";
static const char admin_users_update_usage[] =
    "admin users update NAME [--admin|--no-admin] [--disable|--enable] [--group G]... "
    "[--display-name S] [--email S] [--password-stdin]";
static const char admin_users_delete_usage[] = "admin users delete NAME";
static const char admin_groups_list_usage[] = "admin groups list [--json]";
static const char admin_groups_show_usage[] = "admin groups show NAME [--json]";
static const char admin_groups_create_usage[] =
    "admin groups create NAME [--description S] [--max-gpus N|none] [--max-cpus N|none] "
    "[--max-mem SIZE|none] [--max-walltime DURATION|none] [--max-jobs N|none] "
    "[--max-sessions N|none] [--weight X] [--resv-max-gpus N|none] "
    "[--resv-max-length DURATION|none] [--resv-max-ahead DURATION|none] "
    "[--resv-max-active N|none] [--resv-approval yes|no]";
static const char admin_groups_update_usage[] =
    "admin groups update NAME [--description S] [--max-gpus N|none] [--max-cpus N|none] "
    "[--max-mem SIZE|none] [--max-walltime DURATION|none] [--max-jobs N|none] "
    "[--max-sessions N|none] [--weight X] [--resv-max-gpus N|none] "
    "[--resv-max-length DURATION|none] [--resv-max-ahead DURATION|none] "
    "[--resv-max-active N|none] [--resv-approval yes|no]";
static const char admin_groups_delete_usage[] = "admin groups delete NAME";

/* ---- shared ------------------------------------------------------------- */

static int admin_call(const char *method, const char *path, json_t *body, json_t **out)
{
	char *cause = NULL;
	return client_call_once(method, path, body, out, &cause) < 0 ? output_fail_cause(cause) : 0;
}

/* "/api/v1/COLLECTION/NAME", the name escaped. */
static char *admin_path(const char *collection, const char *name)
{
	char *esc = client_escape(name);
	char *path = xasprintf("/api/v1/%s/%s", collection, esc);
	free(esc);
	return path;
}

/* obj[key] = s; -1 when s is not valid UTF-8 (jansson refuses it). */
static int admin_set_string(json_t *obj, const char *key, const char *s)
{
	json_t *v = json_string(s);
	if (!v)
		return -1;
	json_object_set_new(obj, key, v);
	return 0;
}

/* GET one object and print it as JSON or through show(). */
static int admin_show(const char *collection, const char *name, bool as_json,
		      void (*show)(const json_t *obj))
{
	char *path = admin_path(collection, name);
	json_t *obj = NULL;
	int rc = admin_call("GET", path, NULL, &obj);
	free(path);
	if (rc != 0)
		return rc;
	if (as_json)
		output_json(obj);
	else
		show(obj);
	json_decref(obj);
	return 0;
}

/* DELETE one object: `admin users delete NAME`, `admin groups delete NAME`. */
static int admin_delete(int argc, char **argv, const char *usage, const char *collection,
			const char *noun)
{
	int rc = output_args(argc, argv, usage, 1, NULL);
	if (rc >= 0)
		return rc;
	const char *name = argv[optind];
	char *path = admin_path(collection, name);
	rc = admin_call("DELETE", path, NULL, NULL);
	free(path);
	if (rc != 0)
		return rc;
	char *clean = output_clean(name);
	printf("Deleted %s %s.\n", noun, clean);
	free(clean);
	return 0;
}

/* POST or PATCH body, then one line saying what happened. */
static int admin_write(const char *method, const char *path, json_t *body, const char *done,
		       const char *noun, const char *name)
{
	int rc = admin_call(method, path, body, NULL);
	if (rc != 0)
		return rc;
	char *clean = output_clean(name);
	printf("%s %s %s.\n", done, noun, clean);
	free(clean);
	return 0;
}

static const char *admin_yes_no(const json_t *obj, const char *key)
{
	return json_is_true(json_object_get(obj, key)) ? "yes" : "no";
}

/* A new password for a user: asked twice with echo off on a terminal, or
 * one line of standard input. */
static int admin_new_password(const char *user, char **out, char **cause)
{
	char *again = NULL, *prompt = xasprintf("New password for %s: ", user);
	int rc = -1;
	*out = NULL;
	if (output_read_password(prompt, false, out, cause) < 0)
		goto out;
	if (!**out) {
		*cause = xstrdup("empty password");
		goto out;
	}
	if (isatty(STDIN_FILENO)) {
		if (output_read_password("Again: ", false, &again, cause) < 0)
			goto out;
		if (strcmp(*out, again) != 0) {
			*cause = xstrdup("the two passwords differ");
			goto out;
		}
	}
	rc = 0;
out:
	if (rc < 0) {
		output_secret_free(*out);
		*out = NULL;
	}
	output_secret_free(again);
	free(prompt);
	return rc;
}

/* ---- users -------------------------------------------------------------- */

static const char *admin_user_status(const json_t *u)
{
	if (json_is_true(json_object_get(u, "disabled")))
		return "disabled";
	if (json_is_false(json_object_get(u, "password_set")))
		return "no password";
	return "active";
}

static int admin_users_list(int argc, char **argv)
{
	bool as_json = false;
	int rc = output_args(argc, argv, admin_users_list_usage, 0, &as_json);
	if (rc >= 0)
		return rc;
	json_t *list = NULL;
	if ((rc = admin_call("GET", "/api/v1/users", NULL, &list)) != 0)
		return rc;
	if (as_json) {
		output_json(list);
		json_decref(list);
		return 0;
	}
	static const char *const headers[] = {"USERNAME", "NAME",      "GROUPS", "ADMIN",
					      "STATUS",	  "UNIX USER", "CREATED"};
	struct output_table *t = output_table_new(headers, 7);
	size_t i;
	json_t *u;
	json_array_foreach(json_object_get(list, "users"), i, u)
	{
		char buf[OUTPUT_UNIT_LEN];
		char *groups = output_join(json_object_get(u, "groups"), ",");
		const char *display = output_str(u, "display_name");
		output_table_add(t, output_str(u, "username"));
		output_table_add(t, display && *display ? display : NULL);
		output_table_add(t, groups);
		output_table_add(t, admin_yes_no(u, "admin"));
		output_table_add(t, admin_user_status(u));
		output_table_add(t, output_str(u, "unix_user"));
		output_table_add(t, output_time(output_str(u, "created_at"), buf));
		free(groups);
	}
	output_table_print(t, stdout);
	json_decref(list);
	return 0;
}

static void admin_user_print(const json_t *u)
{
	char buf[OUTPUT_UNIT_LEN];
	char *groups = output_join(json_object_get(u, "groups"), ", ");
	char *ids = xasprintf("uid %lld, gid %lld",
			      (long long)json_integer_value(json_object_get(u, "uid")),
			      (long long)json_integer_value(json_object_get(u, "gid")));
	output_field("username:", output_str(u, "username"));
	output_field("name:", output_str(u, "display_name"));
	output_field("email:", output_str(u, "email"));
	output_field("groups:", groups);
	output_field("admin:", admin_yes_no(u, "admin"));
	output_field("disabled:", admin_yes_no(u, "disabled"));
	output_field("password set:", admin_yes_no(u, "password_set"));
	output_field("unix user:", output_str(u, "unix_user"));
	output_field("unix ids:", ids);
	output_field("home:", output_str(u, "home"));
	output_field("created:", output_time(output_str(u, "created_at"), buf));
	free(ids);
	free(groups);
}

static int admin_users_show(int argc, char **argv)
{
	bool as_json = false;
	int rc = output_args(argc, argv, admin_users_show_usage, 1, &as_json);
	if (rc >= 0)
		return rc;
	return admin_show("users", argv[optind], as_json, admin_user_print);
}

enum {
	ADMIN_OPT_HELP = 'h',
	ADMIN_OPT_PASSWORD = 256,
	ADMIN_OPT_ADMIN,
	ADMIN_OPT_NO_ADMIN,
	ADMIN_OPT_DISABLE,
	ADMIN_OPT_ENABLE,
	ADMIN_OPT_GROUP,
	ADMIN_OPT_DISPLAY_NAME,
	ADMIN_OPT_EMAIL,
	ADMIN_OPT_UNIX_USER,
};

static const struct option admin_user_opts[] = {
    {"password-stdin", no_argument, NULL, ADMIN_OPT_PASSWORD},
    {"admin", no_argument, NULL, ADMIN_OPT_ADMIN},
    {"no-admin", no_argument, NULL, ADMIN_OPT_NO_ADMIN},
    {"disable", no_argument, NULL, ADMIN_OPT_DISABLE},
    {"enable", no_argument, NULL, ADMIN_OPT_ENABLE},
    {"group", required_argument, NULL, ADMIN_OPT_GROUP},
    {"display-name", required_argument, NULL, ADMIN_OPT_DISPLAY_NAME},
    {"email", required_argument, NULL, ADMIN_OPT_EMAIL},
    {"unix-user", required_argument, NULL, ADMIN_OPT_UNIX_USER},
    {"help", no_argument, NULL, ADMIN_OPT_HELP},
    {NULL, 0, NULL, 0},
};

static const char *admin_user_opt_name(int val)
{
	for (const struct option *o = admin_user_opts; o->name; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

/* Flags that set a string field, shared by create and update. */
static const struct {
	int opt;
	const char *flag, *field;
	bool create_only;
} admin_user_strings[] = {
    {ADMIN_OPT_DISPLAY_NAME, "--display-name", "display_name", false},
    {ADMIN_OPT_EMAIL, "--email", "email", false},
    {ADMIN_OPT_UNIX_USER, "--unix-user", "unix_user", true},
};

/* Flags that set a boolean field, and which of them each command takes. */
static const struct {
	int opt;
	const char *flag, *field;
	bool value, create, update;
} admin_user_bools[] = {
    {ADMIN_OPT_ADMIN, "--admin", "admin", true, true, true},
    {ADMIN_OPT_NO_ADMIN, "--no-admin", "admin", false, false, true},
    {ADMIN_OPT_DISABLE, "--disable", "disabled", true, false, true},
    {ADMIN_OPT_ENABLE, "--enable", "disabled", false, false, true},
};

/* Parse create/update flags into body and *want_password. -1 to go on,
 * else the exit status (0 after --help, 2 after a usage error). */
static int admin_user_flags(int argc, char **argv, bool create, const char *usage, json_t *body,
			    bool *want_password)
{
	json_t *groups = NULL;
	int ch, rc = 2;
	optind = 0;
	while ((ch = output_getopt(argc, argv, admin_user_opts)) != -1) {
		bool known = false;
		if (ch == ADMIN_OPT_HELP) {
			printf("usage: kaon %s\n", usage);
			rc = 0;
			goto out;
		}
		if (ch == ADMIN_OPT_PASSWORD) {
			*want_password = known = true;
		} else if (ch == ADMIN_OPT_GROUP) {
			if (!groups)
				groups = json_array();
			json_t *g = json_string(optarg);
			if (!g) {
				output_usage(usage, "--group: not valid UTF-8 text");
				goto out;
			}
			json_array_append_new(groups, g);
			known = true;
		}
		for (size_t i = 0; i < sizeof admin_user_strings / sizeof admin_user_strings[0];
		     i++) {
			if (ch != admin_user_strings[i].opt ||
			    (admin_user_strings[i].create_only && !create))
				continue;
			if (admin_set_string(body, admin_user_strings[i].field, optarg) < 0) {
				output_usage(usage, "%s: not valid UTF-8 text",
					     admin_user_strings[i].flag);
				goto out;
			}
			known = true;
		}
		for (size_t i = 0; i < sizeof admin_user_bools / sizeof admin_user_bools[0]; i++) {
			if (ch != admin_user_bools[i].opt ||
			    !(create ? admin_user_bools[i].create : admin_user_bools[i].update))
				continue;
			json_t *old = json_object_get(body, admin_user_bools[i].field);
			if (old && json_is_true(old) != admin_user_bools[i].value) {
				output_usage(usage, "%s contradicts an earlier flag",
					     admin_user_bools[i].flag);
				goto out;
			}
			json_object_set_new(body, admin_user_bools[i].field,
					    json_boolean(admin_user_bools[i].value));
			known = true;
		}
		if (!known) {
			if (ch != '?')
				output_fail("--%s does not apply to 'admin users %s'",
					    admin_user_opt_name(ch), create ? "create" : "update");
			output_usage(usage, NULL);
			goto out;
		}
	}
	if (argc - optind != 1) {
		output_usage(usage,
			     argc == optind ? "missing the user's NAME" : "too many arguments");
		goto out;
	}
	if (groups) {
		json_object_set_new(body, "groups", groups);
		groups = NULL;
	}
	rc = -1;
out:
	json_decref(groups);
	return rc;
}

/* create and update: flags, optional password, then POST or PATCH. */
static int admin_user_write(int argc, char **argv, bool create)
{
	const char *usage = create ? admin_users_create_usage : admin_users_update_usage;
	json_t *body = json_object();
	bool want_password = false;
	char *password = NULL, *cause = NULL, *path = NULL;
	int rc = admin_user_flags(argc, argv, create, usage, body, &want_password);
	if (rc >= 0)
		goto out;
	const char *name = argv[optind];
	if (create && admin_set_string(body, "username", name) < 0) {
		rc = output_usage(usage, "NAME is not valid UTF-8 text");
		goto out;
	}
	if (!create && !want_password && json_object_size(body) == 0) {
		rc = output_usage(usage, "nothing to update: give at least one flag");
		goto out;
	}
	if (want_password) {
		if (admin_new_password(name, &password, &cause) < 0) {
			rc = output_fail_cause(cause);
			goto out;
		}
		if (admin_set_string(body, "password", password) < 0) {
			rc = output_fail("the password is not valid UTF-8 text");
			goto out;
		}
	}
	path = create ? xstrdup("/api/v1/users") : admin_path("users", name);
	rc = admin_write(create ? "POST" : "PATCH", path, body, create ? "Created" : "Updated",
			 "user", name);
	if (rc == 0 && create && !want_password)
		printf("It has no password yet: set one with "
		       "'kaon admin users update %s --password-stdin'.\n",
		       name);
out:
	output_secret_wipe(body, "password");
	output_secret_free(password);
	free(path);
	json_decref(body);
	return rc;
}

static int admin_users_create(int argc, char **argv)
{
	return admin_user_write(argc, argv, true);
}

static int admin_users_update(int argc, char **argv)
{
	return admin_user_write(argc, argv, false);
}

static int admin_users_delete(int argc, char **argv)
{
	return admin_delete(argc, argv, admin_users_delete_usage, "users", "user");
}

/* ---- groups ------------------------------------------------------------- */

enum admin_unit { ADMIN_COUNT, ADMIN_SIZE_MB, ADMIN_SECONDS };

/* The limits, in the order listings show them; the booking limits (no
 * label) only in `show`, to keep the list within a terminal's width. */
static const struct admin_limit {
	const char *flag, *field, *label;
	enum admin_unit unit;
} admin_limits[] = {
    {"--max-gpus", "max_gpus", "GPUS", ADMIN_COUNT},
    {"--max-cpus", "max_cpus", "CPUS", ADMIN_COUNT},
    {"--max-mem", "max_mem_mb", "MEM", ADMIN_SIZE_MB},
    {"--max-walltime", "max_walltime_s", "WALLTIME", ADMIN_SECONDS},
    {"--max-jobs", "max_jobs", "JOBS", ADMIN_COUNT},
    {"--max-sessions", "max_sessions", "SESSIONS", ADMIN_COUNT},
    {"--resv-max-gpus", "resv_max_gpus", NULL, ADMIN_COUNT},
    {"--resv-max-length", "resv_max_s", NULL, ADMIN_SECONDS},
    {"--resv-max-ahead", "resv_max_ahead_s", NULL, ADMIN_SECONDS},
    {"--resv-max-active", "resv_max_active", NULL, ADMIN_COUNT},
};
enum { ADMIN_NLIMITS = sizeof admin_limits / sizeof admin_limits[0] };

enum {
	ADMIN_OPT_DESCRIPTION = 300,
	ADMIN_OPT_WEIGHT,
	ADMIN_OPT_APPROVAL,
	ADMIN_OPT_LIMIT, /* + index into admin_limits */
};

static const struct option admin_group_opts[] = {
    {"description", required_argument, NULL, ADMIN_OPT_DESCRIPTION},
    {"weight", required_argument, NULL, ADMIN_OPT_WEIGHT},
    {"max-gpus", required_argument, NULL, ADMIN_OPT_LIMIT + 0},
    {"max-cpus", required_argument, NULL, ADMIN_OPT_LIMIT + 1},
    {"max-mem", required_argument, NULL, ADMIN_OPT_LIMIT + 2},
    {"max-walltime", required_argument, NULL, ADMIN_OPT_LIMIT + 3},
    {"max-jobs", required_argument, NULL, ADMIN_OPT_LIMIT + 4},
    {"max-sessions", required_argument, NULL, ADMIN_OPT_LIMIT + 5},
    {"resv-max-gpus", required_argument, NULL, ADMIN_OPT_LIMIT + 6},
    {"resv-max-length", required_argument, NULL, ADMIN_OPT_LIMIT + 7},
    {"resv-max-ahead", required_argument, NULL, ADMIN_OPT_LIMIT + 8},
    {"resv-max-active", required_argument, NULL, ADMIN_OPT_LIMIT + 9},
    {"resv-approval", required_argument, NULL, ADMIN_OPT_APPROVAL},
    {"help", no_argument, NULL, ADMIN_OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* A limit's value in its unit; NULL text for a JSON null. */
static const char *admin_limit_text(const struct admin_limit *l, const json_t *v, const char *none,
				    char *buf)
{
	if (!json_is_integer(v))
		return none;
	int64_t n = json_integer_value(v);
	switch (l->unit) {
	case ADMIN_SIZE_MB:
		return output_size_mb(n, buf);
	case ADMIN_SECONDS:
		return output_duration(n, buf);
	case ADMIN_COUNT:
		break;
	}
	snprintf(buf, OUTPUT_UNIT_LEN, "%lld", (long long)n);
	return buf;
}

/* "none"/"unlimited" → null, else a value in the limit's unit. */
static json_t *admin_limit_parse(const struct admin_limit *l, const char *s)
{
	int64_t v;
	int rc = -1;
	if (strcmp(s, "none") == 0 || strcmp(s, "unlimited") == 0)
		return json_null();
	switch (l->unit) {
	case ADMIN_COUNT:
		rc = output_parse_int(s, 0, INT64_MAX, &v);
		break;
	case ADMIN_SIZE_MB:
		rc = output_parse_size_mb(s, &v);
		break;
	case ADMIN_SECONDS:
		rc = output_parse_duration(s, &v);
		break;
	}
	return rc < 0 ? NULL : json_integer(v);
}

static const char *const admin_limit_examples[] = {
    [ADMIN_COUNT] = "a whole number or 'none'",
    [ADMIN_SIZE_MB] = "a size like 512M, 32G or 1T, or 'none'",
    [ADMIN_SECONDS] = "a duration like 3600, 12h, 2d or 1h30m, or 'none'",
};

static json_t *admin_weight_parse(const char *s)
{
	if (!isdigit((unsigned char)s[0]) && s[0] != '.')
		return NULL;
	char *end;
	errno = 0;
	double w = strtod(s, &end);
	if (errno || *end || !isfinite(w) || w <= 0)
		return NULL;
	return json_real(w);
}

static void admin_group_limit_row(struct output_table *t, const json_t *g)
{
	for (size_t i = 0; i < ADMIN_NLIMITS; i++) {
		char buf[OUTPUT_UNIT_LEN];
		if (!admin_limits[i].label)
			continue;
		output_table_add(t, admin_limit_text(&admin_limits[i],
						     json_object_get(g, admin_limits[i].field), "-",
						     buf));
	}
}

static int admin_groups_list(int argc, char **argv)
{
	bool as_json = false;
	int rc = output_args(argc, argv, admin_groups_list_usage, 0, &as_json);
	if (rc >= 0)
		return rc;
	json_t *list = NULL;
	if ((rc = admin_call("GET", "/api/v1/groups", NULL, &list)) != 0)
		return rc;
	if (as_json) {
		output_json(list);
		json_decref(list);
		return 0;
	}
	const char *headers[ADMIN_NLIMITS + 4];
	size_t nh = 0;
	headers[nh++] = "NAME";
	for (size_t i = 0; i < ADMIN_NLIMITS; i++)
		if (admin_limits[i].label)
			headers[nh++] = admin_limits[i].label;
	headers[nh++] = "WEIGHT";
	headers[nh++] = "MEMBERS";
	headers[nh++] = "DESCRIPTION";
	struct output_table *t = output_table_new(headers, nh);
	size_t i;
	json_t *g;
	json_array_foreach(json_object_get(list, "groups"), i, g)
	{
		const char *desc = output_str(g, "description");
		output_table_add(t, output_str(g, "name"));
		admin_group_limit_row(t, g);
		output_table_addf(t, "%g",
				  json_number_value(json_object_get(g, "fairshare_weight")));
		output_table_addf(t, "%lld",
				  (long long)json_integer_value(json_object_get(g, "members")));
		output_table_add(t, desc && *desc ? desc : NULL);
	}
	output_table_print(t, stdout);
	json_decref(list);
	return 0;
}

static void admin_group_print(const json_t *g)
{
	char buf[OUTPUT_UNIT_LEN];
	output_field("name:", output_str(g, "name"));
	output_field("description:", output_str(g, "description"));
	output_field("builtin:", admin_yes_no(g, "builtin"));
	snprintf(buf, sizeof buf, "%lld",
		 (long long)json_integer_value(json_object_get(g, "members")));
	output_field("members:", buf);
	snprintf(buf, sizeof buf, "%g", json_number_value(json_object_get(g, "fairshare_weight")));
	output_field("weight:", buf);
	for (size_t i = 0; i < ADMIN_NLIMITS; i++) {
		const struct admin_limit *l = &admin_limits[i];
		char *key = xasprintf("%s:", l->flag + 2);
		output_field(key,
			     admin_limit_text(l, json_object_get(g, l->field), "unlimited", buf));
		free(key);
	}
	output_field("resv-approval:", admin_yes_no(g, "resv_approval"));
	output_field("created:", output_time(output_str(g, "created_at"), buf));
}

static int admin_groups_show(int argc, char **argv)
{
	bool as_json = false;
	int rc = output_args(argc, argv, admin_groups_show_usage, 1, &as_json);
	if (rc >= 0)
		return rc;
	return admin_show("groups", argv[optind], as_json, admin_group_print);
}

/* Parse create/update flags into body: -1 to go on, else the exit status. */
static int admin_group_flags(int argc, char **argv, const char *usage, json_t *body)
{
	int ch;
	optind = 0;
	while ((ch = output_getopt(argc, argv, admin_group_opts)) != -1) {
		if (ch == ADMIN_OPT_HELP) {
			printf("usage: kaon %s\n", usage);
			return 0;
		} else if (ch == ADMIN_OPT_DESCRIPTION) {
			if (admin_set_string(body, "description", optarg) < 0)
				return output_usage(usage, "--description: not valid UTF-8 text");
		} else if (ch == ADMIN_OPT_WEIGHT) {
			json_t *w = admin_weight_parse(optarg);
			if (!w)
				return output_usage(usage, "--weight: '%s' is not a number above 0",
						    optarg);
			json_object_set_new(body, "fairshare_weight", w);
		} else if (ch == ADMIN_OPT_APPROVAL) {
			bool yes = strcmp(optarg, "yes") == 0, no = strcmp(optarg, "no") == 0;
			if (!yes && !no)
				return output_usage(usage, "--resv-approval: '%s' is not yes or no",
						    optarg);
			json_object_set_new(body, "resv_approval", json_boolean(yes));
		} else if (ch >= ADMIN_OPT_LIMIT && ch < ADMIN_OPT_LIMIT + ADMIN_NLIMITS) {
			const struct admin_limit *l = &admin_limits[ch - ADMIN_OPT_LIMIT];
			json_t *v = admin_limit_parse(l, optarg);
			if (!v)
				return output_usage(usage, "%s: '%s' is not %s", l->flag, optarg,
						    admin_limit_examples[l->unit]);
			json_object_set_new(body, l->field, v);
		} else {
			return output_usage(usage, NULL);
		}
	}
	if (argc - optind != 1)
		return output_usage(usage, argc == optind ? "missing the group's NAME"
							  : "too many arguments");
	return -1;
}

static int admin_group_write(int argc, char **argv, bool create)
{
	const char *usage = create ? admin_groups_create_usage : admin_groups_update_usage;
	json_t *body = json_object();
	char *path = NULL;
	int rc = admin_group_flags(argc, argv, usage, body);
	if (rc >= 0)
		goto out;
	const char *name = argv[optind];
	if (create && admin_set_string(body, "name", name) < 0) {
		rc = output_usage(usage, "NAME is not valid UTF-8 text");
		goto out;
	}
	if (!create && json_object_size(body) == 0) {
		rc = output_usage(usage, "nothing to update: give at least one flag");
		goto out;
	}
	path = create ? xstrdup("/api/v1/groups") : admin_path("groups", name);
	rc = admin_write(create ? "POST" : "PATCH", path, body, create ? "Created" : "Updated",
			 "group", name);
out:
	free(path);
	json_decref(body);
	return rc;
}

static int admin_groups_create(int argc, char **argv)
{
	return admin_group_write(argc, argv, true);
}

static int admin_groups_update(int argc, char **argv)
{
	return admin_group_write(argc, argv, false);
}

static int admin_groups_delete(int argc, char **argv)
{
	return admin_delete(argc, argv, admin_groups_delete_usage, "groups", "group");
}

/* ---- dispatch ------------------------------------------------------------ */

static const struct output_cmd admin_users_cmds[] = {
    {"list", admin_users_list, admin_users_list_usage},
    {"show", admin_users_show, admin_users_show_usage},
    {"create", admin_users_create, admin_users_create_usage},
    {"update", admin_users_update, admin_users_update_usage},
    {"delete", admin_users_delete, admin_users_delete_usage},
};

static const struct output_cmd admin_groups_cmds[] = {
    {"list", admin_groups_list, admin_groups_list_usage},
    {"show", admin_groups_show, admin_groups_show_usage},
    {"create", admin_groups_create, admin_groups_create_usage},
    {"update", admin_groups_update, admin_groups_update_usage},
    {"delete", admin_groups_delete, admin_groups_delete_usage},
};

static int admin_users(int argc, char **argv)
{
	return output_dispatch(admin_users_cmds,
			       sizeof admin_users_cmds / sizeof admin_users_cmds[0], "admin users",
			       argc, argv);
}

static int admin_groups(int argc, char **argv)
{
	return output_dispatch(admin_groups_cmds,
			       sizeof admin_groups_cmds / sizeof admin_groups_cmds[0],
			       "admin groups", argc, argv);
}

static const struct output_cmd admin_cmds[] = {
    {"users", admin_users, "admin users list|show|create|update|delete ..."},
    {"groups", admin_groups, "admin groups list|show|create|update|delete ..."},
    {"--data", NULL, "admin --data DIR ...  offline, no server (see docs/cli.md)"},
};

int cli_admin(int argc, char **argv)
{
	/* `--data DIR` before the subcommand: no server, the data directory
	 * itself (admin_offline.c takes the arguments as they are). */
	for (int i = 1; i < argc && argv[i][0] == '-'; i++)
		if (strcmp(argv[i], "--data") == 0 || strncmp(argv[i], "--data=", 7) == 0)
			return cli_admin_offline(argc, argv);
	return output_dispatch(admin_cmds, sizeof admin_cmds / sizeof admin_cmds[0], "admin", argc,
			       argv);
}
