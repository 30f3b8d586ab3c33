/*++
 * NAME
 *	bounce_store_test 1
 * SUMMARY
 *	unit tests of postmill-bounce's Redis side against a real
 *	redis-server (milters/bounce/bounce_store.c)
 * DESCRIPTION
 *	The group setup starts a redis-server with redis_fixture.c on
 *	127.0.0.1 and a free port. The clock is an argument, so results are
 *	exact:
 *	- message records: saved with the tag's lifetime as TTL, read back,
 *	  "gone" when absent;
 *	- one record call: a stream entry per recipient with every field,
 *	  the sender's counters, a suppression with its reason, diagnostic,
 *	  time and expiry (TTL), none for a reputation block;
 *	- soft bounces: suppressed at the threshold, not before; a delivery
 *	  in between starts the count again; the window is the counter's TTL;
 *	- scopes: an entry of one sender is not another's; domain scope is;
 *	- the RCPT check in one HMGET; add and remove (postmillctl's);
 *	- the stream is trimmed (MAXLEN ~);
 *	- NOSCRIPT after SCRIPT FLUSH; a stopped Redis gives an error.
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

#include "log.h"
#include "redis.h"
#include "redis_fixture.h"
#include "xalloc.h"
#include "../../milters/bounce/bounce_store.h"

#define NOW_MS	1700000000000LL
#define PFX	"pmbounce:"

static struct redis_fixture rf;
static bool have_redis;
static char fixture_err[256];
static struct redis_pool *pool;

#define NEED_REDIS() do { \
	if (!have_redis) { \
		fprintf(stderr, "    redis-server not available: %s\n", fixture_err); \
		skip(); \
	} \
} while (0)

/* cmd - a command that must work; its reply as text */
static char *
cmd(const char *fmt, ...)
{
	const char *err = NULL;
	redisReply *r;
	va_list ap;
	char *s;

	va_start(ap, fmt);
	r = redis_vcommand(pool, &err, fmt, ap);
	va_end(ap);
	if (r == NULL)
		fail_msg("%s: %s", fmt, err);
	s = redis_fixture_reply_text(r);
	freeReplyObject(r);
	return s;
}

/* expect - cmd() equals want, as a table row */
static void
expect(const char *name, const char *want, const char *fmt, const char *a1,
       const char *a2)
{
	char *got = cmd(fmt, a1, a2);

	if (strcmp(got, want) != 0)
		tcase_bad(name, "got \"%s\", want \"%s\"", got, want);
	free(got);
}

/* ev - one event */
static struct bounce_event
ev(const char *rcpt, const char *cls, const char *reason, const char *status,
   bool sup, bool soft, bool reset, long long exp)
{
	struct bounce_event e;

	memset(&e, 0, sizeof(e));
	e.rcpt = rcpt;
	e.cls = cls;
	e.reason = reason;
	e.status = status;
	e.diagnostic = "smtp; 550 5.1.1 no such user";
	e.action = reset ? "delivered" : "failed";
	e.plan.suppress = sup;
	e.plan.soft = soft;
	e.plan.reset = reset;
	e.plan.expiry_ms = exp;
	return e;
}

/* record - one record call for sender (scope s:SENDER) */
static struct bounce_record_result
record(const char *sender, const char *scope, long long now,
       const struct bounce_event *e, size_t n)
{
	struct bounce_record_req req;
	struct bounce_record_result res;
	const char *err = NULL;

	memset(&req, 0, sizeof(req));
	req.prefix = PFX;
	req.stream = PFX "events";
	req.maxlen = 1000;
	req.sender = sender;
	req.scope_tag = scope;
	req.orig_qid = "4ABCDEF";
	req.msgid = "00112233445566778899";
	req.kind = "dsn";
	req.now_ms = now;
	req.soft_threshold = 3;
	req.soft_window_ms = 86400000;
	req.n = n;
	req.ev = e;
	if (bounce_store_record(pool, &req, &res, &err) < 0)
		fail_msg("record: %s", err);
	return res;
}

/* test_message - records of tagged messages */
static void
test_message(void **state)
{
	struct bounce_msgrec rec;
	const char *err;
	char *key, *s;

	NEED_REDIS();
	assert_int_equal(bounce_store_save_message(pool, PFX, "aa00", "alice@a.test",
						   "QID1", "x@b.test,y@b.test", 2, "bob",
						   "login:bob", NOW_MS, 3600000, &err), 0);
	assert_int_equal(bounce_store_load_message(pool, PFX, "aa00", &rec, &err), 1);
	assert_string_equal(rec.login, "bob");
	assert_string_equal(rec.tenant, "login:bob");
	assert_string_equal(rec.sender, "alice@a.test");
	assert_string_equal(rec.qid, "QID1");
	assert_string_equal(rec.rcpts, "x@b.test,y@b.test");
	assert_int_equal(rec.time, NOW_MS / 1000);
	assert_true(rec.rcpts_complete);
	/* the milter kept 2 of 3 recipients: the list is not the whole truth */
	assert_int_equal(bounce_store_save_message(pool, PFX, "aa01", "alice@a.test",
						   "QID2", "x@b.test,y@b.test", 3, NULL, NULL,
						   NOW_MS, 3600000, &err), 0);
	assert_int_equal(bounce_store_load_message(pool, PFX, "aa01", &rec, &err), 1);
	assert_string_equal(rec.login, "");
	assert_string_equal(rec.tenant, "");
	assert_false(rec.rcpts_complete);
	/* a record of an older version, without the count */
	key = bounce_store_msg_key(PFX, "aa02");
	s = cmd("HSET %s sender alice@a.test queue_id Q rcpts x@b.test time 1", key);
	free(s);
	free(key);
	assert_int_equal(bounce_store_load_message(pool, PFX, "aa02", &rec, &err), 1);
	assert_string_equal(rec.rcpts, "x@b.test");
	assert_false(rec.rcpts_complete);
	key = bounce_store_msg_key(PFX, "aa00");
	s = cmd("PTTL %s", key);
	assert_true(atoll(s) > 3590000 && atoll(s) <= 3600000);
	free(s);
	free(key);
	assert_int_equal(bounce_store_load_message(pool, PFX, "bb11", &rec, &err), 0);
}

/* test_record - stream, counters, suppression in one call */
static void
test_record(void **state)
{
	struct bounce_event e[3] = {
		ev("gone@b.test", "hard", "user_unknown", "5.1.1", true, false, false, 3600000),
		ev("blocked@b.test", "soft", "spam_rejected", "5.7.1", false, false, false, 0),
		ev("ok@b.test", "none", "other", "2.0.0", false, false, true, 0),
	};
	struct bounce_record_result res;
	struct bounce_supp sup;
	const char *err;
	char *k, *stats;

	NEED_REDIS();
	res = record("alice@a.test", "s:alice@a.test", NOW_MS, e, 3);
	stats = bounce_store_stats_key(PFX, "alice@a.test");
	assert_true(res.suppressed[0]);
	assert_false(res.suppressed[1]);
	assert_false(res.suppressed[2]);
	expect("stream length", "3", "XLEN %s", PFX "events", NULL);
	expect("stats total", "3", "HGET %s %s", stats, "total");
	expect("stats hard", "1", "HGET %s %s", stats, "class:hard");
	expect("stats reason", "1", "HGET %s %s", stats, "reason:spam_rejected");
	assert_int_equal(bounce_store_check(pool, PFX, "s:alice@a.test", "gone@b.test",
					    &sup, &err), 1);
	assert_string_equal(sup.reason, "user_unknown");
	assert_string_equal(sup.status, "5.1.1");
	assert_string_equal(sup.diagnostic, "smtp; 550 5.1.1 no such user");
	assert_int_equal(sup.since, NOW_MS / 1000);
	assert_int_equal(sup.expires, NOW_MS / 1000 + 3600);
	k = bounce_store_sup_key(PFX, "s:alice@a.test", "gone@b.test");
	{
		char *t = cmd("PTTL %s", k);

		if (atoll(t) <= 3590000 || atoll(t) > 3600000)
			tcase_bad("suppression TTL", "got %s, want about 3600000", t);
		free(t);
	}
	free(k);
	/* a reputation block never suppresses; another sender's list is its own */
	assert_int_equal(bounce_store_check(pool, PFX, "s:alice@a.test", "blocked@b.test",
					    &sup, &err), 0);
	assert_int_equal(bounce_store_check(pool, PFX, "s:bob@a.test", "gone@b.test",
					    &sup, &err), 0);
	/* the event's fields */
	{
		const char *e2 = NULL;
		redisReply *r = redis_command(pool, &e2, "XRANGE %s - + COUNT 1", PFX "events");
		char all[2048] = "";

		assert_non_null(r);
		assert_int_equal(r->type, REDIS_REPLY_ARRAY);
		for (size_t i = 0; i < r->element[0]->element[1]->elements; i++) {
			strncat(all, r->element[0]->element[1]->element[i]->str,
				sizeof(all) - strlen(all) - 2);
			strcat(all, " ");
		}
		freeReplyObject(r);
		if (strstr(all, "sender alice@a.test recipient gone@b.test class hard "
			   "reason user_unknown status 5.1.1 diagnostic smtp; 550 5.1.1 "
			   "no such user action failed queue_id 4ABCDEF") == NULL)
			tcase_bad("event fields", "got \"%s\"", all);
	}
	free(stats);
	tcase_done();
}

/* test_soft - threshold, reset by delivery, window */
static void
test_soft(void **state)
{
	struct bounce_event full = ev("full@b.test", "soft", "mailbox_full", "4.2.2",
				      false, true, false, 7200000);
	struct bounce_event ok = ev("full@b.test", "none", "other", "2.0.0",
				    false, false, true, 0);
	struct bounce_record_result r;
	struct bounce_supp sup;
	const char *err;
	char *soft = bounce_store_soft_key(PFX, "s:carol@a.test", "full@b.test"), *t;

	NEED_REDIS();
	r = record("carol@a.test", "s:carol@a.test", NOW_MS, &full, 1);
	assert_int_equal(r.soft_count[0], 1);
	t = cmd("PTTL %s", soft);
	assert_true(atoll(t) > 86300000);
	free(t);
	r = record("carol@a.test", "s:carol@a.test", NOW_MS + 1000, &full, 1);
	assert_int_equal(r.soft_count[0], 2);
	/* delivered: the count starts again */
	r = record("carol@a.test", "s:carol@a.test", NOW_MS + 2000, &ok, 1);
	expect("reset", "0", "EXISTS %s", soft, NULL);
	r = record("carol@a.test", "s:carol@a.test", NOW_MS + 3000, &full, 1);
	r = record("carol@a.test", "s:carol@a.test", NOW_MS + 4000, &full, 1);
	assert_false(r.suppressed[0]);
	assert_int_equal(bounce_store_check(pool, PFX, "s:carol@a.test", "full@b.test",
					    &sup, &err), 0);
	r = record("carol@a.test", "s:carol@a.test", NOW_MS + 5000, &full, 1);
	assert_true(r.suppressed[0]);
	assert_int_equal(r.soft_count[0], 3);
	assert_int_equal(bounce_store_check(pool, PFX, "s:carol@a.test", "full@b.test",
					    &sup, &err), 1);
	assert_string_equal(sup.reason, "mailbox_full");
	expect("count dropped at suppression", "0", "EXISTS %s", soft, NULL);
	free(soft);
	tcase_done();
}

/* test_scope_manual - domain scope; add, check, remove; forever */
static void
test_scope_manual(void **state)
{
	struct bounce_event e = ev("x@c.test", "complaint", "complaint", "", true,
				   false, false, 0);
	struct bounce_supp sup;
	const char *err;
	char *k;

	NEED_REDIS();
	(void)record("dave@d.test", "d:d.test", NOW_MS, &e, 1);
	assert_int_equal(bounce_store_check(pool, PFX, "d:d.test", "x@c.test", &sup, &err), 1);
	assert_int_equal(sup.expires, 0);
	k = bounce_store_sup_key(PFX, "d:d.test", "x@c.test");
	expect("forever: no TTL", "-1", "PTTL %s", k, NULL);
	free(k);
	assert_int_equal(bounce_store_add(pool, PFX, "g", "y@c.test", "manual", "by hand",
					  NOW_MS, 60000, &err), 0);
	assert_int_equal(bounce_store_check(pool, PFX, "g", "y@c.test", &sup, &err), 1);
	assert_string_equal(sup.reason, "manual");
	assert_int_equal(sup.expires, NOW_MS / 1000 + 60);
	assert_int_equal(bounce_store_remove(pool, PFX, "g", "y@c.test", &err), 1);
	assert_int_equal(bounce_store_remove(pool, PFX, "g", "y@c.test", &err), 0);
	assert_int_equal(bounce_store_check(pool, PFX, "g", "y@c.test", &sup, &err), 0);
	tcase_done();
}

/* test_trim_noscript_down - MAXLEN ~, NOSCRIPT, a stopped server */
static void
test_trim_noscript_down(void **state)
{
	struct bounce_event e = ev("t@b.test", "soft", "other", "5.0.0", false, false,
				   false, 0);
	struct bounce_record_req req;
	struct bounce_record_result res;
	struct bounce_supp sup;
	const char *err = NULL;
	char *len;

	NEED_REDIS();
	free(cmd("DEL %s", PFX "trim"));
	memset(&req, 0, sizeof(req));
	req.prefix = PFX;
	req.stream = PFX "trim";
	req.maxlen = 100;
	req.sender = "";
	req.now_ms = NOW_MS;
	req.n = 1;
	req.ev = &e;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(bounce_store_record(pool, &req, &res, &err), 0);
	len = cmd("XLEN %s", PFX "trim");
	/* "~" trims whole radix-tree nodes: about maxlen, never all 1000 */
	if (atoll(len) < 100 || atoll(len) > 300)
		tcase_bad("trimmed", "got %s entries, want 100..300", len);
	free(len);
	free(cmd("SCRIPT FLUSH"));
	assert_int_equal(bounce_store_record(pool, &req, &res, &err), 0);
	redis_fixture_halt(&rf);
	assert_int_equal(bounce_store_check(pool, PFX, "g", "t@b.test", &sup, &err), -1);
	assert_non_null(err);
	{
		char e2[256];

		assert_int_equal(redis_fixture_restart(&rf, e2, sizeof(e2)), 0);
	}
	tcase_done();
}

/* group_setup - one server, one pool */
static int
group_setup(void **state)
{
	(void)state;
	log_open("bounce_store_test", false);
	if (!redis_fixture_available()) {
		snprintf(fixture_err, sizeof(fixture_err), "not installed");
		return 0;
	}
	if (redis_fixture_start_pool(&rf, 300, 500, 0, &pool, fixture_err,
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
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_soft),
		cmocka_unit_test(test_scope_manual),
		cmocka_unit_test(test_trim_noscript_down),
	};

	return cmocka_run_group_tests_name("bounce_store", tests, group_setup,
					   group_teardown);
}
