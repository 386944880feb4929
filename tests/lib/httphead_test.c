/* Unit tests of lib/httphead.c: the request heads kaon session-shell reads. */
#include <string.h>

#include "../harness.h"
#include "lib/httphead.h"

static long httphead_test_parse(const char *text, char *buf, size_t cap, struct httphead *h)
{
	size_t n = strlen(text);
	CHECK(n < cap);
	memcpy(buf, text, n + 1);
	return httphead_parse(buf, n, h);
}

TEST(httphead_parses_a_request)
{
	char buf[512];
	struct httphead h;
	const char *req = "GET /s/7/tty?x=1 HTTP/1.1\r\nHost: kaon\r\n"
			  "Upgrade:websocket \r\nauthorization: token  s3cret\t\r\n\r\nrest";
	long n = httphead_test_parse(req, buf, sizeof buf, &h);
	CHECK_INT(n, (long)(strlen(req) - 4));
	CHECK_STR(h.method, "GET");
	CHECK_STR(h.target, "/s/7/tty?x=1");
	CHECK_INT(h.minor, 1);
	CHECK_INT(h.nfields, 3);
	CHECK_STR(httphead_get(&h, "HOST"), "kaon");
	CHECK_STR(httphead_get(&h, "upgrade"), "websocket");
	CHECK_STR(httphead_get(&h, "Authorization"), "token  s3cret");
	CHECK(!httphead_get(&h, "Origin"));
	CHECK_STR(buf + n, "rest");
}

TEST(httphead_accepts_bare_lf_and_http10)
{
	char buf[128];
	struct httphead h;
	CHECK_INT(httphead_test_parse("HEAD / HTTP/1.0\nA: b\n\n", buf, sizeof buf, &h), 22);
	CHECK_STR(h.method, "HEAD");
	CHECK_INT(h.minor, 0);
	CHECK_STR(httphead_get(&h, "a"), "b");
}

TEST(httphead_waits_for_the_whole_head)
{
	char buf[128];
	struct httphead h;
	CHECK_INT(httphead_test_parse("GET / HTTP/1.1\r\nHost: x\r\n", buf, sizeof buf, &h), 0);
	CHECK_INT(httphead_test_parse("GET / HTT", buf, sizeof buf, &h), 0);
	CHECK_INT(httphead_test_parse("", buf, sizeof buf, &h), 0);
}

TEST(httphead_refuses_malformed_heads)
{
	static const char *const bad[] = {
	    "GET / HTTP/2.0\r\n\r\n",
	    "GET /  HTTP/1.1\r\n\r\n",
	    "GET / HTTP/1.1 \r\n\r\n",
	    "G(T / HTTP/1.1\r\n\r\n",
	    " GET / HTTP/1.1\r\n\r\n",
	    "GET /\x01 HTTP/1.1\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
	    "GET / HTTP/1.1\r\n: x\r\n\r\n",
	    "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
	    "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
	    "GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n",
	    "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",
	    "\r\n\r\n",
	};
	char buf[256];
	struct httphead h;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (httphead_test_parse(bad[i], buf, sizeof buf, &h) != -1)
			harness_fail(__FILE__, __LINE__, "accepted bad head #%zu", i);
	/* A NUL inside the head, even before it is complete. */
	memcpy(buf, "GET /\0 HTTP/1.1\r\n", 17);
	CHECK_INT(httphead_parse(buf, 17, &h), -1);
}

TEST(httphead_refuses_too_many_fields)
{
	char buf[2048];
	size_t n = (size_t)snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\n");
	for (int i = 0; i <= HTTPHEAD_MAX_FIELDS; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "X%d: y\r\n", i);
	n += (size_t)snprintf(buf + n, sizeof buf - n, "\r\n");
	struct httphead h;
	CHECK_INT(httphead_parse(buf, n, &h), -1);
}
