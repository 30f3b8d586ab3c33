/*++
 * NAME
 *	limit_window_test 1
 * SUMMARY
 *	unit tests of the window arithmetic (milters/limit/limit_window.c)
 * DESCRIPTION
 *	Tables: civil dates against known day numbers and a round trip over
 *	a million days; window names (canonical forms, bad ones with their
 *	reason); window bounds and ids for hour, day, week, month and short
 *	windows, with UTC offsets either way, across month, year and leap-day
 *	edges, and at the exact first and last millisecond of a window;
 *	durations for rate periods; the retry texts; UTC offsets. Instants
 *	in the tables are written as UTC text and read with timegm(3), which
 *	is independent of the code under test.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../milters/limit/limit_window.h"

/* ms - "2026-11-23T11:40:10.250" (UTC) as epoch milliseconds */
static long long
ms(const char *text)
{
	struct tm tm;
	int msec = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(text, "%d-%d-%dT%d:%d:%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &msec) < 6)
		fail_msg("bad instant in the table: %s", text);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm) * 1000 + msec;
}

/* test_civil - day numbers of known dates, and a round trip */
static void
test_civil(void **state)
{
	static const struct {
		long long y;
		int m, d;
		long long days;
	} cases[] = {
		{1970, 1, 1, 0}, {1969, 12, 31, -1}, {2000, 3, 1, 11017},
		{2026, 11, 23, 20780}, {2100, 2, 28, 47540}, {2024, 2, 29, 19782},
		{1600, 3, 1, -135080},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long got = limit_days_from_civil(cases[i].y, cases[i].m, cases[i].d);
		long long y;
		int m, d;

		if (got != cases[i].days)
			tcase_bad("days_from_civil", "%lld-%d-%d: got %lld, want %lld",
				  cases[i].y, cases[i].m, cases[i].d, got, cases[i].days);
		limit_civil_from_days(cases[i].days, &y, &m, &d);
		if (y != cases[i].y || m != cases[i].m || d != cases[i].d)
			tcase_bad("civil_from_days", "%lld: got %lld-%d-%d, want %lld-%d-%d",
				  cases[i].days, y, m, d, cases[i].y, cases[i].m, cases[i].d);
	}
	for (long long days = -500000; days < 500000; days++) {
		long long y;
		int m, d;

		limit_civil_from_days(days, &y, &m, &d);
		if (limit_days_from_civil(y, m, d) != days || m < 1 || m > 12
		    || d < 1 || d > 31) {
			tcase_bad("round trip", "day %lld: got %lld-%d-%d", days, y, m, d);
			break;
		}
	}
	tcase_done();
}

/* test_parse - window names */
static void
test_parse(void **state)
{
	static const struct {
		const char *text;
		const char *want_name;	/* NULL: an error containing want_why */
		const char *want_why;
		long long len;
	} cases[] = {
		{"hour", "hour", NULL, 3600000},
		{"day", "day", NULL, 86400000},
		{"week", "week", NULL, 604800000},
		{"month", "month", NULL, 0},
		{"1d", "day", NULL, 86400000},
		{"24h", "day", NULL, 86400000},
		{"60m", "hour", NULL, 3600000},
		{"1w", "week", NULL, 604800000},
		{"7d", "week", NULL, 604800000},
		{"14d", "14d", NULL, 14 * 86400000LL},
		{"10s", "10s", NULL, 10000},
		{"90s", "90s", NULL, 90000},
		{"120s", "2m", NULL, 120000},
		{"36h", "36h", NULL, 36 * 3600000LL},
		{"1", "1s", NULL, 1000},
		{"3660d", "3660d", NULL, 3660 * 86400000LL},
		{"3661d", NULL, "at most", 0},
		{"500ms", NULL, "whole number of seconds", 0},
		{"1500ms", NULL, "whole number of seconds", 0},
		{"0s", NULL, "at least 1s", 0},
		{"", NULL, "want hour", 0},
		{"days", NULL, "want hour", 0},
		{"Day", NULL, "want hour", 0},
		{"10x", NULL, "unknown time unit", 0},
		{"-5s", NULL, "want hour", 0},
		{"99999999999999999999d", NULL, "", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct limit_window w;
		char name[LIMIT_WINDOW_NAME_MAX];
		const char *why = NULL;
		int rc = limit_window_parse(cases[i].text, &w, name, sizeof(name), &why);

		if (cases[i].want_name == NULL) {
			if (rc == 0)
				tcase_bad(cases[i].text, "got \"%s\", want an error", name);
			else if (why == NULL || strstr(why, cases[i].want_why) == NULL)
				tcase_bad(cases[i].text, "got \"%s\", want \"%s\"",
					  why ? why : "(null)", cases[i].want_why);
			continue;
		}
		if (rc < 0) {
			tcase_bad(cases[i].text, "got error \"%s\", want %s", why,
				  cases[i].want_name);
			continue;
		}
		if (strcmp(name, cases[i].want_name) != 0)
			tcase_bad(cases[i].text, "got name \"%s\", want \"%s\"", name,
				  cases[i].want_name);
		if (cases[i].len != 0 && w.length_ms != cases[i].len)
			tcase_bad(cases[i].text, "got length %lld, want %lld", w.length_ms,
				  cases[i].len);
	}
	tcase_done();
}

/* test_bounds - the window holding an instant, and its id */
static void
test_bounds(void **state)
{
	static const struct {
		const char *name;
		const char *window;
		const char *now;
		const char *offset;
		const char *start, *end;	/* UTC */
		const char *id;
	} cases[] = {
		{"day utc", "day", "2026-11-23T11:40:10.250", "+00:00",
		 "2026-11-23T00:00:00", "2026-11-24T00:00:00", "20261123"},
		{"day first ms", "day", "2026-11-23T00:00:00.000", "Z",
		 "2026-11-23T00:00:00", "2026-11-24T00:00:00", "20261123"},
		{"day last ms", "day", "2026-11-23T23:59:59.999", "Z",
		 "2026-11-23T00:00:00", "2026-11-24T00:00:00", "20261123"},
		{"day +02:00 before local midnight", "day", "2026-11-23T21:59:59.999", "+02:00",
		 "2026-11-22T22:00:00", "2026-11-23T22:00:00", "20261123"},
		{"day +02:00 at local midnight", "day", "2026-11-23T22:00:00.000", "+02:00",
		 "2026-11-23T22:00:00", "2026-11-24T22:00:00", "20261124"},
		{"day -05:30", "day", "2026-11-23T03:00:00", "-05:30",
		 "2026-11-22T05:30:00", "2026-11-23T05:30:00", "20261122"},
		{"hour", "hour", "2026-11-23T11:40:10", "Z",
		 "2026-11-23T11:00:00", "2026-11-23T12:00:00", "2026112311"},
		{"hour, half-hour offset", "hour", "2026-11-23T11:40:10", "+05:30",
		 "2026-11-23T11:30:00", "2026-11-23T12:30:00", "2026112317"},
		{"week starts monday", "week", "2026-11-23T11:40:10", "Z",
		 "2026-11-23T00:00:00", "2026-11-30T00:00:00", "20261123"},
		{"week, sunday", "week", "2026-11-22T23:59:59", "Z",
		 "2026-11-16T00:00:00", "2026-11-23T00:00:00", "20261116"},
		{"7d is a week", "7d", "2026-11-25T00:00:00", "Z",
		 "2026-11-23T00:00:00", "2026-11-30T00:00:00", "20261123"},
		{"month", "month", "2026-11-23T11:40:10", "Z",
		 "2026-11-01T00:00:00", "2026-12-01T00:00:00", "202611"},
		{"december", "month", "2026-12-31T23:59:59.999", "Z",
		 "2026-12-01T00:00:00", "2027-01-01T00:00:00", "202612"},
		{"january", "month", "2027-01-01T00:00:00", "Z",
		 "2027-01-01T00:00:00", "2027-02-01T00:00:00", "202701"},
		{"leap february", "month", "2024-02-29T12:00:00", "Z",
		 "2024-02-01T00:00:00", "2024-03-01T00:00:00", "202402"},
		{"plain february", "month", "2026-02-28T12:00:00", "Z",
		 "2026-02-01T00:00:00", "2026-03-01T00:00:00", "202602"},
		{"month +14:00: already next month", "month", "2026-11-30T10:00:00", "+14:00",
		 "2026-11-30T10:00:00", "2026-12-31T10:00:00", "202612"},
		{"month -12:00: still last month", "month", "2026-12-01T11:59:59", "-12:00",
		 "2026-11-01T12:00:00", "2026-12-01T12:00:00", "202611"},
		{"10s", "10s", "2026-11-23T11:40:19.999", "Z",
		 "2026-11-23T11:40:10", "2026-11-23T11:40:20", "20261123114010"},
		{"10s at boundary", "10s", "2026-11-23T11:40:20.000", "Z",
		 "2026-11-23T11:40:20", "2026-11-23T11:40:30", "20261123114020"},
		{"5m", "5m", "2026-11-23T11:44:59", "Z",
		 "2026-11-23T11:40:00", "2026-11-23T11:45:00", "202611231140"},
		{"2h, offset", "2h", "2026-11-23T11:40:10", "+01:00",
		 "2026-11-23T11:00:00", "2026-11-23T13:00:00", "2026112312"},
		{"before the epoch", "day", "1969-12-31T12:00:00", "Z",
		 "1969-12-31T00:00:00", "1970-01-01T00:00:00", "19691231"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct limit_window w;
		char name[LIMIT_WINDOW_NAME_MAX], id[32];
		const char *why;
		long long off, start, end;

		if (limit_window_parse(cases[i].window, &w, name, sizeof(name), &why) < 0
		    || limit_utc_offset_parse(cases[i].offset, &off, &why) < 0) {
			tcase_bad(cases[i].name, "table error: %s", why);
			continue;
		}
		limit_window_bounds(&w, ms(cases[i].now), off, &start, &end);
		if (start != ms(cases[i].start) || end != ms(cases[i].end))
			tcase_bad(cases[i].name, "got [%lld, %lld), want [%lld, %lld) (%s, %s)",
				  start, end, ms(cases[i].start), ms(cases[i].end),
				  cases[i].start, cases[i].end);
		if (limit_window_id(&w, start, off, id, sizeof(id)) < 0
		    || strcmp(id, cases[i].id) != 0)
			tcase_bad(cases[i].name, "got id \"%s\", want \"%s\"", id, cases[i].id);
	}
	tcase_done();
}

/* test_bounds_sweep - every instant lies in its window; windows tile time */
static void
test_bounds_sweep(void **state)
{
	static const char *const windows[] = {"1s", "10s", "7m", "hour", "day", "week",
					      "month", "3d", "7h"};
	static const char *const offsets[] = {"Z", "+02:00", "-09:30", "+14:00"};
	long long base = ms("2026-01-01T00:00:00");

	for (size_t a = 0; a < sizeof(windows) / sizeof(windows[0]); a++) {
		for (size_t b = 0; b < sizeof(offsets) / sizeof(offsets[0]); b++) {
			struct limit_window w;
			char name[LIMIT_WINDOW_NAME_MAX];
			const char *why;
			long long off, start, end, next_start, next_end;
			long long prev_start = 0, prev_end = 0;

			limit_window_parse(windows[a], &w, name, sizeof(name), &why);
			limit_utc_offset_parse(offsets[b], &off, &why);
			/* about 400 days in irregular steps */
			for (long long t = base; t < base + 400 * 86400000LL; t += 9876543) {
				limit_window_bounds(&w, t, off, &start, &end);
				if (!(start <= t && t < end)) {
					tcase_bad(windows[a], "offset %s: %lld not in [%lld, %lld)",
						  offsets[b], t, start, end);
					break;
				}
				if (prev_end != 0 && !(start == prev_start && end == prev_end)
				    && start < prev_end) {
					tcase_bad(windows[a], "offset %s: windows overlap at %lld",
						  offsets[b], t);
					break;
				}
				limit_window_bounds(&w, end, off, &next_start, &next_end);
				if (next_start != end || next_end <= end) {
					tcase_bad(windows[a], "offset %s: next window starts at "
						  "%lld, want %lld", offsets[b], next_start, end);
					break;
				}
				prev_start = start;
				prev_end = end;
			}
		}
	}
	tcase_done();
}

/* test_duration - rate periods */
static void
test_duration(void **state)
{
	static const struct {
		const char *text;
		long long want;		/* -1: error */
	} cases[] = {
		{"1s", 1000}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
		{"250ms", 250}, {"ms", 1}, {"10", 10000}, {"2m", 120000},
		{"0s", -1}, {"", -1}, {"x", -1}, {"secs", -1}, {"1y", -1}, {"-1s", -1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long got = -1;
		const char *why = NULL;
		int rc = limit_duration_parse(cases[i].text, &got, &why);

		if (cases[i].want < 0 && rc == 0)
			tcase_bad(cases[i].text, "got %lld, want an error", got);
		else if (cases[i].want >= 0 && (rc < 0 || got != cases[i].want))
			tcase_bad(cases[i].text, "got %lld (%s), want %lld", got,
				  rc < 0 ? why : "ok", cases[i].want);
	}
	tcase_done();
}

/* test_format - retry texts */
static void
test_format(void **state)
{
	static const struct {
		long long ms;
		const char *want;
	} cases[] = {
		{-5, "0s"}, {0, "0s"}, {1, "1s"}, {999, "1s"}, {1000, "1s"}, {1001, "2s"},
		{59000, "59s"}, {60000, "1m"}, {90000, "1m30s"}, {3599000, "59m59s"},
		{3600000, "1h"}, {11520000, "3h12m"}, {11521000, "3h13m"},
		{3600001, "1h1m"}, {86400000, "1d"}, {86400001, "1d1h"},
		{183600000, "2d3h"}, {31 * 86400000LL, "31d"}, {86340000, "23h59m"},
		{86399000, "1d"}, {86399001, "1d"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[32];

		limit_duration_format(cases[i].ms, buf, sizeof(buf));
		if (strcmp(buf, cases[i].want) != 0)
			tcase_bad(cases[i].want, "%lld ms: got \"%s\", want \"%s\"",
				  cases[i].ms, buf, cases[i].want);
	}
	tcase_done();
}

/* test_offset - UTC offsets */
static void
test_offset(void **state)
{
	static const struct {
		const char *text;
		long long want_min;
		bool ok;
	} cases[] = {
		{"+00:00", 0, true}, {"Z", 0, true}, {"UTC", 0, true}, {"0", 0, true},
		{"+02:00", 120, true}, {"-05:30", -330, true}, {"+0545", 345, true},
		{"+14", 840, true}, {"-14:00", -840, true}, {"+14:01", 0, false},
		{"+1:00", 0, false}, {"02:00", 0, false}, {"+02:60", 0, false},
		{"+02:0", 0, false}, {"", 0, false}, {"+", 0, false},
		{"Europe/Berlin", 0, false}, {"+02:00x", 0, false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long off = 12345;
		const char *why = NULL;
		int rc = limit_utc_offset_parse(cases[i].text, &off, &why);

		if (cases[i].ok && (rc < 0 || off != cases[i].want_min * 60000))
			tcase_bad(cases[i].text, "got %s %lld, want %lld min", rc < 0 ? why : "",
				  off, cases[i].want_min);
		else if (!cases[i].ok && rc == 0)
			tcase_bad(cases[i].text, "got %lld, want an error", off);
	}
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_civil),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_bounds_sweep),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_offset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
