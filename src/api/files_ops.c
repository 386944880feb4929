/*
 * api/files_ops — changing a home through the Files API:
 *
 *   POST /api/v1/files/{path}  {"op":"mkdir"}            a folder
 *                              {"op":"create"}           an empty file
 *                              {"op":"move","to":PATH}   rename or move
 *                              {"op":"copy","to":PATH}   files and folders
 *   DELETE /api/v1/files/{path}[?recursive=1]
 *
 * Everything goes through fds under the root (see files.h), as the user.
 * Nothing is replaced: an existing target is 409. A copy is built under a
 * hidden name next to its target and renamed into place at the end, so
 * nobody ever sees half a copy under the final name.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/fields.h"
#include "api/files.h"
#include "lib/fsio.h"
#include "lib/xalloc.h"

enum { FILES_MAX_DEPTH = 128, FILES_COPY_BLOCK = 1 << 20 };

static const struct fields_spec files_op_fields[] = {
    {"op", FIELDS_STRING, true, 1, 16},
    {"to", FIELDS_STRING, false, 0, PATH_MAX},
};

int files_remove_tree(int parent, const char *name, int depth)
{
	if (unlinkat(parent, name, 0) == 0)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	if (depth >= FILES_MAX_DEPTH)
		return -ELOOP;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		rc = files_remove_tree(dirfd(d), de->d_name, depth + 1);
	}
	closedir(d);
	if (rc == 0 && unlinkat(parent, name, AT_REMOVEDIR) < 0)
		rc = -errno;
	return rc;
}

static int files_copy_file(int sfd_dir, const char *sname, int ddir, const char *dname,
			   const struct stat *st)
{
	int in = openat(sfd_dir, sname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (in < 0)
		return -errno;
	int out = openat(ddir, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			 st->st_mode & 07777);
	if (out < 0) {
		int rc = -errno;
		close(in);
		return rc;
	}
	int rc = 0;
	for (;;) {
		/* In the kernel, and a reflink where the file system can. */
		ssize_t n = copy_file_range(in, NULL, out, NULL, FILES_COPY_BLOCK, 0);
		if (n == 0)
			break;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
			rc = -errno;
			break;
		}
		/* Fallback: read and write through a buffer. */
		char *buf = xmalloc(1 << 16);
		ssize_t r;
		while ((r = read(in, buf, 1 << 16)) != 0) {
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 || (rc = fsio_write_all(out, buf, (size_t)r)) < 0) {
				rc = rc < 0 ? rc : -errno;
				break;
			}
		}
		free(buf);
		break;
	}
	if (rc == 0 && fsync(out) < 0)
		rc = -errno;
	close(in);
	close(out);
	return rc;
}

/* Copy sdir/sname to ddir/dname (which must not exist); links as links. */
static int files_copy_tree(int sdir, const char *sname, int ddir, const char *dname, int depth)
{
	struct stat st;
	if (fstatat(sdir, sname, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (S_ISREG(st.st_mode))
		return files_copy_file(sdir, sname, ddir, dname, &st);
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(sdir, sname, target, sizeof target - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		return symlinkat(target, ddir, dname) < 0 ? -errno : 0;
	}
	if (!S_ISDIR(st.st_mode))
		return 0; /* FIFOs, sockets, devices: not copied */
	if (depth >= FILES_MAX_DEPTH)
		return -ELOOP;
	if (mkdirat(ddir, dname, (st.st_mode & 07777) | 0700) < 0)
		return -errno;
	int sfd = openat(sdir, sname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int dfd = openat(ddir, dname, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = sfd >= 0 ? fdopendir(sfd) : NULL;
	int rc = 0;
	if (!d || dfd < 0) {
		rc = -errno;
		if (sfd >= 0 && !d)
			close(sfd);
	}
	struct dirent *de;
	while (rc == 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		rc = files_copy_tree(dirfd(d), de->d_name, dfd, de->d_name, depth + 1);
	}
	if (d)
		closedir(d);
	if (dfd >= 0)
		close(dfd);
	return rc;
}

void files_tmp_name(char *out, size_t len, const char *what)
{
	unsigned char r[8];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, r, sizeof r) != (ssize_t)sizeof r) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		memcpy(r, &ts.tv_nsec, sizeof r < sizeof ts.tv_nsec ? sizeof r : sizeof ts.tv_nsec);
	}
	if (fd >= 0)
		close(fd);
	snprintf(out, len, "%s%s-%02x%02x%02x%02x%02x%02x%02x%02x", FILES_TMP_PREFIX, what, r[0],
		 r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
}

int files_fsync_dir(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static void files_answer_entry(struct http_resp *resp, int status, int dirfd, const char *name,
			       const char *shown)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		files_answer_errno(resp, -errno, shown);
		return;
	}
	json_t *e = files_entry_json(name, &st);
	json_object_set_new(e, "path", json_string(shown));
	http_resp_json(resp, status, e);
}

static bool files_name_reserved(const char *name)
{
	return strncmp(name, FILES_TMP_PREFIX, strlen(FILES_TMP_PREFIX)) == 0;
}

static void files_op_copy(struct http_req *req, struct http_resp *resp, struct files_root *root,
			  struct path_ref *src, struct path_ref *dst, const char *to)
{
	struct stat st;
	if (fstatat(dst->dirfd, dst->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		http_resp_error(resp, 409, "conflict", "'%s' already exists", to);
		return;
	}
	int64_t bytes = files_du(src->dirfd, src->name);
	if (bytes < 0) {
		files_answer_errno(resp, (int)bytes, to);
		return;
	}
	if (files_space_check(req, resp, root, dst->dirfd, (uint64_t)bytes, NULL) < 0)
		return;
	char tmp[64];
	files_tmp_name(tmp, sizeof tmp, "copy");
	int rc = files_copy_tree(src->dirfd, src->name, dst->dirfd, tmp, 0);
	if (rc == 0 && renameat2(dst->dirfd, tmp, dst->dirfd, dst->name, RENAME_NOREPLACE) < 0)
		rc = -errno;
	if (rc < 0) {
		files_remove_tree(dst->dirfd, tmp, 0);
		files_answer_errno(resp, rc, to);
		return;
	}
	files_fsync_dir(dst->dirfd);
	files_answer_entry(resp, 201, dst->dirfd, dst->name, to);
}

void files_op(struct http_req *req, struct http_resp *resp, struct files_root *root,
	      const char *path, size_t len)
{
	json_t *body = http_req_json(req, resp);
	if (!body)
		return;
	struct path_ref ref = {.dirfd = -1}, dst = {.dirfd = -1};
	char *shown = xstrndup(path, len);
	if (fields_check(body, files_op_fields, FIELDS_COUNT(files_op_fields), resp) < 0)
		goto out;
	const char *op = json_string_value(json_object_get(body, "op"));
	json_t *jto = json_object_get(body, "to");
	bool needs_to = strcmp(op, "move") == 0 || strcmp(op, "copy") == 0;
	if (!needs_to && strcmp(op, "mkdir") != 0 && strcmp(op, "create") != 0) {
		http_resp_error(resp, 422, "invalid",
				"field 'op' must be one of mkdir, create, move, copy");
		goto out;
	}
	if (needs_to != (jto != NULL)) {
		http_resp_error(resp, 422, "invalid", "field 'to' is %s for op '%s'",
				needs_to ? "required" : "not allowed", op);
		goto out;
	}
	if (files_resolve(root, path, len, &ref, resp) < 0)
		goto out;
	if (ref.is_root) {
		http_resp_error(resp, 422, "invalid", "the home folder itself cannot be changed");
		goto out;
	}
	if (files_name_reserved(ref.name)) {
		http_resp_error(resp, 422, "invalid", "names starting with '%s' are kaon's own",
				FILES_TMP_PREFIX);
		goto out;
	}
	int rc = 0;
	if (strcmp(op, "mkdir") == 0) {
		if (mkdirat(ref.dirfd, ref.name, 0755) < 0)
			rc = -errno;
		if (rc == 0)
			files_answer_entry(resp, 201, ref.dirfd, ref.name, shown);
	} else if (strcmp(op, "create") == 0) {
		int fd = openat(ref.dirfd, ref.name,
				O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			rc = -errno;
		else
			close(fd);
		if (rc == 0)
			files_answer_entry(resp, 201, ref.dirfd, ref.name, shown);
	} else {
		const char *to = json_string_value(jto);
		size_t tolen = json_string_length(jto);
		if (files_resolve(root, to, tolen, &dst, resp) < 0)
			goto out;
		if (dst.is_root || files_name_reserved(dst.name)) {
			http_resp_error(resp, 422, "invalid",
					"'to' must name a new file or folder");
			goto out;
		}
		/* A folder into itself: "a" to "a/b". Both paths are checked
		 * and followed no link, so comparing them as strings is exact. */
		size_t n = strlen(shown);
		while (n && shown[n - 1] == '/')
			n--;
		if (strncmp(to, shown, n) == 0 && to[n] == '/') {
			http_resp_error(resp, 422, "invalid", "cannot %s '%s' into itself", op,
					shown);
			goto out;
		}
		if (strcmp(op, "copy") == 0) {
			files_op_copy(req, resp, root, &ref, &dst, to);
			goto out;
		}
		if (renameat2(ref.dirfd, ref.name, dst.dirfd, dst.name, RENAME_NOREPLACE) < 0) {
			rc = -errno;
			struct stat st;
			if (fstatat(ref.dirfd, ref.name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				rc = -ENOENT; /* the source is what is missing */
			files_answer_errno(resp, rc, rc == -ENOENT ? shown : to);
			goto out;
		}
		files_fsync_dir(dst.dirfd);
		files_answer_entry(resp, 200, dst.dirfd, dst.name, to);
		goto out;
	}
	if (rc < 0)
		files_answer_errno(resp, rc, shown);
out:
	path_ref_close(&dst);
	path_ref_close(&ref);
	free(shown);
	json_decref(body);
}

void files_delete(struct http_req *req, struct http_resp *resp, struct files_root *root,
		  const char *path, size_t len)
{
	struct path_ref ref;
	if (files_resolve(root, path, len, &ref, resp) < 0)
		return;
	char *shown = xstrndup(path, len);
	const char *rec = http_req_query(req, "recursive");
	bool recursive = rec && strcmp(rec, "0") != 0;
	struct stat st;
	int rc = 0;
	if (ref.is_root) {
		http_resp_error(resp, 422, "invalid", "the home folder itself cannot be deleted");
		goto out;
	}
	if (fstatat(ref.dirfd, ref.name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		rc = -errno;
	else if (!S_ISDIR(st.st_mode))
		rc = unlinkat(ref.dirfd, ref.name, 0) < 0 ? -errno : 0;
	else if (unlinkat(ref.dirfd, ref.name, AT_REMOVEDIR) < 0) {
		rc = -errno;
		if ((rc == -ENOTEMPTY || rc == -EEXIST) && !recursive) {
			http_resp_error(resp, 409, "conflict",
					"folder '%s' is not empty; add ?recursive=1 to delete it "
					"with everything in it",
					shown);
			goto out;
		}
		if (rc == -ENOTEMPTY || rc == -EEXIST)
			rc = files_remove_tree(ref.dirfd, ref.name, 0);
	}
	if (rc < 0)
		files_answer_errno(resp, rc, shown);
	else
		http_resp_empty(resp, 204);
out:
	free(shown);
	path_ref_close(&ref);
}
