/* libFuzzer target: the time parsers that read user input, lib/timefmt
 * (RFC 3339 in API bodies and queries) and cli/when (kaon reserve
 * --from/--until). Anything RFC 3339 accepts must print back, in UTC, to
 * a string that parses to the same second; when_parse either answers or
 * says why not. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/when.h"
#include "lib/timefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int tz_set;
	if (!tz_set) {
		setenv("TZ", "UTC", 1);
		tzset();
		tz_set = 1;
	}
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	int64_t t;
	if (timefmt_parse_rfc3339(s, &t) == 0) {
		char buf[64];
		struct tm tm;
		time_t tt = (time_t)t;
		int64_t back;
		if (!gmtime_r(&tt, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
			abort();
		/* strftime's %Y has no leading zeros (year 26, not 0026) and
		 * offsets can push a time out of 0000..9999: check the years
		 * it prints as four digits. */
		if (tm.tm_year >= 1000 - 1900 && tm.tm_year <= 9999 - 1900 &&
		    (timefmt_parse_rfc3339(buf, &back) != 0 || back != t))
			abort();
	}
	char *cause = NULL;
	if (when_parse(s, 1796299200, &t, &cause) < 0) {
		if (!cause)
			abort();
		free(cause);
	}
	free(s);
	return 0;
}
