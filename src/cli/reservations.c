/*
 * cli/reservations — GPU reservations from the command line
 * (docs/reservations.md):
 *
 *   kaon reserve --gpus N --from WHEN (--for DURATION | --until WHEN)
 *                [--node NODE] [--model MODEL] [--note TEXT] [--user U] [--json]
 *   kaon reservations [--all] [--json]
 *   kaon unreserve ID... [--json]
 *   kaon reservation approve|reject ID [--note TEXT] [--json]   (admins)
 *
 * WHEN is read in the local time of this machine (cli/when.h); times are
 * shown in it too. When the GPUs are taken, `reserve` prints the nearest
 * free windows (stdout) with the command that books each, after the
 * error line.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "cli/when.h"
#include "lib/xalloc.h"

static const char resv_reserve_usage[] =
    "reserve --gpus N --from WHEN (--for DURATION | --until WHEN) [--node NODE] "
    "[--model MODEL] [--note TEXT] [--user USER] [--json]";
static const char resv_list_usage[] = "reservations [--all] [--json]";
static const char resv_unreserve_usage[] = "unreserve ID... [--json]";
static const char resv_approve_usage[] = "reservation approve ID [--note TEXT] [--json]";
static const char resv_reject_usage[] = "reservation reject ID [--note TEXT] [--json]";

/* "2026-12-04 09:00" in local time, from an API time. */
static const char *resv_time(const json_t *o, const char *key, char *buf)
{
	return output_time(output_str(o, key), buf);
}

/* "0,1" from [0,1]. */
static char *resv_gpu_list(const json_t *arr)
{
	char *s = xstrdup("");
	size_t i;
	json_t *g;
	json_array_foreach(arr, i, g)
	{
		char *t = xasprintf("%s%s%lld", s, i ? "," : "", (long long)json_integer_value(g));
		free(s);
		s = t;
	}
	return s;
}

/* "Reservation 12: 2 GPUs (0,1) on host, 2026-12-04 09:00 to 13:00, approved". */
static void resv_print_one(const char *verb, const json_t *r)
{
	char b1[OUTPUT_UNIT_LEN], b2[OUTPUT_UNIT_LEN];
	long long gpus = (long long)json_integer_value(json_object_get(r, "gpus"));
	char *list = resv_gpu_list(json_object_get(r, "gpu_indices"));
	const char *state = output_str(r, "state");
	printf(
	    "%s reservation %lld: %lld GPU%s (%s) on %s, %s to %s, %s%s\n", verb,
	    (long long)json_integer_value(json_object_get(r, "id")), gpus, gpus == 1 ? "" : "s",
	    list, output_str(r, "node"), resv_time(r, "start", b1), resv_time(r, "end", b2), state,
	    state && strcmp(state, "pending") == 0 ? " (an admin must approve it; you will be told)"
						   : "");
	free(list);
}

/* ---- kaon reserve ----------------------------------------------------------- */

/* The windows of a 409, one line each with the command that books it. */
static void resv_print_windows(const json_t *err, int64_t gpus, int64_t len)
{
	json_t *ws = json_object_get(json_object_get(err, "error"), "windows");
	if (json_array_size(ws) == 0)
		return;
	char dur[OUTPUT_UNIT_LEN];
	output_duration(len, dur);
	printf("free windows nearest to the asked time:\n");
	size_t i;
	json_t *w;
	json_array_foreach(ws, i, w)
	{
		char b1[OUTPUT_UNIT_LEN], b2[OUTPUT_UNIT_LEN];
		char *list = resv_gpu_list(json_object_get(w, "gpu_indices"));
		printf(
		    "  %s to %s on %s (GPUs %s): kaon reserve --gpus %lld --from '%s' --for %s\n",
		    resv_time(w, "start", b1), resv_time(w, "end", b2), output_str(w, "node"), list,
		    (long long)gpus, b1, dur);
		free(list);
	}
}

int cli_reserve(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"gpus", required_argument, NULL, 'g'},
	    {"from", required_argument, NULL, 'f'},
	    {"for", required_argument, NULL, 'd'},
	    {"until", required_argument, NULL, 'u'},
	    {"node", required_argument, NULL, 'n'},
	    {"model", required_argument, NULL, 'm'},
	    {"note", required_argument, NULL, 't'},
	    {"user", required_argument, NULL, 'U'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *from = NULL, *until = NULL, *dur = NULL;
	int64_t gpus = 0, now = time(NULL), start, end, len = 0;
	bool as_json = false;
	json_t *body = json_object();
	char *cause = NULL;
	int ch, rc = 2;
	optind = 0;
	while ((ch = output_getopt(argc, argv, opts)) != -1) {
		if (ch == 'g') {
			if (output_parse_int(optarg, 1, 64, &gpus) < 0) {
				rc = output_usage(resv_reserve_usage, "--gpus: '%s' is not 1 to 64",
						  optarg);
				goto out;
			}
		} else if (ch == 'f') {
			from = optarg;
		} else if (ch == 'd') {
			dur = optarg;
		} else if (ch == 'u') {
			until = optarg;
		} else if (ch == 'n' || ch == 'm' || ch == 't' || ch == 'U') {
			const char *key = ch == 'n'   ? "node"
					  : ch == 'm' ? "gpu_model"
					  : ch == 't' ? "note"
						      : "user";
			json_object_set_new(body, key, json_string(optarg));
			if (!json_object_get(body, key)) {
				rc = output_usage(resv_reserve_usage, "--%s: not valid UTF-8 text",
						  key);
				goto out;
			}
		} else if (ch == 'j') {
			as_json = true;
		} else if (ch == 'h') {
			printf("usage: kaon %s\n", resv_reserve_usage);
			rc = 0;
			goto out;
		} else {
			rc = output_usage(resv_reserve_usage, NULL);
			goto out;
		}
	}
	if (optind < argc) {
		rc = output_usage(resv_reserve_usage, "too many arguments");
		goto out;
	}
	if (!gpus || !from || (!dur && !until) || (dur && until)) {
		rc = output_usage(resv_reserve_usage,
				  "give --gpus, --from, and one of --for or --until");
		goto out;
	}
	if (when_parse(from, now, &start, &cause) < 0) {
		rc = output_usage(resv_reserve_usage, "--from: %s", cause);
		free(cause);
		goto out;
	}
	if (dur && (output_parse_duration(dur, &len) < 0 || len <= 0)) {
		rc = output_usage(resv_reserve_usage,
				  "--for: '%s' is not a duration like 4h, 90m, 2d or 1h30m", dur);
		goto out;
	}
	if (until) {
		/* --until relative to the start: "+2h" is two hours after it. */
		if (when_parse(until, until[0] == '+' ? start : now, &end, &cause) < 0) {
			rc = output_usage(resv_reserve_usage, "--until: %s", cause);
			free(cause);
			goto out;
		}
		len = end - start;
		if (len <= 0) {
			rc = output_usage(resv_reserve_usage, "--until is not after --from");
			goto out;
		}
	}
	json_object_set_new(body, "gpus", json_integer(gpus));
	json_object_set_new(body, "start", json_integer(start));
	json_object_set_new(body, "duration_s", json_integer(len));

	struct client *c;
	if (client_open(&c, &cause) < 0) {
		rc = output_fail_cause(cause);
		goto out;
	}
	json_t *ans = NULL, *err = NULL;
	long status = 0;
	if (client_call_err(c, "POST", "/api/v1/reservations", body, &ans, &err, &status, &cause) <
	    0) {
		rc = output_fail_cause(cause);
		if (status == 409)
			resv_print_windows(err, gpus, len);
		json_decref(err);
	} else {
		if (as_json)
			output_json(ans);
		else
			resv_print_one("Booked", ans);
		json_decref(ans);
		rc = 0;
	}
	client_free(c);
out:
	json_decref(body);
	return rc;
}

/* ---- kaon reservations -------------------------------------------------------- */

static void resv_table(const json_t *rs)
{
	static const char *const headers[] = {"ID",  "USER",  "GPUS",  "NODE", "START",
					      "END", "STATE", "PHASE", "NOTE"};
	struct output_table *t = output_table_new(headers, 9);
	size_t i;
	json_t *r;
	json_array_foreach(rs, i, r)
	{
		char b1[OUTPUT_UNIT_LEN], b2[OUTPUT_UNIT_LEN];
		char *list = resv_gpu_list(json_object_get(r, "gpu_indices"));
		output_table_addf(t, "%lld",
				  (long long)json_integer_value(json_object_get(r, "id")));
		output_table_add(t, output_str(r, "user"));
		output_table_addf(t, "%lld (%s)",
				  (long long)json_integer_value(json_object_get(r, "gpus")), list);
		output_table_add(t, output_str(r, "node"));
		output_table_add(t, resv_time(r, "start", b1));
		output_table_add(t, resv_time(r, "end", b2));
		output_table_add(t, output_str(r, "state"));
		output_table_add(t, output_str(r, "phase"));
		output_table_add(t, output_str(r, "note"));
		free(list);
	}
	output_table_print(t, stdout);
}

int cli_reservations(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool all = false, as_json = false;
	int ch;
	optind = 0;
	while ((ch = output_getopt(argc, argv, opts)) != -1) {
		if (ch == 'a')
			all = true;
		else if (ch == 'j')
			as_json = true;
		else if (ch == 'h')
			return printf("usage: kaon %s\n", resv_list_usage), 0;
		else
			return output_usage(resv_list_usage, NULL);
	}
	if (optind < argc)
		return output_usage(resv_list_usage, "too many arguments");
	json_t *ans = NULL;
	char *cause = NULL;
	if (client_call_once("GET", all ? "/api/v1/reservations" : "/api/v1/reservations?mine=1",
			     NULL, &ans, &cause) < 0)
		return output_fail_cause(cause);
	if (as_json)
		output_json(ans);
	else
		resv_table(json_object_get(ans, "reservations"));
	json_decref(ans);
	return 0;
}

/* ---- kaon unreserve, kaon reservation approve|reject ----------------------------- */

/* POST /api/v1/reservations/ID/action with body for each ID; prints what
 * happened. 0 when every one went through, else 1. */
static int resv_act(int argc, char **argv, const char *usage, const char *action, bool one,
		    bool takes_note)
{
	static const struct option with_note[] = {
	    {"note", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *note = NULL;
	bool as_json = false;
	int ch;
	optind = 0;
	while ((ch = output_getopt(argc, argv, with_note)) != -1) {
		if (ch == 't' && takes_note)
			note = optarg;
		else if (ch == 'j')
			as_json = true;
		else if (ch == 'h')
			return printf("usage: kaon %s\n", usage), 0;
		else
			return output_usage(usage, NULL);
	}
	if (optind == argc)
		return output_usage(usage, "missing the reservation's ID");
	if (one && argc - optind > 1)
		return output_usage(usage, "too many arguments");
	for (int i = optind; i < argc; i++) {
		int64_t id;
		if (output_parse_int(argv[i], 1, INT64_MAX, &id) < 0)
			return output_usage(usage, "'%s' is not a reservation ID", argv[i]);
	}
	struct client *c;
	char *cause = NULL;
	if (client_open(&c, &cause) < 0)
		return output_fail_cause(cause);
	int rc = 0;
	json_t *body = json_object();
	if (note)
		json_object_set_new(body, "note", json_string(note));
	for (int i = optind; i < argc; i++) {
		char *path = xasprintf("/api/v1/reservations/%s/%s", argv[i], action);
		json_t *ans = NULL;
		if (client_call(c, "POST", path, body, &ans, NULL, &cause) < 0) {
			rc = output_fail_cause(cause);
		} else if (as_json) {
			output_json(ans);
		} else {
			resv_print_one(strcmp(action, "cancel") == 0	? "Cancelled"
				       : strcmp(action, "approve") == 0 ? "Approved"
									: "Rejected",
				       ans);
		}
		json_decref(ans);
		free(path);
	}
	json_decref(body);
	client_free(c);
	return rc;
}

int cli_unreserve(int argc, char **argv)
{
	return resv_act(argc, argv, resv_unreserve_usage, "cancel", false, false);
}

static int resv_approve(int argc, char **argv)
{
	return resv_act(argc, argv, resv_approve_usage, "approve", true, true);
}

static int resv_reject(int argc, char **argv)
{
	return resv_act(argc, argv, resv_reject_usage, "reject", true, true);
}

int cli_reservation(int argc, char **argv)
{
	static const struct output_cmd cmds[] = {
	    {"approve", resv_approve, resv_approve_usage},
	    {"reject", resv_reject, resv_reject_usage},
	};
	return output_dispatch(cmds, sizeof cmds / sizeof cmds[0], "reservation", argc, argv);
}
