/* Unit tests of lib/httpmsg.c: what the sessions proxy reads from a
 * backend (response heads, chunked bodies). */
#include <string.h>

#include "../harness.h"
#include "lib/httpmsg.h"

static int httpmsg_test_parse(const char *s, struct httpmsg_head *h)
{
	return httpmsg_parse_response(s, strlen(s), h);
}

static bool httpmsg_test_field(const struct httpmsg_head *h, size_t i, const char *name,
			       const char *value)
{
	return i < h->nfields && httpmsg_name_is(&h->fields[i], name) &&
	       h->fields[i].value_len == strlen(value) &&
	       memcmp(h->fields[i].value, value, strlen(value)) == 0;
}

TEST(httpmsg_parses_a_response_head)
{
	static const char r[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
				"X-Empty:\r\nSet-Cookie:  a=1; Path=/ \t\r\n\r\nbody";
	struct httpmsg_head h;
	CHECK_INT(httpmsg_test_parse(r, &h), 1);
	CHECK_INT(h.status, 200);
	CHECK_INT(h.minor, 1);
	CHECK_INT(h.len, strlen(r) - 4);
	CHECK_INT(h.nfields, 3);
	CHECK(httpmsg_test_field(&h, 0, "content-type", "text/html"));
	CHECK(httpmsg_test_field(&h, 1, "X-Empty", ""));
	CHECK(httpmsg_test_field(&h, 2, "Set-Cookie", "a=1; Path=/"));
}

TEST(httpmsg_head_needs_the_blank_line)
{
	struct httpmsg_head h;
	CHECK_INT(httpmsg_test_parse("HTTP/1.1 200 OK\r\nA: b\r\n", &h), 0);
	CHECK_INT(httpmsg_test_parse("HTTP/1.1 200 OK\r\nA: b\r\n\r", &h), 0);
	CHECK_INT(httpmsg_test_parse("HTTP/1.1 20", &h), 0);
	CHECK_INT(httpmsg_test_parse("", &h), 0);
	/* Bare LFs end lines too; no reason phrase is fine. */
	CHECK_INT(httpmsg_test_parse("HTTP/1.0 404\nA: b\n\n", &h), 1);
	CHECK_INT(h.status, 404);
	CHECK_INT(h.minor, 0);
	CHECK(httpmsg_test_field(&h, 0, "A", "b"));
	CHECK_INT(httpmsg_test_parse("HTTP/1.1 101 Switching Protocols\r\n\r\n", &h), 1);
	CHECK_INT(h.nfields, 0);
}

TEST(httpmsg_refuses_bad_heads)
{
	static const char *const bad[] = {
	    "HTTP/2 200 OK\r\n\r\n",
	    "HTTP/1.1 20x OK\r\n\r\n",
	    "HTTP/1.1 099 Low\r\n\r\n",
	    "HTTP/1.1 200OK\r\n\r\n",
	    "SPDY/9 what is this\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nNo-Colon\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nSpace : before colon\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",
	    "HTTP/1.1 200 OK\r\n: no name\r\n\r\n",
	    "\r\n\r\n",
	};
	struct httpmsg_head h;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (httpmsg_test_parse(bad[i], &h) != -1)
			harness_fail(__FILE__, __LINE__, "accepted: %s", bad[i]);
	char nul[] = "HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n";
	CHECK_INT(httpmsg_parse_response(nul, sizeof nul - 1, &h), -1);
}

TEST(httpmsg_caps_the_number_of_fields)
{
	char buf[HTTPMSG_MAX_FIELDS * 8 + 64];
	size_t n = (size_t)snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i < HTTPMSG_MAX_FIELDS; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "A: %d\r\n", i % 10);
	memcpy(buf + n, "\r\n", 3);
	struct httpmsg_head h;
	CHECK_INT(httpmsg_test_parse(buf, &h), 1);
	CHECK_INT(h.nfields, HTTPMSG_MAX_FIELDS);
	memcpy(buf + n, "B: x\r\n\r\n", 9);
	CHECK_INT(httpmsg_test_parse(buf, &h), -1);
}

TEST(httpmsg_tokens)
{
	CHECK(httpmsg_has_token("keep-alive, Upgrade", 19, "upgrade"));
	CHECK(httpmsg_has_token("gzip, chunked", 13, "chunked"));
	CHECK(httpmsg_has_token(" websocket ;q=1", 15, "websocket"));
	CHECK(!httpmsg_has_token("chunkedx", 8, "chunked"));
	CHECK(!httpmsg_has_token("", 0, "close"));
	/* Only len bytes count. */
	CHECK(!httpmsg_has_token("close", 4, "close"));
}

/* Decode s fed in pieces of step bytes; the payload into out. */
static int httpmsg_test_chunked(const char *s, size_t step, char *out, size_t *out_len,
				size_t *consumed)
{
	struct httpmsg_chunked c = {0};
	char buf[4096];
	size_t len = strlen(s), o = 0, i = 0;
	int rc = 0;
	while (i < len && rc == 0) {
		size_t n = len - i < step ? len - i : step;
		memcpy(buf, s + i, n);
		size_t used, got;
		rc = httpmsg_chunked_decode(&c, buf, n, &used, &got);
		if (rc < 0)
			return -1;
		memcpy(out + o, buf, got);
		o += got;
		i += used;
		if (rc == 0 && used != n)
			return -2; /* must take everything until the end */
	}
	out[o] = '\0';
	*out_len = o;
	*consumed = i;
	return rc;
}

TEST(httpmsg_chunked_decodes_in_any_pieces)
{
	static const char body[] = "5\r\nhello\r\n1;ext=\"x;y\"\r\n \r\nA\r\n0123456789\r\n"
				   "0\r\nTrailer: yes\r\nMore: too\r\n\r\nNEXT";
	for (size_t step = 1; step <= sizeof body; step++) {
		char out[64];
		size_t n, used;
		int rc = httpmsg_test_chunked(body, step, out, &n, &used);
		if (rc != 1 || strcmp(out, "hello 0123456789") != 0 || used != sizeof body - 1 - 4)
			harness_fail(__FILE__, __LINE__, "step %zu: rc %d, '%s', used %zu", step,
				     rc, out, used);
	}
}

TEST(httpmsg_chunked_edge_cases)
{
	char out[64];
	size_t n, used;
	/* An empty body, bare LFs, upper-case hex. */
	CHECK_INT(httpmsg_test_chunked("0\r\n\r\n", 3, out, &n, &used), 1);
	CHECK_INT(n, 0);
	CHECK_INT(httpmsg_test_chunked("B\nhello world\n0\n\n", 4, out, &n, &used), 1);
	CHECK_STR(out, "hello world");
	/* Not finished yet. */
	CHECK_INT(httpmsg_test_chunked("5\r\nhel", 64, out, &n, &used), 0);
	CHECK_STR(out, "hel");
	/* Malformed: no digits, a bad digit, no CRLF after the data, a size
	 * past the limit, a NUL in an extension. */
	CHECK_INT(httpmsg_test_chunked("\r\n", 64, out, &n, &used), -1);
	CHECK_INT(httpmsg_test_chunked("g\r\n", 64, out, &n, &used), -1);
	CHECK_INT(httpmsg_test_chunked("2\r\nabX\r\n", 64, out, &n, &used), -1);
	CHECK_INT(httpmsg_test_chunked("1000000000000000\r\n", 64, out, &n, &used), -1);
	CHECK_INT(httpmsg_test_chunked("fffffffffffffff\r\n", 64, out, &n, &used), 0);
	struct httpmsg_chunked c = {0};
	char ext[] = "1;a\0b\r\n";
	size_t got;
	CHECK_INT(httpmsg_chunked_decode(&c, ext, sizeof ext - 1, &used, &got), -1);
}

TEST(httpmsg_chunked_caps_extensions_and_trailers)
{
	static char big[40000];
	memset(big, 'x', sizeof big - 1);
	memcpy(big, "1;", 2);
	char out[64];
	size_t n, used;
	CHECK_INT(httpmsg_test_chunked(big, 4096, out, &n, &used), -1);
	memcpy(big, "0\r\nT: ", 6);
	CHECK_INT(httpmsg_test_chunked(big, 4096, out, &n, &used), -1);
}
