/*
 * cli/when — the times people type for `kaon reserve --from/--until`,
 * read in the local time zone of the machine the CLI runs on (TZ):
 *
 *   now                       the given now
 *   +2h, +90m, +1d6h          a duration after now
 *   today 14:30, tomorrow 9:00
 *   mon 9:00, friday 17:00    the first such weekday and time after now
 *   14:30                     the first such time after now (today or tomorrow)
 *   2026-12-04 09:00, 2026-12-04T09:00[:SS], 2026-12-04 (midnight)
 *   2026-12-04T09:00:00Z, ...+01:00   RFC 3339: its own offset
 *
 * Pure but for the time zone: now is passed in, nothing is read from
 * the clock.
 */
#ifndef KAON_CLI_WHEN_H
#define KAON_CLI_WHEN_H

#include <stdint.h>

/* 0 and *out (Unix seconds), or -1 with *cause saying what was expected. */
int when_parse(const char *s, int64_t now, int64_t *out, char **cause);

#endif
