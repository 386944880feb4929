/*
 * cli/admin_offline — `kaon admin --data DIR create-user|token ...`:
 * account work straight on the data directory, with no server running
 * (first start scripts, provisioning, recovery). It uses the same code as
 * the API (identity/accounts.c), so a user made here is the same as one
 * made over HTTP, Unix account included. SQLite's locking makes it safe
 * beside a running server too.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/config.h"
#include "identity/accounts.h"
#include "identity/secret.h"
#include "lib/fsio.h"
#include "lib/xalloc.h"
#include "store/credentials.h"
#include "store/db.h"
#include "store/users.h"

enum { CLI_OFFLINE_MAX_GROUPS = 16 };

static void cli_offline_usage(FILE *out)
{
	fprintf(out,
		"usage: kaon admin --data DIR [--config FILE] create-user NAME [--admin] [--group G]...\n"
		"                  [--password-file F|-] [--display-name S] [--email S] [--unix-user U]\n"
		"       kaon admin --data DIR [--config FILE] token NAME [--name TOKEN_NAME]\n"
		"                  [--expires-in SECONDS]\n");
}

/* First line of path ("-": stdin) without its newline, into a new string. */
static int cli_offline_read_password(const char *path, char **out, char **cause)
{
	char *text = NULL;
	if (strcmp(path, "-") == 0) {
		size_t cap = 0;
		if (getline(&text, &cap, stdin) < 0) {
			free(text);
			*cause = xstrdup("no password on standard input");
			return -1;
		}
	} else {
		int rc = fsio_read_file(path, 4096, &text, NULL);
		if (rc < 0) {
			*cause = xasprintf("cannot read %s: %s", path, strerror(-rc));
			return -1;
		}
	}
	text[strcspn(text, "\r\n")] = '\0';
	*out = text;
	return 0;
}

static int cli_offline_create_user(struct store *st, const struct config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "admin", no_argument, NULL, 'a' },
		{ "group", required_argument, NULL, 'g' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "display-name", required_argument, NULL, 'n' },
		{ "email", required_argument, NULL, 'e' },
		{ "unix-user", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	const char *groups[CLI_OFFLINE_MAX_GROUPS];
	struct accounts_new_user in = { .groups = groups };
	const char *password_file = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			in.admin = true;
			break;
		case 'g':
			if (in.ngroups == CLI_OFFLINE_MAX_GROUPS) {
				fprintf(stderr, "kaon: at most %d groups\n", CLI_OFFLINE_MAX_GROUPS);
				return 2;
			}
			groups[in.ngroups++] = optarg;
			break;
		case 'p':
			password_file = optarg;
			break;
		case 'n':
			in.display_name = optarg;
			break;
		case 'e':
			in.email = optarg;
			break;
		case 'u':
			in.unix_user = optarg;
			break;
		default:
			cli_offline_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		cli_offline_usage(stderr);
		return 2;
	}
	in.username = argv[optind];
	char *password = NULL, *cause = NULL;
	if (password_file && cli_offline_read_password(password_file, &password, &cause) < 0)
		goto fail;
	in.password = password;
	struct store_user u;
	if (accounts_user_create(st, cfg, &in, &u, &cause) < 0)
		goto fail;
	printf("created user %s (Unix account %s, uid %lld, home %s)%s\n", u.username, u.unix_user,
	       (long long)u.uid, u.home, password ? "" : "; no password: log in with a token");
	store_user_clear(&u);
	free(password);
	return 0;
fail:
	fprintf(stderr, "kaon: %s\n", cause);
	free(cause);
	free(password);
	return 1;
}

static int cli_offline_token(struct store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "expires-in", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = "admin-cli";
	long long expires_in = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'e':
			errno = 0;
			expires_in = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || expires_in < 60) {
				fprintf(stderr, "kaon: --expires-in must be a number of seconds >= 60\n");
				return 2;
			}
			break;
		default:
			cli_offline_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		cli_offline_usage(stderr);
		return 2;
	}
	if (strlen(name) == 0 || strlen(name) > 64) {
		fprintf(stderr, "kaon: --name must be 1 to 64 characters\n");
		return 2;
	}
	struct store_user u = { 0 };
	int rc = store_user_get(st, argv[optind], &u);
	if (rc < 0) {
		fprintf(stderr, "kaon: %s\n", rc == -ENOENT ? "no such user" : "store error");
		return 1;
	}
	char *secret;
	struct store_token t;
	rc = accounts_token_issue(st, u.id, name, expires_in, &secret, &t);
	store_user_clear(&u);
	if (rc < 0) {
		fprintf(stderr, "kaon: cannot create token (store error)\n");
		return 1;
	}
	printf("%s\n", secret);
	free(secret);
	free(t.name);
	free(t.prefix);
	return 0;
}

int cli_admin_offline(int argc, char **argv)
{
	/* argv: admin --data DIR [--config FILE] VERB ... */
	struct config cfg;
	config_defaults(&cfg);
	const char *config_path = NULL, *data = NULL;
	int i = 1;
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "--data") == 0)
			data = argv[i + 1];
		else if (strcmp(argv[i], "--config") == 0)
			config_path = argv[i + 1];
		else
			break;
	}
	if (!data || i >= argc) {
		cli_offline_usage(stderr);
		config_clear(&cfg);
		return 2;
	}
	char *cause = NULL;
	struct store *st = NULL;
	int status = 1;
	if (config_path && config_load_file(&cfg, config_path, &cause) < 0)
		goto out;
	if (config_set(&cfg, "server", "data", data, &cause) < 0 || config_finish(&cfg, &cause) < 0)
		goto out;
	if (secret_init() < 0) {
		cause = xstrdup("sodium_init() failed");
		goto out;
	}
	char *path = xasprintf("%s/kaon.db", cfg.data_dir);
	int rc = store_open(path, &st, &cause);
	free(path);
	if (rc < 0)
		goto out;
	if (strcmp(argv[i], "create-user") == 0)
		status = cli_offline_create_user(st, &cfg, argc - i, argv + i);
	else if (strcmp(argv[i], "token") == 0)
		status = cli_offline_token(st, argc - i, argv + i);
	else {
		cli_offline_usage(stderr);
		status = 2;
	}
out:
	if (cause) {
		fprintf(stderr, "kaon: %s\n", cause);
		free(cause);
	}
	store_close(st);
	config_clear(&cfg);
	return status;
}
