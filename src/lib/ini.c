/* ini — line-oriented INI parser (see ini.h). */
#include "lib/ini.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

enum { INI_MAX_LINE = 4096, INI_MAX_NAME = 128 };

static void ini_trim(const char **start, const char **end)
{
	while (*start < *end && isspace((unsigned char)**start))
		(*start)++;
	while (*end > *start && isspace((unsigned char)(*end)[-1]))
		(*end)--;
}

static int ini_name_ok(const char *s, const char *e)
{
	if (s == e || e - s >= INI_MAX_NAME)
		return 0;
	for (; s < e; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return 0;
	return 1;
}

/* A section header's name: one name, or two separated by blanks
 * ("profile jupyter-big"), written to out as "first second". */
static int ini_section(const char *s, const char *e, char out[INI_MAX_NAME])
{
	const char *sp = s;
	while (sp < e && !isspace((unsigned char)*sp))
		sp++;
	if (sp == e) {
		if (!ini_name_ok(s, e))
			return -1;
		memcpy(out, s, (size_t)(e - s));
		out[e - s] = '\0';
		return 0;
	}
	const char *s2 = sp;
	while (s2 < e && isspace((unsigned char)*s2))
		s2++;
	const char *e2 = s2;
	while (e2 < e && !isspace((unsigned char)*e2))
		e2++;
	size_t n1 = (size_t)(sp - s), n2 = (size_t)(e2 - s2);
	if (e2 != e || !ini_name_ok(s, sp) || !ini_name_ok(s2, e2) || n1 + 1 + n2 >= INI_MAX_NAME)
		return -1;
	memcpy(out, s, n1);
	out[n1] = ' ';
	memcpy(out + n1 + 1, s2, n2);
	out[n1 + 1 + n2] = '\0';
	return 0;
}

int ini_parse(const char *text, size_t len, ini_handler handler, void *ctx, char **cause)
{
	char section[INI_MAX_NAME] = "";
	const char *p = text, *end = text + len;
	int lineno = 0;
	char *inner = NULL;

	while (p < end) {
		lineno++;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *ls = p, *le = nl ? nl : end;
		p = nl ? nl + 1 : end;
		if (le - ls > INI_MAX_LINE) {
			*cause = xasprintf("line %d: longer than %d bytes", lineno, INI_MAX_LINE);
			return -1;
		}
		if (memchr(ls, '\0', (size_t)(le - ls))) {
			*cause = xasprintf("line %d: contains a NUL byte", lineno);
			return -1;
		}
		ini_trim(&ls, &le);
		if (ls == le || *ls == '#' || *ls == ';')
			continue;
		if (*ls == '[') {
			if (le[-1] != ']') {
				*cause = xasprintf("line %d: section header without closing ']'", lineno);
				return -1;
			}
			const char *ns = ls + 1, *ne = le - 1;
			ini_trim(&ns, &ne);
			if (ini_section(ns, ne, section) < 0) {
				*cause = xasprintf("line %d: invalid section name", lineno);
				return -1;
			}
			continue;
		}
		const char *eq = memchr(ls, '=', (size_t)(le - ls));
		if (!eq) {
			*cause = xasprintf("line %d: expected 'key = value'", lineno);
			return -1;
		}
		const char *ks = ls, *ke = eq, *vs = eq + 1, *ve = le;
		ini_trim(&ks, &ke);
		ini_trim(&vs, &ve);
		if (!ini_name_ok(ks, ke)) {
			*cause = xasprintf("line %d: invalid key name", lineno);
			return -1;
		}
		char key[INI_MAX_NAME];
		memcpy(key, ks, (size_t)(ke - ks));
		key[ke - ks] = '\0';
		char *value = xstrndup(vs, (size_t)(ve - vs));
		int rc = handler(ctx, section, key, value, &inner);
		free(value);
		if (rc < 0) {
			*cause = xasprintf("line %d: %s", lineno, inner ? inner : "invalid value");
			free(inner);
			return -1;
		}
	}
	return 0;
}
