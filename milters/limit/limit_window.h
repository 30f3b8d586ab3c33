/*++
 * NAME
 *	limit_window 3h
 * SUMMARY
 *	quota windows, durations and UTC offsets: plain arithmetic
 * SYNOPSIS
 *	#include "limit_window.h"
 * DESCRIPTION
 *	A quota counts within a window of time. Two kinds:
 *
 *	Fixed windows of any length, aligned to the epoch shifted by the
 *	configured UTC offset: a window of length L holding the instant t
 *	starts at floor((t + off - phase) / L) * L + phase - off. "hour" and
 *	"day" (and "2h", "10s", ...) therefore start on the local hour and
 *	at local midnight. Lengths that are whole weeks ("week", "1w",
 *	"14d") have phase = 4 days, so that they start on Monday 00:00 (the
 *	epoch was a Thursday). A length that does not divide a day (say
 *	"7h") is aligned to the epoch, not to midnight.
 *
 *	Calendar months ("month"): from the first of a month, 00:00 local
 *	time, to the first of the next.
 *
 *	Offsets are fixed ("+02:00"); zones with daylight saving time are not
 *	supported (limit_params.c says why).
 *
 *	limit_window_parse() reads "hour", "day", "week", "month" or a
 *	duration ("10s", "5m", "2h", "3d", "1w"; whole seconds, 1 s up to
 *	LIMIT_WINDOW_MAX_MS) and writes the canonical name used in key names
 *	and logs ("day" for "1d" and "24h", "hour", "week", "month",
 *	otherwise the largest exact unit: "90s", "10m", "36h", "14d").
 *
 *	limit_window_bounds() gives the window holding now_ms as [start, end)
 *	in UTC milliseconds. limit_window_id() names a window by the local
 *	time of its start: "202611" for a month, "20261123" for whole days,
 *	"2026112311" for whole hours, "202611231140" for whole minutes,
 *	"20261123114010" otherwise; with the canonical name in the key, the
 *	pair is unique.
 *
 *	limit_duration_parse() reads a rate period: "1s", "250ms", "1m", or
 *	a bare unit ("s", "m", "h", "d"). limit_duration_format() writes a
 *	wait for people, rounded up to whole seconds, two units at most:
 *	"1s", "45s", "5m", "1m30s", "3h12m", "2d3h".
 *
 *	limit_utc_offset_parse() reads "+HH:MM", "-HH:MM", "+HHMM", "+HH",
 *	"Z" or "UTC" (-14:00 .. +14:00).
 *
 *	limit_days_from_civil() and limit_civil_from_days() convert between
 *	a proleptic Gregorian date and days since 1970-01-01 (no time zone,
 *	no clock, no libc tables).
 *
 *	Parsers return 0, or -1 with *why set to a static message.
 * THREAD SAFETY
 *	Everything is reentrant and reads no clock.
 *--*/
#ifndef POSTMILL_LIMIT_WINDOW_H
#define POSTMILL_LIMIT_WINDOW_H

#include <stddef.h>

#define LIMIT_DAY_MS		86400000LL
#define LIMIT_WINDOW_MAX_MS	(3660LL * LIMIT_DAY_MS)	/* ten years */
#define LIMIT_OFFSET_MAX_MS	(14LL * 3600000)
#define LIMIT_WINDOW_NAME_MAX	16

enum limit_window_kind {
	LIMIT_WIN_FIXED,
	LIMIT_WIN_MONTH,
};

struct limit_window {
	enum limit_window_kind kind;
	long long	length_ms;	/* FIXED */
	long long	phase_ms;	/* FIXED: 4 days for whole weeks, else 0 */
};

int	limit_window_parse(const char *text, struct limit_window *w,
			   char *name, size_t namelen, const char **why);
void	limit_window_bounds(const struct limit_window *w, long long now_ms,
			    long long offset_ms, long long *start_ms,
			    long long *end_ms);
int	limit_window_id(const struct limit_window *w, long long start_ms,
			long long offset_ms, char *buf, size_t len);
int	limit_duration_parse(const char *text, long long *ms, const char **why);
char   *limit_duration_format(long long ms, char *buf, size_t len);
int	limit_utc_offset_parse(const char *text, long long *offset_ms,
			       const char **why);
long long limit_days_from_civil(long long y, int m, int d);
void	limit_civil_from_days(long long days, long long *y, int *m, int *d);

#endif
