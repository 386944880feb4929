/*
 * lib/httphead — parse the head of an HTTP/1.x request (request line and
 * header fields, RFC 9112), for the small servers kaon runs outside the
 * daemon (kaon session-shell), which have no libmicrohttpd.
 *
 * Pure: no I/O, no allocation. The parser works in place on the caller's
 * buffer (it writes NULs at the ends of tokens), so the results point into
 * it and live as long as it does. It is strict where leniency would let
 * two parsers disagree about a request (request smuggling): no obsolete
 * line folding, no whitespace before a field's colon, no control bytes in
 * values, a bare LF accepted only as a line end. Fuzzed in
 * tests/fuzz/httphead_fuzz.c.
 */
#ifndef KAON_LIB_HTTPHEAD_H
#define KAON_LIB_HTTPHEAD_H

#include <stddef.h>

enum { HTTPHEAD_MAX_FIELDS = 64 };

struct httphead_field {
	const char *name;  /* as sent; compare case-insensitively */
	const char *value; /* leading and trailing whitespace removed */
};

struct httphead {
	const char *method;
	const char *target; /* the request-target as sent, query included */
	int minor;	    /* HTTP/1.minor */
	struct httphead_field fields[HTTPHEAD_MAX_FIELDS];
	size_t nfields;
};

/* Parse the head at the start of buf[0..len). Returns its length (the
 * bytes after it are the body or the next protocol's), 0 when the head is
 * not complete yet, or -1 when it is malformed or has more than
 * HTTPHEAD_MAX_FIELDS fields. On success buf has been modified in place;
 * on 0 or -1 it may have been. */
long httphead_parse(char *buf, size_t len, struct httphead *out);
/* The value of the first field called name (case-insensitive), or NULL. */
const char *httphead_get(const struct httphead *h, const char *name);

#endif
