/*
 * cli/jobscript — the `#KAON` header of a batch script, as `#SBATCH` is
 * Slurm's: flags for `kaon submit` written in the script itself.
 *
 *   #!/bin/bash
 *   # train the model
 *   #KAON --name train --gpus 2
 *   #KAON --time 12h --mem 64G   # a comment after the flags
 *   #KAON --env "GREETING=hello world"
 *   python train.py
 *
 * What is scanned: after an optional first line starting with `#!`, the
 * consecutive lines at the top of the file that are blank or comments
 * (their first non-blank character is `#`). The first other line ends
 * the header: a `#KAON` line below the first command is an ordinary
 * comment, as in Slurm.
 *
 * A directive is a line that starts, in column 1, with `#KAON` followed by
 * a blank or the end of the line (`#KAONX`, `  #KAON` and `#kaon` are
 * plain comments). The rest of the line is split into words like a very
 * small shell: blanks separate words; '...' is taken literally; "..."
 * too, except that \" and \\ stand for " and \; outside quotes a backslash
 * takes the next character literally; quoted and unquoted parts of one
 * word join (--name="my job"); an unquoted '#' starting a word begins a
 * comment to the end of the line. No variables, globs or substitutions.
 * Line ends may be \n or \r\n.
 *
 * Pure functions over a buffer; nothing here reads files or knows the
 * flags (cli/submit.c parses the words with its own option table).
 */
#ifndef KAON_CLI_JOBSCRIPT_H
#define KAON_CLI_JOBSCRIPT_H

#include <stddef.h>

/* A directive line longer than this (bytes, without its line end) is an
 * error rather than something to split. */
enum { JOBSCRIPT_MAX_LINE = 4096 };

/* One `#KAON` line: argv[0] is "#KAON", then the words, then NULL, so a
 * getopt loop can run over it as over a command line. */
struct jobscript_directive {
	int line; /* 1-based line number in the script */
	int argc; /* words + 1 (argv[0]) */
	char **argv;
};

struct jobscript {
	struct jobscript_directive *dirs; /* in file order; lines with no
					   * words are left out */
	size_t ndirs;
};

/* Scan the header of text[0..len) into js (zeroed first; the caller frees
 * it with jobscript_clear, also after a failure). 0, or -1 with *cause
 * ("line 3: unterminated \" quote"). A NUL byte in a directive line, an
 * unterminated quote, a trailing backslash or an over-long directive line
 * is an error; anything in the script past the header is not looked at. */
int jobscript_parse(const char *text, size_t len, struct jobscript *js, char **cause);
void jobscript_clear(struct jobscript *js);

/* Split s[0..len) (one directive's text after "#KAON", no line end) into
 * words as described above. *argv gets a NULL-terminated array with
 * argv0 first (copied); *argc counts it. The caller frees each word and
 * the array (jobscript_words_free). 0, or -1 with *cause. */
int jobscript_split(const char *s, size_t len, const char *argv0, int *argc, char ***argv,
		    char **cause);
void jobscript_words_free(char **argv);

#endif
