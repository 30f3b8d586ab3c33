/*
 * tcase - shared helpers for the table-driven cmocka tests.
 *
 * tcase_bad() reports one failed table row on stderr ("    name: got X,
 * want Y") and lets the loop carry on, so that one run shows every failing
 * row; tcase_done() then fails the cmocka test if any row failed. The
 * clock helpers serve the fixtures that wait for real servers.
 */
#ifndef POSTMILL_TCASE_H
#define POSTMILL_TCASE_H

void tcase_bad(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tcase_done(void);
long long tcase_now_ms(void);
void tcase_sleep_ms(long ms);

#endif
