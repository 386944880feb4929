/*
 * cli/server — `kaon server [flags]`: read the config file, apply flags
 * over it, and run the daemon.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/config.h"
#include "lib/log.h"
#include "server/server.h"

static void cli_server_usage(FILE *out)
{
	fprintf(out, "usage: kaon server [--listen ADDR:PORT] [--data DIR] [--config FILE]\n"
		     "                   [--tls-cert FILE --tls-key FILE] [--threads N]\n"
		     "                   [--seed-models DIR] [--debug]\n"
		     "  --listen    address and port (default 127.0.0.1:8080; port 0 picks a free one)\n"
		     "  --data      data directory (default ./kaon-data)\n"
		     "  --config    INI file with more settings (docs/config.md)\n"
		     "  --seed-models  on first start, register each model folder in DIR\n"
		     "              (make run gives the repository's models/)\n");
}

/* The setting for each 'S' option, by index in opts[]. */
static const struct {
	const char *section, *key;
} cli_server_keys[] = { { "server", "listen" },	  { "server", "data" },
			{ "server", "tls_cert" }, { "server", "tls_key" },
			{ "server", "threads" },  { "models", "seed_dir" } };

int cli_server(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'S' },
		{ "data", required_argument, NULL, 'S' },
		{ "tls-cert", required_argument, NULL, 'S' },
		{ "tls-key", required_argument, NULL, 'S' },
		{ "threads", required_argument, NULL, 'S' },
		{ "seed-models", required_argument, NULL, 'S' },
		{ "config", required_argument, NULL, 'c' },
		{ "debug", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* Flags win over the file, so remember them and apply them after it.
	 * Options with val 'S' are settings (cli_server_keys). */
	struct cli_server_flag {
		const char *section, *key, *value;
	} flags[8];
	size_t nflags = 0;
	const char *config_path = NULL;
	int c, idx;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		switch (c) {
		case 'S':
			if (nflags == sizeof flags / sizeof flags[0]) {
				cli_server_usage(stderr);
				return 2;
			}
			flags[nflags++] = (struct cli_server_flag){ cli_server_keys[idx].section,
								    cli_server_keys[idx].key, optarg };
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		case 'h':
			cli_server_usage(stdout);
			return 0;
		default:
			cli_server_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kaon: unexpected argument '%s'\n", argv[optind]);
		cli_server_usage(stderr);
		return 2;
	}
	struct config cfg;
	config_defaults(&cfg);
	char *cause = NULL;
	if (config_path && config_load_file(&cfg, config_path, &cause) < 0)
		goto fail;
	for (size_t i = 0; i < nflags; i++)
		if (config_set(&cfg, flags[i].section, flags[i].key, flags[i].value, &cause) < 0)
			goto fail;
	return server_run(&cfg);
fail:
	fprintf(stderr, "kaon: %s\n", cause);
	free(cause);
	config_clear(&cfg);
	return 1;
}
