/* Unit tests of cli/sse.c: Server-Sent Events parsed from bytes cut at
 * every possible place, as `kaon logs -f` gets them from the network. */
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "cli/sse.h"

struct sse_seen {
	char text[2048];
	int stop_after; /* stop (return 1) after this many events; 0: never */
	int n;
};

static int sse_test_collect(void *ctx, const struct sse_event *ev)
{
	struct sse_seen *s = ctx;
	size_t o = strlen(s->text);
	snprintf(s->text + o, sizeof s->text - o, "[%s|%s|", ev->type, ev->id ? ev->id : "-");
	o = strlen(s->text);
	for (size_t i = 0; i < ev->data_len && o + 2 < sizeof s->text; i++)
		s->text[o++] = ev->data[i] ? ev->data[i] : '0';
	s->text[o] = '\0';
	snprintf(s->text + o, sizeof s->text - o, "]");
	s->n++;
	return s->stop_after && s->n >= s->stop_after;
}

/* Feed text cut into pieces of `step` bytes; the events seen. */
static void sse_test_feed(const char *text, size_t len, size_t step, struct sse_seen *seen)
{
	struct sse *p = sse_new(1024, sse_test_collect, seen);
	char *cause = NULL;
	for (size_t i = 0; i < len; i += step) {
		size_t n = len - i < step ? len - i : step;
		CHECK_INT(sse_feed(p, text + i, n, &cause), 0);
	}
	sse_free(p);
}

static const char sse_stream[] = "\xef\xbb\xbf: keep-alive\r\n"
				 "event: log\r\n"
				 "id: 5\r\n"
				 "data: {\"offset\":0,\"text\":\"hello\"}\r\n"
				 "\r\n"
				 "data:one\n"
				 "data\n"
				 "data:  two\n"
				 "retry: 100\n"
				 "unknown: x\n"
				 "\n"
				 "event: end\r"
				 "id\r"
				 "data: {}\r"
				 "\r"
				 "event: lonely\n\n";

static const char sse_want[] = "[log|5|{\"offset\":0,\"text\":\"hello\"}]"
			       "[message|5|one\n\n two]"
			       "[end||{}]";

TEST(sse_parses_events_cut_at_every_byte)
{
	for (size_t step = 1; step <= sizeof sse_stream; step++) {
		struct sse_seen seen = {"", 0, 0};
		sse_test_feed(sse_stream, sizeof sse_stream - 1, step, &seen);
		if (strcmp(seen.text, sse_want) != 0)
			harness_fail(__FILE__, __LINE__, "step %zu: got %s", step, seen.text);
	}
}

TEST(sse_keeps_the_last_id_across_events_and_resets)
{
	struct sse_seen seen = {"", 0, 0};
	struct sse *p = sse_new(1024, sse_test_collect, &seen);
	char *cause = NULL;
	const char a[] = "id: 7\ndata: x\n\ndata: y\n\ndata: partial";
	CHECK_INT(sse_feed(p, a, strlen(a), &cause), 0);
	CHECK_STR(sse_last_id(p), "7");
	sse_reset(p); /* the connection broke: "partial" is gone, the id stays */
	CHECK_STR(sse_last_id(p), "7");
	const char b[] = "data: z\n\n";
	CHECK_INT(sse_feed(p, b, strlen(b), &cause), 0);
	CHECK_STR(seen.text, "[message|7|x][message|7|y][message|7|z]");
	sse_free(p);
}

TEST(sse_handler_can_stop_the_feed)
{
	struct sse_seen seen = {"", 1, 0};
	struct sse *p = sse_new(1024, sse_test_collect, &seen);
	char *cause = NULL;
	const char a[] = "event: end\ndata: 1\n\ndata: 2\n\n";
	CHECK_INT(sse_feed(p, a, strlen(a), &cause), 1);
	CHECK_STR(seen.text, "[end|-|1]");
	sse_free(p);
}

TEST(sse_refuses_lines_and_events_over_the_cap)
{
	struct sse_seen seen = {"", 0, 0};
	struct sse *p = sse_new(32, sse_test_collect, &seen);
	char *cause = NULL;
	const char line[] = "data: 0123456789012345678901234567890123456789\n";
	CHECK_INT(sse_feed(p, line, strlen(line), &cause), -1);
	CHECK(cause && strstr(cause, "longer than 32") != NULL);
	free(cause);
	sse_reset(p);
	/* Each line fits; together they are over. */
	const char many[] = "data: 0123456789\ndata: 0123456789\ndata: 0123456789\n";
	cause = NULL;
	CHECK_INT(sse_feed(p, many, strlen(many), &cause), -1);
	CHECK(cause && strstr(cause, "larger than 32") != NULL);
	free(cause);
	sse_free(p);
}

TEST(sse_keeps_nul_bytes_in_data_and_ignores_an_id_with_one)
{
	struct sse_seen seen = {"", 0, 0};
	struct sse *p = sse_new(1024, sse_test_collect, &seen);
	char *cause = NULL;
	static const char a[] = "id: 3\nid: 4\0x\ndata: a\0b\n\n";
	CHECK_INT(sse_feed(p, a, sizeof a - 1, &cause), 0);
	CHECK_STR(seen.text, "[message|3|a0b]");
	sse_free(p);
}

TEST(sse_text_that_starts_like_a_bom_is_kept)
{
	struct sse_seen seen = {"", 0, 0};
	struct sse *p = sse_new(1024, sse_test_collect, &seen);
	char *cause = NULL;
	/* \xef alone then "data": the \xef belongs to the field name, which
	 * is then not "data", so nothing is dispatched. */
	static const char a[] = "\xef"
				"data: x\n\ndata: y\n\n";
	CHECK_INT(sse_feed(p, a, sizeof a - 1, &cause), 0);
	CHECK_STR(seen.text, "[message|-|y]");
	sse_free(p);
}
