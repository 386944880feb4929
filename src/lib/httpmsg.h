/*
 * lib/httpmsg — the pieces of HTTP/1.1 (RFC 9112) a reverse proxy reads
 * from the server behind it, with no I/O: the head of a response (status
 * line and header fields) and the chunked transfer coding of a body.
 *
 * Both parsers see bytes from a program kaon does not control (a user's
 * notebook server), so each has hard limits: the caller bounds the head's
 * size, a head has at most HTTPMSG_MAX_FIELDS fields, and a chunk-size
 * line, its extensions and the trailer section are capped. Pure; no
 * allocation; fuzzed (tests/fuzz/httpmsg_fuzz.c).
 */
#ifndef KAON_LIB_HTTPMSG_H
#define KAON_LIB_HTTPMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { HTTPMSG_MAX_FIELDS = 96 };

struct httpmsg_field {
	const char *name; /* points into the parsed buffer; not NUL-terminated */
	size_t name_len;
	const char *value; /* without surrounding whitespace */
	size_t value_len;
};

struct httpmsg_head {
	int status; /* 100..999 */
	int minor;  /* HTTP/1.minor */
	size_t len; /* bytes of the head, the blank line included */
	size_t nfields;
	struct httpmsg_field fields[HTTPMSG_MAX_FIELDS];
};

/* Parse the response head at the start of buf. 1: complete, *head filled
 * (its pointers point into buf); 0: incomplete, read more; -1: malformed
 * (a bad status line or field, obsolete line folding, a NUL, or more than
 * HTTPMSG_MAX_FIELDS fields). A bare LF ends a line as CRLF does. */
int httpmsg_parse_response(const char *buf, size_t len, struct httpmsg_head *head);

/* Whether a comma-separated header value (Connection, Transfer-Encoding)
 * holds token, compared without case. */
bool httpmsg_has_token(const char *value, size_t len, const char *token);
/* Case-insensitive comparison of a field name with a NUL-terminated name. */
bool httpmsg_name_is(const struct httpmsg_field *f, const char *name);

/* Decoder of the chunked transfer coding; zero it to start. */
struct httpmsg_chunked {
	int state;
	uint64_t left; /* data bytes left in the current chunk */
	size_t line;   /* bytes of the current size line or trailer section */
	int digits;
};

/* Decode len bytes of a chunked body in place: the payload is moved to
 * the front of buf, *out bytes of it. *used: bytes consumed (all of them
 * unless the body ended within buf). 1: the body is complete (last chunk
 * and trailers read); 0: more to come; -1: malformed or over a limit
 * (*used and *out then say how far it got). */
int httpmsg_chunked_decode(struct httpmsg_chunked *c, char *buf, size_t len, size_t *used,
			   size_t *out);

#endif
