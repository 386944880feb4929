/*
 * lib/path — the one way a user-supplied path becomes something to open.
 *
 * Every route that takes a path from a user (URL or JSON) resolves it here
 * under a root directory, given as an open fd. The walk is done component
 * by component with openat(O_PATH | O_NOFOLLOW | O_DIRECTORY) relative to
 * the fd of the previous component, so it is race-free: no rename or
 * symlink swapped in by someone else between the check and the use can
 * lead the caller out of the root, because nothing is ever looked up by a
 * full path string again.
 *
 * Refused (-EINVAL, *why says which): an absolute path, `..` and `.`
 * segments, empty segments (`a//b`), NUL bytes, names over NAME_MAX, paths
 * over PATH_MAX. Symbolic links are never followed: a link in the middle
 * of a path is refused (-ELOOP); as the last component it is returned as
 * is, and callers open it with O_NOFOLLOW (or act on the link itself:
 * delete, move). Percent-decoding happens once, in path_decode(), before
 * the checks: `%2e%2e` is `..` and refused; `%252e%252e` is the literal
 * name `%2e%2e`, which is harmless.
 *
 * Nothing here knows about users: the caller switches identity (see
 * identity/fsident.h) around the calls so the kernel checks permissions.
 */
#ifndef KAON_LIB_PATH_H
#define KAON_LIB_PATH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct path_ref {
	int dirfd;		 /* O_PATH fd of the folder holding the last component */
	char name[NAME_MAX + 1]; /* the last component; "." for the root itself */
	bool is_root;		 /* the path named the root */
};

/* Percent-decode s[0..len) exactly once into a new NUL-terminated buffer
 * (*out, caller frees; it may hold NUL bytes, *outlen counts them);
 * 0 or -EINVAL for a malformed escape. */
int path_decode(const char *s, size_t len, char **out, size_t *outlen);

/* Syntax only: 0 when p[0..len) is an acceptable relative path (the empty
 * path and a trailing slash allowed), else -EINVAL with a static *why. */
int path_check(const char *p, size_t len, const char **why);

/* Resolve p[0..len) under root_fd into *out (close with path_ref_close);
 * every folder on the way must exist. 0, or -EINVAL (*why), -ELOOP (a
 * symbolic link on the way), -ENOENT, -ENOTDIR, -EACCES and other -errno
 * of openat(). *why is set for every failure. */
int path_resolve(int root_fd, const char *p, size_t len, struct path_ref *out, const char **why);
void path_ref_close(struct path_ref *ref);

/* Join a checked relative path and a name ("a/b" + "c"); caller frees. */
char *path_join(const char *dir, const char *name);

#endif
