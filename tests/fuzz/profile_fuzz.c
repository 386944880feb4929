/* libFuzzer target: a session profile as an admin gives it (a JSON body
 * through the same checks as POST /api/v1/profiles, or a config file's
 * [profile NAME] sections), then, when accepted, expanded into a launch
 * as a session would be: whatever passes the checks must expand. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "lib/ini.h"
#include "server/profiles.h"
#include "store/sessions.h"

static void profile_fuzz_launch(struct store_profile *p)
{
	struct profiles_values v = {
		.socket = "/d/jobs/1/kaon.sock", .port = 0, .base_url = "/s/1/", .secret = "s",
		.home = "/h", .workdir = "/h", .folder = "/h/f", .kaon = "/k", .libexec = "/l",
	};
	if (profiles_uses(p) & PROFILES_USES_PORT) {
		v.socket = NULL;
		v.port = 40000;
	}
	char *cmd = NULL, *env = NULL, *why = NULL;
	if (profiles_launch(p, &v, &cmd, &env, &why) < 0)
		abort(); /* a checked profile always expands */
	free(cmd);
	free(env);
}

static int profile_fuzz_ini(void *ctx, const char *section, const char *key, const char *value,
			    char **cause)
{
	return config_set(ctx, section, key, value, cause);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *why = NULL;
	json_t *obj = json_loadb((const char *)data, size, 0, NULL);
	if (obj) {
		struct store_profile p;
		memset(&p, 0, sizeof p);
		if (profiles_from_json(obj, NULL, &p, &why) == 0)
			profile_fuzz_launch(&p);
		free(why);
		why = NULL;
		store_profile_clear(&p);
		json_decref(obj);
		return 0;
	}
	struct config c;
	config_defaults(&c);
	if (ini_parse((const char *)data, size, profile_fuzz_ini, &c, &why) == 0) {
		for (size_t i = 0; i < c.nprofiles; i++) {
			struct store_profile p;
			memset(&p, 0, sizeof p);
			char *inner = NULL;
			if (profiles_from_config(&c.profiles[i], NULL, &p, &inner) == 0)
				profile_fuzz_launch(&p);
			free(inner);
			store_profile_clear(&p);
		}
	}
	free(why);
	config_clear(&c);
	return 0;
}
