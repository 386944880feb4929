/*
 * cli/tokens — `kaon tokens list|create|delete`: the caller's own API
 * tokens, for scripts and CI (the token `kaon login` stores is one of
 * them, named cli@HOST).
 *
 * `create` prints the new secret alone on stdout and its description on
 * stderr, so that `TOKEN=$(kaon tokens create ci)` captures just the
 * token; the server shows a secret only once.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "lib/xalloc.h"

static const char tokens_list_usage[] = "tokens list [--json]";
static const char tokens_create_usage[] = "tokens create NAME [--expires-in DURATION] [--json]";
static const char tokens_delete_usage[] = "tokens delete ID";

/* The API's range for expires_in_s (docs/api.md), checked here too so the
 * message can name the flag. */
enum { TOKENS_EXPIRES_MIN_S = 60, TOKENS_EXPIRES_MAX_S = 366 * 86400 };

/* One request with the resolved credentials; 0 or the exit status after
 * the error line. */
static int tokens_call(const char *method, const char *path, json_t *body, json_t **out)
{
	char *cause = NULL;
	return client_call_once(method, path, body, out, &cause) < 0 ? output_fail_cause(cause) : 0;
}

static const char *tokens_never(const char *t, char *buf)
{
	return t ? output_time(t, buf) : "never";
}

static int tokens_list(int argc, char **argv)
{
	bool as_json = false;
	int rc = output_args(argc, argv, tokens_list_usage, 0, &as_json);
	if (rc >= 0)
		return rc;
	json_t *list = NULL;
	if ((rc = tokens_call("GET", "/api/v1/tokens", NULL, &list)) != 0)
		return rc;
	if (as_json) {
		output_json(list);
		json_decref(list);
		return 0;
	}
	static const char *const headers[] = {"ID",	 "NAME",    "PREFIX",
					      "CREATED", "EXPIRES", "LAST USED"};
	struct output_table *t = output_table_new(headers, 6);
	size_t i;
	json_t *tok;
	json_array_foreach(json_object_get(list, "tokens"), i, tok)
	{
		char b1[OUTPUT_UNIT_LEN], b2[OUTPUT_UNIT_LEN], b3[OUTPUT_UNIT_LEN];
		output_table_addf(t, "%lld",
				  (long long)json_integer_value(json_object_get(tok, "id")));
		output_table_add(t, output_str(tok, "name"));
		output_table_add(t, output_str(tok, "prefix"));
		output_table_add(t, output_time(output_str(tok, "created_at"), b1));
		output_table_add(t, tokens_never(output_str(tok, "expires_at"), b2));
		output_table_add(t, tokens_never(output_str(tok, "last_used_at"), b3));
	}
	output_table_print(t, stdout);
	json_decref(list);
	return 0;
}

static int tokens_create(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"expires-in", required_argument, NULL, 'e'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool as_json = false;
	int64_t expires = -1;
	int ch;
	optind = 0;
	while ((ch = output_getopt(argc, argv, opts)) != -1) {
		switch (ch) {
		case 'e':
			if (output_parse_duration(optarg, &expires) < 0)
				return output_usage(tokens_create_usage,
						    "--expires-in: '%s' is not a duration like "
						    "3600, 12h or 30d",
						    optarg);
			if (expires < TOKENS_EXPIRES_MIN_S || expires > TOKENS_EXPIRES_MAX_S)
				return output_usage(tokens_create_usage,
						    "--expires-in: must be from 1m to 366d");
			break;
		case 'j':
			as_json = true;
			break;
		case 'h':
			printf("usage: kaon %s\n", tokens_create_usage);
			return 0;
		default:
			return output_usage(tokens_create_usage, NULL);
		}
	}
	if (argc - optind != 1)
		return output_usage(tokens_create_usage, argc == optind ? "missing the token's NAME"
									: "too many arguments");

	json_t *body = json_pack("{s:s}", "name", argv[optind]);
	if (!body)
		return output_usage(tokens_create_usage, "NAME is not valid UTF-8 text");
	if (expires >= 0)
		json_object_set_new(body, "expires_in_s", json_integer(expires));
	json_t *tok = NULL;
	int rc = tokens_call("POST", "/api/v1/tokens", body, &tok);
	json_decref(body);
	if (rc != 0)
		return rc;
	if (as_json) {
		output_json(tok);
	} else {
		char buf[OUTPUT_UNIT_LEN];
		char *name = output_clean(output_str(tok, "name"));
		const char *exp = output_str(tok, "expires_at");
		fprintf(
		    stderr,
		    "Created token %lld '%s' (expires %s). Store it now: it is not shown again.\n",
		    (long long)json_integer_value(json_object_get(tok, "id")), name,
		    exp ? output_time(exp, buf) : "never");
		fflush(stderr);
		char *secret = output_clean(output_str(tok, "token"));
		printf("%s\n", secret);
		output_secret_free(secret);
		free(name);
	}
	json_decref(tok);
	return 0;
}

static int tokens_delete(int argc, char **argv)
{
	int rc = output_args(argc, argv, tokens_delete_usage, 1, NULL);
	if (rc >= 0)
		return rc;
	int64_t id;
	if (output_parse_int(argv[optind], 1, INT64_MAX, &id) < 0)
		return output_usage(
		    tokens_delete_usage,
		    "'%s' is not a token id (see the ID column of 'kaon tokens list')",
		    argv[optind]);
	char path[64];
	snprintf(path, sizeof path, "/api/v1/tokens/%lld", (long long)id);
	if ((rc = tokens_call("DELETE", path, NULL, NULL)) != 0)
		return rc;
	printf("Deleted token %lld.\n", (long long)id);
	return 0;
}

static const struct output_cmd tokens_cmds[] = {
    {"list", tokens_list, tokens_list_usage},
    {"create", tokens_create, tokens_create_usage},
    {"delete", tokens_delete, tokens_delete_usage},
};

int cli_tokens(int argc, char **argv)
{
	return output_dispatch(tokens_cmds, sizeof tokens_cmds / sizeof tokens_cmds[0], "tokens",
			       argc, argv);
}
