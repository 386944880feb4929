/*
 * server/libexec — installs the embedded helper programs (see libexec.h).
 */
#include "server/libexec.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsio.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/embedded.h"

static const struct {
	const char *embedded; /* name in embedded_files[] */
	const char *name;     /* installed as DATA/libexec/NAME */
	mode_t mode;
} libexec_files[] = {
	{ "libexec/kaon-tensorboard.py", "kaon-tensorboard", 0755 },
	{ "libexec/kaon-model-worker.py", "kaon-model-worker", 0755 },
};

char *libexec_dir(const char *data_dir)
{
	return xasprintf("%s/libexec", data_dir);
}

/* Whether path already holds exactly data, with mode, as ours. */
static bool libexec_current(const char *path, const void *data, size_t len, mode_t mode)
{
	struct stat st;
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 07777) != mode ||
	    st.st_uid != geteuid() || (size_t)st.st_size != len)
		return false;
	char *text = NULL;
	size_t got = 0;
	bool same = fsio_read_file(path, len + 1, &text, &got) == 0 && got == len &&
		    memcmp(text, data, len) == 0;
	free(text);
	return same;
}

int libexec_install(const char *data_dir, char **cause)
{
	char *dir = libexec_dir(data_dir);
	int rc = fsio_mkdir_p(dir, 0755);
	/* 0755 whatever the umask or an older mode: jobs run these as their
	 * users. */
	if (rc == 0 && chmod(dir, 0755) < 0)
		rc = -errno;
	if (rc < 0) {
		*cause = xasprintf("cannot create %s: %s", dir, strerror(-rc));
		goto out;
	}
	/* In multi-user mode (root) sessions run as other accounts, which
	 * must be able to reach the directory. */
	struct stat st;
	if (geteuid() == 0 && stat(data_dir, &st) == 0 && !(st.st_mode & S_IXOTH))
		log_warn("libexec: %s is not searchable by other users (mode %04o): their "
			 "sessions cannot run the helpers in %s",
			 data_dir, (unsigned)(st.st_mode & 07777), dir);
	for (size_t i = 0; i < sizeof libexec_files / sizeof libexec_files[0]; i++) {
		const struct embedded_file *f = embedded_find(libexec_files[i].embedded);
		if (!f) {
			*cause = xasprintf("%s is missing from this kaon binary (a build problem)",
					   libexec_files[i].embedded);
			rc = -ENOENT;
			goto out;
		}
		char *path = xasprintf("%s/%s", dir, libexec_files[i].name);
		if (!libexec_current(path, f->data, f->len, libexec_files[i].mode)) {
			rc = fsio_write_atomic(path, f->data, f->len, libexec_files[i].mode);
			if (rc < 0) {
				*cause = xasprintf("cannot write %s: %s", path, strerror(-rc));
				free(path);
				goto out;
			}
			log_info("libexec: installed %s", path);
		}
		free(path);
	}
	rc = 0;
out:
	free(dir);
	return rc;
}
