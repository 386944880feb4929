/* Unit tests of cli/when.c (the times `kaon reserve` reads) and
 * lib/timefmt.c (RFC 3339), in TZ=UTC and in a zone with an offset. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "../harness.h"
#include "cli/when.h"
#include "lib/timefmt.h"

/* Thursday 2026-12-03 12:00:00 UTC. */
enum { WHEN_NOW = 1796299200 };

static int64_t when_test(const char *s)
{
	int64_t t = -1;
	char *cause = NULL;
	if (when_parse(s, WHEN_NOW, &t, &cause) < 0)
		harness_fail(__FILE__, __LINE__, "when_parse(%s): %s", s, cause);
	return t;
}

static void when_test_refused(const char *s)
{
	int64_t t = -1;
	char *cause = NULL;
	if (when_parse(s, WHEN_NOW, &t, &cause) == 0)
		harness_fail(__FILE__, __LINE__, "when_parse(%s) accepted: %lld", s, (long long)t);
	CHECK(cause != NULL);
	free(cause);
}

static void when_test_utc(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

TEST(timefmt_rfc3339_zulu_offsets_and_refusals)
{
	int64_t t;
	CHECK_INT(timefmt_parse_rfc3339("2026-12-03T12:00:00Z", &t), 0);
	CHECK_INT(t, WHEN_NOW);
	CHECK_INT(timefmt_parse_rfc3339("2026-12-03T13:30:00+01:30", &t), 0);
	CHECK_INT(t, WHEN_NOW);
	CHECK_INT(timefmt_parse_rfc3339("2026-12-03t07:00:00.250-05:00", &t), 0);
	CHECK_INT(t, WHEN_NOW);
	CHECK_INT(timefmt_parse_rfc3339("1970-01-01T00:00:00Z", &t), 0);
	CHECK_INT(t, 0);
	CHECK_INT(timefmt_parse_rfc3339("2024-02-29T00:00:00Z", &t), 0); /* leap year */
	CHECK_INT(timefmt_parse_rfc3339("2026-02-29T00:00:00Z", &t), -22);
	CHECK_INT(timefmt_parse_rfc3339("2026-12-03T12:00:00", &t), -22); /* no offset */
	CHECK_INT(timefmt_parse_rfc3339("2026-12-03T24:00:00Z", &t), -22);
	CHECK_INT(timefmt_parse_rfc3339("2026-12-03T12:00:00Zx", &t), -22);
	CHECK_INT(timefmt_parse_rfc3339("2026-13-03T12:00:00Z", &t), -22);
	CHECK_INT(timefmt_parse_rfc3339("2026-12-03T12:00:00.Z", &t), -22);
	CHECK_INT(timefmt_parse_rfc3339("tomorrow", &t), -22);
	CHECK_INT(timefmt_parse_rfc3339("", &t), -22);
}

TEST(when_now_relative_and_day_words)
{
	when_test_utc();
	CHECK_INT(when_test("now"), WHEN_NOW);
	CHECK_INT(when_test("+2h"), WHEN_NOW + 7200);
	CHECK_INT(when_test("+1h30m"), WHEN_NOW + 5400);
	CHECK_INT(when_test("today 14:30"), WHEN_NOW + 2 * 3600 + 1800);
	CHECK_INT(when_test("Today 9:00"), WHEN_NOW - 3 * 3600); /* as said, even if past */
	CHECK_INT(when_test("tomorrow 9:00"), WHEN_NOW + 21 * 3600);
	CHECK_INT(when_test("tomorrow 09:00:30"), WHEN_NOW + 21 * 3600 + 30);
	/* A bare time: the next one. */
	CHECK_INT(when_test("14:00"), WHEN_NOW + 2 * 3600);
	CHECK_INT(when_test("9:00"), WHEN_NOW + 21 * 3600);
}

TEST(when_weekdays_are_the_next_such_day)
{
	when_test_utc();
	/* Now is Thursday 12:00. */
	CHECK_INT(when_test("mon 9:00"), WHEN_NOW + 3 * 86400 + 21 * 3600);
	CHECK_INT(when_test("Friday 17:00"), WHEN_NOW + 86400 + 5 * 3600);
	CHECK_INT(when_test("thu 13:00"), WHEN_NOW + 3600);		/* later today */
	CHECK_INT(when_test("THU 11:00"), WHEN_NOW + 7 * 86400 - 3600); /* passed: next week */
}

TEST(when_dates_and_rfc3339)
{
	when_test_utc();
	CHECK_INT(when_test("2026-12-04 09:00"), WHEN_NOW + 21 * 3600);
	CHECK_INT(when_test("2026-12-04T09:00"), WHEN_NOW + 21 * 3600);
	CHECK_INT(when_test("2026-12-04T09:00:10"), WHEN_NOW + 21 * 3600 + 10);
	CHECK_INT(when_test("2026-12-04"), WHEN_NOW + 12 * 3600);
	CHECK_INT(when_test("2026-12-04T09:00:00Z"), WHEN_NOW + 21 * 3600);
	CHECK_INT(when_test("2026-12-04T10:00:00+01:00"), WHEN_NOW + 21 * 3600);
}

TEST(when_local_time_follows_tz)
{
	setenv("TZ", "Europe/Berlin", 1); /* UTC+1 in December */
	tzset();
	int64_t t = -1;
	char *cause = NULL;
	if (when_parse("2026-12-04 10:00", WHEN_NOW, &t, &cause) < 0)
		harness_fail(__FILE__, __LINE__, "%s", cause);
	struct tm tm;
	time_t tt = (time_t)t;
	localtime_r(&tt, &tm);
	if (tm.tm_gmtoff == 0)
		SKIP("no time zone database (tzdata) on this machine");
	CHECK_INT(t, WHEN_NOW + 21 * 3600);
	CHECK_INT(when_test("tomorrow 10:00"), WHEN_NOW + 21 * 3600);
	/* RFC 3339 carries its own offset: TZ does not apply. */
	CHECK_INT(when_test("2026-12-04T09:00:00Z"), WHEN_NOW + 21 * 3600);
}

TEST(when_refuses_what_it_cannot_read)
{
	when_test_utc();
	when_test_refused("");
	when_test_refused("tomorrow");
	when_test_refused("mon");
	when_test_refused("someday 9:00");
	when_test_refused("tomorrow 25:00");
	when_test_refused("tomorrow 9");
	when_test_refused("tomorrow 9:0");
	when_test_refused("2026-02-30 10:00");
	when_test_refused("2026-12-04 10:00 extra");
	when_test_refused("+");
	when_test_refused("+2x");
	when_test_refused("12/04/2026");
}
