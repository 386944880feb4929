/*
 * cli/submit — `kaon submit`: one job, or an array of jobs, from a
 * command line or a batch script (POST /api/v1/jobs).
 *
 *   kaon submit [flags] -- COMMAND [ARGS...]   "command": argv
 *   kaon submit [flags] SCRIPT                 "script": the file's text
 *   kaon submit [flags] -                      "script": standard input
 *
 * Options end at the first operand, so a command's own options need no
 * quoting (`kaon submit --gpus 1 python train.py --epochs 3`); `--` makes
 * the operands a command even when the first names a file here.
 *
 * A script's `#KAON` header (cli/jobscript.h) holds the same flags, parsed
 * by the same table; flags on the command line override those of the
 * header (--env merges by variable, the command line winning), like
 * sbatch's command line over `#SBATCH`. A script takes no arguments: the
 * API runs the script text as it is, and there is nowhere to put them.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/jobscript.h"
#include "cli/output.h"
#include "lib/fsio.h"
#include "lib/xalloc.h"

static const char submit_usage[] =
    "submit [--name N] [--gpus N] [--cpus N] [--mem SIZE] [--time DURATION] "
    "[--array SPEC] [--after ID[,ID...]] [--hold] [--reservation ID] [--workdir DIR] [--env K[=V]]... [--json] "
    "(-- COMMAND [ARGS...] | SCRIPT | -)";

static const char submit_help[] =
    "  --name N           job name (default: the script's file name)\n"
    "  --gpus N, --cpus N GPUs and CPUs (default: your group's)\n"
    "  --mem SIZE         memory: 512M, 4G, 1.5T\n"
    "  --time DURATION    wall time: 3600, 90m, 2h, 1d12h\n"
    "  --array SPEC       an array: 0-9, 0-99%10 (10 at once), 1,3,5, 0-20:2\n"
    "  --after ID[,ID]    start after these jobs completed\n"
    "  --hold             stay pending until 'kaon release'\n"
    "  --reservation ID   run inside your reservation ID (see 'kaon reservations';\n"
    "                     without it, a job uses your reservation when that is\n"
    "                     where it starts first)\n"
    "  --workdir DIR      where it runs on the server (default: your home)\n"
    "  --env K=V, --env K an environment variable (K alone: its value here)\n"
    "  --json             print the API's answer\n"
    "Options end at the first operand. A SCRIPT (an existing file, or - for\n"
    "standard input) may hold the same flags on '#KAON' lines at its top;\n"
    "the command line wins. See docs/cli.md.\n";

/* The server refuses bodies over [server] max_body_kib (1024 KiB by
 * default); a script this large is refused here with a clearer message. */
enum { SUBMIT_SCRIPT_MAX = 1024 * 1024, SUBMIT_ARRAY_SPEC_MAX = 256 };

enum {
	SUBMIT_OPT_HELP = 'h',
	SUBMIT_OPT_NAME = 256,
	SUBMIT_OPT_GPUS,
	SUBMIT_OPT_CPUS,
	SUBMIT_OPT_MEM,
	SUBMIT_OPT_TIME,
	SUBMIT_OPT_ARRAY,
	SUBMIT_OPT_AFTER,
	SUBMIT_OPT_HOLD,
	SUBMIT_OPT_RESERVATION,
	SUBMIT_OPT_WORKDIR,
	SUBMIT_OPT_ENV,
	SUBMIT_OPT_JSON,
};

static const struct option submit_opts_table[] = {
    {"name", required_argument, NULL, SUBMIT_OPT_NAME},
    {"gpus", required_argument, NULL, SUBMIT_OPT_GPUS},
    {"cpus", required_argument, NULL, SUBMIT_OPT_CPUS},
    {"mem", required_argument, NULL, SUBMIT_OPT_MEM},
    {"time", required_argument, NULL, SUBMIT_OPT_TIME},
    {"array", required_argument, NULL, SUBMIT_OPT_ARRAY},
    {"after", required_argument, NULL, SUBMIT_OPT_AFTER},
    {"hold", no_argument, NULL, SUBMIT_OPT_HOLD},
    {"reservation", required_argument, NULL, SUBMIT_OPT_RESERVATION},
    {"workdir", required_argument, NULL, SUBMIT_OPT_WORKDIR},
    {"env", required_argument, NULL, SUBMIT_OPT_ENV},
    {"json", no_argument, NULL, SUBMIT_OPT_JSON},
    {"help", no_argument, NULL, SUBMIT_OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* The flags of one source (the command line, or a script's header).
 * Strings are borrowed from the argv they came from. */
struct submit_opts {
	const char *name, *array, *workdir;
	int64_t cpus, gpus, mem_mb, walltime_s; /* -1: not given */
	int64_t reservation;			/* 0: not given */
	json_t *after;				/* array of ids; NULL: not given */
	json_t *env;				/* object; NULL: not given */
	bool hold, as_json;
	bool dashdash; /* the operands came after "--" */
};

static void submit_opts_init(struct submit_opts *o)
{
	memset(o, 0, sizeof *o);
	o->cpus = o->gpus = o->mem_mb = o->walltime_s = -1;
}

static void submit_opts_clear(struct submit_opts *o)
{
	json_decref(o->after);
	json_decref(o->env);
	submit_opts_init(o);
}

/* What is given in src replaces what dst has; env merges by name. */
static void submit_opts_merge(struct submit_opts *dst, const struct submit_opts *src)
{
	if (src->name)
		dst->name = src->name;
	if (src->array)
		dst->array = src->array;
	if (src->workdir)
		dst->workdir = src->workdir;
	if (src->cpus >= 0)
		dst->cpus = src->cpus;
	if (src->gpus >= 0)
		dst->gpus = src->gpus;
	if (src->mem_mb >= 0)
		dst->mem_mb = src->mem_mb;
	if (src->walltime_s >= 0)
		dst->walltime_s = src->walltime_s;
	if (src->reservation > 0)
		dst->reservation = src->reservation;
	if (src->after) {
		json_decref(dst->after);
		dst->after = json_incref(src->after);
	}
	if (src->env) {
		if (!dst->env)
			dst->env = json_object();
		json_object_update(dst->env, src->env);
	}
	dst->hold = dst->hold || src->hold;
	dst->as_json = dst->as_json || src->as_json;
}

/* A usage error, its message prefixed with where ("job.sh:3") when set. */
static int submit_bad(const char *where, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int submit_bad(const char *where, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	int rc = output_usage(submit_usage, "%s%s%s", where ? where : "", where ? ": " : "", msg);
	free(msg);
	return rc;
}

/* "12,13" appended to ids: -1 when not a comma-separated list of ids. */
static int submit_parse_ids(const char *s, json_t *ids)
{
	const char *p = s;
	for (;;) {
		size_t n = strcspn(p, ",");
		char num[24];
		int64_t id;
		if (n == 0 || n >= sizeof num)
			return -1;
		memcpy(num, p, n);
		num[n] = '\0';
		if (output_parse_int(num, 1, INT64_MAX, &id) < 0)
			return -1;
		json_array_append_new(ids, json_integer(id));
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

/* --array: the forms of docs/api.md ("0-99%10", "1,3,5", "0-20:2"); the
 * server checks the numbers, this only keeps typos from going out. */
static bool submit_array_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= SUBMIT_ARRAY_SPEC_MAX && isdigit((unsigned char)s[0]) &&
	       strspn(s, "0123456789,-:%") == n;
}

static bool submit_env_name_ok(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

/* --env K=V, or --env K for K's value here. -1 after a usage error. */
static int submit_env(struct submit_opts *o, const char *arg, const char *where, int *rc)
{
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
	if (!submit_env_name_ok(arg, n)) {
		*rc = submit_bad(where, "--env: '%s' is not NAME=VALUE or NAME", arg);
		return -1;
	}
	char *key = xstrndup(arg, n);
	const char *value = eq ? eq + 1 : getenv(key);
	json_t *v = value ? json_string(value) : NULL;
	if (!v) {
		*rc = value ? submit_bad(where, "--env %s: the value is not valid UTF-8 text", key)
			    : submit_bad(where, "--env %s: %s is not set here", key, key);
		free(key);
		return -1;
	}
	if (!o->env)
		o->env = json_object();
	json_object_set_new(o->env, key, v);
	free(key);
	return 0;
}

/* One flag with its value into o. -1 to go on, else the exit status. */
static int submit_flag(struct submit_opts *o, int ch, const char *arg, const char *where)
{
	int rc = -1;
	int64_t *count = ch == SUBMIT_OPT_GPUS ? &o->gpus : &o->cpus;
	switch (ch) {
	case SUBMIT_OPT_NAME:
		if (!*arg)
			return submit_bad(where, "--name: empty");
		o->name = arg;
		break;
	case SUBMIT_OPT_GPUS:
	case SUBMIT_OPT_CPUS:
		if (output_parse_int(arg, ch == SUBMIT_OPT_GPUS ? 0 : 1, INT32_MAX, count) < 0)
			return submit_bad(where, "--%s: '%s' is not a whole number%s",
					  ch == SUBMIT_OPT_GPUS ? "gpus" : "cpus", arg,
					  ch == SUBMIT_OPT_GPUS ? "" : " above 0");
		break;
	case SUBMIT_OPT_MEM:
		if (output_parse_size_mb(arg, &o->mem_mb) < 0 || o->mem_mb < 1)
			return submit_bad(where, "--mem: '%s' is not a size like 512M, 32G or 1.5T",
					  arg);
		break;
	case SUBMIT_OPT_TIME:
		if (output_parse_duration(arg, &o->walltime_s) < 0 || o->walltime_s < 1)
			return submit_bad(where,
					  "--time: '%s' is not a duration like 3600, 90m, 2h or "
					  "1d12h",
					  arg);
		break;
	case SUBMIT_OPT_ARRAY:
		if (!submit_array_ok(arg))
			return submit_bad(
			    where, "--array: '%s' is not like 0-9, 0-99%%10, 1,3,5 or 0-20:2", arg);
		o->array = arg;
		break;
	case SUBMIT_OPT_AFTER:
		if (!o->after)
			o->after = json_array();
		if (submit_parse_ids(arg, o->after) < 0)
			return submit_bad(
			    where, "--after: '%s' is not a job id or a list like 12,13", arg);
		break;
	case SUBMIT_OPT_HOLD:
		o->hold = true;
		break;
	case SUBMIT_OPT_RESERVATION:
		if (output_parse_int(arg, 1, INT64_MAX, &o->reservation) < 0)
			return submit_bad(where, "--reservation: '%s' is not a reservation id", arg);
		break;
	case SUBMIT_OPT_WORKDIR:
		if (!*arg)
			return submit_bad(where, "--workdir: empty");
		o->workdir = arg;
		break;
	case SUBMIT_OPT_ENV:
		if (submit_env(o, arg, where, &rc) < 0)
			return rc;
		break;
	case SUBMIT_OPT_JSON:
		o->as_json = true;
		break;
	}
	return -1;
}

/* Parse flags from argv, a command line or (where set: "job.sh:3") one
 * #KAON line, into o. -1 to go on with the operands at argv[optind..],
 * else the exit status (0 after --help, 2 after a usage error). */
static int submit_flags(int argc, char **argv, const char *where, struct submit_opts *o)
{
	int ch, end = 1; /* optind after the last option */
	optind = 0;
	while ((ch = output_getopt_in_order(argc, argv, submit_opts_table, where)) != -1) {
		if (ch == '?')
			return output_usage(submit_usage, NULL);
		if (where && (ch == SUBMIT_OPT_HELP || ch == SUBMIT_OPT_JSON))
			return submit_bad(where, "--%s does not belong in a #KAON line",
					  ch == SUBMIT_OPT_HELP ? "help" : "json");
		if (ch == SUBMIT_OPT_HELP) {
			printf("usage: kaon %s\n\n%s", submit_usage, submit_help);
			return 0;
		}
		int rc = submit_flag(o, ch, optarg, where);
		if (rc >= 0)
			return rc;
		end = optind;
	}
	o->dashdash = optind > end && strcmp(argv[optind - 1], "--") == 0;
	if (where && optind < argc)
		return submit_bad(where, "'%s' is not a flag (a #KAON line holds flags only)",
				  argv[optind]);
	return -1;
}

/* All of standard input, at most max bytes. 0, or -1 with *cause. */
static int submit_read_stdin(size_t max, char **out, size_t *len, char **cause)
{
	size_t cap = 64 * 1024, n = 0;
	char *buf = xmalloc(cap + 1);
	for (;;) {
		if (n == cap) {
			if (cap >= max + 1) {
				*cause = xasprintf("the script on standard input is larger than "
						   "%d KiB",
						   SUBMIT_SCRIPT_MAX / 1024);
				free(buf);
				return -1;
			}
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		ssize_t r = read(STDIN_FILENO, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*cause = xasprintf("cannot read the script from standard input: %s",
					   strerror(errno));
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		*cause = xasprintf("the script on standard input is larger than %d KiB",
				   SUBMIT_SCRIPT_MAX / 1024);
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* The script's text from path ("-": standard input). 0, or -1 with
 * *cause. */
static int submit_read_script(const char *path, char **text, size_t *len, char **cause)
{
	if (strcmp(path, "-") == 0) {
		if (submit_read_stdin(SUBMIT_SCRIPT_MAX, text, len, cause) < 0)
			return -1;
	} else {
		int rc = fsio_read_file(path, SUBMIT_SCRIPT_MAX, text, len);
		if (rc == -EFBIG) {
			*cause = xasprintf("%s: larger than %d KiB: too big to submit as a script",
					   path, SUBMIT_SCRIPT_MAX / 1024);
			return -1;
		}
		if (rc < 0) {
			*cause = xasprintf("cannot read %s: %s", path, strerror(-rc));
			return -1;
		}
	}
	if (memchr(*text, '\0', *len)) {
		*cause = xasprintf("%s is not a text script (it has NUL bytes); to run a program, "
				   "put it after '--'",
				   strcmp(path, "-") == 0 ? "standard input" : path);
		free(*text);
		*text = NULL;
		return -1;
	}
	return 0;
}

/* Whether the operand names a script: "-", or a file here. -1 after a
 * usage error (a directory; a missing file that looks like a script). */
static int submit_is_script(const char *op, bool dashdash, int *rc)
{
	struct stat st;
	if (dashdash)
		return 0;
	if (strcmp(op, "-") == 0)
		return 1;
	if (stat(op, &st) == 0) {
		if (S_ISREG(st.st_mode))
			return 1;
		if (S_ISDIR(st.st_mode)) {
			*rc = submit_bad(NULL, "%s is a directory", op);
			return -1;
		}
		return 0;
	}
	size_t n = strlen(op);
	if (strchr(op, '/') || (n > 3 && strcmp(op + n - 3, ".sh") == 0)) {
		*rc = submit_bad(NULL,
				 "%s: no such file (to run a command of that name on the server, "
				 "put it after '--')",
				 op);
		return -1;
	}
	return 0;
}

/* The flags of a script's #KAON lines into hdr. -1 to go on, else the
 * exit status. */
static int submit_header(const char *path, const char *text, size_t len, struct jobscript *js,
			 struct submit_opts *hdr)
{
	char *inner = NULL;
	const char *shown = strcmp(path, "-") == 0 ? "<stdin>" : path;
	if (jobscript_parse(text, len, js, &inner) < 0) {
		int rc = submit_bad(shown, "%s", inner);
		free(inner);
		return rc;
	}
	for (size_t i = 0; i < js->ndirs; i++) {
		char *where = xasprintf("%s:%d", shown, js->dirs[i].line);
		int rc = submit_flags(js->dirs[i].argc, js->dirs[i].argv, where, hdr);
		free(where);
		if (rc >= 0)
			return rc;
	}
	return -1;
}

/* The request body from the merged flags and the command or script. NULL
 * after a usage error, with *rc set. */
static json_t *submit_body(const struct submit_opts *o, char **cmd, int ncmd, const char *script,
			   size_t script_len, const char *default_name, int *rc)
{
	json_t *body = json_object();
	const char *name = o->name ? o->name : default_name;
	if (name) {
		json_t *v = json_string(name);
		if (!v)
			goto bad_utf8;
		json_object_set_new(body, "name", v);
	}
	if (script) {
		json_t *v = json_stringn(script, script_len);
		if (!v) {
			*rc = output_fail("the script is not valid UTF-8 text");
			goto fail;
		}
		json_object_set_new(body, "script", v);
	} else {
		json_t *argv = json_array();
		json_object_set_new(body, "command", argv);
		for (int i = 0; i < ncmd; i++) {
			json_t *v = json_string(cmd[i]);
			if (!v)
				goto bad_utf8;
			json_array_append_new(argv, v);
		}
	}
	if (o->workdir) {
		json_t *v = json_string(o->workdir);
		if (!v)
			goto bad_utf8;
		json_object_set_new(body, "workdir", v);
	}
	if (o->env)
		json_object_set(body, "env", o->env);
	json_t *res = json_object();
	if (o->cpus >= 0)
		json_object_set_new(res, "cpus", json_integer(o->cpus));
	if (o->mem_mb >= 0)
		json_object_set_new(res, "mem_mb", json_integer(o->mem_mb));
	if (o->gpus >= 0)
		json_object_set_new(res, "gpus", json_integer(o->gpus));
	if (o->walltime_s >= 0)
		json_object_set_new(res, "walltime_s", json_integer(o->walltime_s));
	if (json_object_size(res) > 0)
		json_object_set_new(body, "resources", res);
	else
		json_decref(res);
	if (o->array)
		json_object_set_new(body, "array", json_string(o->array));
	if (o->after)
		json_object_set(body, "after", o->after);
	if (o->hold)
		json_object_set_new(body, "hold", json_true());
	if (o->reservation > 0)
		json_object_set_new(body, "reservation", json_integer(o->reservation));
	return body;
bad_utf8:
	*rc = submit_bad(NULL, "an argument is not valid UTF-8 text");
fail:
	json_decref(body);
	return NULL;
}

/* Job ids as ranges: "42-51", "3,5,7-9". The caller frees. */
static char *submit_ranges(const json_t *ids)
{
	char *s = xstrdup("");
	size_t n = json_array_size(ids);
	for (size_t i = 0; i < n;) {
		json_int_t first = json_integer_value(json_array_get(ids, i)), last = first;
		size_t j = i + 1;
		while (j < n && json_integer_value(json_array_get(ids, j)) == last + 1)
			last = json_integer_value(json_array_get(ids, j++));
		char *next = last == first
				 ? xasprintf("%s%s%lld", s, i ? "," : "", (long long)first)
				 : xasprintf("%s%s%lld-%lld", s, i ? "," : "", (long long)first,
					     (long long)last);
		free(s);
		s = next;
		i = j;
	}
	return s;
}

static void submit_print(const json_t *ans)
{
	json_t *array_id = json_object_get(ans, "array_id");
	if (json_is_integer(array_id)) {
		char *ranges = submit_ranges(json_object_get(ans, "job_ids"));
		printf("Submitted array %lld: jobs %s\n", (long long)json_integer_value(array_id),
		       ranges);
		free(ranges);
	} else {
		printf("Submitted job %lld\n",
		       (long long)json_integer_value(json_object_get(ans, "id")));
	}
}

/* The file name of path, for a script's default job name. */
static const char *submit_basename(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash && slash[1] ? slash + 1 : path;
}

int cli_submit(int argc, char **argv)
{
	struct submit_opts cli, hdr;
	struct jobscript js = {0};
	json_t *body = NULL, *ans = NULL;
	char *text = NULL, *cause = NULL;
	size_t len = 0;
	submit_opts_init(&cli);
	submit_opts_init(&hdr);
	int rc = submit_flags(argc, argv, NULL, &cli);
	if (rc >= 0)
		goto out;
	int first = optind;
	if (first >= argc) {
		rc = submit_bad(NULL, "missing the command or script to run");
		goto out;
	}
	const char *op = argv[first];
	int script = submit_is_script(op, cli.dashdash, &rc);
	if (script < 0)
		goto out;
	if (script) {
		if (argc - first > 1) {
			rc = submit_bad(NULL,
					"%s is a script, which takes no arguments (write them in "
					"the script, or pass values with --env NAME=VALUE)",
					op);
			goto out;
		}
		if (submit_read_script(op, &text, &len, &cause) < 0) {
			rc = output_fail_cause(cause);
			goto out;
		}
		if ((rc = submit_header(op, text, len, &js, &hdr)) >= 0)
			goto out;
	}
	submit_opts_merge(&hdr, &cli);
	const char *default_name = script && strcmp(op, "-") != 0 ? submit_basename(op) : NULL;
	body = submit_body(&hdr, argv + first, argc - first, text, len, default_name, &rc);
	if (!body)
		goto out;
	if (client_call_once("POST", "/api/v1/jobs", body, &ans, &cause) < 0) {
		rc = output_fail_cause(cause);
		goto out;
	}
	if (hdr.as_json)
		output_json(ans);
	else
		submit_print(ans);
	rc = 0;
out:
	json_decref(ans);
	json_decref(body);
	jobscript_clear(&js);
	free(text);
	submit_opts_clear(&hdr);
	submit_opts_clear(&cli);
	return rc;
}
