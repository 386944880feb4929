/*
 * server/server — `kaon server`: prepare the data directory and store,
 * create the first admin on first start, serve HTTP, and wait for
 * SIGTERM or SIGINT. The main thread also does periodic housekeeping
 * (dropping expired sessions and tokens) between signals.
 */
#include "server/server.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config/config.h"
#include "identity/accounts.h"
#include "identity/password.h"
#include "identity/ratelimit.h"
#include "identity/secret.h"
#include "identity/unixacct.h"
#include "lib/fsio.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "exec/executor.h"
#include "exec/zygote.h"
#include "server/http.h"
#include "server/libexec.h"
#include "server/modelpool.h"
#include "server/modelseed.h"
#include "server/profiles.h"
#include "server/proxy.h"
#include "server/scheduler.h"
#include "server/sessionmon.h"
#include "server/terminal.h"
#include "store/credentials.h"
#include "store/db.h"

enum { SERVER_HOUSEKEEPING_S = 300, SERVER_RATELIMIT_ENTRIES = 1024 };

static int server_prepare(struct config *cfg, struct store **st, bool *first_start, char **cause)
{
	if (config_finish(cfg, cause) < 0)
		return -1;
	int rc = fsio_mkdir_p(cfg->home_root, 0711);
	if (rc < 0) {
		*cause = xasprintf("cannot create home root %s: %s", cfg->home_root, strerror(-rc));
		return -1;
	}
	/* Job directories belong to their users (0700 each); the parent must
	 * let them through. */
	char *jobs = xasprintf("%s/jobs", cfg->data_dir);
	rc = fsio_mkdir_p(jobs, 0711);
	if (rc == 0 && chmod(jobs, 0711) < 0)
		rc = -errno;
	free(jobs);
	if (rc < 0) {
		*cause = xasprintf("cannot create %s/jobs: %s", cfg->data_dir, strerror(-rc));
		return -1;
	}
	/* Helper programs session jobs run ({libexec} in profiles). */
	if (libexec_install(cfg->data_dir, cause) < 0)
		return -1;
	char *path = xasprintf("%s/kaon.db", cfg->data_dir);
	rc = store_open(path, st, cause);
	free(path);
	if (rc < 0)
		return -1;
	rc = accounts_bootstrap(*st, cfg, cause);
	if (rc >= 0) {
		*first_start = rc == 1;
		/* After the accounts: config profiles may name the groups. */
		rc = profiles_seed(*st, cfg, cause);
	}
	if (rc < 0) {
		store_close(*st);
		*st = NULL;
		return -1;
	}
	return 0;
}

static void server_housekeeping(struct store *st)
{
	int n = store_credentials_purge(st, time(NULL));
	if (n > 0)
		log_info("housekeeping: removed %d expired sessions and tokens", n);
}

int server_run(struct config *cfg)
{
	char *cause = NULL;
	struct store *st = NULL;
	struct server srv = { .cfg = cfg, .started_at = time(NULL) };

	/* Block the signals we wait for before any thread exists, so that
	 * every thread inherits the mask and only sigtimedwait() sees them.
	 * SIGPIPE is ignored: a client that hangs up is not an error. */
	sigset_t waitset;
	sigemptyset(&waitset);
	sigaddset(&waitset, SIGTERM);
	sigaddset(&waitset, SIGINT);
	pthread_sigmask(SIG_BLOCK, &waitset, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (secret_init() < 0) {
		log_error("server: sodium_init() failed");
		return 1;
	}
	password_set_slots((int)cfg->hash_slots);
	bool first_start = false;
	if (server_prepare(cfg, &st, &first_start, &cause) < 0) {
		log_error("server: %s", cause);
		free(cause);
		config_clear(cfg);
		return 1;
	}
	srv.multiuser = unixacct_multiuser();
	log_info("kaon server: data %s, %s mode (%s)", cfg->data_dir,
		 srv.multiuser ? "multi-user" : "single-account",
		 srv.multiuser ? "each kaon user runs as their own Unix account"
			       : "every user's work runs as this Unix account");
	srv.login_user_limit = ratelimit_new(SERVER_RATELIMIT_ENTRIES, (int)cfg->login_max_failures,
					     (int)cfg->login_lockout_s);
	srv.login_addr_limit = ratelimit_new(SERVER_RATELIMIT_ENTRIES, (int)cfg->login_ip_max_failures,
					     (int)cfg->login_lockout_s);
	int status = 0;
	/* The zygote is forked while this process has one thread: before
	 * NVML (which may start threads), the scheduler and the HTTP pool. */
	if (exec_local_init(cfg->data_dir, &cause) < 0 || zygote_start(&cause) < 0 ||
	    inventory_discover(&srv.inv, (int)cfg->fake_gpus, (int)cfg->cpus_reserved,
			       cfg->mem_reserved_mb, &cause) < 0 ||
	    scheduler_start(&srv, &cause) < 0 || sessionmon_start(&srv, &cause) < 0 ||
	    modelpool_start(&srv, &cause) < 0 || terminal_start(&srv, &cause) < 0 || proxy_start(&srv, &cause) < 0) {
		log_error("server: %s", cause);
		free(cause);
		status = 1;
		goto out;
	}
	if (http_start(&srv, &cause) < 0) {
		log_error("server: %s", cause);
		free(cause);
		status = 1;
		goto out;
	}
	if (first_start) {
		log_info("first start: open the address above and log in as 'admin' with the password "
			 "in %s/initial-admin-password",
			 cfg->data_dir);
		if (modelseed_start(&srv, &cause) < 0) {
			log_warn("server: %s", cause); /* the catalog stays empty: not fatal */
			free(cause);
			cause = NULL;
		}
	}
	server_housekeeping(st);
	for (;;) {
		struct timespec timeout = { .tv_sec = SERVER_HOUSEKEEPING_S };
		int sig = sigtimedwait(&waitset, NULL, &timeout);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("server: %s received; shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			break;
		}
		if (sig < 0 && errno == EAGAIN)
			server_housekeeping(st);
	}
	modelseed_stop(&srv);
	terminal_stop(&srv);
	proxy_stop(&srv);
	/* Predictions wait on workers: end them before the HTTP server waits
	 * for its requests. */
	modelpool_stop(&srv);
	http_stop(&srv);
	log_info("server: stopped (running jobs go on under their supervisors)");
out:
	terminal_stop(&srv);
	proxy_stop(&srv);
	terminal_free(&srv);
	modelpool_free(&srv);
	sessionmon_stop(&srv);
	scheduler_stop(&srv);
	zygote_stop();
	ratelimit_free(srv.login_user_limit);
	ratelimit_free(srv.login_addr_limit);
	store_close(st);
	config_clear(cfg);
	return status;
}
