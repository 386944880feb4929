/* libFuzzer target: a batch script's #KAON header, as `kaon submit
 * SCRIPT` scans it, and the word splitting of one line on its own. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/jobscript.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jobscript js;
	char *cause = NULL;
	if (jobscript_parse((const char *)data, size, &js, &cause) < 0) {
		if (!cause || !*cause)
			abort(); /* a failure always says why */
		free(cause);
	}
	for (size_t i = 0; i < js.ndirs; i++) {
		if (js.dirs[i].argc < 2 || js.dirs[i].argv[js.dirs[i].argc] != NULL)
			abort();
		for (int w = 0; w < js.dirs[i].argc; w++)
			(void)strlen(js.dirs[i].argv[w]);
	}
	jobscript_clear(&js);

	int argc;
	char **argv;
	cause = NULL;
	if (jobscript_split((const char *)data, size, "#KAON", &argc, &argv, &cause) == 0)
		jobscript_words_free(argv);
	else
		free(cause);
	return 0;
}
