/* lib/ring — bounded byte ring for scrollback (see ring.h). */
#include "lib/ring.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

struct ring {
	uint8_t *buf;
	size_t cap;
	size_t head; /* where the next byte goes */
	size_t len;
	bool wrapped;
};

struct ring *ring_new(size_t cap)
{
	struct ring *r = xcalloc(1, sizeof *r);
	r->cap = cap ? cap : 1;
	r->buf = xmalloc(r->cap);
	return r;
}

void ring_free(struct ring *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}

void ring_write(struct ring *r, const void *data, size_t len)
{
	const uint8_t *p = data;
	if (len >= r->cap) {
		/* Only the last cap bytes can stay. */
		if (len > r->cap || r->len > 0)
			r->wrapped = true;
		memcpy(r->buf, p + len - r->cap, r->cap);
		r->head = 0;
		r->len = r->cap;
		return;
	}
	size_t first = r->cap - r->head < len ? r->cap - r->head : len;
	memcpy(r->buf + r->head, p, first);
	memcpy(r->buf, p + first, len - first);
	r->head = (r->head + len) % r->cap;
	if (r->len + len > r->cap) {
		r->wrapped = true;
		r->len = r->cap;
	} else {
		r->len += len;
	}
}

size_t ring_len(const struct ring *r)
{
	return r->len;
}

bool ring_wrapped(const struct ring *r)
{
	return r->wrapped;
}

void ring_peek(const struct ring *r, const uint8_t **a, size_t *alen, const uint8_t **b,
	       size_t *blen)
{
	size_t start = (r->head + r->cap - r->len) % r->cap;
	if (start + r->len <= r->cap) {
		*a = r->buf + start;
		*alen = r->len;
		*b = r->buf;
		*blen = 0;
	} else {
		*a = r->buf + start;
		*alen = r->cap - start;
		*b = r->buf;
		*blen = r->len - *alen;
	}
}

size_t ring_line_start(const struct ring *r)
{
	if (!r->wrapped)
		return 0;
	const uint8_t *a, *b;
	size_t alen, blen;
	ring_peek(r, &a, &alen, &b, &blen);
	const uint8_t *nl = memchr(a, '\n', alen);
	if (nl)
		return (size_t)(nl - a) + 1;
	nl = memchr(b, '\n', blen);
	if (nl)
		return alen + (size_t)(nl - b) + 1;
	return 0;
}

size_t ring_copy(const struct ring *r, size_t from, void *dst, size_t cap)
{
	const uint8_t *a, *b;
	size_t alen, blen, done = 0;
	ring_peek(r, &a, &alen, &b, &blen);
	uint8_t *out = dst;
	if (from < alen) {
		size_t n = alen - from < cap ? alen - from : cap;
		memcpy(out, a + from, n);
		done = n;
		from = alen;
	}
	from -= alen;
	if (done < cap && from < blen) {
		size_t n = blen - from < cap - done ? blen - from : cap - done;
		memcpy(out + done, b + from, n);
		done += n;
	}
	return done;
}
