/*
 * cli/logs — `kaon logs [-f] [--stderr] ID`: a job's output.
 *
 * Without -f: GET /api/v1/jobs/ID/log?stream=S&offset=N, text/plain,
 * written to stdout as it arrives; while the answer carries X-Log-Offset
 * and had bytes in it, the next offset is asked for too, so a server that
 * answers in pieces still gives the whole log.
 *
 * With -f: the same route with follow=1 is a Server-Sent Events stream
 * (cli/sse.h), parsed as it arrives: `log` events carry text, `end` says
 * the job ended and everything was sent. When the connection drops before
 * `end` (a daemon restart, a proxy's idle timeout), it reconnects with
 * `Last-Event-ID:` (and offset=) the offset after the last byte written,
 * so nothing is lost or printed twice; it gives up after LOGS_GIVE_UP_S
 * without a successful answer.
 *
 * The log is the job's own output and is written as it is (like `cat` on
 * the file): no control characters are replaced, so progress bars work.
 *
 * Why this file has its own curl handle: client.h answers parsed JSON
 * bodies, with a whole-request timeout, while a log is raw bytes streamed
 * for as long as the job runs. The credentials are resolved exactly as
 * client_open() does (logs_credentials); a streaming call in client.c
 * would let both go.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "cli/sse.h"
#include "lib/xalloc.h"

#ifndef KAON_VERSION
#define KAON_VERSION "0.1.0"
#endif

static const char logs_usage[] = "logs [-f|--follow] [--stderr] ID";

enum {
	LOGS_CONNECT_TIMEOUT_S = 15,
	LOGS_ERROR_MAX = 64 * 1024,	  /* an error answer's body, kept for its message */
	LOGS_EVENT_MAX = 8 * 1024 * 1024, /* one SSE line or event */
	LOGS_GIVE_UP_S = 300,		  /* reconnecting without an answer */
	LOGS_BACKOFF_MAX_S = 8,
};

struct logs {
	CURL *curl;
	char *url; /* the server, no trailing slash */
	char *token;
	char errbuf[CURL_ERROR_SIZE];
	int64_t job;
	const char *stream; /* "stdout" or "stderr" */
	bool follow;

	/* the transfer in progress */
	long status;   /* 0 until the first body byte */
	bool sse_type; /* Content-Type: text/event-stream */
	int64_t header_offset;
	bool have_header_offset;
	char *err; /* a non-2xx body, at most LOGS_ERROR_MAX */
	size_t err_len;
	uint64_t got; /* log bytes written by this transfer */
	char *fatal;  /* an error found in a callback: no retry */

	/* following */
	struct sse *sse;
	int64_t pos; /* the offset after the last byte written */
	bool ended;
};

/* ---- credentials, as client_open() finds them ---------------------------- */

static const char *logs_env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

/* KAON_URL / KAON_TOKEN over the config file, and the config file's token
 * only for the config file's URL (client.h). 0, or -1 with *cause. */
static int logs_credentials(struct logs *l, char **cause)
{
	const char *env_url = logs_env("KAON_URL"), *env_token = logs_env("KAON_TOKEN");
	struct client_config cfg = {0};
	char *a = NULL, *b = NULL, *inner = NULL;
	int rc = -1;
	if (!(env_url && env_token) && client_config_load(&cfg, cause) < 0)
		return -1;
	const char *url = env_url ? env_url : cfg.url;
	const char *token = env_token;
	if (!token && cfg.token && !env_url)
		token = cfg.token;
	if (!token && cfg.token && env_url && cfg.url &&
	    client_url_normalize(env_url, &a, &inner) == 0 &&
	    client_url_normalize(cfg.url, &b, &inner) == 0 && strcasecmp(a, b) == 0)
		token = cfg.token;
	if (!url) {
		*cause =
		    xstrdup("not logged in: run 'kaon login URL', or set KAON_URL and KAON_TOKEN");
		goto out;
	}
	if (!token) {
		*cause = xasprintf("no API token for %s: run 'kaon login %s', or set KAON_TOKEN",
				   url, url);
		goto out;
	}
	if (client_url_normalize(url, &l->url, cause) < 0)
		goto out;
	l->token = xstrdup(token);
	rc = 0;
out:
	free(inner);
	free(a);
	free(b);
	client_config_clear(&cfg);
	return rc;
}

/* ---- one transfer -------------------------------------------------------- */

static size_t logs_on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct logs *l = userdata;
	size_t n = size * nitems;
	static const char off[] = "x-log-offset:", type[] = "content-type:";
	if (n > sizeof off - 1 && strncasecmp(buf, off, sizeof off - 1) == 0) {
		char num[32];
		size_t k = n - (sizeof off - 1);
		const char *v = buf + sizeof off - 1;
		while (k > 0 && (*v == ' ' || *v == '\t'))
			v++, k--;
		while (k > 0 && (v[k - 1] == '\r' || v[k - 1] == '\n' || v[k - 1] == ' '))
			k--;
		int64_t o;
		if (k > 0 && k < sizeof num) {
			memcpy(num, v, k);
			num[k] = '\0';
			if (output_parse_int(num, 0, INT64_MAX, &o) == 0) {
				l->header_offset = o;
				l->have_header_offset = true;
			}
		}
	} else if (n > sizeof type - 1 && strncasecmp(buf, type, sizeof type - 1) == 0) {
		l->sse_type = memmem(buf, n, "text/event-stream", 17) != NULL;
	}
	return n;
}

static int logs_write(struct logs *l, const char *p, size_t n)
{
	if (n > 0 && fwrite(p, 1, n, stdout) != n) {
		l->fatal = xasprintf("cannot write the log: %s", strerror(errno));
		return -1;
	}
	l->got += n;
	return 0;
}

/* A `log` event: {"offset", "text"} with id (and "offset") the byte offset
 * after the chunk. An event ending at or before l->pos was written
 * already and is skipped: the server resumes exactly at Last-Event-ID, so
 * that is the only overlap there can be. (The text cannot be cut at a
 * byte offset anyway: the server replaces invalid UTF-8 with U+FFFD, so
 * its length need not match the raw bytes it stands for.) */
static int logs_on_log(struct logs *l, const struct sse_event *ev)
{
	json_error_t jerr;
	json_t *d = json_loadb(ev->data, ev->data_len, JSON_ALLOW_NUL, &jerr);
	json_t *text = json_object_get(d, "text"), *off = json_object_get(d, "offset");
	int64_t end;
	int rc = 0;
	if (!json_is_string(text)) {
		l->fatal = xasprintf("job %lld: a log event without text: %s", (long long)l->job,
				     d ? "no \"text\" string" : jerr.text);
		rc = -1;
	} else if (!(ev->id && output_parse_int(ev->id, 0, INT64_MAX, &end) == 0) &&
		   !(json_is_integer(off) && (end = json_integer_value(off)) >= 0)) {
		l->fatal = xasprintf("job %lld: a log event without an offset", (long long)l->job);
		rc = -1;
	} else if (end > l->pos) {
		rc = logs_write(l, json_string_value(text), json_string_length(text));
		fflush(stdout);
		l->pos = end;
	}
	json_decref(d);
	return rc;
}

static int logs_on_event(void *ctx, const struct sse_event *ev)
{
	struct logs *l = ctx;
	if (strcmp(ev->type, "log") == 0)
		return logs_on_log(l, ev) < 0 ? 1 : 0;
	if (strcmp(ev->type, "end") == 0) {
		l->ended = true;
		return 1;
	}
	return 0; /* other events: for later versions */
}

static size_t logs_on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct logs *l = userdata;
	size_t n = size * nmemb;
	if (l->status == 0)
		curl_easy_getinfo(l->curl, CURLINFO_RESPONSE_CODE, &l->status);
	if (l->status < 200 || l->status > 299) {
		size_t keep = n < LOGS_ERROR_MAX - l->err_len ? n : LOGS_ERROR_MAX - l->err_len;
		memcpy(l->err + l->err_len, ptr, keep);
		l->err_len += keep;
		return n;
	}
	if (!l->follow)
		return logs_write(l, ptr, n) < 0 ? 0 : n;
	if (!l->sse_type) {
		l->fatal = xasprintf("job %lld: the server answered the log with something other "
				     "than an event stream",
				     (long long)l->job);
		return 0;
	}
	char *cause = NULL;
	int rc = sse_feed(l->sse, ptr, n, &cause);
	if (rc < 0)
		l->fatal = cause;
	return rc == 0 ? n : 0; /* 0 stops curl: the end, or an error */
}

static void logs_setup_handle(struct logs *l)
{
	CURL *h = l->curl;
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, l->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)LOGS_CONNECT_TIMEOUT_S);
	/* No whole-transfer timeout: a followed job may run for days. Dead
	 * peers are found by TCP keep-alive instead. */
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 0L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "kaon-cli/" KAON_VERSION);
	const char *ca = logs_env("KAON_CA_FILE");
	if (ca)
		curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, logs_on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, l);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, logs_on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, l);
}

static struct curl_slist *logs_header(struct curl_slist *list, char *h)
{
	struct curl_slist *next = curl_slist_append(list, h);
	explicit_bzero(h, strlen(h));
	free(h);
	if (!next) {
		fputs("kaon: curl_slist_append() failed: out of memory\n", stderr);
		abort();
	}
	return next;
}

/* The message for a non-2xx answer, as client.c words it. */
static char *logs_api_error(struct logs *l, const char *url)
{
	json_t *j = l->err_len ? json_loadb(l->err, l->err_len, 0, NULL) : NULL;
	const char *msg =
	    json_string_value(json_object_get(json_object_get(j, "error"), "message"));
	char *s;
	if (msg && *msg && l->status == 401)
		s = xasprintf("%s; run 'kaon login %s' for a new token", msg, l->url);
	else if (msg && *msg)
		s = xstrdup(msg);
	else
		s = xasprintf("GET %s: the server answered HTTP %ld", url, l->status);
	json_decref(j);
	return s;
}

enum logs_result { LOGS_DONE, LOGS_RETRY, LOGS_FAIL };

/* One GET of the log from offset; *cause says why on RETRY and FAIL. */
static enum logs_result logs_transfer(struct logs *l, int64_t offset, bool resume, char **cause)
{
	char *url =
	    xasprintf("%s/api/v1/jobs/%lld/log?stream=%s&offset=%lld%s", l->url, (long long)l->job,
		      l->stream, (long long)offset, l->follow ? "&follow=1" : "");
	struct curl_slist *hdrs = NULL;
	enum logs_result res = LOGS_FAIL;
	l->status = 0;
	l->sse_type = false;
	l->have_header_offset = false;
	l->err_len = 0;
	l->got = 0;
	l->errbuf[0] = '\0';
	hdrs = logs_header(hdrs,
			   xasprintf("Accept: %s", l->follow ? "text/event-stream" : "text/plain"));
	hdrs = logs_header(hdrs, xasprintf("Authorization: Bearer %s", l->token));
	if (resume)
		hdrs = logs_header(hdrs, xasprintf("Last-Event-ID: %lld", (long long)offset));
	curl_easy_setopt(l->curl, CURLOPT_URL, url);
	curl_easy_setopt(l->curl, CURLOPT_HTTPHEADER, hdrs);
	CURLcode cc = curl_easy_perform(l->curl);
	curl_slist_free_all(hdrs);
	if (l->fatal) {
		*cause = l->fatal;
		l->fatal = NULL;
		goto out;
	}
	if (l->follow && l->ended) {
		res = LOGS_DONE;
		goto out;
	}
	if (cc == CURLE_OK || l->status == 0)
		curl_easy_getinfo(l->curl, CURLINFO_RESPONSE_CODE, &l->status);
	if (l->status != 0 && (l->status < 200 || l->status > 299)) {
		*cause = logs_api_error(l, url);
		/* Worth another try: the server busy or restarting. */
		res = l->status >= 500 || l->status == 429 || l->status == 408 ? LOGS_RETRY
									       : LOGS_FAIL;
		goto out;
	}
	if (cc != CURLE_OK) {
		*cause = xasprintf("cannot reach %s: %s", url,
				   l->errbuf[0] ? l->errbuf : curl_easy_strerror(cc));
		res = LOGS_RETRY;
		goto out;
	}
	if (l->follow) {
		*cause = xasprintf("job %lld: the log stream closed before the job ended",
				   (long long)l->job);
		res = LOGS_RETRY;
		goto out;
	}
	res = LOGS_DONE;
out:
	free(url);
	return res;
}

/* ---- the two modes ---------------------------------------------------------- */

static int logs_print(struct logs *l)
{
	int64_t offset = 0;
	char *cause = NULL;
	for (;;) {
		if (logs_transfer(l, offset, false, &cause) != LOGS_DONE)
			return output_fail_cause(cause);
		/* Another request only when the server said where this one
		 * ended, and it moved: a server that ignored offset= would
		 * otherwise send the same bytes forever. */
		if (l->got == 0 || !l->have_header_offset || l->header_offset <= offset)
			break;
		offset = l->header_offset;
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		return output_fail("cannot write the log: %s", strerror(errno));
	return 0;
}

static int logs_follow(struct logs *l)
{
	char *cause = NULL;
	time_t last_ok = time(NULL);
	unsigned backoff = 1;
	bool resume = false;
	l->sse = sse_new(LOGS_EVENT_MAX, logs_on_event, l);
	for (;;) {
		int64_t before = l->pos;
		sse_reset(l->sse);
		enum logs_result res = logs_transfer(l, l->pos, resume, &cause);
		if (res == LOGS_DONE)
			return 0;
		if (res == LOGS_FAIL)
			return output_fail_cause(cause);
		/* An answer that streamed, or bytes that came, is progress. */
		if ((l->status >= 200 && l->status <= 299) || l->pos > before) {
			last_ok = time(NULL);
			backoff = 1;
		}
		if (time(NULL) - last_ok > LOGS_GIVE_UP_S) {
			char *msg = xasprintf("gave up following job %lld after %d s without an "
					      "answer: %s",
					      (long long)l->job, LOGS_GIVE_UP_S, cause);
			free(cause);
			return output_fail_cause(msg);
		}
		free(cause);
		cause = NULL;
		resume = true;
		/* A stream that brought bytes and then broke (a proxy's idle
		 * timeout) is picked up again at once; anything else waits. */
		if (l->pos > before)
			continue;
		sleep(backoff);
		backoff = backoff * 2 > LOGS_BACKOFF_MAX_S ? LOGS_BACKOFF_MAX_S : backoff * 2;
	}
}

int cli_logs(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"follow", no_argument, NULL, 'f'},
	    {"stderr", no_argument, NULL, 'e'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct logs l = {.stream = "stdout"};
	int ch, rc;
	char *cause = NULL;
	optind = 0;
	opterr = 0;
	/* -f is the one short option of the CLI, as in tail -f. */
	while ((ch = getopt_long(argc, argv, ":f", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			l.follow = true;
			break;
		case 'e':
			l.stream = "stderr";
			break;
		case 'h':
			printf("usage: kaon %s\n", logs_usage);
			return 0;
		default:
			if (optopt && optopt != '?')
				output_fail("unknown option '-%c'", optopt);
			else
				output_fail("unknown option '%s'", argv[optind - 1]);
			return output_usage(logs_usage, NULL);
		}
	}
	if (argc - optind != 1)
		return output_usage(logs_usage,
				    argc == optind ? "missing the job ID" : "too many arguments");
	if (output_parse_int(argv[optind], 1, INT64_MAX, &l.job) < 0)
		return output_usage(logs_usage, "'%s' is not a job id", argv[optind]);
	if (logs_credentials(&l, &cause) < 0)
		return output_fail_cause(cause);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		rc = output_fail("curl_global_init() failed");
		goto out_creds;
	}
	l.curl = curl_easy_init();
	if (!l.curl) {
		rc = output_fail("curl_easy_init() failed");
		goto out_global;
	}
	l.err = xmalloc(LOGS_ERROR_MAX);
	logs_setup_handle(&l);
	rc = l.follow ? logs_follow(&l) : logs_print(&l);
	sse_free(l.sse);
	free(l.err);
	curl_easy_cleanup(l.curl);
out_global:
	curl_global_cleanup();
out_creds:
	explicit_bzero(l.token, strlen(l.token));
	free(l.token);
	free(l.url);
	return rc;
}
