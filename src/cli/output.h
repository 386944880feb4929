/*
 * cli/output — what the client verbs share for talking to a person.
 *
 * - The failure convention of cli.h: one line "kaon: ..." on stderr and
 *   exit status 1; a usage error prints a usage line and gives 2.
 * - Option parsing over getopt_long with our own error messages.
 * - Aligned tables and key/value blocks for human output, `--json` output.
 * - Human units: sizes, durations and times are formatted and parsed here,
 *   together, so that what a listing prints is what a flag accepts.
 * - Prompts on the terminal, with echo off for passwords.
 *
 * Text that came from the server (names, descriptions, error messages) is
 * printed through output_clean(), which replaces control characters: a
 * display name must not be able to send escape sequences to an admin's
 * terminal.
 */
#ifndef KAON_CLI_OUTPUT_H
#define KAON_CLI_OUTPUT_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Print "kaon: MESSAGE" (control characters replaced) on stderr; returns 1
 * so a verb can `return output_fail(...)`. */
int output_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same for a message the callee allocated; frees it. */
int output_fail_cause(char *cause);
/* "kaon: MESSAGE" then "usage: kaon USAGE" on stderr; returns 2. A NULL
 * fmt prints the usage line alone. */
int output_usage(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* getopt_long over argv[0..argc) with argv[0] the (sub)verb: options may
 * come before or after operands. Set `optind = 0` before the first call.
 * Returns the option's val, -1 after the last option, or '?' after
 * printing "kaon: unknown option ..." / "... needs a value". */
int output_getopt(int argc, char **argv, const struct option *opts);

/* The same, but options end at the first operand: what follows it is a
 * command with options of its own (`kaon submit --gpus 1 python x.py -v`).
 * where, when not NULL, starts the error messages ("job.sh:3: unknown
 * option ..."); argv[0] is not looked at. */
int output_getopt_in_order(int argc, char **argv, const struct option *opts, const char *where);

/* A subcommand table: `kaon tokens list`, `kaon admin users create`. */
struct output_cmd {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the subcommand;
					    * NULL: listed in usage only */
	const char *usage;		   /* after "kaon ", options included */
};
/* Run the subcommand named by argv[1] (argv[0] is the verb, prefix its
 * words: "tokens", "admin users"). No subcommand, or "help", lists the
 * usages (exit 2 and 0 respectively). */
int output_dispatch(const struct output_cmd *cmds, size_t n, const char *prefix, int argc,
		    char **argv);
/* For subcommands whose options are only --help and, when as_json is not
 * NULL, --json: parse argv and check that exactly noperands operands are
 * left, at argv[optind..]. Returns -1 to go on, else the exit status to
 * return at once (0 after --help, 2 after a usage error). */
int output_args(int argc, char **argv, const char *usage, int noperands, bool *as_json);

/* Pretty-print j on stdout followed by a newline. */
void output_json(const json_t *j);

/* Copy of s with every control character (and invalid UTF-8 lead) turned
 * into '?'; NULL gives "-". The caller frees. */
char *output_clean(const char *s);

/* A table printed with columns aligned on the widest cell. Cells are added
 * row by row, left to right; a NULL cell prints as "-". */
struct output_table;
struct output_table *output_table_new(const char *const *headers, size_t ncols);
void output_table_add(struct output_table *t, const char *cell);
void output_table_addf(struct output_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Print on out and free the table. */
void output_table_print(struct output_table *t, FILE *out);
/* Free the table without printing it. */
void output_table_free(struct output_table *t);

/* One "key:  value" line on stdout, keys padded to a fixed width; a NULL
 * or empty value prints as "-". */
void output_field(const char *key, const char *value);

/* The strings of a JSON array joined with sep; "-" when empty. The caller
 * frees. */
char *output_join(const json_t *arr, const char *sep);

/* Borrowed string member of obj, or NULL when absent or not a string. */
const char *output_str(const json_t *obj, const char *key);

/* Formatters write into buf (OUTPUT_UNIT_LEN bytes) and return it. */
enum { OUTPUT_UNIT_LEN = 48 };
/* Megabytes as "512M", "32G", "1.5T". */
const char *output_size_mb(int64_t mb, char *buf);
/* Seconds as "45s", "90m", "12h", "1d6h", "30d". */
const char *output_duration(int64_t s, char *buf);
/* An RFC 3339 UTC time as local "2026-11-23 20:00"; NULL gives "-", an
 * unparsable one is copied as it is. */
const char *output_time(const char *rfc3339, char *buf);

/* Parsers: 0, or -1 when s is not a valid value. */
/* An RFC 3339 UTC time as the API writes it ("2026-11-23T19:00:00Z"). */
int output_parse_time(const char *rfc3339, time_t *out);
/* A whole number in min..max (strtoll, every character checked). */
int output_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* "3600", "90s", "30m", "12h", "30d", "2w", or sums like "1h30m"; a bare
 * number is seconds. */
int output_parse_duration(const char *s, int64_t *out);
/* "512M", "32G", "1.5T", "2048" (a bare number is megabytes, as Slurm's
 * --mem); units are binary (1G = 1024M). Result in megabytes, rounded up. */
int output_parse_size_mb(const char *s, int64_t *out);

/* Ask on the controlling terminal (/dev/tty) and read one line, echoed.
 * 0, or -1 with *cause (no terminal, end of input, too long). */
int output_prompt_line(const char *prompt, char **out, char **cause);
/* A password: with from_stdin, or when standard input is not a terminal,
 * one line read from standard input without a prompt; else asked on the
 * terminal with echo off. The caller wipes (explicit_bzero) and frees it.
 * 0, or -1 with *cause. */
int output_read_password(const char *prompt, bool from_stdin, char **out, char **cause);
/* explicit_bzero and free a secret; NULL is fine. */
void output_secret_free(char *s);
/* Overwrite the string member obj[key] in place, if there is one: jansson
 * frees without wiping, and request or answer bodies carry passwords and
 * new tokens. */
void output_secret_wipe(json_t *obj, const char *key);

#endif
