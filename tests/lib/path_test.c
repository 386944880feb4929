/* Unit tests of lib/path.c: every refusal, and normal paths. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness.h"
#include "lib/path.h"

/* root/ with a/b/f.txt, a file, a link to / (out), a link to a (in). */
static int path_test_root(void)
{
	char *root = NULL, *p = NULL;
	CHECK(asprintf(&root, "%s/root", harness_tmpdir()) > 0);
	CHECK_INT(mkdir(root, 0700), 0);
	int fd = open(root, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0);
	CHECK_INT(mkdirat(fd, "a", 0700), 0);
	CHECK_INT(mkdirat(fd, "a/b", 0700), 0);
	int f = openat(fd, "a/b/f.txt", O_CREAT | O_WRONLY, 0600);
	CHECK(f >= 0);
	close(f);
	f = openat(fd, "file", O_CREAT | O_WRONLY, 0600);
	CHECK(f >= 0);
	close(f);
	CHECK_INT(symlinkat("/", fd, "out"), 0);
	CHECK_INT(symlinkat("a", fd, "in"), 0);
	CHECK_INT(symlinkat("../../..", fd, "a/up"), 0);
	free(root);
	free(p);
	return fd;
}

static int path_test_resolve(int root, const char *p, struct path_ref *ref)
{
	const char *why = NULL;
	int rc = path_resolve(root, p, strlen(p), ref, &why);
	CHECK(rc == 0 || why != NULL);
	return rc;
}

TEST(path_resolves_normal_paths)
{
	int root = path_test_root();
	struct path_ref ref;
	CHECK_INT(path_test_resolve(root, "a/b/f.txt", &ref), 0);
	CHECK_STR(ref.name, "f.txt");
	CHECK(!ref.is_root);
	struct stat st;
	CHECK_INT(fstatat(ref.dirfd, ref.name, &st, AT_SYMLINK_NOFOLLOW), 0);
	CHECK(S_ISREG(st.st_mode));
	path_ref_close(&ref);
	CHECK_INT(path_test_resolve(root, "a/b/", &ref), 0);
	CHECK_STR(ref.name, "b");
	path_ref_close(&ref);
	CHECK_INT(path_test_resolve(root, "new-name", &ref), 0);
	CHECK_STR(ref.name, "new-name");
	path_ref_close(&ref);
	CHECK_INT(path_test_resolve(root, "a/%2e%2e", &ref),
		  0); /* a literal name: not decoded here */
	path_ref_close(&ref);
	CHECK_INT(path_test_resolve(root, "a/..x/...", &ref), -ENOENT);
	CHECK_INT(path_test_resolve(root, "a/<img src=x onerror=alert(1)>&\"x", &ref), 0);
	path_ref_close(&ref);
	close(root);
}

TEST(path_resolves_the_root)
{
	int root = path_test_root();
	struct path_ref ref;
	CHECK_INT(path_test_resolve(root, "", &ref), 0);
	CHECK(ref.is_root);
	CHECK_STR(ref.name, ".");
	path_ref_close(&ref);
	CHECK_INT(path_test_resolve(root, "/", &ref), -EINVAL);
	close(root);
}

TEST(path_refuses_dot_segments)
{
	int root = path_test_root();
	struct path_ref ref;
	const char *bad[] = {"..", "../x", "a/../..", "a/..", "a/b/../../..",
			     ".",  "./a",  "a/./b",   "a/.."};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_INT(path_test_resolve(root, bad[i], &ref), -EINVAL);
	close(root);
}

TEST(path_refuses_absolute_and_empty_segments)
{
	int root = path_test_root();
	struct path_ref ref;
	CHECK_INT(path_test_resolve(root, "/etc/passwd", &ref), -EINVAL);
	CHECK_INT(path_test_resolve(root, "//etc", &ref), -EINVAL);
	CHECK_INT(path_test_resolve(root, "a//b", &ref), -EINVAL);
	close(root);
}

TEST(path_refuses_nul_bytes)
{
	int root = path_test_root();
	struct path_ref ref;
	const char *why;
	CHECK_INT(path_resolve(root, "file\0.txt", 9, &ref, &why), -EINVAL);
	CHECK(strstr(why, "NUL"));
	close(root);
}

TEST(path_refuses_long_names)
{
	int root = path_test_root();
	struct path_ref ref;
	char name[NAME_MAX + 2];
	memset(name, 'x', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	CHECK_INT(path_test_resolve(root, name, &ref), -EINVAL);
	char *longp = malloc(PATH_MAX + 10);
	for (size_t i = 0; i < PATH_MAX + 8; i += 2)
		longp[i] = 'a', longp[i + 1] = '/';
	longp[PATH_MAX + 8] = '\0';
	CHECK_INT(path_test_resolve(root, longp, &ref), -EINVAL);
	free(longp);
	close(root);
}

TEST(path_refuses_symlinks_on_the_way)
{
	int root = path_test_root();
	struct path_ref ref;
	CHECK_INT(path_test_resolve(root, "out/etc/passwd", &ref), -ELOOP);
	CHECK_INT(path_test_resolve(root, "in/b/f.txt", &ref), -ELOOP);
	CHECK_INT(path_test_resolve(root, "a/up/x", &ref), -ELOOP);
	/* As the last component the link itself is named, never followed. */
	CHECK_INT(path_test_resolve(root, "out", &ref), 0);
	CHECK_INT(openat(ref.dirfd, ref.name, O_RDONLY | O_NOFOLLOW), -1);
	CHECK_INT(errno, ELOOP);
	path_ref_close(&ref);
	close(root);
}

TEST(path_reports_missing_and_non_folders)
{
	int root = path_test_root();
	struct path_ref ref;
	CHECK_INT(path_test_resolve(root, "nope/x", &ref), -ENOENT);
	CHECK_INT(path_test_resolve(root, "file/x", &ref), -ENOTDIR);
	close(root);
}

TEST(path_decodes_once)
{
	char *out;
	size_t n;
	CHECK_INT(path_decode("%2e%2E/a%2Fb", 12, &out, &n), 0);
	CHECK_STR(out, "../a/b");
	CHECK_INT(n, 6);
	free(out);
	CHECK_INT(path_decode("%252e", 5, &out, &n), 0);
	CHECK_STR(out, "%2e");
	free(out);
	CHECK_INT(path_decode("a%00b", 5, &out, &n), 0);
	CHECK_INT(n, 3);
	CHECK(out[1] == '\0');
	const char *why;
	CHECK_INT(path_check(out, n, &why), -EINVAL);
	free(out);
	CHECK_INT(path_decode("a%2", 3, &out, &n), -EINVAL);
	CHECK_INT(path_decode("a%", 2, &out, &n), -EINVAL);
	CHECK_INT(path_decode("%zz", 3, &out, &n), -EINVAL);
	CHECK_INT(path_decode("", 0, &out, &n), 0);
	CHECK_INT(n, 0);
	free(out);
}

TEST(path_decoded_traversal_is_refused)
{
	int root = path_test_root();
	const char *enc[] = {"%2e%2e/etc", "a/%2E%2E/%2e%2e", "..%2f..%2fetc%2fpasswd",
			     "%2fetc",	   "a%2f%2f..",	      "f%00.txt"};
	for (size_t i = 0; i < sizeof enc / sizeof enc[0]; i++) {
		char *out;
		size_t n;
		struct path_ref ref;
		const char *why;
		CHECK_INT(path_decode(enc[i], strlen(enc[i]), &out, &n), 0);
		CHECK_INT(path_resolve(root, out, n, &ref, &why), -EINVAL);
		free(out);
	}
	close(root);
}

TEST(path_join_paths)
{
	char *s = path_join("a/b/", "c");
	CHECK_STR(s, "a/b/c");
	free(s);
	s = path_join("", "c");
	CHECK_STR(s, "c");
	free(s);
}
