/* lib/path — safe resolution of user paths under a root fd (see path.h). */
#include "lib/path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/xalloc.h"

static int path_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int path_decode(const char *s, size_t len, char **out, size_t *outlen)
{
	char *d = xmalloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%') {
			d[n++] = s[i];
			continue;
		}
		int hi = i + 2 < len ? path_hex(s[i + 1]) : -1;
		int lo = i + 2 < len ? path_hex(s[i + 2]) : -1;
		if (hi < 0 || lo < 0) {
			free(d);
			return -EINVAL;
		}
		d[n++] = (char)(hi << 4 | lo);
		i += 2;
	}
	d[n] = '\0';
	*out = d;
	*outlen = n;
	return 0;
}

int path_check(const char *p, size_t len, const char **why)
{
	if (len >= PATH_MAX) {
		*why = "the path is too long";
		return -EINVAL;
	}
	if (memchr(p, '\0', len)) {
		*why = "the path contains a NUL byte";
		return -EINVAL;
	}
	if (len > 0 && p[0] == '/') {
		*why = "the path must be relative (no leading '/')";
		return -EINVAL;
	}
	size_t i = 0;
	while (i < len) {
		const char *seg = p + i, *slash = memchr(seg, '/', len - i);
		size_t n = slash ? (size_t)(slash - seg) : len - i;
		bool last = !slash || (size_t)(slash - p) + 1 == len;
		if (n == 0 && !last) {
			*why = "the path has an empty segment ('//')";
			return -EINVAL;
		}
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) {
			*why = "the path may not contain '.' or '..' segments";
			return -EINVAL;
		}
		if (n > NAME_MAX) {
			*why = "a name in the path is over 255 bytes";
			return -EINVAL;
		}
		i += n + 1;
	}
	return 0;
}

void path_ref_close(struct path_ref *ref)
{
	if (ref->dirfd >= 0)
		close(ref->dirfd);
	ref->dirfd = -1;
}

static const char *path_errno_why(int err)
{
	switch (err) {
	case ELOOP:
		return "a folder in the path is a symbolic link; links are not followed";
	case ENOENT:
		return "a folder in the path does not exist";
	case ENOTDIR:
		return "a folder in the path is not a folder";
	case EACCES:
	case EPERM:
		return "permission denied on a folder in the path";
	default:
		return "a folder in the path cannot be opened";
	}
}

int path_resolve(int root_fd, const char *p, size_t len, struct path_ref *out, const char **why)
{
	out->dirfd = -1;
	out->name[0] = '\0';
	out->is_root = false;
	int rc = path_check(p, len, why);
	if (rc < 0)
		return rc;
	while (len > 0 && p[len - 1] == '/')
		len--;
	int cur = openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0) {
		rc = -errno;
		*why = "the root folder cannot be opened";
		return rc;
	}
	if (len == 0) {
		out->dirfd = cur;
		memcpy(out->name, ".", 2);
		out->is_root = true;
		return 0;
	}
	size_t i = 0;
	for (;;) {
		const char *seg = p + i, *slash = memchr(seg, '/', len - i);
		size_t n = slash ? (size_t)(slash - seg) : len - i;
		char name[NAME_MAX + 1];
		memcpy(name, seg, n);
		name[n] = '\0';
		if (!slash) {
			memcpy(out->name, name, n + 1);
			out->dirfd = cur;
			return 0;
		}
		/* O_NOFOLLOW with O_DIRECTORY fails on a symbolic link (ENOTDIR
		 * on Linux): told apart below so the message is right. */
		int next = openat(cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			rc = -errno;
			struct stat st;
			if (rc == -ENOTDIR && fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				rc = -ELOOP;
			close(cur);
			*why = path_errno_why(-rc);
			return rc;
		}
		close(cur);
		cur = next;
		i += n + 1;
	}
}

char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir);
	while (n > 0 && dir[n - 1] == '/')
		n--;
	if (n == 0)
		return xstrdup(name);
	return xasprintf("%.*s/%s", (int)n, dir, name);
}
