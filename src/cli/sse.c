/*
 * cli/sse — Server-Sent Events, parsed as the bytes arrive (see sse.h).
 * The stream comes from the network, so sizes are capped and every field
 * is handled by length, NUL bytes included; tests/fuzz/sse_fuzz.c feeds
 * it arbitrary bytes cut at arbitrary places.
 */
#include "cli/sse.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

static const char sse_bom[] = "\xef\xbb\xbf";

struct sse {
	size_t max;
	sse_handler fn;
	void *ctx;
	char *line; /* the line being read, without its end */
	size_t line_len;
	char *data; /* the event's data lines, each followed by \n */
	size_t data_len;
	char *type; /* NULL: "message" */
	char *id;   /* the last event id; NULL: none yet */
	bool cr;    /* the last byte was \r: a \n right after it ends nothing */
	size_t bom; /* bytes of a leading byte order mark seen; 3: past it */
};

struct sse *sse_new(size_t max_event, sse_handler fn, void *ctx)
{
	struct sse *p = xcalloc(1, sizeof *p);
	if (max_event < 16)
		max_event = 16; /* room for a byte order mark put back as text */
	p->max = max_event;
	p->fn = fn;
	p->ctx = ctx;
	/* Both buffers are allocated once at their cap plus a NUL: the cap is
	 * the point, and a log stream fills them anyway. */
	p->line = xmalloc(max_event + 1);
	p->data = xmalloc(max_event + 1);
	return p;
}

void sse_free(struct sse *p)
{
	if (!p)
		return;
	free(p->line);
	free(p->data);
	free(p->type);
	free(p->id);
	free(p);
}

void sse_reset(struct sse *p)
{
	p->line_len = 0;
	p->data_len = 0;
	free(p->type);
	p->type = NULL;
	p->cr = false;
	p->bom = 0;
}

const char *sse_last_id(const struct sse *p)
{
	return p->id;
}

static int sse_dispatch(struct sse *p)
{
	int rc = 0;
	if (p->data_len > 0) {
		p->data_len--; /* the \n after the last data line */
		p->data[p->data_len] = '\0';
		struct sse_event ev = {p->type ? p->type : "message", p->id, p->data, p->data_len};
		rc = p->fn(p->ctx, &ev);
	}
	p->data_len = 0;
	free(p->type);
	p->type = NULL;
	return rc;
}

static bool sse_field_is(const char *f, size_t n, const char *name)
{
	return n == strlen(name) && memcmp(f, name, n) == 0;
}

/* One complete line. 0, the handler's return, or -1 with *cause. */
static int sse_line(struct sse *p, char **cause)
{
	const char *l = p->line;
	size_t n = p->line_len;
	p->line_len = 0;
	if (n == 0)
		return sse_dispatch(p);
	if (l[0] == ':')
		return 0;
	const char *colon = memchr(l, ':', n);
	size_t flen = colon ? (size_t)(colon - l) : n;
	const char *v = colon ? colon + 1 : l + n;
	size_t vlen = (size_t)(l + n - v);
	if (vlen > 0 && v[0] == ' ') {
		v++;
		vlen--;
	}
	if (sse_field_is(l, flen, "data")) {
		if (vlen + 1 > p->max - p->data_len) {
			*cause =
			    xasprintf("an event in the stream is larger than %zu bytes", p->max);
			return -1;
		}
		memcpy(p->data + p->data_len, v, vlen);
		p->data_len += vlen;
		p->data[p->data_len++] = '\n';
	} else if (sse_field_is(l, flen, "event")) {
		free(p->type);
		p->type = xstrndup(v, vlen);
	} else if (sse_field_is(l, flen, "id")) {
		if (!memchr(v, '\0', vlen)) {
			free(p->id);
			p->id = xstrndup(v, vlen);
		}
	}
	return 0;
}

int sse_feed(struct sse *p, const char *buf, size_t len, char **cause)
{
	size_t i = 0;
	/* A byte order mark may only come first, and may come cut in parts. */
	while (i < len && p->bom < 3) {
		if (buf[i] == sse_bom[p->bom]) {
			p->bom++;
			i++;
			continue;
		}
		/* Not a mark after all: what looked like one is text. */
		memcpy(p->line, sse_bom, p->bom);
		p->line_len = p->bom;
		p->bom = 3;
	}
	while (i < len) {
		if (p->cr) {
			p->cr = false;
			if (buf[i] == '\n') {
				i++;
				continue;
			}
		}
		size_t seg = i;
		while (seg < len && buf[seg] != '\r' && buf[seg] != '\n')
			seg++;
		if (seg - i > p->max - p->line_len) {
			*cause = xasprintf("a line in the event stream is longer than %zu bytes",
					   p->max);
			return -1;
		}
		memcpy(p->line + p->line_len, buf + i, seg - i);
		p->line_len += seg - i;
		i = seg;
		if (i == len)
			break;
		p->cr = buf[i] == '\r';
		i++;
		int rc = sse_line(p, cause);
		if (rc != 0)
			return rc;
	}
	return 0;
}
