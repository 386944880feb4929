/*
 * lib/strbuf — a growing string: bytes appended at the end, always
 * NUL-terminated, so .s is a C string once anything (even "") was added.
 * The caller owns .s and frees it.
 */
#ifndef KAON_LIB_STRBUF_H
#define KAON_LIB_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *s; /* NULL until the first add */
	size_t len, cap;
};

void strbuf_add(struct strbuf *b, const void *data, size_t n);
void strbuf_adds(struct strbuf *b, const char *s);

#endif
