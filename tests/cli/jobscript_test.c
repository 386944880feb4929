/* Unit tests of cli/jobscript.c: which lines of a script are its #KAON
 * header, and how a #KAON line splits into words. */
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "cli/jobscript.h"

/* Parse text; the words of every directive as "line:word|word;...". */
static char *jobscript_test_dump(const char *text, size_t len, int *rc, char **cause)
{
	struct jobscript js;
	char *out = calloc(1, 4096);
	size_t o = 0;
	*rc = jobscript_parse(text, len, &js, cause);
	for (size_t i = 0; i < js.ndirs; i++) {
		o += (size_t)snprintf(out + o, 4096 - o, "%d:", js.dirs[i].line);
		CHECK_STR(js.dirs[i].argv[0], "#KAON");
		CHECK(js.dirs[i].argv[js.dirs[i].argc] == NULL);
		for (int w = 1; w < js.dirs[i].argc; w++)
			o += (size_t)snprintf(out + o, 4096 - o, "%s%s", w > 1 ? "|" : "",
					      js.dirs[i].argv[w]);
		o += (size_t)snprintf(out + o, 4096 - o, ";");
	}
	jobscript_clear(&js);
	return out;
}

static char *jobscript_test_parse(const char *text, char **cause)
{
	int rc;
	char *out = jobscript_test_dump(text, strlen(text), &rc, cause);
	if (rc != 0)
		harness_fail(__FILE__, __LINE__, "parse failed: %s", *cause ? *cause : "?");
	return out;
}

TEST(jobscript_reads_the_header_after_a_shebang)
{
	char *cause = NULL;
	char *out = jobscript_test_parse("#!/bin/bash\n"
					 "# train the model\n"
					 "#KAON --name train --gpus 2\n"
					 "\n"
					 "#KAON --time 12h\n"
					 "python train.py\n",
					 &cause);
	CHECK_STR(out, "3:--name|train|--gpus|2;5:--time|12h;");
	free(out);
}

TEST(jobscript_stops_at_the_first_command)
{
	char *cause = NULL;
	char *out = jobscript_test_parse("#KAON --gpus 1\necho hi\n#KAON --gpus 8\n", &cause);
	CHECK_STR(out, "1:--gpus|1;");
	free(out);
	out = jobscript_test_parse("#!/bin/sh\nset -e\n#KAON --gpus 8\n", &cause);
	CHECK_STR(out, "");
	free(out);
}

TEST(jobscript_only_takes_kaon_in_column_one_followed_by_a_blank)
{
	char *cause = NULL;
	char *out = jobscript_test_parse("#!/bin/sh\n"
					 "  #KAON --gpus 1\n"
					 "#KAONX --gpus 2\n"
					 "#kaon --gpus 3\n"
					 "#KAON\t--gpus\t4\n"
					 "#KAON\n"
					 "#KAON   # only a comment\n"
					 "# #KAON --gpus 5\n",
					 &cause);
	CHECK_STR(out, "5:--gpus|4;");
	free(out);
}

TEST(jobscript_shebang_only_counts_on_the_first_line)
{
	char *cause = NULL;
	/* A later "#!" line is a comment like any other; the header goes on. */
	char *out = jobscript_test_parse("#KAON --cpus 2\n#!/bin/sh\n#KAON --cpus 3\n", &cause);
	CHECK_STR(out, "1:--cpus|2;3:--cpus|3;");
	free(out);
}

TEST(jobscript_handles_crlf_and_a_missing_last_newline)
{
	char *cause = NULL;
	char *out =
	    jobscript_test_parse("#!/bin/sh\r\n#KAON --name a\r\n\r\n#KAON --mem 4G", &cause);
	CHECK_STR(out, "2:--name|a;4:--mem|4G;");
	free(out);
}

TEST(jobscript_skips_a_byte_order_mark)
{
	char *cause = NULL;
	char *out = jobscript_test_parse("\xef\xbb\xbf#!/bin/sh\n#KAON --hold\n", &cause);
	CHECK_STR(out, "2:--hold;");
	free(out);
}

TEST(jobscript_blank_lines_with_spaces_keep_the_header_going)
{
	char *cause = NULL;
	char *out = jobscript_test_parse("#!/bin/sh\n   \n\t\n    # indented comment\n"
					 "#KAON --gpus 1\n",
					 &cause);
	CHECK_STR(out, "5:--gpus|1;");
	free(out);
}

TEST(jobscript_splits_quotes_and_escapes)
{
	char *cause = NULL;
	char *out = jobscript_test_parse(
	    "#KAON --name \"my job\" --env 'A=x y' --env B=\"q\\\"uote\\\\\" --name=\"a b\"c\n"
	    "#KAON --env C='it''s' --env D=a\\ b --workdir \"\" --env 'E=\\n'\n"
	    "#KAON --name a#b   # the rest is a comment \"unterminated\n",
	    &cause);
	CHECK_STR(out, "1:--name|my job|--env|A=x y|--env|B=q\"uote\\|--name=a bc;"
		       "2:--env|C=its|--env|D=a b|--workdir||--env|E=\\n;"
		       "3:--name|a#b;");
	free(out);
}

TEST(jobscript_reports_bad_lines_with_their_number)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"#!/bin/sh\n#KAON --name \"open\n", "line 2: unterminated \" quote"},
	    {"#KAON --name 'open\n", "line 1: unterminated ' quote"},
	    {"#\n#\n#KAON --name a\\\n", "line 3: a backslash at the end"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *cause = NULL;
		int rc;
		char *out = jobscript_test_dump(cases[i].text, strlen(cases[i].text), &rc, &cause);
		CHECK_INT(rc, -1);
		CHECK(cause && strncmp(cause, cases[i].want, strlen(cases[i].want)) == 0);
		free(cause);
		free(out);
	}
}

TEST(jobscript_refuses_nul_bytes_and_overlong_lines_in_directives)
{
	char *cause = NULL;
	int rc;
	static const char nul[] = "#KAON --name a\0b\n";
	char *out = jobscript_test_dump(nul, sizeof nul - 1, &rc, &cause);
	CHECK_INT(rc, -1);
	CHECK(strstr(cause, "NUL") != NULL);
	free(cause);
	free(out);

	/* A NUL in an ordinary comment is no concern of the header's. */
	static const char in_comment[] = "# a\0b\n#KAON --hold\n";
	cause = NULL;
	out = jobscript_test_dump(in_comment, sizeof in_comment - 1, &rc, &cause);
	CHECK_INT(rc, 0);
	CHECK_STR(out, "2:--hold;");
	free(out);

	size_t n = JOBSCRIPT_MAX_LINE + 10;
	char *big = malloc(n + 1);
	memcpy(big, "#KAON --name ", 13);
	memset(big + 13, 'x', n - 13);
	big[n] = '\0';
	cause = NULL;
	out = jobscript_test_dump(big, n, &rc, &cause);
	CHECK_INT(rc, -1);
	CHECK(strstr(cause, "longer than") != NULL);
	free(cause);
	free(out);
	free(big);
}

TEST(jobscript_empty_and_headerless_scripts_have_no_directives)
{
	char *cause = NULL;
	char *out = jobscript_test_parse("", &cause);
	CHECK_STR(out, "");
	free(out);
	out = jobscript_test_parse("#!/usr/bin/env python3\nprint('hi')\n", &cause);
	CHECK_STR(out, "");
	free(out);
}

TEST(jobscript_split_counts_words_and_copies_argv0)
{
	int argc = 0;
	char **argv = NULL, *cause = NULL;
	const char line[] = "  --gpus 2  --name  'a b'  ";
	CHECK_INT(jobscript_split(line, strlen(line), "x", &argc, &argv, &cause), 0);
	CHECK_INT(argc, 5);
	CHECK_STR(argv[0], "x");
	CHECK_STR(argv[4], "a b");
	CHECK(argv[5] == NULL);
	jobscript_words_free(argv);
}
