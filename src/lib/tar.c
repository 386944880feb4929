/* lib/tar — streamed tar archives of a folder (see tar.h). */
#include "lib/tar.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"

enum { TAR_BLOCK = 512, TAR_OUT_MAX = 3 * PATH_MAX + 8 * TAR_BLOCK };

struct tar_level {
	DIR *dir;
	size_t pathlen; /* length of t->path for this folder */
};

struct tar {
	struct tar_level stack[TAR_MAX_DEPTH];
	int depth;
	char path[PATH_MAX * 2]; /* the current entry's name in the archive */
	/* Bytes ready to go out (headers, padding, the end blocks). */
	char *out;
	size_t out_len, out_pos;
	/* The file being sent. */
	int fd;
	uint64_t left, pad;
	int done;
};

struct tar *tar_new(int dirfd, const char *prefix)
{
	struct tar *t = xcalloc(1, sizeof *t);
	t->out = xmalloc(TAR_OUT_MAX);
	t->fd = -1;
	DIR *d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		t->done = -errno;
		return t;
	}
	t->stack[0].dir = d;
	snprintf(t->path, sizeof t->path, "%s", prefix);
	t->stack[0].pathlen = strlen(t->path);
	t->depth = 1;
	return t;
}

void tar_free(struct tar *t)
{
	if (!t)
		return;
	while (t->depth > 0)
		closedir(t->stack[--t->depth].dir);
	if (t->fd >= 0)
		close(t->fd);
	free(t->out);
	free(t);
}

static void tar_octal(char *field, size_t width, uint64_t v)
{
	/* width - 1 digits and a NUL, zero-padded (callers keep v in range). */
	field[width - 1] = '\0';
	for (size_t i = width - 1; i-- > 0; v >>= 3)
		field[i] = (char)('0' + (v & 7));
}

/* Append a pax record "LEN key=value\n" (LEN counts itself) to buf. */
static size_t tar_pax_record(char *buf, size_t at, const char *key, const char *value)
{
	size_t body = strlen(key) + strlen(value) + 3; /* ' ', '=', '\n' */
	size_t len = body + 1;
	for (;;) {
		char digits[24];
		size_t n = (size_t)snprintf(digits, sizeof digits, "%zu", len);
		if (n + body == len)
			break;
		len = n + body;
	}
	at += (size_t)snprintf(buf + at, TAR_OUT_MAX - at, "%zu %s=%s\n", len, key, value);
	return at;
}

static void tar_header(char *h, const char *name, const struct stat *st, char type,
		       const char *link, uint64_t size)
{
	memset(h, 0, TAR_BLOCK);
	size_t n = strlen(name);
	memcpy(h, name, n < 100 ? n : 99);
	tar_octal(h + 100, 8, st->st_mode & 07777);
	tar_octal(h + 108, 8, st->st_uid & 07777777);
	tar_octal(h + 116, 8, st->st_gid & 07777777);
	tar_octal(h + 124, 12, size < 077777777777ULL ? size : 0);
	tar_octal(h + 136, 12, st->st_mtime > 0 ? (uint64_t)st->st_mtime : 0);
	h[156] = type;
	if (link) {
		size_t l = strlen(link);
		memcpy(h + 157, link, l < 100 ? l : 99);
	}
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

/* Queue the header(s) of one entry: a pax header first when a name, a
 * link target or the size does not fit ustar. */
static void tar_emit(struct tar *t, const struct stat *st, char type, const char *link,
		     uint64_t size)
{
	t->out_len = t->out_pos = 0;
	bool long_name = strlen(t->path) >= 100, long_link = link && strlen(link) >= 100;
	if (long_name || long_link || size >= 077777777777ULL) {
		char *data = t->out + TAR_BLOCK;
		size_t dl = 0;
		if (long_name)
			dl = tar_pax_record(data, dl, "path", t->path);
		if (long_link)
			dl = tar_pax_record(data, dl, "linkpath", link);
		if (size >= 077777777777ULL) {
			char num[24];
			snprintf(num, sizeof num, "%llu", (unsigned long long)size);
			dl = tar_pax_record(data, dl, "size", num);
		}
		struct stat pst = *st;
		pst.st_mode = 0644;
		tar_header(t->out, "././@PaxHeader", &pst, 'x', NULL, dl);
		size_t padded = (dl + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
		memset(data + dl, 0, padded - dl);
		t->out_len = TAR_BLOCK + padded;
	}
	tar_header(t->out + t->out_len, t->path, st, type, link, size);
	t->out_len += TAR_BLOCK;
}

/* Set t->path to the current folder's path plus name (with a trailing
 * slash for folders); false when too long. */
static bool tar_path_set(struct tar *t, const char *name, bool dir)
{
	size_t base = t->stack[t->depth - 1].pathlen;
	int n = snprintf(t->path + base, sizeof t->path - base, "/%s%s", name, dir ? "/" : "");
	return n > 0 && (size_t)n < sizeof t->path - base && base + (size_t)n < PATH_MAX;
}

/* Advance the walk by one entry, queueing its header; false at the end. */
static bool tar_next_entry(struct tar *t)
{
	while (t->depth > 0) {
		struct tar_level *lv = &t->stack[t->depth - 1];
		errno = 0;
		struct dirent *de = readdir(lv->dir);
		if (!de) {
			closedir(lv->dir);
			t->depth--;
			continue;
		}
		const char *name = de->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		int dfd = dirfd(lv->dir);
		struct stat st;
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (t->depth == TAR_MAX_DEPTH || !tar_path_set(t, name, true)) {
				log_warn("tar: leaving out %s/%s: too deep or too long", t->path,
					 name);
				continue;
			}
			int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
			if (!d) {
				if (fd >= 0)
					close(fd);
				continue;
			}
			tar_emit(t, &st, '5', NULL, 0);
			t->stack[t->depth].dir = d;
			t->stack[t->depth].pathlen = strlen(t->path) - 1; /* without the slash */
			t->depth++;
			return true;
		}
		if (!tar_path_set(t, name, false))
			continue;
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(dfd, name, target, sizeof target - 1);
			if (n < 0)
				continue;
			target[n] = '\0';
			tar_emit(t, &st, '2', target, 0);
			return true;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			continue;
		}
		tar_emit(t, &st, '0', NULL, (uint64_t)st.st_size);
		t->fd = fd;
		t->left = (uint64_t)st.st_size;
		t->pad = (TAR_BLOCK - t->left % TAR_BLOCK) % TAR_BLOCK;
		return true;
	}
	return false;
}

/* File bytes (or zeros once the file came up short) into buf. */
static size_t tar_file_data(struct tar *t, char *buf, size_t len)
{
	size_t want = t->left < len ? (size_t)t->left : len;
	ssize_t n = -1;
	if (t->fd >= 0) {
		do
			n = read(t->fd, buf, want);
		while (n < 0 && errno == EINTR);
	}
	if (n <= 0) { /* shrank or unreadable: keep the announced size */
		if (t->fd >= 0)
			close(t->fd);
		t->fd = -1;
		memset(buf, 0, want);
		n = (ssize_t)want;
	}
	t->left -= (uint64_t)n;
	return (size_t)n;
}

long tar_read(struct tar *t, char *buf, size_t len)
{
	if (t->done < 0)
		return t->done;
	size_t got = 0;
	while (got < len) {
		if (t->out_pos < t->out_len) {
			size_t n = t->out_len - t->out_pos;
			if (n > len - got)
				n = len - got;
			memcpy(buf + got, t->out + t->out_pos, n);
			t->out_pos += n;
			got += n;
			continue;
		}
		if (t->left > 0) {
			got += tar_file_data(t, buf + got, len - got);
			continue;
		}
		if (t->fd >= 0 || t->pad > 0) {
			if (t->fd >= 0)
				close(t->fd);
			t->fd = -1;
			memset(t->out, 0, t->pad);
			t->out_len = t->pad;
			t->out_pos = 0;
			t->pad = 0;
			continue;
		}
		if (t->done)
			break;
		if (!tar_next_entry(t)) {
			/* Two zero blocks end the archive. */
			memset(t->out, 0, 2 * TAR_BLOCK);
			t->out_len = 2 * TAR_BLOCK;
			t->out_pos = 0;
			t->done = 1;
		}
	}
	return (long)got;
}
