/* Unit tests of lib/ini.c and config/config.c. */
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "config/config.h"
#include "lib/ini.h"

struct ini_seen {
	char text[512];
};

static int ini_test_collect(void *ctx, const char *section, const char *key, const char *value,
			    char **cause)
{
	struct ini_seen *seen = ctx;
	size_t n = strlen(seen->text);
	snprintf(seen->text + n, sizeof seen->text - n, "[%s]%s=%s;", section, key, value);
	return 0;
}

TEST(ini_parses_sections_comments_and_spaces)
{
	const char text[] = "# comment\n; another\ntop = 1\n[server]\n  listen =  127.0.0.1:9 \n"
			    "\n[auth]\nname = a b c\n";
	struct ini_seen seen = { "" };
	char *cause = NULL;
	CHECK_INT(ini_parse(text, strlen(text), ini_test_collect, &seen, &cause), 0);
	CHECK_STR(seen.text, "[]top=1;[server]listen=127.0.0.1:9;[auth]name=a b c;");
}

TEST(ini_reports_the_line_of_an_error)
{
	const char *bad[] = { "[server\n", "a = 1\nnovalue\n", "[bad name here]\n", " = x\n" };
	const char *want[] = { "line 1:", "line 2:", "line 1:", "line 1:" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ini_seen seen = { "" };
		char *cause = NULL;
		CHECK_INT(ini_parse(bad[i], strlen(bad[i]), ini_test_collect, &seen, &cause), -1);
		CHECK(cause && strncmp(cause, want[i], strlen(want[i])) == 0);
		free(cause);
	}
}

TEST(ini_takes_two_word_sections)
{
	const char text[] = "[profile   big-one]\ncpus = 4\n[ profile x ]\na = b\n";
	struct ini_seen seen = { "" };
	char *cause = NULL;
	CHECK_INT(ini_parse(text, strlen(text), ini_test_collect, &seen, &cause), 0);
	CHECK_STR(seen.text, "[profile big-one]cpus=4;[profile x]a=b;");
	const char bad[] = "[profile bad!]\n";
	CHECK_INT(ini_parse(bad, strlen(bad), ini_test_collect, &seen, &cause), -1);
	free(cause);
}

TEST(ini_refuses_nul_bytes)
{
	const char text[] = "a = b\0c\n";
	struct ini_seen seen = { "" };
	char *cause = NULL;
	CHECK_INT(ini_parse(text, sizeof text - 1, ini_test_collect, &seen, &cause), -1);
	free(cause);
}

TEST(config_file_values_are_checked)
{
	struct config c;
	config_defaults(&c);
	char *cause = NULL;
	CHECK_INT(config_set(&c, "server", "threads", "8", &cause), 0);
	CHECK_INT(c.threads, 8);
	CHECK_INT(config_set(&c, "server", "threads", "0", &cause), -1);
	CHECK(strstr(cause, "threads") != NULL);
	free(cause);
	CHECK_INT(config_set(&c, "server", "threads", "8x", &cause), -1);
	free(cause);
	CHECK_INT(config_set(&c, "server", "nope", "1", &cause), -1);
	CHECK(strstr(cause, "unknown setting") != NULL);
	free(cause);
	CHECK_INT(config_set(&c, "server", "listen", "0.0.0.0:80", &cause), 0);
	CHECK_STR(c.listen, "0.0.0.0:80");
	config_clear(&c);
}

TEST(config_finish_makes_data_absolute_and_derives_home)
{
	struct config c;
	config_defaults(&c);
	char *cause = NULL;
	char *dir = NULL;
	CHECK(asprintf(&dir, "%s/d", harness_tmpdir()) > 0);
	CHECK_INT(config_set(&c, "server", "data", dir, &cause), 0);
	CHECK_INT(config_finish(&c, &cause), 0);
	CHECK(c.data_dir[0] == '/');
	CHECK(strstr(c.home_root, "/d/home") != NULL);
	config_clear(&c);
	free(dir);
}

TEST(config_tls_needs_both_files)
{
	struct config c;
	config_defaults(&c);
	char *cause = NULL;
	CHECK_INT(config_set(&c, "server", "data", harness_tmpdir(), &cause), 0);
	CHECK_INT(config_set(&c, "server", "tls_cert", "/x.pem", &cause), 0);
	CHECK_INT(config_finish(&c, &cause), -1);
	free(cause);
	config_clear(&c);
}
