/*
 * xalloc — allocation that cannot fail.
 *
 * Out of memory aborts the process with a message: a daemon that cannot
 * allocate a few bytes cannot do anything useful, and callers are spared
 * NULL branches that no test could reach (tmux, redis do the same).
 */
#ifndef KAON_LIB_XALLOC_H
#define KAON_LIB_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
/* At most n bytes of s (fewer when s is shorter), NUL-terminated. */
char *xstrndup(const char *s, size_t n);
/* printf into a new string the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);

#endif
