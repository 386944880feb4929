/* lib/timefmt — RFC 3339 parsing (see timefmt.h). Calendar arithmetic is
 * done here rather than with timegm() so the parser is pure and checks
 * every field itself (timegm() normalises February 30th to March 2nd). */
#include "lib/timefmt.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

int64_t timefmt_days_from_civil(int64_t y, int m, int d)
{
	/* Howard Hinnant's days_from_civil: eras of 400 years. */
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int timefmt_month_days(int64_t y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* n decimal digits at *p into *v; advances *p. */
static bool timefmt_digits(const char **p, int n, int *v)
{
	int x = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		x = x * 10 + (c - '0');
	}
	*p += n;
	*v = x;
	return true;
}

static bool timefmt_char(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

int timefmt_parse_rfc3339(const char *s, int64_t *out)
{
	const char *p = s;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	if (!timefmt_digits(&p, 4, &y) || !timefmt_char(&p, '-') || !timefmt_digits(&p, 2, &mo) ||
	    !timefmt_char(&p, '-') || !timefmt_digits(&p, 2, &d))
		return -EINVAL;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -EINVAL;
	p++;
	if (!timefmt_digits(&p, 2, &h) || !timefmt_char(&p, ':') || !timefmt_digits(&p, 2, &mi) ||
	    !timefmt_char(&p, ':') || !timefmt_digits(&p, 2, &sec))
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		p++;
		if (!timefmt_digits(&p, 2, &oh) || !timefmt_char(&p, ':') ||
		    !timefmt_digits(&p, 2, &om) || oh > 23 || om > 59)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	/* 60: a leap second, read as the next second like POSIX does. */
	if (*p || mo < 1 || mo > 12 || d < 1 || d > timefmt_month_days(y, mo) || h > 23 ||
	    mi > 59 || sec > 60)
		return -EINVAL;
	int64_t t = timefmt_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	*out = t - sign * (oh * 3600 + om * 60);
	return 0;
}
