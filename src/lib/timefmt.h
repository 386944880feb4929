/*
 * lib/timefmt — RFC 3339 times as the API writes and reads them.
 *
 * The API writes UTC ("2026-12-04T09:00:00Z", api_time_json) and reads
 * RFC 3339 with "Z" or a numeric offset ("2026-12-04T10:00:00+01:00"),
 * fractions of a second ignored; lower-case "t"/"z" and a space for "T"
 * are accepted as RFC 3339 allows. Pure: no locale, no time zone
 * database, no clock.
 */
#ifndef KAON_LIB_TIMEFMT_H
#define KAON_LIB_TIMEFMT_H

#include <stdint.h>

/* 0 and *out (Unix seconds), or -EINVAL for anything else (trailing
 * text, a field out of range, February 30th, a missing offset). */
int timefmt_parse_rfc3339(const char *s, int64_t *out);
/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t timefmt_days_from_civil(int64_t y, int m, int d);
/* Days in month m (1..12) of year y. */
int timefmt_month_days(int64_t y, int m);

#endif
