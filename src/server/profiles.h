/*
 * server/profiles — interactive-session profiles: what a valid profile is,
 * the built-in ones, the [profile NAME] sections of the config file, and
 * turning a profile's command and environment into a session's.
 *
 * A profile's command (a JSON array of argv strings) and env (a JSON
 * object of string values) may hold placeholders, replaced when a session
 * is created:
 *
 *   {socket}   the unix socket the service must listen on (the default:
 *              every session gets one, and KAON_SESSION_SOCKET names it)
 *   {port}     a loopback TCP port instead: a profile that uses {port}
 *              anywhere listens on 127.0.0.1:{port} and gets no socket
 *   {base_url} "/s/ID/": the service serves everything under it
 *   {secret}   the per-session secret (for env values: argv is readable by
 *              every local user in /proc, so it does not belong there)
 *   {home}     the owner's home; {workdir} the session job's working folder
 *   {folder}   a folder of the owner's chosen at launch (option "folder",
 *              resolved under the home; default the home itself)
 *   {kaon}     the absolute path of the kaon binary
 *   {libexec}  kaon's helper-program folder, DATA/libexec
 *
 * "{{" and "}}" stand for literal braces; any other brace is an error, so
 * a misspelt placeholder is refused when the profile is saved, not when a
 * user launches it.
 *
 * Profiles come from three sources (store_profile.source): 'builtin'
 * (seeded at start when absent, then editable through the API), 'config'
 * (the config file's sections, written at every start: the file wins) and
 * 'api' (created by an admin).
 */
#ifndef KAON_SERVER_PROFILES_H
#define KAON_SERVER_PROFILES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct config_profile;
struct store;
struct store_profile;

enum {
	PROFILES_NAME_MAX = 32,
	PROFILES_USES_SOCKET = 1 << 0,
	PROFILES_USES_PORT = 1 << 1,
	PROFILES_USES_BASE_URL = 1 << 2,
	PROFILES_USES_SECRET = 1 << 3,
	PROFILES_USES_HOME = 1 << 4,
	PROFILES_USES_WORKDIR = 1 << 5,
	PROFILES_USES_FOLDER = 1 << 6,
	PROFILES_USES_KAON = 1 << 7,
	PROFILES_USES_LIBEXEC = 1 << 8,
};

/* Whether s is a valid profile name: [a-z0-9-]{1,32}. */
bool profiles_name_valid(const char *s);

/* Fill *p from a JSON object as the admin API takes it (name, title,
 * description, kind, command, env, requires, resources {cpus, mem_mb,
 * gpus}, lifetime_s, max_lifetime_s, idle_timeout_s, groups, position),
 * absent fields taking their defaults, and check it (profiles_check).
 * store may be NULL to skip the check that the groups exist. 0, or -1
 * with *why (to free) naming the field. *p is the caller's to clear
 * either way. */
int profiles_from_json(json_t *obj, struct store *st, struct store_profile *p, char **why);
/* The same from a [profile NAME] section (source 'config'); groups there
 * is a JSON array or a comma-separated list. */
int profiles_from_config(const struct config_profile *cp, struct store *st,
			 struct store_profile *p, char **why);
/* Check every field of a filled profile; 0, or -1 with *why. */
int profiles_check(const struct store_profile *p, struct store *st, char **why);

/* Which placeholders the profile's command and env use (PROFILES_USES_*). */
unsigned profiles_uses(const struct store_profile *p);

/* What the placeholders stand for in one session. */
struct profiles_values {
	const char *socket; /* NULL when the profile uses {port} */
	int port;
	const char *base_url, *secret, *home, *workdir, *folder, *kaon, *libexec;
};
/* Replace the placeholders of one string; 0 and *out (to free), or -1
 * with *why. */
int profiles_expand(const char *tmpl, const struct profiles_values *v, char **out, char **why);
/* The session job's argv (JSON array text) and environment (JSON object
 * text): the profile's, expanded, plus KAON_SESSION_SECRET, KAON_BASE_URL
 * and KAON_SESSION_SOCKET or KAON_SESSION_PORT. 0, or -1 with *why. */
int profiles_launch(const struct store_profile *p, const struct profiles_values *v,
		    char **command, char **env, char **why);

/* Whether the profile's `requires` program is found where a job would
 * look for it (the jobs' PATH; an absolute path as it is). */
bool profiles_available(const struct store_profile *p);
/* Whether a member of groups[0..n) may use it (its groups list is empty,
 * or names one of them). */
bool profiles_allowed(const struct store_profile *p, char *const *groups, size_t n);

/* The built-in profiles (static; never freed). */
const struct store_profile *profiles_builtin(size_t *n);
/* At start: insert the built-in profiles that are absent, and write the
 * config file's (replacing what the API made of them). 0, or -1 with
 * *cause naming the section at fault. */
int profiles_seed(struct store *st, const struct config *cfg, char **cause);

/* The profile as GET /api/v1/profiles shows it; with details (admins),
 * also command, env, requires, groups, position, source and available. */
json_t *profiles_json(const struct store_profile *p, bool details, bool available);

#endif
