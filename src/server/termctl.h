/*
 * server/termctl — the control messages of the terminal WebSocket.
 *
 * Binary frames carry terminal bytes both ways, verbatim. Text frames are
 * small JSON objects that control the terminal; from the client:
 *
 *   {"type":"resize","cols":N,"rows":N}    1 <= N <= TERMCTL_MAX_DIM
 *
 * and from the server (built with termctl_exit_json):
 *
 *   {"type":"exit","reason":"exited"|"ended"|"idle"|"grace"|"shutdown",
 *    "status":N|null}
 *
 * Parsing is pure (no I/O, no global state) so that it can be unit tested
 * and fuzzed (tests/fuzz/termctl_fuzz.c).
 */
#ifndef KAON_SERVER_TERMCTL_H
#define KAON_SERVER_TERMCTL_H

#include <stddef.h>

enum { TERMCTL_MAX_LEN = 1024, TERMCTL_MAX_DIM = 1000 };

enum termctl_type { TERMCTL_RESIZE = 1 };

struct termctl {
	enum termctl_type type;
	int cols, rows;
};

/* Parse one text frame. 0, or -1 with *cause (the caller frees) for a
 * message that is not JSON, too long, of an unknown type, or with a field
 * missing or out of range. */
int termctl_parse(const char *data, size_t len, struct termctl *out, char **cause);

/* The exit message; the caller frees. status < 0: null (no exit status). */
char *termctl_exit_json(const char *reason, int status);

#endif
