/*
 * cli/whoami — `kaon whoami`: who the stored (or KAON_TOKEN) credentials
 * are on the server, from GET /api/v1/me. The quickest check that the
 * URL, the token and the network all work.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "lib/xalloc.h"

static const char whoami_usage[] = "whoami [--json]";

static void whoami_print(const json_t *me, const char *url)
{
	char *groups = output_join(json_object_get(me, "groups"), ", ");
	json_t *uid = json_object_get(me, "uid");
	const char *unix_user = output_str(me, "unix_user");
	char *unix_line = json_is_integer(uid)
			      ? xasprintf("%s (uid %lld)", unix_user ? unix_user : "-",
					  (long long)json_integer_value(uid))
			      : xstrdup(unix_user ? unix_user : "-");
	output_field("username:", output_str(me, "username"));
	output_field("name:", output_str(me, "display_name"));
	output_field("email:", output_str(me, "email"));
	output_field("groups:", groups);
	output_field("admin:", json_is_true(json_object_get(me, "admin")) ? "yes" : "no");
	output_field("unix user:", unix_line);
	output_field("home:", output_str(me, "home"));
	output_field("server:", url);
	output_field("signed in by:", output_str(me, "auth"));
	free(unix_line);
	free(groups);
}

int cli_whoami(int argc, char **argv)
{
	bool as_json = false;
	int rc = output_args(argc, argv, whoami_usage, 0, &as_json);
	if (rc >= 0)
		return rc;

	struct client *c = NULL;
	json_t *me = NULL;
	char *cause = NULL;
	if (client_open(&c, &cause) < 0 ||
	    client_call(c, "GET", "/api/v1/me", NULL, &me, NULL, &cause) < 0) {
		client_free(c);
		return output_fail_cause(cause);
	}
	if (as_json)
		output_json(me);
	else
		whoami_print(me, client_url(c));
	json_decref(me);
	client_free(c);
	return 0;
}
