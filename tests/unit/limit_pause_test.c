/*++
 * NAME
 *	limit_pause_test 1
 * SUMMARY
 *	unit tests of postmill-limit's paused-tenant check against a real
 *	redis-server (milters/limit/limit_pause.c)
 * DESCRIPTION
 *	Pauses are written by postmill-bounce's own code (bounce_pause.c,
 *	through a real threshold), so the key names of the two milters are
 *	checked against each other. Rows: which login and sender find
 *	which tenant (login first, the domain without case, a review is no
 *	pause, a subdomain is not the domain, the null sender). The reply
 *	text: no '%', no control characters. Skips without redis-server.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "redis.h"
#include "redis_fixture.h"
#include "../../milters/bounce/bounce_pause.h"
#include "../../milters/limit/limit_pause.h"

#define PFX	"pmbounce:"
#define T0	1700000000000LL

static struct redis_fixture rf;
static bool have_redis;
static char fixture_err[256];
static struct redis_pool *pool;

static const struct bounce_pause_conf conf = {
	.window_ms = 86400000, .min_volume = 10,
	.review_bounce_ppm = 50000, .review_complaint_ppm = 1000,
	.pause_bounce_ppm = 100000, .pause_complaint_ppm = 5000,
};

/* drive - 100 sent and HARD hard bounces, with bounce_pause.c's own calls */
static void
drive(const char *tenant, long long hard)
{
	struct bounce_pause_status st;
	const char *err;

	assert_int_equal(bounce_pause_sent(pool, PFX, tenant, NULL, 100, &conf, T0, &err), 0);
	assert_int_equal(bounce_pause_outcome(pool, PFX, PFX "events", 100, tenant, hard, 0,
					      &conf, T0, &st, &err), 0);
}

static const struct {
	const char *name, *login, *sender;
	int	 want;
	const char *tenant;
} rows[] = {
	{"paused domain", NULL, "a@paused.test", 1, "paused.test"},
	{"paused domain, any case, in <>", NULL, "<A@PAUSED.Test>", 1, "paused.test"},
	{"paused login", "Bob", "a@fine.test", 1, "login:bob"},
	{"login first", "bob", "a@paused.test", 1, "login:bob"},
	{"review is not a pause", NULL, "a@review.test", 0, NULL},
	{"subdomain is not the domain", NULL, "a@mail.paused.test", 0, NULL},
	{".DOMAIN tenant paused", NULL, "a@mail.wild.test", 1, ".wild.test"},
	{".DOMAIN, deeper", NULL, "a@x.y.mail.wild.test", 1, ".wild.test"},
	{".DOMAIN is not DOMAIN", NULL, "a@wild.test", 0, NULL},
	{"a known tenant under a paused parent", NULL, "a@own.wild.test", 0, NULL},
	{"below it, the known tenant's parent", NULL, "a@x.own.wild.test", 1, ".wild.test"},
	{"a known login decides", "carol", "a@mail.wild.test", 0, NULL},
	{"unknown", "eve", "a@fine.test", 0, NULL},
	{"null sender", NULL, "<>", 0, NULL},
	{"nothing", NULL, NULL, 0, NULL},
};

/* test_check - every row */
static void
test_check(void **state)
{
	if (!have_redis) {
		fprintf(stderr, "    redis-server not available: %s\n", fixture_err);
		skip();
	}
	drive("paused.test", 20);
	drive("login:bob", 20);
	drive("review.test", 6);
	drive(".wild.test", 20);
	drive("own.wild.test", 0);	/* sent, not paused */
	drive("login:carol", 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct limit_pause lp;
		const char *err = NULL;
		int r = limit_pause_check(pool, PFX, rows[i].login, rows[i].sender, &lp, &err);

		if (r != rows[i].want || (r == 1 && strcmp(lp.tenant, rows[i].tenant) != 0))
			tcase_bad(rows[i].name, "got %d %s (%s), want %d %s", r, lp.tenant,
				  err ? err : "", rows[i].want, rows[i].tenant ? rows[i].tenant : "");
		if (r == 1 && strstr(lp.reason, "bounce rate 20.00% (20/100) above 10%") == NULL)
			tcase_bad(rows[i].name, "reason \"%s\"", lp.reason);
	}
	tcase_done();
}

/* test_text - the reply text carries no '%' nor control characters */
static void
test_text(void **state)
{
	struct limit_pause lp;
	char out[600];

	memset(&lp, 0, sizeof(lp));
	snprintf(lp.tenant, sizeof(lp.tenant), "acme.test");
	snprintf(lp.reason, sizeof(lp.reason), "bounce rate 12.00%% (6/50)\r\nabove 10%%");
	limit_pause_text(&lp, out, sizeof(out));
	assert_string_equal(out, "Sending paused for acme.test (bounce rate 12.00 percent (6/50)??"
			    "above 10 percent); contact your mail provider to resume");
	lp.reason[0] = '\0';
	limit_pause_text(&lp, out, sizeof(out));
	assert_non_null(strstr(out, "(by the operator)"));
}

/* group_setup - one server, one pool */
static int
group_setup(void **state)
{
	(void)state;
	log_open("limit_pause_test", false);
	if (!redis_fixture_available()) {
		snprintf(fixture_err, sizeof(fixture_err), "not installed");
		return 0;
	}
	if (redis_fixture_start_pool(&rf, 5000, 10000, 0, &pool, fixture_err,
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
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
