/*
 * cli/client — the REST client every verb but `server` goes through, and
 * the CLI's own config file. The only module that includes curl.h.
 *
 * Where the server and the token come from:
 *   KAON_URL, KAON_TOKEN   environment; each overrides the config file
 *   config file            $XDG_CONFIG_HOME/kaon/config, else
 *                          $HOME/.config/kaon/config: top-level keys
 *                          `url` and `token`, no section (written by
 *                          `kaon login`, mode 0600 in a 0700 directory)
 * The config file's token is only sent to the config file's url: with
 * KAON_URL naming another server and no KAON_TOKEN, there is no token,
 * rather than a credential sent where it does not belong.
 *
 * HTTPS is verified against the system's CAs, or against the bundle in
 * KAON_CA_FILE (for a server with a self-signed or private CA).
 * Verification is never turned off.
 *
 * Calls block until the server answers (connect timeout 15 s, whole
 * request 300 s). A response body is at most CLIENT_MAX_RESPONSE bytes.
 * One struct client is one curl handle: connections and the cookies the
 * server sets (the login session) live as long as it does.
 */
#ifndef KAON_CLI_CLIENT_H
#define KAON_CLI_CLIENT_H

#include <jansson.h>

enum { CLIENT_MAX_RESPONSE = 16 * 1024 * 1024 };

/* The config file's contents; NULL members when absent. */
struct client_config {
	char *url;
	char *token;
};

/* Path of the config file, or NULL with *cause when neither
 * XDG_CONFIG_HOME nor HOME nor the password database says where home is. */
char *client_config_path(char **cause);
/* Read the config file into cfg (zeroed first); a missing file is an empty
 * config. 0, or -1 with *cause naming the file and line. */
int client_config_load(struct client_config *cfg, char **cause);
/* Replace the config file with cfg atomically (mode 0600, directory
 * created 0700). Comments and unknown keys are not kept. 0 or -1. */
int client_config_save(const struct client_config *cfg, char **cause);
void client_config_clear(struct client_config *cfg);

/* Check that url is an absolute http:// or https:// URL without query or
 * fragment; *norm receives it without trailing slashes. 0 or -1. */
int client_url_normalize(const char *url, char **norm, char **cause);

struct client;

/* A client for url (normalised), sending token as a Bearer credential
 * when not NULL. 0, or -1 with *cause. */
int client_new(const char *url, const char *token, struct client **out, char **cause);
/* A client for the server and token resolved from the environment and the
 * config file; -1 with *cause ("not logged in ...") when there is none. */
int client_open(struct client **out, char **cause);
void client_free(struct client *c);

/* The server's base URL, without trailing slash. */
const char *client_url(const struct client *c);
/* Send `X-CSRF-Token: csrf` with every later request (cookie sessions);
 * NULL stops. */
void client_set_csrf(struct client *c, const char *csrf);

/* One request: method ("GET", "POST", "PATCH", "DELETE"), path under the
 * base URL ("/api/v1/me"), an optional JSON body. On a 2xx answer returns
 * 0 and *out gets the parsed body (NULL when empty; the caller decrefs).
 * Otherwise -1 with *cause: the server's error.message for an API error,
 * else a sentence naming the URL. *status (may be NULL) gets the HTTP
 * status, or 0 when no answer came. */
int client_call(struct client *c, const char *method, const char *path, json_t *body, json_t **out,
		long *status, char **cause);

/* client_call, and on an API error (a non-2xx answer) *err gets its
 * parsed body when it is JSON (the caller decrefs), else NULL: for
 * answers that carry more than the message (409 with free windows). */
int client_call_err(struct client *c, const char *method, const char *path, json_t *body,
		    json_t **out, json_t **err, long *status, char **cause);

/* client_open, client_call, client_free: the one request most verbs make. */
int client_call_once(const char *method, const char *path, json_t *body, json_t **out,
		     char **cause);

/* s percent-encoded for use as one path segment; the caller frees. */
char *client_escape(const char *s);

#endif
