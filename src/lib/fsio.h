/*
 * fsio — file I/O that handles EINTR and short writes where they happen,
 * and atomic replacement of files (temp file, fsync, rename, fsync dir) so
 * that nothing half-written is ever visible.
 */
#ifndef KAON_LIB_FSIO_H
#define KAON_LIB_FSIO_H

#include <stddef.h>
#include <sys/types.h>

/* Write all of buf; 0 or -errno. */
int fsio_write_all(int fd, const void *buf, size_t len);
/* Read a whole file (at most max bytes) into a new NUL-terminated buffer;
 * 0 or -errno (-EFBIG when over max). */
int fsio_read_file(const char *path, size_t max, char **out, size_t *len);
/* Replace path with data atomically, created with mode; 0 or -errno. */
int fsio_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* mkdir -p with mode for each created component; 0 or -errno. */
int fsio_mkdir_p(const char *path, mode_t mode);

#endif
