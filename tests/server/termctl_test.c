/* Unit tests of the terminal's control messages (server/termctl.c) and
 * the WebSocket handshake helpers (server/ws.c). */
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "server/termctl.h"
#include "server/ws.h"

static int termctl_test_parse(const char *s, struct termctl *m)
{
	char *cause = NULL;
	int rc = termctl_parse(s, strlen(s), m, &cause);
	if (rc < 0) {
		CHECK(cause && *cause);
		free(cause);
	} else {
		CHECK(cause == NULL);
	}
	return rc;
}

TEST(termctl_parses_resize)
{
	struct termctl m;
	CHECK_INT(termctl_test_parse("{\"type\":\"resize\",\"cols\":132,\"rows\":43}", &m), 0);
	CHECK_INT(m.type, TERMCTL_RESIZE);
	CHECK_INT(m.cols, 132);
	CHECK_INT(m.rows, 43);
	CHECK_INT(termctl_test_parse("{\"rows\":1,\"cols\":1000,\"type\":\"resize\"}", &m), 0);
	CHECK_INT(m.cols, 1000);
}

TEST(termctl_refuses_bad_messages)
{
	struct termctl m;
	static const char *const bad[] = {
	    "",
	    "not json",
	    "[]",
	    "\"resize\"",
	    "{}",
	    "{\"type\":7}",
	    "{\"type\":\"launch\"}",
	    "{\"type\":\"resize\"}",
	    "{\"type\":\"resize\",\"cols\":80}",
	    "{\"type\":\"resize\",\"cols\":0,\"rows\":24}",
	    "{\"type\":\"resize\",\"cols\":80,\"rows\":1001}",
	    "{\"type\":\"resize\",\"cols\":-1,\"rows\":24}",
	    "{\"type\":\"resize\",\"cols\":80.5,\"rows\":24}",
	    "{\"type\":\"resize\",\"cols\":\"80\",\"rows\":24}",
	    "{\"type\":\"resize\",\"cols\":99999999999999999999,\"rows\":24}",
	    "{\"type\":\"resize\",\"type\":\"resize\",\"cols\":80,\"rows\":24}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (termctl_test_parse(bad[i], &m) == 0)
			harness_fail(__FILE__, __LINE__, "accepted: %s", bad[i]);
}

TEST(termctl_refuses_oversized_and_embedded_nul)
{
	struct termctl m;
	char *cause = NULL;
	char big[TERMCTL_MAX_LEN + 2];
	memset(big, ' ', sizeof big);
	memcpy(big, "{\"type\":\"resize\",\"cols\":80,\"rows\":24}", 37);
	CHECK_INT(termctl_parse(big, sizeof big, &m, &cause), -1);
	free(cause);
	cause = NULL;
	static const char nul[] = "{\"type\":\"resize\",\"cols\":80,\"rows\":24}\0junk";
	CHECK_INT(termctl_parse(nul, sizeof nul - 1, &m, &cause), -1);
	free(cause);
}

TEST(termctl_exit_message)
{
	char *s = termctl_exit_json("exited", 3);
	CHECK_STR(s, "{\"type\":\"exit\",\"reason\":\"exited\",\"status\":3}");
	free(s);
	s = termctl_exit_json("grace", -1);
	CHECK_STR(s, "{\"type\":\"exit\",\"reason\":\"grace\",\"status\":null}");
	free(s);
}

TEST(ws_accept_key_matches_rfc6455)
{
	char out[WS_ACCEPT_LEN + 1];
	/* The example of RFC 6455 section 1.3. */
	CHECK_INT(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
	CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	CHECK_INT(ws_accept_key(NULL, out), -1);
	CHECK_INT(ws_accept_key("short", out), -1);
	CHECK_INT(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ", out), -1);
	CHECK_INT(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ===", out), -1);
	CHECK_INT(ws_accept_key("!!!!!!!!!!!!!!!!!!!!!!==", out), -1);
}

TEST(ws_origin_must_be_this_server)
{
	CHECK(ws_origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080"));
	CHECK(ws_origin_allowed("https://kaon.example.org", "kaon.example.org"));
	CHECK(ws_origin_allowed("HTTPS://Kaon.Example.org", "kaon.example.org"));
	CHECK(ws_origin_allowed("https://kaon.example.org", "kaon.example.org:443"));
	CHECK(ws_origin_allowed("http://kaon.example.org:80", "kaon.example.org"));
	CHECK(ws_origin_allowed("http://[::1]:8080", "[::1]:8080"));
	/* Another site, port, or a look-alike. */
	CHECK(!ws_origin_allowed("http://evil.example", "127.0.0.1:8080"));
	CHECK(!ws_origin_allowed("http://127.0.0.1:8081", "127.0.0.1:8080"));
	CHECK(!ws_origin_allowed("http://127.0.0.1", "127.0.0.1:8080"));
	CHECK(!ws_origin_allowed("https://kaon.example.org", "kaon.example.org:80"));
	CHECK(!ws_origin_allowed("http://kaon.example.org.evil.example", "kaon.example.org"));
	CHECK(!ws_origin_allowed("http://kaon.example.or", "kaon.example.org"));
	CHECK(!ws_origin_allowed("http://user@kaon.example.org", "kaon.example.org"));
	CHECK(!ws_origin_allowed("http://kaon.example.org/path", "kaon.example.org"));
	CHECK(!ws_origin_allowed("null", "kaon.example.org"));
	CHECK(!ws_origin_allowed("file://", "kaon.example.org"));
	CHECK(!ws_origin_allowed("ws://kaon.example.org", "kaon.example.org"));
	CHECK(!ws_origin_allowed("http://kaon.example.org:", "kaon.example.org"));
	CHECK(!ws_origin_allowed("http://kaon.example.org:x80", "kaon.example.org"));
	CHECK(!ws_origin_allowed("http://", ""));
	CHECK(!ws_origin_allowed("http://a", NULL));
}

TEST(ws_handshake_check_refuses_like_the_daemon)
{
	struct ws_handshake_in ok = {
		.method = "GET",
		.upgrade = "websocket",
		.connection = "keep-alive, Upgrade",
		.version = "13",
		.key = "dGhlIHNhbXBsZSBub25jZQ==",
	};
	char accept[WS_ACCEPT_LEN + 1];
	struct ws_refusal why;
	CHECK_INT(ws_handshake_check(&ok, accept, &why), 0);
	CHECK_STR(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

	struct ws_handshake_in in = ok;
	in.method = "POST";
	CHECK_INT(ws_handshake_check(&in, accept, &why), -1);
	CHECK_INT(why.status, 426);
	CHECK_STR(why.header, "Upgrade");
	in = ok;
	in.connection = "keep-alive";
	CHECK_INT(ws_handshake_check(&in, accept, &why), -1);
	CHECK_INT(why.status, 426);
	in = ok;
	in.version = "8";
	CHECK_INT(ws_handshake_check(&in, accept, &why), -1);
	CHECK_INT(why.status, 426);
	CHECK_STR(why.header, "Sec-WebSocket-Version");
	in = ok;
	in.origin = "http://evil.example";
	in.host = "127.0.0.1:8080";
	CHECK_INT(ws_handshake_check(&in, accept, &why), -1);
	CHECK_INT(why.status, 403);
	CHECK_STR(why.code, "forbidden_origin");
	CHECK(strstr(why.message, "evil.example"));
	in = ok;
	in.key = NULL;
	CHECK_INT(ws_handshake_check(&in, accept, &why), -1);
	CHECK_INT(why.status, 400);
	CHECK_STR(why.code, "bad_handshake");
	CHECK(!why.header);
}
