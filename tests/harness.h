/*
 * harness — kaon's unit-test harness (~100 lines, in the spirit of
 * picotest and redis' testhelp.h).
 *
 *   TEST(name) { CHECK(x == 1); CHECK_STR(a, "b"); if (!root) SKIP("needs root"); }
 *
 * Tests register themselves at load time; each runs in a forked child, so
 * a crash or a sanitizer report is one failure and the rest still run.
 * The last line is exactly `unit: N passed, N failed, N skipped`, and the
 * exit status is non-zero when anything failed.
 * `build/debug/unit NAME...` runs only the tests whose names contain NAME.
 */
#ifndef KAON_TESTS_HARNESS_H
#define KAON_TESTS_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*harness_fn)(void);
void harness_register(const char *name, const char *file, harness_fn fn);
void harness_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
void harness_skip(const char *why) __attribute__((noreturn));
/* A fresh temporary directory for this test (removed by the harness). */
const char *harness_tmpdir(void);

#define TEST(name)                                                                                    \
	static void test_##name(void);                                                                \
	__attribute__((constructor)) static void test_register_##name(void)                           \
	{                                                                                             \
		harness_register(#name, __FILE__, test_##name);                                       \
	}                                                                                             \
	static void test_##name(void)

#define CHECK(cond)                                                                                   \
	do {                                                                                          \
		if (!(cond))                                                                          \
			harness_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                         \
	} while (0)

#define CHECK_INT(a, b)                                                                               \
	do {                                                                                          \
		long long a_ = (long long)(a), b_ = (long long)(b);                                   \
		if (a_ != b_)                                                                         \
			harness_fail(__FILE__, __LINE__, "%s == %lld, expected %lld", #a, a_, b_);    \
	} while (0)

#define CHECK_STR(a, b)                                                                               \
	do {                                                                                          \
		const char *a_ = (a), *b_ = (b);                                                      \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                                                \
			harness_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a,         \
				     a_ ? a_ : "(null)", b_ ? b_ : "(null)");                         \
	} while (0)

#define SKIP(why) harness_skip(why)

#endif
