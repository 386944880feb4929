/*
 * cli/jobscript — scanning a batch script's `#KAON` header and splitting
 * its lines into words (see jobscript.h for the rules). The input is a
 * file the user wrote, so every byte is checked: this file has a fuzz
 * target (tests/fuzz/jobscript_fuzz.c).
 */
#include "cli/jobscript.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

static const char jobscript_tag[] = "#KAON";
enum { JOBSCRIPT_TAG_LEN = sizeof jobscript_tag - 1 };

static bool jobscript_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

void jobscript_words_free(char **argv)
{
	if (!argv)
		return;
	for (char **w = argv; *w; w++)
		free(*w);
	free(argv);
}

/* One word starting at s[*i] (not blank, not '#'), unquoted into word;
 * *i ends past it. Its length, or -1 with *cause. */
static long jobscript_word(const char *s, size_t len, size_t *i, char *word, char **cause)
{
	size_t w = 0, p = *i;
	while (p < len && !jobscript_blank(s[p])) {
		char c = s[p++];
		if (c == '\'') {
			while (p < len && s[p] != '\'')
				word[w++] = s[p++];
			if (p == len) {
				*cause = xstrdup("unterminated ' quote");
				return -1;
			}
			p++;
		} else if (c == '"') {
			while (p < len && s[p] != '"') {
				if (s[p] == '\\' && p + 1 < len &&
				    (s[p + 1] == '"' || s[p + 1] == '\\'))
					p++;
				word[w++] = s[p++];
			}
			if (p == len) {
				*cause = xstrdup("unterminated \" quote");
				return -1;
			}
			p++;
		} else if (c == '\\') {
			if (p == len) {
				*cause = xstrdup("a backslash at the end of the line (lines do not "
						 "continue: write another #KAON line)");
				return -1;
			}
			word[w++] = s[p++];
		} else {
			word[w++] = c;
		}
	}
	*i = p;
	return (long)w;
}

int jobscript_split(const char *s, size_t len, const char *argv0, int *argc, char ***argv,
		    char **cause)
{
	size_t cap = 8, n = 0, i = 0;
	char **words = xcalloc(cap, sizeof *words);
	/* Unquoting only ever shrinks a word, so len + 1 bytes hold any. */
	char *word = xmalloc(len + 1);
	words[n++] = xstrdup(argv0);
	if (memchr(s, '\0', len)) {
		*cause = xstrdup("a NUL byte in a #KAON line");
		goto fail;
	}
	for (;;) {
		while (i < len && jobscript_blank(s[i]))
			i++;
		if (i == len || s[i] == '#')
			break;
		long w = jobscript_word(s, len, &i, word, cause);
		if (w < 0)
			goto fail;
		if (n + 2 > cap) {
			if (cap > (size_t)INT_MAX / 2) {
				*cause = xstrdup("too many words in a #KAON line");
				goto fail;
			}
			cap *= 2;
			words = xrealloc(words, cap * sizeof *words);
		}
		words[n++] = xstrndup(word, (size_t)w);
	}
	words[n] = NULL;
	free(word);
	*argc = (int)n;
	*argv = words;
	return 0;
fail:
	words[n] = NULL;
	jobscript_words_free(words);
	free(word);
	return -1;
}

/* Whether line l[0..n) is a directive: "#KAON" in column 1, then a blank
 * or the end. */
static bool jobscript_is_directive(const char *l, size_t n)
{
	return n >= JOBSCRIPT_TAG_LEN && memcmp(l, jobscript_tag, JOBSCRIPT_TAG_LEN) == 0 &&
	       (n == JOBSCRIPT_TAG_LEN || jobscript_blank(l[JOBSCRIPT_TAG_LEN]));
}

static int jobscript_add(struct jobscript *js, const char *l, size_t n, int line, char **cause)
{
	char *inner = NULL;
	int argc;
	char **argv;
	if (n > JOBSCRIPT_MAX_LINE) {
		*cause = xasprintf("line %d: a #KAON line longer than %d bytes", line,
				   JOBSCRIPT_MAX_LINE);
		return -1;
	}
	if (jobscript_split(l + JOBSCRIPT_TAG_LEN, n - JOBSCRIPT_TAG_LEN, jobscript_tag, &argc,
			    &argv, &inner) < 0) {
		*cause = xasprintf("line %d: %s", line, inner);
		free(inner);
		return -1;
	}
	if (argc == 1) { /* "#KAON" alone, or with a comment only */
		jobscript_words_free(argv);
		return 0;
	}
	js->dirs = xrealloc(js->dirs, (js->ndirs + 1) * sizeof *js->dirs);
	js->dirs[js->ndirs++] = (struct jobscript_directive){line, argc, argv};
	return 0;
}

int jobscript_parse(const char *text, size_t len, struct jobscript *js, char **cause)
{
	memset(js, 0, sizeof *js);
	size_t pos = 0;
	int line = 0;
	/* A UTF-8 byte order mark some editors write would hide the shebang. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len) {
		if (line == INT_MAX)
			break;
		line++;
		const char *l = text + pos;
		const char *nl = memchr(l, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - l) : len - pos;
		pos += nl ? n + 1 : n;
		if (n > 0 && l[n - 1] == '\r')
			n--;
		if (line == 1 && n >= 2 && l[0] == '#' && l[1] == '!')
			continue;
		size_t b = 0;
		while (b < n && jobscript_blank(l[b]))
			b++;
		if (b == n)
			continue; /* blank */
		if (l[b] != '#')
			break; /* the first command ends the header */
		if (b == 0 && jobscript_is_directive(l, n) &&
		    jobscript_add(js, l, n, line, cause) < 0)
			return -1;
	}
	return 0;
}

void jobscript_clear(struct jobscript *js)
{
	for (size_t i = 0; i < js->ndirs; i++)
		jobscript_words_free(js->dirs[i].argv);
	free(js->dirs);
	memset(js, 0, sizeof *js);
}
