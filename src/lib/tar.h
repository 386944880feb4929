/*
 * lib/tar — a folder as a streamed tar archive (POSIX ustar, with pax
 * extended headers for long names, long link targets and sizes of 8 GiB
 * and more), written at constant memory: one open folder per level of
 * depth (at most TAR_MAX_DEPTH), one open file, a few header blocks.
 *
 * The walk goes through fds only (openat with O_NOFOLLOW from the folder
 * given), so it never leaves that folder: symbolic links are stored as
 * links, never followed. Entries that cannot be read (permissions, a file
 * removed during the walk) are left out; sockets, FIFOs and devices too.
 * A file that shrinks while it is read is padded with zeros, one that
 * grows is cut at the size its header announced, so the archive stays
 * well-formed.
 */
#ifndef KAON_LIB_TAR_H
#define KAON_LIB_TAR_H

#include <stddef.h>

enum { TAR_MAX_DEPTH = 64 };

struct tar;

/* Archive the folder dirfd (taken over: closed by tar_free) with every
 * entry named prefix/... (prefix: a plain name, such as the folder's). */
struct tar *tar_new(int dirfd, const char *prefix);
/* Up to len bytes of the archive into buf: > 0, 0 at the end, or -errno
 * (the folder itself became unreadable). */
long tar_read(struct tar *t, char *buf, size_t len);
void tar_free(struct tar *t);

#endif
