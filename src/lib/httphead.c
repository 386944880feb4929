/*
 * lib/httphead — an in-place HTTP/1.x request-head parser (see httphead.h).
 *
 * The head ends at the first empty line; nothing is looked at before that
 * line has arrived, so a head is parsed once, whole, and partial input
 * only costs a search for the blank line.
 */
#include "lib/httphead.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* tchar of RFC 9110: the bytes of a method or a field name. */
static bool httphead_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Offset just past the blank line that ends the head, or 0. */
static size_t httphead_end(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Cut the line at *p (ending at a LF, with an optional CR before it):
 * NUL-terminates it, advances *p past it, returns its start. */
static char *httphead_line(char **p, char *end)
{
	char *s = *p;
	char *nl = memchr(s, '\n', (size_t)(end - s));
	if (!nl)
		return NULL;
	char *e = nl;
	if (e > s && e[-1] == '\r')
		e--;
	*e = '\0';
	*p = nl + 1;
	return s;
}

static int httphead_request_line(char *line, struct httphead *out)
{
	char *sp1 = strchr(line, ' ');
	if (!sp1 || sp1 == line)
		return -1;
	*sp1 = '\0';
	for (char *c = line; *c; c++)
		if (!httphead_tchar((unsigned char)*c))
			return -1;
	char *target = sp1 + 1;
	char *sp2 = strchr(target, ' ');
	if (!sp2 || sp2 == target)
		return -1;
	*sp2 = '\0';
	for (char *c = target; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return -1;
	const char *version = sp2 + 1;
	if (strncmp(version, "HTTP/1.", 7) != 0 || version[7] < '0' || version[7] > '9' ||
	    version[8] != '\0')
		return -1;
	out->method = line;
	out->target = target;
	out->minor = version[7] - '0';
	return 0;
}

static int httphead_field(char *line, struct httphead *out)
{
	char *colon = strchr(line, ':');
	if (!colon || colon == line)
		return -1;
	*colon = '\0';
	for (char *c = line; *c; c++)
		if (!httphead_tchar((unsigned char)*c))
			return -1; /* whitespace before the colon included */
	char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	char *e = v + strlen(v);
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*e = '\0';
	for (char *c = v; *c; c++) {
		unsigned char ch = (unsigned char)*c;
		if ((ch < ' ' && ch != '\t') || ch == 0x7f)
			return -1;
	}
	if (out->nfields == HTTPHEAD_MAX_FIELDS)
		return -1;
	out->fields[out->nfields++] = (struct httphead_field){line, v};
	return 0;
}

long httphead_parse(char *buf, size_t len, struct httphead *out)
{
	memset(out, 0, sizeof *out);
	/* A NUL anywhere in the head would cut a token short unseen. */
	size_t head = httphead_end(buf, len);
	if (memchr(buf, '\0', head ? head : len))
		return -1;
	if (!head)
		return 0;
	char *p = buf, *end = buf + head;
	char *line = httphead_line(&p, end);
	if (!line || httphead_request_line(line, out) < 0)
		return -1;
	for (;;) {
		line = httphead_line(&p, end);
		if (!line)
			return -1;
		if (!*line)
			break;
		if (*line == ' ' || *line == '\t')
			return -1; /* obsolete line folding */
		if (httphead_field(line, out) < 0)
			return -1;
	}
	return (long)head;
}

const char *httphead_get(const struct httphead *h, const char *name)
{
	for (size_t i = 0; i < h->nfields; i++)
		if (strcasecmp(h->fields[i].name, name) == 0)
			return h->fields[i].value;
	return NULL;
}
