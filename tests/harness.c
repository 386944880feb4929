/* harness — registration, forked runs, the summary line (see harness.h). */
#include "harness.h"

#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

enum { HARNESS_MAX = 1024, HARNESS_EXIT_SKIP = 77 };

static struct {
	const char *name;
	const char *file;
	harness_fn fn;
} harness_tests[HARNESS_MAX];
static int harness_count;
static char harness_dir[256];

void harness_register(const char *name, const char *file, harness_fn fn)
{
	if (harness_count == HARNESS_MAX) {
		fprintf(stderr, "harness: more than %d tests\n", HARNESS_MAX);
		abort();
	}
	harness_tests[harness_count].name = name;
	harness_tests[harness_count].file = file;
	harness_tests[harness_count].fn = fn;
	harness_count++;
}

void harness_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "    %s:%d: ", file, line);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	_exit(1);
}

void harness_skip(const char *why)
{
	fprintf(stderr, "    skipped: %s\n", why);
	_exit(HARNESS_EXIT_SKIP);
}

const char *harness_tmpdir(void)
{
	if (!harness_dir[0]) {
		snprintf(harness_dir, sizeof harness_dir, "/tmp/kaon-unit-XXXXXX");
		if (!mkdtemp(harness_dir))
			harness_fail(__FILE__, __LINE__, "mkdtemp failed");
	}
	return harness_dir;
}

static int harness_selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strstr(name, argv[i]))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0, skipped = 0;
	for (int i = 0; i < harness_count; i++) {
		if (!harness_selected(harness_tests[i].name, argc, argv))
			continue;
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			harness_tests[i].fn();
			if (harness_dir[0]) {
				char cmd[300];
				snprintf(cmd, sizeof cmd, "rm -rf '%s'", harness_dir);
				if (system(cmd) != 0)
					fprintf(stderr, "harness: could not remove %s\n", harness_dir);
			}
			_exit(0);
		}
		int status = 0;
		waitpid(pid, &status, 0);
		const char *verdict;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			verdict = "ok", passed++;
		else if (WIFEXITED(status) && WEXITSTATUS(status) == HARNESS_EXIT_SKIP)
			verdict = "skip", skipped++;
		else
			verdict = "FAIL", failed++;
		printf("%-4s %s (%s)\n", verdict, harness_tests[i].name, harness_tests[i].file);
	}
	printf("unit: %d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
