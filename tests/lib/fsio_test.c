/* Unit tests of lib/fsio.c. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "../harness.h"
#include "lib/fsio.h"

TEST(fsio_atomic_write_replaces_with_mode)
{
	char *path = NULL;
	CHECK(asprintf(&path, "%s/f", harness_tmpdir()) > 0);
	CHECK_INT(fsio_write_atomic(path, "one", 3, 0600), 0);
	CHECK_INT(fsio_write_atomic(path, "second", 6, 0640), 0);
	char *text;
	size_t len;
	CHECK_INT(fsio_read_file(path, 100, &text, &len), 0);
	CHECK_STR(text, "second");
	CHECK_INT(len, 6);
	struct stat st;
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0640);
	free(text);
	free(path);
}

TEST(fsio_read_file_enforces_max)
{
	char *path = NULL;
	CHECK(asprintf(&path, "%s/big", harness_tmpdir()) > 0);
	CHECK_INT(fsio_write_atomic(path, "0123456789", 10, 0600), 0);
	char *text;
	CHECK_INT(fsio_read_file(path, 5, &text, NULL), -EFBIG);
	CHECK_INT(fsio_read_file(path, 10, &text, NULL), 0);
	free(text);
	free(path);
}

TEST(fsio_mkdir_p_creates_parents)
{
	char *path = NULL;
	CHECK(asprintf(&path, "%s/a/b/c", harness_tmpdir()) > 0);
	CHECK_INT(fsio_mkdir_p(path, 0700), 0);
	CHECK_INT(fsio_mkdir_p(path, 0700), 0);
	struct stat st;
	CHECK_INT(stat(path, &st), 0);
	CHECK(S_ISDIR(st.st_mode));
	free(path);
}
