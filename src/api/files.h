/*
 * api/files — what the files handlers (files.c, files_ops.c, uploads.c)
 * share: the root a request works under and how errors are answered.
 *
 * A request works under one root: the caller's home (/api/v1/files/...),
 * or a dataset (/api/v1/datasets/NAME/..., read-only). The root is an fd;
 * every path below it goes through path_resolve() (lib/path.h), and every
 * file-system call on the user's behalf runs between fsident_enter() and
 * fsident_leave() (identity/fsident.h), so the kernel checks it as the
 * user and what is created belongs to the user.
 */
#ifndef KAON_API_FILES_H
#define KAON_API_FILES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "identity/fsident.h"
#include "lib/path.h"
#include "server/http.h"

/* Hidden names of files being written: never shown as finished files. */
#define FILES_TMP_PREFIX ".kaon-"

struct files_root {
	int fd; /* O_PATH fd of the root folder */
	struct fsident id;
	bool entered; /* the identity is on */
	bool readonly;
	int64_t user_id;
	char *home; /* the home path (quota walks it) */
};

/* Load the caller's account and open its home; identity entered. 0, or
 * -1 after answering. */
int files_home_open(struct http_req *req, struct http_resp *resp, struct files_root *root);
/* Same for the user with id user_id (uploads). */
int files_home_open_id(struct http_req *req, struct http_resp *resp, int64_t user_id,
		       struct files_root *root);
/* Leave the identity and close the root. */
void files_root_close(struct files_root *root);

/* Resolve the user path p[0..len) under root: 0, or -1 after answering
 * (422 bad path, 403 link or permission, 404 missing). */
int files_resolve(struct files_root *root, const char *p, size_t len, struct path_ref *ref,
		  struct http_resp *resp);

/* s[0..len) as valid UTF-8 for JSON (bad bytes become U+FFFD); caller frees. */
char *files_safe_text(const char *s, size_t len);
/* Answer a failed file-system call (-errno) about path. */
void files_answer_errno(struct http_resp *resp, int err, const char *path);

/* The strong validator of a regular file: "INODE-SIZE-MTIME_NS" in hex,
 * quoted, so a rename over the file (every PUT) changes it too. */
enum { FILES_ETAG_LEN = 80 };
void files_etag(const struct stat *st, char *out, size_t len);
/* Whether the If-Match / If-None-Match value list (comma-separated
 * entity-tags, or "*") names etag; weak tags (W/"...") never match. */
bool files_etag_listed(const char *list, const char *etag);

/* The entry JSON of the listing: {"name","type","size","mtime","mode"}. */
json_t *files_entry_json(const char *name, const struct stat *st);

/* 413 when the quota would be exceeded by adding bytes to the home, 507
 * when the disk under dirfd would keep less than min_free_mib; 0 when
 * fine, -1 after answering. *room (may be NULL) gets how many bytes more
 * could still be written after those. */
int files_space_check(struct http_req *req, struct http_resp *resp, struct files_root *root,
		      int dirfd, uint64_t bytes, uint64_t *room);
/* Bytes in the regular files under dirfd/name (recursive, no links
 * followed); -errno. */
int64_t files_du(int dirfd, const char *name);

/* files_ops.c: POST /api/v1/files/{path} operations and DELETE. */
void files_op(struct http_req *req, struct http_resp *resp, struct files_root *root,
	      const char *path, size_t len);
void files_delete(struct http_req *req, struct http_resp *resp, struct files_root *root,
		  const char *path, size_t len);
/* Remove dirfd/name, folders recursively; 0 or -errno. */
int files_remove_tree(int dirfd, const char *name, int depth);

/* uploads.c: PUT /api/v1/files/{path} (a streamed body); the root is
 * closed by the caller afterwards, the sink keeps what it needs. */
void files_put_begin(struct http_req *req, struct http_resp *resp, struct files_root *root,
		     const char *path, size_t len);
/* A random hidden name FILES_TMP_PREFIX + what + random into out. */
void files_tmp_name(char *out, size_t len, const char *what);
/* fsync the folder dirfd (an O_PATH fd) so a rename in it is durable. */
int files_fsync_dir(int dirfd);

#endif
