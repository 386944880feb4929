/*
 * utf8 — making arbitrary bytes (a job's output) safe to put in JSON,
 * which must be valid UTF-8, without losing track of byte offsets.
 */
#ifndef KAON_LIB_UTF8_H
#define KAON_LIB_UTF8_H

#include <stddef.h>

/* The length of buf without a trailing, incomplete (but so far valid)
 * multi-byte sequence, so a chunk boundary never splits a character. */
size_t utf8_whole_prefix(const char *buf, size_t len);
/* A new NUL-terminated copy with each invalid byte replaced by U+FFFD;
 * its length (NUL bytes of the input are kept) goes to *out_len. */
char *utf8_sanitize(const char *buf, size_t len, size_t *out_len);

#endif
