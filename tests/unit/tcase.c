/*
 * tcase - shared helpers for the table-driven cmocka tests (see tcase.h).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <cmocka.h>

#include "tcase.h"

static int tcase_nfail;

/* tcase_bad - report one failed row and carry on */
void
tcase_bad(const char *name, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "    %s: ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	tcase_nfail++;
}

/* tcase_done - fail the test if any row failed */
void
tcase_done(void)
{
	int n = tcase_nfail;

	tcase_nfail = 0;
	if (n != 0)
		fail_msg("%d case(s) failed", n);
}

/* tcase_now_ms - monotonic milliseconds */
long long
tcase_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* tcase_sleep_ms - nap, resumed after signals */
void
tcase_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		/* again */ ;
}
