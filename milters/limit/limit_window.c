/*++
 * NAME
 *	limit_window 3
 * SUMMARY
 *	quota windows, durations and UTC offsets: plain arithmetic
 * DESCRIPTION
 *	See limit_window.h. The calendar conversions are Howard Hinnant's
 *	days_from_civil / civil_from_days (public domain algorithms): exact
 *	for every Gregorian date, no tables, no gmtime(3), so the unit tests
 *	can check month windows for any year without a time zone database.
 *--*/
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "limit_window.h"

#define HOUR_MS		3600000LL
#define MINUTE_MS	60000LL
#define WEEK_MS		(7 * LIMIT_DAY_MS)
#define MONDAY_PHASE_MS	(4 * LIMIT_DAY_MS)	/* 1970-01-05 was a Monday */

/* floordiv - division rounding toward minus infinity (b > 0) */
static long long
floordiv(long long a, long long b)
{
	long long q = a / b;

	if (a % b != 0 && a < 0)
		q--;
	return q;
}

/* limit_days_from_civil - days since 1970-01-01 of y-m-d */
long long
limit_days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* limit_civil_from_days - y-m-d of a day number */
void
limit_civil_from_days(long long days, long long *y, int *m, int *d)
{
	long long z = days + 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* limit_window_name - canonical name of a fixed window length */
static void
limit_window_name(long long len, char *name, size_t namelen)
{
	if (len == HOUR_MS)
		snprintf(name, namelen, "hour");
	else if (len == LIMIT_DAY_MS)
		snprintf(name, namelen, "day");
	else if (len == WEEK_MS)
		snprintf(name, namelen, "week");
	else if (len % LIMIT_DAY_MS == 0)
		snprintf(name, namelen, "%lldd", len / LIMIT_DAY_MS);
	else if (len % HOUR_MS == 0)
		snprintf(name, namelen, "%lldh", len / HOUR_MS);
	else if (len % MINUTE_MS == 0)
		snprintf(name, namelen, "%lldm", len / MINUTE_MS);
	else
		snprintf(name, namelen, "%llds", len / 1000);
}

/* limit_window_parse - "day", "month", "10s", ...; see limit_window.h */
int
limit_window_parse(const char *text, struct limit_window *w, char *name,
		   size_t namelen, const char **why)
{
	long long len;

	memset(w, 0, sizeof(*w));
	if (namelen < LIMIT_WINDOW_NAME_MAX) {
		*why = "internal error: window name buffer too small";
		return -1;
	}
	if (strcmp(text, "month") == 0) {
		w->kind = LIMIT_WIN_MONTH;
		snprintf(name, namelen, "month");
		return 0;
	}
	if (strcmp(text, "hour") == 0)
		len = HOUR_MS;
	else if (strcmp(text, "day") == 0)
		len = LIMIT_DAY_MS;
	else if (strcmp(text, "week") == 0)
		len = WEEK_MS;
	else if (!isdigit((unsigned char)text[0])) {
		*why = "want hour, day, week, month or a duration such as 10s, 5m, 2h, 3d";
		return -1;
	} else if (cfg_parse_time(text, "s", &len, why) < 0) {
		return -1;
	}
	if (len < 1000 || len % 1000 != 0) {
		*why = "a window is a whole number of seconds, at least 1s";
		return -1;
	}
	if (len > LIMIT_WINDOW_MAX_MS) {
		*why = "a window is at most 3660d";
		return -1;
	}
	w->kind = LIMIT_WIN_FIXED;
	w->length_ms = len;
	w->phase_ms = len % WEEK_MS == 0 ? MONDAY_PHASE_MS : 0;
	limit_window_name(len, name, namelen);
	return 0;
}

/* limit_window_bounds - [start, end) of the window holding now_ms */
void
limit_window_bounds(const struct limit_window *w, long long now_ms,
		    long long offset_ms, long long *start_ms, long long *end_ms)
{
	long long local = now_ms + offset_ms;

	if (w->kind == LIMIT_WIN_MONTH) {
		long long y;
		int m, d;

		limit_civil_from_days(floordiv(local, LIMIT_DAY_MS), &y, &m, &d);
		*start_ms = limit_days_from_civil(y, m, 1) * LIMIT_DAY_MS - offset_ms;
		*end_ms = limit_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1)
		    * LIMIT_DAY_MS - offset_ms;
		return;
	}
	*start_ms = floordiv(local - w->phase_ms, w->length_ms) * w->length_ms
	    + w->phase_ms - offset_ms;
	*end_ms = *start_ms + w->length_ms;
}

/* limit_window_id - the window's name in key names; see limit_window.h */
int
limit_window_id(const struct limit_window *w, long long start_ms,
		long long offset_ms, char *buf, size_t len)
{
	long long local = start_ms + offset_ms;
	long long days = floordiv(local, LIMIT_DAY_MS);
	long long ms = local - days * LIMIT_DAY_MS;
	long long y;
	int m, d, n;
	int hh = (int)(ms / HOUR_MS), mm = (int)(ms % HOUR_MS / MINUTE_MS);
	int ss = (int)(ms % MINUTE_MS / 1000);

	limit_civil_from_days(days, &y, &m, &d);
	if (w->kind == LIMIT_WIN_MONTH)
		n = snprintf(buf, len, "%04lld%02d", y, m);
	else if (w->length_ms % LIMIT_DAY_MS == 0)
		n = snprintf(buf, len, "%04lld%02d%02d", y, m, d);
	else if (w->length_ms % HOUR_MS == 0)
		n = snprintf(buf, len, "%04lld%02d%02d%02d", y, m, d, hh);
	else if (w->length_ms % MINUTE_MS == 0)
		n = snprintf(buf, len, "%04lld%02d%02d%02d%02d", y, m, d, hh, mm);
	else
		n = snprintf(buf, len, "%04lld%02d%02d%02d%02d%02d", y, m, d, hh, mm, ss);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* limit_duration_parse - a rate period: "1s", "250ms", or a bare unit "s" */
int
limit_duration_parse(const char *text, long long *ms, const char **why)
{
	char buf[16];

	if (*text != '\0' && !isdigit((unsigned char)*text)) {
		/* "20/s" reads as "20/1s" */
		if (strlen(text) > 4) {
			*why = "unknown time unit (ms, s, m, h, d, w)";
			return -1;
		}
		snprintf(buf, sizeof(buf), "1%s", text);
		text = buf;
	}
	if (cfg_parse_time(text, "s", ms, why) < 0)
		return -1;
	if (*ms <= 0) {
		*why = "a period must be longer than 0";
		return -1;
	}
	return 0;
}

/* limit_duration_format - "3h12m"; rounded up to whole seconds */
char *
limit_duration_format(long long ms, char *buf, size_t len)
{
	long long s = ms <= 0 ? 0 : (ms + 999) / 1000;
	long long big, small;
	const char *u1, *u2;

	if (s < 60) {
		snprintf(buf, len, "%llds", s);
		return buf;
	}
	/* the second unit rounds up too: never suggest a retry too early */
	if (s < 3600) {
		big = s / 60, small = s % 60, u1 = "m", u2 = "s";
	} else if ((s + 59) / 60 < 24 * 60) {
		long long m = (s + 59) / 60;

		big = m / 60, small = m % 60, u1 = "h", u2 = "m";
	} else {
		long long h = (s + 3599) / 3600;

		big = h / 24, small = h % 24, u1 = "d", u2 = "h";
	}
	if (small != 0)
		snprintf(buf, len, "%lld%s%lld%s", big, u1, small, u2);
	else
		snprintf(buf, len, "%lld%s", big, u1);
	return buf;
}

/* limit_utc_offset_parse - "+HH:MM", "-HHMM", "+HH", "Z", "UTC" */
int
limit_utc_offset_parse(const char *text, long long *offset_ms, const char **why)
{
	int sign, hh, mm = 0;
	size_t n = strlen(text);

	*offset_ms = 0;
	if (strcmp(text, "Z") == 0 || strcmp(text, "UTC") == 0
	    || strcmp(text, "0") == 0)
		return 0;
	*why = "want +HH:MM or -HH:MM (a fixed offset from UTC)";
	if (n < 3 || (text[0] != '+' && text[0] != '-'))
		return -1;
	sign = text[0] == '-' ? -1 : 1;
	if (!isdigit((unsigned char)text[1]) || !isdigit((unsigned char)text[2]))
		return -1;
	hh = (text[1] - '0') * 10 + (text[2] - '0');
	text += 3;
	if (*text == ':')
		text++;
	if (*text != '\0') {
		if (strlen(text) != 2 || !isdigit((unsigned char)text[0])
		    || !isdigit((unsigned char)text[1]))
			return -1;
		mm = (text[0] - '0') * 10 + (text[1] - '0');
	}
	if (mm > 59 || hh * 60 + mm > 14 * 60) {
		*why = "an offset from UTC is at most 14:00 either way";
		return -1;
	}
	*offset_ms = sign * ((long long)hh * HOUR_MS + (long long)mm * MINUTE_MS);
	return 0;
}
