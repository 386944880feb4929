/* cli/when — parse "tomorrow 9:00" and friends (see when.h). Local times go
 * through mktime() with tm_isdst = -1 so a daylight-saving change between
 * now and then is the C library's to get right, not ours. */
#include "cli/when.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/output.h"
#include "lib/timefmt.h"
#include "lib/xalloc.h"

static const char when_expected[] =
    "expected now, +DURATION, today|tomorrow|WEEKDAY HH:MM, HH:MM, YYYY-MM-DD [HH:MM] or an "
    "RFC 3339 time";

/* "9:00", "09:00", "14:30:15": 0 and the parts, else -1. */
static int when_clock(const char *s, int *h, int *m, int *sec)
{
	int parts[3] = {0, 0, 0}, n = 0;
	const char *p = s;
	while (n < 3) {
		int digits = 0, v = 0;
		while (isdigit((unsigned char)*p) && digits < 2) {
			v = v * 10 + (*p++ - '0');
			digits++;
		}
		if (digits == 0 || (n > 0 && digits != 2))
			return -1;
		parts[n++] = v;
		if (*p != ':')
			break;
		p++;
	}
	if (*p || n < 2 || parts[0] > 23 || parts[1] > 59 || parts[2] > 59)
		return -1;
	*h = parts[0];
	*m = parts[1];
	*sec = parts[2];
	return 0;
}

/* Local midnight of now's day plus days, at h:m:s. */
static int64_t when_local(int64_t now, int days, int h, int m, int sec)
{
	time_t t = (time_t)now;
	struct tm tm;
	localtime_r(&t, &tm);
	tm.tm_mday += days;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

static int when_weekday(const char *w)
{
	static const char *const names[] = {"sunday",	"monday", "tuesday", "wednesday",
					    "thursday", "friday", "saturday"};
	size_t len = strlen(w);
	for (int i = 0; i < 7; i++)
		if ((len == 3 || len == strlen(names[i])) && strncasecmp(w, names[i], len) == 0)
			return i;
	return -1;
}

/* "2026-12-04": 0 and the parts. */
static int when_date(const char *s, int *y, int *mo, int *d)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return -1;
	*y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	*mo = (s[5] - '0') * 10 + (s[6] - '0');
	*d = (s[8] - '0') * 10 + (s[9] - '0');
	if (*mo < 1 || *mo > 12 || *d < 1 || *d > timefmt_month_days(*y, *mo))
		return -1;
	return 0;
}

static int when_fail(char **cause, const char *s)
{
	*cause = xasprintf("'%s' is not a time: %s", s, when_expected);
	return -1;
}

int when_parse(const char *s, int64_t now, int64_t *out, char **cause)
{
	char word[32], rest[32];
	int h = 0, m = 0, sec = 0;
	if (strcasecmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	if (s[0] == '+') {
		int64_t d;
		if (output_parse_duration(s + 1, &d) < 0)
			return when_fail(cause, s);
		*out = now + d;
		return 0;
	}
	if (timefmt_parse_rfc3339(s, out) == 0)
		return 0;
	if (when_clock(s, &h, &m, &sec) == 0) {
		int64_t t = when_local(now, 0, h, m, sec);
		*out = t > now ? t : when_local(now, 1, h, m, sec);
		return 0;
	}
	/* One or two words: "DAY TIME", "DATE TIME", "DATE", "DATETTIME". */
	const char *sp = strchr(s, ' ');
	if (!sp && strlen(s) > 10 && (s[10] == 'T' || s[10] == 't'))
		sp = s + 10; /* 2026-12-04T09:00 */
	size_t wl = sp ? (size_t)(sp - s) : strlen(s);
	if (wl == 0 || wl >= sizeof word || (sp && strlen(sp + 1) >= sizeof rest))
		return when_fail(cause, s);
	memcpy(word, s, wl);
	word[wl] = '\0';
	snprintf(rest, sizeof rest, "%s", sp ? sp + 1 : "");
	if (sp && when_clock(rest, &h, &m, &sec) < 0)
		return when_fail(cause, s);
	int y, mo, d;
	if (when_date(word, &y, &mo, &d) == 0) {
		struct tm tm = {.tm_year = y - 1900,
				.tm_mon = mo - 1,
				.tm_mday = d,
				.tm_hour = h,
				.tm_min = m,
				.tm_sec = sec,
				.tm_isdst = -1};
		*out = (int64_t)mktime(&tm);
		return 0;
	}
	if (!sp || *sp != ' ') {
		/* a weekday or day word without a time, or nothing we know */
		if (!sp && (strcasecmp(word, "today") == 0 || strcasecmp(word, "tomorrow") == 0 ||
			    when_weekday(word) >= 0)) {
			*cause = xasprintf("'%s' needs a time of day too, as in '%s 9:00'", s, s);
			return -1;
		}
		return when_fail(cause, s);
	}
	if (strcasecmp(word, "today") == 0) {
		*out = when_local(now, 0, h, m, sec);
		return 0;
	}
	if (strcasecmp(word, "tomorrow") == 0) {
		*out = when_local(now, 1, h, m, sec);
		return 0;
	}
	int wd = when_weekday(word);
	if (wd < 0)
		return when_fail(cause, s);
	time_t tn = (time_t)now;
	struct tm tm;
	localtime_r(&tn, &tm);
	int ahead = (wd - tm.tm_wday + 7) % 7;
	int64_t t = when_local(now, ahead, h, m, sec);
	*out = t > now ? t : when_local(now, ahead + 7, h, m, sec);
	return 0;
}
