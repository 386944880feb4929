/*
 * api/uploads — writing files: PUT /api/v1/files/{path} with the bytes
 * as the body, and resumable uploads:
 *
 *   POST   /api/v1/uploads       {"path","size","overwrite"?}  -> 201 upload
 *   GET    /api/v1/uploads/{id}  the upload, with "offset" (HEAD too)
 *   PUT    /api/v1/uploads/{id}  Content-Range: bytes START-END/SIZE
 *   DELETE /api/v1/uploads/{id}  abandon it
 *
 * Bodies are streamed (ROUTE_STREAM_BODY): routing, authentication, the
 * path, quota (413) and free-space (507) checks all happen before the
 * first byte is read, and the bytes go to disk through a fixed buffer, so
 * memory does not grow with the file. Data goes to a hidden file in the
 * target's folder (FILES_TMP_PREFIX...), created as the user; at the end
 * it is fsynced and renamed onto the final name, so a half-written file
 * is never visible under that name.
 *
 * A resumable upload is a record DATA/uploads/ID.json (owned by the
 * daemon: user, path, size) plus its hidden part file. Its offset is the
 * size of the part file: every byte received is kept, even from a chunk
 * cut off half-way, so a client asks for the offset and goes on from
 * there. Uploads untouched for [files] upload_ttl_s expire: they are
 * swept at the next POST /api/v1/uploads, and refused (404) before that.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/fields.h"
#include "api/files.h"
#include "config/config.h"
#include "identity/secret.h"
#include "lib/fsio.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/server.h"

enum { FILES_PUT_BUF = 1 << 20, UPLOAD_ID_LEN = 32 };

/* ---- the sink shared by both kinds of PUT ----------------------------------- */

struct files_put {
	struct fsident id;
	int dirfd; /* O_PATH fd of the target's folder */
	char name[NAME_MAX + 1];
	char tmp[NAME_MAX + 1];
	char *shown; /* the path as the user gave it */
	int fd;
	char *buf;
	size_t used;
	uint64_t received, max; /* max: bytes the body may have */
	uint64_t offset;	/* where the body goes in the file */
	bool existed, done;
	/* Conditional PUT (If-Match / If-None-Match), checked again at the
	 * rename: the header values, or NULL. */
	char *if_match, *if_none_match;
	/* Resumable uploads only. */
	char *upload_id;
	const struct config *cfg;
	uint64_t size;
	bool overwrite;
	int64_t user_id;
};

static void files_put_free(struct files_put *p)
{
	if (p->fd >= 0)
		close(p->fd);
	if (p->dirfd >= 0)
		close(p->dirfd);
	free(p->buf);
	free(p->shown);
	free(p->upload_id);
	free(p->if_match);
	free(p->if_none_match);
	free(p);
}

static int files_put_flush(struct files_put *p)
{
	if (p->used == 0)
		return 0;
	int rc = 0;
	const char *b = p->buf;
	size_t left = p->used;
	while (left > 0) {
		ssize_t n = pwrite(p->fd, b, left, (off_t)p->offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		b += n, left -= (size_t)n, p->offset += (uint64_t)n;
	}
	p->used = 0;
	return rc;
}

static int files_put_write(void *ctx, const char *data, size_t len, struct http_resp *resp)
{
	struct files_put *p = ctx;
	if (len > p->max - p->received) {
		if (p->upload_id)
			http_resp_error(resp, 422, "invalid",
					"the body is longer than its Content-Range says");
		else
			http_resp_error(resp, 413, "quota_exceeded",
					"the upload is over your quota or the free disk space");
		return -1;
	}
	p->received += len;
	while (len > 0) {
		size_t n = FILES_PUT_BUF - p->used < len ? FILES_PUT_BUF - p->used : len;
		memcpy(p->buf + p->used, data, n);
		p->used += n, data += n, len -= n;
		int rc;
		if (p->used == FILES_PUT_BUF && (rc = files_put_flush(p)) < 0) {
			files_answer_errno(resp, rc, p->shown);
			return -1;
		}
	}
	return 0;
}

static json_t *files_entry_at(int dirfd, const char *name, const char *shown)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return NULL;
	json_t *e = files_entry_json(name, &st);
	json_object_set_new(e, "path", json_string(shown));
	return e;
}

/* The preconditions of a conditional PUT against what is at dirfd/name now
 * (docs/files.md): 0 when they hold, else -ECANCELED with *why set. Runs
 * as the user. If-Match: the file must exist with one of the listed ETags
 * ("*": exist at all); If-None-Match: it must not ("*": must not exist). */
static int files_put_precondition(const struct files_put *p, const char **why, char *etag)
{
	struct stat st;
	bool exists = fstatat(p->dirfd, p->name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	bool regular = exists && S_ISREG(st.st_mode);
	etag[0] = '\0';
	if (regular)
		files_etag(&st, etag, FILES_ETAG_LEN);
	if (p->if_match && !exists) {
		*why = "no longer exists";
		return -ECANCELED;
	}
	if (p->if_match && (!regular || !files_etag_listed(p->if_match, etag))) {
		*why = "was changed since you read it (If-Match)";
		return -ECANCELED;
	}
	if (p->if_none_match && exists &&
	    (strcmp(p->if_none_match, "*") == 0 ||
	     (regular && files_etag_listed(p->if_none_match, etag)))) {
		*why = "already exists (If-None-Match)";
		return -ECANCELED;
	}
	return 0;
}

static void files_put_conflict(struct http_resp *resp, const struct files_put *p, const char *why,
			       const char *etag)
{
	if (etag[0])
		http_resp_header(resp, "ETag", etag);
	http_resp_error(resp, 409, "conflict", "'%s' %s", p->shown, why);
}

/* fsync, rename onto the final name, fsync the folder: as the user. */
static int files_put_commit(struct files_put *p, bool replace)
{
	int rc = fsident_enter(&p->id);
	if (rc < 0)
		return rc;
	if (fsync(p->fd) < 0)
		rc = -errno;
	else if (replace ? renameat(p->dirfd, p->tmp, p->dirfd, p->name)
			 : renameat2(p->dirfd, p->tmp, p->dirfd, p->name, RENAME_NOREPLACE))
		rc = -errno;
	else
		files_fsync_dir(p->dirfd);
	fsident_leave(&p->id);
	return rc;
}

static void files_put_end(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct files_put *p = ctx;
	int rc = files_put_flush(p);
	if (rc == 0 && (p->if_match || p->if_none_match)) {
		/* Checked before the body was read; again now, just before the
		 * rename, for a write that happened while the body came in. */
		const char *why = NULL;
		char etag[FILES_ETAG_LEN];
		if ((rc = fsident_enter(&p->id)) == 0) {
			rc = files_put_precondition(p, &why, etag);
			fsident_leave(&p->id);
		}
		if (rc == -ECANCELED) {
			files_put_conflict(resp, p, why, etag);
			return;
		}
	}
	/* Create-only never replaces, even a file made during the upload. */
	bool create_only = p->if_none_match && strcmp(p->if_none_match, "*") == 0;
	if (rc == 0)
		rc = files_put_commit(p, !create_only);
	if (rc == -EEXIST && create_only) {
		files_put_conflict(resp, p, "already exists (If-None-Match)", "");
		return;
	}
	if (rc < 0) {
		files_answer_errno(resp, rc, p->shown);
		return;
	}
	p->done = true;
	struct stat st;
	if (fstatat(p->dirfd, p->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
		char etag[FILES_ETAG_LEN];
		files_etag(&st, etag, sizeof etag);
		http_resp_header(resp, "ETag", etag);
	}
	json_t *e = files_entry_at(p->dirfd, p->name, p->shown);
	if (!e)
		http_resp_empty(resp, p->existed ? 204 : 201);
	else
		http_resp_json(resp, p->existed ? 200 : 201, e);
}

static void files_put_release(void *ctx)
{
	struct files_put *p = ctx;
	if (!p->done && fsident_enter(&p->id) == 0) {
		unlinkat(p->dirfd, p->tmp, 0);
		fsident_leave(&p->id);
	}
	files_put_free(p);
}

static bool files_reserved(const char *name)
{
	return strncmp(name, FILES_TMP_PREFIX, strlen(FILES_TMP_PREFIX)) == 0;
}

/* Resolve the target of a write into p (dirfd, name, existed); 0 or -1
 * after answering. Runs as the user. */
static int files_put_target(struct files_root *root, const char *path, size_t len,
			    struct files_put *p, struct http_resp *resp, mode_t *mode)
{
	struct path_ref ref;
	if (files_resolve(root, path, len, &ref, resp) < 0)
		return -1;
	p->dirfd = ref.dirfd;
	memcpy(p->name, ref.name, sizeof p->name);
	if (ref.is_root || files_reserved(ref.name) || (len > 0 && path[len - 1] == '/')) {
		http_resp_error(resp, 422, "invalid", "'%s' is not a file name you can write",
				p->shown);
		return -1;
	}
	struct stat st;
	*mode = 0644;
	if (fstatat(p->dirfd, p->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode)) {
			http_resp_error(resp, 409, "conflict", "'%s' is a folder", p->shown);
			return -1;
		}
		p->existed = true;
		if (S_ISREG(st.st_mode))
			*mode = st.st_mode & 07777;
	}
	return 0;
}

void files_put_begin(struct http_req *req, struct http_resp *resp, struct files_root *root,
		     const char *path, size_t len)
{
	struct files_put *p = xcalloc(1, sizeof *p);
	p->fd = p->dirfd = -1;
	p->id = root->id;
	p->shown = xstrndup(path, len);
	mode_t mode;
	if (files_put_target(root, path, len, p, resp, &mode) < 0)
		goto fail;
	const char *im = http_req_header(req, "If-Match");
	const char *inm = http_req_header(req, "If-None-Match");
	p->if_match = im ? xstrdup(im) : NULL;
	p->if_none_match = inm ? xstrdup(inm) : NULL;
	if (im || inm) {
		const char *why = NULL;
		char etag[FILES_ETAG_LEN];
		if (files_put_precondition(p, &why, etag) < 0) {
			files_put_conflict(resp, p, why, etag);
			goto fail;
		}
	}
	const char *cl = http_req_header(req, "Content-Length");
	uint64_t declared = cl ? strtoull(cl, NULL, 10) : 0, room;
	if (files_space_check(req, resp, root, p->dirfd, declared, &room) < 0)
		goto fail;
	p->max = cl ? declared : room;
	files_tmp_name(p->tmp, sizeof p->tmp, "put");
	p->fd =
	    openat(p->dirfd, p->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (p->fd < 0) {
		files_answer_errno(resp, -errno, p->shown);
		goto fail;
	}
	p->buf = xmalloc(FILES_PUT_BUF);
	struct http_sink sink = {
	    .write = files_put_write, .end = files_put_end, .release = files_put_release, .ctx = p};
	http_req_sink(req, &sink);
	return;
fail:
	files_put_free(p);
}

/* ---- resumable uploads: records ------------------------------------------------- */

struct upload_rec {
	int64_t user_id;
	char *path;
	uint64_t size;
	bool overwrite;
	int64_t touched; /* mtime of the record */
};

static char *upload_rec_path(const struct config *cfg, const char *id)
{
	return xasprintf("%s/uploads/%s.json", cfg->data_dir, id);
}

static bool upload_id_ok(const char *id)
{
	if (strlen(id) != UPLOAD_ID_LEN)
		return false;
	for (const char *c = id; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
			return false;
	return true;
}

/* Read the record of id: 0, -ENOENT (unknown or expired), -errno. */
static int upload_rec_load(const struct config *cfg, const char *id, struct upload_rec *r)
{
	memset(r, 0, sizeof *r);
	if (!upload_id_ok(id))
		return -ENOENT;
	char *file = upload_rec_path(cfg, id), *text;
	struct stat st;
	int rc = stat(file, &st) < 0 ? -errno : fsio_read_file(file, 1 << 16, &text, NULL);
	free(file);
	if (rc < 0)
		return rc;
	json_t *j = json_loads(text, 0, NULL);
	free(text);
	const char *path = json_string_value(json_object_get(j, "path"));
	if (!path) {
		json_decref(j);
		return -EIO;
	}
	r->user_id = json_integer_value(json_object_get(j, "user_id"));
	r->path = xstrdup(path);
	r->size = (uint64_t)json_integer_value(json_object_get(j, "size"));
	r->overwrite = json_is_true(json_object_get(j, "overwrite"));
	r->touched = st.st_mtime;
	json_decref(j);
	return 0;
}

static void upload_rec_clear(struct upload_rec *r)
{
	free(r->path);
	r->path = NULL;
}

static json_t *upload_json(const struct config *cfg, const char *id, const struct upload_rec *r,
			   uint64_t offset, bool complete)
{
	json_t *j =
	    json_pack("{s:s,s:s,s:I,s:I,s:b}", "id", id, "path", r->path, "size",
		      (json_int_t)r->size, "offset", (json_int_t)offset, "complete", complete);
	json_object_set_new(j, "expires_at",
			    complete ? json_null() : api_time_json(r->touched + cfg->upload_ttl_s));
	return j;
}

static void upload_part_name(char *out, size_t len, const char *id)
{
	snprintf(out, len, "%supload-%s", FILES_TMP_PREFIX, id);
}

/* Remove an upload's part file (as its user) and record. */
static void upload_discard(struct http_req *req, const char *id, const struct upload_rec *r)
{
	struct files_root root;
	struct http_resp scratch = {.status = 200};
	if (files_home_open_id(req, &scratch, r->user_id, &root) == 0) {
		struct path_ref ref;
		const char *why;
		if (path_resolve(root.fd, r->path, strlen(r->path), &ref, &why) == 0) {
			char part[NAME_MAX + 1];
			upload_part_name(part, sizeof part, id);
			unlinkat(ref.dirfd, part, 0);
			path_ref_close(&ref);
		}
		files_root_close(&root);
	}
	free(scratch.body);
	for (size_t i = 0; i < scratch.nheaders; i++)
		free(scratch.headers[i].name), free(scratch.headers[i].value);
	free(scratch.headers);
	char *file = upload_rec_path(req->srv->cfg, id);
	unlink(file);
	free(file);
}

/* Drop every upload untouched for upload_ttl_s. */
static void upload_sweep(struct http_req *req)
{
	const struct config *cfg = req->srv->cfg;
	char *dir = xasprintf("%s/uploads", cfg->data_dir);
	DIR *d = opendir(dir);
	free(dir);
	if (!d)
		return;
	int64_t now = time(NULL);
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n != UPLOAD_ID_LEN + 5 || strcmp(de->d_name + UPLOAD_ID_LEN, ".json") != 0)
			continue;
		char id[UPLOAD_ID_LEN + 1];
		memcpy(id, de->d_name, UPLOAD_ID_LEN);
		id[UPLOAD_ID_LEN] = '\0';
		struct upload_rec r;
		if (upload_rec_load(cfg, id, &r) == 0 && now - r.touched > cfg->upload_ttl_s) {
			log_info("uploads: upload %s of '%s' expired", id, r.path);
			upload_discard(req, id, &r);
		}
		upload_rec_clear(&r);
	}
	closedir(d);
}

/* The record of the {id} in the path, if it is the caller's and alive; 0
 * or -1 after answering 404. */
static int upload_find(struct http_req *req, struct http_resp *resp, struct upload_rec *r)
{
	const char *id = req->params[0];
	const struct config *cfg = req->srv->cfg;
	int rc = upload_rec_load(cfg, id, r);
	if (rc == 0 && (r->user_id != req->who.user_id ||
			(int64_t)time(NULL) - r->touched > cfg->upload_ttl_s))
		rc = -ENOENT;
	if (rc < 0) {
		upload_rec_clear(r);
		http_resp_error(resp, 404, "not_found",
				"no upload '%s' (unknown, finished or expired)", id);
		return -1;
	}
	return 0;
}

/* The current offset: the size of the part file (0 when none yet). */
static uint64_t upload_offset(struct files_root *root, const struct upload_rec *r, const char *id)
{
	struct path_ref ref;
	const char *why;
	uint64_t off = 0;
	if (path_resolve(root->fd, r->path, strlen(r->path), &ref, &why) == 0) {
		char part[NAME_MAX + 1];
		struct stat st;
		upload_part_name(part, sizeof part, id);
		if (fstatat(ref.dirfd, part, &st, AT_SYMLINK_NOFOLLOW) == 0)
			off = (uint64_t)st.st_size;
		path_ref_close(&ref);
	}
	return off;
}

/* ---- resumable uploads: routes ----------------------------------------------------- */

static const struct fields_spec upload_fields[] = {
    {"path", FIELDS_STRING, true, 1, PATH_MAX - 1},
    {"size", FIELDS_INT, true, 0, (int64_t)1 << 50},
    {"overwrite", FIELDS_BOOL, false, 0, 0},
};

void api_uploads_create(struct http_req *req, struct http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	struct files_root root = {.fd = -1};
	struct path_ref ref = {.dirfd = -1};
	struct files_put probe = {.fd = -1, .dirfd = -1};
	if (fields_check(body, upload_fields, FIELDS_COUNT(upload_fields), resp) < 0)
		goto out;
	upload_sweep(req);
	json_t *jpath = json_object_get(body, "path");
	const char *path = json_string_value(jpath);
	size_t plen = json_string_length(jpath);
	struct upload_rec r = {.user_id = req->who.user_id,
			       .path = (char *)path,
			       .size = (uint64_t)json_integer_value(json_object_get(body, "size")),
			       .overwrite = json_is_true(json_object_get(body, "overwrite")),
			       .touched = time(NULL)};
	if (files_home_open(req, resp, &root) < 0)
		goto out;
	probe.shown = xstrndup(path, plen);
	mode_t mode;
	int rc = files_put_target(&root, path, plen, &probe, resp, &mode);
	free(probe.shown);
	if (rc < 0)
		goto out;
	if (probe.existed && !r.overwrite) {
		http_resp_error(resp, 409, "conflict",
				"'%s' exists; send \"overwrite\": true to replace it", path);
		goto out;
	}
	if (files_space_check(req, resp, &root, probe.dirfd, r.size, NULL) < 0)
		goto out;
	files_root_close(&root); /* the record is the daemon's own */
	char raw[SECRET_B64_LEN + 1], id[UPLOAD_ID_LEN + 1];
	secret_random(raw);
	memcpy(id, raw, UPLOAD_ID_LEN);
	id[UPLOAD_ID_LEN] = '\0';
	char *dir = xasprintf("%s/uploads", req->srv->cfg->data_dir), *file = NULL;
	json_t *rec = json_pack("{s:I,s:s,s:I,s:b,s:I}", "user_id", (json_int_t)r.user_id, "path",
				path, "size", (json_int_t)r.size, "overwrite", r.overwrite,
				"created_at", (json_int_t)r.touched);
	char *text = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	if ((rc = fsio_mkdir_p(dir, 0700)) == 0) {
		file = upload_rec_path(req->srv->cfg, id);
		rc = fsio_write_atomic(file, text, strlen(text), 0600);
	}
	free(text);
	free(dir);
	free(file);
	if (rc < 0) {
		log_error("uploads: cannot write the record of upload %s: %s", id, strerror(-rc));
		http_resp_error(resp, 500, "internal", "cannot record the upload");
		goto out;
	}
	char loc[64];
	snprintf(loc, sizeof loc, "/api/v1/uploads/%s", id);
	http_resp_header(resp, "Location", loc);
	http_resp_json(resp, 201, upload_json(req->srv->cfg, id, &r, 0, false));
out:
	if (probe.dirfd >= 0)
		close(probe.dirfd);
	path_ref_close(&ref);
	files_root_close(&root);
	json_decref(body);
}

void api_uploads_get(struct http_req *req, struct http_resp *resp)
{
	struct upload_rec r;
	if (upload_find(req, resp, &r) < 0)
		return;
	struct files_root root;
	if (files_home_open(req, resp, &root) == 0) {
		uint64_t off = upload_offset(&root, &r, req->params[0]);
		files_root_close(&root);
		char buf[32];
		snprintf(buf, sizeof buf, "%" PRIu64, off);
		http_resp_header(resp, "Upload-Offset", buf);
		http_resp_json(resp, 200,
			       upload_json(req->srv->cfg, req->params[0], &r, off, false));
	}
	upload_rec_clear(&r);
}

void api_uploads_delete(struct http_req *req, struct http_resp *resp)
{
	struct upload_rec r;
	if (upload_find(req, resp, &r) < 0)
		return;
	upload_discard(req, req->params[0], &r);
	upload_rec_clear(&r);
	http_resp_empty(resp, 204);
}

/* "bytes START-END/TOTAL"; 0 or -1. */
static int upload_content_range(const char *h, uint64_t *start, uint64_t *end, uint64_t *total)
{
	unsigned long long a, b, t;
	int n = 0;
	if (!h || sscanf(h, "bytes %llu-%llu/%llu%n", &a, &b, &t, &n) != 3 || h[n] != '\0' || b < a)
		return -1;
	*start = a, *end = b, *total = t;
	return 0;
}

static void upload_chunk_end(void *ctx, struct http_req *req, struct http_resp *resp)
{
	struct files_put *p = ctx;
	int rc = files_put_flush(p);
	if (rc == 0 && fdatasync(p->fd) < 0)
		rc = -errno;
	if (rc < 0) {
		files_answer_errno(resp, rc, p->shown);
		return;
	}
	char *file = upload_rec_path(p->cfg, p->upload_id);
	struct upload_rec r = {.path = p->shown, .size = p->size, .touched = time(NULL)};
	if (p->received < p->max) {
		utimensat(AT_FDCWD, file, NULL, 0);
		free(file);
		http_resp_error(resp, 400, "bad_request",
				"the body is shorter than its Content-Range; the upload is at "
				"offset %" PRIu64,
				p->offset);
		return;
	}
	bool complete = p->offset == p->size;
	if (complete) {
		rc = files_put_commit(p, p->overwrite);
		if (rc < 0) {
			free(file);
			files_answer_errno(resp, rc, p->shown);
			return;
		}
		p->done = true;
		unlink(file);
	} else {
		utimensat(AT_FDCWD, file, NULL, 0);
	}
	free(file);
	char buf[32];
	snprintf(buf, sizeof buf, "%" PRIu64, p->offset);
	http_resp_header(resp, "Upload-Offset", buf);
	http_resp_json(resp, complete ? 201 : 200,
		       upload_json(p->cfg, p->upload_id, &r, p->offset, complete));
}

/* However the chunk ended, the bytes received stay: the next offset. */
static void upload_chunk_release(void *ctx)
{
	struct files_put *p = ctx;
	if (!p->done && p->fd >= 0) {
		files_put_flush(p);
		fdatasync(p->fd);
		char *file = upload_rec_path(p->cfg, p->upload_id);
		utimensat(AT_FDCWD, file, NULL, 0);
		free(file);
	}
	files_put_free(p);
}

void api_uploads_put(struct http_req *req, struct http_resp *resp)
{
	struct upload_rec r;
	if (upload_find(req, resp, &r) < 0)
		return;
	struct files_root root = {.fd = -1};
	struct files_put *p = xcalloc(1, sizeof *p);
	p->fd = p->dirfd = -1;
	p->shown = xstrdup(r.path);
	p->upload_id = xstrdup(req->params[0]);
	p->cfg = req->srv->cfg;
	p->size = r.size;
	p->overwrite = r.overwrite;
	uint64_t start, end, total;
	if (upload_content_range(http_req_header(req, "Content-Range"), &start, &end, &total) < 0) {
		http_resp_error(resp, 422, "invalid",
				"send Content-Range: bytes START-END/SIZE with each chunk");
		goto fail;
	}
	if (total != r.size || end >= r.size) {
		http_resp_error(resp, 422, "invalid",
				"the Content-Range must lie within the upload's %" PRIu64 " bytes",
				r.size);
		goto fail;
	}
	const char *cl = http_req_header(req, "Content-Length");
	if (cl && strtoull(cl, NULL, 10) != end - start + 1) {
		http_resp_error(resp, 422, "invalid",
				"Content-Length does not match Content-Range");
		goto fail;
	}
	if (files_home_open(req, resp, &root) < 0)
		goto fail;
	p->id = root.id;
	struct path_ref ref;
	if (files_resolve(&root, r.path, strlen(r.path), &ref, resp) < 0)
		goto fail;
	p->dirfd = ref.dirfd;
	memcpy(p->name, ref.name, sizeof p->name);
	upload_part_name(p->tmp, sizeof p->tmp, p->upload_id);
	p->fd = openat(p->dirfd, p->tmp, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (p->fd < 0) {
		files_answer_errno(resp, -errno, r.path);
		goto fail;
	}
	if (flock(p->fd, LOCK_EX | LOCK_NB) < 0) {
		http_resp_error(resp, 409, "conflict",
				"another chunk of this upload is being sent");
		goto fail;
	}
	struct stat st;
	if (fstat(p->fd, &st) < 0) {
		files_answer_errno(resp, -errno, r.path);
		goto fail;
	}
	p->offset = (uint64_t)st.st_size;
	if (start != p->offset) {
		char buf[32];
		snprintf(buf, sizeof buf, "%" PRIu64, p->offset);
		http_resp_header(resp, "Upload-Offset", buf);
		http_resp_error(resp, 409, "offset_mismatch",
				"the upload is at offset %" PRIu64 ", not %" PRIu64, p->offset,
				start);
		goto fail;
	}
	p->max = end - start + 1;
	p->buf = xmalloc(FILES_PUT_BUF);
	files_root_close(&root);
	upload_rec_clear(&r);
	struct http_sink sink = {.write = files_put_write,
				 .end = upload_chunk_end,
				 .release = upload_chunk_release,
				 .ctx = p};
	http_req_sink(req, &sink);
	return;
fail:
	files_root_close(&root);
	upload_rec_clear(&r);
	files_put_free(p);
}
