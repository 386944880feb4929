/*
 * bench/sched.c — the load generator and stopwatch of bench/sched.
 *
 * Not part of kaon: bench/sched compiles it with gcc into its temporary
 * directory (needs libcurl's headers) and calls one mode per measurement,
 * so that timing happens in one process with a monotonic clock rather than
 * in shell loops whose own fork/exec cost would be what is measured.
 *
 *   spawn N P CMD [ARG...]         run CMD N times, at most P at once
 *                                  (posix_spawn, stdio to /dev/null, one
 *                                  waitpid loop); the raw ceiling with
 *                                  /bin/true, the Slurm flood with sbatch
 *   flood URL TOKEN N C BODY SECS  POST BODY to URL/api/v1/jobs N times
 *                                  from C keep-alive clients, then poll
 *                                  GET URL/api/v1/jobs?state=pending,running
 *                                  &limit=1 until it lists nothing
 *   latency URL TOKEN R BODY       R times: POST one job, poll its state
 *                                  every 1 ms until it has ended
 *   get URL TOKEN N                N sequential GETs of URL (keep-alive)
 *
 * Every mode prints one line of KEY=VALUE pairs on stdout (times in
 * milliseconds) and exits non-zero with a message on stderr when anything
 * failed: a command that exits non-zero, an answer that is not 2xx, a
 * deadline passed. Nothing here waits without a deadline.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Per-request timeout, and the deadline of a whole spawn run. */
#define BENCH_REQ_TIMEOUT_S 10L
#define BENCH_SPAWN_DEADLINE_S 300.0
/* The longest one trivial job may take in `latency` before we give up. */
#define BENCH_JOB_DEADLINE_S 30.0

static double bench_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void bench_sleep_ms(double ms)
{
	struct timespec ts = { (time_t)(ms / 1e3), (long)((ms - (time_t)(ms / 1e3) * 1e3) * 1e6) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void *bench_xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p) {
		fprintf(stderr, "bench/sched.c: out of memory\n");
		abort();
	}
	return p;
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of n sorted samples. */
static double bench_pct(const double *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t k = (size_t)(p / 100.0 * n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static long bench_arg(const char *s, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 1) {
		fprintf(stderr, "bench/sched.c: %s must be a positive number, not '%s'\n", what, s);
		exit(2);
	}
	return v;
}

/* ---- spawn ---------------------------------------------------------------- */

static int bench_spawn(long n, long p, char **argv)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid_t *pids = bench_xmalloc(sizeof *pids * (size_t)p);
	double *started = bench_xmalloc(sizeof *started * (size_t)p);
	double *lat = bench_xmalloc(sizeof *lat * (size_t)n);
	long launched = 0, done = 0, failed = 0, inflight = 0;
	double t0 = bench_now_ms();
	while (done < n) {
		while (inflight < p && launched < n) {
			long slot = 0;
			while (pids[slot])
				slot++;
			int rc = posix_spawn(&pids[slot], argv[0], &fa, NULL, argv, environ);
			if (rc) {
				fprintf(stderr, "bench/sched.c: posix_spawn(%s) failed: %s\n", argv[0],
					strerror(rc));
				return 1;
			}
			started[slot] = bench_now_ms();
			launched++, inflight++;
		}
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "bench/sched.c: waitpid failed: %s\n", strerror(errno));
			return 1;
		}
		for (long i = 0; i < p; i++) {
			if (pids[i] == pid) {
				lat[done++] = bench_now_ms() - started[i];
				pids[i] = 0, inflight--;
				break;
			}
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
		if (bench_now_ms() - t0 > BENCH_SPAWN_DEADLINE_S * 1e3 && done < n) {
			fprintf(stderr, "bench/sched.c: %s: %ld of %ld done after %.0f s, giving up\n",
				argv[0], done, n, BENCH_SPAWN_DEADLINE_S);
			for (long i = 0; i < p; i++)
				if (pids[i])
					kill(pids[i], SIGKILL);
			return 1;
		}
	}
	double elapsed = bench_now_ms() - t0;
	qsort(lat, (size_t)n, sizeof *lat, bench_cmp_double);
	printf("count=%ld ms=%.1f rate=%.1f p50=%.2f p99=%.2f failed=%ld\n", n, elapsed,
	       n / (elapsed / 1e3), bench_pct(lat, (size_t)n, 50), bench_pct(lat, (size_t)n, 99),
	       failed);
	if (failed) {
		fprintf(stderr, "bench/sched.c: %ld of %ld runs of %s failed\n", failed, n, argv[0]);
		return 1;
	}
	return 0;
}

/* ---- HTTP ----------------------------------------------------------------- */

/* One keep-alive client: an easy handle and the buffer of its last answer. */
struct bench_client {
	CURL *h;
	struct curl_slist *hdr;
	char *body;
	size_t len, cap;
};

static size_t bench_client_write(char *p, size_t sz, size_t nm, void *arg)
{
	struct bench_client *c = arg;
	size_t n = sz * nm;
	if (c->len + n + 1 > c->cap) {
		size_t cap = (c->len + n + 1) * 2;
		char *b = realloc(c->body, cap);
		if (!b)
			return 0;
		c->body = b, c->cap = cap;
	}
	memcpy(c->body + c->len, p, n);
	c->len += n;
	c->body[c->len] = '\0';
	return n;
}

static void bench_client_init(struct bench_client *c, const char *token)
{
	char auth[512];
	memset(c, 0, sizeof *c);
	c->h = curl_easy_init();
	if (!c->h) {
		fprintf(stderr, "bench/sched.c: curl_easy_init failed\n");
		exit(1);
	}
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
	c->hdr = curl_slist_append(NULL, auth);
	c->hdr = curl_slist_append(c->hdr, "Content-Type: application/json");
	c->hdr = curl_slist_append(c->hdr, "Expect:");
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdr);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, bench_client_write);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, BENCH_REQ_TIMEOUT_S);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_TCP_NODELAY, 1L);
}

static void bench_client_free(struct bench_client *c)
{
	curl_slist_free_all(c->hdr);
	curl_easy_cleanup(c->h);
	free(c->body);
}

/* One request; body NULL for a GET. Returns the HTTP status, or -1 with a
 * message on stderr. The answer is in c->body. */
static long bench_client_do(struct bench_client *c, const char *url, const char *body)
{
	c->len = 0;
	if (c->body)
		c->body[0] = '\0';
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	if (body) {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
	} else {
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
	}
	CURLcode rc = curl_easy_perform(c->h);
	if (rc != CURLE_OK) {
		fprintf(stderr, "bench/sched.c: %s %s: %s\n", body ? "POST" : "GET", url,
			curl_easy_strerror(rc));
		return -1;
	}
	long code = 0;
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

static long long bench_json_int(const char *s, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *p = s ? strstr(s, pat) : NULL;
	return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/* The value of the first "state":"..." in s, into out. */
static void bench_json_state(const char *s, char *out, size_t cap)
{
	const char *p = s ? strstr(s, "\"state\":\"") : NULL;
	out[0] = '\0';
	if (!p)
		return;
	p += strlen("\"state\":\"");
	size_t i = 0;
	while (p[i] && p[i] != '"' && i + 1 < cap) {
		out[i] = p[i];
		i++;
	}
	out[i] = '\0';
}

/* ---- flood ---------------------------------------------------------------- */

struct bench_flood {
	const char *url, *token, *body;
	long n;
	atomic_long next, errors;
	double *lat;
};

static void *bench_flood_client(void *arg)
{
	struct bench_flood *f = arg;
	struct bench_client c;
	bench_client_init(&c, f->token);
	for (;;) {
		long i = atomic_fetch_add(&f->next, 1);
		if (i >= f->n || atomic_load(&f->errors) > 0)
			break;
		double t = bench_now_ms();
		long code = bench_client_do(&c, f->url, f->body);
		f->lat[i] = bench_now_ms() - t;
		if (code != 201) {
			if (atomic_fetch_add(&f->errors, 1) == 0 && code > 0)
				fprintf(stderr, "bench/sched.c: POST %s answered %ld: %.300s\n", f->url,
					code, c.body ? c.body : "");
			break;
		}
	}
	bench_client_free(&c);
	return NULL;
}

static int bench_flood_run(const char *base, const char *token, long n, long clients,
			   const char *body, long secs)
{
	char post[1024], poll[1024];
	snprintf(post, sizeof post, "%s/api/v1/jobs", base);
	snprintf(poll, sizeof poll, "%s/api/v1/jobs?state=pending,running&limit=1", base);
	struct bench_flood f = { .url = post, .token = token, .body = body, .n = n };
	f.lat = bench_xmalloc(sizeof *f.lat * (size_t)n);
	pthread_t *th = bench_xmalloc(sizeof *th * (size_t)clients);
	double t0 = bench_now_ms();
	for (long i = 0; i < clients; i++)
		if (pthread_create(&th[i], NULL, bench_flood_client, &f)) {
			fprintf(stderr, "bench/sched.c: pthread_create failed\n");
			return 1;
		}
	for (long i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	double t_sub = bench_now_ms();
	if (atomic_load(&f.errors))
		return 1;
	/* Submitted; now until nothing is pending or running. */
	struct bench_client c;
	bench_client_init(&c, token);
	long polls = 0;
	for (;;) {
		long code = bench_client_do(&c, poll, NULL);
		polls++;
		if (code != 200) {
			fprintf(stderr, "bench/sched.c: GET %s answered %ld: %.300s\n", poll, code,
				c.body ? c.body : "");
			return 1;
		}
		if (strstr(c.body, "\"jobs\":[]"))
			break;
		if (bench_now_ms() - t0 > secs * 1e3) {
			fprintf(stderr, "bench/sched.c: jobs still pending or running after %ld s: %.300s\n",
				secs, c.body);
			return 1;
		}
		bench_sleep_ms(2);
	}
	double t_end = bench_now_ms();
	bench_client_free(&c);
	qsort(f.lat, (size_t)n, sizeof *f.lat, bench_cmp_double);
	printf("count=%ld submit_ms=%.1f total_ms=%.1f rate=%.1f p50=%.2f p99=%.2f polls=%ld\n", n,
	       t_sub - t0, t_end - t0, n / ((t_end - t0) / 1e3), bench_pct(f.lat, (size_t)n, 50),
	       bench_pct(f.lat, (size_t)n, 99), polls);
	return 0;
}

/* ---- latency -------------------------------------------------------------- */

static int bench_latency(const char *base, const char *token, long reps, const char *body)
{
	char post[1024], get[1024], state[32];
	snprintf(post, sizeof post, "%s/api/v1/jobs", base);
	double *lat = bench_xmalloc(sizeof *lat * (size_t)reps);
	struct bench_client c;
	bench_client_init(&c, token);
	for (long r = 0; r < reps; r++) {
		double t0 = bench_now_ms();
		long code = bench_client_do(&c, post, body);
		if (code != 201) {
			fprintf(stderr, "bench/sched.c: POST %s answered %ld: %.300s\n", post, code,
				c.body ? c.body : "");
			return 1;
		}
		long long id = bench_json_int(c.body, "id");
		if (id < 1) {
			fprintf(stderr, "bench/sched.c: no job id in %.300s\n", c.body);
			return 1;
		}
		snprintf(get, sizeof get, "%s/api/v1/jobs/%lld", base, id);
		for (;;) {
			bench_json_state(c.body, state, sizeof state);
			if (strcmp(state, "pending") != 0 && strcmp(state, "running") != 0)
				break;
			if (bench_now_ms() - t0 > BENCH_JOB_DEADLINE_S * 1e3) {
				fprintf(stderr, "bench/sched.c: job %lld still %s after %.0f s\n", id, state,
					BENCH_JOB_DEADLINE_S);
				return 1;
			}
			bench_sleep_ms(1);
			code = bench_client_do(&c, get, NULL);
			if (code != 200) {
				fprintf(stderr, "bench/sched.c: GET %s answered %ld: %.300s\n", get, code,
					c.body ? c.body : "");
				return 1;
			}
		}
		lat[r] = bench_now_ms() - t0;
		if (strcmp(state, "completed") != 0) {
			fprintf(stderr, "bench/sched.c: job %lld ended '%s', not completed: %.300s\n", id,
				state, c.body);
			return 1;
		}
		bench_sleep_ms(50); /* idle server between samples */
	}
	bench_client_free(&c);
	double first = lat[0];
	qsort(lat, (size_t)reps, sizeof *lat, bench_cmp_double);
	printf("count=%ld p50=%.2f min=%.2f max=%.2f first=%.2f\n", reps,
	       bench_pct(lat, (size_t)reps, 50), lat[0], lat[reps - 1], first);
	return 0;
}

/* ---- get ------------------------------------------------------------------ */

static int bench_get(const char *url, const char *token, long n)
{
	double *lat = bench_xmalloc(sizeof *lat * (size_t)n);
	struct bench_client c;
	bench_client_init(&c, token);
	size_t bytes = 0;
	/* One unmeasured request opens the connection. */
	if (bench_client_do(&c, url, NULL) != 200) {
		fprintf(stderr, "bench/sched.c: GET %s: %.300s\n", url, c.body ? c.body : "");
		return 1;
	}
	for (long i = 0; i < n; i++) {
		double t = bench_now_ms();
		long code = bench_client_do(&c, url, NULL);
		lat[i] = bench_now_ms() - t;
		if (code != 200) {
			fprintf(stderr, "bench/sched.c: GET %s answered %ld: %.300s\n", url, code,
				c.body ? c.body : "");
			return 1;
		}
		bytes = c.len;
	}
	long jobs = 0;
	for (const char *p = c.body; (p = strstr(p, "\"state\":\"")); p++)
		jobs++;
	bench_client_free(&c);
	qsort(lat, (size_t)n, sizeof *lat, bench_cmp_double);
	printf("count=%ld p50=%.2f p99=%.2f max=%.2f bytes=%zu jobs=%ld\n", n,
	       bench_pct(lat, (size_t)n, 50), bench_pct(lat, (size_t)n, 99), lat[n - 1], bytes,
	       jobs);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && strcmp(argv[1], "spawn") == 0)
		return bench_spawn(bench_arg(argv[2], "N"), bench_arg(argv[3], "P"), argv + 4);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (argc == 8 && strcmp(argv[1], "flood") == 0)
		return bench_flood_run(argv[2], argv[3], bench_arg(argv[4], "N"),
				       bench_arg(argv[5], "C"), argv[6], bench_arg(argv[7], "SECS"));
	if (argc == 6 && strcmp(argv[1], "latency") == 0)
		return bench_latency(argv[2], argv[3], bench_arg(argv[4], "R"), argv[5]);
	if (argc == 5 && strcmp(argv[1], "get") == 0)
		return bench_get(argv[2], argv[3], bench_arg(argv[4], "N"));
	fprintf(stderr, "usage: sched spawn N P CMD [ARG...]\n"
			"       sched flood URL TOKEN N CLIENTS BODY SECS\n"
			"       sched latency URL TOKEN REPEATS BODY\n"
			"       sched get URL TOKEN N\n");
	return 2;
}
