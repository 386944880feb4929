/* libFuzzer target: path_decode + path_resolve on arbitrary bytes under a
 * small tree with links that lead out. Whatever resolves must be a folder
 * inside the root, and the last component a plain name. */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/path.h"

static int path_fuzz_root = -1;
static char path_fuzz_real[PATH_MAX];

static void path_fuzz_cleanup(void)
{
	unlinkat(path_fuzz_root, "a/up", 0);
	unlinkat(path_fuzz_root, "out", 0);
	unlinkat(path_fuzz_root, "in", 0);
	unlinkat(path_fuzz_root, "a/b", AT_REMOVEDIR);
	unlinkat(path_fuzz_root, "a", AT_REMOVEDIR);
	rmdir(path_fuzz_real);
}

static void path_fuzz_setup(void)
{
	char tmpl[] = "/tmp/kaon-path-fuzz.XXXXXX";
	if (!mkdtemp(tmpl))
		abort();
	if (!realpath(tmpl, path_fuzz_real))
		abort();
	path_fuzz_root = open(tmpl, O_RDONLY | O_DIRECTORY);
	if (path_fuzz_root < 0 || mkdirat(path_fuzz_root, "a", 0700) < 0 ||
	    mkdirat(path_fuzz_root, "a/b", 0700) < 0 || symlinkat("/", path_fuzz_root, "out") < 0 ||
	    symlinkat("..", path_fuzz_root, "a/up") < 0 || symlinkat("a", path_fuzz_root, "in") < 0)
		abort();
	atexit(path_fuzz_cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (path_fuzz_root < 0)
		path_fuzz_setup();
	char *p;
	size_t n;
	if (path_decode((const char *)data, size, &p, &n) < 0)
		return 0;
	struct path_ref ref;
	const char *why = NULL;
	int rc = path_resolve(path_fuzz_root, p, n, &ref, &why);
	if (rc < 0) {
		if (!why)
			abort();
		free(p);
		return 0;
	}
	if (strchr(ref.name, '/') || strcmp(ref.name, "..") == 0 ||
	    (!ref.is_root && !strcmp(ref.name, ".")))
		abort();
	char link[64], real[PATH_MAX];
	snprintf(link, sizeof link, "/proc/self/fd/%d", ref.dirfd);
	ssize_t len = readlink(link, real, sizeof real - 1);
	if (len < 0)
		abort();
	real[len] = '\0';
	size_t rl = strlen(path_fuzz_real);
	if (strncmp(real, path_fuzz_real, rl) != 0 || (real[rl] != '\0' && real[rl] != '/'))
		abort(); /* escaped the root */
	path_ref_close(&ref);
	free(p);
	return 0;
}
