/*
 * cli/jobs — looking at jobs and acting on them:
 *
 *   kaon jobs [--all|--user U] [--state S[,S...]] [--limit N] [--json]
 *   kaon show ID [--json]
 *   kaon queue [--json]                  every pending and running job
 *   kaon cancel|hold|release ID...
 *
 * All of it over GET /api/v1/jobs[/{id}] and POST /api/v1/jobs/{id}/...
 * Listings page through `next` (`before=ID`) themselves, so a person sees
 * one table however the server cuts its pages.
 */
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "lib/xalloc.h"

static const char jobs_usage[] =
    "jobs [--all|--user USER] [--state STATE[,STATE...]] [--limit N] [--json]";
static const char jobs_show_usage[] = "show ID [--json]";
static const char jobs_queue_usage[] = "queue [--json]";
static const char jobs_why_usage[] = "why ID [--json]";

/* Paging stops here even if the server keeps answering with `next`: a
 * broken server must not keep the client looping. */
enum { JOBS_MAX_PAGES = 10000, JOBS_MAX_RANGE = 10000 };
/* The largest page the API serves (limit=1..1000). */
enum { JOBS_PAGE_MAX = 1000 };

static const char *const jobs_states[] = {
    "pending", "running", "completed", "failed", "cancelled", "timeout", "oom", "lost",
};

/* ---- shared ------------------------------------------------------------- */

static int64_t jobs_int(const json_t *obj, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(obj, key));
}

static bool jobs_is(const json_t *job, const char *state)
{
	const char *s = output_str(job, "state");
	return s && strcmp(s, state) == 0;
}

/* Seconds between two API times, -1 when either is missing. */
static int64_t jobs_between(const char *from, const char *to, time_t now)
{
	time_t a, b = now;
	if (output_parse_time(from, &a) < 0 || (to && output_parse_time(to, &b) < 0))
		return -1;
	return b > a ? (int64_t)(b - a) : 0;
}

/* How long a job has been what it is: pending since submission, running
 * since its start, or how long it ran once ended. -1: unknown. */
static int64_t jobs_elapsed(const json_t *job, time_t now)
{
	if (jobs_is(job, "pending"))
		return jobs_between(output_str(job, "submit_time"), NULL, now);
	if (jobs_is(job, "running"))
		return jobs_between(output_str(job, "start_time"), NULL, now);
	if (!output_str(job, "end_time"))
		return -1;
	return jobs_between(output_str(job, "start_time"), output_str(job, "end_time"), now);
}

/* "exit 1", "signal KILL" for an ended job; NULL when neither is known. */
static const char *jobs_exit_text(const json_t *job, char *buf)
{
	json_t *sig = json_object_get(job, "signal"), *code = json_object_get(job, "exit_code");
	if (json_is_integer(sig) && json_integer_value(sig) > 0) {
		const char *abbrev = sigabbrev_np((int)json_integer_value(sig));
		if (abbrev)
			snprintf(buf, OUTPUT_UNIT_LEN, "signal %s", abbrev);
		else
			snprintf(buf, OUTPUT_UNIT_LEN, "signal %lld",
				 (long long)json_integer_value(sig));
		return buf;
	}
	if (json_is_integer(code)) {
		snprintf(buf, OUTPUT_UNIT_LEN, "exit %lld", (long long)json_integer_value(code));
		return buf;
	}
	return NULL;
}

/* A number without trailing zeros: "0.53", "12", "1234.5". */
static const char *jobs_number(double v, char *buf)
{
	snprintf(buf, OUTPUT_UNIT_LEN, fabs(v) >= 1000 ? "%.1f" : "%.3f", v);
	size_t n = strlen(buf);
	if (strchr(buf, '.')) {
		while (buf[n - 1] == '0')
			buf[--n] = '\0';
		if (buf[n - 1] == '.')
			buf[--n] = '\0';
	}
	return buf;
}

/* An id operand, or a range "42-51" of them, into *first..*last. */
static int jobs_parse_ids(const char *s, int64_t *first, int64_t *last)
{
	const char *dash = strchr(s, '-');
	if (!dash)
		return output_parse_int(s, 1, INT64_MAX, first) < 0 ? -1 : (*last = *first, 0);
	char num[24];
	size_t n = (size_t)(dash - s);
	if (n == 0 || n >= sizeof num)
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	if (output_parse_int(num, 1, INT64_MAX, first) < 0 ||
	    output_parse_int(dash + 1, 1, INT64_MAX, last) < 0 || *last < *first ||
	    *last - *first >= JOBS_MAX_RANGE)
		return -1;
	return 0;
}

/* Append "?key=value" or "&key=value" to *path, value escaped. */
static void jobs_query_add(char **path, const char *key, const char *value)
{
	char *esc = client_escape(value);
	char *next = xasprintf("%s%c%s=%s", *path, strchr(*path, '?') ? '&' : '?', key, esc);
	free(esc);
	free(*path);
	*path = next;
}

/* GET pages of path_query into one {"jobs", "next"} object, until limit
 * jobs (0: no limit), or after the first page when one_page. "next" is
 * then what the API would say after the last job kept: that job's id
 * when more follow, else null. 0 or the exit status after the error
 * line. */
static int jobs_fetch(struct client *c, const char *path_query, int64_t limit, bool one_page,
		      json_t **out)
{
	json_t *all = json_pack("{s:[],s:n}", "jobs", "next");
	json_t *jobs = json_object_get(all, "jobs");
	int64_t before = 0;
	char *cause = NULL;
	for (int page = 0; page < JOBS_MAX_PAGES; page++) {
		json_t *ans = NULL;
		char *path = xstrdup(path_query), num[24];
		if (before) {
			snprintf(num, sizeof num, "%lld", (long long)before);
			jobs_query_add(&path, "before", num);
		}
		int rc = client_call(c, "GET", path, NULL, &ans, NULL, &cause);
		free(path);
		if (rc < 0) {
			json_decref(all);
			return output_fail_cause(cause);
		}
		size_t i;
		json_t *job, *page_jobs = json_object_get(ans, "jobs");
		bool cut = false;
		json_array_foreach(page_jobs, i, job)
		{
			if (limit > 0 && (int64_t)json_array_size(jobs) >= limit) {
				cut = true;
				break;
			}
			json_array_append(jobs, job);
		}
		json_t *next = json_object_get(ans, "next");
		bool more = json_is_integer(next) && json_array_size(page_jobs);
		/* `next` must go down, or the same page would come back. */
		if (more && before && json_integer_value(next) >= before)
			more = false;
		bool full = limit > 0 && (int64_t)json_array_size(jobs) >= limit;
		if ((more || cut) && (full || one_page)) {
			json_t *last = json_array_get(jobs, json_array_size(jobs) - 1);
			json_object_set(all, "next", json_object_get(last, "id"));
		}
		before = more ? (int64_t)json_integer_value(next) : 0;
		json_decref(ans);
		if (!more || full || one_page)
			break;
	}
	*out = all;
	return 0;
}

/* ---- kaon jobs ---------------------------------------------------------- */

static bool jobs_states_ok(const char *s)
{
	const char *p = s;
	for (;;) {
		size_t n = strcspn(p, ","), k;
		for (k = 0; k < sizeof jobs_states / sizeof jobs_states[0]; k++)
			if (strlen(jobs_states[k]) == n && strncmp(p, jobs_states[k], n) == 0)
				break;
		if (k == sizeof jobs_states / sizeof jobs_states[0])
			return false;
		if (p[n] == '\0')
			return true;
		p += n + 1;
	}
}

static void jobs_table(const json_t *jobs)
{
	static const char *const headers[] = {"ID",   "NAME", "USER",	    "STATE",
					      "TIME", "GPUS", "REASON/EXIT"};
	struct output_table *t = output_table_new(headers, 7);
	time_t now = time(NULL);
	size_t i;
	json_t *job;
	json_array_foreach(jobs, i, job)
	{
		char b1[OUTPUT_UNIT_LEN], b2[OUTPUT_UNIT_LEN];
		json_t *res = json_object_get(job, "resources");
		const char *reason = output_str(job, "reason");
		output_table_addf(t, "%lld", (long long)jobs_int(job, "id"));
		output_table_add(t, output_str(job, "name"));
		output_table_add(t, output_str(job, "user"));
		output_table_add(t, output_str(job, "state"));
		output_table_add(t, output_duration(jobs_elapsed(job, now), b1));
		output_table_addf(t, "%lld", (long long)jobs_int(res, "gpus"));
		output_table_add(t, reason ? reason : jobs_exit_text(job, b2));
	}
	output_table_print(t, stdout);
}

int cli_jobs(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"user", required_argument, NULL, 'u'},
	    {"state", required_argument, NULL, 's'},
	    {"limit", required_argument, NULL, 'n'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *user = NULL, *state = NULL;
	bool as_json = false, all = false;
	int64_t limit = 0;
	int ch;
	optind = 0;
	while ((ch = output_getopt(argc, argv, opts)) != -1) {
		switch (ch) {
		case 'a':
			all = true;
			break;
		case 'u':
			user = optarg;
			break;
		case 's':
			if (!jobs_states_ok(optarg))
				return output_usage(
				    jobs_usage,
				    "--state: '%s' is not a list of states (pending, "
				    "running, completed, failed, cancelled, timeout, "
				    "oom, lost)",
				    optarg);
			state = optarg;
			break;
		case 'n':
			if (output_parse_int(optarg, 1, INT32_MAX, &limit) < 0)
				return output_usage(jobs_usage,
						    "--limit: '%s' is not a whole number above 0",
						    optarg);
			break;
		case 'j':
			as_json = true;
			break;
		case 'h':
			printf("usage: kaon %s\n", jobs_usage);
			return 0;
		default:
			return output_usage(jobs_usage, NULL);
		}
	}
	if (optind < argc)
		return output_usage(jobs_usage, "too many arguments");
	if (all && user)
		return output_usage(jobs_usage, "--all and --user contradict each other");

	char *query = xstrdup("/api/v1/jobs"), num[24];
	if (all || user)
		jobs_query_add(&query, "user", all ? "all" : user);
	if (state)
		jobs_query_add(&query, "state", state);
	if (limit > 0) {
		snprintf(num, sizeof num, "%lld",
			 (long long)(limit < JOBS_PAGE_MAX ? limit : JOBS_PAGE_MAX));
		jobs_query_add(&query, "limit", num);
	}
	struct client *c = NULL;
	json_t *list = NULL;
	char *cause = NULL;
	int rc;
	if (client_open(&c, &cause) < 0) {
		rc = output_fail_cause(cause);
		goto out;
	}
	if ((rc = jobs_fetch(c, query, limit, limit == 0, &list)) != 0)
		goto out;
	if (as_json) {
		output_json(list);
	} else {
		jobs_table(json_object_get(list, "jobs"));
		if (!json_is_null(json_object_get(list, "next")))
			fprintf(stderr, "(more jobs not shown: use --limit N)\n");
	}
out:
	json_decref(list);
	client_free(c);
	free(query);
	return rc;
}

/* ---- kaon show ---------------------------------------------------------- */

/* argv as a shell would need it typed: words with anything but safe
 * characters in single quotes. The caller frees. */
static char *jobs_command_text(const json_t *argv)
{
	char *s = xstrdup("");
	size_t i;
	json_t *v;
	json_array_foreach(argv, i, v)
	{
		const char *w = json_string_value(v);
		w = w ? w : "?";
		bool plain = *w && strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					     "0123456789-_./=:,+@%") == strlen(w);
		char *q = xstrdup("");
		if (!plain) {
			/* ' becomes '\'' inside single quotes */
			free(q);
			q = xstrdup("'");
			for (const char *p = w; *p; p++) {
				char *n =
				    *p == '\'' ? xasprintf("%s'\\''", q) : xasprintf("%s%c", q, *p);
				free(q);
				q = n;
			}
			char *n = xasprintf("%s'", q);
			free(q);
			q = n;
		}
		char *next = xasprintf("%s%s%s", s, i ? " " : "", plain ? w : q);
		free(q);
		free(s);
		s = next;
	}
	return s;
}

static char *jobs_resources_text(const json_t *r, bool allocated)
{
	char b1[OUTPUT_UNIT_LEN], b2[OUTPUT_UNIT_LEN];
	if (!json_is_object(r))
		return NULL;
	if (allocated) {
		char *gpus = xstrdup("");
		size_t i;
		json_t *g;
		json_array_foreach(json_object_get(r, "gpus"), i, g)
		{
			char *n = xasprintf("%s%s%lld", gpus, i ? "," : "",
					    (long long)json_integer_value(g));
			free(gpus);
			gpus = n;
		}
		int64_t cpus = jobs_int(r, "cpus");
		char *s =
		    xasprintf("node %s, %lld CPU%s, %s memory, GPUs %s",
			      output_str(r, "node") ? output_str(r, "node") : "-", (long long)cpus,
			      cpus == 1 ? "" : "s", output_size_mb(jobs_int(r, "mem_mb"), b1),
			      *gpus ? gpus : "none");
		free(gpus);
		return s;
	}
	json_t *wall = json_object_get(r, "walltime_s");
	int64_t gpus = jobs_int(r, "gpus"), cpus = jobs_int(r, "cpus");
	return xasprintf("%lld GPU%s, %lld CPU%s, %s memory, %s wall time", (long long)gpus,
			 gpus == 1 ? "" : "s", (long long)cpus, cpus == 1 ? "" : "s",
			 output_size_mb(jobs_int(r, "mem_mb"), b1),
			 json_is_integer(wall) && json_integer_value(wall) > 0
			     ? output_duration(json_integer_value(wall), b2)
			     : "no limit on");
}

static void jobs_print(const json_t *job)
{
	char buf[OUTPUT_UNIT_LEN];
	time_t now = time(NULL);
	json_t *cmd = json_object_get(job, "command");
	char *text;
	snprintf(buf, sizeof buf, "%lld", (long long)jobs_int(job, "id"));
	output_field("id:", buf);
	output_field("name:", output_str(job, "name"));
	output_field("user:", output_str(job, "user"));
	output_field("group:", output_str(job, "group"));
	const char *reason_text = output_str(job, "reason_text");
	output_field("state:", output_str(job, "state"));
	if (reason_text || output_str(job, "reason"))
		output_field("reason:", reason_text ? reason_text : output_str(job, "reason"));
	if (json_is_array(cmd)) {
		text = jobs_command_text(cmd);
		output_field("command:", text);
		free(text);
	} else {
		output_field("command:", json_is_true(json_object_get(job, "script"))
					     ? "a batch script"
					     : "(not shown)");
	}
	output_field("workdir:", output_str(job, "workdir"));
	text = jobs_resources_text(json_object_get(job, "resources"), false);
	output_field("resources:", text);
	free(text);
	json_t *array_id = json_object_get(job, "array_id");
	if (json_is_integer(array_id)) {
		snprintf(buf, sizeof buf, "%lld, element %lld",
			 (long long)json_integer_value(array_id),
			 (long long)jobs_int(job, "array_index"));
		output_field("array:", buf);
	}
	json_t *after = json_object_get(job, "after");
	if (json_array_size(after) > 0) {
		text = xstrdup("");
		size_t i;
		json_t *v;
		json_array_foreach(after, i, v)
		{
			char *n = xasprintf("%s%s%lld", text, i ? ", " : "",
					    (long long)json_integer_value(v));
			free(text);
			text = n;
		}
		output_field("after:", text);
		free(text);
	}
	output_field("held:", json_is_true(json_object_get(job, "hold")) ? "yes" : "no");
	output_field("priority:",
		     jobs_number(json_number_value(json_object_get(job, "priority")), buf));
	if (jobs_is(job, "pending")) {
		output_field("est. start:", output_time(output_str(job, "estimated_start"), buf));
		if (json_is_integer(json_object_get(job, "queue_position"))) {
			snprintf(buf, sizeof buf, "%lld", (long long)jobs_int(job, "queue_position"));
			output_field("in queue:", buf);
		}
		size_t i;
		json_t *h;
		json_array_foreach(json_object_get(job, "hints"), i, h)
			output_field(i == 0 ? "hint:" : "", json_string_value(h));
	}
	if (json_is_integer(json_object_get(job, "reservation"))) {
		snprintf(buf, sizeof buf, "%lld", (long long)jobs_int(job, "reservation"));
		output_field("reservation:", buf);
	}
	output_field("submitted:", output_time(output_str(job, "submit_time"), buf));
	output_field("started:", output_time(output_str(job, "start_time"), buf));
	output_field("ended:", output_time(output_str(job, "end_time"), buf));
	output_field(jobs_is(job, "pending") ? "waiting:" : "elapsed:",
		     output_duration(jobs_elapsed(job, now), buf));
	if (jobs_exit_text(job, buf))
		output_field("exit:", buf);
	text = jobs_resources_text(json_object_get(job, "allocated"), true);
	output_field("allocated:", text);
	free(text);
}

/* `kaon show|why ID [--json]`: fetch one job and print it with print. */
static int jobs_show_one(int argc, char **argv, const char *usage, void (*print)(const json_t *))
{
	bool as_json = false;
	int rc = output_args(argc, argv, usage, 1, &as_json);
	if (rc >= 0)
		return rc;
	int64_t id;
	if (output_parse_int(argv[optind], 1, INT64_MAX, &id) < 0)
		return output_usage(usage, "'%s' is not a job id", argv[optind]);
	char path[64], *cause = NULL;
	json_t *job = NULL;
	snprintf(path, sizeof path, "/api/v1/jobs/%lld", (long long)id);
	if (client_call_once("GET", path, NULL, &job, &cause) < 0)
		return output_fail_cause(cause);
	if (as_json)
		output_json(job);
	else
		print(job);
	json_decref(job);
	return 0;
}

int cli_show(int argc, char **argv)
{
	return jobs_show_one(argc, argv, jobs_show_usage, jobs_print);
}

/* ---- kaon queue --------------------------------------------------------- */

/* Queue order: running jobs first (longest running first), then pending
 * ones by priority, highest first; ties by id. */
static int jobs_queue_cmp(const void *pa, const void *pb)
{
	const json_t *a = *(const json_t *const *)pa, *b = *(const json_t *const *)pb;
	bool ra = jobs_is(a, "running"), rb = jobs_is(b, "running");
	if (ra != rb)
		return ra ? -1 : 1;
	if (!ra) {
		double pa_ = json_number_value(json_object_get(a, "priority"));
		double pb_ = json_number_value(json_object_get(b, "priority"));
		if (pa_ != pb_)
			return pa_ > pb_ ? -1 : 1;
	}
	int64_t ia = jobs_int(a, "id"), ib = jobs_int(b, "id");
	return ia < ib ? -1 : ia > ib;
}

static void jobs_queue_table(const json_t *jobs)
{
	static const char *const headers[] = {"ID",   "NAME", "USER", "STATE", "POS",   "PRIORITY",
					      "GPUS", "CPUS", "MEM",  "TIME",  "START", "REASON"};
	struct output_table *t = output_table_new(headers, 12);
	time_t now = time(NULL);
	size_t i;
	json_t *job;
	json_array_foreach(jobs, i, job)
	{
		char b1[OUTPUT_UNIT_LEN], b2[OUTPUT_UNIT_LEN], b3[OUTPUT_UNIT_LEN],
		    b4[OUTPUT_UNIT_LEN];
		json_t *res = json_object_get(job, "resources");
		bool pending = jobs_is(job, "pending");
		output_table_addf(t, "%lld", (long long)jobs_int(job, "id"));
		output_table_add(t, output_str(job, "name"));
		output_table_add(t, output_str(job, "user"));
		output_table_add(t, output_str(job, "state"));
		if (json_is_integer(json_object_get(job, "queue_position")))
			output_table_addf(t, "%lld", (long long)jobs_int(job, "queue_position"));
		else
			output_table_add(t, NULL);
		output_table_add(
		    t, pending
			   ? jobs_number(json_number_value(json_object_get(job, "priority")), b1)
			   : NULL);
		output_table_addf(t, "%lld", (long long)jobs_int(res, "gpus"));
		output_table_addf(t, "%lld", (long long)jobs_int(res, "cpus"));
		output_table_add(t, output_size_mb(jobs_int(res, "mem_mb"), b2));
		output_table_add(t, output_duration(jobs_elapsed(job, now), b3));
		output_table_add(
		    t,
		    output_time(output_str(job, pending ? "estimated_start" : "start_time"), b4));
		output_table_add(t, pending ? output_str(job, "reason_text") : NULL);
	}
	output_table_print(t, stdout);
}

int cli_queue(int argc, char **argv)
{
	bool as_json = false;
	int rc = output_args(argc, argv, jobs_queue_usage, 0, &as_json);
	if (rc >= 0)
		return rc;
	struct client *c = NULL;
	json_t *list = NULL;
	char *cause = NULL;
	if (client_open(&c, &cause) < 0)
		return output_fail_cause(cause);
	rc = jobs_fetch(c, "/api/v1/jobs?user=all&state=pending,running&limit=1000", 0, false,
			&list);
	client_free(c);
	if (rc != 0)
		return rc;
	json_t *jobs = json_object_get(list, "jobs");
	size_t n = json_array_size(jobs);
	json_t **v = xcalloc(n ? n : 1, sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(jobs, i));
	qsort(v, n, sizeof *v, jobs_queue_cmp);
	json_array_clear(jobs);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(jobs, v[i]);
	free(v);
	if (as_json)
		output_json(list);
	else
		jobs_queue_table(jobs);
	json_decref(list);
	return 0;
}

/* ---- kaon why ------------------------------------------------------------ */

/* Why a job is where it is, in the scheduler's words: its reason, its
 * rank, its expected start, and what would let it start sooner. */
static void jobs_why_print(const json_t *job)
{
	char buf[OUTPUT_UNIT_LEN];
	long long id = (long long)jobs_int(job, "id");
	const char *state = output_str(job, "state");
	if (!jobs_is(job, "pending")) {
		printf("Job %lld is %s", id, state ? state : "unknown");
		if (jobs_is(job, "running"))
			printf(" since %s", output_time(output_str(job, "start_time"), buf));
		printf(".\n");
		return;
	}
	const char *text = output_str(job, "reason_text");
	printf("Job %lld is pending: %s.\n", id, text ? text : output_str(job, "reason"));
	if (json_is_integer(json_object_get(job, "queue_position")))
		printf("Position: %lld among the jobs that compete for the same resources.\n",
		       (long long)jobs_int(job, "queue_position"));
	const char *est = output_str(job, "estimated_start");
	if (est)
		printf("Expected to start: %s (if the jobs before it run to their wall time).\n",
		       output_time(est, buf));
	else
		printf("Expected to start: unknown.\n");
	if (json_is_integer(json_object_get(job, "reservation")))
		printf("Reservation: %lld.\n", (long long)jobs_int(job, "reservation"));
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(job, "hints"), i, h)
		printf("Hint: %s.\n", json_string_value(h));
}

int cli_why(int argc, char **argv)
{
	return jobs_show_one(argc, argv, jobs_why_usage, jobs_why_print);
}

/* ---- kaon cancel | hold | release --------------------------------------- */

struct jobs_action {
	const char *verb, *usage, *done;
};

static void jobs_action_report(const struct jobs_action *a, int64_t id, const json_t *job)
{
	if (strcmp(a->verb, "cancel") == 0 && jobs_is(job, "running"))
		printf("Cancelling job %lld: it gets SIGTERM, then SIGKILL after a grace "
		       "period.\n",
		       (long long)id);
	else
		printf("%s job %lld.\n", a->done, (long long)id);
}

/* POST /api/v1/jobs/{id}/VERB for every id operand, each reported; the
 * status is 1 if any failed. */
static int jobs_act(int argc, char **argv, const struct jobs_action *a)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch, rc;
	optind = 0;
	while ((ch = output_getopt(argc, argv, opts)) != -1) {
		if (ch != 'h')
			return output_usage(a->usage, NULL);
		printf("usage: kaon %s\n", a->usage);
		return 0;
	}
	if (optind == argc)
		return output_usage(a->usage, "missing the job ID");
	for (int i = optind; i < argc; i++) {
		int64_t first, last;
		if (jobs_parse_ids(argv[i], &first, &last) < 0)
			return output_usage(a->usage,
					    "'%s' is not a job id or a range like 42-51 (at most "
					    "%d)",
					    argv[i], JOBS_MAX_RANGE);
	}
	struct client *c = NULL;
	char *cause = NULL;
	if (client_open(&c, &cause) < 0)
		return output_fail_cause(cause);
	rc = 0;
	for (int i = optind; i < argc; i++) {
		int64_t first, last;
		jobs_parse_ids(argv[i], &first, &last);
		for (int64_t id = first; id <= last; id++) {
			char path[96];
			json_t *job = NULL;
			snprintf(path, sizeof path, "/api/v1/jobs/%lld/%s", (long long)id, a->verb);
			if (client_call(c, "POST", path, NULL, &job, NULL, &cause) < 0) {
				/* The server's messages name the job already. */
				output_fail_cause(cause);
				cause = NULL;
				rc = 1;
				continue;
			}
			jobs_action_report(a, id, job);
			json_decref(job);
		}
	}
	client_free(c);
	return rc;
}

static const struct jobs_action jobs_cancel_action = {"cancel", "cancel ID...", "Cancelled"};
static const struct jobs_action jobs_hold_action = {"hold", "hold ID...", "Held"};
static const struct jobs_action jobs_release_action = {"release", "release ID...", "Released"};

int cli_cancel(int argc, char **argv)
{
	return jobs_act(argc, argv, &jobs_cancel_action);
}

int cli_hold(int argc, char **argv)
{
	return jobs_act(argc, argv, &jobs_hold_action);
}

int cli_release(int argc, char **argv)
{
	return jobs_act(argc, argv, &jobs_release_action);
}
