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
			if (!ini_name_ok(ns, ne)) {
				*cause = xasprintf("line %d: invalid section name", lineno);
				return -1;
			}
			memcpy(section, ns, (size_t)(ne - ns));
			section[ne - ns] = '\0';
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
