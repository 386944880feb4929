/* lib/httpmsg — HTTP/1.1 response heads and chunked bodies (see httpmsg.h). */
#include "lib/httpmsg.h"

#include <string.h>
#include <strings.h>

enum {
	HTTPMSG_SIZE_LINE_MAX = 1024, /* a chunk-size line with its extensions */
	HTTPMSG_TRAILERS_MAX = 16 * 1024,
	HTTPMSG_SIZE_DIGITS_MAX = 15, /* hex digits: chunks below 2^60 bytes */
};

static bool httpmsg_tchar(unsigned char c)
{
	/* RFC 9110 token characters. */
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* The end of the line starting at p (the LF), or NULL. */
static const char *httpmsg_eol(const char *p, const char *end)
{
	return memchr(p, '\n', (size_t)(end - p));
}

/* Length of the line [p, lf) without its CR; -1 for a CR elsewhere or a NUL. */
static long httpmsg_line_len(const char *p, const char *lf)
{
	size_t n = (size_t)(lf - p);
	if (n && p[n - 1] == '\r')
		n--;
	for (size_t i = 0; i < n; i++)
		if (p[i] == '\r' || p[i] == '\0')
			return -1;
	return (long)n;
}

static int httpmsg_status_line(const char *p, size_t n, struct httpmsg_head *head)
{
	/* HTTP/1.x SP 3DIGIT [SP reason] (the reason may be empty or absent). */
	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9' || p[8] != ' ')
		return -1;
	for (int i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return -1;
	if (n > 12 && p[12] != ' ')
		return -1;
	head->minor = p[7] - '0';
	head->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	return head->status >= 100 ? 0 : -1;
}

static int httpmsg_field_line(const char *p, size_t n, struct httpmsg_field *f)
{
	size_t i = 0;
	while (i < n && httpmsg_tchar((unsigned char)p[i]))
		i++;
	/* No whitespace between the name and the colon (RFC 9112 5.1). */
	if (i == 0 || i == n || p[i] != ':')
		return -1;
	f->name = p;
	f->name_len = i;
	size_t v = i + 1, e = n;
	while (v < e && (p[v] == ' ' || p[v] == '\t'))
		v++;
	while (e > v && (p[e - 1] == ' ' || p[e - 1] == '\t'))
		e--;
	f->value = p + v;
	f->value_len = e - v;
	return 0;
}

int httpmsg_parse_response(const char *buf, size_t len, struct httpmsg_head *head)
{
	const char *end = buf + len, *p = buf;
	/* Find the blank line first: a head that is still arriving costs one
	 * scan per read, not a parse. */
	const char *blank = NULL;
	for (const char *q = buf; (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++) {
		const char *r = q + 1;
		if (r < end && *r == '\n') {
			blank = r;
			break;
		}
		if (r + 1 < end && r[0] == '\r' && r[1] == '\n') {
			blank = r + 1;
			break;
		}
		if (r == end || (r + 1 == end && *r == '\r'))
			break;
	}
	if (!blank)
		return 0;
	head->nfields = 0;
	head->len = (size_t)(blank + 1 - buf);
	const char *lf = httpmsg_eol(p, end);
	long n = httpmsg_line_len(p, lf);
	if (n < 0 || httpmsg_status_line(p, (size_t)n, head) < 0)
		return -1;
	for (p = lf + 1; p < blank; p = lf + 1) {
		lf = httpmsg_eol(p, end);
		n = httpmsg_line_len(p, lf);
		if (n < 0 || *p == ' ' || *p == '\t') /* obs-fold is refused */
			return -1;
		if (n == 0) /* the blank line itself */
			break;
		if (head->nfields == HTTPMSG_MAX_FIELDS ||
		    httpmsg_field_line(p, (size_t)n, &head->fields[head->nfields]) < 0)
			return -1;
		head->nfields++;
	}
	return 1;
}

bool httpmsg_has_token(const char *value, size_t len, const char *token)
{
	size_t tl = strlen(token), i = 0;
	while (i < len) {
		while (i < len && (value[i] == ' ' || value[i] == '\t' || value[i] == ','))
			i++;
		size_t s = i;
		while (i < len && value[i] != ',')
			i++;
		size_t e = i;
		while (e > s && (value[e - 1] == ' ' || value[e - 1] == '\t'))
			e--;
		/* Parameters (";q=...") are not part of the token. */
		const char *semi = memchr(value + s, ';', e - s);
		if (semi) {
			e = (size_t)(semi - value);
			while (e > s && (value[e - 1] == ' ' || value[e - 1] == '\t'))
				e--;
		}
		if (e - s == tl && strncasecmp(value + s, token, tl) == 0)
			return true;
	}
	return false;
}

bool httpmsg_name_is(const struct httpmsg_field *f, const char *name)
{
	return strlen(name) == f->name_len && strncasecmp(f->name, name, f->name_len) == 0;
}

/* ---- chunked ---------------------------------------------------------------- */

enum httpmsg_chunk_state {
	CH_SIZE,      /* the first hex digit of a size */
	CH_SIZE_MORE, /* more digits, or the end of the size */
	CH_EXT,	      /* chunk extensions: skipped up to the LF */
	CH_SIZE_LF,   /* after the CR of the size line */
	CH_DATA,      /* left bytes of data */
	CH_DATA_CR,   /* the CRLF after the data */
	CH_DATA_LF,
	CH_TRAILER,	 /* at the start of a trailer line or the final blank line */
	CH_TRAILER_LINE, /* in a trailer field: skipped */
	CH_FINAL_LF,	 /* after the CR of the final blank line */
	CH_DONE,
};

static int httpmsg_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The size line ended: data follows, or the trailers after a last chunk. */
static void httpmsg_chunk_start(struct httpmsg_chunked *c)
{
	c->state = c->left ? CH_DATA : CH_TRAILER;
	c->line = 0;
}

int httpmsg_chunked_decode(struct httpmsg_chunked *c, char *buf, size_t len, size_t *used,
			   size_t *out)
{
	size_t i = 0, o = 0;
	while (i < len && c->state != CH_DONE) {
		char ch = buf[i];
		switch (c->state) {
		case CH_DATA: {
			size_t n = len - i;
			if (n > c->left)
				n = (size_t)c->left;
			memmove(buf + o, buf + i, n);
			o += n, i += n;
			c->left -= n;
			if (c->left == 0)
				c->state = CH_DATA_CR;
			continue;
		}
		case CH_SIZE:
		case CH_SIZE_MORE: {
			int d = httpmsg_hex(ch);
			if (d >= 0) {
				if (++c->digits > HTTPMSG_SIZE_DIGITS_MAX)
					goto bad;
				c->left = c->left * 16 + (uint64_t)d;
				c->state = CH_SIZE_MORE;
			} else if (c->state == CH_SIZE) {
				goto bad;
			} else if (ch == ';' || ch == ' ' || ch == '\t') {
				c->state = CH_EXT;
			} else if (ch == '\r') {
				c->state = CH_SIZE_LF;
			} else if (ch == '\n') {
				httpmsg_chunk_start(c);
			} else {
				goto bad;
			}
			break;
		}
		case CH_EXT:
			if (ch == '\n')
				httpmsg_chunk_start(c);
			else if (ch == '\0' || ++c->line > HTTPMSG_SIZE_LINE_MAX)
				goto bad;
			break;
		case CH_SIZE_LF:
			if (ch != '\n')
				goto bad;
			httpmsg_chunk_start(c);
			break;
		case CH_DATA_CR:
			if (ch == '\r')
				c->state = CH_DATA_LF;
			else if (ch == '\n')
				c->state = CH_SIZE, c->digits = 0;
			else
				goto bad;
			break;
		case CH_DATA_LF:
			if (ch != '\n')
				goto bad;
			c->state = CH_SIZE, c->digits = 0;
			break;
		case CH_TRAILER:
			if (ch == '\r')
				c->state = CH_FINAL_LF;
			else if (ch == '\n')
				c->state = CH_DONE;
			else
				c->state = CH_TRAILER_LINE;
			if (++c->line > HTTPMSG_TRAILERS_MAX)
				goto bad;
			break;
		case CH_TRAILER_LINE:
			if (ch == '\n')
				c->state = CH_TRAILER;
			if (++c->line > HTTPMSG_TRAILERS_MAX)
				goto bad;
			break;
		case CH_FINAL_LF:
			if (ch != '\n')
				goto bad;
			c->state = CH_DONE;
			break;
		}
		i++;
	}
	*used = i;
	*out = o;
	return c->state == CH_DONE ? 1 : 0;
bad:
	*used = i;
	*out = o;
	return -1;
}
