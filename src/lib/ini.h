/*
 * ini — a small INI parser for kaon's config file.
 *
 *   # comment            ; comment
 *   [section]
 *   [section name]       two words: the handler sees "section name"
 *   key = value          values keep inner spaces; quotes are not special
 *
 * The parser calls back once per key; the callback validates and returns
 * 0 or -1 with *cause set, which stops the parse. Errors name the line.
 */
#ifndef KAON_LIB_INI_H
#define KAON_LIB_INI_H

#include <stddef.h>

typedef int (*ini_handler)(void *ctx, const char *section, const char *key, const char *value,
			   char **cause);

/* Parse text of len bytes; 0 or -1 with *cause ("line 3: ...") to free. */
int ini_parse(const char *text, size_t len, ini_handler handler, void *ctx, char **cause);

#endif
