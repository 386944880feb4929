/*
 * cli/login — `kaon login` and `kaon logout`.
 *
 * The password is used once: it opens a browser-style session (cookie and
 * CSRF token) only long enough to create an API token, then that session
 * is ended and only the token is stored. A token can be revoked on its own
 * (`kaon logout`, `kaon tokens delete`, the web UI) and never reveals the
 * password, which is why the CLI does not keep the password, nor the
 * cookie.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "lib/xalloc.h"

static const char login_usage[] = "login URL [--username USER] [--password-stdin]";
static const char logout_usage[] = "logout";

enum { LOGIN_TOKEN_NAME_MAX = 64 };

/* "cli@HOST", at most 64 bytes (the API's limit on a token name), so the
 * token list tells which machine each CLI token lives on. */
static char *login_token_name(void)
{
	char host[256];
	if (gethostname(host, sizeof host) < 0 || !host[0])
		snprintf(host, sizeof host, "unknown");
	host[sizeof host - 1] = '\0';
	return xasprintf("cli@%.*s", LOGIN_TOKEN_NAME_MAX - 4, host);
}

/* Revoke the token c sends: GET /me names its id (token_id), then delete
 * it. 0, or -1 with *cause; *status gets the failed call's HTTP status
 * (0: no answer). */
static int login_revoke(struct client *c, long *status, char **cause)
{
	json_t *me = NULL;
	if (client_call(c, "GET", "/api/v1/me", NULL, &me, status, cause) < 0)
		return -1;
	json_int_t id = json_integer_value(json_object_get(me, "token_id"));
	json_decref(me);
	if (id <= 0) {
		*cause = xstrdup("the server did not say which token this is");
		return -1;
	}
	char path[64];
	snprintf(path, sizeof path, "/api/v1/tokens/%lld", (long long)id);
	return client_call(c, "DELETE", path, NULL, NULL, status, cause);
}

/* Best effort: revoke the token an earlier login stored for the same
 * server, so that logging in again does not pile up live tokens. */
static void login_revoke_old(const struct client_config *old, const char *url)
{
	struct client *c = NULL;
	char *cause = NULL;
	long status;
	if (!old->url || !old->token || strcasecmp(old->url, url) != 0)
		return;
	if (client_new(old->url, old->token, &c, &cause) == 0)
		login_revoke(c, &status, &cause);
	free(cause);
	client_free(c);
}

static int login_ask_username(const char *given, char **out, char **cause)
{
	if (given) {
		*out = xstrdup(given);
		return 0;
	}
	char *inner = NULL;
	if (output_prompt_line("Username: ", out, &inner) < 0) {
		*cause = xasprintf("%s; give it with --username", inner);
		free(inner);
		return -1;
	}
	return 0;
}

/* The password exchange: session, token, end of session. On success
 * *token and *who (the server's spelling of the username) are set. */
static int login_exchange(struct client *c, const char *username, const char *password,
			  char **token, char **who, char **cause)
{
	json_t *session = NULL, *created = NULL;
	json_t *body = json_pack("{s:s,s:s}", "username", username, "password", password);
	char *name = login_token_name();
	int rc = -1;
	if (!body) {
		*cause = xstrdup("the username or password is not valid UTF-8 text");
		goto out;
	}
	if (client_call(c, "POST", "/api/v1/login", body, &session, NULL, cause) < 0)
		goto out;
	const char *csrf = output_str(session, "csrf_token");
	if (!csrf) {
		*cause = xasprintf("%s/api/v1/login: the answer has no csrf_token", client_url(c));
		goto out;
	}
	client_set_csrf(c, csrf);
	output_secret_wipe(body, "password");
	json_decref(body);
	body = json_pack("{s:s}", "name", name);
	if (!body) {
		*cause = xstrdup("the host name is not valid UTF-8 text");
		goto out_logout;
	}
	if (client_call(c, "POST", "/api/v1/tokens", body, &created, NULL, cause) < 0)
		goto out_logout;
	const char *t = output_str(created, "token");
	if (!t || !*t) {
		*cause = xasprintf("%s/api/v1/tokens: the answer has no token", client_url(c));
		goto out_logout;
	}
	*token = xstrdup(t);
	const char *u = output_str(session, "username");
	*who = xstrdup(u ? u : username);
	rc = 0;
out_logout:;
	/* The session was only a means to the token; it would expire on its
	 * own, so a failure to end it is not worth failing the login. */
	char *ignored = NULL;
	client_call(c, "POST", "/api/v1/logout", NULL, NULL, NULL, &ignored);
	free(ignored);
	client_set_csrf(c, NULL);
out:
	output_secret_wipe(body, "password");
	output_secret_wipe(created, "token");
	json_decref(created);
	json_decref(session);
	json_decref(body);
	free(name);
	return rc;
}

int cli_login(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"username", required_argument, NULL, 'u'},
	    {"password-stdin", no_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *username_opt = NULL;
	bool from_stdin = false;
	int ch;
	optind = 0;
	while ((ch = output_getopt(argc, argv, opts)) != -1) {
		switch (ch) {
		case 'u':
			username_opt = optarg;
			break;
		case 'p':
			from_stdin = true;
			break;
		case 'h':
			printf("usage: kaon %s\n", login_usage);
			return 0;
		default:
			return output_usage(login_usage, NULL);
		}
	}
	if (argc - optind != 1)
		return output_usage(login_usage, argc == optind ? "missing the server URL"
								: "too many arguments");

	struct client *c = NULL;
	struct client_config old = {0}, cfg = {0};
	char *username = NULL, *password = NULL, *token = NULL, *who = NULL, *cause = NULL;
	if (client_new(argv[optind], NULL, &c, &cause) < 0)
		goto fail;
	if (login_ask_username(username_opt, &username, &cause) < 0)
		goto fail;
	if (!*username) {
		cause = xstrdup("empty username");
		goto fail;
	}
	if (output_read_password("Password: ", from_stdin, &password, &cause) < 0)
		goto fail;
	if (!*password) {
		cause = xstrdup("empty password");
		goto fail;
	}
	if (login_exchange(c, username, password, &token, &who, &cause) < 0)
		goto fail;

	/* An unreadable old config is replaced, not a reason to fail: the
	 * new token already exists and must be stored. */
	char *ignored = NULL;
	if (client_config_load(&old, &ignored) < 0)
		free(ignored);
	cfg.url = xstrdup(client_url(c));
	cfg.token = xstrdup(token);
	if (client_config_save(&cfg, &cause) < 0)
		goto fail;
	if (!old.token || strcmp(old.token, token) != 0)
		login_revoke_old(&old, cfg.url);
	char *clean = output_clean(who);
	printf("Logged in to %s as %s.\n", cfg.url, clean);
	free(clean);
	if (getenv("KAON_TOKEN") && *getenv("KAON_TOKEN"))
		fprintf(stderr, "kaon: note: KAON_TOKEN is set and overrides the stored token\n");

	client_config_clear(&cfg);
	client_config_clear(&old);
	output_secret_free(token);
	output_secret_free(password);
	free(who);
	free(username);
	client_free(c);
	return 0;
fail:
	client_config_clear(&cfg);
	client_config_clear(&old);
	output_secret_free(token);
	output_secret_free(password);
	free(who);
	free(username);
	client_free(c);
	return output_fail_cause(cause);
}

int cli_logout(int argc, char **argv)
{
	int rc = output_args(argc, argv, logout_usage, 0, NULL);
	if (rc >= 0)
		return rc;

	struct client_config cfg = {0};
	struct client *c = NULL;
	char *cause = NULL;
	long status = 0;
	/* logout is about the stored token: KAON_URL and KAON_TOKEN are not
	 * consulted, and a token given that way is never revoked by surprise. */
	if (client_config_load(&cfg, &cause) < 0)
		goto fail;
	if (!cfg.url || !cfg.token) {
		char *path = client_config_path(&cause);
		if (path)
			cause = xasprintf("not logged in: no token in %s", path);
		free(path);
		goto fail;
	}
	if (client_new(cfg.url, cfg.token, &c, &cause) < 0)
		goto fail;
	bool stale = false;
	if (login_revoke(c, &status, &cause) < 0) {
		/* 401: the server no longer knows the token (revoked elsewhere,
		 * expired): forgetting it is all that is left to do. */
		if (status != 401)
			goto fail;
		free(cause);
		cause = NULL;
		stale = true;
	}
	output_secret_free(cfg.token);
	cfg.token = NULL;
	if (client_config_save(&cfg, &cause) < 0)
		goto fail;
	printf("Logged out of %s%s.\n", cfg.url,
	       stale ? " (the server no longer knew the token)" : "");
	client_free(c);
	client_config_clear(&cfg);
	return 0;
fail:
	client_free(c);
	client_config_clear(&cfg);
	return output_fail_cause(cause);
}
