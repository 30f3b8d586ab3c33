/*++
 * NAME
 *	milter_sessions_test 1
 * SUMMARY
 *	unit tests of the set of sessions the drain waits for
 * DESCRIPTION
 *	Each row is a sequence of callbacks as an engine may produce them
 *	("C1" = xxfi_connect on context 1, "X1" = xxfi_close on it) and the
 *	number of sessions in progress after it. The rows cover what made
 *	the old counter go negative: close without connect (a bare connect
 *	such as "nc -z"), close twice (QUIT_NC, then the end of the
 *	connection), connect again after QUIT_NC on the same context. A
 *	second test fills the set past its growth steps and checks
 *	milter_sessions_wait() both ways.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "milter_sessions.h"

static char ctxs[10];	/* distinct addresses as session handles */

/* run_ops - apply "C1 X1 ..." to the set */
static void
run_ops(const char *ops)
{
	for (const char *p = ops; *p; p++) {
		if ((*p == 'C' || *p == 'X') && p[1] >= '0' && p[1] <= '9') {
			const void *ctx = &ctxs[p[1] - '0'];

			if (*p == 'C')
				milter_sessions_start(ctx);
			else
				milter_sessions_end(ctx);
			p++;
		}
	}
}

/* test_sequences - callback orders and the sessions left after them */
static void
test_sequences(void **state)
{
	static const struct {
		const char *name, *ops;
		unsigned want;
	} cases[] = {
		{"nothing", "", 0},
		{"one session", "C1", 1},
		{"one session ends", "C1 X1", 0},
		{"bare connects (close without connect)", "X1 X2 X3 X4 X5", 0},
		{"bare connects, then a session", "X1 X2 X3 C4", 1},
		{"QUIT_NC then end of connection", "C1 X1 X1", 0},
		{"QUIT_NC, then a session in progress", "C1 X1 X1 X1 C2", 1},
		{"QUIT_NC, new CONNECT on the same context", "C1 X1 C1", 1},
		{"connect twice without close", "C1 C1", 1},
		{"connect twice, close once", "C1 C1 X1", 0},
		{"two sessions, one ends", "C1 C2 X1", 1},
		{"two sessions, the other ends twice", "C1 C2 X2 X2", 1},
		{"interleaved", "C1 C2 C3 X2 X9 X2 C2 X1 X3", 1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned got;

		run_ops(cases[i].ops);
		got = milter_sessions_count();
		if (got != cases[i].want)
			tcase_bad(cases[i].name, "\"%s\": got %u sessions, want %u",
			    cases[i].ops, got, cases[i].want);
		/* empty the set for the next row */
		run_ops("X0 X1 X2 X3 X4 X5 X6 X7 X8 X9");
		if ((got = milter_sessions_count()) != 0)
			tcase_bad(cases[i].name, "left %u sessions behind", got);
	}
	tcase_done();
}

/* ender - end every session of a large set after a while */
static void *
ender(void *arg)
{
	char *many = arg;

	usleep(50000);
	for (size_t i = 0; i < 5000; i++)
		milter_sessions_end(&many[i]);
	return NULL;
}

/* test_many_and_wait - growth keeps every key; wait() returns when empty */
static void
test_many_and_wait(void **state)
{
	char *many = malloc(5000);
	pthread_t tid;

	(void)state;
	for (size_t i = 0; i < 5000; i++)
		milter_sessions_start(&many[i]);
	for (size_t i = 0; i < 5000; i += 7)
		milter_sessions_start(&many[i]);
	assert_int_equal(milter_sessions_count(), 5000);
	/* nothing ends: wait() gives up after its time with all of them left */
	assert_int_equal(milter_sessions_wait(1), 5000);
	assert_int_equal(pthread_create(&tid, NULL, ender, many), 0);
	/* 60 s only bounds a failure: the ender empties the set long before */
	assert_int_equal(milter_sessions_wait(60), 0);
	pthread_join(tid, NULL);
	assert_int_equal(milter_sessions_count(), 0);
	free(many);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sequences),
		cmocka_unit_test(test_many_and_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
