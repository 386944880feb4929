/*
 * cli/client — libcurl under the REST client, and the config file that
 * `kaon login` writes (see client.h for where URL and token come from).
 *
 * The options every request shares are set once, on the handle; each call
 * then sets URL, headers, method and body, all of them every time, so that
 * nothing from one request (a body, a method) leaks into the next. What the
 * handle keeps between calls — open connections and the cookie store — is
 * exactly what should carry over between the calls of one verb.
 * (curl_easy_reset would do the clearing for us, but setting
 * CURLOPT_COOKIEFILE again after each reset leaks in libcurl 7.88.)
 */
#include "cli/client.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsio.h"
#include "lib/ini.h"
#include "lib/xalloc.h"

#ifndef KAON_VERSION
#define KAON_VERSION "0.1.0"
#endif

enum {
	CLIENT_CONFIG_MAX = 64 * 1024,
	CLIENT_CONNECT_TIMEOUT_S = 15,
	CLIENT_TIMEOUT_S = 300,
};

struct client {
	CURL *curl;
	char *url;   /* no trailing slash */
	char *token; /* NULL: none */
	char *csrf;  /* NULL: none */
	char errbuf[CURL_ERROR_SIZE];
};

static void client_setup_handle(struct client *c);

/* ---- config file ------------------------------------------------------ */

char *client_config_path(char **cause)
{
	/* XDG: a relative XDG_CONFIG_HOME is invalid and must be ignored. */
	const char *xdg = getenv("XDG_CONFIG_HOME");
	if (xdg && xdg[0] == '/')
		return xasprintf("%s/kaon/config", xdg);
	const char *home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : NULL;
	}
	if (!home || !*home) {
		*cause =
		    xstrdup("cannot find the config file: neither XDG_CONFIG_HOME nor HOME is set");
		return NULL;
	}
	return xasprintf("%s/.config/kaon/config", home);
}

static int client_config_key(void *ctx, const char *section, const char *key, const char *value,
			     char **cause)
{
	struct client_config *cfg = ctx;
	char **slot = NULL;
	/* Keys in sections, and keys other than these, are left for later
	 * versions rather than refused. */
	if (section[0] != '\0')
		return 0;
	if (strcmp(key, "url") == 0)
		slot = &cfg->url;
	else if (strcmp(key, "token") == 0)
		slot = &cfg->token;
	else
		return 0;
	if (*slot) {
		*cause = xasprintf("'%s' given twice", key);
		return -1;
	}
	if (*value)
		*slot = xstrdup(value);
	return 0;
}

int client_config_load(struct client_config *cfg, char **cause)
{
	memset(cfg, 0, sizeof *cfg);
	char *text = NULL, *inner = NULL;
	size_t len;
	char *path = client_config_path(cause);
	if (!path)
		return -1;
	int rc = fsio_read_file(path, CLIENT_CONFIG_MAX, &text, &len);
	if (rc == -ENOENT) {
		free(path);
		return 0;
	}
	if (rc < 0) {
		*cause = xasprintf("cannot read %s: %s", path, strerror(-rc));
		goto fail;
	}
	if (ini_parse(text, len, client_config_key, cfg, &inner) < 0) {
		*cause = xasprintf("%s: %s", path, inner);
		goto fail;
	}
	explicit_bzero(text, len);
	free(text);
	free(path);
	return 0;
fail:
	free(inner);
	if (text)
		explicit_bzero(text, len);
	free(text);
	free(path);
	client_config_clear(cfg);
	return -1;
}

/* A value the INI parser reads back unchanged: printable, no line break,
 * no surrounding space. */
static bool client_config_value_ok(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || isspace((unsigned char)v[0]) || isspace((unsigned char)v[n - 1]))
		return false;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

int client_config_save(const struct client_config *cfg, char **cause)
{
	char *path = client_config_path(cause);
	if (!path)
		return -1;
	char *dir = xstrdup(path);
	*strrchr(dir, '/') = '\0';
	char *text = NULL;
	int rc;
	if ((cfg->url && !client_config_value_ok(cfg->url)) ||
	    (cfg->token && !client_config_value_ok(cfg->token))) {
		*cause =
		    xstrdup("refusing to write a URL or token with spaces or control characters");
		goto fail;
	}
	if ((rc = fsio_mkdir_p(dir, 0700)) < 0) {
		*cause = xasprintf("cannot create %s: %s", dir, strerror(-rc));
		goto fail;
	}
	/* An existing directory may be wider open; the token is in there. */
	struct stat st;
	if (stat(dir, &st) == 0 && (st.st_mode & 077) && st.st_uid == getuid())
		chmod(dir, 0700);
	text = xasprintf("# kaon CLI configuration, written by 'kaon login' (see docs/cli.md).\n"
			 "%s%s%s%s%s%s",
			 cfg->url ? "url = " : "", cfg->url ? cfg->url : "", cfg->url ? "\n" : "",
			 cfg->token ? "token = " : "", cfg->token ? cfg->token : "",
			 cfg->token ? "\n" : "");
	if ((rc = fsio_write_atomic(path, text, strlen(text), 0600)) < 0) {
		*cause = xasprintf("cannot write %s: %s", path, strerror(-rc));
		goto fail;
	}
	explicit_bzero(text, strlen(text));
	free(text);
	free(dir);
	free(path);
	return 0;
fail:
	if (text)
		explicit_bzero(text, strlen(text));
	free(text);
	free(dir);
	free(path);
	return -1;
}

void client_config_clear(struct client_config *cfg)
{
	free(cfg->url);
	if (cfg->token)
		explicit_bzero(cfg->token, strlen(cfg->token));
	free(cfg->token);
	memset(cfg, 0, sizeof *cfg);
}

/* ---- URLs --------------------------------------------------------------- */

int client_url_normalize(const char *url, char **norm, char **cause)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *part = NULL;
	int rc = -1;
	if (!u) {
		*cause = xstrdup("curl_url() failed: out of memory");
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			goto bad;
	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
		*cause = xasprintf("'%s' is not an http:// or https:// URL", url);
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		goto bad;
	if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK) {
		*cause =
		    xasprintf("'%s': a user name or password in the URL is not supported", url);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK) {
		*cause = xasprintf("'%s': the server URL cannot have a query or fragment", url);
		goto out;
	}
	size_t len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		len--;
	*norm = xstrndup(url, len);
	rc = 0;
	goto out;
bad:
	*cause = xasprintf("'%s' is not a valid URL", url);
out:
	curl_free(part);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

char *client_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(strlen(s) * 3 + 1);
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return out;
}

/* ---- the client ----------------------------------------------------------- */

int client_new(const char *url, const char *token, struct client **out, char **cause)
{
	char *norm = NULL;
	if (client_url_normalize(url, &norm, cause) < 0)
		return -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		*cause = xstrdup("curl_global_init() failed");
		free(norm);
		return -1;
	}
	struct client *c = xcalloc(1, sizeof *c);
	c->curl = curl_easy_init();
	if (!c->curl) {
		*cause = xstrdup("curl_easy_init() failed");
		free(norm);
		free(c);
		curl_global_cleanup();
		return -1;
	}
	c->url = norm;
	c->token = token ? xstrdup(token) : NULL;
	client_setup_handle(c);
	*out = c;
	return 0;
}

static const char *client_env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

/* Whether two server URLs name the same server, ignoring trailing slashes
 * and the case of scheme and host. */
static bool client_url_same(const char *a, const char *b)
{
	char *na = NULL, *nb = NULL, *cause = NULL;
	bool same = false;
	if (client_url_normalize(a, &na, &cause) == 0 && client_url_normalize(b, &nb, &cause) == 0)
		same = strcasecmp(na, nb) == 0;
	free(cause);
	free(na);
	free(nb);
	return same;
}

int client_open(struct client **out, char **cause)
{
	const char *env_url = client_env("KAON_URL");
	const char *env_token = client_env("KAON_TOKEN");
	struct client_config cfg = {0};
	/* With both in the environment the config file is not even read, so
	 * a broken one cannot get in the way of a script. */
	if (!(env_url && env_token) && client_config_load(&cfg, cause) < 0)
		return -1;
	const char *url = env_url ? env_url : cfg.url;
	const char *token = env_token;
	if (!token && cfg.token && (!env_url || (cfg.url && client_url_same(env_url, cfg.url))))
		token = cfg.token;
	int rc = -1;
	if (!url)
		*cause =
		    xstrdup("not logged in: run 'kaon login URL', or set KAON_URL and KAON_TOKEN");
	else if (!token)
		*cause = xasprintf("no API token for %s: run 'kaon login %s', or set KAON_TOKEN",
				   url, url);
	else
		rc = client_new(url, token, out, cause);
	client_config_clear(&cfg);
	return rc;
}

void client_free(struct client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	curl_global_cleanup();
	free(c->url);
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	free(c->csrf);
	free(c);
}

const char *client_url(const struct client *c)
{
	return c->url;
}

void client_set_csrf(struct client *c, const char *csrf)
{
	free(c->csrf);
	c->csrf = csrf ? xstrdup(csrf) : NULL;
}

/* ---- requests ----------------------------------------------------------- */

/* The response body, capped when it is created (CONVENTIONS: every buffer
 * fed from the network has a hard maximum). */
struct client_buf {
	char *data;
	size_t len, cap;
	bool too_big;
};

static size_t client_on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct client_buf *b = userdata;
	size_t n = size * nmemb;
	if (n > CLIENT_MAX_RESPONSE - b->len) {
		b->too_big = true;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static struct curl_slist *client_header(struct curl_slist *list, const char *fmt, const char *v)
{
	char *h = xasprintf(fmt, v);
	struct curl_slist *next = curl_slist_append(list, h);
	explicit_bzero(h, strlen(h));
	free(h);
	if (!next) {
		fputs("kaon: curl_slist_append() failed: out of memory\n", stderr);
		abort();
	}
	return next;
}

/* The options every request of c shares. */
static void client_setup_handle(struct client *c)
{
	CURL *h = c->curl;
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)CLIENT_CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)CLIENT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "kaon-cli/" KAON_VERSION);
	/* The in-memory cookie engine: login's session cookie is kept for
	 * the calls after it and never written anywhere. */
	curl_easy_setopt(h, CURLOPT_COOKIEFILE, "");
	const char *ca = client_env("KAON_CA_FILE");
	if (ca)
		curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, client_on_data);
}

/* Set URL, headers, method and body of one request. Returns the header
 * list, to free after the transfer. */
static struct curl_slist *client_setup(struct client *c, const char *method, const char *url,
				       const char *payload, struct client_buf *buf)
{
	CURL *h = c->curl;
	c->errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, buf);

	struct curl_slist *hdrs = NULL;
	hdrs = client_header(hdrs, "Accept: %s", "application/json");
	/* No "Expect: 100-continue" round trip before larger bodies. */
	hdrs = client_header(hdrs, "Expect:%s", "");
	if (c->token)
		hdrs = client_header(hdrs, "Authorization: Bearer %s", c->token);
	if (c->csrf)
		hdrs = client_header(hdrs, "X-CSRF-Token: %s", c->csrf);
	/* POSTFIELDS makes a POST and HTTPGET a GET (dropping any body);
	 * CUSTOMREQUEST then renames the method, or is cleared. */
	if (payload) {
		hdrs = client_header(hdrs, "Content-Type: %s", "application/json");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
	bool plain = strcmp(method, payload ? "POST" : "GET") == 0;
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, plain ? NULL : method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	return hdrs;
}

static char *client_transport_error(struct client *c, CURLcode cc, const char *url,
				    const struct client_buf *buf)
{
	if (buf->too_big)
		return xasprintf("the answer from %s is larger than %d MiB", url,
				 CLIENT_MAX_RESPONSE / (1024 * 1024));
	const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc);
	const char *hint = "";
	if (cc == CURLE_SSL_CACERT_BADFILE)
		hint = " (check KAON_CA_FILE)";
	else if (cc == CURLE_PEER_FAILED_VERIFICATION)
		hint = " (for a private CA, set KAON_CA_FILE to its certificate bundle)";
	return xasprintf("cannot reach %s: %s%s", url, why, hint);
}

static char *client_api_error(struct client *c, const char *method, const char *url, long code,
			      json_t *j)
{
	const char *msg =
	    json_string_value(json_object_get(json_object_get(j, "error"), "message"));
	if (msg && *msg) {
		if (code == 401 && c->token)
			return xasprintf("%s; run 'kaon login %s' for a new token", msg, c->url);
		return xstrdup(msg);
	}
	if (code >= 300 && code < 400) {
		char *to = NULL;
		if (curl_easy_getinfo(c->curl, CURLINFO_REDIRECT_URL, &to) == CURLE_OK && to)
			return xasprintf("%s %s: the server redirects to %s; log in with that URL",
					 method, url, to);
	}
	return xasprintf("%s %s: the server answered HTTP %ld", method, url, code);
}

int client_call(struct client *c, const char *method, const char *path, json_t *body, json_t **out,
		long *status, char **cause)
{
	return client_call_err(c, method, path, body, out, NULL, status, cause);
}

int client_call_err(struct client *c, const char *method, const char *path, json_t *body,
		    json_t **out, json_t **err, long *status, char **cause)
{
	char *url = xasprintf("%s%s", c->url, path);
	char *payload = NULL;
	struct client_buf buf = {0};
	struct curl_slist *hdrs;
	json_error_t jerr;
	json_t *j = NULL;
	long code = 0;
	int rc = -1;
	if (out)
		*out = NULL;
	if (err)
		*err = NULL;
	if (status)
		*status = 0;
	if (body) {
		payload = json_dumps(body, JSON_COMPACT);
		if (!payload) {
			*cause = xasprintf("%s %s: cannot encode the request body", method, url);
			goto out;
		}
	} else if (strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0) {
		payload = xstrdup("");
	}
	hdrs = client_setup(c, method, url, payload, &buf);
	CURLcode cc = curl_easy_perform(c->curl);
	curl_slist_free_all(hdrs);
	if (cc != CURLE_OK) {
		*cause = client_transport_error(c, cc, url, &buf);
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
	if (status)
		*status = code;
	if (buf.len > 0)
		j = json_loadb(buf.data, buf.len, 0, &jerr);
	if (code < 200 || code > 299) {
		*cause = client_api_error(c, method, url, code, j);
		if (err) {
			*err = j;
			j = NULL;
		}
		goto out;
	}
	if (buf.len > 0 && !j) {
		*cause = xasprintf("%s %s: the answer is not JSON (%s)", method, url, jerr.text);
		goto out;
	}
	if (out) {
		*out = j;
		j = NULL;
	}
	rc = 0;
out:
	json_decref(j);
	if (buf.data)
		explicit_bzero(buf.data, buf.len); /* may hold a new token */
	free(buf.data);
	if (payload)
		explicit_bzero(payload, strlen(payload)); /* may hold a password */
	free(payload);
	free(url);
	return rc;
}

int client_call_once(const char *method, const char *path, json_t *body, json_t **out, char **cause)
{
	struct client *c = NULL;
	int rc = client_open(&c, cause);
	if (rc == 0)
		rc = client_call(c, method, path, body, out, NULL, cause);
	client_free(c);
	return rc;
}
