/* config — defaults, INI file and overrides (see config.h). */
#include "config/config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsio.h"
#include "lib/ini.h"
#include "lib/xalloc.h"

enum config_type { CONFIG_STR, CONFIG_INT };

struct config_key {
	const char *section;
	const char *key;
	enum config_type type;
	size_t offset;
	int64_t min, max;
};

#define STR(sec, name, field) { sec, name, CONFIG_STR, offsetof(struct config, field), 0, 0 }
#define INT(sec, name, field, lo, hi) { sec, name, CONFIG_INT, offsetof(struct config, field), lo, hi }

static const struct config_key config_keys[] = {
	STR("server", "listen", listen),
	STR("server", "data", data_dir),
	INT("server", "threads", threads, 1, 256),
	INT("server", "max_body_kib", max_body_kib, 1, 1024 * 1024),
	STR("server", "tls_cert", tls_cert),
	STR("server", "tls_key", tls_key),
	INT("auth", "session_ttl_s", session_ttl_s, 60, 366 * 86400),
	INT("auth", "login_max_failures", login_max_failures, 1, 1000),
	INT("auth", "login_ip_max_failures", login_ip_max_failures, 1, 100000),
	INT("auth", "login_lockout_s", login_lockout_s, 1, 86400),
	INT("auth", "hash_slots", hash_slots, 1, 64),
	STR("accounts", "home_root", home_root),
	INT("accounts", "unix_min_uid", unix_min_uid, 1, 2147483647),
	STR("accounts", "default_group", default_group),
	INT("node", "fake_gpus", fake_gpus, 0, 64),
	INT("node", "cpus_reserved", cpus_reserved, 0, 1 << 20),
	INT("node", "mem_reserved_mb", mem_reserved_mb, 0, (int64_t)1 << 40),
	INT("node", "oversubscribe", oversubscribe, 1, 64),
	INT("sched", "half_life_s", half_life_s, 0, (int64_t)10 * 366 * 86400),
	INT("sched", "w_fairshare", w_fairshare, 0, 1000000000),
	INT("sched", "w_age", w_age, 0, 1000000000),
	INT("sched", "max_age_s", max_age_s, 1, (int64_t)366 * 86400),
	INT("sched", "w_cpu", w_cpu, 0, 1000000),
	INT("sched", "w_gpu", w_gpu, 0, 1000000),
	INT("sched", "grace_s", grace_s, 0, 3600),
	INT("sched", "max_array", max_array, 1, 1000000),
	INT("sched", "reservation_release_s", reservation_release_s, 0, (int64_t)366 * 86400),
	INT("models", "max_model_mib", max_model_mib, 1, (int64_t)1 << 20),
	INT("files", "quota_mib", quota_mib, 0, (int64_t)1 << 40),
	INT("files", "min_free_mib", min_free_mib, 0, (int64_t)1 << 40),
	INT("files", "upload_ttl_s", upload_ttl_s, 60, (int64_t)366 * 86400),
	STR("files", "shared_root", shared_root),
	INT("terminal", "grace_s", term_grace_s, 1, (int64_t)366 * 86400),
	INT("terminal", "idle_s", term_idle_s, 0, (int64_t)366 * 86400),
	INT("terminal", "scrollback_kib", term_scrollback_kib, 4, 64 * 1024),
	INT("sessions", "check_s", sessions_check_s, 1, 3600),
	INT("sessions", "start_timeout_s", sessions_start_timeout_s, 5, 86400),
	STR("models", "worker_program", models_worker_program),
	STR("models", "seed_dir", models_seed_dir),
	INT("models", "predict_max_mb", models_predict_max_mb, 1, 1 << 20),
	INT("models", "predict_timeout_s", models_predict_timeout_s, 1, 86400),
	INT("models", "max_response_mib", models_max_response_mib, 1, 4096),
	INT("models", "worker_walltime_s", models_worker_walltime_s, 0, (int64_t)366 * 86400),
	INT("models", "worker_start_timeout_s", models_worker_start_timeout_s, 5, 86400),
};

/* What a [profile NAME] section may hold; the values are checked by
 * server/profiles.c, which knows what each means. */
static const char *const config_profile_keys[] = {
	"title",	  "description",    "kind",	      "command", "env",
	"requires",	  "cpus",	    "mem_mb",	      "gpus",	 "lifetime_s",
	"max_lifetime_s", "idle_timeout_s", "groups",	      "position",
};

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	c->listen = xstrdup("127.0.0.1:8080");
	c->data_dir = xstrdup("./kaon-data");
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	/* Password hashes hold a worker for tens of milliseconds; keep a few
	 * more threads than cores so logins never stall everything else. */
	c->threads = ncpu < 2 ? 4 : ncpu * 2 > 32 ? 32 : ncpu * 2;
	c->max_body_kib = 1024;
	c->session_ttl_s = 12 * 3600;
	c->login_max_failures = 5;
	c->login_ip_max_failures = 50;
	c->login_lockout_s = 300;
	c->hash_slots = 2;
	c->unix_min_uid = 1000;
	c->default_group = xstrdup("researchers");
	c->half_life_s = 7 * 86400;
	c->w_fairshare = 10000;
	c->w_age = 1000;
	c->max_age_s = 7 * 86400;
	c->w_cpu = 1;
	c->w_gpu = 10;
	c->grace_s = 10;
	c->oversubscribe = 1;
	c->max_array = 10000;
	c->reservation_release_s = 1800;
	c->max_model_mib = 2048;
	c->min_free_mib = 64;
	c->upload_ttl_s = 86400;
	c->term_grace_s = 3600;
	c->term_idle_s = 0;
	c->term_scrollback_kib = 256;
	c->sessions_check_s = 10;
	c->sessions_start_timeout_s = 300;
	c->models_predict_max_mb = 100;
	c->models_predict_timeout_s = 60;
	c->models_max_response_mib = 64;
	c->models_worker_walltime_s = 0;
	c->models_worker_start_timeout_s = 600;
}

/* A key of section "profile NAME": kept as text, a repeated key replacing
 * the earlier value (as for every other setting). */
static int config_set_profile(struct config *c, const char *name, const char *key,
			      const char *value, char **cause)
{
	size_t k;
	for (k = 0; k < sizeof config_profile_keys / sizeof config_profile_keys[0]; k++)
		if (strcmp(config_profile_keys[k], key) == 0)
			break;
	if (k == sizeof config_profile_keys / sizeof config_profile_keys[0]) {
		*cause = xasprintf("unknown setting [profile %s] %s", name, key);
		return -1;
	}
	struct config_profile *p = NULL;
	for (size_t i = 0; i < c->nprofiles; i++)
		if (strcmp(c->profiles[i].name, name) == 0)
			p = &c->profiles[i];
	if (!p) {
		c->profiles = xrealloc(c->profiles, (c->nprofiles + 1) * sizeof *c->profiles);
		p = &c->profiles[c->nprofiles++];
		memset(p, 0, sizeof *p);
		p->name = xstrdup(name);
	}
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->keys[i], key) == 0) {
			free(p->values[i]);
			p->values[i] = xstrdup(value);
			return 0;
		}
	p->keys = xrealloc(p->keys, (p->n + 1) * sizeof *p->keys);
	p->values = xrealloc(p->values, (p->n + 1) * sizeof *p->values);
	p->keys[p->n] = xstrdup(key);
	p->values[p->n++] = xstrdup(value);
	return 0;
}

const char *config_profile_get(const struct config_profile *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->keys[i], key) == 0)
			return p->values[i];
	return NULL;
}

int config_set(struct config *c, const char *section, const char *key, const char *value,
	       char **cause)
{
	if (strncmp(section, "profile ", 8) == 0)
		return config_set_profile(c, section + 8, key, value, cause);
	for (size_t i = 0; i < sizeof config_keys / sizeof config_keys[0]; i++) {
		const struct config_key *k = &config_keys[i];
		if (strcmp(k->section, section) != 0 || strcmp(k->key, key) != 0)
			continue;
		void *field = (char *)c + k->offset;
		if (k->type == CONFIG_STR) {
			char **s = field;
			free(*s);
			*s = *value ? xstrdup(value) : NULL;
			return 0;
		}
		char *end;
		errno = 0;
		long long v = strtoll(value, &end, 10);
		if (errno || end == value || *end || v < k->min || v > k->max) {
			*cause = xasprintf("[%s] %s must be an integer from %lld to %lld", section, key,
					   (long long)k->min, (long long)k->max);
			return -1;
		}
		*(int64_t *)field = v;
		return 0;
	}
	*cause = xasprintf("unknown setting [%s] %s", section, key);
	return -1;
}

static int config_ini_handler(void *ctx, const char *section, const char *key, const char *value,
			      char **cause)
{
	return config_set(ctx, section, key, value, cause);
}

int config_load_file(struct config *c, const char *path, char **cause)
{
	char *text;
	size_t len;
	int rc = fsio_read_file(path, 1 << 20, &text, &len);
	if (rc < 0) {
		*cause = xasprintf("cannot read config %s: %s", path, strerror(-rc));
		return -1;
	}
	char *inner = NULL;
	rc = ini_parse(text, len, config_ini_handler, c, &inner);
	free(text);
	if (rc < 0) {
		*cause = xasprintf("%s: %s", path, inner);
		free(inner);
		return -1;
	}
	return 0;
}

int config_finish(struct config *c, char **cause)
{
	int rc = fsio_mkdir_p(c->data_dir, 0711);
	if (rc < 0) {
		*cause = xasprintf("cannot create data directory %s: %s", c->data_dir, strerror(-rc));
		return -1;
	}
	char abs[PATH_MAX];
	if (!realpath(c->data_dir, abs)) {
		*cause = xasprintf("cannot resolve data directory %s: %s", c->data_dir, strerror(errno));
		return -1;
	}
	free(c->data_dir);
	c->data_dir = xstrdup(abs);
	if (!c->home_root)
		c->home_root = xasprintf("%s/home", c->data_dir);
	if (!c->shared_root)
		c->shared_root = xasprintf("%s/shared", c->data_dir);
	if (!c->models_worker_program)
		c->models_worker_program = xasprintf("%s/libexec/kaon-model-worker", c->data_dir);
	if ((c->tls_cert == NULL) != (c->tls_key == NULL)) {
		*cause = xstrdup("TLS needs both a certificate and a key (--tls-cert and --tls-key)");
		return -1;
	}
	return 0;
}

void config_clear(struct config *c)
{
	for (size_t i = 0; i < sizeof config_keys / sizeof config_keys[0]; i++)
		if (config_keys[i].type == CONFIG_STR)
			free(*(char **)((char *)c + config_keys[i].offset));
	for (size_t i = 0; i < c->nprofiles; i++) {
		struct config_profile *p = &c->profiles[i];
		for (size_t k = 0; k < p->n; k++) {
			free(p->keys[k]);
			free(p->values[k]);
		}
		free(p->keys);
		free(p->values);
		free(p->name);
	}
	free(c->profiles);
	memset(c, 0, sizeof *c);
}
