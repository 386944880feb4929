/* Unit tests of lib/ring.c: the terminal's scrollback. */
#include <string.h>

#include "../harness.h"
#include "lib/ring.h"

static char ring_test_buf[4096];

/* The whole content as a string. */
static const char *ring_test_str(const struct ring *r)
{
	size_t n = ring_copy(r, 0, ring_test_buf, sizeof ring_test_buf - 1);
	ring_test_buf[n] = '\0';
	return ring_test_buf;
}

TEST(ring_keeps_everything_until_full)
{
	struct ring *r = ring_new(8);
	ring_write(r, "abc", 3);
	ring_write(r, "de", 2);
	CHECK_INT(ring_len(r), 5);
	CHECK(!ring_wrapped(r));
	CHECK_STR(ring_test_str(r), "abcde");
	ring_write(r, "fgh", 3);
	CHECK_STR(ring_test_str(r), "abcdefgh");
	CHECK(!ring_wrapped(r));
	ring_free(r);
}

TEST(ring_drops_oldest_bytes)
{
	struct ring *r = ring_new(8);
	ring_write(r, "abcdef", 6);
	ring_write(r, "ghij", 4);
	CHECK(ring_wrapped(r));
	CHECK_INT(ring_len(r), 8);
	CHECK_STR(ring_test_str(r), "cdefghij");
	/* Two spans once wrapped, oldest first. */
	const uint8_t *a, *b;
	size_t alen, blen;
	ring_peek(r, &a, &alen, &b, &blen);
	CHECK_INT(alen + blen, 8);
	CHECK(memcmp(a, "cdefgh", alen) == 0 || alen < 6);
	ring_free(r);
}

TEST(ring_write_larger_than_capacity_keeps_the_tail)
{
	struct ring *r = ring_new(4);
	ring_write(r, "x", 1);
	ring_write(r, "0123456789", 10);
	CHECK_STR(ring_test_str(r), "6789");
	CHECK(ring_wrapped(r));
	ring_write(r, "ab", 2);
	CHECK_STR(ring_test_str(r), "89ab");
	ring_free(r);
}

TEST(ring_copy_from_an_offset_and_in_pieces)
{
	struct ring *r = ring_new(6);
	ring_write(r, "abcd", 4);
	ring_write(r, "efgh", 4); /* now "cdefgh", wrapped around the end */
	char out[8];
	CHECK_INT(ring_copy(r, 2, out, sizeof out), 4);
	CHECK(memcmp(out, "efgh", 4) == 0);
	CHECK_INT(ring_copy(r, 1, out, 3), 3);
	CHECK(memcmp(out, "def", 3) == 0);
	CHECK_INT(ring_copy(r, 6, out, sizeof out), 0);
	ring_free(r);
}

TEST(ring_line_start_skips_a_partial_first_line)
{
	struct ring *r = ring_new(10);
	ring_write(r, "line1\nline2\n", 12); /* keeps "ne1\nline2\n" */
	CHECK(ring_wrapped(r));
	CHECK_STR(ring_test_str(r), "ne1\nline2\n");
	CHECK_INT(ring_line_start(r), 4);
	/* Not wrapped: everything is whole. */
	struct ring *s = ring_new(64);
	ring_write(s, "partial", 7);
	CHECK_INT(ring_line_start(s), 0);
	/* Wrapped without a newline: nothing to skip to. */
	ring_write(r, "0123456789", 10);
	CHECK_INT(ring_line_start(r), 0);
	ring_free(s);
	ring_free(r);
}

TEST(ring_many_small_writes_match_a_model)
{
	enum { CAP = 37 };
	struct ring *r = ring_new(CAP);
	char model[8192];
	size_t mlen = 0;
	unsigned seed = 12345;
	for (int i = 0; i < 500; i++) {
		char chunk[64];
		seed = seed * 1103515245u + 12345u;
		size_t n = (seed >> 16) % 50;
		for (size_t k = 0; k < n; k++)
			chunk[k] = (char)('a' + (i + k) % 26);
		ring_write(r, chunk, n);
		if (mlen + n > sizeof model) {
			memmove(model, model + mlen - CAP, CAP);
			mlen = CAP;
		}
		memcpy(model + mlen, chunk, n);
		mlen += n;
		size_t keep = mlen < CAP ? mlen : CAP;
		CHECK_INT(ring_len(r), keep);
		char out[CAP];
		CHECK_INT(ring_copy(r, 0, out, sizeof out), keep);
		CHECK(memcmp(out, model + mlen - keep, keep) == 0);
	}
	ring_free(r);
}
