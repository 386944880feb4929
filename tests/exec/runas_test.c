/* Tests of exec/runas: output, exit status, deadline, truncation. */
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "exec/runas.h"
#include "identity/fsident.h"

static char *runas_test_env[] = { (char *)"PATH=/usr/bin:/bin", NULL };

TEST(runas_collects_output_and_exit_status)
{
	struct fsident me = { .active = false };
	char *argv[] = { (char *)"/bin/sh", (char *)"-c",
			 (char *)"pwd; echo oops >&2; exit 3", NULL };
	struct runas_result r;
	char *cause = NULL;
	CHECK_INT(runas(&me, "/tmp", argv, runas_test_env, 5000, 4096, &r, &cause), 0);
	CHECK_INT(r.exit_code, 3);
	CHECK(!r.timed_out);
	CHECK_STR(r.out, "/tmp\n");
	CHECK_STR(r.err, "oops\n");
	runas_result_clear(&r);
}

TEST(runas_kills_at_the_deadline_and_truncates)
{
	struct fsident me = { .active = false };
	char *argv[] = { (char *)"/bin/sh", (char *)"-c",
			 (char *)"echo 0123456789; sleep 30", NULL };
	struct runas_result r;
	char *cause = NULL;
	CHECK_INT(runas(&me, NULL, argv, runas_test_env, 300, 4, &r, &cause), 0);
	CHECK(r.timed_out);
	CHECK_INT(r.exit_code, 128 + 9);
	CHECK_STR(r.out, "0123");
	CHECK(r.out_truncated);
	runas_result_clear(&r);
	char *bad[] = { (char *)"/nonexistent/program", NULL };
	CHECK_INT(runas(&me, NULL, bad, runas_test_env, 5000, 4096, &r, &cause), 0);
	CHECK_INT(r.exit_code, 127);
	runas_result_clear(&r);
}
