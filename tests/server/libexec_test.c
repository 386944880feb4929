/* Unit tests of server/libexec.c: the helper programs kaon installs for
 * session jobs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness.h"
#include "lib/fsio.h"
#include "lib/log.h"
#include "server/embedded.h"
#include "server/libexec.h"

static char *libexec_test_path(const char *name)
{
	char *path = NULL;
	CHECK(asprintf(&path, "%s/libexec/%s", harness_tmpdir(), name) > 0);
	return path;
}

static void libexec_test_check_installed(const char *path, const char *embedded)
{
	const struct embedded_file *f = embedded_find(embedded);
	CHECK(f && f->len > 100);
	char *text = NULL;
	size_t len = 0;
	CHECK_INT(fsio_read_file(path, f->len + 1, &text, &len), 0);
	CHECK_INT(len, f->len);
	CHECK(memcmp(text, f->data, len) == 0);
	CHECK(strncmp(text, "#!/usr/bin/env python3\n", 23) == 0);
	struct stat st;
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0755);
	free(text);
}

TEST(libexec_installs_the_tensorboard_wrapper)
{
	log_set_level(LOG_ERROR);
	char *cause = NULL;
	mode_t old = umask(077); /* the helpers are 0755 whatever the umask */
	int rc = libexec_install(harness_tmpdir(), &cause);
	umask(old);
	if (rc != 0)
		harness_fail(__FILE__, __LINE__, "libexec_install: %d %s", rc, cause);
	char *path = libexec_test_path("kaon-tensorboard");
	libexec_test_check_installed(path, "libexec/kaon-tensorboard.py");
	char *dir = libexec_dir(harness_tmpdir());
	struct stat st;
	CHECK_INT(stat(dir, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0755);
	free(dir), free(path);
}

TEST(libexec_repairs_a_changed_helper)
{
	log_set_level(LOG_ERROR);
	char *cause = NULL;
	CHECK_INT(libexec_install(harness_tmpdir(), &cause), 0);
	char *path = libexec_test_path("kaon-tensorboard");
	CHECK_INT(fsio_write_atomic(path, "#!/bin/sh\necho old\n", 19, 0700), 0);
	CHECK_INT(libexec_install(harness_tmpdir(), &cause), 0);
	libexec_test_check_installed(path, "libexec/kaon-tensorboard.py");
	/* A mode change alone is repaired too. */
	CHECK_INT(chmod(path, 0777), 0);
	CHECK_INT(libexec_install(harness_tmpdir(), &cause), 0);
	libexec_test_check_installed(path, "libexec/kaon-tensorboard.py");
	free(path);
}

TEST(libexec_installs_the_model_worker)
{
	log_set_level(LOG_ERROR);
	char *cause = NULL;
	mode_t old = umask(077);
	int rc = libexec_install(harness_tmpdir(), &cause);
	umask(old);
	if (rc != 0)
		harness_fail(__FILE__, __LINE__, "libexec_install: %d %s", rc, cause);
	char *path = libexec_test_path("kaon-model-worker");
	libexec_test_check_installed(path, "libexec/kaon-model-worker.py");
	free(path);
}

TEST(libexec_fails_with_a_cause)
{
	log_set_level(LOG_ERROR);
	char *file = NULL, *cause = NULL;
	CHECK(asprintf(&file, "%s/plain", harness_tmpdir()) > 0);
	CHECK_INT(fsio_write_atomic(file, "x", 1, 0644), 0);
	/* DATA is a file: DATA/libexec cannot be made. */
	CHECK(libexec_install(file, &cause) < 0);
	CHECK(cause && strstr(cause, "libexec"));
	free(cause), free(file);
}
