/*
 * api/files — the Files API: a user's home under /api/v1/files/{path},
 * read-only datasets under /api/v1/datasets/{name}/{path}. This file:
 * opening the root a request works under, listing folders, downloading
 * files (ranges, validators, safe content types) and folders (streamed
 * tar), datasets. Operations (mkdir, move, copy, delete) are in
 * files_ops.c, uploads in uploads.c; docs/files.md describes the API.
 *
 * Paths come from the request-target as sent, percent-decoded exactly
 * once here (libmicrohttpd's decoded path would hide a %00), and go
 * through path_resolve() under the root fd. The user's identity is on
 * (fsident) from opening the root to answering, so the kernel checks
 * every call as the user.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/files.h"
#include "config/config.h"
#include "identity/accounts.h"
#include "lib/log.h"
#include "lib/tar.h"
#include "lib/utf8.h"
#include "lib/xalloc.h"
#include "server/server.h"
#include "store/users.h"

enum { FILES_PAGE = 1000, FILES_PAGE_MAX = 10000, FILES_DU_DEPTH = 128 };

/* ---- roots and errors ---------------------------------------------------- */

char *files_safe_text(const char *s, size_t len)
{
	size_t n;
	return utf8_sanitize(s, len, &n);
}

void files_root_close(struct files_root *root)
{
	if (root->entered)
		fsident_leave(&root->id);
	root->entered = false;
	if (root->fd >= 0)
		close(root->fd);
	root->fd = -1;
	free(root->home);
	root->home = NULL;
}

/* Open dir as the root, as the user: 0 or -1 after answering. */
static int files_root_enter(struct http_resp *resp, struct files_root *root, const char *dir)
{
	int rc = fsident_enter(&root->id);
	if (rc < 0) {
		log_error("files: cannot take the identity of uid %u: %s", (unsigned)root->id.uid,
			  strerror(-rc));
		http_resp_error(resp, 500, "internal", "cannot act as your Unix account");
		return -1;
	}
	root->entered = true;
	root->fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root->fd < 0) {
		rc = -errno;
		/* Answer before closing: dir may be root->home, which close frees. */
		if (rc == -ENOENT)
			http_resp_error(resp, 404, "not_found", "the folder %s does not exist",
					dir);
		else
			files_answer_errno(resp, rc, "");
		files_root_close(root);
		return -1;
	}
	return 0;
}

int files_home_open_id(struct http_req *req, struct http_resp *resp, int64_t user_id,
		       struct files_root *root)
{
	memset(root, 0, sizeof *root);
	root->fd = -1;
	struct store_user u = {0};
	int rc = store_user_get_by_id(req->store, user_id, &u);
	if (rc < 0) {
		http_resp_errno(resp, rc, "user");
		return -1;
	}
	rc = fsident_load(u.unix_user, (uid_t)u.uid, (gid_t)u.gid, &root->id);
	if (rc < 0) {
		store_user_clear(&u);
		http_resp_error(resp, 403, "forbidden", "your account cannot act on files");
		return -1;
	}
	root->user_id = user_id;
	root->home = xstrdup(u.home);
	store_user_clear(&u);
	return files_root_enter(resp, root, root->home);
}

int files_home_open(struct http_req *req, struct http_resp *resp, struct files_root *root)
{
	return files_home_open_id(req, resp, req->who.user_id, root);
}

void files_answer_errno(struct http_resp *resp, int err, const char *path)
{
	const char *p = *path ? path : "/";
	switch (-err) {
	case ENOENT:
	case ENOTDIR:
		http_resp_error(resp, 404, "not_found", "'%s' not found", p);
		break;
	case EACCES:
	case EPERM:
	case EROFS:
		http_resp_error(resp, 403, "forbidden", "permission denied on '%s'", p);
		break;
	case ELOOP:
		http_resp_error(resp, 403, "forbidden",
				"'%s' is or goes through a symbolic link; links are not followed",
				p);
		break;
	case EEXIST:
	case ENOTEMPTY:
		http_resp_error(resp, 409, "conflict", "'%s' already exists or is not empty", p);
		break;
	case EISDIR:
		http_resp_error(resp, 409, "conflict", "'%s' is a folder", p);
		break;
	case ENOSPC:
	case EDQUOT:
		http_resp_error(resp, 507, "insufficient_storage", "no space left for '%s'", p);
		break;
	case EXDEV:
		http_resp_error(resp, 422, "invalid", "'%s' cannot be moved across file systems",
				p);
		break;
	case EINVAL:
	case ENAMETOOLONG:
		http_resp_error(resp, 422, "invalid", "'%s' is not a valid name here", p);
		break;
	default:
		log_error("files: file-system call on '%s' failed: %s", p, strerror(-err));
		http_resp_error(resp, 500, "internal", "cannot access '%s'", p);
		break;
	}
}

int files_resolve(struct files_root *root, const char *p, size_t len, struct path_ref *ref,
		  struct http_resp *resp)
{
	const char *why = NULL;
	int rc = path_resolve(root->fd, p, len, ref, &why);
	if (rc == -EINVAL) {
		http_resp_error(resp, 422, "invalid", "bad path: %s", why);
		return -1;
	}
	if (rc < 0) {
		char *shown = files_safe_text(p, strnlen(p, len));
		files_answer_errno(resp, rc, shown);
		free(shown);
		return -1;
	}
	return 0;
}

/* The decoded path after prefix in the request-target ("" for the
 * prefix itself); 0 or -1 after answering. */
static int files_target_path(struct http_req *req, struct http_resp *resp, const char *prefix,
			     char **out, size_t *len)
{
	const char *t = req->target ? req->target : req->path;
	size_t tl = strcspn(t, "?");
	char *dec;
	size_t dl;
	if (path_decode(t, tl, &dec, &dl) < 0) {
		http_resp_error(resp, 400, "bad_request", "malformed percent-encoding in the path");
		return -1;
	}
	size_t pl = strlen(prefix);
	if (dl < pl || memcmp(dec, prefix, pl) != 0 || (dl > pl && dec[pl] != '/')) {
		free(dec);
		http_resp_error(resp, 404, "not_found", "no such route: %s", req->path);
		return -1;
	}
	size_t skip = dl > pl ? pl + 1 : pl;
	memmove(dec, dec + skip, dl - skip + 1);
	*out = dec;
	*len = dl - skip;
	return 0;
}

json_t *files_entry_json(const char *name, const struct stat *st)
{
	const char *type = S_ISDIR(st->st_mode)	  ? "dir"
			   : S_ISREG(st->st_mode) ? "file"
			   : S_ISLNK(st->st_mode) ? "link"
						  : "other";
	char *safe = files_safe_text(name, strlen(name));
	json_t *j = json_pack("{s:s,s:s,s:I,s:o,s:i}", "name", safe, "type", type, "size",
			      (json_int_t)st->st_size, "mtime", api_time_json(st->st_mtime), "mode",
			      (int)(st->st_mode & 07777));
	free(safe);
	return j;
}

/* ---- space ------------------------------------------------------------------- */

static int64_t files_du_walk(int fd0, int depth)
{
	DIR *d = fdopendir(fd0);
	if (!d) {
		close(fd0);
		return 0;
	}
	int64_t total = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode))
			total += st.st_size;
		else if (S_ISDIR(st.st_mode) && depth < FILES_DU_DEPTH) {
			int fd = openat(dirfd(d), de->d_name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0)
				total += files_du_walk(fd, depth + 1);
		}
	}
	closedir(d);
	return total;
}

int64_t files_du(int dirfd, const char *name)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) ? st.st_size : 0;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : files_du_walk(fd, 0);
}

int files_space_check(struct http_req *req, struct http_resp *resp, struct files_root *root,
		      int dirfd, uint64_t bytes, uint64_t *room)
{
	const struct config *cfg = req->srv->cfg;
	uint64_t left = UINT64_MAX;
	if (cfg->quota_mib > 0) {
		int fd = openat(root->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		int64_t used = fd >= 0 ? files_du_walk(fd, 0) : 0;
		uint64_t quota = (uint64_t)cfg->quota_mib << 20;
		if ((uint64_t)used + bytes > quota) {
			http_resp_error(resp, 413, "quota_exceeded",
					"this would put %" PRIu64
					" bytes in your home, over your quota "
					"of %lld MiB (%" PRId64 " bytes used)",
					(uint64_t)used + bytes, (long long)cfg->quota_mib, used);
			return -1;
		}
		left = quota - (uint64_t)used - bytes;
	}
	struct statvfs vfs;
	if (fstatvfs(dirfd, &vfs) == 0) {
		uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
		uint64_t keep = (uint64_t)cfg->min_free_mib << 20;
		if (avail < keep || avail - keep < bytes) {
			http_resp_error(resp, 507, "insufficient_storage",
					"not enough free disk space for %" PRIu64 " bytes", bytes);
			return -1;
		}
		if (avail - keep - bytes < left)
			left = avail - keep - bytes;
	}
	if (room)
		*room = left;
	return 0;
}

/* ---- listing ---------------------------------------------------------------- */

/* The `limit + 1` smallest names after the cursor, in a max-heap: memory
 * bounded by the page, whatever the size of the folder. */
struct files_heap {
	char **v;
	size_t n, cap;
};

static void files_heap_sift_down(struct files_heap *h, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->n && strcmp(h->v[l], h->v[m]) > 0)
			m = l;
		if (r < h->n && strcmp(h->v[r], h->v[m]) > 0)
			m = r;
		if (m == i)
			return;
		char *tmp = h->v[i];
		h->v[i] = h->v[m];
		h->v[m] = tmp;
		i = m;
	}
}

static void files_heap_offer(struct files_heap *h, const char *name)
{
	if (h->n < h->cap) {
		size_t i = h->n++;
		h->v[i] = xstrdup(name);
		while (i > 0 && strcmp(h->v[(i - 1) / 2], h->v[i]) < 0) {
			char *tmp = h->v[i];
			h->v[i] = h->v[(i - 1) / 2];
			h->v[(i - 1) / 2] = tmp;
			i = (i - 1) / 2;
		}
		return;
	}
	if (strcmp(name, h->v[0]) >= 0)
		return;
	free(h->v[0]);
	h->v[0] = xstrdup(name);
	files_heap_sift_down(h, 0);
}

static int files_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int files_query_int(struct http_req *req, struct http_resp *resp, const char *name, long lo,
			   long hi, long def, long *out)
{
	const char *v = http_req_query(req, name);
	*out = def;
	if (!v)
		return 0;
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi) {
		http_resp_error(resp, 422, "invalid", "%s must be an integer from %ld to %ld", name,
				lo, hi);
		return -1;
	}
	*out = n;
	return 0;
}

static void files_list(struct http_req *req, struct http_resp *resp, struct path_ref *ref,
		       const char *shown)
{
	long limit;
	if (files_query_int(req, resp, "limit", 1, FILES_PAGE_MAX, FILES_PAGE, &limit) < 0)
		return;
	const char *after = http_req_query(req, "after");
	int fd = openat(ref->dirfd, ref->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		int rc = -errno;
		if (fd >= 0)
			close(fd);
		files_answer_errno(resp, rc, shown);
		return;
	}
	struct files_heap h = {xcalloc((size_t)limit + 1, sizeof(char *)), 0, (size_t)limit + 1};
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		if (strncmp(n, FILES_TMP_PREFIX, strlen(FILES_TMP_PREFIX)) == 0)
			continue; /* uploads in progress */
		if (after && strcmp(n, after) <= 0)
			continue;
		files_heap_offer(&h, n);
	}
	qsort(h.v, h.n, sizeof *h.v, files_name_cmp);
	bool more = h.n > (size_t)limit;
	size_t count = more ? (size_t)limit : h.n;
	json_t *entries = json_array();
	for (size_t i = 0; i < count; i++) {
		struct stat st;
		if (fstatat(dirfd(d), h.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* removed meanwhile */
		json_array_append_new(entries, files_entry_json(h.v[i], &st));
	}
	char *next = more ? files_safe_text(h.v[count - 1], strlen(h.v[count - 1])) : NULL;
	for (size_t i = 0; i < h.n; i++)
		free(h.v[i]);
	free(h.v);
	closedir(d);
	json_t *j = json_pack("{s:s,s:o,s:o}", "path", shown, "entries", entries, "next",
			      next ? json_string(next) : json_null());
	free(next);
	http_resp_json(resp, 200, j);
}

/* ---- downloads ---------------------------------------------------------------- */

static const struct {
	const char *ext;
	const char *type;
	bool inline_ok; /* shown in the browser unless ?download=1 */
} files_types[] = {
    {"txt", "text/plain; charset=utf-8", true},
    {"log", "text/plain; charset=utf-8", true},
    {"md", "text/markdown; charset=utf-8", true},
    {"csv", "text/csv; charset=utf-8", true},
    {"tsv", "text/tab-separated-values; charset=utf-8", true},
    {"py", "text/x-python; charset=utf-8", true},
    {"sh", "text/x-shellscript; charset=utf-8", true},
    {"c", "text/x-c; charset=utf-8", true},
    {"h", "text/x-c; charset=utf-8", true},
    {"yaml", "text/yaml; charset=utf-8", true},
    {"yml", "text/yaml; charset=utf-8", true},
    {"toml", "text/plain; charset=utf-8", true},
    {"ini", "text/plain; charset=utf-8", true},
    {"html", "text/html; charset=utf-8", true},
    {"htm", "text/html; charset=utf-8", true},
    {"css", "text/css; charset=utf-8", true},
    {"js", "text/javascript; charset=utf-8", true},
    {"json", "application/json", true},
    {"ipynb", "application/x-ipynb+json", true},
    {"xml", "application/xml", true},
    {"svg", "image/svg+xml", true},
    {"png", "image/png", true},
    {"jpg", "image/jpeg", true},
    {"jpeg", "image/jpeg", true},
    {"gif", "image/gif", true},
    {"webp", "image/webp", true},
    {"bmp", "image/bmp", true},
    {"ico", "image/vnd.microsoft.icon", true},
    {"pdf", "application/pdf", true},
    {"mp4", "video/mp4", true},
    {"webm", "video/webm", true},
    {"mp3", "audio/mpeg", true},
    {"wav", "audio/wav", true},
    {"ogg", "audio/ogg", true},
    {"zip", "application/zip", false},
    {"gz", "application/gzip", false},
    {"tar", "application/x-tar", false},
    {"npy", "application/octet-stream", false},
};

static const char *files_content_type(const char *name, bool *inline_ok)
{
	const char *dot = strrchr(name, '.');
	*inline_ok = false;
	if (dot && dot != name)
		for (size_t i = 0; i < sizeof files_types / sizeof files_types[0]; i++)
			if (strcasecmp(dot + 1, files_types[i].ext) == 0) {
				*inline_ok = files_types[i].inline_ok;
				return files_types[i].type;
			}
	return "application/octet-stream";
}

/* Content-Disposition with an ASCII fallback and the exact name in
 * RFC 5987 form. */
static void files_disposition(struct http_resp *resp, const char *kind, const char *name)
{
	size_t n = strlen(name);
	char *ascii = xmalloc(n + 1), *enc = xmalloc(3 * n + 1);
	size_t e = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		ascii[i] = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? (char)c : '_';
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("!#$&+-.^_`|~", c))
			enc[e++] = (char)c;
		else
			e += (size_t)snprintf(enc + e, 4, "%%%02X", c);
	}
	ascii[n] = '\0';
	enc[e] = '\0';
	char *v = xasprintf("%s; filename=\"%s\"; filename*=UTF-8''%s", kind, ascii, enc);
	http_resp_header(resp, "Content-Disposition", v);
	free(v);
	free(ascii);
	free(enc);
}

/* Parse a single "bytes=A-B" range of a size-byte file: 1 with
 * [*from, *to] set, 0 to send it all (no range, several, or malformed),
 * -1 when unsatisfiable. */
static int files_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
	if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
		return 0;
	const char *p = h + 6, *dash = strchr(p, '-');
	if (!dash)
		return 0;
	char *end;
	if (p == dash) { /* suffix: the last N bytes */
		errno = 0;
		unsigned long long n = strtoull(dash + 1, &end, 10);
		if (errno || end == dash + 1 || *end || dash[1] == '-')
			return 0;
		if (n == 0 || size == 0)
			return -1;
		*from = n >= size ? 0 : size - n;
		*to = size - 1;
		return 1;
	}
	if (*p < '0' || *p > '9')
		return 0;
	errno = 0;
	unsigned long long a = strtoull(p, &end, 10);
	if (errno || end != dash)
		return 0;
	unsigned long long b = size ? size - 1 : 0;
	if (dash[1]) {
		if (dash[1] < '0' || dash[1] > '9')
			return 0;
		b = strtoull(dash + 1, &end, 10);
		if (errno || *end || b < a)
			return 0;
		if (b >= size)
			b = size - 1;
	}
	if (a >= size)
		return -1;
	*from = a;
	*to = b;
	return 1;
}

void files_etag(const struct stat *st, char *out, size_t len)
{
	snprintf(out, len, "\"%llx-%llx-%llx\"", (unsigned long long)st->st_ino,
		 (unsigned long long)st->st_size,
		 (unsigned long long)st->st_mtim.tv_sec * 1000000000ULL +
		     (unsigned long long)st->st_mtim.tv_nsec);
}

bool files_etag_listed(const char *list, const char *etag)
{
	size_t n = strlen(etag);
	for (const char *p = list; *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *end = p;
		while (*end && *end != ',')
			end++;
		const char *last = end;
		while (last > p && (last[-1] == ' ' || last[-1] == '\t'))
			last--;
		if ((size_t)(last - p) == 1 && *p == '*')
			return true;
		if ((size_t)(last - p) == n && memcmp(p, etag, n) == 0)
			return true;
		p = end;
	}
	return false;
}

static void files_download(struct http_req *req, struct http_resp *resp, int fd,
			   const struct stat *st, const char *name)
{
	char etag[FILES_ETAG_LEN], modified[64], buf[96];
	files_etag(st, etag, sizeof etag);
	struct tm tm;
	gmtime_r(&st->st_mtime, &tm);
	strftime(modified, sizeof modified, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	http_resp_header(resp, "ETag", etag);
	http_resp_header(resp, "Last-Modified", modified);
	http_resp_header(resp, "Accept-Ranges", "bytes");
	/* Whatever the type, a user's file never runs as kaon's origin. */
	http_resp_header(resp, "Content-Security-Policy", "sandbox");
	const char *inm = http_req_header(req, "If-None-Match");
	if (inm && (strcmp(inm, etag) == 0 || strcmp(inm, "*") == 0)) {
		close(fd);
		http_resp_empty(resp, 304);
		return;
	}
	bool inline_ok;
	const char *type = files_content_type(name, &inline_ok);
	const char *dl = http_req_query(req, "download");
	bool attach = !inline_ok || (dl && strcmp(dl, "0") != 0);
	files_disposition(resp, attach ? "attachment" : "inline", name);
	uint64_t size = (uint64_t)st->st_size, from = 0, to = size ? size - 1 : 0;
	const char *if_range = http_req_header(req, "If-Range");
	int r = if_range && strcmp(if_range, etag) != 0
		    ? 0
		    : files_range(http_req_header(req, "Range"), size, &from, &to);
	if (r < 0) {
		close(fd);
		snprintf(buf, sizeof buf, "bytes */%" PRIu64, size);
		http_resp_header(resp, "Content-Range", buf);
		http_resp_error(resp, 416, "range_not_satisfiable",
				"the range is outside the file's %" PRIu64 " bytes", size);
		return;
	}
	if (r == 0) {
		http_resp_file(resp, 200, type, fd, 0, size);
		return;
	}
	snprintf(buf, sizeof buf, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, from, to, size);
	http_resp_header(resp, "Content-Range", buf);
	http_resp_file(resp, 206, type, fd, from, to - from + 1);
}

/* ---- archives ------------------------------------------------------------------- */

struct files_tar {
	struct tar *tar;
	struct fsident id;
};

static long files_tar_next(void *ctx, struct store *st, char *buf, size_t len)
{
	struct files_tar *ft = ctx;
	if (fsident_enter(&ft->id) < 0)
		return HTTP_STREAM_END;
	long n = tar_read(ft->tar, buf, len);
	fsident_leave(&ft->id);
	return n > 0 ? n : HTTP_STREAM_END;
}

static void files_tar_release(void *ctx)
{
	struct files_tar *ft = ctx;
	tar_free(ft->tar);
	free(ft);
}

static void files_archive(struct http_req *req, struct http_resp *resp, struct files_root *root,
			  struct path_ref *ref, const char *base)
{
	const char *fmt = http_req_query(req, "archive");
	if (strcmp(fmt, "tar") != 0) {
		http_resp_error(resp, 422, "invalid", "archive must be 'tar'");
		return;
	}
	int fd = openat(ref->dirfd, ref->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		files_answer_errno(resp, -errno, base);
		return;
	}
	struct files_tar *ft = xcalloc(1, sizeof *ft);
	ft->tar = tar_new(fd, base);
	ft->id = root->id;
	char *fname = xasprintf("%s.tar", base);
	files_disposition(resp, "attachment", fname);
	free(fname);
	http_resp_stream(resp, 200, "application/x-tar", files_tar_next, files_tar_release, ft);
}

/* ---- GET ------------------------------------------------------------------------ */

static void files_get(struct http_req *req, struct http_resp *resp, struct files_root *root,
		      const char *path, size_t len, const char *root_name)
{
	struct path_ref ref;
	if (files_resolve(root, path, len, &ref, resp) < 0)
		return;
	char *shown = xstrndup(path, len);
	while (*shown && shown[strlen(shown) - 1] == '/')
		shown[strlen(shown) - 1] = '\0';
	struct stat st;
	if (fstatat(ref.dirfd, ref.name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		files_answer_errno(resp, -errno, shown);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		if (http_req_query(req, "archive"))
			files_archive(req, resp, root, &ref, ref.is_root ? root_name : ref.name);
		else
			files_list(req, resp, &ref, shown);
		goto out;
	}
	if (S_ISLNK(st.st_mode)) {
		files_answer_errno(resp, -ELOOP, shown);
		goto out;
	}
	int fd = openat(ref.dirfd, ref.name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		files_answer_errno(resp, -errno, shown);
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		http_resp_error(resp, 422, "invalid", "'%s' is not a regular file", shown);
		goto out;
	}
	files_download(req, resp, fd, &st, ref.name);
out:
	free(shown);
	path_ref_close(&ref);
}

typedef void (*files_home_fn)(struct http_req *req, struct http_resp *resp,
			      struct files_root *root, const char *path, size_t len);

/* Every /api/v1/files route: the path from the URL, the caller's home,
 * then the operation; each step answers for itself when it fails. */
static void files_on_home(struct http_req *req, struct http_resp *resp, files_home_fn op)
{
	char *path;
	size_t len;
	struct files_root root;
	if (files_target_path(req, resp, "/api/v1/files", &path, &len) < 0)
		return;
	if (files_home_open(req, resp, &root) == 0) {
		op(req, resp, &root, path, len);
		files_root_close(&root);
	}
	free(path);
}

static void files_get_home(struct http_req *req, struct http_resp *resp, struct files_root *root,
			   const char *path, size_t len)
{
	files_get(req, resp, root, path, len, "home");
}

void api_files_get(struct http_req *req, struct http_resp *resp)
{
	files_on_home(req, resp, files_get_home);
}

void api_files_put(struct http_req *req, struct http_resp *resp)
{
	files_on_home(req, resp, files_put_begin);
}

void api_files_post(struct http_req *req, struct http_resp *resp)
{
	files_on_home(req, resp, files_op);
}

void api_files_delete(struct http_req *req, struct http_resp *resp)
{
	files_on_home(req, resp, files_delete);
}

/* ---- datasets ------------------------------------------------------------------- */

static bool files_dataset_name_ok(const char *s)
{
	return accounts_name_valid(s);
}

void api_datasets_list(struct http_req *req, struct http_resp *resp)
{
	json_t *list = json_array();
	DIR *d = opendir(req->srv->cfg->shared_root);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		struct stat st;
		if (!files_dataset_name_ok(de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISDIR(st.st_mode))
			continue;
		json_array_append_new(list, json_pack("{s:s,s:o}", "name", de->d_name, "mtime",
						      api_time_json(st.st_mtime)));
	}
	if (d)
		closedir(d);
	http_resp_json(resp, 200, json_pack("{s:o}", "datasets", list));
}

void api_datasets_get(struct http_req *req, struct http_resp *resp)
{
	const char *name = req->params[0];
	char *full, *path = NULL;
	size_t len;
	if (files_target_path(req, resp, "/api/v1/datasets", &full, &len) < 0)
		return;
	size_t nl = strcspn(full, "/");
	if (nl != strlen(name) || memcmp(full, name, nl) != 0 || !files_dataset_name_ok(name)) {
		http_resp_error(resp, 404, "not_found", "no dataset '%s'", name);
		free(full);
		return;
	}
	path = full + nl + (full[nl] == '/');
	struct files_root root;
	memset(&root, 0, sizeof root);
	root.fd = -1;
	root.readonly = true;
	struct store_user u = {0};
	if (store_user_get_by_id(req->store, req->who.user_id, &u) < 0 ||
	    fsident_load(u.unix_user, (uid_t)u.uid, (gid_t)u.gid, &root.id) < 0) {
		http_resp_error(resp, 403, "forbidden", "your account cannot act on files");
		goto out;
	}
	char *dir = xasprintf("%s/%s", req->srv->cfg->shared_root, name);
	int rc = files_root_enter(resp, &root, dir);
	free(dir);
	if (rc == 0) {
		files_get(req, resp, &root, path, len - (size_t)(path - full), name);
		files_root_close(&root);
	} else if (resp->status == 404) {
		http_resp_error(resp, 404, "not_found", "no dataset '%s'", name);
	}
out:
	store_user_clear(&u);
	free(full);
}

void api_datasets_create(struct http_req *req, struct http_resp *resp)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	const char *name = json_string_value(json_object_get(body, "name"));
	const char *source = json_string_value(json_object_get(body, "source"));
	if (!name || !files_dataset_name_ok(name) || json_object_size(body) != 2 || !source ||
	    source[0] != '/' || strlen(source) >= PATH_MAX) {
		http_resp_error(resp, 422, "invalid",
				"give 'name' ([a-z][a-z0-9_-]{0,31}) and 'source' (an absolute "
				"folder on the server), nothing else");
		goto out;
	}
	struct stat st;
	if (stat(source, &st) < 0 || !S_ISDIR(st.st_mode)) {
		http_resp_error(resp, 422, "invalid", "source '%s' is not a folder", source);
		goto out;
	}
	const char *sr = req->srv->cfg->shared_root;
	if (mkdir(sr, 0755) < 0 && errno != EEXIST) {
		files_answer_errno(resp, -errno, "shared");
		goto out;
	}
	char *link = xasprintf("%s/%s", sr, name);
	int rc = symlink(source, link) < 0 ? -errno : 0;
	free(link);
	if (rc < 0) {
		files_answer_errno(resp, rc, name);
		goto out;
	}
	log_info("files: dataset %s registered at %s by %s", name, source, req->who.username);
	http_resp_json(resp, 201,
		       json_pack("{s:s,s:o}", "name", name, "mtime", api_time_json(st.st_mtime)));
out:
	json_decref(body);
}

void api_datasets_delete(struct http_req *req, struct http_resp *resp)
{
	const char *name = req->params[0];
	if (!files_dataset_name_ok(name)) {
		http_resp_error(resp, 404, "not_found", "no dataset '%s'", name);
		return;
	}
	char *link = xasprintf("%s/%s", req->srv->cfg->shared_root, name);
	/* Only the registration goes: a link, or an empty folder. Never data. */
	int rc =
	    unlink(link) == 0 ? 0 : (errno == EISDIR ? (rmdir(link) == 0 ? 0 : -errno) : -errno);
	free(link);
	if (rc == -ENOENT) {
		http_resp_error(resp, 404, "not_found", "no dataset '%s'", name);
		return;
	}
	if (rc < 0) {
		http_resp_error(resp, 409, "conflict",
				"dataset '%s' is a folder with data; remove it on the server",
				name);
		return;
	}
	http_resp_empty(resp, 204);
}
