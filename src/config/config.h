/*
 * config — kaon's settings: built-in defaults, then the INI file given
 * with --config, then command-line flags (each later one wins).
 *
 *   [server]   listen, data, threads, max_body_kib, tls_cert, tls_key
 *   [auth]     session_ttl_s, login_max_failures, login_ip_max_failures,
 *              login_lockout_s, hash_slots
 *   [accounts] home_root, unix_min_uid, default_group
 *   [node]     fake_gpus, cpus_reserved, mem_reserved_mb, oversubscribe
 *   [sched]    half_life_s, w_fairshare, w_age, max_age_s, w_cpu, w_gpu,
 *              grace_s, max_array, reservation_release_s
 *   [files]    quota_mib, min_free_mib, upload_ttl_s, shared_root
 *   [terminal] grace_s, idle_s, scrollback_kib
 *   [sessions] check_s, start_timeout_s
 *   [models]   max_model_mib, worker_program, predict_max_mb,
 *              predict_timeout_s, max_response_mib, worker_walltime_s,
 *              worker_start_timeout_s
 *   [profile NAME]  one interactive-session profile per section: title,
 *              description, kind, command, env, requires, cpus, mem_mb,
 *              gpus, lifetime_s, max_lifetime_s, idle_timeout_s, groups,
 *              position. Kept here as text; server/profiles.c checks them
 *              (they need the store: groups must exist) at start.
 *
 * docs/config.md describes each key; keep it in step with config_keys[].
 */
#ifndef KAON_CONFIG_CONFIG_H
#define KAON_CONFIG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* The keys of one [profile NAME] section, as written. */
struct config_profile {
	char *name;
	char **keys, **values;
	size_t n;
};

struct config {
	/* [server] */
	char *listen;   /* ADDR:PORT */
	char *data_dir; /* made absolute by config_finish() */
	int64_t threads;
	int64_t max_body_kib;
	char *tls_cert, *tls_key;
	/* [auth] */
	int64_t session_ttl_s;
	int64_t login_max_failures;
	int64_t login_ip_max_failures;
	int64_t login_lockout_s;
	int64_t hash_slots;
	/* [accounts] */
	char *home_root; /* default DATA/home */
	int64_t unix_min_uid;
	char *default_group;
	/* [node] */
	int64_t fake_gpus;
	int64_t cpus_reserved;
	int64_t mem_reserved_mb;
	/* Jobs that may share one CPU (Slurm's OverSubscribe=FORCE:N); a
	 * job still asks for no more CPUs than the node has. */
	int64_t oversubscribe;
	/* [sched] */
	int64_t half_life_s;
	int64_t w_fairshare, w_age, max_age_s;
	int64_t w_cpu, w_gpu; /* billing weights */
	int64_t grace_s;      /* SIGTERM to SIGKILL at cancel and wall time */
	int64_t max_array;    /* elements in one array submission */
	int64_t reservation_release_s; /* an unused reservation is released this long after it begins; 0 never */
	/* [files] */
	int64_t quota_mib;    /* per-user bytes in the home, 0: no quota */
	int64_t min_free_mib; /* uploads never leave less free on the disk */
	int64_t upload_ttl_s; /* resumable uploads untouched this long expire */
	char *shared_root;    /* default DATA/shared: one folder per dataset */
	/* [terminal] */
	int64_t term_grace_s;        /* a terminal with no client lives this long */
	int64_t term_idle_s;         /* no input or output this long ends it; 0: never */
	int64_t term_scrollback_kib; /* output kept per terminal for reattaching */
	/* [sessions] */
	int64_t sessions_check_s; /* the sessions monitor's idle-culling period */
	int64_t sessions_start_timeout_s; /* a session's service must answer within this */
	/* [models] */
	int64_t max_model_mib; /* a registered model folder's size */
	char *models_worker_program; /* default DATA/libexec/kaon-model-worker */
	char *models_seed_dir;	     /* first start: register its model folders; NULL none */
	int64_t models_predict_max_mb; /* a predict request's body (uploads included) */
	int64_t models_predict_timeout_s;      /* a prediction's default time limit */
	int64_t models_max_response_mib;       /* largest answer a worker may give */
	int64_t models_worker_walltime_s;      /* 0: the owner's group's max_walltime_s */
	int64_t models_worker_start_timeout_s; /* a started worker must listen within this */
	/* [profile NAME] sections, in file order */
	struct config_profile *profiles;
	size_t nprofiles;
};

void config_defaults(struct config *c);
/* Read an INI file over the current values; 0 or -1 with *cause. */
int config_load_file(struct config *c, const char *path, char **cause);
/* Set one value by section and key, as the file would; 0 or -1. */
int config_set(struct config *c, const char *section, const char *key, const char *value,
	       char **cause);
/* The value of key in a [profile NAME] section, or NULL. */
const char *config_profile_get(const struct config_profile *p, const char *key);
/* Derive what depends on other settings (absolute data dir, home root). */
int config_finish(struct config *c, char **cause);
void config_clear(struct config *c);

#endif
