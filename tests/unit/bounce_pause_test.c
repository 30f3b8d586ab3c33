/*++
 * NAME
 *	bounce_pause_test 1
 * SUMMARY
 *	unit tests of a tenant's rolling rates, review and pause against a
 *	real redis-server (milters/bounce/bounce_pause.c)
 * DESCRIPTION
 *	Steps of one tenant in a table (sent or outcome at a time, the
 *	state and counts wanted after it): the minimum volume, review and
 *	pause just above their thresholds (never at them), a pause said
 *	once, slots that leave the window, resume. Then 8 threads counting
 *	at once: the totals are exact and exactly one call pauses. The
 *	message record names its tenant. Skips without redis-server.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "redis.h"
#include "redis_fixture.h"
#include "../../milters/bounce/bounce_pause.h"
#include "../../milters/bounce/bounce_store.h"

#define PFX	"pmbounce:"
#define T0	1700000000000LL		/* ms, at a slot boundary of 1h */
#define HOUR	3600000LL

static struct redis_fixture rf;
static bool have_redis;
static char fixture_err[256];
static struct redis_pool *pool;

static const struct bounce_pause_conf conf = {
	.window_ms = 24 * HOUR, .min_volume = 100,
	.review_bounce_ppm = 50000, .review_complaint_ppm = 1000,
	.pause_bounce_ppm = 100000, .pause_complaint_ppm = 5000,
};

#define NEED_REDIS() do { \
	if (!have_redis) { \
		fprintf(stderr, "    redis-server not available: %s\n", fixture_err); \
		skip(); \
	} \
} while (0)

/* steps: op 's' sent n, 'o' outcome (hard, compl), 'g' get, 'r' resume */
static const struct {
	const char *name;
	char	 op;
	long long at, n, hard, compl;
	const char *state;
	int	 changed;
	long long sent, h, c;
} steps[] = {
	{"sent 99", 's', T0, 99, 0, 0, "ok", 0, 0, 0, 0},
	{"below volume: 50% is nothing", 'o', T0, 0, 50, 0, "ok", 0, 99, 50, 0},
	{"resume clears", 'r', T0, 0, 0, 0, "ok", 0, 0, 0, 0},
	{"sent 100", 's', T0 + 1, 100, 0, 0, "ok", 0, 0, 0, 0},
	{"5 hard: at review, not above", 'o', T0 + 2, 0, 5, 0, "ok", 0, 100, 5, 0},
	{"6 hard: review", 'o', T0 + 3, 0, 1, 0, "review", 1, 100, 6, 0},
	{"review said once", 'o', T0 + 4, 0, 0, 0, "review", 0, 100, 6, 0},
	{"10 hard: at pause", 'o', T0 + 5, 0, 4, 0, "review", 0, 100, 10, 0},
	{"11 hard: paused", 'o', T0 + 6, 0, 1, 0, "paused", 1, 100, 11, 0},
	{"paused said once", 'o', T0 + 7, 0, 1, 1, "paused", 0, 100, 12, 1},
	{"an hour later, same window", 'g', T0 + HOUR, 0, 0, 0, "paused", 0, 100, 12, 1},
	{"23h later, still in", 'g', T0 + 23 * HOUR, 0, 0, 0, "paused", 0, 100, 12, 1},
	{"24h later, the slot left", 'g', T0 + 24 * HOUR, 0, 0, 0, "paused", 0, 0, 0, 0},
	{"resume", 'r', T0 + 24 * HOUR, 0, 0, 0, "ok", 0, 0, 0, 0},
	{"after resume", 'g', T0 + 24 * HOUR, 0, 0, 0, "ok", 0, 0, 0, 0},
	{"sent 1000 later", 's', T0 + 30 * HOUR, 1000, 0, 0, "ok", 0, 0, 0, 0},
	{"6 complaints: paused (0.6%)", 'o', T0 + 30 * HOUR, 0, 0, 6, "paused", 1, 1000, 0, 6},
};

/* test_steps - every row of steps, in order */
static void
test_steps(void **state)
{
	NEED_REDIS();
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct bounce_pause_status st;
		const char *err = NULL;
		int rc;

		memset(&st, 0, sizeof(st));
		switch (steps[i].op) {
		case 's':
			rc = bounce_pause_sent(pool, PFX, "acme.test", NULL, steps[i].n, &conf,
					       steps[i].at, &err);
			if (rc < 0)
				tcase_bad(steps[i].name, "got %s", err);
			continue;
		case 'r':
			rc = bounce_pause_resume(pool, PFX, "acme.test", &err);
			if (rc < 0)
				tcase_bad(steps[i].name, "got %s", err);
			continue;
		case 'o':
			rc = bounce_pause_outcome(pool, PFX, PFX "events", 1000, "acme.test",
						  steps[i].hard, steps[i].compl, &conf,
						  steps[i].at, &st, &err);
			break;
		default:
			rc = bounce_pause_get(pool, PFX, "acme.test", &conf, steps[i].at, &st, &err);
			break;
		}
		if (rc < 0 || strcmp(bounce_pause_state_name(st.state), steps[i].state) != 0
		    || st.changed != steps[i].changed || st.sent != steps[i].sent
		    || st.hard != steps[i].h || st.complaints != steps[i].c)
			tcase_bad(steps[i].name, "got rc %d %s changed=%d sent=%lld hard=%lld "
				  "compl=%lld, want %s changed=%d sent=%lld hard=%lld compl=%lld",
				  rc, bounce_pause_state_name(st.state), st.changed, st.sent,
				  st.hard, st.complaints, steps[i].state, steps[i].changed,
				  steps[i].sent, steps[i].h, steps[i].c);
	}
	tcase_done();
}

#define NTHREADS	8
#define PER_THREAD	25

static int paused_calls[NTHREADS], failures[NTHREADS];

/* worker - PER_THREAD times: sent 4, then one hard bounce */
static void *
worker(void *arg)
{
	int k = (int)(intptr_t)arg;

	for (int i = 0; i < PER_THREAD; i++) {
		struct bounce_pause_status st;
		const char *err;

		if (bounce_pause_sent(pool, PFX, "conc.test", NULL, 4, &conf, T0, &err) < 0
		    || bounce_pause_outcome(pool, PFX, PFX "events", 1000, "conc.test", 1, 0,
					    &conf, T0, &st, &err) < 0) {
			failures[k]++;
			continue;
		}
		if (st.changed && st.state == BOUNCE_PAUSE_PAUSED)
			paused_calls[k]++;
	}
	return NULL;
}

/* test_concurrent - exact totals, one pause */
static void
test_concurrent(void **state)
{
	pthread_t t[NTHREADS];
	struct bounce_pause_status st;
	const char *err;
	int paused = 0, failed = 0;

	NEED_REDIS();
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i), 0);
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		paused += paused_calls[i];
		failed += failures[i];
	}
	assert_int_equal(failed, 0);
	assert_int_equal(bounce_pause_get(pool, PFX, "conc.test", &conf, T0, &st, &err), 0);
	assert_int_equal(st.sent, 4 * NTHREADS * PER_THREAD);
	assert_int_equal(st.hard, NTHREADS * PER_THREAD);
	assert_int_equal(st.state, BOUNCE_PAUSE_PAUSED);
	assert_int_equal(paused, 1);
}

/* test_tenant_of - the record names its tenant; no record, no tenant */
static void
test_tenant_of(void **state)
{
	char t[300];
	const char *err;

	NEED_REDIS();
	assert_int_equal(bounce_store_save_message(pool, PFX, "cc01", "a@acme.test", "Q1",
						   "r@x.test", 1, NULL, NULL, T0, 60000, &err), 0);
	assert_int_equal(bounce_pause_sent(pool, PFX, "acme.test", "cc01", 1, &conf, T0, &err), 0);
	assert_int_equal(bounce_pause_tenant_of(pool, PFX, "cc01", t, sizeof(t), &err), 1);
	assert_string_equal(t, "acme.test");
	assert_int_equal(bounce_pause_sent(pool, PFX, "acme.test", "cc02", 1, &conf, T0, &err), 0);
	assert_int_equal(bounce_pause_tenant_of(pool, PFX, "cc02", t, sizeof(t), &err), 0);
}

/*
 * test_outcome_once - each (class, recipient) of a message counts once:
 * a second DSN for the same recipient, or the same report twice, adds
 * nothing; another recipient or the other class does; a rate never
 * exceeds what was sent
 */
static void
test_outcome_once(void **state)
{
	static const struct {
		const char *name;
		const char *marks[3];
		size_t	 n;
		long long want_hard, want_compl;	/* totals after the row */
	} rows[] = {
		{"first hard", {"h:a@x.test"}, 1, 1, 0},
		{"the same DSN again", {"h:a@x.test"}, 1, 1, 0},
		{"a complaint about a", {"c:a@x.test"}, 1, 1, 1},
		{"the complaint again, and b", {"c:a@x.test", "h:b@x.test"}, 2, 2, 1},
		{"all again", {"h:a@x.test", "h:b@x.test", "c:a@x.test"}, 3, 2, 1},
	};
	struct bounce_pause_status st;
	const char *err;

	NEED_REDIS();
	assert_int_equal(bounce_store_save_message(pool, PFX, "dd01", "n@once.test", "Q2",
						   "a@x.test,b@x.test", 2, "", "once.test", T0, 60000, &err), 0);
	assert_int_equal(bounce_pause_sent(pool, PFX, "once.test", "dd01", 2, &conf, T0, &err), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(bounce_pause_outcome_once(pool, PFX, PFX "events", 1000, "once.test",
							   "dd01", rows[i].marks, rows[i].n, &conf,
							   T0, &st, &err), 0);
		if (st.sent != 2 || st.hard != rows[i].want_hard || st.complaints != rows[i].want_compl)
			tcase_bad(rows[i].name, "got sent=%lld hard=%lld complaints=%lld, want "
				  "sent=2 hard=%lld complaints=%lld", st.sent, st.hard, st.complaints,
				  rows[i].want_hard, rows[i].want_compl);
	}
	tcase_done();
}

/* group_setup - one server, one pool */
static int
group_setup(void **state)
{
	(void)state;
	log_open("bounce_pause_test", false);
	if (!redis_fixture_available()) {
		snprintf(fixture_err, sizeof(fixture_err), "not installed");
		return 0;
	}
	if (redis_fixture_start_pool(&rf, 5000, 10000, NTHREADS, &pool, fixture_err,
				     sizeof(fixture_err)) < 0)
		return 0;
	have_redis = true;
	return 0;
}

/* group_teardown - stop it, by pid */
static int
group_teardown(void **state)
{
	(void)state;
	if (have_redis) {
		redis_fixture_stop_pool(&rf, &pool);
	}
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_tenant_of),
		cmocka_unit_test(test_outcome_once),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
