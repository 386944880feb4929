/*
 * kaon — one binary: `kaon server` runs the daemon; every other verb is a
 * client. This file maps argv[1] to a verb and does nothing else.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "server/sessionshell.h"

#ifndef KAON_VERSION
#define KAON_VERSION "0.1.0"
#endif

struct main_verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage; /* NULL: a verb kaon runs itself, left out of the help */
};

static const struct main_verb main_verbs[] = {
	{ "server", cli_server, "server [--listen ADDR:PORT] [--data DIR] [--config FILE] ..." },
	{ "login", cli_login, "login URL              log in and store an API token" },
	{ "logout", cli_logout, "logout                 revoke and forget the stored token" },
	{ "whoami", cli_whoami, "whoami [--json]        show who the stored credentials are" },
	{ "tokens", cli_tokens, "tokens list|create|delete ...  manage your API tokens" },
	{ "submit", cli_submit, "submit [FLAGS] -- COMMAND [ARGS...] | SCRIPT  submit a job" },
	{ "jobs", cli_jobs, "jobs [--all|--user U] [--state S] [--json]  list your jobs" },
	{ "show", cli_show, "show ID [--json]       every detail of one job" },
	{ "logs", cli_logs, "logs [-f] [--stderr] ID  print (or follow) a job's output" },
	{ "cancel", cli_cancel, "cancel ID...           cancel jobs" },
	{ "hold", cli_hold, "hold ID...             keep pending jobs from starting" },
	{ "release", cli_release, "release ID...          let held jobs start" },
	{ "queue", cli_queue, "queue [--json]         every pending and running job" },
	{ "why", cli_why, "why ID [--json]        why a job is pending, and when it should start" },
	{ "models", cli_models, "models [list|show|add|set|remove] ...  the model catalog" },
	{ "nodes", cli_nodes, "nodes [--json]         CPUs, memory and GPUs, and who holds them" },
	{ "share", cli_share, "share [--json]         fair-share usage and priority factors" },
	{ "profiles", cli_profiles, "profiles [--json]      the session profiles you may launch" },
	{ "sessions", cli_sessions, "sessions [--ended] [--json]  your interactive sessions" },
	{ "open", cli_open, "open PROFILE|ID|NAME [--name N] [--folder F]  start or open a session" },
	{ "stop", cli_stop, "stop ID|NAME...        stop sessions" },
	{ "extend", cli_extend, "extend ID|NAME 2h      give a session more time" },
	{ "reserve", cli_reserve,
	  "reserve --gpus N --from WHEN (--for 4h | --until WHEN)  book GPUs ahead" },
	{ "reservations", cli_reservations, "reservations [--all] [--json]  your (or all) GPU reservations" },
	{ "unreserve", cli_unreserve, "unreserve ID...        cancel reservations" },
	{ "reservation", cli_reservation, "reservation approve|reject ID [--note T]  review one (admins)" },
	{ "admin", cli_admin, "admin users|groups ...  manage accounts (admins)\n"
			      "  kaon admin --data DIR create-user|token ...  offline, no server" },
	{ "session-shell", sessionshell_main, NULL },
};

static void main_usage(FILE *out)
{
	fprintf(out, "usage: kaon VERB [ARGS...]\n\nverbs:\n");
	for (size_t i = 0; i < sizeof main_verbs / sizeof main_verbs[0]; i++)
		if (main_verbs[i].usage)
			fprintf(out, "  kaon %s\n", main_verbs[i].usage);
	fprintf(out, "\n  kaon version | help\n\nSee README.md and docs/ for details.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		main_usage(stderr);
		return 2;
	}
	const char *verb = argv[1];
	if (strcmp(verb, "help") == 0 || strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
		main_usage(stdout);
		return 0;
	}
	if (strcmp(verb, "version") == 0 || strcmp(verb, "--version") == 0) {
		printf("kaon %s\n", KAON_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof main_verbs / sizeof main_verbs[0]; i++)
		if (strcmp(verb, main_verbs[i].name) == 0)
			return main_verbs[i].run(argc - 1, argv + 1);
	fprintf(stderr, "kaon: unknown verb '%s' (try 'kaon help')\n", verb);
	return 2;
}
