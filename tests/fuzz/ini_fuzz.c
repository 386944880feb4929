/* libFuzzer target: the INI parser with the real config handler, as
 * `kaon server --config FILE` runs it. */
#include <stdint.h>
#include <stdlib.h>

#include "config/config.h"
#include "lib/ini.h"

static int ini_fuzz_handler(void *ctx, const char *section, const char *key, const char *value,
			    char **cause)
{
	return config_set(ctx, section, key, value, cause);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	config_defaults(&c);
	char *cause = NULL;
	if (ini_parse((const char *)data, size, ini_fuzz_handler, &c, &cause) < 0)
		free(cause);
	config_clear(&c);
	return 0;
}
