/* lib/strbuf — a growing string (strbuf.h). */
#include "lib/strbuf.h"

#include <string.h>

#include "lib/xalloc.h"

void strbuf_add(struct strbuf *b, const void *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, data, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void strbuf_adds(struct strbuf *b, const char *s)
{
	strbuf_add(b, s, strlen(s));
}
